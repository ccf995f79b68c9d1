// Package demo runs crossdock end to end on one machine: a Shopify
// simulator, two simulated warehouses (Paris and Newark) — or, with
// SimOptions.Warehouses, one per protocol: REST, or CSV or X12 files over a
// local SFTP server (a wmssim driven by a filesim.Partner) — the hub on an
// embedded database, and an order generator that creates orders through the
// simulated Admin API. Its summary is counted from the simulators' own
// state, never from the hub's counters.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// Demo credentials (simulator only).
const (
	ShopDomain    = "crossdock-demo.myshopify.com"
	AccessToken   = "shpat_demo_token"
	WebhookSecret = "demo-webhook-secret"
	WMSToken      = "demo-wms-token"
)

// Warehouse describes a simulated warehouse of the demo.
type Warehouse struct {
	ID, Name string
	// SKUs are indexes into the catalogue this warehouse stocks.
	From, To int
	Sim      *wmssim.Server
	URL      string
	// Protocol is how the hub talks to it: ProtocolREST (URL),
	// ProtocolCSV or ProtocolEDI (files over SFTP at SFTPAddr, exchanged
	// by Partner).
	Protocol string
	SFTPAddr string
	SFTP     *filesim.SFTPServer
	Partner  *filesim.Partner
	dir      string
}

// SimOptions configure the simulators.
type SimOptions struct {
	SKUs          int     // catalogue size (default 40)
	StockPerSKU   int     // on hand per SKU and warehouse (default 5000)
	DuplicateRate float64 // webhook duplicate deliveries
	ReorderRate   float64 // webhook reordering
	DropRate      float64 // webhooks never delivered
	RestoreRate   float64 // Shopify bucket restore rate, points/s
	BucketSize    float64
	Seed          uint64
	// WebhookRetryBase is the first retry delay of failed deliveries.
	WebhookRetryBase time.Duration
	// WMSDelay scales the warehouses' step delays (ack, pick, pack, ship).
	WMSDelay time.Duration
	// PartialShipRate is the warehouses' fraction of orders (of two units
	// or more) shipped in two shipments (wmssim.Config.PartialShipRate).
	PartialShipRate float64
	// CarrierEventRate, DeliveryFailureRate and TrackingUpdateRate are
	// the warehouses' shares of shipments followed by carrier events, of
	// those whose delivery fails, and of shipments relabelled after
	// shipping (wmssim.Config).
	CarrierEventRate, DeliveryFailureRate, TrackingUpdateRate float64
	// Warehouses lists one protocol per warehouse (ProtocolREST,
	// ProtocolCSV, ProtocolEDI) in rank order; empty means two REST
	// warehouses (see warehousePlan).
	Warehouses []string
	// Mix is the order mix: "" (the generator's random orders) or
	// MixRealistic (see mix.go).
	Mix string
}

// Sims are the running simulators.
type Sims struct {
	Opt        SimOptions
	Shopify    *shopifysim.Server
	ShopifyURL string
	Warehouses []*Warehouse
	SKUs       []string
	variants   map[string]string // SKU → variant GID
	servers    []*http.Server
	rng        *rand.Rand
	mu         sync.Mutex
	// Discrepancies, when set, reads the hub's discrepancy totals (ever
	// opened, still open) into the summary; open ones keep the run from
	// settling.
	Discrepancies func() (opened, open int, err error)
	// Timeline, when set, reads an order's timeline in the hub (holds
	// released, incidents) for the summary.
	Timeline func(orderID string) ([]store.Entry, error)
	mix      *mixState
}

