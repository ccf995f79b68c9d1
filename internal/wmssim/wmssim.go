// Package wmssim simulates a warehouse (WMS or 3PL) that speaks crossdock's
// generic REST/JSON WMS protocol, described in api/wms-openapi.yaml.
//
// A Server is an http.Handler. Orders posted to it move through
// received → acknowledged → picking → packed → shipped, each step after a
// configurable delay, and every step appends an event to the polling feed
// (GET /v1/events). With PartialShipRate, an order of two units or more may
// ship in two shipments: packed → partially_shipped (a first shipped event
// with part of the units) → shipped (a second shipped event, ShipDelay
// later, with the rest). Each shipment has its own id, packages and
// tracking numbers. partially_shipped is the simulator's own state (Orders,
// GET /_sim/state); on the protocol (GET /v1/orders/{ref}, a create replay)
// such an order still reads packed, with its first shipment listed, since
// the protocol's shipped means fully shipped. Steps are kept in a heap ordered by due time and run by a
// single goroutine (Start) or on demand (Tick, Settle), so thousands of
// orders cost O(log n) per step.
//
// Stock: the simulator keeps on_hand and allocated units per SKU; available
// is on_hand − allocated. An order is allocated all or nothing when it is
// acknowledged. An order that cannot be filled completely (a SKU unknown to
// the warehouse or short) is still accepted and acknowledged, then waits as
// backordered, holding no stock, until SetStock (or POST /_sim/stock) brings
// enough units; waiting orders are retried oldest first. Each shipment
// decrements on_hand and releases the allocation of the units it carries.
//
// Item master: Config.Items, SetItems or POST /_sim/items set the articles
// the warehouse knows (code, description, barcodes, UOM, pack size,
// active), served by GET /v1/items; a stocked SKU missing from it is listed
// as an active "EA" item of its own code.
//
// Returns: POST /v1/returns records an expected return (idempotent on
// return_id); ReceiveReturn records what came back and in which condition,
// publishes return_received, puts restockable units back on hand and keeps
// damaged ones aside (Damaged), never available (returns.go).
//
// Faults (Down, Throttle, Latency, DuplicateEventRate) and the
// MultiPackageRate and PartialShipRate knobs can be changed at run time with
// setters or POST /_sim/faults. The /_sim/ endpoints are a test
// control plane: they need no token and ignore faults.
package wmssim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Default step delays, used when the corresponding Config field is zero.
const (
	DefaultAckDelay  = 50 * time.Millisecond
	DefaultPickDelay = 50 * time.Millisecond
	DefaultPackDelay = 50 * time.Millisecond
	DefaultShipDelay = 100 * time.Millisecond
)

// Carrier is a carrier the simulated warehouse ships with.
type Carrier struct {
	// Name is the carrier's name, e.g. "Colissimo". An order whose
	// ShippingMethod contains it (case-insensitively) ships with it;
	// other orders get a carrier at random.
	Name string `json:"name"`
	// Service is the carrier service reported on packages.
	Service string `json:"service,omitempty"`
	// TrackingPrefix starts every tracking number, e.g. "6A".
	TrackingPrefix string `json:"tracking_prefix,omitempty"`
	// TrackingDigits is the number of digits after the prefix (default 10).
	TrackingDigits int `json:"tracking_digits,omitempty"`
	// TrackingURL is a template in which "{tracking}" is replaced by the
	// tracking number.
	TrackingURL string `json:"tracking_url,omitempty"`
}

// DefaultCarriers are used when Config.Carriers is empty.
var DefaultCarriers = []Carrier{
	{Name: "Colissimo", Service: "Domicile", TrackingPrefix: "6A", TrackingDigits: 11,
		TrackingURL: "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"},
	{Name: "DHL Express", Service: "Express Worldwide", TrackingDigits: 10,
		TrackingURL: "https://www.dhl.com/fr-en/home/tracking.html?tracking-id={tracking}"},
	{Name: "UPS", Service: "Standard", TrackingPrefix: "1Z999AA1", TrackingDigits: 10,
		TrackingURL: "https://www.ups.com/track?tracknum={tracking}"},
}

