package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// TestHoldReleasedWhenMappingAdded: an order for a SKU no warehouse knows
// is put on hold in Shopify with the reason. The warehouse does stock the
// article, under its own item code; once an operator adds the mapping, the
// hub sees the stock under the SKU, routes the held order again, releases
// the hold and the order ships by itself — nobody touches the order.
func TestHoldReleasedWhenMappingAdded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	sims, err := demo.StartSims(demo.SimOptions{Seed: 51, RestoreRate: 20000, BucketSize: 40000, WebhookRetryBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	// The new article: in Shopify as NEW-1, in Paris's item master as
	// PAR-77 (50 units), unknown to Newark.
	ps, err := sims.Shopify.AddProducts([]shopifysim.ProductInput{{Title: "New article", Variants: []shopifysim.VariantInput{{SKU: "NEW-1", Price: "12.00"}}}})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db := config.Database{Driver: string(store.SQLite), DSN: storetest.DSN(t, store.SQLite)}
	cfg := sims.HubConfigDB(ln.Addr().String(), db)
	cfg.Shops[0].HeldRetryInterval = config.Duration(300 * time.Millisecond)
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
	sims.Warehouses[0].Sim.SetStock(map[string]int{"PAR-77": 50})
	in := shopify.OrderInput{ShippingAddress: demo.Address(2), Email: "held@example.com",
		Lines: []shopify.OrderLineInput{{VariantID: ps[0].Variants[0].ID, Quantity: 2}}}
	orderID, _, err := sims.Client().CreateOrder(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func(shopifysim.OrderState) bool) shopifysim.OrderState {
		t.Helper()
		for {
			o, _ := sims.Shopify.Order(orderID)
			if ok(o) {
				return o
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting for %s: order %+v", what, o)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	held := wait("the hold", func(o shopifysim.OrderState) bool {
		return len(o.FulfillmentOrders) > 0 && len(o.FulfillmentOrders[0].Holds) > 0
	})
	if fo := held.FulfillmentOrders[0]; fo.Status != "ON_HOLD" {
		t.Fatalf("fulfillment order %+v, want on hold", fo)
	}
	// Still held a few retries later: nothing has changed.
	time.Sleep(time.Second)
	if o, _ := sims.Shopify.Order(orderID); len(o.FulfillmentOrders[0].Holds) == 0 {
		t.Fatal("the hold was released before anything was fixed")
	}

	tbl := mapping.New(h.Store)
	if _, err := tbl.Set(ctx, demo.ShopDomain, mapping.Mapping{Warehouse: "paris", SKU: "NEW-1", ItemCode: "PAR-77", PackSize: 1, EffectiveFrom: time.Now().Add(-time.Hour)},
		mapping.Author{Actor: "ops@brand", Reason: "Paris stocks the new article as PAR-77"}); err != nil {
		t.Fatal(err)
	}
	done := wait("the order to ship", func(o shopifysim.OrderState) bool { return o.DisplayFulfillmentStatus == "FULFILLED" })
	for _, fo := range done.FulfillmentOrders {
		if len(fo.Holds) > 0 {
			t.Errorf("fulfillment order %s still has holds %+v", fo.ID, fo.Holds)
		}
	}
	// Paris shipped PAR-77, and the timeline says why the order waited and
	// when it resumed.
	var shipped bool
	for _, o := range sims.Warehouses[0].Sim.Orders() {
		if o.OrderID == orderID {
			shipped = len(o.Shipments) > 0 && o.Shipments[0].Lines[0].SKU == "PAR-77"
		}
	}
	if !shipped {
		t.Error("Paris did not ship PAR-77 for the order")
	}
	tl, err := store.Timeline(ctx, h.Store.Read, demo.ShopDomain, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	for _, k := range []string{"held", "hold_released", "shipped"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("timeline %v lacks %q", kinds, k)
		}
	}
}
