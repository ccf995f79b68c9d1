// Package amend carries edits made in Shopify after an order reached its
// warehouse (an order edit changing quantities, a new shipping address) to
// the warehouse, according to what the warehouse's connector supports and
// how far the warehouse has gone:
//
//   - the warehouse has not started picking (sent, acknowledged) and its
//     connector is a connector.Amender → the order is amended under the
//     same external reference (timeline "amended");
//   - the warehouse refuses the amendment, has started picking (picking,
//     packed), or its connector cannot amend → an incident with the reason
//     on the order's timeline: the parcel leaves as it was;
//   - every unit of the warehouse order was removed in Shopify → the
//     warehouse is asked to cancel (timeline "cancelled", or an incident
//     when it cannot).
//
// Units an edit adds come, in Shopify, on a new fulfillment order: the job
// hands it to dispatch (order.route), which routes and transmits it as any
// other. Cancel-and-resend (a new external reference for the same
// fulfillment order) is not done: the store keeps one warehouse order per
// fulfillment order.
//
// The job re-reads the order through GraphQL (the webhook is only a
// trigger), rebuilds each in-flight warehouse order from its fulfillment
// order as dispatch builds it (same line numbers, the mapping in force when
// the order was placed), and compares it with what the warehouse was last
// sent. Every decision is recorded with a fingerprint of the content it
// was about ("[edit <fingerprint>]"), so a replay — the same webhook twice,
// a retry after a crash — decides nothing twice.
package amend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// Args is the job that propagates the edits of one order.
type Args struct {
	Shop    string `json:"shop" river:"unique"`
	OrderID string `json:"order_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "order.amend" }

// InsertOpts makes the job unique per order while one waits or runs (River
// requires the running state in a unique set), so two never race on the
// same order. An edit committed in Shopify after a running job read the
// order is picked up by the next orders/updated, which the hub's own
// progress reports and fulfillments also cause.
func InsertOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStateRetryable},
	}}
}

// Worker works Args.
type Worker struct {
	river.WorkerDefaults[Args]
	Store   *store.Store
	Tenants *tenant.Registry
	// Jobs enqueues the dispatch of fulfillment orders an edit created.
	Jobs   queue.InsertTx
	Logger *slog.Logger
}

// Work propagates the order's edits.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	return queue.Classify(w.Amend(ctx, job.Args.Shop, job.Args.OrderID))
}

// Amend compares each in-flight warehouse order of the order with the
// order as it is now in Shopify and propagates the differences; see the
// package doc.
func (w *Worker) Amend(ctx context.Context, shop, orderID string) error {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("amend: unknown shop %s", shop))
	}
	o, err := t.Shopify.GetOrder(ctx, orderID)
	if err != nil {
		return fmt.Errorf("amend: read %s: %w", orderID, err)
	}
	if o.CancelledAt != nil {
		return nil // package cancel handles cancelled orders
	}
	wos, err := store.WarehouseOrdersOf(ctx, w.Store.Read, shop, orderID)
	if err != nil {
		return err
	}
	if err := w.dispatchNew(ctx, shop, o, wos); err != nil {
		return err
	}
	tl, err := store.Timeline(ctx, w.Store.Read, shop, orderID)
	if err != nil {
		return err
	}
	var errs []error
	for i := range wos {
		if err := w.one(ctx, t, o, &wos[i], tl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dispatchNew hands fulfillment orders that no warehouse order covers yet
// (units an edit added) to dispatch.
func (w *Worker) dispatchNew(ctx context.Context, shop string, o *shopify.Order, wos []store.WarehouseOrder) error {
	for _, fo := range o.FulfillmentOrders {
		if fo.Status != "OPEN" || fo.RequestStatus != "UNSUBMITTED" {
			continue
		}
		if slices.ContainsFunc(wos, func(wo store.WarehouseOrder) bool { return wo.Order.FulfillmentOrderID == fo.ID }) {
			continue
		}
		if w.Jobs == nil {
			return connector.Permanent(errors.New("amend: no job client to dispatch a new fulfillment order"))
		}
		return w.Store.InTx(ctx, func(tx *store.Tx) error {
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: shop, OrderID: o.ID}, dispatch.InsertOpts()); err != nil {
				return fmt.Errorf("amend: enqueue dispatch: %w", err)
			}
			return store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: o.ID, At: time.Now(), Source: store.SourceShopify, Kind: "edited",
				Message: fmt.Sprintf("order edited in Shopify: new fulfillment order %s for the units added; sent to dispatch", fo.ID)})
		})
	}
	return nil
}

// Rebuild returns the warehouse order wo as fulfillment order fo of order o
// says it should be now: the ship-to as dispatch takes it (the order's
// shipping address, else the fulfillment order's destination, with the
// order's email) and, per stored line, the fulfillment order line's
// remaining quantity under the same line number; lines with nothing left
// are dropped, a fulfillment order line not yet in wo gets the next number.
func Rebuild(wo *order.WarehouseOrder, o *shopify.Order, fo *shopify.FulfillmentOrder) *order.WarehouseOrder {
	out := *wo
	out.ShipTo = o.ShippingAddress
	if out.ShipTo.Address1 == "" && fo.Destination.Address1 != "" {
		out.ShipTo = fo.Destination
	}
	if out.ShipTo.Email == "" {
		out.ShipTo.Email = o.Email
	}
	rem := map[string]shopify.FulfillmentOrderLine{}
	for _, l := range fo.Lines {
		rem[l.ID] = l
	}
	out.Lines = nil
	next := 0
	for _, l := range wo.Lines {
		next = max(next, l.LineNo)
		fl, ok := rem[l.FulfillmentOrderLineItemID]
		delete(rem, l.FulfillmentOrderLineItemID)
		if !ok || fl.RemainingQuantity <= 0 {
			continue
		}
		l.Quantity = fl.RemainingQuantity
		out.Lines = append(out.Lines, l)
	}
	for _, fl := range fo.Lines { // in Shopify's order
		if _, ok := rem[fl.ID]; !ok || fl.RemainingQuantity <= 0 {
			continue
		}
		next++
		out.Lines = append(out.Lines, order.Line{LineNo: next, SKU: strings.TrimSpace(fl.SKU), Quantity: fl.RemainingQuantity, FulfillmentOrderLineItemID: fl.ID})
	}
	return &out
}

// same reports whether a and b ask the warehouse for the same thing.
func same(a, b *order.WarehouseOrder) bool {
	return a.ShipTo == b.ShipTo && slices.Equal(a.Lines, b.Lines)
}

// Fingerprint identifies the content of a warehouse order the hub decided
// about: its reference, ship-to and lines.
func Fingerprint(wo *order.WarehouseOrder) string {
	b, _ := json.Marshal(struct {
		Ref    string
		ShipTo order.Address
		Lines  []order.Line
	}{wo.ExternalRef, wo.ShipTo, wo.Lines})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// decided reports whether the timeline already holds a decision about fp.
func decided(tl []store.Entry, fp string) bool {
	tag := "[edit " + fp + "]"
	return slices.ContainsFunc(tl, func(e store.Entry) bool { return strings.Contains(e.Message, tag) })
}

// describe says what differs between the order as sent and as rebuilt.
func describe(was, now *order.WarehouseOrder) string {
	var parts []string
	if was.ShipTo != now.ShipTo {
		parts = append(parts, fmt.Sprintf("ship-to %s, %s %s %s", now.ShipTo.Address1, now.ShipTo.PostalCode, now.ShipTo.City, now.ShipTo.CountryCode))
	}
	if !slices.Equal(was.Lines, now.Lines) {
		var ls []string
		for _, l := range now.Lines {
			ls = append(ls, fmt.Sprintf("%s×%d", l.SKU, l.Quantity))
		}
		if len(ls) == 0 {
			ls = []string{"none"}
		}
		parts = append(parts, "lines "+strings.Join(ls, ", "))
	}
	return strings.Join(parts, "; ")
}

func (w *Worker) one(ctx context.Context, t *tenant.Shop, o *shopify.Order, wo *store.WarehouseOrder, tl []store.Entry) error {
	if wo.CancelledAt == nil && wo.Progress == order.ProgressAccepted && strings.Contains(wo.Order.ExternalRef, "-R") {
		return w.transmit(ctx, t, o, &wo.Order) // a resend a crash left unsent
	}
	if wo.CancelledAt != nil || wo.Progress < order.ProgressSent || wo.Progress >= order.ProgressPartiallyShipped {
		return nil // not at the warehouse yet (dispatch sends it as it is), or gone
	}
	var fo *shopify.FulfillmentOrder
	for i := range o.FulfillmentOrders {
		if o.FulfillmentOrders[i].ID == wo.Order.FulfillmentOrderID {
			fo = &o.FulfillmentOrders[i]
		}
	}
	if fo == nil {
		return nil // moved or merged: nothing to compare with
	}
	now := Rebuild(&wo.Order, o, fo)
	if same(&wo.Order, now) {
		return nil
	}
	fp := Fingerprint(now)
	if decided(tl, fp) {
		return nil // a replay
	}
	ref := wo.Order.ExternalRef
	wh, ok := t.Warehouse(wo.Order.Warehouse)
	if !ok {
		return connector.Permanent(fmt.Errorf("amend: warehouse %s is no longer configured", wo.Order.Warehouse))
	}
	what := describe(&wo.Order, now)
	record := func(kind, msg string, cancelled bool) error {
		return w.Store.InTx(ctx, func(tx *store.Tx) error {
			if kind == "amended" {
				// The hub's copy follows what the warehouse now has.
				if err := store.AmendWarehouseOrder(ctx, tx, now); err != nil {
					return err
				}
			}
			if cancelled {
				if err := store.SetWarehouseOrderCancelled(ctx, tx, t.Domain, ref, time.Now()); err != nil {
					return err
				}
			}
			return store.AddTimeline(ctx, tx, store.Entry{Shop: t.Domain, Subject: o.ID, At: time.Now(), Source: store.SourceHub,
				Kind: kind, Message: msg + " [edit " + fp + "]"})
		})
	}
	incident := func(why string) error {
		return record("incident", fmt.Sprintf("order edited in Shopify (%s), but %s cannot take it for %s: %s; the warehouse ships the order as it was sent — contact the customer", what, wh.Name, ref, why), false)
	}
	if len(now.Lines) == 0 {
		// Every unit was taken off: the warehouse must not ship it.
		if wo.Progress > order.ProgressAcknowledged {
			return incident("already " + wo.Progress.String())
		}
		res, err := wh.WMS.CancelOrder(ctx, ref)
		if err != nil {
			return fmt.Errorf("amend: ask %s to cancel %s: %w", wh.ID, ref, err)
		}
		if !res.Cancelled {
			return incident(cmpReason(res.Reason, "the warehouse refused to cancel"))
		}
		return record("cancelled", fmt.Sprintf("order edited in Shopify: every unit of %s removed; %s cancelled it, nothing ships", ref, wh.Name), true)
	}
	if wo.Progress > order.ProgressAcknowledged {
		return incident("already " + wo.Progress.String())
	}
	am, ok := wh.WMS.(connector.Amender)
	if !ok {
		// No amendment in this protocol: cancel, then resend the edited
		// order under a new reference (dispatch transmits it).
		res, err := wh.WMS.CancelOrder(ctx, ref)
		if err != nil {
			if connector.IsPermanent(err) {
				return incident("its connector cannot amend orders and the cancel to resend failed: " + err.Error())
			}
			return fmt.Errorf("amend: ask %s to cancel %s to resend it: %w", wh.ID, ref, err)
		}
		if !res.Cancelled {
			return incident("its connector cannot amend orders and " + cmpReason(res.Reason, "the warehouse refused to cancel"))
		}
		return w.resend(ctx, t, o, wo, now, fmt.Sprintf("order edited in Shopify (%s): %s cannot amend, so %s was cancelled there and is resent as %%s [edit %s]", what, wh.Name, ref, fp))
	}
	sent, mapped, err := mapping.ToWMS(ctx, w.Store.Read, now, o.CreatedAt)
	if err != nil {
		return fmt.Errorf("amend %s: map lines for %s: %w", o.Name, wh.ID, err)
	}
	res, err := am.Amend(ctx, sent)
	if err != nil {
		if connector.IsPermanent(err) {
			return incident(err.Error())
		}
		return fmt.Errorf("amend: %s %s: %w", wh.ID, ref, err)
	}
	if !res.Amended {
		return incident(cmpReason(res.Reason, "the warehouse refused"))
	}
	msg := fmt.Sprintf("order edited in Shopify: %s amended %s (%s)", wh.Name, ref, what)
	if len(mapped) > 0 {
		msg += "; items: " + strings.Join(mapped, "; ")
	}
	return record("amended", msg, false)
}

// resend records the cancellation of wo and a new warehouse order with the
// edited content under the next reference (CD-…-R2, -R3…), accepted, then
// transmits it. A crash in between leaves an accepted warehouse order that
// the next run of the job (or any dispatch of the order) transmits.
func (w *Worker) resend(ctx context.Context, t *tenant.Shop, o *shopify.Order, wo *store.WarehouseOrder, now *order.WarehouseOrder, msgf string) error {
	shop, orderID := t.Domain, o.ID
	base := wo.Order.ExternalRef
	if i := strings.LastIndex(base, "-R"); i > 0 {
		base = base[:i]
	}
	all, err := store.WarehouseOrdersOf(ctx, w.Store.Read, shop, orderID)
	if err != nil {
		return err
	}
	n := 1
	for _, x := range all {
		if x.Order.FulfillmentOrderID == wo.Order.FulfillmentOrderID {
			n++
		}
	}
	next := *now
	next.ExternalRef = fmt.Sprintf("%s-R%d", base, n)
	err = w.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := store.SetWarehouseOrderCancelled(ctx, tx, shop, wo.Order.ExternalRef, time.Now()); err != nil {
			return err
		}
		if _, err := store.InsertWarehouseOrder(ctx, tx, &next, order.ProgressAccepted); err != nil {
			return err
		}
		return store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: orderID, At: time.Now(), Source: store.SourceHub,
			Kind: "resent", Message: fmt.Sprintf(msgf, next.ExternalRef)})
	})
	if err != nil {
		return err
	}
	return w.transmit(ctx, t, o, &next)
}

// transmit sends an accepted warehouse order the job created (a resend) to
// its warehouse: idempotent on the external reference at the warehouse.
func (w *Worker) transmit(ctx context.Context, t *tenant.Shop, o *shopify.Order, wo *order.WarehouseOrder) error {
	wh, ok := t.Warehouse(wo.Warehouse)
	if !ok {
		return connector.Permanent(fmt.Errorf("amend: warehouse %s is no longer configured", wo.Warehouse))
	}
	sent, _, err := mapping.ToWMS(ctx, w.Store.Read, wo, o.CreatedAt)
	if err != nil {
		return fmt.Errorf("amend %s: map lines for %s: %w", o.Name, wh.ID, err)
	}
	res, err := wh.WMS.SubmitOrder(ctx, sent)
	if err != nil {
		return fmt.Errorf("amend: send %s to %s: %w", wo.ExternalRef, wh.ID, err)
	}
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		moved, err := store.AdvanceWarehouseOrder(ctx, tx, t.Domain, wo.ExternalRef, order.ProgressSent, time.Now())
		if err != nil || !moved {
			return err
		}
		if err := store.SetWMSOrderID(ctx, tx, t.Domain, wo.ExternalRef, res.WMSOrderID); err != nil {
			return err
		}
		return store.AddTimeline(ctx, tx, store.Entry{Shop: t.Domain, Subject: o.ID, At: time.Now(), Source: store.SourceHub, Kind: "sent",
			Message: fmt.Sprintf("sent to %s as %s (WMS order %s)", wh.Name, wo.ExternalRef, res.WMSOrderID)})
	})
}

func cmpReason(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

// Changed reports whether an order payload (orders/updated, orders/edited)
// differs from what the order's in-flight warehouse orders were sent:
// another shipping address, or other units per SKU. It reads only the
// store, so the drain can call it for every delivery; a true answer costs
// the job one GraphQL read, which settles the question.
func Changed(ctx context.Context, q store.Querier, shop string, p *shopify.OrderWebhook) (bool, error) {
	wos, err := store.WarehouseOrdersOf(ctx, q, shop, p.GID())
	if err != nil {
		return false, err
	}
	stored := map[string]int{}
	inFlight := false
	var addr order.Address
	for _, wo := range wos {
		if wo.CancelledAt != nil {
			continue
		}
		for _, l := range wo.Order.Lines {
			stored[l.SKU] += l.Quantity
		}
		if wo.Progress >= order.ProgressSent && wo.Progress < order.ProgressPartiallyShipped {
			inFlight = true
			addr = wo.Order.ShipTo
		}
	}
	if !inFlight {
		return false, nil
	}
	if p.ShippingAddress != nil {
		a := p.ShippingAddress.Address()
		a.Email, a.Phone = addr.Email, addr.Phone
		if a != addr {
			return true, nil
		}
	}
	ordered := map[string]int{}
	for _, l := range p.LineItems {
		if !l.RequiresShipping || strings.TrimSpace(l.SKU) == "" {
			continue
		}
		n := l.Quantity
		if l.CurrentQuantity != nil {
			n = *l.CurrentQuantity
		}
		if n > 0 {
			ordered[strings.TrimSpace(l.SKU)] += n
		}
	}
	for sku, n := range ordered {
		if stored[sku] != n {
			return true, nil
		}
	}
	for sku, n := range stored {
		if ordered[sku] != n {
			return true, nil
		}
	}
	return false, nil
}
