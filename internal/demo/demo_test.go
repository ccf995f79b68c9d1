package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

type bundle struct {
	sims *demo.Sims
	hub  *hub.Hub
	ctx  context.Context
}

func setup(t *testing.T, d store.Dialect, opt demo.SimOptions) *bundle {
	t.Helper()
	if opt.RestoreRate == 0 {
		opt.RestoreRate, opt.BucketSize = 20000, 40000
	}
	if opt.WebhookRetryBase == 0 {
		opt.WebhookRetryBase = 100 * time.Millisecond
	}
	sims, err := demo.StartSims(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db := config.Database{Driver: string(d), DSN: storetest.DSN(t, d)}
	cfg := sims.HubConfigDB(ln.Addr().String(), db)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx, ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		h.Stop(sctx)
	})
	if err := sims.WaitStockPublished(ctx); err != nil {
		t.Fatal(err)
	}
	return &bundle{sims: sims, hub: h, ctx: ctx}
}

// TestOrdersFlowOnEveryStore runs orders end to end with duplicated and
// reordered webhooks on each store dialect and checks the simulators.
func TestOrdersFlowOnEveryStore(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			b := setup(t, d, demo.SimOptions{DuplicateRate: 0.3, ReorderRate: 0.2, Seed: 11})
			const n = 60
			if _, err := b.sims.CreateOrders(b.ctx, n, 8, 0); err != nil {
				t.Fatal(err)
			}
			sum := b.sims.WaitSettled(b.ctx, n)
			if !sum.Settled {
				t.Fatalf("not settled: %v", sum.Problems)
			}
			if sum.WebhooksDuplicatedByShopify == 0 {
				t.Fatal("the simulator duplicated no webhook: the test proves nothing")
			}
			if sum.PerWarehouse["paris"].Orders == 0 || sum.PerWarehouse["newark"].Orders == 0 {
				t.Fatalf("routing used one warehouse only: %+v", sum.PerWarehouse)
			}
			wants := []string{
				`crossdock_webhooks_total{outcome="accepted"}`,
				`crossdock_orders{state="fulfilled"} 60`,
				`crossdock_shopify_throttle_available_points{shop="crossdock-demo.myshopify.com"}`,
				`crossdock_wms_feed_lag_seconds{shop="crossdock-demo.myshopify.com",warehouse="paris"}`,
				`crossdock_job_queue_wait_seconds_count{kind="order.route"}`,
				`crossdock_job_run_seconds_count{kind="shipment.fulfil",outcome="completed"}`,
				`crossdock_stock_sync_age_seconds{shop="crossdock-demo.myshopify.com"}`,
				`crossdock_discrepancies_open{kind="order.missing"}`,
			}
			var metrics string
			var missing []string
			// The hub records an order fulfilled just after Shopify has it, and
			// the job queue reports a completed job only when its completer
			// flushes: poll until every series is there or the deadline passes.
			deadline := time.Now().Add(10 * time.Second)
			for {
				metrics = get(t, "http://"+b.hub.Addr()+"/metrics")
				missing = missing[:0]
				for _, want := range wants {
					if !strings.Contains(metrics, want) {
						missing = append(missing, want)
					}
				}
				if len(missing) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, m := range missing {
				t.Errorf("/metrics lacks %s", m)
			}
			if strings.Contains(metrics, `crossdock_webhooks_total{outcome="accepted"} 0`) {
				t.Error("/metrics counts no accepted webhook")
			}
		})
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestBackfillRecoversLostWebhooks drops every webhook: polling alone must
// bring every order through, and say so on the timeline.
func TestBackfillRecoversLostWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, demo.SimOptions{DropRate: 1, Seed: 12})
	const n = 10
	if _, err := b.sims.CreateOrders(b.ctx, n, 4, 0); err != nil {
		t.Fatal(err)
	}
	sum := b.sims.WaitSettled(b.ctx, n)
	if !sum.Settled || sum.WebhooksDroppedByShopify == 0 {
		t.Fatalf("not settled or nothing dropped: %+v", sum)
	}
	orders, err := store.ListOrders(b.ctx, b.hub.Store.Read, "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, o.Shop, o.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) == 0 || tl[0].Kind != "recovered" || !strings.Contains(tl[0].Message, "no webhook") {
			t.Fatalf("order %s timeline does not start with the recovery: %+v", o.Name, tl)
		}
	}
}

// TestTimelineTellsTheStory checks one order's timeline, in order.
func TestTimelineTellsTheStory(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 13})
	id, _, err := b.sims.Client().CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(0), b.sims.SKUs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if sum := b.sims.WaitSettled(b.ctx, 1); !sum.Settled {
		t.Fatalf("not settled: %v", sum.Problems)
	}
	var kinds []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
		if err != nil {
			t.Fatal(err)
		}
		kinds = kinds[:0]
		for _, e := range tl {
			kinds = append(kinds, e.Kind)
		}
		if len(kinds) > 0 && kinds[len(kinds)-1] == "fulfilled" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := []string{"received", "routed", "requested", "accepted", "sent", "acknowledged", "shipped", "fulfilled"}
	i := 0
	for _, k := range kinds {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("timeline kinds %v do not contain %v in order", kinds, want)
	}
	o, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
	if err != nil || o.State != store.OrderFulfilled {
		t.Fatalf("order = %+v, %v", o, err)
	}
}

