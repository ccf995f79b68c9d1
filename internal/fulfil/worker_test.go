package fulfil_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/fulfil"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/tenant"
)

// A shipment the order cannot take (more than ordered, a line it does not
// have) will never become a fulfillment, however often it is retried: the
// job must stop at once (a permanent error, which the queue turns into a
// cancelled job listed with its reason) and Shopify must not be called.
func TestFulfilRefusalIsPermanent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		lines []order.ShipmentLine
	}{
		{"more than ordered", []order.ShipmentLine{{LineNo: 1, SKU: "A", Quantity: 3}}},
		{"unknown line", []order.ShipmentLine{{LineNo: 7, SKU: "Z", Quantity: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var calls atomic.Int32
			shopifyAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Error(w, "no call expected", http.StatusTeapot)
			}))
			t.Cleanup(shopifyAPI.Close)
			reg, err := tenant.New(&config.Config{Shops: []config.Shop{{Domain: "a.myshopify.com", APIURL: shopifyAPI.URL, AccessToken: "x"}}}, tenant.Options{})
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, store.SQLite)
			wo := setup(t)
			if _, err := store.InsertWarehouseOrder(ctx, st.Write, wo, order.ProgressSent); err != nil {
				t.Fatal(err)
			}
			id, _, err := store.InsertShipment(ctx, st.Write, wo.Shop, wo.Warehouse, &order.Shipment{ID: "S1", ExternalRef: wo.ExternalRef,
				ShippedAt: time.Now(), Lines: tc.lines, Packages: []order.Package{pkg("P1", "UPS", "1Z1", "")}})
			if err != nil {
				t.Fatal(err)
			}
			w := &fulfil.Worker{Store: st, Tenants: reg, Logger: slog.New(slog.DiscardHandler)}
			err = w.Fulfil(ctx, id, false)
			if err == nil {
				t.Fatal("Fulfil accepted the shipment")
			}
			var cancel *river.JobCancelError
			if !errors.As(queue.Classify(err), &cancel) {
				t.Errorf("Fulfil error %q is retried (transient); want a permanent error that cancels the job", err)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d calls to Shopify", n)
			}
		})
	}
}
