package tryton_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/tryton"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

const e2eStock = 100

type e2e struct {
	sims *demo.Sims
	op   *tryton.Operator
	wh   tryton.Warehouse
	loc  string // the Tryton warehouse's Shopify location
	ctx  context.Context
	addr string // the hub's listen address
	logs *syncBuffer
}

// syncBuffer collects the hub's warnings for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.String()
	if len(b) > 8<<10 {
		b = "…" + b[len(b)-8<<10:]
	}
	return b
}

// setupE2E starts the Shopify simulator and a hub whose only warehouse is
// a fresh warehouse in the real Tryton, stocked with every SKU of the shop,
// and waits until the hub has published that stock to Shopify.
func setupE2E(t *testing.T) *e2e {
	t.Helper()
	p := tryton.RequirePeer(t)
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 4, RestoreRate: 20000, BucketSize: 40000,
		WebhookRetryBase: 100 * time.Millisecond, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	op := tryton.NewOperator(p)
	wh := op.NewWarehouse(t)
	stock := map[string]int{}
	for _, sku := range sims.SKUs {
		stock[sku] = e2eStock
	}
	op.SetStock(t, wh, stock)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sims.HubConfigDB(ln.Addr().String(), config.Database{Driver: string(store.SQLite), DSN: storetest.DSN(t, store.SQLite)})
	cfg.Shops[0].Warehouses = []config.Warehouse{{
		ID: "tryton", Name: "Tryton " + wh.Code, Rank: 1, PollInterval: config.Duration(200 * time.Millisecond),
		Connector: config.Connector{Kind: tryton.Kind, Settings: p.Settings("", wh.Code)},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	logs := &syncBuffer{}
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
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
	e := &e2e{sims: sims, op: op, wh: wh, ctx: ctx, addr: ln.Addr().String(), logs: logs}
	e.waitStock(t, stock)
	return e
}

// waitStock waits until Shopify shows want as available at the Tryton
// warehouse's location.
func (e *e2e) waitStock(t *testing.T, want map[string]int) {
	t.Helper()
	var diff string
	for {
		if e.loc == "" {
			for _, l := range e.sims.Shopify.Locations() {
				if l.Name == "Tryton "+e.wh.Code {
					e.loc = l.ID
				}
			}
		}
		got := map[string]int{}
		for sku := range want {
			if q, ok := e.sims.Shopify.InventoryLevel(sku, e.loc); ok {
				got[sku] = q.Available
			}
		}
		if diff = cmp.Diff(want, got); diff == "" {
			return
		}
		select {
		case <-e.ctx.Done():
			t.Fatalf("Shopify's available at the Tryton location (-want +got):\n%s", diff)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestHubShipsThroughTryton: orders created in the Shopify simulator reach
// Tryton as customer shipments, the operator ships them there with tracking
// numbers (some in several packages), and Shopify ends with every order
// fulfilled with exactly those numbers, and with Tryton's stock.
func TestHubShipsThroughTryton(t *testing.T) {
	t.Parallel()
	e := setupE2E(t)
	client := e.sims.Client()
	const n = 4
	var orders []string
	for i := range n {
		skus := e.sims.SKUs[:1+i%len(e.sims.SKUs)]
		id, _, err := client.CreateOrder(e.ctx, e.sims.OrderOf(demo.Address(i), skus...))
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, id)
	}

	// The operator works the warehouse until every order is fulfilled in
	// Shopify; odd rounds pack each line in its own parcel.
	byRef := map[string][]string{} // shipment reference → tracking numbers
	for round := 0; ; round++ {
		for _, s := range e.op.Settle(t, e.wh, tryton.SettleOptions{MultiPackage: round%2 == 1}) {
			byRef[s.Reference] = s.Tracking
		}
		if fulfilled(e.sims.Shopify, orders) {
			break
		}
		select {
		case <-e.ctx.Done():
			t.Fatalf("orders not fulfilled in Shopify; Tryton shipped %d shipments: %v; hub: %s", len(byRef), byRef, e.hubState(t, orders))
		case <-time.After(300 * time.Millisecond):
		}
	}

	shipped := map[string]int{}
	for _, id := range orders {
		o, _ := e.sims.Shopify.Order(id)
		if len(o.Fulfillments) != 1 {
			t.Errorf("%s: %d fulfillments, want 1", o.Name, len(o.Fulfillments))
		}
		var fo string
		for _, f := range o.FulfillmentOrders {
			if f.LocationID == e.loc {
				fo = f.ID
			}
		}
		ref := "CD-" + fo[strings.LastIndex(fo, "/")+1:]
		want, ok := byRef[ref]
		if !ok {
			t.Errorf("%s: Tryton shipped no shipment with reference %s", o.Name, ref)
			continue
		}
		var got []string
		for _, f := range o.Fulfillments {
			for _, tr := range f.Tracking {
				got = append(got, tr.Number)
			}
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (%s): tracking numbers in Shopify (-Tryton +Shopify):\n%s", o.Name, ref, d)
		}
		for _, li := range o.LineItems {
			if li.FulfilledQuantity != li.Quantity {
				t.Errorf("%s: line %s fulfilled %d of %d", o.Name, li.SKU, li.FulfilledQuantity, li.Quantity)
			}
			shipped[li.SKU] += li.Quantity
		}
	}
	if len(byRef) != n {
		t.Errorf("Tryton shipped %d shipments for %d orders", len(byRef), n)
	}

	// Stock out: Shopify ends with Tryton's stock after the shipments.
	want := map[string]int{}
	for _, sku := range e.sims.SKUs {
		want[sku] = e2eStock - shipped[sku]
	}
	e.waitStock(t, want)
}

// fulfilled reports whether every order is FULFILLED in Shopify.
func fulfilled(s *shopifysim.Server, orders []string) bool {
	for _, id := range orders {
		o, ok := s.Order(id)
		if !ok || o.DisplayFulfillmentStatus != "FULFILLED" {
			return false
		}
	}
	return true
}

// hubState is the hub's dead letters and the timelines of the orders not
// fulfilled, for failure messages.
func (e *e2e) hubState(t testing.TB, orders []string) string {
	var b strings.Builder
	paths := []string{"/api/v1/deadletters", "/api/v1/connectors"}
	for _, id := range orders {
		if o, ok := e.sims.Shopify.Order(id); !ok || o.DisplayFulfillmentStatus != "FULFILLED" {
			paths = append(paths, "/api/v1/orders/timeline?shop="+url.QueryEscape(demo.ShopDomain)+"&id="+url.QueryEscape(id))
		}
	}
	for _, path := range paths {
		resp, err := http.Get("http://" + e.addr + path)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", path, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body.Close()
		fmt.Fprintf(&b, "%s: %s\n", path, body)
	}
	// Tryton's side of the feed: each shipment's state and write_date, to
	// compare with the hub's feed cursor (in /api/v1/connectors above).
	fmt.Fprintf(&b, "tryton shipments: %s\n", e.op.Shipments(t, e.wh))
	fmt.Fprintf(&b, "hub warnings:\n%s", e.logs)
	return b.String()
}
