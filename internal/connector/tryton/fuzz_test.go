package tryton

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// The calls FuzzRPCResponse makes, chosen by the input's first argument
// (modulo rpcOpCount).
const (
	rpcLogin     = iota // the answer to common.db.login
	rpcShipments        // a model read decoded into shipment rows
	rpcMoves            // a model read decoded into move rows
	rpcSearch           // a model search decoded into ids
	rpcCursor           // the body as a feed cursor and as a line note
	rpcOpCount
)

// rpcTransport answers common.db.login and get_preferences like trytond
// and every other call (or the login, when fuzzLogin is set) with the
// fuzzed status, Retry-After and body.
type rpcTransport struct {
	status     int
	retryAfter string
	body       []byte
	fuzzLogin  bool

	mu sync.Mutex
	n  int
}

func (f *rpcTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var req rpcRequest
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		_ = json.Unmarshal(b, &req)
	}
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if n > 20 {
		return nil, errors.New("fuzz: too many requests")
	}
	status, body, h := f.status, f.body, http.Header{"Content-Type": {"application/json"}}
	switch {
	case req.Method == "common.db.login" && !f.fuzzLogin:
		status, body = http.StatusOK, []byte(`{"id":1,"result":[7,"s1"]}`)
	case req.Method == "model.res.user.get_preferences":
		status, body = http.StatusOK, []byte(`{"id":2,"result":{"company":1,"language":"en","company.rec_name":"X","groups":[1]}}`)
	default:
		if f.retryAfter != "" {
			h.Set("Retry-After", f.retryAfter)
		}
	}
	return &http.Response{
		StatusCode: status, Status: strconv.Itoa(status), Header: h,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// FuzzRPCResponse feeds trytond answers (status, Retry-After, body) to the
// connector's JSON-RPC client through an http.RoundTripper: the login, and
// model calls whose results decode into the rows the connector reads
// (Tryton's datetime, Many2One, Char and Boolean encodings); it also parses
// the body as a feed cursor and as the line note SubmitOrder writes. Seeds
// are trytond's answer and error shapes.
//
// Properties: no panic; errors follow the package's classes (401 a refused
// session, renewed once then permanent; 429 retry-after; 408 and 5xx
// transient; other 4xx permanent; UserError, UserWarning, AccessError and
// LoginException permanent; ConcurrencyException and server exceptions
// transient; a well-formed answer the call cannot use, permanent); decoded
// datetimes, cursors and notes survive a round trip.
func FuzzRPCResponse(f *testing.F) {
	seeds := []struct {
		op         uint8
		status     uint16
		retryAfter string
		body       string
	}{
		{rpcLogin, 200, "", `{"id":1,"result":[7,"s1"]}`},
		{rpcLogin, 401, "", `<html>Unauthorized</html>`},
		{rpcLogin, 429, "60", `Too Many Requests`},
		{rpcSearch, 429, "99999999999", `Too Many Requests`},
		{rpcLogin, 404, "", `<!doctype html><title>404 Not Found</title>`},
		{rpcLogin, 200, "", `{"id":1,"result":false}`},
		{rpcLogin, 200, "", `{"id":1,"result":[7]}`},
		{rpcLogin, 200, "", `{"id":1,"result":["7","s1"]}`},
		{rpcLogin, 200, "", `{"id":1,"error":["LoginException",["password","Password",""]]}`},
		{rpcShipments, 200, "", `{"id":3,"result":[{"id":12,"reference":"CD-1001","state":"done","write_date":{"__class__":"datetime","year":2026,"month":3,"day":2,"hour":9,"minute":30,"second":0,"microsecond":123456},"effective_date":{"__class__":"date","year":2026,"month":3,"day":2},"outgoing_moves":[40,41],"packages":[3]}]}`},
		{rpcShipments, 200, "", `{"id":3,"result":[{"id":14,"state":"done","write_date":{"__class__":"datetime","year":9000000000000000000,"month":13,"day":0,"hour":25,"minute":0,"second":0,"microsecond":-1}}]}`},
		{rpcShipments, 200, "", `{"id":3,"result":[{"id":13,"reference":false,"state":"waiting","write_date":null,"effective_date":null,"outgoing_moves":[],"packages":[]}]}`},
		{rpcMoves, 200, "", `{"id":4,"result":[{"id":40,"product":5,"quantity":2.0,"state":"done","package":false},{"id":41,"product":6,"quantity":1,"state":"assigned","package":null}]}`},
		{rpcSearch, 200, "", `{"id":5,"result":[1,2,3]}`},
		{rpcSearch, 200, "", `{"id":5,"error":["UserError",["The product is inactive.","",null]]}`},
		{rpcSearch, 200, "", `{"id":5,"error":["UserWarning",["w1","No carrier.",""]]}`},
		{rpcSearch, 200, "", `{"id":5,"error":["AccessError",["You are not allowed to read records \"Shipment\".",""]]}`},
		{rpcSearch, 200, "", `{"id":5,"error":["ConcurrencyException",["Records were modified in the meanwhile"]]}`},
		{rpcSearch, 200, "", `{"id":5,"error":["database is locked","Traceback (most recent call last): ..."]}`},
		{rpcSearch, 503, "", `<html>Service Unavailable</html>`},
		{rpcSearch, 401, "", `<html>Unauthorized</html>`},
		{rpcCursor, 0, "", `2026-03-02T09:30:00.123456Z|12`},
		{rpcCursor, 0, "", "crossdock order lines CD-1001\nmove 40 line 1 sku SKU-A\nmove 41 line 2 sku SKU-B\n"},
	}
	for _, s := range seeds {
		f.Add(s.op, s.status, s.retryAfter, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, status uint16, retryAfter string, body []byte) {
		kind := int(op) % rpcOpCount
		if kind == rpcCursor {
			checkCursorAndNote(t, string(body))
			return
		}
		st := int(status)
		if st < 200 || st > 599 { // a final status
			st = 200 + st%400
		}
		tr := &rpcTransport{status: st, retryAfter: retryAfter, body: body, fuzzLogin: kind == rpcLogin}
		c := newRPCClient("https://tryton.fuzz.example", "db1", "admin", "secret", 5*time.Second, &http.Client{Transport: tr})
		ctx := context.Background()
		var err error
		switch kind {
		case rpcLogin:
			_, err = c.userID(ctx)
		case rpcShipments:
			var rows []shipmentRow
			if err = c.model(ctx, "stock.shipment.out", "read", nil, &rows, []int64{12}, shipmentFields); err == nil {
				for _, r := range rows {
					checkDateTime(t, r.WriteDate)
					checkDateTime(t, r.EffectiveDate)
				}
			}
		case rpcMoves:
			var rows []moveRow
			err = c.model(ctx, "stock.move", "read", nil, &rows, []int64{40}, []string{"product", "quantity", "state", "package"})
		case rpcSearch:
			var ids []int64
			err = c.model(ctx, "stock.shipment.out", "search", nil, &ids, []any{}, 0, 10, nil)
		}
		if err != nil {
			checkRPCClass(t, kind, st, retryAfter, body, err)
		}
	})
}

// checkDateTime checks that a decoded datetime encodes back to itself.
func checkDateTime(t *testing.T, d dateTime) {
	t.Helper()
	if d.IsZero() {
		return
	}
	b, err := json.Marshal(d)
	if err != nil {
		return // a year json cannot write is not Tryton's either
	}
	var again dateTime
	if err := json.Unmarshal(b, &again); err != nil || !again.Equal(d.Time) {
		t.Fatalf("datetime %v → %s → %v, %v", d.Time, b, again.Time, err)
	}
}

// checkCursorAndNote checks that a cursor and a line note that parse render
// back to what was parsed.
func checkCursorAndNote(t *testing.T, s string) {
	t.Helper()
	if cu, err := parseCursor(s); err == nil && s != "" {
		again, err := parseCursor(cu.String())
		if err != nil || !again.at.Equal(cu.at) || again.id != cu.id {
			t.Fatalf("cursor %q → %q → %+v, %v", s, cu.String(), again, err)
		}
	}
	if lines, ok := parseLineNote(s); ok {
		var b strings.Builder
		fmt.Fprintf(&b, "%s CD-1\n", noteHeader)
		for move, l := range lines {
			if l.SKU == "" || strings.ContainsAny(l.SKU, " \t\n") {
				t.Fatalf("note %q: SKU %q", s, l.SKU)
			}
			fmt.Fprintf(&b, "move %d line %d sku %s\n", move, l.LineNo, l.SKU)
		}
		again, ok := parseLineNote(b.String())
		if !ok || len(again) != len(lines) {
			t.Fatalf("note %q re-rendered as %q does not parse back: %v", s, b.String(), again)
		}
		for m, l := range lines {
			if again[m] != l {
				t.Fatalf("note %q: move %d %+v became %+v", s, m, l, again[m])
			}
		}
	}
}

// checkRPCClass checks that err follows the package's error classes.
func checkRPCClass(t *testing.T, kind, status int, retryAfter string, body []byte, err error) {
	t.Helper()
	perm := connector.IsPermanent(err)
	d, ra := connector.RetryDelay(err)
	var he *HTTPError
	isHTTP := errors.As(err, &he)
	fail := func(want string) {
		t.Helper()
		t.Fatalf("op %d, HTTP %d: want %s; got permanent=%v retry-after=%v: %v", kind, status, want, perm, ra, err)
	}
	switch {
	case status == http.StatusUnauthorized:
		if !perm || !errors.Is(err, ErrAuth) {
			fail("a permanent refused session/login (ErrAuth)")
		}
		return
	case status == http.StatusTooManyRequests:
		if perm || !ra || d < 0 {
			fail("retry-after with a delay ≥ 0")
		}
		if n, err := strconv.ParseInt(retryAfter, 10, 64); err == nil && n >= 0 {
			if want := time.Duration(n) * time.Second; d != want && (want/time.Second == time.Duration(n) || d != math.MaxInt64) {
				fail(fmt.Sprintf("the delay Retry-After %q gives, not %v", retryAfter, d))
			}
		}
		return
	case status == http.StatusNotFound && kind == rpcLogin:
		if !perm {
			fail("permanent (database not found)")
		}
		return
	case status == http.StatusRequestTimeout || status >= 500:
		if perm || ra || !isHTTP {
			fail("a transient *HTTPError")
		}
		return
	case status >= 400:
		if !perm || !isHTTP {
			fail("a permanent *HTTPError")
		}
		return
	case status != http.StatusOK:
		if perm || ra {
			fail("transient (an unexpected status)")
		}
		return
	}
	var r rpcResponse
	if json.Unmarshal(body, &r) != nil {
		if perm {
			fail("transient (not a JSON-RPC answer)")
		}
		return
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		var rerr *RPCError
		if !errors.As(err, &rerr) || rerr.Kind == "" {
			fail("an *RPCError with its kind")
		}
		switch rerr.Kind {
		case "UserError", "UserWarning", "AccessError", "LoginException":
			if !perm {
				fail("permanent (" + rerr.Kind + ")")
			}
		default:
			if perm {
				fail("transient (" + rerr.Kind + ")")
			}
		}
		return
	}
	if !perm {
		fail("permanent (a well-formed answer the call cannot use)")
	}
}
