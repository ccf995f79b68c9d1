package shopifysim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crossdock/crossdock/internal/shopifyschema"
)

// APIVersion is the only Admin API version the simulator serves.
const APIVersion = shopifyschema.Version

// GraphQLPath is the Admin GraphQL endpoint path served by the simulator.
const GraphQLPath = "/admin/api/" + APIVersion + "/graphql.json"

// Defaults applied by New when the corresponding Config field is zero.
const (
	DefaultBucketSize         = 2000.0 // points
	DefaultRestoreRate        = 100.0  // points per second (Standard plan)
	DefaultMaxQueryCost       = 1000   // single-query limit
	DefaultWebhookRetries     = 8
	DefaultWebhookWorkers     = 8
	DefaultWebhookRetryDelay  = time.Second
	DefaultWebhookConnTimeout = time.Second
	DefaultWebhookTimeout     = 5 * time.Second
	maxBodyBytes              = 8 << 20
	maxInputArray             = 250
	maxFulfillmentLineItems   = 512
	invalidTokenMessage       = "[API] Invalid API key or access token (unrecognized login or wrong password)"
)

// Faults are the fault-injection knobs. Every rate is a probability in
// [0, 1], drawn from the server's seeded random source.
type Faults struct {
	// HTTP429Rate answers a GraphQL request with HTTP 429 and Retry-After: 1.
	HTTP429Rate float64 `json:"http429Rate"`
	// HTTP5xxRate answers a GraphQL request with HTTP 503.
	HTTP5xxRate float64 `json:"http5xxRate"`
	// WebhookDuplicateRate delivers a webhook twice, with the same
	// X-Shopify-Event-Id. Half of the duplicates reuse the
	// X-Shopify-Webhook-Id (a redelivery), half get a new one (fan-out).
	WebhookDuplicateRate float64 `json:"webhookDuplicateRate"`
	// WebhookReorderRate holds a delivery back 50-500 ms so that later
	// events overtake it.
	WebhookReorderRate float64 `json:"webhookReorderRate"`
	// WebhookDropRate never delivers a webhook.
	WebhookDropRate float64 `json:"webhookDropRate"`
}

func (f Faults) validate() error {
	for name, v := range map[string]float64{
		"http429Rate": f.HTTP429Rate, "http5xxRate": f.HTTP5xxRate,
		"webhookDuplicateRate": f.WebhookDuplicateRate, "webhookReorderRate": f.WebhookReorderRate,
		"webhookDropRate": f.WebhookDropRate,
	} {
		if v < 0 || v > 1 || v != v {
			return fmt.Errorf("%s must be between 0 and 1, got %v", name, v)
		}
	}
	return nil
}

// SubscriptionConfig is a webhook subscription declared in the app
// configuration rather than created through the API. Such subscriptions
// are never removed after failed deliveries.
type SubscriptionConfig struct {
	// Topic is the GraphQL enum value (ORDERS_CREATE) or the REST topic
	// (orders/create).
	Topic string `json:"topic"`
	// URI is the http(s) endpoint deliveries are POSTed to.
	URI string `json:"uri"`
}

// Config configures a Server. Zero values select the documented defaults.
type Config struct {
	// ShopDomain is the shop's myshopify domain, e.g. "demo.myshopify.com".
	ShopDomain string
	// ShopName is Shop.name; derived from ShopDomain when empty.
	ShopName string
	// AccessToken is the value X-Shopify-Access-Token must carry.
	AccessToken string
	// WebhookSecret is the app's client secret; webhooks are signed with it.
	WebhookSecret string
	// BucketSize is the leaky bucket's capacity in cost points (default 2000).
	BucketSize float64
	// RestoreRate is the bucket's leak rate in points per second (default 100).
	RestoreRate float64
	// MaxQueryCost refuses single queries above this requested cost
	// (default 1000).
	MaxQueryCost int
	// Faults are the initial fault-injection rates; see also POST /_sim/faults.
	Faults
	// Seed seeds the random source used for faults and generated UUIDs.
	Seed uint64
	// WebhookRetries is the number of retries after a failed delivery
	// (default 8; negative disables retries).
	WebhookRetries int
	// WebhookRetryBaseDelay is the first retry delay; later retries double
	// it (default 1 s).
	WebhookRetryBaseDelay time.Duration
	// WebhookWorkers is the number of concurrent delivery workers (default 8).
	WebhookWorkers int
	// WebhookConnectTimeout bounds connection setup (default 1 s). It only
	// applies to the default HTTP client.
	WebhookConnectTimeout time.Duration
	// WebhookTimeout bounds one delivery attempt (default 5 s).
	WebhookTimeout time.Duration
	// Subscriptions are app-configuration subscriptions present from the start.
	Subscriptions []SubscriptionConfig
	// Now is the clock (default time.Now). It drives the throttle bucket
	// and all timestamps; webhook delays use real time.
	Now func() time.Time
	// HTTPClient delivers webhooks (default: a client with the connect and
	// total timeouts above that does not follow redirects).
	HTTPClient *http.Client
	// Logger receives operational logs (default: discard).
	Logger *slog.Logger
}