// TestUnroutableOrderIsHeldWithReason: a SKU no warehouse stocks puts the
// fulfillment order on hold in Shopify with the reason.
func TestUnroutableOrderIsHeldWithReason(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 14})
	if err := b.sims.AddSKU("CD-NOWHERE"); err != nil {
		t.Fatal(err)
	}
	id, _, err := b.sims.Client().CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), b.sims.SKUs[0], "CD-NOWHERE"))
	if err != nil {
		t.Fatal(err)
	}
	addr := demo.Address(2)
	addr.City = ""
	id2, _, err := b.sims.Client().CreateOrder(b.ctx, b.sims.OrderOf(addr, b.sims.SKUs[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, reason, why string }{
		{id, "INVENTORY_OUT_OF_STOCK", "CD-NOWHERE (needs 1, has 0)"},
		{id2, "INCORRECT_ADDRESS", "missing city"},
	} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			o, ok := b.sims.Shopify.Order(c.id)
			if ok && len(o.FulfillmentOrders) > 0 && o.FulfillmentOrders[0].Status == "ON_HOLD" {
				h := o.FulfillmentOrders[0].Holds
				if len(h) == 0 || h[0].Reason != c.reason {
					t.Fatalf("holds = %+v, want reason %s", h, c.reason)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s never held: %+v", c.id, o)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The hub records the hold right after Shopify confirms it.
		for {
			so, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, c.id)
			if err == nil && so.State == store.OrderHeld {
				if !strings.Contains(so.StateReason, c.why) {
					t.Fatalf("hub order held with %q, want %q", so.StateReason, c.why)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("hub order = %+v, %v; want held with %q", so, err, c.why)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, w := range b.sims.Warehouses {
		for _, o := range w.Sim.Orders() {
			if o.OrderID == id || o.OrderID == id2 {
				t.Fatalf("held order reached %s", w.ID)
			}
		}
	}
}

// TestCancellationFollowsTheWarehouse: a cancellation request before
// picking is accepted and nothing ships; after picking it is rejected with
// the warehouse's reason, an incident is recorded, and the order ships and
// is fulfilled once.
func TestCancellationFollowsTheWarehouse(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 15, WMSDelay: 700 * time.Millisecond})
	client := b.sims.Client()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wmsState := func(orderID string) string {
		for _, w := range b.sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				if o.OrderID == orderID {
					return string(o.State)
				}
			}
		}
		return ""
	}
	fo := func(orderID string) (status, request string, fulfillments int) {
		o, _ := b.sims.Shopify.Order(orderID)
		if len(o.FulfillmentOrders) == 0 {
			return "", "", 0
		}
		return o.FulfillmentOrders[0].Status, o.FulfillmentOrders[0].RequestStatus, len(o.Fulfillments)
	}
	cancelRequest := func(orderID string) {
		o, _ := b.sims.Shopify.Order(orderID)
		if _, err := client.SubmitCancellationRequest(b.ctx, o.FulfillmentOrders[0].ID, "customer changed their mind"); err != nil {
			t.Fatal(err)
		}
	}

	early, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(0), b.sims.SKUs[0]))
	if err != nil {
		t.Fatal(err)
	}
	late, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), b.sims.SKUs[1]))
	if err != nil {
		t.Fatal(err)
	}

	wait("the early order at the warehouse", func() bool { s := wmsState(early); return s == "received" || s == "acknowledged" })
	cancelRequest(early)
	wait("the early cancellation answered", func() bool { st, _, _ := fo(early); return st == "CANCELLED" })
	if s := wmsState(early); s != "cancelled" {
		t.Fatalf("warehouse state %q after an accepted cancellation", s)
	}

	wait("the late order picking", func() bool { s := wmsState(late); return s == "picking" || s == "packed" })
	cancelRequest(late)
	wait("the late cancellation answered", func() bool { _, rs, _ := fo(late); return rs == "CANCELLATION_REJECTED" })
	wait("the late order fulfilled", func() bool { _, _, n := fo(late); return n == 1 })
	if s := wmsState(late); s != "shipped" {
		t.Fatalf("late order warehouse state %q, want shipped", s)
	}

	for _, c := range []struct{ id, state, kind, text string }{
		{early, store.OrderCancelled, "cancelled", "before picking"},
		{late, store.OrderFulfilled, "incident", "cannot cancel"},
	} {
		wait("hub state of "+c.id, func() bool {
			o, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, c.id)
			return err == nil && o.State == c.state
		})
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, c.id)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range tl {
			found = found || (e.Kind == c.kind && strings.Contains(e.Message, c.text))
		}
		if !found {
			t.Fatalf("timeline of %s has no %s entry mentioning %q: %+v", c.id, c.kind, c.text, tl)
		}
	}
	if st := b.sims.Shopify.Stats(); st.RejectedOverfulfillments != 0 {
		t.Fatalf("fulfillment refused by Shopify: %+v", st)
	}
}
