package shopifysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// subRef is the subscription an event was fanned out to, captured when
// the event fired (retries go to that address).
type subRef struct {
	id     int64
	uri    string
	viaAPI bool
}

// event is one merchant action's webhook, shared by all its deliveries.
type event struct {
	topic string // REST form, e.g. orders/create
	id    string // X-Shopify-Event-Id
	at    time.Time
	body  []byte
	hmac  string
	subs  []subRef
}

// delivery is one POST of an event to one subscription.
type delivery struct {
	ev        *event
	sub       subRef
	webhookID string
	attempt   int // retries already made
}

// topicEnum converts orders/create to ORDERS_CREATE.
func topicEnum(rest string) string {
	return strings.ToUpper(strings.NewReplacer("/", "_").Replace(rest))
}

// normalizeTopic accepts a GraphQL enum value or a REST topic and returns
// the enum value if the schema knows it.
func normalizeTopic(t string) (string, bool) {
	e := topicEnum(t)
	s, err := shopifyschema.Load()
	if err != nil {
		return "", false
	}
	def := s.Types["WebhookSubscriptionTopic"]
	if def == nil || def.EnumValues.ForName(e) == nil {
		return "", false
	}
	return e, true
}

// emit queues a webhook for topic if anyone subscribes to it. build runs
// under the state lock and must return a value that json.Marshal accepts.
func (x *execCtx) emit(topic string, build func() any) {
	enum := topicEnum(topic)
	var subs []subRef
	for _, s := range x.st.subs {
		if s.topic == enum {
			subs = append(subs, subRef{id: s.id, uri: s.uri, viaAPI: s.viaAPI})
		}
	}
	if len(subs) == 0 {
		return
	}
	body, err := json.Marshal(build())
	if err != nil {
		x.s.log.Error("shopifysim: webhook payload", "topic", topic, "err", err)
		return
	}
	x.events = append(x.events, &event{topic: topic, at: x.s.now().UTC(), body: body, subs: subs})
}

func (x *execCtx) emitOrder(topic string, o *order) {
	x.emit(topic, func() any { return x.orderPayload(o) })
}

func (x *execCtx) emitLevel(lv *invLevel) {
	x.emit("inventory_levels/update", func() any {
		return map[string]any{
			"inventory_item_id":    lv.item.id,
			"location_id":          lv.loc.id,
			"available":            lv.q.available,
			"updated_at":           restTime(lv.updatedAt),
			"admin_graphql_api_id": lv.gid(),
		}
	})
}

// emit fans events out to deliveries, applying the webhook faults. It
// runs after the state lock is released.
func (s *Server) emit(events []*event) {
	if len(events) == 0 {
		return
	}
	f := s.Faults()
	for _, ev := range events {
		ev.id = s.uuid()
		mac := hmac.New(sha256.New, []byte(s.cfg.WebhookSecret))
		mac.Write(ev.body)
		ev.hmac = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		s.ctr.whEvents.Add(1)
		for _, sub := range ev.subs {
			if s.roll(f.WebhookDropRate) {
				s.ctr.whDropped.Add(1)
				continue
			}
			d := &delivery{ev: ev, sub: sub, webhookID: s.uuid()}
			var delay time.Duration
			if s.roll(f.WebhookReorderRate) {
				delay = time.Duration(50+s.randIntN(451)) * time.Millisecond
				s.ctr.whDelayed.Add(1)
			}
			s.wh.add(d, delay)
			if s.roll(f.WebhookDuplicateRate) {
				s.ctr.whDuplicated.Add(1)
				dup := &delivery{ev: ev, sub: sub, webhookID: d.webhookID} // a redelivery
				if s.randIntN(2) == 1 {
					dup.webhookID = s.uuid() // a second fan-out delivery
				}
				s.wh.add(dup, delay+time.Duration(5+s.randIntN(200))*time.Millisecond)
			}
		}
	}
}

type dispatcher struct {
	s       *Server
	client  *http.Client
	own     *http.Transport
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*delivery
	pending int
	idleCh  chan struct{}
	timers  map[*time.Timer]struct{}
	closed  bool
}

