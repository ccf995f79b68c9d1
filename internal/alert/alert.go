// Package alert announces discrepancies on the configured channels (the
// configuration's alerts block): a signed outbound webhook, a
// Slack-compatible incoming webhook, email over SMTP.
//
// Notices are per group, a group being a shop and a discrepancy kind, so
// an outage that opens ten thousand discrepancies of one kind is one
// alert carrying the counts:
//
//   - a group's first notice ("firing") waits until its oldest open
//     discrepancy is GroupWait old, gathering the burst;
//   - while the group stays open, a new "firing" notice goes out at most
//     once per RepeatInterval, and only if discrepancies were opened since
//     the previous one (with that count);
//   - when none of the group's discrepancies is open any more, a
//     "resolved" notice goes out once.
//
// A group whose discrepancies all close within GroupWait (auto-healed
// before anyone needed to act) sends nothing; they stay in the
// discrepancy history.
//
// Every notice is recorded (store.Alert), delivered or not; a notice whose
// delivery failed is tried again at the next evaluation. Evaluate is run
// by the periodic job "alerts.evaluate" under a lease, so one instance
// sends.
package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/smtp"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
)

// Defaults of config.Alerts.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultRepeatInterval = time.Hour
	// EvaluateEvery is how often the hub evaluates the groups by default
	// (alerts.evaluate_interval).
	EvaluateEvery = 10 * time.Second
)

// SignatureHeader carries "sha256=" + the hex HMAC-SHA256 of a webhook
// notice's body, keyed with the channel's secret.
const SignatureHeader = "X-Crossdock-Signature"