func serve(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

// StartSims starts the Shopify simulator and the two warehouses, and loads
// the catalogue.
func StartSims(opt SimOptions) (*Sims, error) {
	if opt.SKUs <= 0 {
		opt.SKUs = 40
	}
	if opt.StockPerSKU <= 0 {
		opt.StockPerSKU = 5000
	}
	if opt.WMSDelay <= 0 {
		opt.WMSDelay = 50 * time.Millisecond
	}
	if opt.Seed == 0 {
		opt.Seed = uint64(time.Now().UnixNano())
	}
	if _, err := ParseMix(opt.Mix); err != nil {
		return nil, err
	}
	if opt.Mix == MixRealistic {
		opt = mixDefaults(opt)
	}
	s := &Sims{Opt: opt, variants: map[string]string{}, rng: rand.New(rand.NewPCG(opt.Seed, 42))}
	s.Shopify = shopifysim.New(shopifysim.Config{
		ShopDomain: ShopDomain, AccessToken: AccessToken, WebhookSecret: WebhookSecret,
		BucketSize: opt.BucketSize, RestoreRate: opt.RestoreRate, Seed: opt.Seed,
		Faults:                shopifysim.Faults{WebhookDuplicateRate: opt.DuplicateRate, WebhookReorderRate: opt.ReorderRate, WebhookDropRate: opt.DropRate},
		WebhookRetryBaseDelay: opt.WebhookRetryBase, WebhookWorkers: 16,
	})
	srv, u, err := serve(s.Shopify)
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, srv)
	s.ShopifyURL = u

	var products []shopifysim.ProductInput
	for i := 1; i <= opt.SKUs; i++ {
		sku := fmt.Sprintf("CD-%04d", i)
		s.SKUs = append(s.SKUs, sku)
		products = append(products, shopifysim.ProductInput{Title: "Demo product " + sku,
			Variants: []shopifysim.VariantInput{{SKU: sku, Barcode: fmt.Sprintf("3760%09d", i), Price: "19.90"}}})
	}
	ps, err := s.Shopify.AddProducts(products)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, p := range ps {
		for _, v := range p.Variants {
			s.variants[v.SKU] = v.ID
		}
	}
	// By default Paris stocks the first three quarters of the catalogue,
	// Newark all of it: orders with a Newark-only SKU are routed to Newark.
	plan, err := warehousePlan(opt)
	if err != nil {
		s.Close()
		return nil, err
	}
	for i, w := range plan {
		stock := map[string]int{}
		for _, sku := range s.SKUs[w.From:w.To] {
			stock[sku] = opt.StockPerSKU
		}
		d := opt.WMSDelay
		w.Sim = wmssim.New(wmssim.Config{Name: w.ID, Token: WMSToken, AckDelay: d, PickDelay: d, PackDelay: d, ShipDelay: 2 * d,
			MultiPackageRate: 0.15, PartialShipRate: opt.PartialShipRate, Seed: opt.Seed + uint64(i) + 1, Stock: stock,
			CarrierEventRate: opt.CarrierEventRate, DeliveryFailureRate: opt.DeliveryFailureRate, TrackingUpdateRate: opt.TrackingUpdateRate,
			CarrierEventDelay: 2 * d})
		w.Sim.Start()
		srv, u, err := serve(w.Sim)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.servers = append(s.servers, srv)
		w.URL = u
		s.Warehouses = append(s.Warehouses, w)
		if err := s.startFilePartner(w); err != nil {
			s.Close()
			return nil, fmt.Errorf("demo: warehouse %s: %w", w.ID, err)
		}
	}
	if opt.Mix == MixRealistic {
		if err := s.setupMix(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops every simulator.
func (s *Sims) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	for _, w := range s.Warehouses {
		w.closeFilePartner()
		w.Sim.Close()
	}
	if s.Shopify != nil {
		s.Shopify.Close()
	}
}

// HubConfig is the hub configuration that points at the simulators, on an
// SQLite file.
func (s *Sims) HubConfig(listen, dbPath string) *config.Config {
	return s.HubConfigDB(listen, config.Database{Driver: "sqlite", DSN: dbPath})
}

// HubConfigDB is HubConfig on any database.
func (s *Sims) HubConfigDB(listen string, db config.Database) *config.Config {
	c := &config.Config{
		Database:  db,
		Listen:    listen,
		PublicURL: "http://" + listen,
		Workers:   64,
		Shops: []config.Shop{{
			Domain: ShopDomain, APIURL: s.ShopifyURL, AccessToken: AccessToken, WebhookSecret: WebhookSecret,
			BackfillInterval: config.Duration(5 * time.Second), StockInterval: config.Duration(time.Second),
			StockReadInterval: config.Duration(5 * time.Second),
		}},
		// Reconcile often, with short graces, so that the demo's missed
		// webhooks are found by reconciliation within seconds.
		Reconcile: config.Reconcile{Interval: config.Duration(2 * time.Second), OrderGrace: config.Duration(2 * time.Second),
			ShipmentGrace: config.Duration(10 * time.Second), StockGrace: config.Duration(10 * time.Second)},
	}
	for i, w := range s.Warehouses {
		c.Shops[0].Warehouses = append(c.Shops[0].Warehouses, config.Warehouse{
			ID: w.ID, Name: w.Name, Rank: i + 1, PollInterval: config.Duration(100 * time.Millisecond),
			Connector: w.connectorConfig(),
		})
	}
	if s.mix != nil {
		// Held orders of the mix are released as soon as stock arrives.
		c.Shops[0].HeldRetryInterval = config.Duration(500 * time.Millisecond)
	}
	return c
}

var addresses = []order.Address{
	{Name: "Camille Martin", Address1: "12 rue de Rivoli", City: "Paris", PostalCode: "75004", CountryCode: "FR", Phone: "+33 1 23 45 67 89"},
	{Name: "Hélène Dubois", Address1: "3 place Bellecour", City: "Lyon", PostalCode: "69002", CountryCode: "FR"},
	{Name: "Jordan Smith", Address1: "350 Fifth Avenue", City: "New York", ProvinceCode: "NY", PostalCode: "10118", CountryCode: "US"},
	{Name: "Ana García", Address1: "1 Market St", City: "Newark", ProvinceCode: "NJ", PostalCode: "07102", CountryCode: "US"},
}

// NewOrder returns a random order of 1–3 lines.
func (s *Sims) NewOrder() shopify.OrderInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 1 + s.rng.IntN(3)
	seen := map[string]bool{}
	in := shopify.OrderInput{ShippingAddress: addresses[s.rng.IntN(len(addresses))], InventoryBehaviour: "DECREMENT_IGNORING_POLICY"}
	for len(in.Lines) < n {
		sku := s.SKUs[s.rng.IntN(len(s.SKUs))]
		if seen[sku] {
			continue
		}
		seen[sku] = true
		in.Lines = append(in.Lines, shopify.OrderLineInput{VariantID: s.variants[sku], Quantity: 1 + s.rng.IntN(2)})
	}
	in.Email = fmt.Sprintf("customer%d@example.com", s.rng.IntN(100000))
	return in
}

// AddSKU adds a product with one variant to the Shopify catalogue (and to
// no warehouse).
func (s *Sims) AddSKU(sku string) error {
	ps, err := s.Shopify.AddProducts([]shopifysim.ProductInput{{Title: "Product " + sku, Variants: []shopifysim.VariantInput{{SKU: sku, Price: "9.90"}}}})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		for _, v := range p.Variants {
			s.variants[v.SKU] = v.ID
		}
	}
	return nil
}

