package ingest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/ingest"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/riverqueue/river"
)

const (
	testShop       = "a.myshopify.com"
	secretCurrent  = "shpss_current_secret"
	secretPrevious = "shpss_previous_secret"
	testMaxBody    = 32 << 10 // the orders/create fixture is ~15 KiB
)

// orderFixture is Shopify's documented orders/create example payload.
func orderFixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../connector/shopify/testdata/webhooks/orders/create.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func testShops(domain string) (ingest.Shop, bool) {
	if strings.ToLower(domain) != testShop {
		return ingest.Shop{}, false
	}
	return ingest.Shop{Domain: testShop, Secrets: []string{secretCurrent, secretPrevious}}, true
}

// env is one webhook endpoint on its own freshly migrated database.
type env struct {
	h       *ingest.Handler
	url     string
	st      *store.Store
	dialect store.Dialect
	dsn     string
	// stopRun cancels Run's context and waits for Run to return.
	stopRun func()
}

// openStore opens and migrates a store on dsn, closed at cleanup.
func openStore(tb testing.TB, d store.Dialect, dsn string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), d, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st
}

func newHandler(tb testing.TB, st *store.Store, maxBody int64) *ingest.Handler {
	tb.Helper()
	jobs, err := queue.NewClient(queue.Config{Store: st}) // insert-only: no workers
	if err != nil {
		tb.Fatal(err)
	}
	return ingest.New(ingest.Config{
		Store:    st,
		Inserter: jobs,
		Shops:    testShops,
		MaxBody:  maxBody,
		Logger:   slog.New(slog.DiscardHandler),
	})
}

// startRun starts h.Run and returns a func that stops it and waits.
func startRun(tb testing.TB, h *ingest.Handler) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(stop)
	return stop
}

// setup returns the endpoint served by httptest on a fresh store of
// dialect d. wrap, when not nil, wraps the handler (middleware).
func setup(t *testing.T, d store.Dialect, wrap ...func(http.Handler) http.Handler) *env {
	t.Helper()
	dsn := storetest.DSN(t, d)
	st := openStore(t, d, dsn) // cleanups run LIFO: server, then Run, then store
	h := newHandler(t, st, testMaxBody)
	stop := startRun(t, h)
	var hh http.Handler = h
	for _, w := range wrap {
		hh = w(hh)
	}
	srv := httptest.NewServer(hh)
	t.Cleanup(srv.Close)
	return &env{h: h, url: srv.URL, st: st, dialect: d, dsn: dsn, stopRun: stop}
}

// forDialects runs fn as a parallel subtest per configured dialect.
func forDialects(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// delivery is one webhook request as Shopify sends it.
type delivery struct {
	topic, shop, webhookID, eventID string
	body                            []byte
	// sig is the X-Shopify-Hmac-Sha256 value; "" means sign with the
	// current secret, "-" means omit the header.
	sig string
}

func newDelivery(body []byte, id string) delivery {
	return delivery{topic: "orders/create", shop: testShop, webhookID: "wh-" + id, eventID: "ev-" + id, body: body}
}

func (dl delivery) header() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", dl.topic)
	h.Set("X-Shopify-Shop-Domain", dl.shop)
	h.Set("X-Shopify-Api-Version", "2026-07")
	h.Set("X-Shopify-Webhook-Id", dl.webhookID)
	h.Set("X-Shopify-Event-Id", dl.eventID)
	h.Set("X-Shopify-Triggered-At", "2026-11-20T10:00:00.000Z")
	switch dl.sig {
	case "":
		h.Set("X-Shopify-Hmac-Sha256", ingest.Sign(dl.body, secretCurrent))
	case "-":
	default:
		h.Set("X-Shopify-Hmac-Sha256", dl.sig)
	}
	return h
}

type response struct {
	status int
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	r, err := tryDo(c, req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	return r
}

// tryDo is do for goroutines other than the test's.
func tryDo(c *http.Client, req *http.Request) (response, error) {
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}, err
}

func (e *env) request(dl delivery) *http.Request {
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(dl.body))
	if err != nil {
		panic(err)
	}
	req.Header = dl.header()
	return req
}

func (e *env) post(t *testing.T, dl delivery) response {
	t.Helper()
	return do(t, nil, e.request(dl))
}

