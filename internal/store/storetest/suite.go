package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
)

// Run runs the store conformance suite against a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	ctx := context.Background()

	t.Run("MigrateIsIdempotent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})

	t.Run("WebhookDedupOnDeliveryAndEvent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		e := &store.WebhookEvent{Shop: "a.myshopify.com", Topic: "orders/create", WebhookID: "w1", EventID: "e1",
			ReceivedAt: time.Now(), Body: []byte(`{"id":1}`), Status: store.WebhookPending}
		id, ins, err := store.InsertWebhook(ctx, s.Write, e)
		if err != nil || !ins || id == 0 {
			t.Fatalf("first insert: id=%d ins=%v err=%v", id, ins, err)
		}
		// Same delivery again.
		if _, ins, err := store.InsertWebhook(ctx, s.Write, e); err != nil || ins {
			t.Fatalf("duplicate delivery inserted=%v err=%v", ins, err)
		}
		// New delivery id, same event (Shopify's documented duplicate).
		e2 := *e
		e2.WebhookID = "w2"
		if _, ins, err := store.InsertWebhook(ctx, s.Write, &e2); err != nil || ins {
			t.Fatalf("duplicate event inserted=%v err=%v", ins, err)
		}
		// Same ids in another shop are another tenant's.
		e3 := *e
		e3.Shop = "b.myshopify.com"
		if _, ins, err := store.InsertWebhook(ctx, s.Write, &e3); err != nil || !ins {
			t.Fatalf("other shop not inserted: %v %v", ins, err)
		}
		p, err := store.ClaimPendingWebhooks(ctx, s.Write, s.Dialect, "a.myshopify.com", 10)
		if err != nil || len(p) != 1 || string(p[0].Body) != `{"id":1}` {
			t.Fatalf("pending = %+v, %v", p, err)
		}
		if err := store.SetWebhookStatus(ctx, s.Write, id, store.WebhookProcessed, "", time.Now()); err != nil {
			t.Fatal(err)
		}
		if p, _ := store.ClaimPendingWebhooks(ctx, s.Write, s.Dialect, "a.myshopify.com", 10); len(p) != 0 {
			t.Fatalf("still pending: %+v", p)
		}
		// Pruning drops processed deliveries, keeps pending ones and what is newer.
		if n, err := store.PruneEvents(ctx, s.Write, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("pruned %d, %v; want nothing younger than the cutoff", n, err)
		}
		if n, err := store.PruneEvents(ctx, s.Write, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want the processed delivery only", n, err)
		}
		if _, err := store.GetWebhook(ctx, s.Read, id); err == nil {
			t.Fatal("processed delivery still stored after pruning")
		}
	})

	t.Run("OrderUpsertNeverGoesBack", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		t1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		t2 := t1.Add(time.Minute)
		o := &store.Order{Shop: "a.myshopify.com", OrderID: "gid://shopify/Order/9007199254740993", LegacyID: 9007199254740993, Name: "#1001", ShopifyUpdatedAt: &t2}
		created, err := store.UpsertOrder(ctx, s.Write, o)
		if err != nil || !created {
			t.Fatalf("created=%v err=%v", created, err)
		}
		older := *o
		older.ShopifyUpdatedAt = &t1
		if created, err := store.UpsertOrder(ctx, s.Write, &older); err != nil || created {
			t.Fatalf("second upsert created=%v err=%v", created, err)
		}
		got, err := store.GetOrder(ctx, s.Read, o.Shop, o.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ShopifyUpdatedAt.Equal(t2) || got.LegacyID != 9007199254740993 || got.State != store.OrderReceived {
			t.Fatalf("order = %+v", got)
		}
		if _, err := store.GetOrder(ctx, s.Read, "other.myshopify.com", o.OrderID); err != store.ErrNotFound {
			t.Fatalf("other tenant sees the order: %v", err)
		}
	})

	t.Run("WarehouseOrderOnceAndMonotonic", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		w := &order.WarehouseOrder{ExternalRef: "CD-1", Shop: "a.myshopify.com", Warehouse: "paris", OrderID: "gid://shopify/Order/1",
			FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1", Lines: []order.Line{{LineNo: 1, SKU: "SKU-1", Quantity: 2}}}
		ins, err := store.InsertWarehouseOrder(ctx, s.Write, w, order.ProgressAccepted)
		if err != nil || !ins {
			t.Fatalf("insert: %v %v", ins, err)
		}
		w2 := *w
		w2.ExternalRef = "CD-1-again"
		if ins, err := store.InsertWarehouseOrder(ctx, s.Write, &w2, order.ProgressAccepted); err != nil || ins {
			t.Fatalf("second warehouse order for the same FO inserted=%v err=%v", ins, err)
		}
		at := time.Now()
		for _, p := range []order.Progress{order.ProgressSent, order.ProgressPicking, order.ProgressPacked, order.ProgressShipped} {
			if moved, err := store.AdvanceWarehouseOrder(ctx, s.Write, w.Shop, w.ExternalRef, p, at); err != nil || !moved {
				t.Fatalf("advance to %v: %v %v", p, moved, err)
			}
		}
		if moved, err := store.AdvanceWarehouseOrder(ctx, s.Write, w.Shop, w.ExternalRef, order.ProgressAcknowledged, at); err != nil || moved {
			t.Fatalf("late ack moved=%v err=%v", moved, err)
		}
		got, err := store.GetWarehouseOrderByRef(ctx, s.Read, w.Shop, w.ExternalRef)
		if err != nil {
			t.Fatal(err)
		}
		// A step past acknowledgement stamps acknowledged_at when no
		// acknowledgement came: the warehouse has counted the order.
		if got.Progress != order.ProgressShipped || got.ShippedAt == nil || got.AcknowledgedAt == nil || got.AcknowledgedAt.Sub(at).Abs() > time.Millisecond {
			t.Fatalf("warehouse order = %+v", got)
		}
		if diff := cmp.Diff(*w, got.Order); diff != "" {
			t.Fatalf("payload round trip (-want +got):\n%s", diff)
		}
		// A sent warehouse order is never replaced by a new routing decision.
		moved := *w
		moved.Warehouse = "newark"
		if replaced, err := store.ReplaceUnsentWarehouseOrder(ctx, s.Write, &moved, order.ProgressRouted); err != nil || replaced {
			t.Fatalf("sent warehouse order replaced=%v err=%v", replaced, err)
		}
		// An unsent one is.
		u := &order.WarehouseOrder{ExternalRef: "CD-2", Shop: w.Shop, Warehouse: "paris", OrderID: "gid://shopify/Order/2",
			FulfillmentOrderID: "gid://shopify/FulfillmentOrder/2", Lines: []order.Line{{LineNo: 1, SKU: "SKU-1", Quantity: 1}}}
		if ins, err := store.InsertWarehouseOrder(ctx, s.Write, u, order.ProgressRouted); err != nil || !ins {
			t.Fatal(ins, err)
		}
		u2 := *u
		u2.Warehouse = "newark"
		if replaced, err := store.ReplaceUnsentWarehouseOrder(ctx, s.Write, &u2, order.ProgressRouted); err != nil || !replaced {
			t.Fatalf("unsent warehouse order replaced=%v err=%v", replaced, err)
		}
		if got, err := store.GetWarehouseOrderByFO(ctx, s.Read, w.Shop, u.FulfillmentOrderID); err != nil || got.Order.Warehouse != "newark" {
			t.Fatalf("after replacement: %+v, %v", got, err)
		}
		if r, _ := store.ReservedSince(ctx, s.Read, w.Shop, "paris", time.Time{}); r["SKU-1"] != 0 {
			t.Fatalf("replaced decision still reserves units at paris: %v", r)
		}
	})

	t.Run("ReservedSinceCountsUnshippedUnitsAfterTheSnapshot", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		before := time.Now().Add(-time.Second)
		mk := func(ref string, lines ...order.Line) {
			w := &order.WarehouseOrder{ExternalRef: ref, Shop: "a", Warehouse: "paris", OrderID: "o-" + ref, FulfillmentOrderID: "fo-" + ref, Lines: lines}
			if _, err := store.InsertWarehouseOrder(ctx, s.Write, w, order.ProgressSent); err != nil {
				t.Fatal(err)
			}
		}
		mk("R1", order.Line{LineNo: 1, SKU: "A", Quantity: 2}, order.Line{LineNo: 2, SKU: "B", Quantity: 1})
		mk("R2", order.Line{LineNo: 1, SKU: "A", Quantity: 3})
		mk("R3", order.Line{LineNo: 1, SKU: "A", Quantity: 5})
		if _, err := store.AdvanceWarehouseOrder(ctx, s.Write, "a", "R3", order.ProgressShipped, time.Now()); err != nil {
			t.Fatal(err)
		}
		got, err := store.ReservedSince(ctx, s.Read, "a", "paris", before)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"A": 5, "B": 1}, got); diff != "" {
			t.Fatalf("reserved (-want +got):\n%s", diff)
		}
		got, err = store.ReservedSince(ctx, s.Read, "a", "paris", before, "B")
		if err != nil || len(got) != 1 || got["B"] != 1 {
			t.Fatalf("reserved for B = %v, %v", got, err)
		}
		if got, _ := store.ReservedSince(ctx, s.Read, "a", "paris", time.Now().Add(time.Hour)); len(got) != 0 {
			t.Fatalf("orders before the snapshot counted: %v", got)
		}
	})

	t.Run("ShipmentOnce", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sh := &order.Shipment{ID: "S1", ExternalRef: "CD-1", ShippedAt: time.Now().UTC().Truncate(time.Microsecond),
			Lines:    []order.ShipmentLine{{LineNo: 1, SKU: "A", Quantity: 1}},
			Packages: []order.Package{{ID: "P1", Carrier: "DHL", TrackingNumber: "T1"}, {ID: "P2", TrackingNumber: "T2"}}}
		id, ins, err := store.InsertShipment(ctx, s.Write, "a.myshopify.com", "paris", sh)
		if err != nil || !ins {
			t.Fatal(ins, err)
		}
		if _, ins, err := store.InsertShipment(ctx, s.Write, "a.myshopify.com", "paris", sh); err != nil || ins {
			t.Fatalf("duplicate shipment inserted=%v err=%v", ins, err)
		}
		if err := store.SetShipmentFulfilled(ctx, s.Write, id, "gid://shopify/Fulfillment/1", time.Now()); err != nil {
			t.Fatal(err)
		}
		got, err := store.GetShipment(ctx, s.Read, id)
		if err != nil || got.FulfillmentID == "" || got.FulfilledAt == nil || len(got.Shipment.Packages) != 2 {
			t.Fatalf("shipment = %+v, %v", got, err)
		}
	})

	t.Run("StockOlderSnapshotNeverOverwrites", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		t1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		l := store.StockLevel{Shop: "a.myshopify.com", Warehouse: "paris", SKU: "A", OnHand: 10, Available: 8, AsOf: t1.Add(time.Hour)}
		if ch, err := store.UpsertStock(ctx, s.Write, l); err != nil || !ch {
			t.Fatal(ch, err)
		}
		old := l
		old.Available, old.AsOf = 99, t1
		if ch, err := store.UpsertStock(ctx, s.Write, old); err != nil || ch {
			t.Fatalf("older snapshot changed=%v err=%v", ch, err)
		}
		if ch, err := store.UpsertStock(ctx, s.Write, l); err != nil || ch {
			t.Fatalf("same snapshot changed=%v err=%v", ch, err)
		}
		now := time.Now()
		if ok, err := store.SetShopifyAvailable(ctx, s.Write, l.Shop, l.Warehouse, l.SKU, 8, now, true); err != nil || !ok {
			t.Fatal(ok, err)
		}
		// An older report (a late webhook) does not overwrite it.
		if ok, err := store.SetShopifyAvailable(ctx, s.Write, l.Shop, l.Warehouse, l.SKU, 3, now.Add(-time.Minute), false); err != nil || ok {
			t.Fatalf("older report recorded=%v err=%v", ok, err)
		}
		got, err := store.StockLevels(ctx, s.Read, l.Shop, "")
		if err != nil || len(got) != 1 || got[0].Available != 8 || got[0].ShopifyAvailable == nil || *got[0].ShopifyAvailable != 8 {
			t.Fatalf("levels = %+v, %v", got, err)
		}
	})

	t.Run("StockEngineFigures", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const shop, loc = "a.myshopify.com", "gid://shopify/Location/1"
		asOf := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		if _, err := store.UpsertStock(ctx, s.Write, store.StockLevel{Shop: shop, Warehouse: "paris", SKU: "A", OnHand: 10, Available: 10, AsOf: asOf}); err != nil {
			t.Fatal(err)
		}
		// CD-1 acknowledged before the snapshot (counted), CD-2 after (in
		// flight), CD-3 never (in flight), CD-4 cancelled (not in flight).
		for i, ack := range []*time.Time{ptr(asOf.Add(-time.Minute)), ptr(asOf.Add(time.Minute)), nil, nil} {
			ref := fmt.Sprintf("CD-%d", i+1)
			w := &order.WarehouseOrder{ExternalRef: ref, Shop: shop, Warehouse: "paris", OrderID: "gid://shopify/Order/" + ref, FulfillmentOrderID: "gid://shopify/FulfillmentOrder/" + ref,
				Lines: []order.Line{{LineNo: 1, SKU: "A", Quantity: i + 1}}}
			if _, err := store.InsertWarehouseOrder(ctx, s.Write, w, order.ProgressSent); err != nil {
				t.Fatal(err)
			}
			if ack != nil {
				if _, err := store.AdvanceWarehouseOrder(ctx, s.Write, shop, ref, order.ProgressAcknowledged, *ack); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := store.SetWarehouseOrderCancelled(ctx, s.Write, shop, "CD-4", asOf); err != nil {
			t.Fatal(err)
		}
		if got, err := store.InFlightUnits(ctx, s.Read, shop, "paris"); err != nil || got["A"] != 2+3 {
			t.Errorf("in flight %v %v, want A: 5 (CD-2 and CD-3)", got, err)
		}
		if os, err := store.InFlightOrders(ctx, s.Read, shop, "paris", "A"); err != nil || len(os) != 2 || os[0].ExternalRef != "CD-2" || os[0].AcknowledgedAt == nil {
			t.Errorf("in-flight orders %+v %v", os, err)
		}
		if got, err := store.OrderedUnits(ctx, s.Read, shop, "paris"); err != nil || got["A"] != 1+2+3 {
			t.Errorf("ordered units %v %v, want A: 6", got, err)
		}
		for i, at := range []time.Time{asOf.Add(-time.Second), asOf.Add(time.Second)} {
			m := store.StockMovement{Shop: shop, Warehouse: "paris", MovementID: fmt.Sprint("m", i), SKU: "A", Delta: 4, At: at}
			if ins, err := store.InsertStockMovement(ctx, s.Write, m); err != nil || !ins {
				t.Fatal(ins, err)
			}
			if ins, err := store.InsertStockMovement(ctx, s.Write, m); err != nil || ins {
				t.Fatalf("duplicate movement inserted=%v err=%v", ins, err)
			}
		}
		if got, err := store.MovementsAfterSnapshot(ctx, s.Read, shop, "paris"); err != nil || got["A"] != 4 {
			t.Errorf("movements after the snapshot %v %v, want A: 4", got, err)
		}
		// What Shopify holds: a read, the target agreed, a push, a stale
		// report ignored.
		now := time.Now()
		if ok, err := store.ObserveShopifyLevel(ctx, s.Write, shop, loc, "A", "gid://shopify/InventoryItem/1", 7, now, store.SourceRead); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := store.SetLevelTarget(ctx, s.Write, shop, loc, "A", "", 7, nil, true, 6); err != nil {
			t.Fatal(err)
		}
		fl := 9
		if err := store.SetLevelTarget(ctx, s.Write, shop, loc, "B", "gid://shopify/InventoryItem/2", 9, &fl, false, 0); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordPush(ctx, s.Write, shop, loc, "A", "gid://shopify/InventoryItem/1", 5, 6, "key-1", now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if ok, err := store.ObserveShopifyLevel(ctx, s.Write, shop, loc, "A", "", 1, now.Add(-time.Hour), store.SourceWebhook); err != nil || ok {
			t.Fatalf("older report recorded=%v err=%v", ok, err)
		}
		ls, err := store.LocationLevels(ctx, s.Read, shop, loc)
		if err != nil {
			t.Fatal(err)
		}
		a, b := ls[loc]["A"], ls[loc]["B"]
		if a.ShopifyAvailable == nil || *a.ShopifyAvailable != 5 || a.ShopifySource != store.SourcePush || a.PushedValue == nil || *a.PushedValue != 5 ||
			a.AgreedOrders == nil || *a.AgreedOrders != 6 || a.PushedKey != "key-1" || a.InventoryItemID != "gid://shopify/InventoryItem/1" {
			t.Errorf("level A %+v", a)
		}
		if b.FlaggedTarget == nil || *b.FlaggedTarget != 9 || b.PushedValue != nil {
			t.Errorf("level B %+v, want flagged at 9, never agreed", b)
		}
		if err := store.TouchStockAsOf(ctx, s.Write, shop, "paris", asOf.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := store.InFlightUnits(ctx, s.Read, shop, "paris"); err != nil || got["A"] != 3 {
			t.Errorf("in flight after a newer snapshot %v %v, want A: 3 (CD-3 only)", got, err)
		}
		if err := store.AddLedger(ctx, s.Write, store.LedgerEntry{Shop: shop, LocationID: loc, SKU: "A", At: now, Kind: "push", Message: "m"}); err != nil {
			t.Fatal(err)
		}
		if es, err := store.Ledger(ctx, s.Read, shop, loc, "A", "push", 5); err != nil || len(es) != 1 {
			t.Errorf("ledger %+v %v", es, err)
		}
	})

	t.Run("TimelineAndCursor", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for i, k := range []string{"received", "routed", "sent"} {
			if err := store.AddTimeline(ctx, s.Write, store.Entry{Shop: "a", Subject: "o1", Source: store.SourceHub, Kind: k, Message: k, At: time.Unix(int64(1000-i), 0)}); err != nil {
				t.Fatal(err)
			}
		}
		tl, err := store.Timeline(ctx, s.Read, "a", "o1")
		if err != nil || len(tl) != 3 || tl[0].Kind != "received" || tl[2].Kind != "sent" {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
		if v, err := store.Cursor(ctx, s.Read, "a", "backfill"); err != nil || v != "" {
			t.Fatal(v, err)
		}
		for _, v := range []string{"c1", "c2"} {
			if err := store.SetCursor(ctx, s.Write, "a", "backfill", v); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := store.Cursor(ctx, s.Read, "a", "backfill"); err != nil || v != "c2" {
			t.Fatal(v, err)
		}
	})

	t.Run("TransactionRollsBack", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := store.SetCursor(ctx, tx, "a", "x", "1"); err != nil {
				return err
			}
			return sql.ErrTxDone // any error
		})
		if err == nil {
			t.Fatal("InTx swallowed the error")
		}
		if v, _ := store.Cursor(ctx, s.Read, "a", "x"); v != "" {
			t.Fatalf("rolled-back write visible: %q", v)
		}
	})
}

func ptr[T any](v T) *T { return &v }
