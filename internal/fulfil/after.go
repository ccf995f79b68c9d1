package fulfil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

// waitForFulfillment is how long a carrier event or tracking update waits
// before asking again when its shipment's fulfillment is not created yet.
const waitForFulfillment = 2 * time.Second

// timeline records one line on the order's timeline.
func timeline(ctx context.Context, st *store.Store, shop, orderID, kind, msg string) error {
	return st.InTx(ctx, func(tx *store.Tx) error {
		return store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: orderID, At: time.Now(), Source: store.SourceHub, Kind: kind, Message: msg})
	})
}

// ProgressWorker reports a warehouse's picking and packing on the Shopify
// fulfillment order (fulfillmentOrderReportProgress), so the merchant sees
// it in progress.
type ProgressWorker struct {
	river.WorkerDefaults[wmsfeed.ProgressArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work reports one step. A fulfillment order Shopify no longer takes
// progress on (already fulfilled, cancelled) is recorded, not retried.
func (w *ProgressWorker) Work(ctx context.Context, job *river.Job[wmsfeed.ProgressArgs]) error {
	a := job.Args
	t, ok := w.Tenants.Shop(a.Shop)
	if !ok {
		return queue.Classify(connector.Permanent(fmt.Errorf("progress: unknown shop %s", a.Shop)))
	}
	wo, err := store.GetWarehouseOrderByRef(ctx, w.Store.Read, a.Shop, a.ExternalRef)
	if err != nil {
		return queue.Classify(err)
	}
	notes := fmt.Sprintf("%s at %s (%s)", a.Step, a.Warehouse, a.At.UTC().Format(time.RFC3339))
	err = t.Shopify.ReportProgress(ctx, a.FulfillmentOrderID, notes)
	var uerr *shopify.UserErrorsError
	if errors.As(err, &uerr) {
		msg := "progress not reported to Shopify: " + uerr.Error()
		if strings.Contains(uerr.Error(), "status CLOSED") {
			// The warehouse's step arrived after the shipment was fulfilled.
			msg = fmt.Sprintf("%s not reported to Shopify: the fulfillment order is already closed (fulfilled)", notes)
		}
		return queue.Classify(timeline(ctx, w.Store, a.Shop, wo.Order.OrderID, "progress", msg))
	}
	if err != nil {
		return queue.Classify(fmt.Errorf("progress %s: %w", a.ExternalRef, err))
	}
	return queue.Classify(timeline(ctx, w.Store, a.Shop, wo.Order.OrderID, "progress", "reported to Shopify: "+notes))
}

// shopifyEventStatus maps a carrier status to Shopify's
// FulfillmentEventStatus.
var shopifyEventStatus = map[string]string{
	connector.CarrierPickedUp:          "CARRIER_PICKED_UP",
	connector.CarrierInTransit:         "IN_TRANSIT",
	connector.CarrierOutForDelivery:    "OUT_FOR_DELIVERY",
	connector.CarrierDelivered:         "DELIVERED",
	connector.CarrierAttemptedDelivery: "ATTEMPTED_DELIVERY",
	connector.CarrierDelayed:           "DELAYED",
	connector.CarrierFailure:           "FAILURE",
}

// CarrierWorker turns a carrier event into a Shopify fulfillment event,
// once: before creating it, it looks for an event of the same status and
// time on the fulfillment (an earlier attempt may have created it just
// before a crash).
type CarrierWorker struct {
	river.WorkerDefaults[wmsfeed.CarrierArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work sends one carrier event.
func (w *CarrierWorker) Work(ctx context.Context, job *river.Job[wmsfeed.CarrierArgs]) error {
	a := job.Args
	sh, t, orderID, err := shipmentFor(ctx, w.Store, w.Tenants, a.ShipmentID)
	if err != nil {
		return queue.Classify(err)
	}
	status, ok := shopifyEventStatus[a.Carrier.Status]
	if !ok {
		return queue.Classify(connector.Permanent(fmt.Errorf("carrier event %s: unknown status %q", a.EventID, a.Carrier.Status)))
	}
	if sh.FulfillmentID == "" {
		return queue.Classify(connector.RetryAfter(waitForFulfillment, fmt.Errorf("carrier event %s: shipment %s not fulfilled in Shopify yet", a.EventID, sh.Shipment.ID)))
	}
	happened := a.Carrier.HappenedAt.UTC()
	existing, err := t.Shopify.FulfillmentEvents(ctx, sh.FulfillmentID)
	if err != nil {
		return queue.Classify(fmt.Errorf("carrier event %s: read fulfillment events: %w", a.EventID, err))
	}
	for _, e := range existing {
		if e.Status == status && e.HappenedAt.UTC().Truncate(time.Second).Equal(happened.Truncate(time.Second)) {
			return nil // sent by an earlier attempt
		}
	}
	if _, err := t.Shopify.CreateFulfillmentEvent(ctx, sh.FulfillmentID, shopify.FulfillmentEventInput{Status: status, HappenedAt: happened,
		Message: a.Carrier.Message, City: a.Carrier.City, Country: a.Carrier.Country}); err != nil {
		return queue.Classify(fmt.Errorf("carrier event %s: %w", a.EventID, err))
	}
	return queue.Classify(timeline(ctx, w.Store, sh.Shop, orderID, "carrier", fmt.Sprintf("fulfillment event %s sent to Shopify (%s)", status, a.Carrier.TrackingNumber)))
}

// TrackingWorker replaces a fulfillment's tracking in Shopify with the
// shipment's tracking as the warehouse now reports it
// (fulfillmentTrackingInfoUpdate: a replacement, so a replay is harmless).
type TrackingWorker struct {
	river.WorkerDefaults[wmsfeed.TrackingArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work sends one tracking update.
func (w *TrackingWorker) Work(ctx context.Context, job *river.Job[wmsfeed.TrackingArgs]) error {
	a := job.Args
	sh, t, orderID, err := shipmentFor(ctx, w.Store, w.Tenants, a.ShipmentID)
	if err != nil {
		return queue.Classify(err)
	}
	if sh.FulfillmentID == "" {
		return queue.Classify(connector.RetryAfter(waitForFulfillment, fmt.Errorf("tracking update %s: shipment %s not fulfilled in Shopify yet", a.EventID, sh.Shipment.ID)))
	}
	var numbers, urls []string
	company := ""
	for _, p := range sh.Shipment.Packages {
		if p.TrackingNumber == "" {
			continue
		}
		numbers = append(numbers, p.TrackingNumber)
		urls = append(urls, p.TrackingURL)
		if company == "" {
			company = p.Carrier
		}
	}
	if len(numbers) == 0 {
		return queue.Classify(connector.Permanent(fmt.Errorf("tracking update %s: shipment %s has no tracking number", a.EventID, sh.Shipment.ID)))
	}
	if slicesEmpty(urls) {
		urls = nil
	}
	if err := t.Shopify.UpdateTracking(ctx, sh.FulfillmentID, numbers, urls, company, false); err != nil {
		return queue.Classify(fmt.Errorf("tracking update %s: %w", a.EventID, err))
	}
	return queue.Classify(timeline(ctx, w.Store, sh.Shop, orderID, "tracking_updated", "tracking sent to Shopify: "+strings.Join(numbers, ", ")))
}

func slicesEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return false
		}
	}
	return true
}

// shipmentFor loads a stored shipment, its shop and its Shopify order id.
func shipmentFor(ctx context.Context, st *store.Store, reg *tenant.Registry, id int64) (*store.Shipment, *tenant.Shop, string, error) {
	sh, err := store.GetShipment(ctx, st.Read, id)
	if err != nil {
		return nil, nil, "", err
	}
	t, ok := reg.Shop(sh.Shop)
	if !ok {
		return nil, nil, "", connector.Permanent(fmt.Errorf("unknown shop %s", sh.Shop))
	}
	wo, err := store.GetWarehouseOrderByRef(ctx, st.Read, sh.Shop, sh.Shipment.ExternalRef)
	if err != nil {
		return nil, nil, "", err
	}
	return sh, t, wo.Order.OrderID, nil
}