// postAsync posts from another goroutine; a transport error is reported
// with t.Error and as status 0.
func (e *env) postAsync(t *testing.T, dl delivery) response {
	r, err := tryDo(nil, e.request(dl))
	if err != nil {
		t.Error(err)
	}
	return r
}

// storedID returns the id from a {"stored":id,...} answer.
func storedID(t *testing.T, r response) int64 {
	t.Helper()
	var v struct {
		Stored int64  `json:"stored"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.Stored == 0 {
		t.Fatalf("answer %d %q: not a stored delivery (%v)", r.status, r.body, err)
	}
	return v.Stored
}

func count(t *testing.T, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Read.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func countWebhooks(t *testing.T, st *store.Store) int {
	return count(t, st, `SELECT count(*) FROM webhook_event`)
}

// drain processes the shop's pending deliveries as the inbox.drain job does.
func (e *env) drain(t *testing.T) {
	t.Helper()
	jobs, err := queue.NewClient(queue.Config{Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	w := &ingest.DrainWorker{Store: e.st, Jobs: jobs}
	if err := w.Work(context.Background(), &river.Job[ingest.DrainArgs]{Args: ingest.DrainArgs{Shop: testShop}}); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

func countDrainJobs(t *testing.T, st *store.Store) int {
	return count(t, st, `SELECT count(*) FROM river_job WHERE kind = 'inbox.drain'`)
}

func countTimeline(t *testing.T, st *store.Store) int {
	return count(t, st, `SELECT count(*) FROM timeline`)
}

// assertNothingStored checks that no delivery, job or timeline entry exists.
func assertNothingStored(t *testing.T, st *store.Store) {
	t.Helper()
	if n := countWebhooks(t, st); n != 0 {
		t.Errorf("webhook_event rows = %d, want 0", n)
	}
	if n := countDrainJobs(t, st); n != 0 {
		t.Errorf("inbox.drain jobs = %d, want 0", n)
	}
	if n := countTimeline(t, st); n != 0 {
		t.Errorf("timeline entries = %d, want 0", n)
	}
}

func getWebhook(t *testing.T, st *store.Store, id int64) *store.WebhookEvent {
	t.Helper()
	ev, err := store.GetWebhook(context.Background(), st.Read, id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// padTo returns body followed by JSON whitespace up to n bytes.
func padTo(t testing.TB, body []byte, n int) []byte {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body is %d bytes, over %d", len(body), n)
	}
	return append(bytes.Clone(body), bytes.Repeat([]byte(" "), n-len(body))...)
}

// TestRejected covers the deliveries answered 4xx: nothing may be stored.
func TestRejected(t *testing.T) {
	t.Parallel()
	fixture := orderFixture(t)
	otherKey := hmac.New(sha256.New, []byte("someone-elses-secret"))
	otherKey.Write(fixture)
	tooBig := padTo(t, fixture, testMaxBody+1)

	cases := []struct {
		name      string
		dl        func(dl delivery) delivery
		chunked   bool
		method    string
		want      int
		wantStats func(s ingest.Stats) int64
	}{
		{name: "missing hmac header", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery { dl.sig = "-"; return dl }},
		{name: "blank hmac header", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery { dl.sig = "   "; return dl }},
		{name: "hmac with another secret", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery {
				dl.sig = base64.StdEncoding.EncodeToString(otherKey.Sum(nil))
				return dl
			}},
		{name: "hmac not base64", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery { dl.sig = "not*base64!"; return dl }},
		{name: "hmac as hex", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery {
				raw, _ := base64.StdEncoding.DecodeString(ingest.Sign(dl.body, secretCurrent))
				dl.sig = hex.EncodeToString(raw)
				return dl
			}},
		{name: "hmac truncated", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery {
				raw, _ := base64.StdEncoding.DecodeString(ingest.Sign(dl.body, secretCurrent))
				dl.sig = base64.StdEncoding.EncodeToString(raw[:16])
				return dl
			}},
		{name: "body tampered after signing", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery {
				dl.sig = ingest.Sign(dl.body, secretCurrent)
				dl.body = bytes.Replace(dl.body, []byte(`"#9999"`), []byte(`"#9998"`), 1)
				return dl
			}},
		{name: "unknown shop domain", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery { dl.shop = "b.myshopify.com"; return dl }},
		{name: "missing shop domain", want: http.StatusUnauthorized,
			dl: func(dl delivery) delivery { dl.shop = ""; return dl }},
		{name: "body over MaxBody with Content-Length", want: http.StatusRequestEntityTooLarge,
			dl: func(dl delivery) delivery { dl.body = tooBig; return dl }},
		{name: "body over MaxBody chunked", want: http.StatusRequestEntityTooLarge, chunked: true,
			dl: func(dl delivery) delivery { dl.body = tooBig; return dl }},
		{name: "body far over MaxBody chunked", want: http.StatusRequestEntityTooLarge, chunked: true,
			dl: func(dl delivery) delivery { dl.body = padTo(t, fixture, 4*testMaxBody); return dl }},
		{name: "GET", want: http.StatusMethodNotAllowed, method: http.MethodGet,
			dl: func(dl delivery) delivery { return dl }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forDialects(t, func(t *testing.T, d store.Dialect) {
				e := setup(t, d)
				dl := tc.dl(newDelivery(fixture, "1"))
				method := tc.method
				if method == "" {
					method = http.MethodPost
				}
				var body io.Reader = bytes.NewReader(dl.body)
				if tc.chunked {
					body = io.MultiReader(body) // hides the length
				}
				req, err := http.NewRequest(method, e.url, body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header = dl.header()
				if tc.chunked {
					req.ContentLength = -1
					req.TransferEncoding = []string{"chunked"}
				}
				r := do(t, nil, req)
				if r.status != tc.want {
					t.Errorf("status = %d %q, want %d", r.status, r.body, tc.want)
				}
				assertNothingStored(t, e.st)
				s := e.h.Stats()
				if s.Accepted+s.Duplicates+s.Quarantined+s.Ignored+s.Failed != 0 {
					t.Errorf("stats = %+v: a rejected delivery was counted as handled", s)
				}
			})
		})
	}
}

// TestPreviousSecretAccepted: during a secret rotation Shopify may still
// sign with the previous secret.
func TestPreviousSecretAccepted(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		e := setup(t, d)
		dl := newDelivery(orderFixture(t), "1")
		dl.sig = ingest.Sign(dl.body, secretPrevious)
		r := e.post(t, dl)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d %q, want 200", r.status, r.body)
		}
		ev := getWebhook(t, e.st, storedID(t, r))
		if ev.Status != store.WebhookPending || !bytes.Equal(ev.Body, dl.body) {
			t.Errorf("stored status=%q body equal=%v, want pending and the raw body", ev.Status, bytes.Equal(ev.Body, dl.body))
		}
		if n := countDrainJobs(t, e.st); n != 1 {
			t.Errorf("inbox.drain jobs = %d, want 1", n)
		}
	})
}

// TestBodyAtLimitAccepted: MaxBody is inclusive.
func TestBodyAtLimitAccepted(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			forDialects(t, func(t *testing.T, d store.Dialect) {
				e := setup(t, d)
				dl := newDelivery(padTo(t, orderFixture(t), testMaxBody), "1")
				var body io.Reader = bytes.NewReader(dl.body)
				if chunked {
					body = io.MultiReader(body)
				}
				req, _ := http.NewRequest(http.MethodPost, e.url, body)
				req.Header = dl.header()
				if chunked {
					req.ContentLength = -1
				}
				r := do(t, nil, req)
				if r.status != http.StatusOK {
					t.Fatalf("status = %d %q, want 200", r.status, r.body)
				}
				if ev := getWebhook(t, e.st, storedID(t, r)); len(ev.Body) != testMaxBody || ev.Status != store.WebhookPending {
					t.Errorf("stored %d bytes, status %q; want %d, pending", len(ev.Body), ev.Status, testMaxBody)
				}
			})
		})
	}
}

// TestValidDelivery: stored pending, one drain job, committed before 200.
func TestValidDelivery(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		e := setup(t, d)
		dl := newDelivery(orderFixture(t), "1")
		r := e.post(t, dl)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d %q, want 200", r.status, r.body)
		}
		id := storedID(t, r)

		// A fresh store on the same database: the row and the job were
		// committed before the answer.
		fresh := openStore(t, d, e.dsn)
		ev := getWebhook(t, fresh, id)
		want := store.WebhookEvent{ID: id, Shop: testShop, Topic: "orders/create", WebhookID: "wh-1", EventID: "ev-1",
			APIVersion: "2026-07", TriggeredAt: "2026-11-20T10:00:00.000Z", Status: store.WebhookPending}
		got := *ev
		got.Body, got.ReceivedAt = nil, time.Time{}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("stored\n got %+v\nwant %+v", got, want)
		}
		if !bytes.Equal(ev.Body, dl.body) {
			t.Errorf("stored body differs from the raw body (%d vs %d bytes)", len(ev.Body), len(dl.body))
		}
		if time.Since(ev.ReceivedAt) > time.Minute || time.Until(ev.ReceivedAt) > time.Minute {
			t.Errorf("received_at = %v, want about now", ev.ReceivedAt)
		}
		if n := countWebhooks(t, fresh); n != 1 {
			t.Errorf("webhook_event rows = %d, want 1", n)
		}
		if n := count(t, fresh, `SELECT count(*) FROM river_job WHERE kind = 'inbox.drain' AND state = 'available'`); n != 1 {
			t.Errorf("available inbox.drain jobs = %d, want 1", n)
		}
		argsExpr := "CAST(args AS TEXT)"
		if d == store.SQLite {
			argsExpr = "json(args)" // River's SQLite driver stores JSONB
		}
		var args string
		if err := fresh.Read.QueryRow(`SELECT ` + argsExpr + ` FROM river_job WHERE kind = 'inbox.drain'`).Scan(&args); err != nil {
			t.Fatal(err)
		}
		var a ingest.DrainArgs
		if err := json.Unmarshal([]byte(args), &a); err != nil || a.Shop != testShop {
			t.Errorf("drain job args = %s (%v), want shop %s", args, err, testShop)
		}
		if n := countTimeline(t, fresh); n != 0 {
			t.Errorf("timeline entries = %d, want 0 for a pending delivery", n)
		}

		// A second delivery is another row (whether it enqueues another
		// drain depends on the drain's uniqueness, not tested here).
		if r := e.post(t, newDelivery(orderFixture(t), "2")); r.status != http.StatusOK {
			t.Fatalf("second delivery: %d %q", r.status, r.body)
		}
		if n := countWebhooks(t, fresh); n != 2 {
			t.Errorf("webhook_event rows = %d, want 2", n)
		}
		if n := count(t, fresh, `SELECT count(*) FROM webhook_event WHERE status = 'pending'`); n != 2 {
			t.Errorf("pending rows = %d, want 2", n)
		}
		if n := countDrainJobs(t, fresh); n < 1 || n > 2 {
			t.Errorf("inbox.drain jobs = %d, want 1 or 2", n)
		}
		if s := e.h.Stats(); s.Accepted != 2 {
			t.Errorf("stats = %+v, want Accepted 2", s)
		}
	})
}

// TestDuplicates: a redelivery or a second delivery of the same event is
// answered 200 and not stored again.
func TestDuplicates(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		e := setup(t, d)
		first := newDelivery(orderFixture(t), "1")
		if r := e.post(t, first); r.status != http.StatusOK {
			t.Fatalf("first: %d %q", r.status, r.body)
		}
		id := int64(0)
		if err := e.st.Read.QueryRow(`SELECT id FROM webhook_event`).Scan(&id); err != nil {
			t.Fatal(err)
		}

		steps := []struct {
			name string
			dl   delivery
		}{
			{"same webhook id", first},
			{"same webhook id, other event id", func() delivery { dl := first; dl.eventID = "ev-other"; return dl }()},
			{"new webhook id, same event id and topic", func() delivery { dl := first; dl.webhookID = "wh-retry"; return dl }()},
		}
		for _, s := range steps {
			r := e.post(t, s.dl)
			if r.status != http.StatusOK || !strings.Contains(r.body, `"duplicate":true`) {
				t.Errorf("%s: answer %d %q, want 200 duplicate", s.name, r.status, r.body)
			}
			if n := countWebhooks(t, e.st); n != 1 {
				t.Errorf("%s: webhook_event rows = %d, want 1", s.name, n)
			}
		}
		if ev := getWebhook(t, e.st, id); ev.WebhookID != first.webhookID || ev.Status != store.WebhookPending {
			t.Errorf("original row changed: %+v", ev)
		}
		if n := countDrainJobs(t, e.st); n != 1 {
			t.Errorf("inbox.drain jobs = %d, want 1", n)
		}
		if s := e.h.Stats(); s.Accepted != 1 || s.Duplicates != 3 {
			t.Errorf("stats = %+v, want Accepted 1, Duplicates 3", s)
		}

		// The event id deduplicates per topic: the same event id on another
		// topic is another delivery.
		other := first
		other.webhookID, other.topic = "wh-updated", "orders/updated"
		if r := e.post(t, other); r.status != http.StatusOK || strings.Contains(r.body, "duplicate") {
			t.Errorf("same event id, other topic: %d %q, want stored", r.status, r.body)
		}
		if n := countWebhooks(t, e.st); n != 2 {
			t.Errorf("webhook_event rows = %d, want 2", n)
		}
	})
}

// TestConcurrentDuplicates: copies of one delivery committed in the same
// group-commit batch are stored once.
func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		e := setup(t, d)
		dl := newDelivery(orderFixture(t), "1")
		const n = 20
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() { statuses[i] = e.postAsync(t, dl).status })
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("request %d: status %d, want 200", i, s)
			}
		}
		if got := countWebhooks(t, e.st); got != 1 {
			t.Errorf("webhook_event rows = %d, want 1", got)
		}
		if got := countDrainJobs(t, e.st); got != 1 {
			t.Errorf("inbox.drain jobs = %d, want 1", got)
		}
		if s := e.h.Stats(); s.Accepted != 1 || s.Duplicates != n-1 {
			t.Errorf("stats = %+v, want Accepted 1, Duplicates %d", s, n-1)
		}
	})
}

// TestUndecodableQuarantined: a signed body that does not decode is stored
// and answered 200; processing it quarantines it with the decode error on
// its timeline (nothing is dropped, nothing else is done with it).
func TestUndecodableQuarantined(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, topic, body string
		wantErr           string // substring of the stored error
	}{
		{name: "not JSON", topic: "orders/create", body: `this is not json`},
		{name: "truncated JSON", topic: "orders/create", body: `{"id": 820982911946154500, "name": "#9999"`},
		{name: "id is a string", topic: "orders/create", body: `{"id":"abc","name":"#1001"}`},
		{name: "missing id", topic: "orders/create", body: `{"name":"#1001","line_items":[]}`},
		{name: "line item without id", topic: "orders/create", body: `{"id":1,"line_items":[{"sku":"X"}]}`},
		{name: "empty body", topic: "orders/create", body: ``},
		{name: "fulfillment order without id", topic: shopify.TopicFulfillmentRequestSubmitted, body: `{"fulfillment_order":{}}`},
		{name: "missing topic header", topic: "", body: `{"id":1}`, wantErr: "missing X-Shopify-Topic header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantErr := tc.wantErr
			if wantErr == "" {
				_, derr := shopify.DecodeWebhook(tc.topic, []byte(tc.body))
				if derr == nil {
					t.Fatalf("fixture decodes; the case is wrong")
				}
				wantErr = derr.Error()
			}
			forDialects(t, func(t *testing.T, d store.Dialect) {
				e := setup(t, d)
				dl := newDelivery([]byte(tc.body), "1")
				dl.topic = tc.topic
				r := e.post(t, dl)
				if r.status != http.StatusOK {
					t.Fatalf("status = %d %q, want 200", r.status, r.body)
				}
				id := storedID(t, r)
				e.drain(t)
				ev := getWebhook(t, e.st, id)
				if ev.Status != store.WebhookQuarantined {
					t.Errorf("status = %q, want quarantined", ev.Status)
				}
				if !strings.Contains(ev.Error, wantErr) {
					t.Errorf("error = %q, want it to contain %q", ev.Error, wantErr)
				}
				if !bytes.Equal(ev.Body, dl.body) {
					t.Errorf("stored body = %q, want the raw body %q", ev.Body, dl.body)
				}
				tl, err := store.Timeline(context.Background(), e.st.Read, testShop, store.WebhookSubject(id))
				if err != nil {
					t.Fatal(err)
				}
				if len(tl) != 1 || !strings.Contains(tl[0].Message, wantErr) || tl[0].Kind != "quarantined" || tl[0].Source != store.SourceShopify {
					t.Errorf("timeline of %s = %+v, want one shopify/quarantined entry containing %q", store.WebhookSubject(id), tl, wantErr)
				}
				if n := count(t, e.st, `SELECT count(*) FROM shop_order`); n != 0 {
					t.Errorf("orders = %d, want none from a quarantined delivery", n)
				}
			})
		})
	}
}

// TestUnhandledTopicIgnored: a topic the hub does not process is stored,
// answered 200, and marked ignored when processed.
func TestUnhandledTopicIgnored(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		e := setup(t, d)
		dl := newDelivery([]byte(`{"id":788032119674292922,"title":"Example T-Shirt"}`), "1")
		dl.topic = "products/update"
		r := e.post(t, dl)
		if r.status != http.StatusOK {
			t.Fatalf("status = %d %q, want 200", r.status, r.body)
		}
		id := storedID(t, r)
		e.drain(t)
		ev := getWebhook(t, e.st, id)
		if ev.Status != store.WebhookIgnored || ev.Topic != "products/update" {
			t.Errorf("stored status %q topic %q, want ignored products/update", ev.Status, ev.Topic)
		}
		if !strings.Contains(ev.Error, shopify.ErrUnknownTopic.Error()) {
			t.Errorf("error = %q, want it to say %q", ev.Error, shopify.ErrUnknownTopic)
		}
		if n := countTimeline(t, e.st); n != 0 {
			t.Errorf("timeline entries = %d, want 0", n)
		}
	})
}

// TestLowerCaseHeaders: HTTP/2 sends header names in lower case.
func TestLowerCaseHeaders(t *testing.T) {
	t.Parallel()
	lower := func(dl delivery) http.Header {
		h := http.Header{}
		for k, v := range dl.header() {
			h[strings.ToLower(k)] = v // bypasses canonicalisation on the wire
		}
		return h
	}
	check := func(t *testing.T, st *store.Store, r response) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("status = %d %q, want 200", r.status, r.body)
		}
		ev := getWebhook(t, st, storedID(t, r))
		if ev.Topic != "orders/create" || ev.WebhookID != "wh-1" || ev.EventID != "ev-1" || ev.APIVersion != "2026-07" ||
			ev.Status != store.WebhookPending {
			t.Errorf("stored %+v: headers not read", ev)
		}
	}
	forDialects(t, func(t *testing.T, d store.Dialect) {
		t.Run("http1", func(t *testing.T) {
			e := setup(t, d)
			dl := newDelivery(orderFixture(t), "1")
			req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(dl.body))
			req.Header = lower(dl)
			check(t, e.st, do(t, nil, req))
		})
		t.Run("http2", func(t *testing.T) {
			st := openStore(t, d, storetest.DSN(t, d))
			h := newHandler(t, st, testMaxBody)
			startRun(t, h)
			proto := make(chan string, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto <- r.Proto
				h.ServeHTTP(w, r)
			}))
			srv.EnableHTTP2 = true
			srv.StartTLS()
			t.Cleanup(srv.Close)
			dl := newDelivery(orderFixture(t), "1")
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(dl.body))
			req.Header = lower(dl)
			check(t, st, do(t, srv.Client(), req))
			if p := <-proto; p != "HTTP/2.0" {
				t.Errorf("request went over %s, want HTTP/2.0", p)
			}
		})
	})
}

// TestStoreFailing: when the delivery cannot be committed the answer is 503
// (Shopify retries) and nothing is stored.
func TestStoreFailing(t *testing.T) {
	t.Parallel()
	forDialects(t, func(t *testing.T, d store.Dialect) {
		t.Run("store closed", func(t *testing.T) {
			t.Parallel()
			e := setup(t, d)
			observer := openStore(t, d, e.dsn)
			if err := e.st.Close(); err != nil {
				t.Fatal(err)
			}
			r := e.post(t, newDelivery(orderFixture(t), "1"))
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("status = %d %q, want 503", r.status, r.body)
			}
			assertNothingStored(t, observer)
			if s := e.h.Stats(); s.Failed != 1 || s.Accepted != 0 {
				t.Errorf("stats = %+v, want Failed 1", s)
			}
		})
		t.Run("commit cancelled", func(t *testing.T) {
			t.Parallel()
			e := setup(t, d)
			ctx := context.Background()
			// Hold the writer so the committer blocks inside its transaction,
			// then stop the committer.
			blocker, err := e.st.Write.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Rollback()
			dl := newDelivery(orderFixture(t), "1")
			if d == store.Postgres {
				// A conflicting uncommitted insert makes the committer's
				// INSERT wait for this transaction.
				if _, _, err := store.InsertWebhook(ctx, blocker, &store.WebhookEvent{Shop: testShop, Topic: dl.topic,
					WebhookID: dl.webhookID, EventID: dl.eventID, ReceivedAt: time.Now(), Body: []byte("{}"), Status: store.WebhookPending}); err != nil {
					t.Fatal(err)
				}
			}
			res := make(chan response, 1)
			go func() { res <- e.postAsync(t, dl) }()
			waitCommitBlocked(t, e)
			e.stopRun()
			r := <-res
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("status = %d %q, want 503", r.status, r.body)
			}
			if err := blocker.Rollback(); err != nil {
				t.Fatal(err)
			}
			assertNothingStored(t, e.st)
		})
	})
}

// waitCommitBlocked waits until the committer is blocked behind the test's
// open write transaction.
func waitCommitBlocked(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e.dialect == store.SQLite {
			// One write connection: the committer waits for it in BeginTx.
			if e.st.Write.Stats().WaitCount > 0 {
				return
			}
		} else {
			n := count(t, e.st, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO webhook_event%'`)
			if n > 0 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the committer never blocked")
}

// TestLargeIDRoundTrip: ids above 2^53 survive storage and decoding exactly.
func TestLargeIDRoundTrip(t *testing.T) {
	t.Parallel()
	fixture := orderFixture(t)
	for _, id := range []int64{9007199254740993, 1<<63 - 1} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			t.Parallel()
			body := bytes.Replace(fixture, []byte(`"id": 820982911946154500,`), fmt.Appendf(nil, `"id": %d,`, id), 1)
			if bytes.Equal(body, fixture) {
				t.Fatal("fixture id not found")
			}
			forDialects(t, func(t *testing.T, d store.Dialect) {
				e := setup(t, d)
				r := e.post(t, newDelivery(body, "1"))
				if r.status != http.StatusOK {
					t.Fatalf("status = %d %q, want 200", r.status, r.body)
				}
				ev := getWebhook(t, e.st, storedID(t, r))
				if ev.Status != store.WebhookPending {
					t.Fatalf("status = %q (%s), want pending", ev.Status, ev.Error)
				}
				if !bytes.Equal(ev.Body, body) {
					t.Fatal("stored body differs from the raw body")
				}
				v, err := shopify.DecodeWebhook(ev.Topic, ev.Body)
				if err != nil {
					t.Fatal(err)
				}
				o, ok := v.(*shopify.OrderWebhook)
				if !ok || o.ID != id {
					t.Errorf("decoded %T id %v, want *OrderWebhook id %d", v, o, id)
				}
				if !bytes.Contains(ev.Body, fmt.Appendf(nil, `"id": %d,`, id)) {
					t.Errorf("stored body lost the id digits %d", id)
				}
			})
		})
	}
}

