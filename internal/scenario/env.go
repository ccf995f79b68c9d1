package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// Simulator credentials of a rehearsal.
const (
	simToken         = "shpat_scenario"
	simWebhookSecret = "scenario-webhook-secret"
	simWMSToken      = "scenario-wms-token"
	defaultShop      = "crossdock-scenario.myshopify.com"
)

var presets = map[string]order.Address{
	"paris":    {Name: "Camille Martin", Address1: "12 rue de Rivoli", City: "Paris", PostalCode: "75004", CountryCode: "FR", Phone: "+33 1 23 45 67 89"},
	"lyon":     {Name: "Hélène Dubois", Address1: "3 place Bellecour", City: "Lyon", PostalCode: "69002", CountryCode: "FR"},
	"new-york": {Name: "Jordan Smith", Address1: "350 Fifth Avenue", City: "New York", ProvinceCode: "NY", PostalCode: "10118", CountryCode: "US"},
	"newark":   {Name: "Ana García", Address1: "1 Market St", City: "Newark", ProvinceCode: "NJ", PostalCode: "07102", CountryCode: "US"},
	// Incomplete addresses.
	"missing-street":   {Name: "Léa Petit", City: "Paris", PostalCode: "75011", CountryCode: "FR"},
	"missing-postcode": {Name: "Léa Petit", Address1: "8 rue Oberkampf", City: "Paris", CountryCode: "FR"},
}

