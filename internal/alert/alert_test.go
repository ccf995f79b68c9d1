package alert_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/alert"
	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

const shop = "demo.myshopify.com"

// receiver records what an HTTP channel received.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	fail   bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	r.bodies = append(r.bodies, b)
	r.sigs = append(r.sigs, req.Header.Get(alert.SignatureHeader))
}

func (r *receiver) notices(t *testing.T) []alert.Notice {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []alert.Notice
	for _, b := range r.bodies {
		var n alert.Notice
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatalf("notice %s: %v", b, err)
		}
		out = append(out, n)
	}
	return out
}

// clock is a controlled clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

type env struct {
	st    *store.Store
	clock *clock
	hook  *receiver
	n     *alert.Notifier
}

func setup(t *testing.T, d store.Dialect) *env {
	t.Helper()
	e := &env{st: storetest.Open(t, d), clock: &clock{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}, hook: &receiver{}}
	srv := httptest.NewServer(e.hook)
	t.Cleanup(srv.Close)
	cfg := config.Alerts{GroupWait: config.Duration(30 * time.Second), RepeatInterval: config.Duration(time.Hour),
		Channels: []config.AlertChannel{{Name: "ops", Kind: config.AlertWebhook, URL: srv.URL, Secret: "s3cret"}}}
	n, err := alert.New(e.st, cfg, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Now = e.clock.Now
	e.n = n
	return e
}

// open opens count discrepancies of kind at the clock's time.
func (e *env) open(t *testing.T, kind string, from, count int) {
	t.Helper()
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		for i := from; i < from+count; i++ {
			if _, _, err := store.OpenOrTouchDiscrepancy(ctx, tx, store.Discrepancy{Shop: shop, Kind: kind, Severity: store.SeverityWarning,
				Key: fmt.Sprintf("%s:%d", kind, i), Message: fmt.Sprintf("order #%d missing", i)}, e.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) evaluate(t *testing.T) alert.Result {
	t.Helper()
	r, err := e.n.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBurstIsOneAlertThenRateLimitedThenResolved(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := setup(t, d)
			ctx := context.Background()
			// An outage: 10,000 orders missed within a few seconds.
			e.open(t, "order.missing", 0, 4000)
			e.clock.Advance(5 * time.Second)
			e.open(t, "order.missing", 4000, 6000)
			if r := e.evaluate(t); r != (alert.Result{}) {
				t.Fatalf("within the group wait: sent %+v", r)
			}
			e.clock.Advance(30 * time.Second)
			if r := e.evaluate(t); r != (alert.Result{Firing: 1}) {
				t.Fatalf("after the group wait: %+v, want one firing notice", r)
			}
			// More of the same within the interval: no new notice.
			e.clock.Advance(10 * time.Minute)
			e.open(t, "order.missing", 10000, 5)
			if r := e.evaluate(t); r != (alert.Result{}) {
				t.Fatalf("within the repeat interval: sent %+v", r)
			}
			// After the interval, one reminder with what was added.
			e.clock.Advance(time.Hour)
			if r := e.evaluate(t); r != (alert.Result{Firing: 1}) {
				t.Fatalf("after the repeat interval: %+v", r)
			}
			// Still open, nothing new: no reminder.
			e.clock.Advance(2 * time.Hour)
			if r := e.evaluate(t); r != (alert.Result{}) {
				t.Fatalf("nothing new: sent %+v", r)
			}
			// Everything recovered: one resolved notice, once.
			at := e.clock.Advance(time.Minute)
			if _, err := store.CloseUnseenDiscrepancies(ctx, e.st.Write, shop, []string{"order.missing"}, at, at); err != nil {
				t.Fatal(err)
			}
			if r := e.evaluate(t); r != (alert.Result{Resolved: 1}) {
				t.Fatalf("after recovery: %+v, want one resolved notice", r)
			}
			e.clock.Advance(time.Minute)
			if r := e.evaluate(t); r != (alert.Result{}) {
				t.Fatalf("resolved twice: %+v", r)
			}

			type sent struct {
				Status    string
				Open, New int
			}
			var got []sent
			for _, n := range e.hook.notices(t) {
				got = append(got, sent{n.Status, n.Open, n.New})
			}
			want := []sent{{"firing", 10000, 10000}, {"firing", 10005, 5}, {"resolved", 0, 0}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
			e.hook.mu.Lock()
			for i, b := range e.hook.bodies {
				if e.hook.sigs[i] != alert.Sign([]byte("s3cret"), b) {
					t.Errorf("notice %d: signature %q does not match its body", i, e.hook.sigs[i])
				}
			}
			e.hook.mu.Unlock()
			recorded, err := store.ListAlerts(ctx, e.st.Read, shop, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recorded) != 3 || recorded[0].Notice != store.NoticeResolved || recorded[2].OpenCount != 10000 {
				t.Errorf("recorded alerts: %+v", recorded)
			}
		})
	}
}

func TestFailedDeliveryIsRecordedAndRetried(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	e.hook.fail = true
	e.open(t, "shipment.unfulfilled", 0, 3)
	e.clock.Advance(time.Minute)
	if r := e.evaluate(t); r != (alert.Result{Failed: 1}) {
		t.Fatalf("receiver down: %+v", r)
	}
	last, err := store.LastAlert(context.Background(), e.st.Read, shop, alert.GroupKey(shop, "shipment.unfulfilled"), "ops")
	if err != nil || last.Error == "" {
		t.Fatalf("the failed notice was not recorded with its error: %+v %v", last, err)
	}
	e.hook.mu.Lock()
	e.hook.fail = false
	e.hook.mu.Unlock()
	e.clock.Advance(10 * time.Second)
	if r := e.evaluate(t); r != (alert.Result{Firing: 1}) {
		t.Fatalf("receiver back: %+v, want the notice sent again", r)
	}
	if n := e.hook.notices(t); len(n) != 1 || n[0].Open != 3 || n[0].New != 3 {
		t.Errorf("delivered notices: %+v", n)
	}
}

func TestChannelFilters(t *testing.T) {
	t.Parallel()
	e := setup(t, store.SQLite)
	e.n.Channels[0].Config.MinSeverity = store.SeverityCritical
	e.open(t, "stock.mismatch", 0, 2) // warning
	e.clock.Advance(time.Minute)
	if r := e.evaluate(t); r != (alert.Result{}) {
		t.Errorf("a warning group reached a critical-only channel: %+v", r)
	}
	e.n.Channels[0].Config.MinSeverity = ""
	e.n.Channels[0].Config.Shops = []string{"other.myshopify.com"}
	if r := e.evaluate(t); r != (alert.Result{}) {
		t.Errorf("another shop's group reached the channel: %+v", r)
	}
}

func TestSlackPayload(t *testing.T) {
	t.Parallel()
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	s := &alert.Slack{URL: srv.URL, Client: srv.Client()}
	if err := s.Send(context.Background(), alert.Notice{Text: "3 open order.missing discrepancies"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"text": "3 open order.missing discrepancies"}, got); diff != "" {
		t.Errorf("slack payload (-want +got):\n%s", diff)
	}
}

// fakeSMTP is a minimal in-process SMTP server that keeps the messages.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	From string
	To   []string
	Data string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	say("220 fake ESMTP")
	var m smtpMsg
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = smtpMsg{From: strings.Trim(strings.TrimSpace(line)[10:], "<>")}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line)[8:], "<>"))
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.Data = b.String()
			f.mu.Lock()
			f.msgs = append(f.msgs, m)
			f.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func TestEmailOverSMTP(t *testing.T) {
	t.Parallel()
	f := newFakeSMTP(t)
	e := setup(t, store.SQLite)
	ch, err := alert.NewChannel(config.AlertChannel{Name: "mail", Kind: config.AlertEmail, SMTPAddr: f.ln.Addr().String(),
		From: "crossdock@example.com", To: []string{"ops@example.com", "oncall@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.n.Channels = []alert.Channel{ch}
	e.open(t, "sla.ack", 0, 2)
	e.clock.Advance(time.Minute)
	if r := e.evaluate(t); r != (alert.Result{Firing: 1}) {
		t.Fatalf("email notice: %+v", r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.msgs) != 1 {
		t.Fatalf("%d messages received, want 1", len(f.msgs))
	}
	m := f.msgs[0]
	if diff := cmp.Diff([]string{"ops@example.com", "oncall@example.com"}, m.To); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	for _, want := range []string{"Subject: [crossdock FIRING] " + shop + ": sla.ack", "open: 2", "new: 2"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}
