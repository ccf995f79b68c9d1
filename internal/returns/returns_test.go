package returns_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/restwms"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/returns"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmssim"
)

const shop = "a.myshopify.com"

// noReturns is a REST connector without the Returner capability.
type noReturns struct{ connector.WMS }

func init() {
	connector.Register(connector.Info{Kind: "rest-without-returns", Summary: "test: REST without returns",
		New: func(cfg map[string]any) (connector.WMS, error) {
			c, err := restwms.NewFromMap(cfg)
			if err != nil {
				return nil, err
			}
			return noReturns{c}, nil
		}})
}

// jobs records the jobs enqueued.
type jobs struct {
	mu   sync.Mutex
	args []river.JobArgs
}

func (j *jobs) InsertTx(_ context.Context, _ *sql.Tx, a river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.args = append(j.args, a)
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{}}, nil
}

type env struct {
	ctx      context.Context
	st       *store.Store
	shopify  *shopifysim.Server
	wms      *wmssim.Server
	reg      *tenant.Registry
	jobs     *jobs
	loc      string // the warehouse's Shopify location
	orderID  string
	ref      string // its warehouse order
	notify   *returns.NotifyWorker
	disposer *returns.DisposeWorker
}

// setup builds a shop whose warehouse "paris" (kind) shipped an order of
// 2 × SKU-A, fulfilled in Shopify and recorded in the hub.
func setup(t *testing.T, kind string, d ...store.Dialect) *env {
	t.Helper()
	ctx := context.Background()
	sim := shopifysim.New(shopifysim.Config{ShopDomain: shop, AccessToken: "tok", WebhookSecret: "s", Seed: 1})
	t.Cleanup(sim.Close)
	if _, err := sim.AddProducts([]shopifysim.ProductInput{{Title: "Tee", Variants: []shopifysim.VariantInput{{SKU: "SKU-A", Price: "10"}}}}); err != nil {
		t.Fatal(err)
	}
	sts := httptest.NewServer(sim)
	t.Cleanup(sts.Close)
	wms := wmssim.New(wmssim.Config{Name: "paris", Stock: map[string]int{"SKU-A": 10}})
	wts := httptest.NewServer(wms)
	t.Cleanup(wts.Close)

	cfg := &config.Config{Shops: []config.Shop{{Domain: shop, APIURL: sts.URL, AccessToken: "tok"}}}
	bare, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s0, _ := bare.Shop(shop)
	_, loc, err := s0.Shopify.CreateFulfillmentService(ctx, "Paris", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Shops[0].Warehouses = []config.Warehouse{{ID: "paris", Name: "Paris", Rank: 1, LocationID: loc,
		Connector: config.Connector{Kind: kind, Settings: map[string]any{"base_url": wts.URL}}}}
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := reg.Shop(shop)
	client := ts.Shopify
	if err := sim.SetInventory("SKU-A", loc, shopifysim.InventoryQuantities{Available: 10}); err != nil {
		t.Fatal(err)
	}
	variant := sim.Products()[0].Variants[0].ID
	orderID, name, err := client.CreateOrder(ctx, shopify.OrderInput{Email: "a@example.com",
		Lines:           []shopify.OrderLineInput{{VariantID: variant, Quantity: 2}},
		ShippingAddress: order.Address{Name: "Ada Lovelace", Address1: "1 Main St", City: "Paris", PostalCode: "75001", CountryCode: "FR"}})
	if err != nil {
		t.Fatal(err)
	}
	so, _ := sim.Order(orderID)
	fo := so.FulfillmentOrders[0].ID
	if _, err := client.SubmitFulfillmentRequest(ctx, fo, "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AcceptFulfillmentRequest(ctx, fo, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateFulfillment(ctx, shopify.FulfillmentInput{FulfillmentOrderID: fo, Company: "UPS", Numbers: []string{"1Z1"}}); err != nil {
		t.Fatal(err)
	}

	dialect := store.SQLite
	if len(d) > 0 {
		dialect = d[0]
	}
	st := storetest.Open(t, dialect)
	wo := &order.WarehouseOrder{ExternalRef: "CD-1", Shop: shop, Warehouse: "paris", OrderID: orderID, OrderName: name, FulfillmentOrderID: fo,
		ShipTo: order.Address{Name: "Ada Lovelace", Address1: "1 Main St", City: "Paris", PostalCode: "75001", CountryCode: "FR"},
		Lines:  []order.Line{{LineNo: 1, SKU: "SKU-A", Quantity: 2}}}
	if _, err := store.InsertWarehouseOrder(ctx, st.Write, wo, order.ProgressShipped); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.InsertShipment(ctx, st.Write, shop, "paris", &order.Shipment{ID: "S1", ExternalRef: "CD-1", ShippedAt: time.Now(),
		Lines: []order.ShipmentLine{{LineNo: 1, SKU: "SKU-A", Quantity: 2}}, Packages: []order.Package{{ID: "P1", TrackingNumber: "1Z1"}}}); err != nil {
		t.Fatal(err)
	}
	wh, _ := ts.Warehouse("paris")
	if _, err := wh.WMS.SubmitOrder(ctx, wo); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	return &env{ctx: ctx, st: st, shopify: sim, wms: wms, reg: reg, jobs: &jobs{}, loc: loc, orderID: orderID, ref: "CD-1",
		notify:   &returns.NotifyWorker{Store: st, Tenants: reg, Logger: log},
		disposer: &returns.DisposeWorker{Store: st, Tenants: reg, Logger: log}}
}

// open opens a return in Shopify and records it as the drain does.
func (e *env) open(t *testing.T, qty int) shopifysim.ReturnState {
	t.Helper()
	ret, err := e.shopify.CreateReturn(e.orderID, []shopifysim.ReturnLineInput{{SKU: "SKU-A", Quantity: qty}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := shopify.DecodeReturnWebhook([]byte(`{"admin_graphql_api_id":"` + ret.ID + `","order":{"id":1,"admin_graphql_api_id":"` + e.orderID + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a duplicate delivery changes nothing
		if err := e.st.InTx(e.ctx, func(tx *store.Tx) error { return returns.Opened(e.ctx, tx, e.jobs, shop, w, time.Now(), "wh-1") }); err != nil {
			t.Fatal(err)
		}
	}
	return ret
}

// receive has the warehouse receive lines and applies its event as the
// feed does; it returns the event's id and outcome.
func (e *env) receive(t *testing.T, returnID string, lines ...wmssim.ReturnReceiptLine) (string, string) {
	t.Helper()
	if err := e.wms.ReceiveReturn(returnID, lines); err != nil {
		t.Fatal(err)
	}
	evs := e.wms.Events()
	ev := evs[len(evs)-1]
	return ev.ID, e.apply(t, &ev)
}

func (e *env) apply(t *testing.T, ev *connector.Event) string {
	t.Helper()
	wo, err := store.GetWarehouseOrderByRef(e.ctx, e.st.Read, shop, e.ref)
	if err != nil {
		t.Fatal(err)
	}
	var outcome string
	err = e.st.InTx(e.ctx, func(tx *store.Tx) error {
		var err error
		outcome, err = returns.Received(e.ctx, tx, e.jobs, shop, "paris", wo, ev, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return outcome
}

func (e *env) dispositions(t *testing.T, returnID string) []shopifysim.DispositionState {
	t.Helper()
	var out []shopifysim.DispositionState
	for _, r := range e.shopify.Returns() {
		if r.ID == returnID {
			for _, f := range r.ReverseFulfillmentOrders {
				for _, l := range f.Lines {
					out = append(out, l.Dispositions...)
				}
			}
		}
	}
	return out
}

func (e *env) timeline(t *testing.T, kind string) []string {
	t.Helper()
	tl, err := store.Timeline(e.ctx, e.st.Read, shop, e.orderID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range tl {
		if en.Kind == kind {
			out = append(out, en.Message)
		}
	}
	return out
}

// TestReturnAnnouncedReceivedAndDisposedOnce runs on every store dialect.
func TestReturnAnnouncedReceivedAndDisposedOnce(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			testAnnouncedReceivedDisposed(t, d)
		})
	}
}

func testAnnouncedReceivedDisposed(t *testing.T, d store.Dialect) {
	e := setup(t, restwms.Kind, d)
	ret := e.open(t, 2)
	if n := len(e.jobs.args); n != 1 {
		t.Fatalf("%d jobs enqueued for one return delivered twice, want 1", n)
	}
	for range 2 { // a retried notice announces nothing twice
		if err := e.notify.Notify(e.ctx, shop, ret.ID); err != nil {
			t.Fatal(err)
		}
	}
	rs := e.wms.Returns()
	if len(rs) != 1 || rs[0].ExternalRef != e.ref || rs[0].Name != ret.Name ||
		!cmp.Equal(rs[0].Expected, []connector.ReturnLine{{SKU: "SKU-A", Quantity: 2}}) {
		t.Fatalf("warehouse returns %+v", rs)
	}
	if got := e.timeline(t, returns.TimelineExpected); len(got) != 1 || !strings.Contains(got[0], "2 × SKU-A expected back") {
		t.Errorf("timeline %q", got)
	}
	before, _ := e.shopify.InventoryLevel("SKU-A", e.loc)

	evID, outcome := e.receive(t, ret.ID, wmssim.ReturnReceiptLine{SKU: "SKU-A", Quantity: 1, Condition: "restockable"},
		wmssim.ReturnReceiptLine{SKU: "SKU-A", Quantity: 1, Condition: "damaged"})
	if outcome != "applied" {
		t.Fatalf("outcome %q", outcome)
	}
	var wg sync.WaitGroup
	for range 3 { // concurrent and repeated jobs dispose once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.disposer.Dispose(e.ctx, shop, "paris", evID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := []shopifysim.DispositionState{{Type: "NOT_RESTOCKED", Quantity: 1}, {Type: "RESTOCKED", Quantity: 1, LocationID: e.loc}}
	if diff := cmp.Diff(want, e.dispositions(t, ret.ID)); diff != "" {
		t.Errorf("dispositions (-want +got):\n%s", diff)
	}
	if after, _ := e.shopify.InventoryLevel("SKU-A", e.loc); after.Available != before.Available+1 {
		t.Errorf("available %d → %d, want +1", before.Available, after.Available)
	}
	got := e.timeline(t, returns.TimelineDisposed)
	wantMsg := "return " + ret.Name + " received at Paris: 1 × SKU-A restocked at Paris; 1 × SKU-A damaged, not restocked; refund decision needed"
	if len(got) != 1 || got[0] != wantMsg {
		t.Errorf("timeline %q, want once %q", got, wantMsg)
	}
	ds, err := store.ListDiscrepancies(e.ctx, e.st.Read, store.DiscrepancyFilter{Shop: shop, Kind: returns.KindDamaged, State: "open"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Count != 1 || ds[0].Entities["return"] != ret.ID || ds[0].Entities["order"] != e.orderID {
		t.Errorf("discrepancies %+v", ds)
	}

	// Closing the return in Shopify (the refund decided) closes the incident.
	if err := e.shopify.CloseReturn(ret.ID); err != nil {
		t.Fatal(err)
	}
	cw, err := shopify.DecodeReturnWebhook([]byte(`{"admin_graphql_api_id":"` + ret.ID + `","order_id":1,"status":"closed"}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a duplicate delivery changes nothing
		if err := e.st.InTx(e.ctx, func(tx *store.Tx) error { return returns.Closed(e.ctx, tx, shop, cw, time.Now(), "wh-2") }); err != nil {
			t.Fatal(err)
		}
	}
	if ds, _ := store.ListDiscrepancies(e.ctx, e.st.Read, store.DiscrepancyFilter{Shop: shop, Kind: returns.KindDamaged, State: "open"}); len(ds) != 0 {
		t.Errorf("open discrepancies after the return closed: %+v", ds)
	}
	if got := e.timeline(t, returns.TimelineClosed); len(got) != 1 || !strings.Contains(got[0], "1 incident(s) closed") {
		t.Errorf("timeline %q", got)
	}

	// The same event fed again is a duplicate; nothing is disposed twice.
	evs := e.wms.Events()
	if out := e.apply(t, &evs[len(evs)-1]); out != "duplicate receipt" {
		t.Errorf("replayed event: %q", out)
	}
	if n := len(e.dispositions(t, ret.ID)); n != 2 {
		t.Errorf("%d dispositions after a replay, want 2", n)
	}
}

func TestReceiptBeyondTheReturnIsAnIncident(t *testing.T) {
	t.Parallel()
	e := setup(t, restwms.Kind)
	ret := e.open(t, 1)
	if err := e.notify.Notify(e.ctx, shop, ret.ID); err != nil {
		t.Fatal(err)
	}
	evID, _ := e.receive(t, ret.ID, wmssim.ReturnReceiptLine{SKU: "SKU-A", Quantity: 2, Condition: "restockable"})
	if err := e.disposer.Dispose(e.ctx, shop, "paris", evID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]shopifysim.DispositionState{{Type: "RESTOCKED", Quantity: 1, LocationID: e.loc}}, e.dispositions(t, ret.ID)); diff != "" {
		t.Errorf("dispositions (-want +got):\n%s", diff)
	}
	if got := e.timeline(t, "incident"); len(got) != 1 || !strings.Contains(got[0], "1 × SKU-A received at Paris beyond what the return lists") {
		t.Errorf("incidents %q", got)
	}
}

func TestBadReceiptsAreQuarantined(t *testing.T) {
	t.Parallel()
	e := setup(t, restwms.Kind)
	ret := e.open(t, 1)
	for _, tc := range []struct {
		name string
		r    *connector.ReturnReceipt
		want string
	}{
		{"no return", nil, "no return id"},
		{"no lines", &connector.ReturnReceipt{ReturnID: ret.ID}, "no lines"},
		{"unknown return", &connector.ReturnReceipt{ReturnID: "gid://shopify/Return/1", Lines: []connector.ReturnReceiptLine{{SKU: "SKU-A", Quantity: 1, Condition: "damaged"}}}, "unknown to the hub"},
		{"bad condition", &connector.ReturnReceipt{ReturnID: ret.ID, Lines: []connector.ReturnReceiptLine{{SKU: "SKU-A", Quantity: 1, Condition: "scratched"}}}, "condition"},
		{"bad quantity", &connector.ReturnReceipt{ReturnID: ret.ID, Lines: []connector.ReturnReceiptLine{{SKU: "SKU-A", Quantity: 0, Condition: "damaged"}}}, "quantity 0"},
	} {
		ev := &connector.Event{ID: "E-" + tc.name, Type: connector.EventReturnReceived, ExternalRef: e.ref, Return: tc.r}
		if out := e.apply(t, ev); !strings.HasPrefix(out, "quarantined: ") || !strings.Contains(out, tc.want) {
			t.Errorf("%s: outcome %q, want quarantined with %q", tc.name, out, tc.want)
		}
	}
	if n := len(e.timeline(t, returns.TimelineQuarantine)); n != 5 {
		t.Errorf("%d quarantine entries on the timeline, want 5", n)
	}
	for _, a := range e.jobs.args {
		if _, ok := a.(returns.DisposeArgs); ok {
			t.Errorf("a quarantined receipt enqueued %+v", a)
		}
	}
}

func TestWarehouseWithoutReturnsGetsAnIncident(t *testing.T) {
	t.Parallel()
	e := setup(t, "rest-without-returns")
	ret := e.open(t, 2)
	if err := e.notify.Notify(e.ctx, shop, ret.ID); err != nil {
		t.Fatalf("Notify: %v (want an incident, not an error)", err)
	}
	if got := e.timeline(t, returns.TimelineUnsupported); len(got) != 1 || !strings.Contains(got[0], "warehouse Paris cannot receive return notices") {
		t.Errorf("timeline %q", got)
	}
	ds, err := store.ListDiscrepancies(e.ctx, e.st.Read, store.DiscrepancyFilter{Shop: shop, Kind: returns.KindUnsupported, State: "open"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("discrepancies %+v, %v", ds, err)
	}
	r, err := store.GetReturn(e.ctx, e.st.Read, shop, ret.ID)
	if err != nil || r.State != store.ReturnUnsupported {
		t.Errorf("return %+v, %v", r, err)
	}
	if n := len(e.wms.Returns()); n != 0 {
		t.Errorf("the warehouse holds %d returns", n)
	}
}