func presetNames() []string {
	var out []string
	for k := range presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// simWarehouse is one simulated warehouse of a rehearsal.
type simWarehouse struct {
	id    string // the scenario's name for it
	hubID string // the hub's warehouse id (the user's with --config)
	sim   *wmssim.Server
	url   string
	codes map[string]string // SKU → the warehouse's item code
	// file is the file side of a warehouse the user configured as csv or
	// edi (nil: rehearsed through the REST simulator).
	file *fileWarehouse
}

// env is the world of one scenario: simulators and a hub.
type env struct {
	s       *Scenario
	opt     Options
	dir     string
	clock   *wmssim.ManualClock
	shop    string
	shopify *shopifysim.Server
	shopURL string
	client  *shopify.Client
	whs     []*simWarehouse
	byID    map[string]*simWarehouse
	servers []*http.Server
	cfg     *config.Config
	hub     *hub.Hub
	hubCtx  context.Context
	killHub context.CancelFunc
	orders  map[string]string // scenario order id → Shopify order GID
	returns map[string]string // scenario return id → Shopify return GID
	alerts  *alertSink
	log     *slog.Logger
	mu      sync.Mutex
}

func serveHTTP(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

// alertSink receives the hub's alert notices.
type alertSink struct {
	mu      sync.Mutex
	notices []map[string]any
}

func (a *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.notices = append(a.notices, m)
	a.mu.Unlock()
}

// newEnv starts the simulators and the hub for s.
func newEnv(ctx context.Context, s *Scenario, opt Options) (_ *env, err error) {
	e := &env{s: s, opt: opt, byID: map[string]*simWarehouse{}, orders: map[string]string{}, returns: map[string]string{},
		alerts: &alertSink{}, log: opt.Logger, clock: wmssim.NewManualClock(time.Now().UTC().Truncate(time.Second))}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.dir, err = os.MkdirTemp(opt.Dir, "crossdock-scenario-"); err != nil {
		return nil, err
	}
	e.shop = defaultShop
	if opt.Config != nil && len(opt.Config.Shops) > 0 {
		e.shop = strings.ToLower(opt.Config.Shops[0].Domain)
	}

	f := s.Setup.Shopify.Faults
	bucket, restore := 40000.0, 20000.0
	if f.Throttle > 0 {
		bucket, restore = f.Throttle, f.Throttle/10
	}
	e.shopify = shopifysim.New(shopifysim.Config{ShopDomain: e.shop, AccessToken: simToken, WebhookSecret: simWebhookSecret,
		BucketSize: bucket, RestoreRate: restore, Seed: 7, WebhookRetryBaseDelay: 100 * time.Millisecond, WebhookWorkers: 4})
	srv, u, err := serveHTTP(e.shopify)
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, srv)
	e.shopURL = u
	e.client = shopify.NewClient(shopify.ClientConfig{BaseURL: u, AccessToken: simToken})
	var products []shopifysim.ProductInput
	for i, sku := range s.Setup.SKUs {
		products = append(products, shopifysim.ProductInput{Title: "Article " + sku,
			Variants: []shopifysim.VariantInput{{SKU: sku, Barcode: fmt.Sprintf("3760%09d", i+1), Price: "19.90"}}})
	}
	if _, err := e.shopify.AddProducts(products); err != nil {
		return nil, err
	}

	// Warehouses: the scenario's, mapped in rank order onto the user's
	// with --config.
	var userWHs []config.Warehouse
	if opt.Config != nil && len(opt.Config.Shops) > 0 {
		userWHs = append(userWHs, opt.Config.Shops[0].Warehouses...)
		sort.SliceStable(userWHs, func(i, j int) bool { return userWHs[i].Rank < userWHs[j].Rank })
		if len(userWHs) < len(s.Setup.Warehouses) {
			return nil, &skipError{fmt.Sprintf("needs %d warehouses, the configuration has %d", len(s.Setup.Warehouses), len(userWHs))}
		}
	}
	for i, ws := range s.Setup.Warehouses {
		w := &simWarehouse{id: ws.ID, hubID: ws.ID, codes: map[string]string{}}
		if userWHs != nil {
			w.hubID = userWHs[i].ID
		}
		stock := map[string]int{}
		var items []connector.Item
		for sku, q := range ws.Stock {
			code := sku
			if c, ok := ws.Codes[sku]; ok {
				code = c
			}
			w.codes[sku] = code
			stock[code] = q
			items = append(items, connector.Item{Code: code, UOM: "EA", PackSize: 1, Active: true})
		}
		sort.Slice(items, func(a, b int) bool { return items[a].Code < items[b].Code })
		multi, partial := 0.0, 0.0
		if ws.Packages > 1 {
			multi = 1
		}
		if ws.PartialShip {
			partial = 1
		}
		t := ws.Times
		w.sim = wmssim.New(wmssim.Config{Name: ws.ID, Token: simWMSToken, Now: e.clock.Now, Seed: uint64(i + 11),
			AckDelay: t.Ack.Std(time.Minute), PickDelay: t.Pick.Std(10 * time.Minute), PackDelay: t.Pack.Std(10 * time.Minute),
			ShipDelay: t.Ship.Std(20 * time.Minute), CarrierEventDelay: time.Hour,
			MultiPackageRate: multi, PartialShipRate: partial, Stock: stock, Items: items})
		srv, u, err := serveHTTP(w.sim)
		if err != nil {
			return nil, err
		}
		e.servers = append(e.servers, srv)
		w.url = u
		e.whs = append(e.whs, w)
		e.byID[ws.ID] = w
		if userWHs != nil && isFileKind(userWHs[i].Connector.Kind) {
			if err := e.startFileWarehouse(w, userWHs[i].Connector); err != nil {
				return nil, err
			}
		}
	}
	if err := e.fileLimits(); err != nil {
		return nil, err
	}
	e.cfg = e.hubConfig()
	if err := e.startHub(ctx); err != nil {
		return nil, err
	}
	if err := e.waitStockPublished(ctx); err != nil {
		return nil, err
	}
	if err := e.shopify.SetFaults(toSimFaults(f)); err != nil {
		return nil, err
	}
	return e, nil
}

// skipError marks a scenario that cannot run against a configuration.
type skipError struct{ why string }

func (s *skipError) Error() string { return s.why }

func toSimFaults(f ShopifyFaults) shopifysim.Faults {
	return shopifysim.Faults{HTTP429Rate: f.HTTP429Rate, HTTP5xxRate: f.HTTP5xxRate, WebhookDuplicateRate: f.WebhookDuplicateRate,
		WebhookReorderRate: f.WebhookReorderRate, WebhookDropRate: f.WebhookDropRate}
}

// hubConfig is the hub's configuration: the user's (with --config) or one
// built from the setup, pointed at the simulators, on a scratch database.
func (e *env) hubConfig() *config.Config {
	db := config.Database{Driver: "sqlite", DSN: filepath.Join(e.dir, "hub.db")}
	fast := func(d config.Duration, def time.Duration) config.Duration {
		if d == 0 || d.Std(0) > def {
			return config.Duration(def)
		}
		return d
	}
	var c *config.Config
	if e.opt.Config != nil {
		cp := *e.opt.Config
		c = &cp
		c.Shops = []config.Shop{cp.Shops[0]}
		sh := &c.Shops[0]
		sh.Warehouses = append([]config.Warehouse(nil), sh.Warehouses...)
		sort.SliceStable(sh.Warehouses, func(i, j int) bool { return sh.Warehouses[i].Rank < sh.Warehouses[j].Rank })
		sh.Warehouses = sh.Warehouses[:len(e.whs)]
	} else {
		c = &config.Config{Shops: []config.Shop{{Domain: e.shop, Policies: e.s.Setup.Hub.Policies, Stock: e.s.Setup.Hub.Stock, SLA: e.s.Setup.Hub.SLA}}}
		for i, w := range e.whs {
			c.Shops[0].Warehouses = append(c.Shops[0].Warehouses, config.Warehouse{ID: w.hubID, Name: strings.ToUpper(w.id[:1]) + w.id[1:], Rank: i + 1})
		}
	}
	c.Database = db
	c.Listen = "127.0.0.1:0"
	c.Workers = 16
	sh := &c.Shops[0]
	sh.Domain, sh.APIURL, sh.AccessToken, sh.WebhookSecret, sh.PreviousWebhookSecret = e.shop, e.shopURL, simToken, simWebhookSecret, ""
	sh.RegisterWebhooks = nil
	// Rehearsals compress the hub's own timers (the warehouses' time is
	// simulated): what takes minutes in production takes a second here.
	sh.BackfillInterval = fast(sh.BackfillInterval, 2*time.Second)
	sh.HeldRetryInterval = fast(sh.HeldRetryInterval, time.Second)
	sh.StockInterval = fast(sh.StockInterval, time.Second)
	sh.StockReadInterval = fast(sh.StockReadInterval, time.Second)
	sh.Stock.Settle = fast(sh.Stock.Settle, 500*time.Millisecond)
	for i := range sh.Warehouses {
		w := &sh.Warehouses[i]
		w.LocationID = ""
		w.PollInterval = config.Duration(100 * time.Millisecond)
		if fw := e.whs[i].file; fw != nil {
			w.Connector = config.Connector{Kind: fw.kind, Settings: fw.settings}
			continue
		}
		w.Connector = config.Connector{Kind: "rest", Settings: map[string]any{"base_url": e.whs[i].url, "token": simWMSToken}}
	}
	c.Reconcile.Interval = fast(c.Reconcile.Interval, time.Second)
	c.Reconcile.OrderGrace = fast(c.Reconcile.OrderGrace, 2*time.Second)
	c.Reconcile.ShipmentGrace = fast(c.Reconcile.ShipmentGrace, 3*time.Second)
	c.Reconcile.StockGrace = fast(c.Reconcile.StockGrace, 3*time.Second)
	// Alerts go to the rehearsal's own receiver, never to the user's
	// channels.
	srv, u, err := serveHTTP(e.alerts)
	if err == nil {
		e.servers = append(e.servers, srv)
		c.Alerts = config.Alerts{GroupWait: config.Duration(200 * time.Millisecond), EvaluateInterval: config.Duration(300 * time.Millisecond),
			RepeatInterval: config.Duration(time.Hour), Channels: []config.AlertChannel{{Name: "rehearsal", Kind: "webhook", URL: u}}}
	}
	return c
}

// startHub opens and starts a hub on the scenario's database.
func (e *env) startHub(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.cfg.Listen = ln.Addr().String()
	e.cfg.PublicURL = "http://" + ln.Addr().String()
	hctx, kill := context.WithCancel(context.WithoutCancel(ctx))
	h, err := hub.Open(hctx, e.cfg, hub.Options{Logger: e.log, JobTimeout: 10 * time.Second})
	if err != nil {
		kill()
		ln.Close()
		return fmt.Errorf("scenario: open hub: %w", err)
	}
	if err := h.Start(hctx, ln); err != nil {
		kill()
		h.Stop(context.Background())
		return fmt.Errorf("scenario: start hub: %w", err)
	}
	e.mu.Lock()
	e.hub, e.hubCtx, e.killHub = h, hctx, kill
	e.mu.Unlock()
	return nil
}

// crash stops the hub abruptly — its HTTP server closed, its jobs' context
// cancelled, its database closed under it without waiting for anything —
// then starts a new hub on the same database, as after a SIGKILL and a
// restart.
func (e *env) crash(ctx context.Context) error {
	e.mu.Lock()
	h, kill := e.hub, e.killHub
	e.mu.Unlock()
	h.Kill()
	kill()
	return e.startHub(ctx)
}

// waitStockPublished waits until the hub published each warehouse's stock
// to its Shopify location.
func (e *env) waitStockPublished(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		ok := true
		for _, w := range e.whs {
			loc, _ := e.location(ctx, w)
			if loc == "" {
				ok = false
				break
			}
			for sku, code := range w.codes {
				want := 0
				if it, found := w.sim.Stock()[code]; found {
					want = it.Available
				}
				if want == 0 {
					continue
				}
				if q, found := e.shopify.InventoryLevel(sku, loc); !found || q.Available == 0 {
					ok = false
				}
			}
		}
		if ok {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("scenario: the hub did not publish the warehouses' stock to Shopify within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// location is the Shopify location GID of a warehouse.
func (e *env) location(ctx context.Context, w *simWarehouse) (string, error) {
	e.mu.Lock()
	h := e.hub
	e.mu.Unlock()
	return store.WarehouseLocation(ctx, h.Store.Read, e.shop, w.hubID)
}

// store is the running hub's store.
func (e *env) store() *store.Store {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hub.Store
}

func (e *env) close() {
	e.mu.Lock()
	h := e.hub
	e.mu.Unlock()
	if h != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h.Stop(sctx)
		cancel()
	}
	if e.killHub != nil {
		e.killHub()
	}
	for _, s := range e.servers {
		s.Close()
	}
	for _, w := range e.whs {
		if w.file != nil {
			w.file.close()
		}
		w.sim.Close()
	}
	if e.shopify != nil {
		e.shopify.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// advance moves the warehouses' clock by d, running every step due in
// between in order.
func (e *env) advance(d time.Duration) {
	target := e.clock.Now().Add(d)
	for {
		var next time.Time
		for _, w := range e.whs {
			if t, ok := w.sim.NextDue(); ok && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		if next.IsZero() || next.After(target) {
			break
		}
		if next.After(e.clock.Now()) {
			e.clock.Set(next)
		}
		for _, w := range e.whs {
			w.sim.Tick()
		}
	}
	e.clock.Set(target)
	for _, w := range e.whs {
		w.sim.Tick()
	}
}

// quiet waits (at most limit) until the hub has nothing left to do: Shopify
// delivered its webhooks, the inbox is drained and no job other than the
// periodic ones is waiting or running. Shopify's redeliveries after a
// failure back off for long; after 5 s they are not waited for any more
// (the hub's backfill does not need them).
func (e *env) quiet(ctx context.Context, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	calm := 0
	for calm < 3 && ctx.Err() == nil {
		idle := true
		if time.Since(start) < 5*time.Second {
			wctx, c := context.WithTimeout(ctx, 200*time.Millisecond)
			idle = e.shopify.WaitWebhooks(wctx) == nil
			c()
		}
		if idle && e.hubIdle(ctx) {
			calm++
		} else {
			calm = 0
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// periodicKinds are the jobs that run on a timer whatever happens.
var periodicKinds = []string{"inbox.drain", "stock.sync", "order.retry_held", "orders.backfill", "reconcile.run", "retention.prune", "alerts.evaluate"}

func (e *env) hubIdle(ctx context.Context) bool {
	st := e.store()
	var pending int
	if err := st.Read.QueryRowContext(ctx, `SELECT count(*) FROM webhook_event WHERE status = 'pending'`).Scan(&pending); err != nil || pending > 0 {
		return false
	}
	q := `SELECT kind FROM river_job WHERE state IN ('available', 'running') OR (state IN ('scheduled', 'retryable') AND scheduled_at < $1)`
	// River's SQLite driver writes times as text, "2006-01-02 15:04:05.000".
	rows, err := st.Read.QueryContext(ctx, q, time.Now().UTC().Add(2*time.Second).Format("2006-01-02 15:04:05.000"))
	if err != nil {
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		if rows.Scan(&kind) != nil {
			return false
		}
		periodic := false
		for _, p := range periodicKinds {
			if kind == p {
				periodic = true
			}
		}
		if !periodic {
			return false
		}
	}
	return rows.Err() == nil
}

// graphql sends a merchant's GraphQL request to the Shopify simulator (what
// the merchant does in the admin; not one of the hub's operations), retrying
// injected 429/5xx answers and THROTTLED.
func (e *env) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.shopURL+shopifysim.GraphQLPath, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Access-Token", simToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var answer struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		retry := res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500
		if !retry && res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(raw, &answer); err != nil {
				return fmt.Errorf("shopify simulator: %w", err)
			}
			if len(answer.Errors) > 0 {
				code, _ := answer.Errors[0].Extensions["code"].(string)
				retry = code == "THROTTLED"
			}
		}
		if retry && attempt < 40 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("shopify simulator answered %d: %s", res.StatusCode, raw)
		}
		if len(answer.Errors) > 0 {
			return errors.New(answer.Errors[0].Message)
		}
		if out != nil {
			return json.Unmarshal(answer.Data, out)
		}
		return nil
	}
}