// OrderOf returns an order of one unit of each SKU shipped to addr.
func (s *Sims) OrderOf(addr order.Address, skus ...string) shopify.OrderInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := shopify.OrderInput{ShippingAddress: addr, Email: "test@example.com"}
	for _, sku := range skus {
		in.Lines = append(in.Lines, shopify.OrderLineInput{VariantID: s.variants[sku], Quantity: 1})
	}
	return in
}

// Address returns one of the demo's shipping addresses.
func Address(i int) order.Address { return addresses[i%len(addresses)] }

// Client returns an Admin API client for the simulated shop.
func (s *Sims) Client() *shopify.Client {
	return shopify.NewClient(shopify.ClientConfig{BaseURL: s.ShopifyURL, AccessToken: AccessToken})
}

// CreateOrders creates n orders through the Admin API with the given
// concurrency, at most rate per second when rate > 0.
func (s *Sims) CreateOrders(ctx context.Context, n, concurrency int, rate float64) (created int, err error) {
	if concurrency <= 0 {
		concurrency = 8
	}
	c := s.Client()
	s.creation(1)
	defer s.creation(-1)
	jobs := make(chan struct{})
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				in, path := s.nextOrder()
				id, _, err := c.CreateOrder(ctx, in)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					created++
					s.noteOrder(id, path)
				}
				mu.Unlock()
			}
		}()
	}
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
loop:
	for i := 0; n <= 0 || i < n; i++ {
		if tick != nil {
			select {
			case <-ctx.Done():
				break loop
			case <-tick:
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case jobs <- struct{}{}:
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return created, fmt.Errorf("%d order creations failed, first: %w", len(errs), errs[0])
	}
	return created, ctx.Err()
}

// Latency is a p50/p99 pair in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	N   int     `json:"n"`
}

