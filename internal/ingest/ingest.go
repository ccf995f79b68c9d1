// Package ingest receives Shopify webhooks durably.
//
// The handler checks the HMAC of the raw body in constant time before
// anything else, then stores the delivery in the inbox (webhook_event) and
// enqueues the job that processes it in the same transaction, and only then
// answers 2xx. Concurrent deliveries are committed together (group commit),
// which is what lets a single SQLite writer absorb a flash sale.
//
// Rules, each covered by a test:
//   - missing or bad X-Shopify-Hmac-Sha256, or an unknown shop → 401, nothing stored;
//   - body over the configured limit → 413, nothing stored;
//   - a duplicate (same X-Shopify-Webhook-Id, or same X-Shopify-Event-Id for
//     the topic) → 200, not stored again;
//   - a correctly signed body that does not decode → stored and answered 200;
//     the drain, which decodes every body, marks it quarantined with the
//     decode error on its timeline (see
//     ARCHITECTURE.md: a non-2xx would make Shopify retry the same bytes for
//     four hours and then delete the subscription);
//   - the store failing → 503, so Shopify retries.
package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
)

// Shop is what the handler needs to know about a tenant.
type Shop struct {
	Domain string
	// Secrets are the client secrets accepted for signatures: the current
	// one and, during a rotation, the previous one.
	Secrets []string
}

// DecodeFunc checks that a body decodes as the topic's payload. An error
// quarantines the delivery; ErrUnhandledTopic marks it ignored.
type DecodeFunc func(topic string, body []byte) error

// ErrUnhandledTopic is returned by a DecodeFunc for topics the hub does not
// process; such deliveries are stored as "ignored".
var ErrUnhandledTopic = errors.New("topic not handled")

// Config configures a Handler.
type Config struct {
	Store    *store.Store
	Inserter queue.InsertTx
	Shops    func(domain string) (Shop, bool)
	// Decode, if set, checks bodies before they are acknowledged. Leave it
	// nil to keep the request path minimal: the drain decodes every body
	// and quarantines, with the error on the delivery's timeline, what
	// does not decode.
	Decode DecodeFunc
	// MaxBody is the largest body accepted, in bytes.
	MaxBody int64
	Logger  *slog.Logger
	// MaxBatch caps how many deliveries commit in one transaction.
	MaxBatch int
}

// Stats are the handler's counters since start.
type Stats struct {
	Accepted, Duplicates, Quarantined, Ignored, Unauthorized, TooLarge, Failed int64
}

// Handler is the webhook endpoint. Start it with Run.
type Handler struct {
	cfg     Config
	reqs    chan *pending
	stopped chan struct{}
	// drainQueued marks shops with a drain job enqueued and not yet started.
	drainQueued sync.Map
	stats       struct {
		accepted, duplicates, quarantined, ignored, unauthorized, tooLarge, failed atomic.Int64
	}
}

type pending struct {
	ev   store.WebhookEvent
	done chan result
}

type result struct {
	id       int64
	inserted bool
	err      error
}

// New returns a handler; call Run to start its committer.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{cfg: cfg, reqs: make(chan *pending, 4096), stopped: make(chan struct{})}
}

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	return Stats{
		Accepted: h.stats.accepted.Load(), Duplicates: h.stats.duplicates.Load(), Quarantined: h.stats.quarantined.Load(),
		Ignored: h.stats.ignored.Load(), Unauthorized: h.stats.unauthorized.Load(), TooLarge: h.stats.tooLarge.Load(), Failed: h.stats.failed.Load(),
	}
}

// header reads a Shopify header; Go canonicalises names, so HTTP/2's
// lower-case names match too.
func header(r *http.Request, name string) string { return strings.TrimSpace(r.Header.Get(name)) }

