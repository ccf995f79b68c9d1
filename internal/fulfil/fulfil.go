// Package fulfil reports warehouse shipments to Shopify: each stored
// shipment becomes one Shopify fulfillment for exactly the fulfillment order
// line items and quantities shipped, carrying every package's tracking
// number and URL.
//
// Exactly once: a shipment row is created once per WMS shipment id, the job
// is unique per shipment, and a retried attempt first looks in Shopify for a
// fulfillment already carrying the shipment's tracking numbers (the previous
// attempt may have succeeded just before a crash) and records it instead of
// creating another.
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
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

// Worker works wmsfeed.FulfilArgs.
type Worker struct {
	river.WorkerDefaults[wmsfeed.FulfilArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work creates the fulfillment of one shipment.
func (w *Worker) Work(ctx context.Context, job *river.Job[wmsfeed.FulfilArgs]) error {
	return queue.Classify(w.Fulfil(ctx, job.Args.ShipmentID, job.Attempt > 1))
}

// Fulfil creates the Shopify fulfillment of a shipment. When retry is true
// it first checks whether an earlier attempt already created it.
func (w *Worker) Fulfil(ctx context.Context, shipmentID int64, retry bool) error {
	s, err := store.GetShipment(ctx, w.Store.Read, shipmentID)
	if err != nil {
		return err
	}
	if s.FulfillmentID != "" {
		return nil
	}
	// What retrying cannot fix is permanent: the job stops and is listed
	// with its reason instead of retrying for weeks.
	t, ok := w.Tenants.Shop(s.Shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("fulfil: unknown shop %s", s.Shop))
	}
	wo, err := store.GetWarehouseOrderByRef(ctx, w.Store.Read, s.Shop, s.Shipment.ExternalRef)
	if errors.Is(err, store.ErrNotFound) {
		return connector.Permanent(fmt.Errorf("fulfil: shipment %d: no warehouse order %s", s.ID, s.Shipment.ExternalRef))
	}
	if err != nil {
		return fmt.Errorf("fulfil: shipment %d: warehouse order %s: %w", s.ID, s.Shipment.ExternalRef, err)
	}
	in, err := Input(&wo.Order, &s.Shipment)
	if err != nil {
		return connector.Permanent(err)
	}
	var fid string
	if retry {
		fid, err = t.Shopify.FindFulfillmentByTracking(ctx, wo.Order.OrderID, in.Numbers)
		if err != nil {
			return fmt.Errorf("fulfil: look for an earlier fulfillment: %w", err)
		}
	}
	created := false
	if fid == "" {
		fid, err = t.Shopify.CreateFulfillment(ctx, in)
		var uerr *shopify.UserErrorsError
		if errors.As(err, &uerr) {
			// Shopify refuses the quantities: the order was edited after the
			// warehouse picked (an incident is on the timeline). Fulfil what
			// the fulfillment order still holds and record the excess.
			fid, err = w.fulfilCapped(ctx, t, s, wo, &in, uerr)
		}
		if err != nil {
			return fmt.Errorf("fulfil %s shipment %s: %w", wo.Order.OrderName, s.Shipment.ID, err)
		}
		created = true
	}
	return w.record(ctx, s, wo, fid, in, created)
}

// Input maps a shipment to the fulfillment that reports it: the shipped
// quantities per fulfillment order line item (never more than ordered) and
// every package's tracking.
func Input(wo *order.WarehouseOrder, s *order.Shipment) (shopify.FulfillmentInput, error) {
	in := shopify.FulfillmentInput{FulfillmentOrderID: wo.FulfillmentOrderID}
	byLine := map[int]order.Line{}
	for _, l := range wo.Lines {
		byLine[l.LineNo] = l
	}
	qty := map[string]int{}
	var ids []string
	for _, sl := range s.Lines {
		l, ok := byLine[sl.LineNo]
		if !ok {
			return in, fmt.Errorf("fulfil: shipment %s has line %d which %s does not have", s.ID, sl.LineNo, wo.ExternalRef)
		}
		if sl.Quantity <= 0 {
			continue
		}
		if _, seen := qty[l.FulfillmentOrderLineItemID]; !seen {
			ids = append(ids, l.FulfillmentOrderLineItemID)
		}
		qty[l.FulfillmentOrderLineItemID] += sl.Quantity
		if qty[l.FulfillmentOrderLineItemID] > l.Quantity {
			return in, fmt.Errorf("fulfil: shipment %s ships %d of line %d (%s) but %d were ordered", s.ID, qty[l.FulfillmentOrderLineItemID], l.LineNo, l.SKU, l.Quantity)
		}
	}
	if len(ids) == 0 {
		return in, fmt.Errorf("fulfil: shipment %s ships nothing", s.ID)
	}
	for _, id := range ids {
		in.Lines = append(in.Lines, shopify.FulfillmentLine{ID: id, Quantity: qty[id]})
	}
	for _, p := range s.Packages {
		if p.TrackingNumber == "" {
			continue
		}
		if in.Company == "" {
			in.Company = p.Carrier
		}
		in.Numbers = append(in.Numbers, p.TrackingNumber)
		if p.TrackingURL != "" {
			in.URLs = append(in.URLs, p.TrackingURL)
		}
	}
	if len(in.URLs) != 0 && len(in.URLs) != len(in.Numbers) {
		in.URLs = nil // Shopify pairs numbers and URLs by position; a partial list would mislabel
	}
	return in, nil
}

// fulfilCapped retries a refused fulfillment with each line capped at what
// Shopify's fulfillment order still holds, recording the units shipped
// beyond it as an incident. When nothing remains it records the shipment
// without a fulfillment ("none"), so the job stops.
func (w *Worker) fulfilCapped(ctx context.Context, t *tenant.Shop, s *store.Shipment, wo *store.WarehouseOrder, in *shopify.FulfillmentInput, refused error) (string, error) {
	fo, err := t.Shopify.GetFulfillmentOrder(ctx, in.FulfillmentOrderID)
	if err != nil {
		return "", err
	}
	remaining := map[string]int{}
	for _, l := range fo.Lines {
		remaining[l.ID] = l.RemainingQuantity
	}
	var lines []shopify.FulfillmentLine
	var excess []string
	for _, l := range in.Lines {
		q := min(l.Quantity, remaining[l.ID])
		if q < l.Quantity {
			excess = append(excess, fmt.Sprintf("%d of line %s", l.Quantity-q, l.ID))
		}
		if q > 0 {
			lines = append(lines, shopify.FulfillmentLine{ID: l.ID, Quantity: q})
		}
	}
	if len(excess) == 0 {
		return "", refused // not a quantity problem
	}
	msg := fmt.Sprintf("shipment %s carries units the Shopify order no longer holds (%s; the order was edited after the warehouse picked): ", s.Shipment.ID, strings.Join(excess, ", "))
	fid := "none"
	if len(lines) > 0 {
		in.Lines = lines
		if fid, err = t.Shopify.CreateFulfillment(ctx, *in); err != nil {
			return "", err
		}
		msg += "fulfilled the rest"
	} else {
		msg += "nothing left to fulfil"
	}
	err = w.Store.InTx(ctx, func(tx *store.Tx) error {
		return store.AddTimeline(ctx, tx, store.Entry{Shop: s.Shop, Subject: wo.Order.OrderID, At: time.Now(), Source: store.SourceHub, Kind: "incident", Message: msg})
	})
	return fid, err
}

func (w *Worker) record(ctx context.Context, s *store.Shipment, wo *store.WarehouseOrder, fid string, in shopify.FulfillmentInput, created bool) error {
	now := time.Now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := store.SetShipmentFulfilled(ctx, tx, s.ID, fid, now); err != nil {
			return err
		}
		msg := fmt.Sprintf("fulfillment %s created for shipment %s with tracking %s %s", fid, s.Shipment.ID, in.Company, strings.Join(in.Numbers, ", "))
		if !created {
			msg = fmt.Sprintf("fulfillment %s for shipment %s already existed in Shopify (earlier attempt); recorded, not created again", fid, s.Shipment.ID)
		}
		if err := store.AddTimeline(ctx, tx, store.Entry{Shop: s.Shop, Subject: wo.Order.OrderID, At: now, Source: store.SourceHub, Kind: "fulfilled", Message: msg}); err != nil {
			return err
		}
		// Fully shipped and reported?
		ships, err := store.ShipmentsOf(ctx, tx, s.Shop, wo.Order.ExternalRef)
		if err != nil {
			return err
		}
		shipped := map[int]int{}
		for _, sh := range ships {
			if sh.FulfillmentID == "" && sh.ID != s.ID {
				continue
			}
			for _, l := range sh.Shipment.Lines {
				shipped[l.LineNo] += l.Quantity
			}
		}
		for _, l := range wo.Order.Lines {
			if shipped[l.LineNo] < l.Quantity {
				return nil
			}
		}
		if _, err := store.AdvanceWarehouseOrder(ctx, tx, s.Shop, wo.Order.ExternalRef, order.ProgressFulfilled, now); err != nil {
			return err
		}
		all, err := store.WarehouseOrdersOf(ctx, tx, s.Shop, wo.Order.OrderID)
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.Order.ExternalRef != wo.Order.ExternalRef && o.Progress < order.ProgressFulfilled {
				return nil
			}
		}
		return store.SetOrderState(ctx, tx, s.Shop, wo.Order.OrderID, store.OrderFulfilled, "every warehouse order shipped and fulfilled in Shopify")
	})
}