func latency(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) float64 {
		i := int(p*float64(len(ds)-1) + 0.5)
		return float64(ds[i].Microseconds()) / 1000
	}
	return Latency{P50: q(0.50), P99: q(0.99), Max: q(1), N: len(ds)}
}

// WarehouseCounts are one warehouse's figures.
type WarehouseCounts struct {
	Orders   int `json:"orders"`
	Shipped  int `json:"shipped"`
	Packages int `json:"packages"`
}

// Summary is the demo's result, counted from the simulators' state.
type Summary struct {
	OrdersRequested             int                        `json:"orders_requested"`
	OrdersCreated               int                        `json:"orders_created"`
	OrdersShipped               int                        `json:"orders_shipped"`
	OrdersFulfilled             int                        `json:"orders_fulfilled"`
	ShopifyFulfillments         int                        `json:"shopify_fulfillments"`
	FulfillmentsMissingTracking int                        `json:"fulfillments_missing_tracking"`
	DuplicateWMSOrders          int                        `json:"duplicate_wms_orders"`
	DuplicateFulfillments       int                        `json:"duplicate_fulfillments"`
	StockMismatches             int                        `json:"stock_mismatches"`
	StockMismatchDetails        []string                   `json:"stock_mismatch_details,omitempty"`
	PerWarehouse                map[string]WarehouseCounts `json:"per_warehouse"`
	WebhooksDuplicatedByShopify int64                      `json:"webhooks_duplicated_by_shopify"`
	WebhooksReorderedByShopify  int64                      `json:"webhooks_reordered_by_shopify"`
	WebhooksDroppedByShopify    int64                      `json:"webhooks_dropped_by_shopify"`
	ShopifyThrottled            int64                      `json:"shopify_throttled"`
	ElapsedS                    float64                    `json:"elapsed_s"`
	OrdersPerS                  float64                    `json:"orders_per_s"`
	OrderToWMSMs                Latency                    `json:"order_to_wms_ms"`
	ShipToFulfillmentMs         Latency                    `json:"ship_to_fulfillment_ms"`
	Settled                     bool                       `json:"settled"`
	Problems                    []string                   `json:"problems,omitempty"`

	// DiscrepanciesOpened and DiscrepanciesOpen are read from the hub's
	// store: discrepancies reconciliation ever opened, and still open.
	DiscrepanciesOpened int `json:"discrepancies_opened"`
	DiscrepanciesOpen   int `json:"discrepancies_open"`

	// Mix is the order mix ("" or MixRealistic); MixCounts are the paths
	// orders took and the invariants (flattened into the JSON).
	Mix string `json:"mix,omitempty"`
	MixCounts
}

