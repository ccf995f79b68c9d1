package ingest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/store"
)

func TestExploreCtxDeadline(t *testing.T) {
	e := setup(t, store.SQLite, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
			defer cancel()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
	blocker, _ := e.st.Write.BeginTx(context.Background(), nil)
	r := e.post(t, newDelivery(orderFixture(t), "1"))
	t.Logf("answer while commit blocked: %d %q", r.status, r.body)
	e.stopRun() // commit fails
	blocker.Rollback()
	t.Logf("rows after: %d", countWebhooks(t, e.st))
}

func TestExploreRunStopped(t *testing.T) {
	e := setup(t, store.SQLite)
	e.stopRun()
	dl := newDelivery(orderFixture(t), "1")
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(dl.body))
	req.Header = dl.header()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Logf("err: %v", err)
		return
	}
	t.Logf("status %d", resp.StatusCode)
}

func TestExplorePoison(t *testing.T) {
	e := setup(t, store.Postgres)
	blocker, _ := e.st.Write.BeginTx(context.Background(), nil)
	_ = blocker
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			dl := newDelivery(orderFixture(t), string(rune('a'+i)))
			if i == 5 {
				dl.webhookID = "wh-\xff\xfe"
			}
			req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(dl.body))
			req.Header = dl.header()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Log(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			t.Logf("%d: %d %s", i, resp.StatusCode, b)
		})
	}
	wg.Wait()
	t.Logf("rows %d", countWebhooks(t, e.st))
}