// Server is an in-memory Shopify shop speaking the Admin GraphQL API. It
// implements http.Handler. Create it with New and stop it with Close.
type Server struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	schema *ast.Schema
	docs   docCache

	faultsMu sync.Mutex
	faults   Faults

	rngMu sync.Mutex
	rng   *rand.Rand

	bucketMu   sync.Mutex
	bucketLeft float64
	bucketAt   time.Time

	mu sync.RWMutex
	st *state

	ctr  counters
	wh   *dispatcher
	bulk bulkState
}

type counters struct {
	requests, throttled, maxCost, injected429, injected5xx           atomic.Int64
	whEvents, whSent, whAttempts, whDuplicated, whDropped, whDelayed atomic.Int64
	whRetried, whFailed, subsRemoved                                 atomic.Int64
	rejectedOverfulfillments, duplicateTracking                      atomic.Int64
	trackingUpdates                                                  atomic.Int64
	sentByTopic                                                      sync.Map // REST topic → *atomic.Int64
	pointsCharged                                                    atomic.Int64
}

// New creates a simulator for one shop. It panics if the embedded schema
// cannot be loaded (a build defect), a fault rate is out of range or a
// Config.Subscriptions topic is unknown.
func New(cfg Config) *Server {
	sch, err := shopifyschema.Load()
	if err != nil {
		panic(err)
	}
	if cfg.ShopDomain == "" {
		cfg.ShopDomain = "crossdock-demo.myshopify.com"
	}
	if cfg.ShopName == "" {
		cfg.ShopName = strings.TrimSuffix(cfg.ShopDomain, ".myshopify.com")
	}
	if cfg.BucketSize <= 0 {
		cfg.BucketSize = DefaultBucketSize
	}
	if cfg.RestoreRate <= 0 {
		cfg.RestoreRate = DefaultRestoreRate
	}
	if cfg.MaxQueryCost <= 0 {
		cfg.MaxQueryCost = DefaultMaxQueryCost
	}
	if cfg.WebhookRetries == 0 {
		cfg.WebhookRetries = DefaultWebhookRetries
	} else if cfg.WebhookRetries < 0 {
		cfg.WebhookRetries = 0
	}
	if cfg.WebhookRetryBaseDelay <= 0 {
		cfg.WebhookRetryBaseDelay = DefaultWebhookRetryDelay
	}
	if cfg.WebhookWorkers <= 0 {
		cfg.WebhookWorkers = DefaultWebhookWorkers
	}
	if cfg.WebhookConnectTimeout <= 0 {
		cfg.WebhookConnectTimeout = DefaultWebhookConnTimeout
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = DefaultWebhookTimeout
	}
	if err := cfg.Faults.validate(); err != nil {
		panic("shopifysim: " + err.Error())
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		now:    cfg.Now,
		schema: sch,
		faults: cfg.Faults,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.docs.init(1024)
	s.bucketLeft = cfg.BucketSize
	s.bucketAt = s.now()
	s.st = newState(s.now().UTC(), cfg.ShopName)
	for _, sc := range cfg.Subscriptions {
		topic, ok := normalizeTopic(sc.Topic)
		if !ok {
			panic("shopifysim: unknown webhook topic " + sc.Topic)
		}
		s.st.addSubscription(topic, sc.URI, "JSON", false, s.now().UTC())
	}
	s.wh = newDispatcher(s)
	return s
}

// Close stops webhook delivery: queued and scheduled deliveries are
// abandoned and in-flight attempts are cancelled. It then refuses new bulk
// queries, waits for running ones (held ones end CANCELED) and removes
// their result files. It is safe to call twice.
func (s *Server) Close() {
	s.wh.close()
	s.closeBulk()
}

// WaitWebhooks blocks until no webhook delivery is queued, in flight or
// scheduled for a retry or delayed delivery, or until ctx ends.
func (s *Server) WaitWebhooks(ctx context.Context) error { return s.wh.waitIdle(ctx) }

// SetFaults replaces the fault-injection rates.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
	return nil
}

