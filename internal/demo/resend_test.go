package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// noAmend hides a connector's Amender capability: a warehouse whose
// protocol has no amendment.
type noAmend struct{ connector.WMS }

// TestEditResentWhenConnectorCannotAmend: a warehouse whose connector
// cannot amend orders gets an edit before picking as cancel-and-resend —
// the warehouse cancels the order and receives the edited one under a new
// reference, ships it, and Shopify ends fulfilled with the edited
// quantity; nothing of the cancelled one ships.
func TestEditResentWhenConnectorCannotAmend(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	sims, err := demo.StartSims(demo.SimOptions{Seed: 81, WMSDelay: 3 * time.Second, RestoreRate: 20000, BucketSize: 40000, WebhookRetryBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sims.HubConfigDB(ln.Addr().String(), config.Database{Driver: string(store.SQLite), DSN: storetest.DSN(t, store.SQLite)})
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range h.Tenants.Shops() {
		for _, wh := range s.Warehouses {
			wh.WMS = noAmend{wh.WMS}
		}
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
	in := sims.OrderOf(demo.Address(0), sims.SKUs[4])
	in.Lines[0].Quantity = 3
	orderID, _, err := sims.Client().CreateOrder(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	wmsOrders := func() []wmssim.OrderState {
		var out []wmssim.OrderState
		for _, w := range sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				if o.OrderID == orderID {
					out = append(out, o)
				}
			}
		}
		return out
	}
	for {
		if os := wmsOrders(); len(os) == 1 {
			if os[0].State != wmssim.StateReceived && os[0].State != wmssim.StateAcknowledged {
				t.Fatalf("the warehouse is already at %s: no room to edit before picking", os[0].State)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the order never reached the warehouse")
		}
		time.Sleep(20 * time.Millisecond)
	}
	o, _ := sims.Shopify.Order(orderID)
	if _, err := sims.Shopify.EditOrder(orderID, shopifysim.OrderEdit{Quantities: map[string]int{o.LineItems[0].ID: 2}}); err != nil {
		t.Fatal(err)
	}
	for {
		o, _ := sims.Shopify.Order(orderID)
		if o.DisplayFulfillmentStatus == "FULFILLED" {
			break
		}
		if ctx.Err() != nil {
			tl, _ := store.Timeline(context.Background(), h.Store.Read, demo.ShopDomain, orderID)
			wos, _ := store.WarehouseOrdersOf(context.Background(), h.Store.Read, demo.ShopDomain, orderID)
			t.Fatalf("the edited order was never fulfilled: %+v; warehouse %+v; timeline %+v; hub's warehouse orders %+v", o, wmsOrders(), tl, wos)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var cancelled, shipped []wmssim.OrderState
	for _, w := range wmsOrders() {
		switch w.State {
		case wmssim.StateCancelled:
			cancelled = append(cancelled, w)
		case wmssim.StateShipped:
			shipped = append(shipped, w)
		}
	}
	if len(cancelled) != 1 || len(cancelled[0].Shipments) != 0 || len(shipped) != 1 {
		t.Fatalf("warehouse orders: %d cancelled, %d shipped; want the first cancelled unshipped and the resent one shipped", len(cancelled), len(shipped))
	}
	if got := shipped[0].Lines[0].Quantity; got != 2 || !strings.HasSuffix(shipped[0].ExternalRef, "-R2") {
		t.Errorf("resent order %s with %d units, want …-R2 with the edited 2", shipped[0].ExternalRef, got)
	}
	done, _ := sims.Shopify.Order(orderID)
	units := 0
	for _, f := range done.Fulfillments {
		for _, l := range f.LineItems {
			units += l.Quantity
		}
	}
	if units != 2 {
		t.Errorf("Shopify fulfilled %d units, want the edited 2", units)
	}
	tl, err := store.Timeline(ctx, h.Store.Read, demo.ShopDomain, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var resent int
	for _, e := range tl {
		if e.Kind == "resent" {
			resent++
		}
	}
	if resent != 1 {
		t.Errorf("%d resent entries on the timeline, want 1", resent)
	}
}
