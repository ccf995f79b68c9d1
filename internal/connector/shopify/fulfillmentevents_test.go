package shopify

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

// eventsBundle is a simulator (with a bucket large enough to create many
// events without throttling) holding one order routed to a fulfillment
// service.
type eventsBundle struct {
	sim     *shopifysim.Server
	client  *Client
	orderID string
	foID    string
}

func setupEvents(t *testing.T) *eventsBundle {
	t.Helper()
	sim := shopifysim.New(shopifysim.Config{
		ShopDomain: "demo.myshopify.com", AccessToken: "shpat_sim", WebhookSecret: "secret", Seed: 7,
		BucketSize: 100000, RestoreRate: 10000,
	})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	ps, err := sim.AddProducts([]shopifysim.ProductInput{{Title: "Tee", Variants: []shopifysim.VariantInput{{SKU: "SKU-A", Price: "19.99"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(ClientConfig{BaseURL: srv.URL, AccessToken: "shpat_sim", HTTPClient: srv.Client()})
	if _, _, err := c.CreateFulfillmentService(ctxT, "crossdock-events", ""); err != nil {
		t.Fatal(err)
	}
	ship := order.Address{Name: "Ada Lovelace", Address1: "1 Main St", City: "Springfield", ProvinceCode: "IL", PostalCode: "62701", CountryCode: "US"}
	orderID, _, err := c.CreateOrder(ctxT, OrderInput{Email: "ada@example.com", ShippingAddress: ship,
		Lines: []OrderLineInput{{VariantID: ps[0].Variants[0].ID, Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.GetOrder(ctxT, orderID)
	if err != nil || len(o.FulfillmentOrders) != 1 {
		t.Fatalf("GetOrder = %+v, %v", o, err)
	}
	return &eventsBundle{sim: sim, client: c, orderID: orderID, foID: o.FulfillmentOrders[0].ID}
}

// accept submits and accepts the fulfillment order.
func (b *eventsBundle) accept(t *testing.T) {
	t.Helper()
	if _, err := b.client.SubmitFulfillmentRequest(ctxT, b.foID, "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.AcceptFulfillmentRequest(ctxT, b.foID, ""); err != nil {
		t.Fatal(err)
	}
}

// ship accepts the fulfillment order and fulfils all of it.
func (b *eventsBundle) ship(t *testing.T) string {
	t.Helper()
	b.accept(t)
	id, err := b.client.CreateFulfillment(ctxT, FulfillmentInput{FulfillmentOrderID: b.foID, Company: "UPS", Numbers: []string{"1Z001"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (b *eventsBundle) order(t *testing.T) shopifysim.OrderState {
	t.Helper()
	o, ok := b.sim.Order(b.orderID)
	if !ok {
		t.Fatalf("order %s missing", b.orderID)
	}
	return o
}

func TestReportProgress(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)

	err := b.client.ReportProgress(ctxT, b.foID, "picking")
	var uerr *UserErrorsError
	if !errors.As(err, &uerr) || !connector.IsPermanent(err) {
		t.Fatalf("progress before acceptance: err = %v, want permanent *UserErrorsError", err)
	}

	b.accept(t)
	for _, n := range []string{"picking", "packed"} {
		if err := b.client.ReportProgress(ctxT, b.foID, n); err != nil {
			t.Fatalf("ReportProgress(%q): %v", n, err)
		}
	}
	fo := b.order(t).FulfillmentOrders[0]
	var notes []string
	for _, r := range fo.ProgressReports {
		notes = append(notes, r.Notes)
	}
	if fo.Status != "IN_PROGRESS" || !cmp.Equal(notes, []string{"picking", "packed"}) {
		t.Errorf("fulfillment order = %s with reports %v", fo.Status, notes)
	}
}

func TestFulfillmentEventsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	fid := b.ship(t)

	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	eta := base.Add(48 * time.Hour)
	// More events than one page holds, created newest first so that the
	// answer's happenedAt order is not the creation order.
	n := fulfillmentEventsPageSize + 5
	want := make([]FulfillmentEvent, n)
	for i := n - 1; i >= 0; i-- {
		in := FulfillmentEventInput{Status: "IN_TRANSIT", HappenedAt: base.Add(time.Duration(i) * time.Minute), City: "Louisville", Country: "US"}
		switch i {
		case n - 2:
			in.Status, in.Message = "OUT_FOR_DELIVERY", "with the driver"
		case n - 1:
			in.Status, in.Message, in.EstimatedDeliveryAt = "DELIVERED", "left at the door", &eta
		}
		id, err := b.client.CreateFulfillmentEvent(ctxT, fid, in)
		if err != nil || id == "" {
			t.Fatalf("CreateFulfillmentEvent %d = %q, %v", i, id, err)
		}
		want[i] = FulfillmentEvent{ID: id, Status: in.Status, Message: in.Message, HappenedAt: in.HappenedAt}
	}
	got, err := b.client.FulfillmentEvents(ctxT, fid)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FulfillmentEvents (-want +got):\n%s", diff)
	}
	if f := b.order(t).Fulfillments[0]; f.DisplayStatus != "DELIVERED" || len(f.Events) != n {
		t.Errorf("simulator fulfillment: displayStatus %s, %d events", f.DisplayStatus, len(f.Events))
	}

	if _, err := b.client.FulfillmentEvents(ctxT, "gid://shopify/Fulfillment/999999"); !errors.Is(err, ErrNotFound) || !connector.IsPermanent(err) {
		t.Errorf("unknown fulfillment: err = %v, want permanent ErrNotFound", err)
	}
	var uerr *UserErrorsError
	if _, err := b.client.CreateFulfillmentEvent(ctxT, "gid://shopify/Fulfillment/999999", FulfillmentEventInput{Status: "IN_TRANSIT"}); !errors.As(err, &uerr) || !connector.IsPermanent(err) {
		t.Errorf("event on an unknown fulfillment: err = %v, want permanent *UserErrorsError", err)
	}
	if _, err := b.client.CreateFulfillmentEvent(ctxT, fid, FulfillmentEventInput{}); err == nil || !connector.IsPermanent(err) {
		t.Errorf("event without status: err = %v, want a permanent error", err)
	}
}

func TestUpdateTracking(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	fid := b.ship(t)
	before := b.sim.Stats().TrackingUpdates

	numbers := []string{"JD014600006281230712", "JD014600006281230713"}
	urls := []string{"https://track.example/JD014600006281230712", "https://track.example/JD014600006281230713"}
	if err := b.client.UpdateTracking(ctxT, fid, numbers, urls, "DHL Express", true); err != nil {
		t.Fatal(err)
	}
	var want []shopifysim.TrackingState
	for i := range numbers {
		want = append(want, shopifysim.TrackingState{Company: "DHL Express", Number: numbers[i], URL: urls[i]})
	}
	if diff := cmp.Diff(want, b.order(t).Fulfillments[0].Tracking); diff != "" {
		t.Errorf("tracking (-want +got):\n%s", diff)
	}
	if got := b.sim.Stats().TrackingUpdates; got != before+1 {
		t.Errorf("TrackingUpdates = %d, want %d", got, before+1)
	}
	var uerr *UserErrorsError
	if err := b.client.UpdateTracking(ctxT, "gid://shopify/Fulfillment/999999", numbers, nil, "", false); !errors.As(err, &uerr) || !connector.IsPermanent(err) {
		t.Errorf("unknown fulfillment: err = %v, want permanent *UserErrorsError", err)
	}
}