// Summarize counts the outcome from the simulators.
func (s *Sims) Summarize(requested int) Summary {
	sum := Summary{OrdersRequested: requested, PerWarehouse: map[string]WarehouseCounts{}}
	orders := s.Shopify.Orders()
	sum.OrdersCreated = len(orders)
	created := map[string]time.Time{}
	type key struct{ order, fo string }
	wmsCount := map[key]int{}
	shippedAt := map[string]time.Time{}      // tracking number → WMS ship time
	wmsOrders := map[string][]wmssim.State{} // order id → states
	for _, w := range s.Warehouses {
		wc := WarehouseCounts{}
		for _, o := range w.Sim.Orders() {
			if o.State == wmssim.StateCancelled {
				continue
			}
			wc.Orders++
			wmsCount[key{o.OrderID, o.Request.FulfillmentOrderID}]++
			wmsOrders[o.OrderID] = append(wmsOrders[o.OrderID], o.State)
			if o.State == wmssim.StateShipped {
				wc.Shipped++
			}
			for _, sh := range o.Shipments {
				wc.Packages += len(sh.Packages)
				for _, p := range sh.Packages {
					// Each shipment's own time: with partial shipments the
					// order's ShippedAt is its last shipment's.
					at := sh.ShippedAt
					if at.IsZero() {
						at = o.Times.ShippedAt
					}
					shippedAt[p.TrackingNumber] = at
				}
			}
		}
		sum.PerWarehouse[w.ID] = wc
	}
	for _, n := range wmsCount {
		if n > 1 {
			sum.DuplicateWMSOrders += n - 1
		}
	}
	for _, states := range wmsOrders {
		all := true
		for _, st := range states {
			all = all && st == wmssim.StateShipped
		}
		if all && len(states) > 0 {
			sum.OrdersShipped++
		}
	}
	var toWMS, toFul []time.Duration
	var first, last time.Time
	for _, o := range orders {
		created[o.ID] = o.CreatedAt
		if first.IsZero() || o.CreatedAt.Before(first) {
			first = o.CreatedAt
		}
		if o.DisplayFulfillmentStatus == "FULFILLED" {
			sum.OrdersFulfilled++
		}
		for _, f := range o.Fulfillments {
			sum.ShopifyFulfillments++
			if f.CreatedAt.After(last) {
				last = f.CreatedAt
			}
			if len(f.Tracking) == 0 || f.Tracking[0].Number == "" {
				sum.FulfillmentsMissingTracking++
				continue
			}
			if t, ok := shippedAt[f.Tracking[0].Number]; ok && !t.IsZero() {
				toFul = append(toFul, f.CreatedAt.Sub(t))
			}
		}
	}
	for _, w := range s.Warehouses {
		for _, o := range w.Sim.Orders() {
			if c, ok := created[o.OrderID]; ok && !o.Times.ReceivedAt.IsZero() {
				toWMS = append(toWMS, o.Times.ReceivedAt.Sub(c))
			}
		}
	}
	st := s.Shopify.Stats()
	sum.DuplicateFulfillments = int(st.RejectedOverfulfillments + st.DuplicateTracking)
	sum.WebhooksDuplicatedByShopify = st.WebhooksDuplicated
	sum.WebhooksReorderedByShopify = st.WebhooksDelayed
	sum.WebhooksDroppedByShopify = st.WebhooksDropped
	sum.ShopifyThrottled = st.Throttled
	sum.StockMismatchDetails = s.stockMismatches()
	sum.StockMismatches = len(sum.StockMismatchDetails)
	if len(sum.StockMismatchDetails) > 10 {
		sum.StockMismatchDetails = sum.StockMismatchDetails[:10]
	}
	if !first.IsZero() && last.After(first) {
		sum.ElapsedS = last.Sub(first).Seconds()
		sum.OrdersPerS = float64(sum.OrdersFulfilled) / sum.ElapsedS
	}
	sum.OrderToWMSMs = latency(toWMS)
	sum.ShipToFulfillmentMs = latency(toFul)
	var discErr error
	if s.Discrepancies != nil {
		sum.DiscrepanciesOpened, sum.DiscrepanciesOpen, discErr = s.Discrepancies()
	}
	sum.Mix = s.Opt.Mix
	mc, mixErr := s.mixCounts(orders)
	sum.MixCounts = mc
	sum.Problems = sum.problems()
	if mixErr != nil {
		sum.Problems = append(sum.Problems, "counting the mix: "+mixErr.Error())
	}
	if discErr != nil {
		sum.Problems = append(sum.Problems, "reading the hub's discrepancies: "+discErr.Error())
	}
	sum.Settled = len(sum.Problems) == 0
	return sum
}

