package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

type bundle struct {
	sims *demo.Sims
	hub  *hub.Hub
	ctx  context.Context
}

// setup runs a hub against the demo simulators with the given unknown-SKU
// policy, once it has read the warehouses' stock.
func setup(t *testing.T, d store.Dialect, policy config.UnknownSKUPolicy) *bundle {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 8, Seed: 21, RestoreRate: 20000, BucketSize: 40000, WebhookRetryBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sims.HubConfigDB(ln.Addr().String(), config.Database{Driver: string(d), DSN: storetest.DSN(t, d)})
	cfg.Shops[0].Policies.UnknownSKU = policy
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	// Dispatch routes on the stock the hub has read from the warehouses.
	for _, w := range sims.Warehouses {
		for {
			levels, err := store.StockLevels(ctx, h.Store.Read, demo.ShopDomain, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(levels) > 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the hub never read %s's stock", w.ID)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return &bundle{sims: sims, hub: h, ctx: ctx}
}

// waitFO waits until the order's first fulfillment order satisfies ok.
func (b *bundle) waitFO(t *testing.T, id string, ok func(shopifysim.FulfillmentOrderState) bool) shopifysim.FulfillmentOrderState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		o, found := b.sims.Shopify.Order(id)
		if found && len(o.FulfillmentOrders) > 0 && ok(o.FulfillmentOrders[0]) {
			return o.FulfillmentOrders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s: fulfillment order never reached the expected state: %+v", id, o.FulfillmentOrders)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitState waits until the hub records the order in state.
func (b *bundle) waitState(t *testing.T, id, state string) *store.Order {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		so, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
		if err == nil && so.State == state {
			return so
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub order = %+v, %v; want state %s", so, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnknownSKUPolicy(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d)+"/reject", func(t *testing.T) {
			t.Parallel()
			b := setup(t, d, config.UnknownSKUReject)
			if err := b.sims.AddSKU("CD-NOWHERE"); err != nil {
				t.Fatal(err)
			}
			id, _, err := b.sims.Client().CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), b.sims.SKUs[0], "CD-NOWHERE"))
			if err != nil {
				t.Fatal(err)
			}
			b.waitFO(t, id, func(fo shopifysim.FulfillmentOrderState) bool { return fo.RequestStatus == "REJECTED" })
			so := b.waitState(t, id, store.OrderRejected)
			if want := "SKU CD-NOWHERE unknown to every warehouse; policy unknown_sku: reject"; so.StateReason != want {
				t.Errorf("reason = %q, want %q", so.StateReason, want)
			}
			for _, w := range b.sims.Warehouses {
				for _, o := range w.Sim.Orders() {
					if o.OrderID == id {
						t.Fatalf("rejected order reached %s", w.ID)
					}
				}
			}
		})
		t.Run(string(d)+"/hold", func(t *testing.T) {
			t.Parallel()
			b := setup(t, d, config.UnknownSKUHold)
			if err := b.sims.AddSKU("CD-NOWHERE"); err != nil {
				t.Fatal(err)
			}
			id, _, err := b.sims.Client().CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), "CD-NOWHERE"))
			if err != nil {
				t.Fatal(err)
			}
			fo := b.waitFO(t, id, func(fo shopifysim.FulfillmentOrderState) bool { return fo.Status == "ON_HOLD" })
			if len(fo.Holds) == 0 || fo.Holds[0].Reason != "INVENTORY_OUT_OF_STOCK" || !strings.Contains(fo.Holds[0].Notes, "policy unknown_sku: hold") {
				t.Errorf("holds = %+v", fo.Holds)
			}
			so := b.waitState(t, id, store.OrderHeld)
			if !strings.Contains(so.StateReason, "SKU CD-NOWHERE unknown to every warehouse") {
				t.Errorf("reason = %q", so.StateReason)
			}
		})
	}
}