func newDispatcher(s *Server) *dispatcher {
	d := &dispatcher{s: s, client: s.cfg.HTTPClient, timers: map[*time.Timer]struct{}{}, idleCh: make(chan struct{})}
	close(d.idleCh)
	d.cond = sync.NewCond(&d.mu)
	d.ctx, d.cancel = context.WithCancel(context.Background())
	if d.client == nil {
		d.own = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: s.cfg.WebhookConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   s.cfg.WebhookWorkers * 2,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   s.cfg.WebhookTimeout,
			ResponseHeaderTimeout: s.cfg.WebhookTimeout,
		}
		d.client = &http.Client{
			Transport:     d.own,
			Timeout:       s.cfg.WebhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	for range s.cfg.WebhookWorkers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// add queues a delivery now or after delay.
func (d *dispatcher) add(dl *delivery, delay time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.pending == 0 {
		d.idleCh = make(chan struct{})
	}
	d.pending++
	if delay <= 0 {
		d.queue = append(d.queue, dl)
		d.cond.Signal()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		delete(d.timers, t)
		if d.closed {
			return
		}
		d.queue = append(d.queue, dl)
		d.cond.Signal()
	})
	d.timers[t] = struct{}{}
}

func (d *dispatcher) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.pending--
	if d.pending == 0 {
		close(d.idleCh)
	}
}

func (d *dispatcher) work() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if d.closed {
			d.mu.Unlock()
			return
		}
		dl := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		d.deliver(dl)
	}
}

func (d *dispatcher) deliver(dl *delivery) {
	s := d.s
	if d.attempt(dl) {
		s.ctr.whSent.Add(1)
		n, _ := s.ctr.sentByTopic.LoadOrStore(dl.ev.topic, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		d.done()
		return
	}
	if d.ctx.Err() != nil {
		d.done()
		return
	}
	if dl.attempt < s.cfg.WebhookRetries {
		s.ctr.whRetried.Add(1)
		next := *dl
		next.attempt++
		delay := s.cfg.WebhookRetryBaseDelay << dl.attempt
		if delay > time.Hour || delay <= 0 {
			delay = time.Hour
		}
		d.add(&next, delay)
		d.done()
		return
	}
	s.ctr.whFailed.Add(1)
	s.log.Warn("shopifysim: webhook delivery failed permanently", "topic", dl.ev.topic, "uri", dl.sub.uri, "webhook_id", dl.webhookID, "attempts", dl.attempt+1)
	if dl.sub.viaAPI {
		s.mu.Lock()
		removed := s.st.removeSubscription(dl.sub.id)
		s.mu.Unlock()
		if removed {
			s.ctr.subsRemoved.Add(1)
			s.log.Warn("shopifysim: removed webhook subscription after persistent delivery failures", "subscription", gid("WebhookSubscription", dl.sub.id), "uri", dl.sub.uri)
		}
	}
	d.done()
}

func (d *dispatcher) attempt(dl *delivery) bool {
	s := d.s
	s.ctr.whAttempts.Add(1)
	ctx, cancel := context.WithTimeout(d.ctx, s.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.sub.uri, bytes.NewReader(dl.ev.body))
	if err != nil {
		return false
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", dl.ev.topic)
	h.Set("X-Shopify-Hmac-Sha256", dl.ev.hmac)
	h.Set("X-Shopify-Shop-Domain", s.cfg.ShopDomain)
	h.Set("X-Shopify-API-Version", APIVersion)
	h.Set("X-Shopify-Webhook-Id", dl.webhookID)
	h.Set("X-Shopify-Event-Id", dl.ev.id)
	h.Set("X-Shopify-Triggered-At", dl.ev.at.Format(time.RFC3339Nano))
	resp, err := d.client.Do(req)
	if err != nil {
		s.log.Debug("shopifysim: webhook attempt failed", "topic", dl.ev.topic, "uri", dl.sub.uri, "err", err)
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s.log.Debug("shopifysim: webhook attempt rejected", "topic", dl.ev.topic, "uri", dl.sub.uri, "status", resp.StatusCode)
		return false
	}
	return true
}

func (d *dispatcher) waitIdle(ctx context.Context) error {
	for {
		d.mu.Lock()
		if d.pending == 0 || d.closed {
			d.mu.Unlock()
			return nil
		}
		ch := d.idleCh
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *dispatcher) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	for t := range d.timers {
		t.Stop()
	}
	d.timers = nil
	d.queue = nil
	if d.pending > 0 {
		d.pending = 0
		close(d.idleCh)
	}
	d.cond.Broadcast()
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	if d.own != nil {
		d.own.CloseIdleConnections()
	}
}
