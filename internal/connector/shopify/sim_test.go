package shopify

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

// simBundle is the Shopify simulator behind httptest and a client for it.
type simBundle struct {
	sim    *shopifysim.Server
	client *Client
	hooks  string // a webhook receiver answering 200
	a, b   shopifysim.VariantState
}

func setupSim(t *testing.T) *simBundle {
	t.Helper()
	sim := shopifysim.New(shopifysim.Config{
		ShopDomain: "demo.myshopify.com", AccessToken: "shpat_sim", WebhookSecret: "secret", Seed: 7,
	})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(hooks.Close)
	ps, err := sim.AddProducts([]shopifysim.ProductInput{{Title: "Tee", Variants: []shopifysim.VariantInput{
		{SKU: "SKU-A", Price: "19.99"}, {SKU: "SKU-B", Price: "5.00"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return &simBundle{
		sim:    sim,
		client: NewClient(ClientConfig{BaseURL: srv.URL, AccessToken: "shpat_sim", HTTPClient: srv.Client()}),
		hooks:  hooks.URL + "/webhooks",
		a:      ps[0].Variants[0],
		b:      ps[0].Variants[1],
	}
}

// TestAgainstSimulator runs the real operations end to end against the
// Shopify simulator: register, stock, order, request, accept, ship.
func TestAgainstSimulator(t *testing.T) {
	t.Parallel()
	s := setupSim(t)
	c := s.client

	svcID, locID, err := c.CreateFulfillmentService(ctxT, "crossdock-test", "")
	if err != nil || svcID == "" || locID == "" {
		t.Fatalf("CreateFulfillmentService = %q, %q, %v", svcID, locID, err)
	}
	locs, err := c.Locations(ctxT)
	if err != nil || !slices.ContainsFunc(locs, func(l Location) bool { return l.ID == locID && l.IsFulfillmentService }) {
		t.Fatalf("Locations = %+v, %v; want the service's location", locs, err)
	}
	variants, err := c.AllVariants(ctxT)
	if err != nil || len(variants) != 2 || variants[0].InventoryItemID != s.a.InventoryItemID || variants[0].SKU != "SKU-A" {
		t.Fatalf("AllVariants = %+v, %v", variants, err)
	}

	// Stock: compare-and-swap from the levels just read.
	levels, err := c.AllInventoryLevels(ctxT, locID)
	if err != nil {
		t.Fatal(err)
	}
	avail := availableBySKU(levels)
	a0, b0 := avail["SKU-A"], avail["SKU-B"]
	qs := []InventoryQuantity{
		{InventoryItemID: s.a.InventoryItemID, LocationID: locID, Quantity: 10, ChangeFromQuantity: &a0},
		{InventoryItemID: s.b.InventoryItemID, LocationID: locID, Quantity: 5, ChangeFromQuantity: &b0},
	}
	group, err := c.SetInventory(ctxT, "stock-1", "correction", "gid://crossdock/StockSync/1", qs)
	if err != nil {
		t.Fatalf("SetInventory: %v", err)
	}
	if replay, err := c.SetInventory(ctxT, "stock-1", "correction", "gid://crossdock/StockSync/1", qs); err != nil || replay != group {
		t.Errorf("replayed key = %q, %v; want the original result %q", replay, err, group)
	}
	stale := 3
	_, err = c.SetInventory(ctxT, "stock-2", "correction", "", []InventoryQuantity{
		{InventoryItemID: s.b.InventoryItemID, LocationID: locID, Quantity: 1, ChangeFromQuantity: nil},
		{InventoryItemID: s.a.InventoryItemID, LocationID: locID, Quantity: 1, ChangeFromQuantity: &stale},
	})
	var se *StaleQuantityError
	if !errors.As(err, &se) || !connector.IsPermanent(err) || len(se.Items) != 1 || se.Items[0].Index != 1 || se.Items[0].InventoryItemID != s.a.InventoryItemID {
		t.Errorf("stale changeFromQuantity: err = %v", err)
	}
	if levels, err = c.AllInventoryLevels(ctxT, locID); err != nil {
		t.Fatal(err)
	}
	if avail := availableBySKU(levels); avail["SKU-A"] != 10 || avail["SKU-B"] != 5 {
		t.Errorf("levels after set = %v, want SKU-A 10, SKU-B 5 (the stale call must change nothing)", avail)
	}

	// Order → fulfillment order at the service's location.
	ship := order.Address{Name: "Steve Shipper", Address1: "123 Shipping Street", City: "Shippington", ProvinceCode: "KY", PostalCode: "40003", CountryCode: "US"}
	orderID, name, err := c.CreateOrder(ctxT, OrderInput{
		Email: "jon@example.com", ShippingAddress: ship, InventoryBehaviour: "DECREMENT_OBEYING_POLICY",
		Lines: []OrderLineInput{{VariantID: s.a.ID, Quantity: 2}, {VariantID: s.b.ID, Quantity: 1}},
	})
	if err != nil {
		t.Fatalf("CreateOrder: %v", err)
	}
	o, err := c.GetOrder(ctxT, orderID)
	if err != nil {
		t.Fatalf("GetOrder: %v", err)
	}
	if _, legacy, _ := ParseGID(o.ID); o.Name != name || o.LegacyID != legacy || o.Email != "jon@example.com" || len(o.FulfillmentOrders) != 1 {
		t.Fatalf("order = %+v", o)
	}
	if o.ShippingAddress.Name != "Steve Shipper" || o.ShippingAddress.PostalCode != "40003" || o.ShippingAddress.CountryCode != "US" {
		t.Errorf("shipping address = %+v", o.ShippingAddress)
	}
	fo := o.FulfillmentOrders[0]
	if fo.LocationID != locID || fo.RequestStatus != "UNSUBMITTED" || fo.OrderID != orderID || len(fo.Lines) != 2 {
		t.Fatalf("fulfillment order = %+v", fo)
	}
	skus := []string{fo.Lines[0].SKU, fo.Lines[1].SKU}
	slices.Sort(skus)
	if !slices.Equal(skus, []string{"SKU-A", "SKU-B"}) || fo.Lines[0].InventoryItemID == "" || fo.Lines[0].VariantID == "" {
		t.Errorf("lines = %+v", fo.Lines)
	}
	single, err := c.GetFulfillmentOrder(ctxT, fo.ID)
	if err != nil || single.ID != fo.ID || single.OrderID != orderID || len(single.Lines) != 2 {
		t.Errorf("GetFulfillmentOrder = %+v, %v", single, err)
	}

	// Request, accept, ship.
	st, err := c.SubmitFulfillmentRequest(ctxT, fo.ID, "please ship", false)
	if err != nil || st.RequestStatus != "SUBMITTED" {
		t.Fatalf("SubmitFulfillmentRequest = %+v, %v", st, err)
	}
	st, err = c.AcceptFulfillmentRequest(ctxT, st.ID, "accepted")
	if err != nil || st.RequestStatus != "ACCEPTED" || st.Status != "IN_PROGRESS" {
		t.Fatalf("AcceptFulfillmentRequest = %+v, %v", st, err)
	}
	in := FulfillmentInput{FulfillmentOrderID: st.ID, Company: "UPS", Numbers: []string{"1Z999AA10123456784"}}
	for _, l := range fo.Lines {
		in.Lines = append(in.Lines, FulfillmentLine{ID: l.ID, Quantity: l.RemainingQuantity})
	}
	fid, err := c.CreateFulfillment(ctxT, in)
	if err != nil || fid == "" {
		t.Fatalf("CreateFulfillment = %q, %v", fid, err)
	}
	if found, err := c.FindFulfillmentByTracking(ctxT, orderID, in.Numbers); err != nil || found != fid {
		t.Errorf("FindFulfillmentByTracking = %q, %v; want %q", found, err, fid)
	}
	var uerr *UserErrorsError
	if _, err := c.CreateFulfillment(ctxT, in); !errors.As(err, &uerr) || !connector.IsPermanent(err) {
		t.Errorf("shipping again: err = %v, want permanent userErrors", err)
	}
	if o, err = c.GetOrder(ctxT, orderID); err != nil || o.FulfillmentOrders[0].Status != "CLOSED" {
		t.Errorf("after shipping everything: %+v, %v; want the fulfillment order CLOSED", o, err)
	}

	// Webhooks: a second run creates nothing.
	created, err := c.EnsureWebhooks(ctxT, s.hooks, HubTopics())
	if err != nil || len(created) != len(HubTopics()) {
		t.Fatalf("EnsureWebhooks = %v, %v", created, err)
	}
	if again, err := c.EnsureWebhooks(ctxT, s.hooks, HubTopics()); err != nil || len(again) != 0 {
		t.Errorf("second EnsureWebhooks created %v, %v", again, err)
	}

	// Orders changed since before the order was created.
	page, err := c.OrdersUpdatedSince(ctxT, o.CreatedAt.Add(-time.Second), "")
	if err != nil || !slices.ContainsFunc(page.Orders, func(os OrderSummary) bool { return os.ID == orderID }) {
		t.Errorf("OrdersUpdatedSince = %+v, %v", page, err)
	}

	if ts := c.ThrottleStatus(); ts.MaximumAvailable <= 0 || ts.RestoreRate <= 0 || ts.ReadAt.IsZero() {
		t.Errorf("ThrottleStatus = %+v: the simulator reports throttleStatus", ts)
	}
}

func availableBySKU(levels []InventoryLevel) map[string]int {
	m := map[string]int{}
	for _, l := range levels {
		m[l.SKU] = l.Available
	}
	return m
}
