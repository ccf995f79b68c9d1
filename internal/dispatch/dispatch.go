// Package dispatch takes a Shopify order to its warehouse: it reads the
// order's fulfillment orders, routes each one (routing v1), asks for
// fulfillment in Shopify (merchant role), validates and accepts the request
// (fulfillment-service role), and transmits the warehouse order to the WMS
// exactly once under an immutable external reference. The warehouse order
// is stored in SKUs and Shopify units and transmitted in the warehouse's
// item codes and units, by the mapping in force when the Shopify order was
// created (package mapping).
//
// The job is idempotent: it re-reads Shopify's state on every run and
// continues from where the order is, so a retry after a crash at any point
// neither submits twice nor transmits twice (the WMS deduplicates on the
// external reference, and the warehouse order row is written before the
// first Shopify call).
//
// Split orders: a fulfillment order no single warehouse can ship but
// several can together (route.Split) is split in Shopify
// (fulfillmentOrderSplit), one fulfillment order per warehouse, each routed
// and transmitted on its own; the timeline says which lines went where.
//
// Holds and rejections (the rule, recorded on the timeline):
//   - a fulfillment order the hub has not submitted yet (merchant role) that
//     cannot be served — no warehouse has the stock, the address is
//     incomplete, a SKU is unknown — is put on hold in Shopify with the
//     reason; the order waits and is routed again when the cause is fixed;
//   - a fulfillment request someone else submitted to one of our
//     warehouses that fails validation is rejected with the reason, since
//     the merchant must act before the warehouse can;
//   - a SKU no warehouse knows follows the shop's unknown_sku policy: hold
//     (the default, as above) or reject (the hub submits the request and
//     rejects it with the reason).
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/governance"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/route"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// RouteArgs is the job that dispatches an order.
type RouteArgs struct {
	Shop    string `json:"shop" river:"unique"`
	OrderID string `json:"order_id,omitempty" river:"unique"`
	// FulfillmentOrderID is set instead of OrderID when only the
	// fulfillment order is known (a fulfillment request webhook).
	FulfillmentOrderID string `json:"fulfillment_order_id,omitempty" river:"unique"`
}

// Kind implements river.JobArgs.
func (RouteArgs) Kind() string { return "order.route" }

// InsertOpts makes route jobs unique per order while one waits to run.
func InsertOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStateRetryable},
	}}
}

// Hold handle used for the hub's own holds.
const holdHandle = "crossdock-routing"