// Faults are the failures the simulator injects.
type Faults struct {
	// Down makes every /v1 call answer 503.
	Down bool
	// Throttle makes every /v1 call answer 429.
	Throttle bool
	// Latency delays every /v1 answer.
	Latency time.Duration
	// RetryAfter is sent as the Retry-After header (whole seconds, rounded
	// up) with 503 and 429 answers. Zero omits it on 503 and sends 1 s on
	// 429.
	RetryAfter time.Duration
	// DuplicateEventRate is the probability, in [0, 1], that a published
	// event appears twice in the feed.
	DuplicateEventRate float64
}

// Config configures a Server. Zero values select defaults.
type Config struct {
	// Name names the warehouse, e.g. "paris"; it prefixes every id the
	// warehouse issues. Default "sim".
	Name string
	// Token is the bearer token /v1 calls must present. Empty disables
	// authentication.
	Token string
	// AckDelay, PickDelay, PackDelay and ShipDelay are the durations of
	// the steps received → acknowledged → picking → packed → shipped.
	AckDelay, PickDelay, PackDelay, ShipDelay time.Duration
	// Carriers to ship with; default DefaultCarriers.
	Carriers []Carrier
	// MultiPackageRate is the fraction of orders, in [0, 1], shipped in 2
	// or 3 packages (each with its own tracking number) when they have
	// enough units.
	MultiPackageRate float64
	// PartialShipRate is the fraction of orders, in [0, 1], with at least
	// two units that ship in two shipments: the first carries part of the
	// units (a random cut, in line order), the second the rest, ShipDelay
	// later.
	PartialShipRate float64
	// CarrierEventRate is the fraction of shipments, in [0, 1], whose
	// carrier then reports in transit, out for delivery and delivered
	// (EventCarrier), CarrierEventDelay apart (default 400ms).
	CarrierEventRate  float64
	CarrierEventDelay time.Duration
	// DeliveryFailureRate is the fraction of those whose delivery fails
	// instead (an attempted delivery, then a failure).
	DeliveryFailureRate float64
	// TrackingUpdateRate is the fraction of shipments whose first parcel
	// is relabelled with a new tracking number after shipping
	// (EventTrackingUpdated).
	TrackingUpdateRate float64
	// Seed seeds the math/rand/v2 source used for carriers, packages,
	// partial shipments and duplicate events.
	Seed uint64
	// Now is the clock; default time.Now. With a ManualClock, drive the
	// simulator with Tick or Settle rather than Start.
	Now func() time.Time
	// Stock is the initial on-hand quantity per SKU.
	Stock map[string]int
	// Items is the initial item master (see SetItems); a stocked SKU
	// missing from it is listed as an active "EA" item of its own code.
	// New panics on an empty or repeated code.
	Items []connector.Item
	// Faults are the initial faults.
	Faults Faults
}

// State is the state of a simulated warehouse order.
type State string

// The states of a warehouse order, in order; cancelled is reachable from
// received and acknowledged only. partially_shipped (some units shipped, the
// rest to follow) is skipped by orders that ship in one shipment, and is
// reported as packed on the protocol (see wireState).
const (
	StateReceived         State = "received"
	StateAcknowledged     State = "acknowledged"
	StatePicking          State = "picking"
	StatePacked           State = "packed"
	StatePartiallyShipped State = "partially_shipped"
	StateShipped          State = "shipped"
	StateCancelled        State = "cancelled"
)

// wireState is the protocol's status of an order in state st: the
// protocol's enum has no partially_shipped, and its shipped means every unit
// shipped, so a partially shipped order reads packed (its shipments are
// listed with it).
func wireState(st State) State {
	if st == StatePartiallyShipped {
		return StatePacked
	}
	return st
}

