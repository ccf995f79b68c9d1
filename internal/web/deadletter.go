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
	page(w, r, "deadletters", map[string]any{"DeadLetters": dls})
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
	recorded, state, code, err := d.actOnDeadLetter(r.Context(), id, action, body.Actor, body.Reason, body.Args)
	if err != nil {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": id, "action": recorded, "state": state})
}

// actOnDeadLetter retries (args, if given, replacing the payload) or
// discards dead letter id and records the action with actor and reason. It
// returns the action as recorded and the job's new state, or the HTTP
// status that fits the error.
func (d Deps) actOnDeadLetter(ctx context.Context, id int64, action, actor, reason string, args json.RawMessage) (recorded, state string, code int, err error) {
	if action != "retry" && action != "discard" {
		return "", "", http.StatusNotFound, errors.New("action is retry or discard")
	}
	if strings.TrimSpace(actor) == "" || strings.TrimSpace(reason) == "" {
		return "", "", http.StatusBadRequest, errors.New("actor and reason are required")
	}
	res, err := d.Jobs.JobList(ctx, river.NewJobListParams().IDs(id).First(1))
	if err != nil {
		return "", "", http.StatusInternalServerError, err
	}
	if len(res.Jobs) == 0 || (res.Jobs[0].State != rivertype.JobStateDiscarded && res.Jobs[0].State != rivertype.JobStateCancelled) {
		return "", "", http.StatusNotFound, fmt.Errorf("job %d is not a dead letter", id)
	}
	edited := len(args) > 0 && string(args) != "null"
	if edited {
		if action != "retry" {
			return "", "", http.StatusBadRequest, errors.New("args can only be given with retry")
		}
		var obj map[string]any
		if err := json.Unmarshal(args, &obj); err != nil {
			return "", "", http.StatusBadRequest, fmt.Errorf("args must be a JSON object: %w", err)
		}
		if err := store.EditDeadJobArgs(ctx, d.Store.Write, id, args); err != nil {
			return "", "", http.StatusConflict, err
		}
	}
	var row *rivertype.JobRow
	if action == "retry" {
		row, err = d.Jobs.JobRetry(ctx, id)
	} else {
		row, err = d.Jobs.JobDelete(ctx, id)
	}
	if errors.Is(err, river.ErrNotFound) {
		return "", "", http.StatusNotFound, err
	}
	if err != nil {
		return "", "", http.StatusInternalServerError, err
	}
	if edited {
		action = "retry with edited payload " + string(args)
	}
	if err := store.RecordAction(ctx, d.Store.Write, store.Action{Actor: actor, Action: action, Target: jobTarget(id), Reason: reason}); err != nil {
		return "", "", http.StatusInternalServerError, err
	}
	return action, string(row.State), http.StatusOK, nil
}

// deadLetterForm is the dead-letters page's action form (htmx or plain
// HTML): action is retry, retry-edited (with the payload in args) or
// discard; actor and reason are required. It answers with the page (or
// its list, for htmx) and a line saying what was done or why not.
func (d Deps) deadLetterForm(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "job id is not a number", http.StatusBadRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	action, args := r.PostForm.Get("action"), json.RawMessage(nil)
	if action == "retry-edited" {
		action, args = "retry", json.RawMessage(strings.TrimSpace(r.PostForm.Get("args")))
		if len(args) == 0 {
			args = json.RawMessage("null")
		}
		if !json.Valid(args) {
			d.renderDeadLetters(w, r, http.StatusBadRequest, fmt.Sprintf("job %d: the edited payload is not valid JSON", id), true)
			return
		}
	}
	recorded, state, code, err := d.actOnDeadLetter(r.Context(), id, action, r.PostForm.Get("actor"), r.PostForm.Get("reason"), args)
	if err != nil {
		d.renderDeadLetters(w, r, code, fmt.Sprintf("job %d: %v", id, err), true)
		return
	}
	d.renderDeadLetters(w, r, http.StatusOK, fmt.Sprintf("job %d: %s recorded (now %s)", id, recorded, state), false)
}

// renderDeadLetters renders the dead-letters page or, for htmx, its list,
// with a message. htmx swaps only successful answers, so a refused action
// is answered 200 to htmx, with the error shown.
func (d Deps) renderDeadLetters(w http.ResponseWriter, r *http.Request, code int, msg string, isErr bool) {
	dls, err := d.deadLetters(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	data := map[string]any{"DeadLetters": dls, "Message": msg, "Error": isErr}
	if isHTMX(r) {
		render(w, "deadletters-body", data)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = pages.ExecuteTemplate(w, "deadletters.html", data)
}
