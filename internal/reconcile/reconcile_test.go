package reconcile_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/reconcile"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
)

const hookURI = "http://127.0.0.1:9/webhooks/shopify"

// clock is the controlled clock of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// jobs records the jobs the auto-heals enqueue.
type jobs struct {
	mu    sync.Mutex
	kinds []string
}

func (j *jobs) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.kinds = append(j.kinds, args.Kind())
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{Kind: args.Kind()}}, nil
}

func (j *jobs) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	k := j.kinds
	j.kinds = nil
	sort.Strings(k)
	return k
}

type bundle struct {
	sims  *demo.Sims
	st    *store.Store
	shop  *tenant.Shop
	w     *reconcile.Worker
	clock *clock
	jobs  *jobs
	ctx   context.Context
}

func setup(t *testing.T, d store.Dialect, sla config.SLA) *bundle {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 5, RestoreRate: 20000, BucketSize: 40000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	cfg := sims.HubConfig("127.0.0.1:9", "unused.db")
	cfg.Shops[0].SLA = sla
	reg, err := tenant.New(cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{sims: sims, st: storetest.Open(t, d), clock: &clock{now: time.Now().UTC().Truncate(time.Second)}, jobs: &jobs{}, ctx: context.Background()}
	b.shop, _ = reg.Shop(demo.ShopDomain)
	b.w = &reconcile.Worker{Store: b.st, Jobs: b.jobs, Tenants: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebhookURI: hookURI, Now: b.clock.Now, Holder: "test"}
	// The hub's subscriptions, as PrepareShops made them.
	if _, err := b.shop.Shopify.EnsureWebhooks(b.ctx, hookURI, shopify.HubTopics()); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) run(t *testing.T) reconcile.Report {
	t.Helper()
	r, err := b.w.Run(b.ctx, demo.ShopDomain)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return r
}

// open returns the open discrepancies' keys.
func (b *bundle) open(t *testing.T) []string {
	t.Helper()
	ds, err := store.ListDiscrepancies(b.ctx, b.st.Read, store.DiscrepancyFilter{State: "open", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range ds {
		keys = append(keys, d.Key)
	}
	sort.Strings(keys)
	return keys
}

func (b *bundle) get(t *testing.T, key string) []store.Discrepancy {
	t.Helper()
	ds, err := store.ListDiscrepancies(b.ctx, b.st.Read, store.DiscrepancyFilter{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// warehouseOrder stores a warehouse order of orderID moved to p at at.
func (b *bundle) warehouseOrder(t *testing.T, ref, orderID string, p order.Progress, at time.Time) {
	t.Helper()
	err := b.st.InTx(b.ctx, func(tx *store.Tx) error {
		if _, err := store.UpsertOrder(b.ctx, tx, &store.Order{Shop: demo.ShopDomain, OrderID: orderID, Name: "#" + ref}); err != nil {
			return err
		}
		if err := store.SetOrderState(b.ctx, tx, demo.ShopDomain, orderID, store.OrderInProgress, ""); err != nil {
			return err
		}
		wo := &order.WarehouseOrder{ExternalRef: ref, Shop: demo.ShopDomain, Warehouse: "paris", OrderID: orderID, FulfillmentOrderID: "fo-" + ref,
			Lines: []order.Line{{LineNo: 1, SKU: b.sims.SKUs[0], Quantity: 1}}}
		if _, err := store.InsertWarehouseOrder(b.ctx, tx, wo, order.ProgressRouted); err != nil {
			return err
		}
		if p > order.ProgressRouted {
			_, err := store.AdvanceWarehouseOrder(b.ctx, tx, demo.ShopDomain, ref, p, at)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSLATimersWithControlledClock(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			b := setup(t, d, config.SLA{AckWithin: config.Duration(10 * time.Minute), FulfillmentRequestAnswerWithin: config.Duration(5 * time.Minute),
				TrackingWithin: config.Duration(time.Hour), StockRefreshWithin: config.Duration(15 * time.Minute)})
			t0 := b.clock.Now()
			b.warehouseOrder(t, "CD-ACK", "gid://shopify/Order/1", order.ProgressSent, t0)
			b.warehouseOrder(t, "CD-REQ", "gid://shopify/Order/2", order.ProgressRouted, t0)
			if _, _, err := store.InsertShipment(b.ctx, b.st.Write, demo.ShopDomain, "paris", &order.Shipment{ID: "S1", ExternalRef: "CD-ACK", ShippedAt: t0,
				Lines: []order.ShipmentLine{{LineNo: 1, Quantity: 1}}, Packages: []order.Package{{ID: "P1"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.UpsertStock(b.ctx, b.st.Write, store.StockLevel{Shop: demo.ShopDomain, Warehouse: "paris", SKU: b.sims.SKUs[0], OnHand: 5, Available: 5, AsOf: t0}); err != nil {
				t.Fatal(err)
			}

			// Within every timer (the shipment waits past its 2m grace).
			b.clock.Advance(3 * time.Minute)
			b.run(t)
			if diff := cmp.Diff([]string{"shipment.unfulfilled:1"}, b.open(t)); diff != "" {
				t.Errorf("at +3m (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"shipment.fulfil"}, b.jobs.take()); diff != "" {
				t.Errorf("auto-heal jobs at +3m (-want +got):\n%s", diff)
			}
			// The request timer (5m), then the ack timer (10m) and the
			// stock timer (15m) run out.
			b.clock.Advance(3 * time.Minute)
			b.run(t)
			if diff := cmp.Diff([]string{"shipment.unfulfilled:1", "sla.fulfillment_request:CD-REQ"}, b.open(t)); diff != "" {
				t.Errorf("at +6m (-want +got):\n%s", diff)
			}
			b.jobs.take()
			b.clock.Advance(10 * time.Minute)
			b.run(t)
			want := []string{"shipment.unfulfilled:1", "sla.ack:CD-ACK", "sla.fulfillment_request:CD-REQ", "sla.stock_refresh:paris"}
			if diff := cmp.Diff(want, b.open(t)); diff != "" {
				t.Errorf("at +16m (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"shipment.fulfil", "stock.sync"}, b.jobs.take()); diff != "" {
				t.Errorf("auto-heal jobs at +16m (-want +got):\n%s", diff)
			}

			// The warehouse acknowledges; the request is answered; the
			// stock is refreshed: those close at the next run, with its time.
			err := b.st.InTx(b.ctx, func(tx *store.Tx) error {
				if _, err := store.AdvanceWarehouseOrder(b.ctx, tx, demo.ShopDomain, "CD-ACK", order.ProgressAcknowledged, b.clock.Now()); err != nil {
					return err
				}
				if _, err := store.AdvanceWarehouseOrder(b.ctx, tx, demo.ShopDomain, "CD-REQ", order.ProgressAccepted, b.clock.Now()); err != nil {
					return err
				}
				_, err := store.UpsertStock(b.ctx, tx, store.StockLevel{Shop: demo.ShopDomain, Warehouse: "paris", SKU: b.sims.SKUs[0], OnHand: 5, Available: 5, AsOf: b.clock.Now()})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			closeAt := b.clock.Advance(time.Minute)
			rep := b.run(t)
			if rep.Closed != 3 {
				t.Errorf("closed %d at +17m, want 3: %+v", rep.Closed, rep)
			}
			ack := b.get(t, "sla.ack:CD-ACK")
			if len(ack) != 1 || ack[0].ClosedAt == nil || !ack[0].ClosedAt.Equal(closeAt) || ack[0].Count != 1 || ack[0].Severity != store.SeverityCritical {
				t.Errorf("sla.ack discrepancy: %+v", ack)
			}
			unf := b.get(t, "shipment.unfulfilled:1")
			if len(unf) != 1 || unf[0].Count != 4 || !unf[0].FirstSeen.Equal(t0.Add(3*time.Minute)) || unf[0].AutoHeal == "" {
				t.Errorf("shipment.unfulfilled touched by each run: %+v", unf)
			}

			// Shipped an hour ago and still without tracking in Shopify.
			b.clock.Advance(45 * time.Minute)
			b.run(t)
			if !slices.Contains(b.open(t), "sla.tracking:1") {
				t.Errorf("at +62m sla.tracking is not open: %v", b.open(t))
			}
			// The fulfillment is created, but without tracking numbers.
			if err := store.SetShipmentFulfilled(b.ctx, b.st.Write, 1, "gid://shopify/Fulfillment/1", b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			b.clock.Advance(time.Minute)
			b.run(t)
			// (The stock, refreshed at +16m, is late again.)
			if diff := cmp.Diff([]string{"shipment.no_tracking:1", "sla.stock_refresh:paris", "sla.tracking:1"}, b.open(t)); diff != "" {
				t.Errorf("after a fulfillment without tracking (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissedOrdersAreHealedThenClosed(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, config.SLA{})
	// Shopify has orders whose webhooks never came (nothing delivers them).
	if _, err := b.sims.CreateOrders(b.ctx, 3, 3, 0); err != nil {
		t.Fatal(err)
	}
	rep := b.run(t)
	if rep.Opened != 0 {
		t.Fatalf("orders inside the grace were flagged: %+v", rep)
	}
	b.clock.Advance(3 * time.Minute)
	rep = b.run(t)
	if rep.Opened != 3 || rep.Healed != 3 {
		t.Fatalf("after the grace: %+v, want 3 opened and healed", rep)
	}
	if diff := cmp.Diff([]string{"order.route", "order.route", "order.route"}, b.jobs.take()); diff != "" {
		t.Errorf("auto-heal jobs (-want +got):\n%s", diff)
	}
	for _, o := range b.sims.Shopify.Orders() {
		got, err := store.GetOrder(b.ctx, b.st.Read, demo.ShopDomain, o.ID)
		if err != nil {
			t.Fatalf("order %s was not recorded by the auto-heal: %v", o.ID, err)
		}
		tl, err := store.Timeline(b.ctx, b.st.Read, demo.ShopDomain, o.ID)
		if err != nil || len(tl) == 0 || tl[0].Kind != "recovered" {
			t.Errorf("order %s timeline: %+v %v", got.Name, tl, err)
		}
		// Dispatch routes it.
		if err := store.SetOrderState(b.ctx, b.st.Write, demo.ShopDomain, o.ID, store.OrderInProgress, ""); err != nil {
			t.Fatal(err)
		}
	}
	closeAt := b.clock.Advance(time.Minute)
	rep = b.run(t)
	if rep.Closed != 3 || len(b.open(t)) != 0 {
		t.Fatalf("after dispatch: %+v, open %v", rep, b.open(t))
	}
	for _, o := range b.sims.Shopify.Orders() {
		ds := b.get(t, reconcile.KindOrderMissing+":"+o.ID)
		if len(ds) != 1 || ds[0].ClosedAt == nil || !ds[0].ClosedAt.Equal(closeAt) || ds[0].Entities["order"] != o.ID {
			t.Errorf("order %s: %+v", o.ID, ds)
		}
	}
}

func TestMissingWebhookSubscriptionIsRecreated(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, config.SLA{WebhookCheckInterval: config.Duration(5 * time.Minute)})
	// Shopify deleted ORDERS_CREATE after failed deliveries.
	b.sims.Shopify.Close()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	b.shop.Shopify = sims.Client()
	for _, topic := range shopify.HubTopics() {
		if shopify.TopicEnum(topic) == "ORDERS_CREATE" {
			continue
		}
		if _, err := sims.Shopify.Subscribe(topic, hookURI); err != nil {
			t.Fatal(err)
		}
	}
	rep := b.run(t)
	if diff := cmp.Diff([]string{"sla.webhook_subscription:ORDERS_CREATE"}, b.open(t)); diff != "" {
		t.Fatalf("missing subscription (-want +got):\n%s\nreport %+v", diff, rep)
	}
	if d := b.get(t, "sla.webhook_subscription:ORDERS_CREATE"); d[0].AutoHeal == "" {
		t.Errorf("no auto-heal recorded: %+v", d[0])
	}
	n := 0
	for _, s := range sims.Shopify.WebhookSubscriptions() {
		if s.Topic == "ORDERS_CREATE" && s.URI == hookURI {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d ORDERS_CREATE subscriptions after the auto-heal, want 1", n)
	}
	// Checked again only after webhook_check_interval: then closed.
	b.clock.Advance(time.Minute)
	b.run(t)
	if len(b.open(t)) != 1 {
		t.Errorf("the subscription was re-checked before its interval: %v", b.open(t))
	}
	b.clock.Advance(5 * time.Minute)
	b.run(t)
	if len(b.open(t)) != 0 {
		t.Errorf("still open after the re-check: %v", b.open(t))
	}
}

func TestStockMismatchIsFlaggedAfterTheGraceWithItsExplanation(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, config.SLA{})
	loc, sku := "gid://shopify/Location/77", b.sims.SKUs[0]
	b.shop.Warehouses[0].LocationID = loc
	if _, err := store.UpsertStock(b.ctx, b.st.Write, store.StockLevel{Shop: demo.ShopDomain, Warehouse: b.shop.Warehouses[0].ID, SKU: sku, OnHand: 10, Available: 10, AsOf: time.Now()}); err != nil {
		t.Fatal(err)
	}
	set := func(target, shopify int) {
		t.Helper()
		if err := store.SetLevelTarget(b.ctx, b.st.Write, demo.ShopDomain, loc, sku, "item", target, nil, false, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ObserveShopifyLevel(b.ctx, b.st.Write, demo.ShopDomain, loc, sku, "item", shopify, time.Now().Add(time.Hour), store.SourceWebhook); err != nil {
			t.Fatal(err)
		}
	}
	set(10, 12)
	b.run(t)
	b.clock.Advance(time.Minute)
	b.run(t)
	if len(b.open(t)) != 0 {
		t.Fatalf("flagged within the grace: %v", b.open(t))
	}
	b.clock.Advance(2 * time.Minute)
	b.run(t)
	key := reconcile.KindStockMismatch + ":" + loc + ":" + sku
	ds := b.get(t, key)
	if len(ds) != 1 || ds[0].Entities["difference"] != "2" || ds[0].Entities["target"] != "10" || ds[0].AutoHeal == "" {
		t.Fatalf("stock mismatch: %+v", ds)
	}
	if want := b.shop.Warehouses[0].ID + ": snapshot 10 + 0 moved − 0 in flight − 0 buffer = 10"; !strings.Contains(ds[0].Message, want) {
		t.Errorf("the message does not explain the figure (%q):\n%s", want, ds[0].Message)
	}
	if diff := cmp.Diff([]string{"stock.sync"}, b.jobs.take()); diff != "" {
		t.Errorf("auto-heal jobs (-want +got):\n%s", diff)
	}
	set(12, 12)
	b.clock.Advance(time.Minute)
	b.run(t)
	if ds := b.get(t, key); ds[0].ClosedAt == nil {
		t.Errorf("in sync again but still open: %+v", ds[0])
	}
}

func TestOneRunPerShopAcrossInstances(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, config.SLA{})
	// Another instance holds the shop's lease.
	ok, err := store.TryLease(b.ctx, b.st.Write, demo.ShopDomain, reconcile.LeaseName, "other", b.clock.Now(), reconcile.LeaseTTL)
	if err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if rep := b.run(t); !rep.Skipped || len(rep.Checked) != 0 {
		t.Fatalf("ran while another instance held the lease: %+v", rep)
	}
	// The other instance died: its lease expires.
	b.clock.Advance(reconcile.LeaseTTL + time.Second)
	if rep := b.run(t); rep.Skipped || len(rep.Checked) == 0 {
		t.Fatalf("did not run after the lease expired: %+v", rep)
	}
}

func TestCancelledInShopifyButAtTheWarehouse(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite, config.SLA{})
	t0 := b.clock.Now()
	b.warehouseOrder(t, "CD-X", "gid://shopify/Order/9", order.ProgressAcknowledged, t0)
	// The order is cancelled in Shopify (its cancellation reached the hub
	// as an order update, not as a cancellation request).
	upd := t0.Add(time.Minute)
	if _, err := store.UpsertOrder(b.ctx, b.st.Write, &store.Order{Shop: demo.ShopDomain, OrderID: "gid://shopify/Order/9", Name: "#CD-X",
		ShopifyUpdatedAt: &upd, CancelledAt: &upd}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(2 * time.Minute)
	b.run(t)
	ds := b.get(t, reconcile.KindOrderCancelled+":CD-X")
	if len(ds) != 1 || ds[0].Severity != store.SeverityCritical || ds[0].Entities["warehouse"] != "paris" || ds[0].SuggestedFix == "" {
		t.Fatalf("cancelled order still at the warehouse: %+v", ds)
	}
	// The warehouse cancels it.
	if err := store.SetWarehouseOrderCancelled(b.ctx, b.st.Write, demo.ShopDomain, "CD-X", b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Minute)
	b.run(t)
	if ds := b.get(t, reconcile.KindOrderCancelled+":CD-X"); ds[0].ClosedAt == nil {
		t.Errorf("cancelled at the warehouse but still open: %+v", ds[0])
	}
}
