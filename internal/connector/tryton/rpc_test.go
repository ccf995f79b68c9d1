package tryton

// Unit tests of the JSON-RPC client, the value codecs and the configuration;
// they run everywhere (a fake trytond on httptest, no Tryton needed).

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
)

// fakeTryton answers common.db.login and model calls with a handler per
// method; it records the Authorization headers it saw.
type fakeTryton struct {
	mu       sync.Mutex
	password string
	sessions int // sessions handed out; a session is "s<n>"
	valid    map[string]bool
	methods  map[string]func(params []json.RawMessage) (status int, body string)
	seen     []string // method names called
}

func setupFake(t *testing.T) (*fakeTryton, *rpcClient) {
	t.Helper()
	f := &fakeTryton{password: "secret", valid: map[string]bool{}, methods: map[string]func([]json.RawMessage) (int, string){}}
	f.methods["model.res.user.get_preferences"] = func([]json.RawMessage) (int, string) {
		return 200, `{"id":1,"result":{"company":1,"language":"en","company.rec_name":"X","groups":[1]}}`
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, newRPCClient(srv.URL, "db1", "admin", "secret", 5*time.Second, srv.Client())
}

func (f *fakeTryton) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     int64             `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if r.URL.Path != "/db1/" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, req.Method)
	if req.Method == "common.db.login" {
		var params struct {
			Password string `json:"password"`
		}
		_ = json.Unmarshal(req.Params[1], &params)
		if params.Password != f.password {
			http.Error(w, "<html>Unauthorized</html>", http.StatusUnauthorized)
			return
		}
		f.sessions++
		s := fmt.Sprintf("s%d", f.sessions)
		f.valid[base64.StdEncoding.EncodeToString([]byte("admin:7:"+s))] = true
		fmt.Fprintf(w, `{"id":%d,"result":[7,%q]}`, req.ID, s)
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Session ")
	if !ok || !f.valid[auth] {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h, ok := f.methods[req.Method]
	if !ok {
		fmt.Fprintf(w, `{"id":%d,"error":["KeyError: %s",""]}`, req.ID, req.Method)
		return
	}
	status, body := h(req.Params)
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeTryton) handle(method string, h func(params []json.RawMessage) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methods[method] = h
}

func TestModelCallSendsSessionAndContext(t *testing.T) {
	t.Parallel()
	f, c := setupFake(t)
	var gotCtx map[string]any
	f.handle("model.stock.location.search", func(p []json.RawMessage) (int, string) {
		_ = json.Unmarshal(p[len(p)-1], &gotCtx)
		return 200, `{"id":1,"result":[3,4]}`
	})
	var ids []int64
	if err := c.model(t.Context(), "stock.location", "search", map[string]any{"active_test": false}, &ids, []any{}, 0, nil, nil); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{3, 4}, ids); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	want := map[string]any{"company": float64(1), "language": "en", "active_test": false}
	if d := cmp.Diff(want, gotCtx); d != "" {
		t.Errorf("context (-want +got):\n%s", d)
	}
}

func TestExpiredSessionIsRenewedOnce(t *testing.T) {
	t.Parallel()
	f, c := setupFake(t)
	f.handle("model.x.y", func([]json.RawMessage) (int, string) { return 200, `{"id":1,"result":true}` })
	if err := c.model(t.Context(), "x", "y", nil, nil); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.valid = map[string]bool{} // the server forgot every session
	f.mu.Unlock()
	var ok bool
	if err := c.model(t.Context(), "x", "y", nil, &ok); err != nil || !ok {
		t.Fatalf("call after expiry = %v, %v; want a renewed session", ok, err)
	}
	if f.sessions != 2 {
		t.Errorf("%d logins, want 2", f.sessions)
	}
}

func TestLoginRefusedIsPermanentAndClear(t *testing.T) {
	t.Parallel()
	f, c := setupFake(t)
	f.password = "other"
	err := c.model(t.Context(), "x", "y", nil, nil)
	if err == nil || !connector.IsPermanent(err) || !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want permanent ErrAuth", err)
	}
	for _, s := range []string{`"admin"`, `"db1"`, "refused"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err %q does not mention %s", err, s)
		}
	}
	if strings.Contains(err.Error(), "<html>") {
		t.Errorf("err %q carries the HTML page", err)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		status    int
		body      string
		permanent bool
		retry     bool
		kind      string
	}{
		{"UserError", 200, `{"id":1,"error":["UserError",["The product is inactive.","",null]]}`, true, false, "UserError"},
		{"UserWarning", 200, `{"id":1,"error":["UserWarning",["w1","No carrier.",""]]}`, true, false, "UserWarning"},
		{"Concurrency", 200, `{"id":1,"error":["ConcurrencyException",["Records were modified"]]}`, false, false, "ConcurrencyException"},
		{"ServerException", 200, `{"id":1,"error":["database is locked","Traceback..."]}`, false, false, "ServerError"},
		{"502", 502, "bad gateway", false, false, ""},
		{"503", 503, "", false, false, ""},
		{"429", 429, "", false, true, ""},
		{"403", 403, "", true, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, c := setupFake(t)
			f.handle("model.x.y", func([]json.RawMessage) (int, string) { return tc.status, tc.body })
			err := c.model(t.Context(), "x", "y", nil, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if connector.IsPermanent(err) != tc.permanent {
				t.Errorf("err %v: permanent = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if _, ok := connector.RetryDelay(err); ok != tc.retry {
				t.Errorf("err %v: retry-after = %v, want %v", err, ok, tc.retry)
			}
			var re *RPCError
			if tc.kind != "" && (!errors.As(err, &re) || re.Kind != tc.kind) {
				t.Errorf("err %v: want an *RPCError of kind %s", err, tc.kind)
			}
		})
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Config{URL: url, Database: "db", User: "u", Password: "p", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Events(t.Context(), "", 10)
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient error", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	base := func() map[string]any {
		return map[string]any{"url": "http://127.0.0.1:8000", "database": "db", "user": "admin", "password": "pw"}
	}
	c, err := NewFromMap(base())
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Warehouse != DefaultWarehouse || c.cfg.CustomerParty != DefaultCustomerParty || c.cfg.Timeout != DefaultTimeout {
		t.Errorf("defaults = %q %q %s", c.cfg.Warehouse, c.cfg.CustomerParty, c.cfg.Timeout)
	}
	m := base()
	m["warehouse"], m["customer_party"], m["timeout"] = "WH2", "Web shop", "5s"
	if c, err = NewFromMap(m); err != nil || c.cfg.Warehouse != "WH2" || c.cfg.CustomerParty != "Web shop" || c.cfg.Timeout != 5*time.Second {
		t.Errorf("NewFromMap(%v) = %+v, %v", m, c, err)
	}
	for name, mutate := range map[string]func(map[string]any){
		"unknown key":      func(m map[string]any) { m["warehous"] = "WH" },
		"no url":           func(m map[string]any) { delete(m, "url") },
		"no password":      func(m map[string]any) { delete(m, "password") },
		"bad scheme":       func(m map[string]any) { m["url"] = "ftp://x" },
		"number user":      func(m map[string]any) { m["user"] = 3 },
		"bad timeout":      func(m map[string]any) { m["timeout"] = "soon" },
		"negative timeout": func(m map[string]any) { m["timeout"] = "-1s" },
		"slash database":   func(m map[string]any) { m["database"] = "a/b" },
	} {
		m := base()
		mutate(m)
		if _, err := NewFromMap(m); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewFromMap(map[string]any{"url": "http://x", "database": "d", "user": "u", "password": "p", "zzz": 1, "aaa": 2}); err == nil || !strings.Contains(err.Error(), "aaa, zzz") {
		t.Errorf("unknown keys error = %v, want them listed", err)
	}
	if _, ok := connector.Lookup(Kind); !ok {
		t.Errorf("kind %q not registered", Kind)
	}
}

func TestDateTimeRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "s"), rapid.Int64Range(0, 999999).Draw(t, "us")*1000).UTC()
		b, err := json.Marshal(dateTime{in})
		if err != nil {
			t.Fatal(err)
		}
		var out dateTime
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if !out.Equal(in) {
			t.Fatalf("%s → %s → %s", in, b, out)
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := cursor{at: time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "s"), rapid.Int64Range(0, 999999).Draw(t, "us")*1000).UTC(),
			id: rapid.Int64Range(1, 1<<40).Draw(t, "id")}
		out, err := parseCursor(in.String())
		if err != nil {
			t.Fatal(err)
		}
		if !out.at.Equal(in.at) || out.id != in.id {
			t.Fatalf("%v → %q → %v", in, in.String(), out)
		}
	})
	for _, bad := range []string{"x", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z|x", "yesterday|3"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q): no error", bad)
		}
	}
}

func TestLineNote(t *testing.T) {
	t.Parallel()
	got, ok := parseLineNote(noteHeader + " CD-1\nmove 12 line 1 sku A-1\nmove 13 line 7 sku B\n")
	if !ok {
		t.Fatal("note not recognised")
	}
	want := map[int64]lineRef{12: {LineNo: 1, SKU: "A-1"}, 13: {LineNo: 7, SKU: "B"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("note (-want +got):\n%s", d)
	}
	for _, other := range []string{"Call the customer first", noteHeader + "\nmove x line 1 sku A"} {
		if _, ok := parseLineNote(other); ok {
			t.Errorf("parseLineNote(%q) recognised a note it did not write", other)
		}
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	want := map[string]connector.EventType{
		"waiting": connector.EventAcknowledged, "assigned": connector.EventAcknowledged,
		"picked": connector.EventPicking, "packed": connector.EventPacked,
		"done": connector.EventShipped, "cancelled": connector.EventCancelled,
	}
	got := map[string]connector.EventType{}
	for _, s := range []string{"draft", "waiting", "assigned", "picked", "packed", "done", "cancelled", "staging"} {
		if typ, ok := eventType(s); ok {
			got[s] = typ
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("state mapping (-want +got):\n%s", d)
	}
}
