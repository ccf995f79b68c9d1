package amend

import (
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// openStore returns a migrated SQLite store with one warehouse order sent
// for two units of A to addr.
func openStore(t *testing.T, p order.Progress) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.SQLite, storetest.DSN(t, store.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	wo := &order.WarehouseOrder{ExternalRef: "CD-1", Shop: "s.myshopify.com", Warehouse: "paris", OrderID: "gid://shopify/Order/1",
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1", ShipTo: addr, PlacedAt: time.Now(),
		Lines: []order.Line{{LineNo: 1, SKU: "A", Quantity: 2, FulfillmentOrderLineItemID: "L1"}}}
	if _, err := store.InsertWarehouseOrder(t.Context(), st.Write, wo, p); err != nil {
		t.Fatal(err)
	}
	return st
}

func payload(qty int, address1 string) *shopify.OrderWebhook {
	return &shopify.OrderWebhook{ID: 1, AdminGraphQLAPIID: "gid://shopify/Order/1",
		LineItems:       []shopify.OrderWebhookLineItem{{ID: 10, SKU: "A", Quantity: 5, CurrentQuantity: &qty, RequiresShipping: true}},
		ShippingAddress: &shopify.WebhookAddress{FirstName: "Camille", LastName: "Martin", Address1: address1, City: "Paris", Zip: "75004", CountryCode: "FR"}}
}

func TestChangedComparesWithWhatWasSent(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		progress order.Progress
		p        *shopify.OrderWebhook
		want     bool
	}{
		"unchanged":              {order.ProgressAcknowledged, payload(2, addr.Address1), false},
		"quantity":               {order.ProgressSent, payload(1, addr.Address1), true},
		"address":                {order.ProgressAcknowledged, payload(2, "3 place Bellecour"), true},
		"picking, still asks":    {order.ProgressPicking, payload(1, addr.Address1), true},
		"not sent yet":           {order.ProgressAccepted, payload(1, addr.Address1), false},
		"shipped, nothing to do": {order.ProgressShipped, payload(1, "3 place Bellecour"), false},
	} {
		st := openStore(t, tc.progress)
		got, err := Changed(t.Context(), st.Read, "s.myshopify.com", tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: Changed = %v, want %v", name, got, tc.want)
		}
	}
}