func TestVerifyHMAC(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2 (HMAC-SHA256, key "Jefe").
	rfcBody := []byte("what do ya want for nothing?")
	rfcMAC, _ := hex.DecodeString("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
	rfcSig := base64.StdEncoding.EncodeToString(rfcMAC)
	if got := ingest.Sign(rfcBody, "Jefe"); got != rfcSig {
		t.Fatalf("Sign = %q, want %q", got, rfcSig)
	}

	body := []byte(`{"id":1}`)
	m := hmac.New(sha256.New, []byte("current"))
	m.Write(body)
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if got := ingest.Sign(body, "current"); got != sig {
		t.Fatalf("Sign = %q, want %q", got, sig)
	}

	cases := []struct {
		name    string
		body    []byte
		sig     string
		secrets []string
		want    bool
	}{
		{"RFC 4231 vector", rfcBody, rfcSig, []string{"Jefe"}, true},
		{"current secret", body, sig, []string{"current", "previous"}, true},
		{"previous secret", body, sig, []string{"new", "current"}, true},
		{"no matching secret", body, sig, []string{"new", "previous"}, false},
		{"no secrets", body, sig, nil, false},
		{"empty secret is never a key", body, ingest.Sign(body, ""), []string{""}, false},
		{"other body", []byte(`{"id":2}`), sig, []string{"current"}, false},
		{"empty signature", body, "", []string{"current"}, false},
		{"not base64", body, "%%%", []string{"current"}, false},
		{"unpadded base64", body, strings.TrimRight(sig, "="), []string{"current"}, false},
		{"hex digest", body, hex.EncodeToString(m.Sum(nil)), []string{"current"}, false},
		{"truncated digest", body, base64.StdEncoding.EncodeToString(m.Sum(nil)[:31]), []string{"current"}, false},
	}
	for _, tc := range cases {
		if got := ingest.VerifyHMAC(tc.body, tc.sig, tc.secrets); got != tc.want {
			t.Errorf("%s: VerifyHMAC = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNoAckBeforeCommit: when the request context ends before the commit
// (a deadline set by middleware, an HTTP/2 stream reset) the answer must not
// be an implicit 200 for a delivery that may never be committed.
func TestNoAckBeforeCommit(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
			defer cancel()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
	blocker, err := e.st.Write.BeginTx(context.Background(), nil) // the commit cannot start
	if err != nil {
		t.Fatal(err)
	}
	r := e.post(t, newDelivery(orderFixture(t), "1"))
	e.stopRun() // and then fails
	blocker.Rollback()
	if n := countWebhooks(t, e.st); n == 0 && r.status/100 == 2 {
		t.Errorf("answered %d %q for a delivery that was not stored", r.status, r.body)
	}
}

// TestRunStoppedAnswers503: once Run has returned, deliveries are queued
// for a committer that is gone; the handler waits until the client gives
// up instead of answering 503.
func TestRunStoppedAnswers503(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	e.stopRun()
	dl := newDelivery(orderFixture(t), "1")
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(dl.body))
	req.Header = dl.header()
	r := do(t, &http.Client{Timeout: 3 * time.Second}, req)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("status = %d %q, want 503", r.status, r.body)
	}
}

// TestOneBadRowDoesNotFailTheBatch: the headers are not covered by the
// HMAC, so a replayed signed body with an unstorable header (invalid UTF-8
// in a PostgreSQL TEXT column, or a webhook id over the btree row size)
// fails the whole group-commit transaction: every concurrent delivery in
// the batch gets 503.
func TestOneBadRowDoesNotFailTheBatch(t *testing.T) {
	t.Parallel()
	if !slices.Contains(storetest.Dialects(), store.Postgres) {
		t.Skip("needs PostgreSQL")
	}
	e := setup(t, store.Postgres)
	fixture := orderFixture(t)
	ctx := context.Background()
	// Block the first batch on a conflicting uncommitted insert so the
	// next deliveries queue up and commit together.
	blocker, err := e.st.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	first := newDelivery(fixture, "first")
	if _, _, err := store.InsertWebhook(ctx, blocker, &store.WebhookEvent{Shop: testShop, Topic: first.topic,
		WebhookID: first.webhookID, EventID: first.eventID, ReceivedAt: time.Now(), Body: []byte("{}"), Status: store.WebhookPending}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.postAsync(t, first) })
	waitCommitBlocked(t, e)
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Go(func() {
			dl := newDelivery(fixture, fmt.Sprint(i))
			if i == 0 {
				dl.webhookID = "wh-\xff\xfe"
			}
			statuses[i] = e.postAsync(t, dl).status
		})
	}
	time.Sleep(300 * time.Millisecond) // let them queue behind the blocked commit
	blocker.Rollback()
	wg.Wait()
	for i, s := range statuses[1:] {
		if s != http.StatusOK {
			t.Errorf("good delivery %d: status %d, want 200", i+1, s)
		}
	}
}