// Notice is what a channel sends.
type Notice struct {
	Shop string `json:"shop"`
	Kind string `json:"kind"`
	// Group identifies the group (shop/kind).
	Group string `json:"group"`
	// Status is "firing" or "resolved".
	Status   string `json:"status"`
	Severity string `json:"severity,omitempty"`
	// Open is how many of the group's discrepancies are open; New how many
	// opened since the group's previous notice.
	Open int `json:"open"`
	New  int `json:"new"`
	// Sample is one open discrepancy's message.
	Sample string    `json:"sample,omitempty"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Sender delivers notices on one channel.
type Sender interface {
	Send(ctx context.Context, n Notice) error
}

// Channel is a configured channel and its sender.
type Channel struct {
	Config config.AlertChannel
	Sender Sender
}

// NewChannel builds the sender of a configured channel.
func NewChannel(c config.AlertChannel, hc *http.Client) (Channel, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	switch c.Kind {
	case config.AlertWebhook:
		return Channel{Config: c, Sender: &Webhook{URL: c.URL, Secret: []byte(c.Secret), Client: hc}}, nil
	case config.AlertSlack:
		return Channel{Config: c, Sender: &Slack{URL: c.URL, Client: hc}}, nil
	case config.AlertEmail:
		return Channel{Config: c, Sender: &Email{Addr: c.SMTPAddr, Username: c.Username, Password: c.Password, From: c.From, To: c.To}}, nil
	}
	return Channel{}, fmt.Errorf("alert: channel %q: unknown kind %q", c.Name, c.Kind)
}

// Notifier evaluates the discrepancy groups and sends notices.
type Notifier struct {
	Store    *store.Store
	Config   config.Alerts
	Channels []Channel
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New builds a notifier for the configuration's channels.
func New(st *store.Store, cfg config.Alerts, hc *http.Client, log *slog.Logger) (*Notifier, error) {
	n := &Notifier{Store: st, Config: cfg, Logger: log}
	for _, c := range cfg.Channels {
		ch, err := NewChannel(c, hc)
		if err != nil {
			return nil, err
		}
		n.Channels = append(n.Channels, ch)
	}
	return n, nil
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.Default()
}

var severityRank = map[string]int{"": 1, store.SeverityInfo: 1, store.SeverityWarning: 2, store.SeverityCritical: 3}

// GroupKey names a group.
func GroupKey(shop, kind string) string { return shop + "/" + kind }

// Result counts what one evaluation sent.
type Result struct {
	Firing   int `json:"firing"`
	Resolved int `json:"resolved"`
	Failed   int `json:"failed"`
}

// Evaluate sends the notices due now and records them.
func (n *Notifier) Evaluate(ctx context.Context) (Result, error) {
	var res Result
	if len(n.Channels) == 0 {
		return res, nil
	}
	now := n.now()
	wait := n.Config.GroupWait.Std(DefaultGroupWait)
	repeat := n.Config.RepeatInterval.Std(DefaultRepeatInterval)
	groups, err := store.OpenDiscrepancyGroups(ctx, n.Store.Read)
	if err != nil {
		return res, err
	}
	open := map[string]store.DiscrepancyGroup{}
	var errs []error
	for _, g := range groups {
		gk := GroupKey(g.Shop, g.Kind)
		open[gk] = g
		for _, ch := range n.Channels {
			if !ch.Config.ForShop(g.Shop) || severityRank[g.Severity] < severityRank[ch.Config.MinSeverity] {
				continue
			}
			last, err := store.LastAlert(ctx, n.Store.Read, g.Shop, gk, ch.Config.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
				continue
			}
			var since time.Time // previous notice of the group, zero if none
			firing := last != nil && last.Notice == store.NoticeFiring
			switch {
			case !firing || last.Error != "":
				// A new episode (or a notice to try again): wait until
				// the burst is gathered.
				if now.Sub(g.OldestOpen) < wait {
					continue
				}
				if last != nil && last.Error == "" {
					since = last.At
				} else if last != nil {
					since = lastDelivered(ctx, n.Store, g.Shop, gk, ch.Config.Name)
				}
			case now.Sub(last.At) < repeat:
				continue // rate limit: one notice per group per interval
			default:
				since = last.At
			}
			added, err := store.DiscrepanciesOpenedSince(ctx, n.Store.Read, g.Shop, g.Kind, since)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if firing && last.Error == "" && added == 0 {
				continue // still open, nothing new: no reminder
			}
			nt := Notice{Shop: g.Shop, Kind: g.Kind, Group: gk, Status: store.NoticeFiring, Severity: g.Severity, Open: g.Open, New: added, Sample: g.Sample, At: now}
			nt.Text = fmt.Sprintf("[crossdock %s] %s: %d open %s discrepanc%s (%d new). Example: %s",
				strings.ToUpper(g.Severity), g.Shop, g.Open, g.Kind, plural(g.Open), added, g.Sample)
			if n.send(ctx, ch, nt, &res) != nil {
				res.Failed++
			} else {
				res.Firing++
			}
		}
	}
	firing, err := store.FiringAlertGroups(ctx, n.Store.Read)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	pending, err := failedResolved(ctx, n.Store)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	for _, a := range append(firing, pending...) {
		if _, still := open[a.GroupKey]; still {
			continue
		}
		ch, ok := n.channel(a.Channel)
		if !ok {
			continue // channel removed from the configuration
		}
		nt := Notice{Shop: a.Shop, Kind: a.Kind, Group: a.GroupKey, Status: store.NoticeResolved, At: now,
			Text: fmt.Sprintf("[crossdock RESOLVED] %s: every %s discrepancy is closed", a.Shop, a.Kind)}
		if n.send(ctx, ch, nt, &res) != nil {
			res.Failed++
		} else {
			res.Resolved++
		}
	}
	return res, errors.Join(errs...)
}

func plural(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func (n *Notifier) channel(name string) (Channel, bool) {
	for _, c := range n.Channels {
		if c.Config.Name == name {
			return c, true
		}
	}
	return Channel{}, false
}

// lastDelivered is the time of the group's last delivered notice on a
// channel (zero if none).
func lastDelivered(ctx context.Context, st *store.Store, shop, group, channel string) time.Time {
	var at time.Time
	rows, err := st.Read.QueryContext(ctx, `SELECT at FROM alert WHERE shop = $1 AND group_key = $2 AND channel = $3 AND error = '' ORDER BY id DESC LIMIT 1`, shop, group, channel)
	if err != nil {
		return at
	}
	defer rows.Close()
	if rows.Next() {
		_ = rows.Scan(&at)
	}
	return at
}

// failedResolved lists the groups whose latest notice is a "resolved" one
// that could not be delivered.
func failedResolved(ctx context.Context, st *store.Store) ([]store.Alert, error) {
	all, err := store.ListAlerts(ctx, st.Read, "", 1000)
	if err != nil {
		return nil, err
	}
	latest := map[string]bool{}
	var out []store.Alert
	for _, a := range all { // newest first
		k := a.Shop + "\x00" + a.GroupKey + "\x00" + a.Channel
		if latest[k] {
			continue
		}
		latest[k] = true
		if a.Notice == store.NoticeResolved && a.Error != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// send delivers a notice and records it, with the delivery error if any.
func (n *Notifier) send(ctx context.Context, ch Channel, nt Notice, res *Result) error {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := ch.Sender.Send(sctx, nt)
	cancel()
	rec := store.Alert{Shop: nt.Shop, Channel: ch.Config.Name, GroupKey: nt.Group, Kind: nt.Kind, Notice: nt.Status,
		OpenCount: nt.Open, NewCount: nt.New, Message: nt.Text, At: nt.At}
	if err != nil {
		rec.Error = err.Error()
		n.log().Warn("alert not delivered", "channel", ch.Config.Name, "group", nt.Group, "err", err)
	}
	if _, rerr := store.RecordAlert(ctx, n.Store.Write, rec); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// Webhook POSTs the notice as JSON, signed: SignatureHeader is "sha256=" +
// hex(HMAC-SHA256(Secret, body)).
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
}

// Sign returns the SignatureHeader value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, n Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return post(ctx, w.Client, w.URL, body, map[string]string{SignatureHeader: Sign(w.Secret, body)})
}

// Slack POSTs a Slack-compatible incoming-webhook payload ({"text": …}).
type Slack struct {
	URL    string
	Client *http.Client
}

// Send implements Sender.
func (s *Slack) Send(ctx context.Context, n Notice) error {
	body, err := json.Marshal(map[string]string{"text": n.Text})
	if err != nil {
		return err
	}
	return post(ctx, s.Client, s.URL, body, nil)
}

func post(ctx context.Context, hc *http.Client, url string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crossdock-alerts")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("alert: post: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert: post: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Email sends the notice over SMTP (net/smtp; PLAIN authentication when
// Username is set, which net/smtp allows only over TLS or to localhost).
type Email struct {
	Addr     string
	Username string
	Password string
	From     string
	To       []string
}

// Send implements Sender.
func (e *Email) Send(ctx context.Context, n Notice) error {
	var auth smtp.Auth
	if e.Username != "" {
		host := e.Addr
		if i := strings.LastIndex(host, ":"); i >= 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", e.Username, e.Password, host)
	}
	subject := fmt.Sprintf("[crossdock %s] %s: %s", strings.ToUpper(n.Status), n.Shop, n.Kind)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		e.From, strings.Join(e.To, ", "), subject, n.At.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "%s\r\n\r\nshop: %s\r\nkind: %s\r\nstatus: %s\r\nopen: %d\r\nnew: %d\r\n", n.Text, n.Shop, n.Kind, n.Status, n.Open, n.New)
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(e.Addr, auth, e.From, e.To, []byte(b.String())) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("alert: smtp %s: %w", e.Addr, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("alert: smtp %s: %w", e.Addr, ctx.Err())
	}
}

// Args is the periodic job that evaluates the alerts.
type Args struct{}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "alerts.evaluate" }

// LeaseName is the lease an evaluation holds (shop "").
const LeaseName = "alerts"

// Worker works Args.
type Worker struct {
	river.WorkerDefaults[Args]
	Notifier *Notifier
	// Holder names this instance in the lease.
	Holder string

	running queue.Exclusive
}

// Work evaluates the alerts once, if this instance gets the lease.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	release, ok := w.running.TryAcquire("alerts")
	if !ok {
		return nil
	}
	defer release()
	now := w.Notifier.now()
	got, err := store.TryLease(ctx, w.Notifier.Store.Write, "", LeaseName, w.Holder, now, 5*time.Minute)
	if err != nil || !got {
		return err
	}
	defer store.ReleaseLease(context.WithoutCancel(ctx), w.Notifier.Store.Write, "", LeaseName, w.Holder)
	// Errors are not retried by River: the next periodic evaluation is
	// the retry (a notice that failed is recorded and sent again then).
	if _, err := w.Notifier.Evaluate(ctx); err != nil {
		w.Notifier.log().Warn("alerts: evaluation incomplete", "err", err)
	}
	return nil
}