// Worker works RouteArgs.
type Worker struct {
	river.WorkerDefaults[RouteArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
	Now     func() time.Time
	// reported remembers "shop/warehouse" keys of warehouses known to
	// have reported stock (a warehouse that has reported stays so).
	reported sync.Map
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Work dispatches one order.
func (w *Worker) Work(ctx context.Context, job *river.Job[RouteArgs]) error {
	orderID := job.Args.OrderID
	if orderID == "" {
		t, ok := w.Tenants.Shop(job.Args.Shop)
		if !ok {
			return fmt.Errorf("dispatch: unknown shop %s", job.Args.Shop)
		}
		fo, err := t.Shopify.GetFulfillmentOrder(ctx, job.Args.FulfillmentOrderID)
		if err != nil {
			return queue.Classify(fmt.Errorf("dispatch: read fulfillment order %s: %w", job.Args.FulfillmentOrderID, err))
		}
		orderID = fo.OrderID
	}
	return queue.Classify(w.Dispatch(ctx, job.Args.Shop, orderID))
}

// Dispatch runs the dispatch of one order; see the package doc.
func (w *Worker) Dispatch(ctx context.Context, shopDomain, orderID string) error {
	t, ok := w.Tenants.Shop(shopDomain)
	if !ok {
		return fmt.Errorf("dispatch: unknown shop %s", shopDomain)
	}
	o, err := t.Shopify.GetOrder(ctx, orderID)
	if err != nil {
		return fmt.Errorf("dispatch %s: read order: %w", orderID, err)
	}
	d := &dispatch{w: w, t: t, o: o}
	upd := o.UpdatedAt
	known, err := store.GetOrder(ctx, w.Store.Read, t.Domain, o.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if known == nil || known.ShopifyUpdatedAt == nil || known.ShopifyUpdatedAt.Before(upd) || (known.CancelledAt == nil) != (o.CancelledAt == nil) {
		if _, err := store.UpsertOrder(ctx, w.Store.Write, &store.Order{Shop: t.Domain, OrderID: o.ID, LegacyID: o.LegacyID, Name: o.Name,
			ShopifyUpdatedAt: &upd, CancelledAt: o.CancelledAt}); err != nil {
			return err
		}
	}
	if o.CancelledAt != nil {
		return d.state(ctx, store.OrderCancelled, "cancelled in Shopify", "cancelled", "order is cancelled in Shopify; nothing to dispatch")
	}
	var errs []error
	for i := range o.FulfillmentOrders {
		if err := d.fulfillmentOrder(ctx, &o.FulfillmentOrders[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type dispatch struct {
	w *Worker
	t *tenant.Shop
	o *shopify.Order
}

// note is a timeline entry recorded with the next state change, so that a
// dispatch writes to the store twice: before the first Shopify call and
// after the WMS answered.
type note struct {
	source, kind, msg string
	at                time.Time
}

func (d *dispatch) timeline(ctx context.Context, q store.Querier, source, kind, msg string) error {
	return store.AddTimeline(ctx, q, store.Entry{Shop: d.t.Domain, Subject: d.o.ID, At: d.w.now(), Source: source, Kind: kind, Message: msg})
}

func (d *dispatch) state(ctx context.Context, state, reason, kind, msg string) error {
	return d.w.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := store.GetOrder(ctx, tx, d.t.Domain, d.o.ID)
		if err != nil {
			return err
		}
		if cur.State == state && cur.StateReason == reason {
			return nil // already recorded; keep the timeline free of repeats
		}
		if err := store.SetOrderState(ctx, tx, d.t.Domain, d.o.ID, state, reason); err != nil {
			return err
		}
		return d.timeline(ctx, tx, store.SourceHub, kind, msg)
	})
}

// ExternalRef is the immutable reference of the warehouse order made from a
// fulfillment order: "CD-" and the fulfillment order's numeric id.
func ExternalRef(foID string) string {
	if _, id, err := shopify.ParseGID(foID); err == nil {
		return fmt.Sprintf("CD-%d", id)
	}
	return "CD-" + foID
}

func (d *dispatch) fulfillmentOrder(ctx context.Context, fo *shopify.FulfillmentOrder) error {
	switch fo.Status {
	case "CLOSED", "CANCELLED", "INCOMPLETE":
		return nil
	}
	existing, err := store.GetWarehouseOrderByFO(ctx, d.w.Store.Read, d.t.Domain, fo.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if existing != nil && existing.Progress >= order.ProgressSent {
		return nil
	}
	switch fo.RequestStatus {
	case "UNSUBMITTED", "REJECTED":
		return d.routeAndRequest(ctx, fo)
	case "SUBMITTED":
		return d.acceptAndTransmit(ctx, fo, existing)
	case "ACCEPTED":
		var notes []note
		if existing == nil {
			wh, ok := d.t.WarehouseAt(fo.LocationID)
			if !ok {
				return nil
			}
			if _, err := store.InsertWarehouseOrder(ctx, d.w.Store.Write, d.warehouseOrder(fo, wh), order.ProgressAccepted); err != nil {
				return err
			}
		} else if existing.Progress < order.ProgressAccepted {
			notes = append(notes, note{store.SourceShopify, "accepted", "fulfillment request found accepted in Shopify (an earlier attempt accepted it)", d.w.now()})
		}
		return d.transmit(ctx, fo, notes)
	default:
		return nil
	}
}

// need sums the units to ship per SKU.
func need(fo *shopify.FulfillmentOrder) map[string]int {
	n := map[string]int{}
	for _, l := range fo.Lines {
		if l.RemainingQuantity > 0 {
			n[strings.TrimSpace(l.SKU)] += l.RemainingQuantity
		}
	}
	return n
}

func (d *dispatch) candidates(ctx context.Context, skus []string) ([]route.Candidate, error) {
	var cs []route.Candidate
	for _, wh := range d.t.Warehouses {
		levels, err := store.StockFor(ctx, d.w.Store.Read, d.t.Domain, wh.ID, skus)
		if err != nil {
			return nil, err
		}
		av := map[string]int{}
		var oldest time.Time
		for sku, l := range levels {
			av[sku] = l.Available
			if oldest.IsZero() || l.AsOf.Before(oldest) {
				oldest = l.AsOf
			}
		}
		if !oldest.IsZero() {
			// Units of orders sent after the snapshot are not in it yet.
			reserved, err := store.ReservedSince(ctx, d.w.Store.Read, d.t.Domain, wh.ID, oldest, skus...)
			if err != nil {
				return nil, err
			}
			for sku, n := range reserved {
				if l, ok := levels[sku]; ok && !l.AsOf.After(oldest) {
					av[sku] -= n
				}
			}
		}
		cs = append(cs, route.Candidate{Warehouse: wh.ID, Rank: wh.Rank, Available: av})
	}
	return cs, nil
}

// problems lists why the order cannot be transmitted as it is.
func (d *dispatch) problems(fo *shopify.FulfillmentOrder) (reason string, list []string) {
	addr := d.shipTo(fo)
	if m := addr.Missing(); len(m) > 0 {
		return "INCORRECT_ADDRESS", []string{"shipping address is missing " + strings.Join(m, ", ")}
	}
	for _, l := range fo.Lines {
		if l.RemainingQuantity > 0 && strings.TrimSpace(l.SKU) == "" {
			list = append(list, fmt.Sprintf("line %s has no SKU", l.ID))
		}
	}
	if len(list) > 0 {
		return "OTHER", list
	}
	return "", nil
}

func (d *dispatch) shipTo(fo *shopify.FulfillmentOrder) order.Address {
	a := d.o.ShippingAddress
	if a.Address1 == "" && fo.Destination.Address1 != "" {
		a = fo.Destination
	}
	if a.Email == "" {
		a.Email = d.o.Email
	}
	return a
}

func (d *dispatch) hold(ctx context.Context, fo *shopify.FulfillmentOrder, reason, why string) error {
	if fo.Status != "ON_HOLD" {
		if _, err := d.t.Shopify.HoldFulfillmentOrder(ctx, fo.ID, shopify.Hold{Reason: reason, Notes: truncate(why, 255), Handle: holdHandle}); err != nil {
			return fmt.Errorf("dispatch %s: hold: %w", d.o.Name, err)
		}
	}
	return d.state(ctx, store.OrderHeld, why, "held", fmt.Sprintf("fulfillment order %s on hold (%s): %s", fo.ID, reason, why))
}

func (d *dispatch) routeAndRequest(ctx context.Context, fo *shopify.FulfillmentOrder) error {
	if reason, list := d.problems(fo); reason != "" {
		return d.hold(ctx, fo, reason, strings.Join(list, "; "))
	}
	n := need(fo)
	skus := make([]string, 0, len(n))
	for s := range n {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	cands, err := d.candidates(ctx, skus)
	if err != nil {
		return err
	}
	dec := route.Choose(n, cands)
	if !dec.OK() {
		if parts, ok := route.Split(n, cands); ok {
			return d.split(ctx, fo, n, parts)
		}
		unknown, err := d.unknownSKUs(ctx, skus, cands)
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return d.unknownSKU(ctx, fo, unknown, dec.Reason)
		}
		return d.hold(ctx, fo, "INVENTORY_OUT_OF_STOCK", dec.Reason)
	}
	wh, _ := d.t.Warehouse(dec.Warehouse)
	if wh.LocationID == "" {
		return fmt.Errorf("dispatch: warehouse %s has no Shopify location yet", wh.ID)
	}
	if fo.Status == "ON_HOLD" {
		if _, err := d.t.Shopify.ReleaseHold(ctx, fo.ID); err != nil {
			return fmt.Errorf("dispatch %s: release hold: %w", d.o.Name, err)
		}
		if err := d.timeline(ctx, d.w.Store.Write, store.SourceHub, "hold_released", "hold released: "+dec.Reason); err != nil {
			return err
		}
	}
	if fo.LocationID != wh.LocationID {
		moved, err := d.t.Shopify.MoveFulfillmentOrder(ctx, fo.ID, wh.LocationID)
		if err != nil {
			return fmt.Errorf("dispatch %s: move to %s: %w", d.o.Name, wh.ID, err)
		}
		if err := d.timeline(ctx, d.w.Store.Write, store.SourceHub, "moved", fmt.Sprintf("fulfillment order moved from %s to %s", fo.LocationID, wh.Name)); err != nil {
			return err
		}
		if moved.ID != "" {
			fo.ID = moved.ID
		}
		fo.LocationID = wh.LocationID
	}
	// The warehouse order row exists before Shopify hears of the request,
	// so the fulfillment_request_submitted webhook finds it.
	err = d.w.Store.InTx(ctx, func(tx *store.Tx) error {
		// A decision taken by an earlier attempt that never reached the
		// warehouse is replaced: the fulfillment order may have moved since.
		if _, err := store.ReplaceUnsentWarehouseOrder(ctx, tx, d.warehouseOrder(fo, wh), order.ProgressRouted); err != nil {
			return err
		}
		if err := store.SetOrderState(ctx, tx, d.t.Domain, d.o.ID, store.OrderInProgress, dec.Reason); err != nil {
			return err
		}
		return d.timeline(ctx, tx, store.SourceHub, "routed", dec.Reason)
	})
	if err != nil {
		return err
	}
	st, err := d.t.Shopify.SubmitFulfillmentRequest(ctx, fo.ID, "crossdock: "+dec.Reason, false)
	if err != nil {
		return fmt.Errorf("dispatch %s: request fulfillment: %w", d.o.Name, err)
	}
	if st.ID != "" && st.ID != fo.ID {
		return fmt.Errorf("dispatch %s: Shopify split fulfillment order %s on request (now %s); will route again", d.o.Name, fo.ID, st.ID)
	}
	fo.RequestStatus = "SUBMITTED"
	existing, err := store.GetWarehouseOrderByFO(ctx, d.w.Store.Read, d.t.Domain, fo.ID)
	if err != nil {
		return err
	}
	return d.acceptAndTransmit(ctx, fo, existing, note{store.SourceHub, "requested", "fulfillment requested from " + wh.Name, d.w.now()})
}

// unknownSKUs returns the SKUs of skus that no warehouse knows: none has a
// stock level for them although every warehouse has reported its stock.
// Before every warehouse has reported (a hub that just started), no SKU is
// called unknown: the order waits on an out-of-stock hold and is routed
// again.
func (d *dispatch) unknownSKUs(ctx context.Context, skus []string, cands []route.Candidate) ([]string, error) {
	var missing []string
	for _, s := range skus {
		known := false
		for _, c := range cands {
			if _, ok := c.Available[s]; ok {
				known = true
				break
			}
		}
		if !known {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	for _, wh := range d.t.Warehouses {
		key := d.t.Domain + "/" + wh.ID
		if _, ok := d.w.reported.Load(key); ok {
			continue
		}
		levels, err := store.StockLevels(ctx, d.w.Store.Read, d.t.Domain, wh.ID)
		if err != nil {
			return nil, err
		}
		if len(levels) == 0 {
			return nil, nil
		}
		d.w.reported.Store(key, true)
	}
	return missing, nil
}

// unknownSKU applies the shop's unknown_sku policy (configuration
// `policies.unknown_sku`, see internal/governance) to a fulfillment order
// the hub has not submitted yet and that has SKUs no warehouse knows:
// hold (the default) puts it on hold with the reason, as any order that
// cannot be routed; reject submits the fulfillment request to the
// warehouse location it is at (or the first-ranked warehouse's) and
// rejects it with the reason, so the merchant sees it refused in Shopify.
// A request already rejected stays so until the SKU becomes known or the
// merchant submits it again.
func (d *dispatch) unknownSKU(ctx context.Context, fo *shopify.FulfillmentOrder, unknown []string, routeReason string) error {
	what := fmt.Sprintf("SKU %s unknown to every warehouse", strings.Join(unknown, ", "))
	if governance.New(d.t.Config).UnknownSKU() != config.UnknownSKUReject {
		return d.hold(ctx, fo, "INVENTORY_OUT_OF_STOCK", routeReason+" ("+what+"; policy unknown_sku: hold)")
	}
	why := what + "; policy unknown_sku: reject"
	msg := "fulfillment request rejected (INELIGIBLE_PRODUCT): " + why
	if fo.RequestStatus == "REJECTED" {
		return d.state(ctx, store.OrderRejected, why, "rejected", msg)
	}
	wh, ok := d.t.WarehouseAt(fo.LocationID)
	if !ok {
		if len(d.t.Warehouses) == 0 || d.t.Warehouses[0].LocationID == "" {
			return fmt.Errorf("dispatch %s: no warehouse location to reject the request at", d.o.Name)
		}
		wh = d.t.Warehouses[0]
		moved, err := d.t.Shopify.MoveFulfillmentOrder(ctx, fo.ID, wh.LocationID)
		if err != nil {
			return fmt.Errorf("dispatch %s: move to %s: %w", d.o.Name, wh.ID, err)
		}
		if err := d.timeline(ctx, d.w.Store.Write, store.SourceHub, "moved", fmt.Sprintf("fulfillment order moved from %s to %s to reject it", fo.LocationID, wh.Name)); err != nil {
			return err
		}
		if moved.ID != "" {
			fo.ID = moved.ID
		}
	}
	if fo.Status == "ON_HOLD" {
		if _, err := d.t.Shopify.ReleaseHold(ctx, fo.ID); err != nil {
			return fmt.Errorf("dispatch %s: release hold: %w", d.o.Name, err)
		}
	}
	if _, err := d.t.Shopify.SubmitFulfillmentRequest(ctx, fo.ID, truncate("crossdock: "+why, 255), false); err != nil {
		return fmt.Errorf("dispatch %s: request fulfillment: %w", d.o.Name, err)
	}
	if _, err := d.t.Shopify.RejectFulfillmentRequest(ctx, fo.ID, "INELIGIBLE_PRODUCT", truncate(why, 255)); err != nil {
		return fmt.Errorf("dispatch %s: reject: %w", d.o.Name, err)
	}
	return d.state(ctx, store.OrderRejected, why, "rejected", msg)
}

func (d *dispatch) warehouseOrder(fo *shopify.FulfillmentOrder, wh *tenant.Warehouse) *order.WarehouseOrder {
	w := &order.WarehouseOrder{
		ExternalRef: ExternalRef(fo.ID), Shop: d.t.Domain, Warehouse: wh.ID, OrderID: d.o.ID, OrderName: d.o.Name,
		FulfillmentOrderID: fo.ID, ShippingMethod: d.o.ShippingMethod, ShipTo: d.shipTo(fo), PlacedAt: d.o.CreatedAt,
	}
	n := 0
	for _, l := range fo.Lines {
		if l.RemainingQuantity <= 0 {
			continue
		}
		n++
		w.Lines = append(w.Lines, order.Line{LineNo: n, SKU: strings.TrimSpace(l.SKU), Quantity: l.RemainingQuantity, FulfillmentOrderLineItemID: l.ID})
	}
	return w
}

func (d *dispatch) acceptAndTransmit(ctx context.Context, fo *shopify.FulfillmentOrder, existing *store.WarehouseOrder, notes ...note) error {
	wh, ok := d.t.WarehouseAt(fo.LocationID)
	if !ok {
		return nil // requested from a location that is not one of ours
	}
	var problems []string
	reason, list := d.problems(fo)
	problems = append(problems, list...)
	if reason == "" {
		// Known SKUs: the warehouse must have reported them.
		n := need(fo)
		skus := make([]string, 0, len(n))
		for s := range n {
			skus = append(skus, s)
		}
		sort.Strings(skus)
		levels, err := store.StockFor(ctx, d.w.Store.Read, d.t.Domain, wh.ID, skus)
		if err != nil {
			return err
		}
		for _, s := range skus {
			if _, ok := levels[s]; !ok {
				problems = append(problems, fmt.Sprintf("SKU %s is unknown to %s", s, wh.Name))
			}
		}
		if len(problems) > 0 {
			reason = "INELIGIBLE_PRODUCT"
		}
	}
	if reason != "" {
		why := strings.Join(problems, "; ")
		if _, err := d.t.Shopify.RejectFulfillmentRequest(ctx, fo.ID, reason, truncate(why, 255)); err != nil {
			return fmt.Errorf("dispatch %s: reject: %w", d.o.Name, err)
		}
		return d.state(ctx, store.OrderRejected, why, "rejected", fmt.Sprintf("fulfillment request rejected (%s): %s", reason, why))
	}
	if existing == nil {
		err := d.w.Store.InTx(ctx, func(tx *store.Tx) error {
			if _, err := store.InsertWarehouseOrder(ctx, tx, d.warehouseOrder(fo, wh), order.ProgressRouted); err != nil {
				return err
			}
			return d.timeline(ctx, tx, store.SourceShopify, "requested", "fulfillment requested from "+wh.Name+" in Shopify")
		})
		if err != nil {
			return err
		}
	}
	if _, err := d.t.Shopify.AcceptFulfillmentRequest(ctx, fo.ID, "accepted by crossdock for "+wh.Name); err != nil {
		return fmt.Errorf("dispatch %s: accept: %w", d.o.Name, err)
	}
	notes = append(notes, note{store.SourceHub, "accepted", "validated (address complete, SKUs known to " + wh.Name + ") and accepted", d.w.now()})
	return d.transmit(ctx, fo, notes)
}

// transmit sends the warehouse order to its WMS and records, in one
// transaction, the notes gathered since the last write, the accepted and
// sent progress, and the WMS's answer.
func (d *dispatch) transmit(ctx context.Context, fo *shopify.FulfillmentOrder, notes []note) error {
	wo, err := store.GetWarehouseOrderByFO(ctx, d.w.Store.Read, d.t.Domain, fo.ID)
	if err != nil {
		return err
	}
	if wo.Progress >= order.ProgressSent {
		return nil
	}
	wh, ok := d.t.Warehouse(wo.Order.Warehouse)
	if !ok {
		return fmt.Errorf("dispatch: warehouse %s is no longer configured", wo.Order.Warehouse)
	}
	// The warehouse gets its item codes and units, by the mapping in
	// force when the order was placed; the stored order keeps SKUs.
	sent, mapped, err := mapping.ToWMS(ctx, d.w.Store.Read, &wo.Order, d.o.CreatedAt)
	if err != nil {
		return fmt.Errorf("dispatch %s: map lines for %s: %w", d.o.Name, wh.ID, err)
	}
	if len(mapped) > 0 {
		notes = append(notes, note{store.SourceHub, "mapped", "items for " + wh.Name + ": " + strings.Join(mapped, "; "), d.w.now()})
	}
	res, err := wh.WMS.SubmitOrder(ctx, sent)
	if err != nil {
		// Say on the timeline why the order has not reached the warehouse
		// yet; the job is retried with backoff (or dead-lettered for a
		// permanent error, which the dead-letter view shows).
		what := "will retry"
		if connector.IsPermanent(err) {
			what = "not retried: an operator must look (dead letter)"
		}
		_ = d.w.Store.InTx(ctx, func(tx *store.Tx) error {
			return d.timeline(ctx, tx, store.SourceHub, "retry", fmt.Sprintf("could not send %s to %s: %v; the order is kept, %s", wo.Order.ExternalRef, wh.Name, err, what))
		})
		return fmt.Errorf("dispatch %s: transmit to %s: %w", d.o.Name, wh.ID, err)
	}
	return d.w.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, n := range notes {
			e := store.Entry{Shop: d.t.Domain, Subject: d.o.ID, At: n.at, Source: n.source, Kind: n.kind, Message: n.msg}
			if err := store.AddTimeline(ctx, tx, e); err != nil {
				return err
			}
		}
		moved, err := store.AdvanceWarehouseOrder(ctx, tx, d.t.Domain, wo.Order.ExternalRef, order.ProgressSent, d.w.now())
		if err != nil || !moved {
			return err
		}
		if err := store.SetWMSOrderID(ctx, tx, d.t.Domain, wo.Order.ExternalRef, res.WMSOrderID); err != nil {
			return err
		}
		msg := fmt.Sprintf("sent to %s as %s (WMS order %s)", wh.Name, wo.Order.ExternalRef, res.WMSOrderID)
		if !res.Created {
			msg = fmt.Sprintf("%s already had %s (WMS order %s): not sent twice", wh.Name, wo.Order.ExternalRef, res.WMSOrderID)
		}
		return d.timeline(ctx, tx, store.SourceHub, "sent", msg)
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