// ServeHTTP implements the webhook endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sig := header(r, "X-Shopify-Hmac-Sha256")
	shop, known := h.cfg.Shops(header(r, "X-Shopify-Shop-Domain"))
	if sig == "" || !known {
		h.stats.unauthorized.Add(1)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.ContentLength > h.cfg.MaxBody {
		h.stats.tooLarge.Add(1)
		http.Error(w, fmt.Sprintf("body over %d bytes", h.cfg.MaxBody), http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.stats.tooLarge.Add(1)
			http.Error(w, fmt.Sprintf("body over %d bytes", h.cfg.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !VerifyHMAC(body, sig, shop.Secrets) {
		h.stats.unauthorized.Add(1)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}

	ev := store.WebhookEvent{
		Shop:        shop.Domain,
		Topic:       header(r, "X-Shopify-Topic"),
		WebhookID:   header(r, "X-Shopify-Webhook-Id"),
		EventID:     header(r, "X-Shopify-Event-Id"),
		APIVersion:  header(r, "X-Shopify-Api-Version"),
		TriggeredAt: header(r, "X-Shopify-Triggered-At"),
		ReceivedAt:  time.Now().UTC(),
		Body:        body,
		Status:      store.WebhookPending,
	}
	for name, v := range map[string]string{"X-Shopify-Webhook-Id": ev.WebhookID, "X-Shopify-Event-Id": ev.EventID, "X-Shopify-Topic": ev.Topic,
		"X-Shopify-Api-Version": ev.APIVersion, "X-Shopify-Triggered-At": ev.TriggeredAt} {
		if len(v) > maxHeader || !utf8.ValidString(v) {
			http.Error(w, name+" is not a valid header value", http.StatusBadRequest)
			return
		}
	}
	var problems []string
	if ev.WebhookID == "" {
		// Deduplicate on the content when the delivery id is missing.
		sum := sha256.Sum256(append([]byte(ev.Topic+"\n"), body...))
		ev.WebhookID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if ev.EventID == "" {
		ev.EventID = ev.WebhookID
	}
	ev.WebhookID, ev.EventID = dedupeKeys(ev.WebhookID, ev.EventID)
	if ev.Topic == "" {
		problems = append(problems, "missing X-Shopify-Topic header")
	}
	if len(problems) == 0 {
		if h.cfg.Decode != nil {
			if err := h.cfg.Decode(ev.Topic, body); errors.Is(err, ErrUnhandledTopic) {
				ev.Status = store.WebhookIgnored
				ev.Error = err.Error()
			} else if err != nil {
				problems = append(problems, "decode: "+err.Error())
			}
		}
	}
	if len(problems) > 0 {
		ev.Status = store.WebhookQuarantined
		ev.Error = strings.Join(problems, "; ")
	}

	p := &pending{ev: ev, done: make(chan result, 1)}
	unavailable := func(why string) {
		h.stats.failed.Add(1)
		http.Error(w, "temporarily unavailable: "+why, http.StatusServiceUnavailable)
	}
	// Wait at most commitWait: Shopify gives up after 5 s, and an answer that
	// is not 2xx makes it retry. Never answer 2xx without a commit.
	timeout := time.NewTimer(commitWait)
	defer timeout.Stop()
	select {
	case h.reqs <- p:
	case <-h.stopped:
		unavailable("shutting down")
		return
	case <-r.Context().Done():
		unavailable("request cancelled")
		return
	case <-timeout.C:
		unavailable("store busy")
		return
	}
	var res result
	select {
	case res = <-p.done:
	case <-h.stopped:
		// A 503 for a delivery committed just before the stop is safe:
		// Shopify retries and the retry is a duplicate.
		unavailable("shutting down")
		return
	case <-r.Context().Done():
		unavailable("request cancelled")
		return
	case <-timeout.C:
		unavailable("store busy")
		return
	}
	if res.err != nil {
		h.cfg.Logger.Error("webhook not stored", "topic", ev.Topic, "shop", ev.Shop, "err", res.err)
		unavailable("not stored")
		return
	}
	switch {
	case !res.inserted:
		h.stats.duplicates.Add(1)
	case ev.Status == store.WebhookQuarantined:
		h.stats.quarantined.Add(1)
	case ev.Status == store.WebhookIgnored:
		h.stats.ignored.Add(1)
	default:
		h.stats.accepted.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	if res.inserted {
		fmt.Fprintf(w, `{"stored":%d,"status":%q}`, res.id, ev.Status)
	} else {
		fmt.Fprint(w, `{"duplicate":true}`)
	}
}

// VerifyHMAC reports whether sig is the base64 HMAC-SHA256 of body under one
// of secrets. The comparison is constant-time.
func VerifyHMAC(body []byte, sig string, secrets []string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			return true
		}
	}
	return false
}

// Sign returns the X-Shopify-Hmac-Sha256 value for body under secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Run commits deliveries until ctx ends; deliveries still queued then are
// answered 503. Deliveries that arrive while a commit is in flight, or within
// batchWindow of the first, are committed together in one transaction.
func (h *Handler) Run(ctx context.Context) {
	defer func() {
		close(h.stopped)
		for {
			select {
			case p := <-h.reqs:
				p.done <- result{err: errors.New("ingest: stopped")}
			default:
				return
			}
		}
	}()
	batch := make([]*pending, 0, h.cfg.MaxBatch)
	window := time.NewTimer(0)
	<-window.C
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case p := <-h.reqs:
			batch = append(batch, p)
		}
		window.Reset(batchWindow)
	fill:
		for len(batch) < h.cfg.MaxBatch {
			select {
			case p := <-h.reqs:
				batch = append(batch, p)
			case <-window.C:
				break fill
			}
		}
		if !window.Stop() {
			select {
			case <-window.C:
			default:
			}
		}
		h.commitBatch(ctx, batch)
	}
}

// commitBatch commits a batch; if the transaction fails, each delivery is
// retried alone so that one bad delivery fails only itself.
func (h *Handler) commitBatch(ctx context.Context, batch []*pending) {
	results, err := h.commit(ctx, batch)
	if err == nil {
		for i, p := range batch {
			p.done <- results[i]
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- result{err: err}
		return
	}
	for _, p := range batch {
		r, err := h.commit(ctx, []*pending{p})
		if err != nil {
			p.done <- result{err: err}
		} else {
			p.done <- r[0]
		}
	}
}

const (
	// batchWindow is how long the committer waits for more deliveries to
	// share a transaction.
	batchWindow = time.Millisecond
	// commitWait bounds how long a request waits for its commit.
	commitWait = 4 * time.Second
	// maxHeader caps the id headers stored (Shopify's are UUIDs).
	maxHeader = 255
	// DrainPeriod is how often every shop's inbox is drained even without
	// a new delivery: the safety net for a delivery committed just as a
	// drain finished, and for rows left by a crash.
	DrainPeriod = time.Second
)

func (h *Handler) commit(ctx context.Context, batch []*pending) ([]result, error) {
	results := make([]result, len(batch))
	var queued []string
	err := h.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		drain := map[string]bool{}
		for i, p := range batch {
			id, ins, err := store.InsertWebhook(ctx, tx, &p.ev)
			if err != nil {
				return err
			}
			results[i] = result{id: id, inserted: ins}
			if !ins {
				continue
			}
			switch p.ev.Status {
			case store.WebhookPending:
				drain[p.ev.Shop] = true
			case store.WebhookQuarantined:
				if err := store.AddTimeline(ctx, tx, store.Entry{Shop: p.ev.Shop, Subject: store.WebhookSubject(id), At: p.ev.ReceivedAt,
					Source: store.SourceShopify, Kind: "quarantined",
					Message: fmt.Sprintf("%s delivery %s quarantined: %s", p.ev.Topic, p.ev.WebhookID, p.ev.Error)}); err != nil {
					return err
				}
			}
		}
		queued = queued[:0]
		for shop := range drain {
			if _, already := h.drainQueued.Load(shop); already {
				continue
			}
			if _, err := h.cfg.Inserter.InsertTx(ctx, tx.Tx, DrainArgs{Shop: shop}, nil); err != nil {
				return fmt.Errorf("ingest: enqueue drain: %w", err)
			}
			queued = append(queued, shop)
		}
		return nil
	})
	if err == nil {
		for _, shop := range queued {
			h.drainQueued.Store(shop, true)
		}
	}
	return results, err
}

// DrainStarted tells the handler that a drain of shop has started, so the
// next delivery enqueues a new one. A delivery committed in the instant
// between a drain's last read and this call waits for the periodic drain.
func (h *Handler) DrainStarted(shop string) { h.drainQueued.Delete(shop) }

// DrainArgs is the job that processes a shop's pending webhooks. Drains are
// not unique: each committed batch of deliveries enqueues one, and a drain
// claims its rows inside its own transaction, so concurrent drains never
// process a row twice and a drain left running by a crashed process blocks
// nothing.
type DrainArgs struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (DrainArgs) Kind() string { return "inbox.drain" }
