package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/web"
)

type failArgs struct {
	Order string `json:"order"`
}

func (failArgs) Kind() string { return "test.fail" }

type failWorker struct {
	river.WorkerDefaults[failArgs]
}

func (failWorker) Work(context.Context, *river.Job[failArgs]) error {
	return river.JobCancel(errors.New("warehouse refused: unknown SKU X-1"))
}

// TestDeadLetters: a job failing permanently is listed with its error class,
// last error and payload; retry and discard need an actor and a reason and
// are recorded.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			testDeadLetters(t, d)
		})
	}
}

func testDeadLetters(t *testing.T, d store.Dialect) {
	ctx := context.Background()
	st := storetest.Open(t, d)
	workers := river.NewWorkers()
	river.AddWorker(workers, failWorker{})
	jobs, err := queue.NewClient(queue.Config{Store: st, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jobs.Stop(context.Background()) })
	ins, err := jobs.Insert(ctx, failArgs{Order: "#1001"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st, Jobs: jobs})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	list := func() []web.DeadLetter {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/v1/deadletters")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			DeadLetters []web.DeadLetter `json:"dead_letters"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body.DeadLetters
	}
	var dls []web.DeadLetter
	deadline := time.Now().Add(20 * time.Second)
	for len(dls) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the failing job never became a dead letter")
		}
		time.Sleep(50 * time.Millisecond)
		dls = list()
	}
	dl := dls[0]
	if dl.ID != ins.Job.ID || dl.ErrorClass != "permanent" || !strings.Contains(dl.LastError, "unknown SKU X-1") || !strings.Contains(string(dl.Args), "#1001") {
		t.Fatalf("dead letter = %+v", dl)
	}

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	id := "/api/v1/deadletters/" + itoa(dl.ID)
	if code, _ := post(id+"/retry", `{"actor":"ops@brand"}`); code != http.StatusBadRequest {
		t.Fatalf("retry without a reason: %d, want 400", code)
	}
	if code, _ := post(id+"/discard", `{"actor":"ops@brand","reason":"x","args":{"order":"#1"}}`); code != http.StatusBadRequest {
		t.Fatalf("discard with a payload: %d, want 400", code)
	}
	if code, body := post(id+"/retry", `{"actor":"ops@brand","reason":"SKU X-1 added to the WMS","args":{"order":"#1001-fixed"}}`); code != http.StatusOK {
		t.Fatalf("retry: %d %s", code, body)
	}
	// The retried job fails again and comes back, with the retry recorded.
	deadline = time.Now().Add(20 * time.Second)
	for {
		dls = list()
		if len(dls) == 1 && dls[0].Attempts == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retried job not back as a dead letter: %+v", dls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a := dls[0].Actions; len(a) != 1 || a[0].Actor != "ops@brand" || !strings.HasPrefix(a[0].Action, "retry with edited payload") || a[0].Reason != "SKU X-1 added to the WMS" {
		t.Fatalf("actions = %+v", a)
	}
	if !strings.Contains(string(dls[0].Args), "#1001-fixed") {
		t.Fatalf("payload after an edited retry = %s", dls[0].Args)
	}
	if code, body := post(id+"/discard", `{"actor":"ops@brand","reason":"order cancelled by the customer"}`); code != http.StatusOK {
		t.Fatalf("discard: %d %s", code, body)
	}
	if dls = list(); len(dls) != 0 {
		t.Fatalf("discarded job still listed: %+v", dls)
	}
	if code, _ := post(id+"/discard", `{"actor":"ops@brand","reason":"again"}`); code != http.StatusNotFound {
		t.Fatalf("discarding a missing job: %d, want 404", code)
	}
	acts, err := store.Actions(ctx, st.Read, "job:"+itoa(dl.ID), 10)
	if err != nil || len(acts) != 2 || acts[0].Action != "discard" {
		t.Fatalf("recorded actions = %+v, %v", acts, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