// Shortage is a SKU an order could not be allocated.
type Shortage struct {
	SKU       string `json:"sku"`
	Needed    int    `json:"needed"`
	Available int    `json:"available"`
}

// OrderState is the simulator's view of one warehouse order.
type OrderState struct {
	ExternalRef string `json:"external_ref"`
	WMSOrderID  string `json:"wms_order_id"`
	// OrderID is the Shopify order GID from the WarehouseOrder.
	OrderID   string `json:"order_id"`
	OrderName string `json:"order_name,omitempty"`
	State     State  `json:"state"`
	// Backordered is true while the order waits for stock.
	Backordered bool `json:"backordered,omitempty"`
	// Shortages are the SKUs missing at the last failed allocation.
	Shortages []Shortage       `json:"shortages,omitempty"`
	Lines     []order.Line     `json:"lines"`
	Shipments []order.Shipment `json:"shipments,omitempty"`
	Times     OrderTimes       `json:"times"`
	// Request is the warehouse order as first received.
	Request order.WarehouseOrder `json:"-"`
}

// OrderTimes are the simulator-clock times of an order's transitions; a
// zero time means the transition has not happened. ShippedAt − ReceivedAt is
// the warehouse's share of end-to-end latency.
type OrderTimes struct {
	ReceivedAt     time.Time `json:"received_at,omitzero"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	BackorderedAt  time.Time `json:"backordered_at,omitzero"`
	PickingAt      time.Time `json:"picking_at,omitzero"`
	PackedAt       time.Time `json:"packed_at,omitzero"`
	// PartiallyShippedAt is the time of the first of two shipments.
	PartiallyShippedAt time.Time `json:"partially_shipped_at,omitzero"`
	// ShippedAt is the time the last unit shipped.
	ShippedAt   time.Time `json:"shipped_at,omitzero"`
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
}

// StockItem is the simulator's stock of one SKU.
type StockItem struct {
	SKU       string `json:"sku"`
	OnHand    int    `json:"on_hand"`
	Allocated int    `json:"allocated"`
	// Available is max(0, OnHand − Allocated).
	Available int `json:"available"`
}

// Stats are counters since the simulator was created.
type Stats struct {
	CreateCalls      int `json:"create_calls"`       // POST /v1/orders that passed auth
	OrdersReceived   int `json:"orders_received"`    // distinct orders created
	IdempotentReplay int `json:"idempotent_replays"` // creates answered created=false
	Conflicts        int `json:"conflicts"`          // same ref, different lines (409)
	Rejected         int `json:"rejected"`           // invalid orders (400, 422)
	Backordered      int `json:"backordered"`        // orders that had to wait for stock
	Shipped          int `json:"shipped"`            // orders fully shipped
	PartiallyShipped int `json:"partially_shipped"`  // orders whose first of two shipments left
	Shipments        int `json:"shipments"`
	Packages         int `json:"packages"`
	Cancelled        int `json:"cancelled"`
	CancelRejected   int `json:"cancel_rejected"`
	EventsPublished  int `json:"events_published"` // distinct events
	DuplicateEvents  int `json:"duplicate_events"` // extra copies injected
	FaultedCalls     int `json:"faulted_calls"`    // calls answered 503 or 429 by a fault
	Unauthorized     int `json:"unauthorized"`
	CarrierEvents    int `json:"carrier_events"`    // carrier events published
	DeliveryFailures int `json:"delivery_failures"` // shipments whose delivery fails
	TrackingUpdates  int `json:"tracking_updates"`  // shipments relabelled after shipping
}

// Server is a simulated warehouse. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	now      func() time.Time
	carriers []Carrier
	handler  http.Handler

	mu        sync.Mutex
	rng       *rand.Rand
	faults    Faults
	multiRate float64
	partRate  float64
	orders    map[string]*simOrder
	bySeq     []*simOrder
	queue     stepHeap
	stepSeq   uint64
	// carrierQueue holds carrier events and tracking changes to publish,
	// in due order.
	carrierQueue []carrierStep
	// shortShelf holds the SKUs on the books but not on the shelf
	// (SetShortOnShelf, Restock).
	shortShelf map[string]bool
	backorders []*simOrder
	feed       []connector.Event
	stock      map[string]*stockRec
	items      map[string]connector.Item // explicit item master by code
	itemList   []connector.Item          // Items' sorted result; nil after a change
	stats      Stats
	rets       returnBook // returns.go
	eventSeq   int
	shipSeq    int
	pkgSeq     int

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	started   bool
	closed    bool
	closeOnce sync.Once
}

type stockRec struct{ onHand, allocated int }

type simOrder struct {
	wo          order.WarehouseOrder
	id          string
	seq         int
	state       State
	allocated   bool
	backordered bool
	shortages   []Shortage
	shipments   []order.Shipment
	times       OrderTimes
}

// New returns a simulator. Call Start to process orders in real time, or
// drive it with Tick or Settle.
func New(cfg Config) *Server {
	if cfg.Name == "" {
		cfg.Name = "sim"
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{&cfg.AckDelay, DefaultAckDelay}, {&cfg.PickDelay, DefaultPickDelay}, {&cfg.PackDelay, DefaultPackDelay}, {&cfg.ShipDelay, DefaultShipDelay}} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	s := &Server{
		cfg:       cfg,
		now:       cfg.Now,
		carriers:  slices.Clone(cfg.Carriers),
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		faults:    cfg.Faults,
		multiRate: cfg.MultiPackageRate,
		partRate:  cfg.PartialShipRate,
		orders:    map[string]*simOrder{},
		stock:     map[string]*stockRec{},
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(s.carriers) == 0 {
		s.carriers = slices.Clone(DefaultCarriers)
	}
	for sku, n := range cfg.Stock {
		s.stock[sku] = &stockRec{onHand: max(n, 0)}
	}
	if err := s.SetItems(cfg.Items); err != nil {
		panic("wmssim: " + err.Error())
	}
	s.handler = s.routes()
	return s
}

// Name returns the warehouse name.
func (s *Server) Name() string { return s.cfg.Name }

// clock returns the current simulator time in UTC without a monotonic
// reading, so that times survive a JSON round trip unchanged.
func (s *Server) clock() time.Time { return s.now().UTC() }

// Start starts the goroutine that runs steps when they are due. It is a
// no-op if already started or closed.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	go s.loop()
}

// Close stops the processing goroutine and waits for it. It is idempotent.
// The handler keeps answering; orders simply stop advancing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		started := s.started
		s.mu.Unlock()
		close(s.stop)
		if started {
			<-s.done
		}
	})
}

func (s *Server) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.Tick()
		wait := time.Hour
		if next, ok := s.NextDue(); ok {
			wait = max(next.Sub(s.now()), 0)
		}
		timer.Reset(wait)
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Tick runs every step due at the current time and returns how many ran.
func (s *Server) Tick() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runDue(s.clock())
}

// NextDue returns the due time of the earliest scheduled step.
func (s *Server) NextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	if len(s.queue) > 0 {
		next = s.queue[0].due
	}
	if len(s.carrierQueue) > 0 && (next.IsZero() || s.carrierQueue[0].due.Before(next)) {
		next = s.carrierQueue[0].due
	}
	return next, !next.IsZero()
}

// Settle runs every scheduled step in due order, setting clock to each
// step's due time (never backwards), until nothing is scheduled; orders
// waiting for stock stay waiting. It returns the number of steps run. Use it
// with a simulator whose Config.Now is clock.Now and that is not started.
func (s *Server) Settle(clock *ManualClock) int {
	n := 0
	for {
		next, ok := s.NextDue()
		if !ok {
			return n
		}
		if next.After(clock.Now()) {
			clock.Set(next)
		}
		n += s.Tick()
	}
}

// SetFaults replaces all faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the current faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetDown sets Faults.Down.
func (s *Server) SetDown(down bool) { s.updateFaults(func(f *Faults) { f.Down = down }) }

// SetThrottle sets Faults.Throttle.
func (s *Server) SetThrottle(on bool) { s.updateFaults(func(f *Faults) { f.Throttle = on }) }

// SetLatency sets Faults.Latency.
func (s *Server) SetLatency(d time.Duration) { s.updateFaults(func(f *Faults) { f.Latency = d }) }

// SetDuplicateEventRate sets Faults.DuplicateEventRate.
func (s *Server) SetDuplicateEventRate(r float64) {
	s.updateFaults(func(f *Faults) { f.DuplicateEventRate = r })
}

func (s *Server) updateFaults(fn func(*Faults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.faults)
}

// SetMultiPackageRate sets the fraction of orders shipped in several
// packages.
func (s *Server) SetMultiPackageRate(r float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.multiRate = r
}

// SetPartialShipRate sets the fraction of orders (of two units or more)
// shipped in two shipments.
func (s *Server) SetPartialShipRate(r float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partRate = r
}

// SetStock sets the on-hand quantity of each listed SKU (other SKUs are
// unchanged) and retries backordered orders, oldest first.
func (s *Server) SetStock(onHand map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sku, n := range onHand {
		r := s.stock[sku]
		if r == nil {
			r = &stockRec{}
			s.stock[sku] = r
			s.itemList = nil // a new SKU is a new implicit item
		}
		r.onHand = max(n, 0)
	}
	s.retryBackorders(s.clock())
}

// Stock returns the stock of every SKU the warehouse knows.
func (s *Server) Stock() map[string]StockItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]StockItem, len(s.stock))
	for sku, r := range s.stock {
		m[sku] = StockItem{SKU: sku, OnHand: r.onHand, Allocated: r.allocated, Available: max(r.onHand-r.allocated, 0)}
	}
	return m
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Orders returns every order in the order it was received.
func (s *Server) Orders() []OrderState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OrderState, len(s.bySeq))
	for i, o := range s.bySeq {
		out[i] = o.snapshot()
	}
	return out
}

// Order returns one order by external reference.
func (s *Server) Order(externalRef string) (OrderState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[externalRef]
	if !ok {
		return OrderState{}, false
	}
	return o.snapshot(), true
}

// Events returns a copy of the whole feed, duplicates included.
func (s *Server) Events() []connector.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.feed)
}

func (o *simOrder) snapshot() OrderState {
	ships := make([]order.Shipment, len(o.shipments))
	for i, sh := range o.shipments {
		ships[i] = cloneShipment(sh)
	}
	req := o.wo
	req.Lines = slices.Clone(o.wo.Lines)
	return OrderState{
		ExternalRef: o.wo.ExternalRef,
		WMSOrderID:  o.id,
		OrderID:     o.wo.OrderID,
		OrderName:   o.wo.OrderName,
		State:       o.state,
		Backordered: o.backordered,
		Shortages:   slices.Clone(o.shortages),
		Lines:       slices.Clone(o.wo.Lines),
		Shipments:   ships,
		Times:       o.times,
		Request:     req,
	}
}

func cloneShipment(sh order.Shipment) order.Shipment {
	c := sh
	c.Lines = slices.Clone(sh.Lines)
	c.Packages = make([]order.Package, len(sh.Packages))
	for i, p := range sh.Packages {
		c.Packages[i] = p
		c.Packages[i].Lines = slices.Clone(p.Lines)
	}
	return c
}

func (s *Server) newID(kind string, n int) string {
	return fmt.Sprintf("%s-%s%06d", s.cfg.Name, kind, n)
}