// Faults returns the current fault-injection rates.
func (s *Server) Faults() Faults {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.faults
}

// roll draws from the seeded source and reports whether an event of
// probability p happens.
func (s *Server) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.rngMu.Lock()
	v := s.rng.Float64()
	s.rngMu.Unlock()
	return v < p
}

func (s *Server) randIntN(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// uuid returns a version-4 UUID drawn from the seeded source.
func (s *Server) uuid() string {
	s.rngMu.Lock()
	a, b := s.rng.Uint64(), s.rng.Uint64()
	s.rngMu.Unlock()
	var u [16]byte
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

// ServeHTTP serves the GraphQL endpoint and the /_sim control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == GraphQLPath:
		s.noteOrigin(r)
		s.serveGraphQL(w, r)
	case strings.HasPrefix(p, bulkPathPrefix):
		s.serveBulkFile(w, r)
	case strings.HasPrefix(p, "/admin/api/"):
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
	case p == "/_sim/faults":
		s.serveFaults(w, r)
	case p == "/_sim/products":
		s.serveProducts(w, r)
	case p == "/_sim/state":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		writeJSON(w, http.StatusOK, s.Snapshot())
	case p == "/_sim/stats":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "Method Not Allowed"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type faultsPatch struct {
	HTTP429Rate          *float64 `json:"http429Rate"`
	HTTP5xxRate          *float64 `json:"http5xxRate"`
	WebhookDuplicateRate *float64 `json:"webhookDuplicateRate"`
	WebhookReorderRate   *float64 `json:"webhookReorderRate"`
	WebhookDropRate      *float64 `json:"webhookDropRate"`
}

func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Faults())
	case http.MethodPost, http.MethodPut:
		var p faultsPatch
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "invalid faults JSON: " + err.Error()})
			return
		}
		s.faultsMu.Lock()
		f := s.faults
		for _, x := range []struct {
			src *float64
			dst *float64
		}{
			{p.HTTP429Rate, &f.HTTP429Rate}, {p.HTTP5xxRate, &f.HTTP5xxRate},
			{p.WebhookDuplicateRate, &f.WebhookDuplicateRate}, {p.WebhookReorderRate, &f.WebhookReorderRate},
			{p.WebhookDropRate, &f.WebhookDropRate},
		} {
			if x.src != nil {
				*x.dst = *x.src
			}
		}
		if err := f.validate(); err != nil {
			s.faultsMu.Unlock()
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": err.Error()})
			return
		}
		s.faults = f
		s.faultsMu.Unlock()
		writeJSON(w, http.StatusOK, f)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func (s *Server) serveProducts(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Products())
	case http.MethodPost:
		var in []ProductInput
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "invalid products JSON: " + err.Error()})
			return
		}
		out, err := s.AddProducts(in)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, out)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// takeFromBucket applies the leaky bucket: it refills the bucket for the
// time elapsed and, if requested points are available, deducts them. It
// returns whether the request may run and the status after the decision.
func (s *Server) takeFromBucket(requested int) (bool, throttleStatus) {
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	s.refillLocked()
	ok := float64(requested) <= s.bucketLeft
	if ok {
		s.bucketLeft -= float64(requested)
	}
	return ok, s.statusLocked()
}

// refund returns unused points after execution.
func (s *Server) refund(points int) throttleStatus {
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	s.refillLocked()
	if points > 0 {
		s.bucketLeft = min(s.cfg.BucketSize, s.bucketLeft+float64(points))
	}
	return s.statusLocked()
}

func (s *Server) refillLocked() {
	now := s.now()
	if el := now.Sub(s.bucketAt).Seconds(); el > 0 {
		s.bucketLeft = min(s.cfg.BucketSize, s.bucketLeft+el*s.cfg.RestoreRate)
		s.bucketAt = now
	}
}

func (s *Server) statusLocked() throttleStatus {
	return throttleStatus{MaximumAvailable: s.cfg.BucketSize, CurrentlyAvailable: float64(int(s.bucketLeft)), RestoreRate: s.cfg.RestoreRate}
}

type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}
