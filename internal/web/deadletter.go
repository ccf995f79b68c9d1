package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/store"
)

// Jobs is what the dead-letter endpoints need from the job queue
// (river.Client implements it).
type Jobs interface {
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// DeadLetter is a job that will not run again by itself: it exhausted its
// retries (discarded) or failed with an error retrying cannot fix
// (cancelled).
type DeadLetter struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	ErrorClass  string          `json:"error_class"`
	LastError   string          `json:"last_error"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	Args        json.RawMessage `json:"args"`
	CreatedAt   time.Time       `json:"created_at"`
	FinalizedAt *time.Time      `json:"finalized_at,omitempty"`
	Actions     []store.Action  `json:"actions,omitempty"`
}

func deadLetter(j *rivertype.JobRow) DeadLetter {
	d := DeadLetter{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempts: j.Attempt, MaxAttempts: j.MaxAttempts,
		Args: json.RawMessage(j.EncodedArgs), CreatedAt: j.CreatedAt, FinalizedAt: j.FinalizedAt}
	if n := len(j.Errors); n > 0 {
		d.LastError = j.Errors[n-1].Error
	}
	switch {
	case j.State == rivertype.JobStateCancelled:
		d.ErrorClass = "permanent"
	default:
		d.ErrorClass = "retries exhausted"
	}
	return d
}

func jobTarget(id int64) string { return fmt.Sprintf("job:%d", id) }

func (d Deps) deadLetters(ctx context.Context) ([]DeadLetter, error) {
	res, err := d.Jobs.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled).First(200))
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		dl := deadLetter(j)
		if dl.Actions, err = store.Actions(ctx, d.Store.Read, jobTarget(j.ID), 10); err != nil {
			return nil, err
		}
		out = append(out, dl)
	}
	return out, nil
}

func (d Deps) deadLettersJSON(w http.ResponseWriter, r *http.Request) {
	dls, err := d.deadLetters(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": dls})
}

func (d Deps) deadLettersPage(w http.ResponseWriter, r *http.Request) {
	dls, err := d.deadLetters(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, "deadletters.html", map[string]any{"DeadLetters": dls})
}

// deadLetterAction retries or discards a dead letter. The body names the
// operator and the reason, both required; the action is recorded.
func (d Deps) deadLetterAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "job id is not a number"})
		return
	}
	action := r.PathValue("action")
	if action != "retry" && action != "discard" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "action is retry or discard"})
		return
	}
	var body struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
		// Args, with retry, replaces the job's payload before it runs again.
		Args json.RawMessage `json:"args"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"actor\", \"reason\"}: " + err.Error()})
		return
	}
	if strings.TrimSpace(body.Actor) == "" || strings.TrimSpace(body.Reason) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "actor and reason are required"})
		return
	}
	res, err := d.Jobs.JobList(r.Context(), river.NewJobListParams().IDs(id).First(1))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if len(res.Jobs) == 0 || (res.Jobs[0].State != rivertype.JobStateDiscarded && res.Jobs[0].State != rivertype.JobStateCancelled) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("job %d is not a dead letter", id)})
		return
	}
	edited := len(body.Args) > 0 && string(body.Args) != "null"
	if edited {
		if action != "retry" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "args can only be given with retry"})
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(body.Args, &obj); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "args must be a JSON object: " + err.Error()})
			return
		}
		if err := store.EditDeadJobArgs(r.Context(), d.Store.Write, id, body.Args); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
	}
	var row *rivertype.JobRow
	if action == "retry" {
		row, err = d.Jobs.JobRetry(r.Context(), id)
	} else {
		row, err = d.Jobs.JobDelete(r.Context(), id)
	}
	if errors.Is(err, river.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if edited {
		action = "retry with edited payload " + string(body.Args)
	}
	if err := store.RecordAction(r.Context(), d.Store.Write, store.Action{Actor: body.Actor, Action: action, Target: jobTarget(id), Reason: body.Reason}); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": id, "action": action, "state": string(row.State)})
}