func (s Summary) problems() []string {
	var p []string
	want := s.OrdersRequested
	if want > 0 && s.OrdersCreated != want {
		p = append(p, fmt.Sprintf("%d of %d orders created", s.OrdersCreated, want))
	}
	// Every order not cancelled ships and is fulfilled.
	if live := s.OrdersCreated - s.OrdersCancelled; s.OrdersShipped != live {
		p = append(p, fmt.Sprintf("%d of %d orders not cancelled shipped", s.OrdersShipped, live))
	}
	if live := s.OrdersCreated - s.OrdersCancelled; s.OrdersFulfilled != live {
		p = append(p, fmt.Sprintf("%d of %d orders not cancelled fulfilled", s.OrdersFulfilled, live))
	}
	p = append(p, s.MixCounts.problems(s.Mix)...)
	if s.FulfillmentsMissingTracking > 0 {
		p = append(p, fmt.Sprintf("%d fulfillments without tracking", s.FulfillmentsMissingTracking))
	}
	if s.DuplicateWMSOrders > 0 {
		p = append(p, fmt.Sprintf("%d duplicate warehouse orders", s.DuplicateWMSOrders))
	}
	if s.DuplicateFulfillments > 0 {
		p = append(p, fmt.Sprintf("%d duplicate fulfillments", s.DuplicateFulfillments))
	}
	if s.StockMismatches > 0 {
		p = append(p, fmt.Sprintf("%d stock mismatches", s.StockMismatches))
	}
	if s.DiscrepanciesOpen > 0 {
		p = append(p, fmt.Sprintf("%d discrepancies open", s.DiscrepanciesOpen))
	}
	return p
}

// stockMismatches compares Shopify's available at each warehouse's location
// with the stock engine's formula (stock.Compute) applied to the
// simulators' truth: what the warehouse can sell, minus units of orders
// Shopify assigned to the location that the warehouse has not received yet
// (the demo configures no buffer or cap).
func (s *Sims) stockMismatches() []string {
	locs := map[string]string{}
	for _, l := range s.Shopify.Locations() {
		locs[l.Name] = l.ID
	}
	orders := s.Shopify.Orders()
	var out []string
	for _, w := range s.Warehouses {
		loc, ok := locs[w.Name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: no Shopify location", w.ID))
			continue
		}
		received := map[string]bool{}
		for _, o := range w.Sim.Orders() {
			received[o.OrderID] = true
		}
		inFlight := map[string]int{}
		for _, o := range orders {
			if o.CancelledAt != nil || received[o.ID] {
				continue
			}
			for _, fo := range o.FulfillmentOrders {
				if fo.LocationID != loc || fo.Status == "CLOSED" || fo.Status == "CANCELLED" {
					continue
				}
				for _, l := range fo.LineItems {
					inFlight[l.SKU] += l.TotalQuantity
				}
			}
		}
		for sku, it := range w.Sim.Stock() {
			s.mu.Lock()
			_, inCatalogue := s.variants[sku]
			s.mu.Unlock()
			if !inCatalogue {
				continue // an item Shopify does not sell (or sells under another SKU)
			}
			f := stock.Figure{Contributions: []stock.Contribution{{Warehouse: w.ID, Snapshot: it.Available, InFlight: inFlight[sku]}}}
			stock.Compute(&f)
			q, ok := s.Shopify.InventoryLevel(sku, loc)
			if !ok || q.Available != f.Target {
				out = append(out, fmt.Sprintf("%s %s: Shopify %d, formula %d (WMS %d, %d in flight)", w.ID, sku, q.Available, f.Target, it.Available, inFlight[sku]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// WaitSettled polls the simulators until the summary has no problem or ctx
// ends; it returns the last summary.
func (s *Sims) WaitSettled(ctx context.Context, requested int) Summary {
	for {
		sum := s.Summarize(requested)
		if sum.Settled {
			return sum
		}
		select {
		case <-ctx.Done():
			return sum
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitStockPublished waits until Shopify shows every warehouse's stock (the
// hub's first stock sync), so the first orders are routed on real figures.
func (s *Sims) WaitStockPublished(ctx context.Context) error {
	for {
		if len(s.stockMismatches()) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("stock never reached Shopify: " + fmt.Sprint(s.stockMismatches()[:1]))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// JSON renders a summary.
func (s Summary) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return b
}
