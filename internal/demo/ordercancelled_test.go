package demo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/ingest"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/wmssim"
)

// TestOrderCancelledOutrightMidFlow: an order cancelled in Shopify outright
// (orders/cancelled, e.g. by another app or at the point of sale) after it
// reached a warehouse is handled like a cancellation request: before
// picking, the warehouse cancels and nothing ships; after shipping, an
// incident is opened on the order's timeline.
func TestOrderCancelledOutrightMidFlow(t *testing.T) {
	t.Parallel()
	// Slow warehouses: orders wait 3 s between acknowledgement and picking.
	b := setup(t, store.SQLite, demo.SimOptions{Seed: 61, WMSDelay: 1500 * time.Millisecond})
	client := b.sims.Client()
	late, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(1), b.sims.SKUs[2]))
	if err != nil {
		t.Fatal(err)
	}
	wmsOrder := func(orderID string) (wmssim.OrderState, bool) {
		for _, w := range b.sims.Warehouses {
			for _, o := range w.Sim.Orders() {
				if o.OrderID == orderID {
					return o, true
				}
			}
		}
		return wmssim.OrderState{}, false
	}
	waitWMS := func(orderID string, ok func(wmssim.OrderState) bool, what string) {
		t.Helper()
		for {
			if o, found := wmsOrder(orderID); found && ok(o) {
				return
			}
			if b.ctx.Err() != nil {
				o, _ := wmsOrder(orderID)
				t.Fatalf("waiting for %s: %+v", what, o)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitWMS(late, func(o wmssim.OrderState) bool { return o.State == wmssim.StateShipped }, "the late order to ship")
	// The early order is cancelled while the warehouse has it but has not
	// started picking.
	early, _, err := client.CreateOrder(b.ctx, b.sims.OrderOf(demo.Address(0), b.sims.SKUs[1]))
	if err != nil {
		t.Fatal(err)
	}
	waitWMS(early, func(o wmssim.OrderState) bool {
		return o.State == wmssim.StateReceived || o.State == wmssim.StateAcknowledged
	}, "the early order at the warehouse")

	deliver := func(orderID string) {
		t.Helper()
		o, _ := b.sims.Shopify.Order(orderID)
		now := time.Now().UTC()
		body, _ := json.Marshal(map[string]any{"id": o.LegacyResourceID, "admin_graphql_api_id": o.ID, "name": o.Name,
			"created_at": o.CreatedAt, "updated_at": now, "cancelled_at": now, "cancel_reason": "customer"})
		req, _ := http.NewRequest("POST", "http://"+b.hub.Addr()+hub.WebhookPath, bytes.NewReader(body))
		for k, v := range map[string]string{"X-Shopify-Topic": "orders/cancelled", "X-Shopify-Shop-Domain": demo.ShopDomain,
			"X-Shopify-Hmac-Sha256": ingest.Sign(body, demo.WebhookSecret), "X-Shopify-Webhook-Id": "test-cancel-" + o.Name,
			"X-Shopify-Event-Id": fmt.Sprintf("evt-cancel-%d", o.LegacyResourceID), "X-Shopify-API-Version": "2026-07", "X-Shopify-Triggered-At": now.Format(time.RFC3339)} {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d", res.StatusCode)
		}
	}
	deliver(early)
	deliver(late)

	waitWMS(early, func(o wmssim.OrderState) bool { return o.State == wmssim.StateCancelled }, "the early order cancelled at the warehouse")
	timelineHas := func(orderID, kind, text string) bool {
		tl, err := store.Timeline(b.ctx, b.hub.Store.Read, demo.ShopDomain, orderID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tl {
			if e.Kind == kind && strings.Contains(e.Message, text) {
				return true
			}
		}
		return false
	}
	for !timelineHas(late, "incident", "arrange a return") || !timelineHas(early, "cancelled", "nothing ships") {
		if b.ctx.Err() != nil {
			t.Fatal("the timelines never showed the cancellation and the incident")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, id := range []string{early, late} {
		o, err := store.GetOrder(b.ctx, b.hub.Store.Read, demo.ShopDomain, id)
		if err != nil || o.State != store.OrderCancelled {
			t.Errorf("order %s state %+v %v, want cancelled", id, o, err)
		}
	}
	if o, _ := wmsOrder(early); len(o.Shipments) != 0 {
		t.Errorf("the early order shipped %+v", o.Shipments)
	}
}
