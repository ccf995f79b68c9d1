// Package returns carries a Shopify return to the warehouse that shipped
// it and the warehouse's receipt back to Shopify.
//
//  1. returns/approve (a return became OPEN, returnCreate included) is
//     recorded by the inbox drain (Opened): the return is stored as expected
//     and a return.notify job is enqueued in the same transaction.
//  2. return.notify (NotifyWorker) re-reads the return in Shopify, finds for
//     each returned unit the warehouse order that shipped it, and announces
//     the expected return to that warehouse (connector.Returner, idempotent
//     on the Shopify return id), in the warehouse's item codes. A warehouse
//     whose connector cannot receive return notices gets a timeline entry
//     and a "return.unsupported" discrepancy, not a dead letter.
//  3. The warehouse's return_received event (wmsfeed → Received) is stored
//     as a receipt (lines in SKUs, condition restockable or damaged) and a
//     return.dispose job is enqueued in the same transaction; a receipt that
//     does not make sense is quarantined with the reason.
//  4. return.dispose (DisposeWorker) records dispositions in Shopify:
//     restockable units RESTOCKED at the warehouse's Shopify location,
//     damaged units NOT_RESTOCKED. It compares what the return's receipts
//     call for with the dispositions Shopify already holds and sends only
//     the difference, so a retry or a replayed event disposes nothing twice.
//     The order's timeline explains it, and damaged units open a
//     "return.damaged" discrepancy: a refund decision is needed (the hub
//     never refunds).
//  5. returns/close (the merchant made the decision and closed the return)
//     closes the return's discrepancies (Closed).
package returns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// Discrepancy kinds opened by this package.
const (
	// KindDamaged is opened for units a warehouse received damaged: they
	// are not restocked and a refund decision is needed.
	KindDamaged = "return.damaged"
	// KindUnsupported is opened when a warehouse that shipped returned
	// units cannot be told about returns (its connector is not a
	// connector.Returner).
	KindUnsupported = "return.unsupported"
)

// Timeline kinds written on the order's timeline.
const (
	TimelineOpened      = "return_opened"      // returns/approve recorded (source shopify)
	TimelineExpected    = "return_expected"    // announced to a warehouse (source hub)
	TimelineUnsupported = "return_unsupported" // a warehouse cannot receive return notices (source hub)
	TimelineReceived    = "return_received"    // the warehouse's receipt (source wms:<warehouse>)
	TimelineDisposed    = "return_disposed"    // dispositions recorded in Shopify (source hub)
	TimelineQuarantine  = "quarantined"        // a receipt that could not be applied
	TimelineNotOpen     = "return_not_open"    // no longer open in Shopify when it was to be announced (source hub)
	TimelineClosed      = "return_closed"      // returns/close recorded, incidents closed (source shopify)
)

// NotifyArgs is the job that announces a return to the warehouse(s) that
// shipped it.
type NotifyArgs struct {
	Shop     string `json:"shop" river:"unique"`
	ReturnID string `json:"return_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (NotifyArgs) Kind() string { return "return.notify" }

// DisposeArgs is the job that applies one warehouse receipt in Shopify.
type DisposeArgs struct {
	Shop      string `json:"shop" river:"unique"`
	Warehouse string `json:"warehouse" river:"unique"`
	EventID   string `json:"event_id" river:"unique"`
	ReturnID  string `json:"return_id"`
}

// Kind implements river.JobArgs.
func (DisposeArgs) Kind() string { return "return.dispose" }

func uniqueOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Opened records a return Shopify opened (returns/approve) and enqueues
// its announcement, in tx; a return already recorded changes nothing.
func Opened(ctx context.Context, tx *store.Tx, jobs queue.InsertTx, shop string, w *shopify.ReturnWebhook, at time.Time, webhookID string) error {
	returnID, orderID := w.GID(), w.OrderGID()
	ins, err := store.InsertReturn(ctx, tx, shop, returnID, orderID, at)
	if err != nil || !ins {
		return err
	}
	if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: orderID, At: at, Source: store.SourceShopify, Kind: TimelineOpened,
		Message: fmt.Sprintf("returns/approve: return %s opened (webhook %s)", returnID, webhookID)}); err != nil {
		return err
	}
	if _, err := jobs.InsertTx(ctx, tx.Tx, NotifyArgs{Shop: shop, ReturnID: returnID}, uniqueOpts()); err != nil {
		return fmt.Errorf("returns: enqueue notice: %w", err)
	}
	return nil
}

// Closed records that Shopify closed a return (returns/close: the
// merchant's refund decision is made), in tx: its return.damaged and
// return.unsupported discrepancies are closed, with a timeline entry. A
// return the hub never recorded, or already closed, changes nothing.
func Closed(ctx context.Context, tx *store.Tx, shop string, w *shopify.ReturnWebhook, at time.Time, webhookID string) error {
	returnID := w.GID()
	rec, err := store.GetReturn(ctx, tx, shop, returnID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || rec.State == store.ReturnClosed {
		return err
	}
	keys := map[string]bool{}
	receipts, err := store.ReturnReceipts(ctx, tx, shop, returnID)
	if err != nil {
		return err
	}
	for _, r := range receipts {
		keys[KindDamaged+":"+returnID+":"+r.Warehouse+":"+r.EventID] = true
	}
	wos, err := store.WarehouseOrdersOf(ctx, tx, shop, rec.OrderID)
	if err != nil {
		return err
	}
	for _, wo := range wos {
		keys[KindUnsupported+":"+returnID+":"+wo.Order.Warehouse] = true
	}
	closed := 0
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		ok, err := store.CloseDiscrepancy(ctx, tx, shop, k, at)
		if err != nil {
			return err
		}
		if ok {
			closed++
		}
	}
	msg := fmt.Sprintf("returns/close: return %s closed in Shopify (webhook %s)", returnID, webhookID)
	if closed > 0 {
		msg += fmt.Sprintf("; %d incident(s) closed", closed)
	}
	if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: rec.OrderID, At: at, Source: store.SourceShopify, Kind: TimelineClosed, Message: msg}); err != nil {
		return err
	}
	return store.SetReturnState(ctx, tx, shop, returnID, store.ReturnClosed, msg, at)
}

// units formats SKU quantities as "2 × SKU-A, 1 × SKU-B".
func units(lines []connector.ReturnLine) string {
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		parts = append(parts, fmt.Sprintf("%d × %s", l.Quantity, l.SKU))
	}
	return strings.Join(parts, ", ")
}

// NotifyWorker works NotifyArgs.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work announces the return.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	return queue.Classify(w.Notify(ctx, job.Args.Shop, job.Args.ReturnID))
}

// group is the units of a return one warehouse order shipped.
type group struct {
	wo    store.WarehouseOrder
	lines []connector.ReturnLine // SKUs, Shopify units
}

// Notify announces the return returnID to the warehouses that shipped its
// units. It does nothing for a return already announced (or found
// unsupported).
func (w *NotifyWorker) Notify(ctx context.Context, shop, returnID string) error {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("returns: unknown shop %s", shop))
	}
	rec, err := store.GetReturn(ctx, w.Store.Read, shop, returnID)
	if err != nil {
		return err
	}
	if rec.State != store.ReturnExpected {
		return nil
	}
	ret, err := t.Shopify.GetReturn(ctx, returnID)
	if err != nil {
		return fmt.Errorf("returns: read %s: %w", returnID, err)
	}
	name := ret.Name
	if name == "" {
		name = returnID
	}
	if ret.Status != "OPEN" {
		now := time.Now()
		msg := fmt.Sprintf("return %s is %s in Shopify: not announced to a warehouse", name, ret.Status)
		return w.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: ret.OrderID, At: now, Source: store.SourceHub, Kind: TimelineNotOpen, Message: msg}); err != nil {
				return err
			}
			return store.SetReturnState(ctx, tx, shop, returnID, store.ReturnNotOpen, msg, now)
		})
	}
	groups, unshipped, err := w.route(ctx, shop, ret)
	if err != nil {
		return err
	}
	type outcome struct {
		kind, msg   string
		unsupported *group
	}
	var outs []outcome
	for i := range groups {
		g := &groups[i]
		wh, ok := t.Warehouse(g.wo.Order.Warehouse)
		if !ok {
			return connector.Permanent(fmt.Errorf("returns: warehouse %s is no longer configured", g.wo.Order.Warehouse))
		}
		rt, ok := wh.WMS.(connector.Returner)
		if !ok {
			outs = append(outs, outcome{kind: TimelineUnsupported, unsupported: g,
				msg: fmt.Sprintf("return %s: warehouse %s cannot receive return notices; tell it by hand that %s of %s are coming back",
					name, wh.Name, units(g.lines), g.wo.Order.ExternalRef)})
			continue
		}
		notice, err := w.notice(ctx, shop, ret, name, g)
		if err != nil {
			return err
		}
		if err := rt.ExpectReturn(ctx, notice); err != nil {
			return fmt.Errorf("returns: announce %s to %s: %w", returnID, wh.ID, err)
		}
		outs = append(outs, outcome{kind: TimelineExpected,
			msg: fmt.Sprintf("return %s announced to %s: %s expected back (%s)", name, wh.Name, units(g.lines), g.wo.Order.ExternalRef)})
	}
	if len(unshipped) > 0 {
		outs = append(outs, outcome{kind: "incident",
			msg: fmt.Sprintf("return %s: %s not shipped by a crossdock warehouse; no warehouse was told", name, units(unshipped))})
	}
	now := time.Now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		state, detail := store.ReturnNotified, ""
		for _, o := range outs {
			if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: ret.OrderID, At: now, Source: store.SourceHub, Kind: o.kind, Message: o.msg}); err != nil {
				return err
			}
			if o.unsupported == nil {
				continue
			}
			state, detail = store.ReturnUnsupported, o.msg
			d := store.Discrepancy{Shop: shop, Kind: KindUnsupported, Severity: store.SeverityWarning,
				Key:      KindUnsupported + ":" + returnID + ":" + o.unsupported.wo.Order.Warehouse,
				Entities: map[string]string{"order": ret.OrderID, "order_name": ret.OrderName, "return": returnID, "return_name": name, "warehouse": o.unsupported.wo.Order.Warehouse, "external_ref": o.unsupported.wo.Order.ExternalRef},
				Message:  o.msg, SuggestedFix: "tell the warehouse about the return by hand, then record the receipt and the dispositions in Shopify; close this discrepancy"}
			if _, _, err := store.OpenOrTouchDiscrepancy(ctx, tx, d, now); err != nil {
				return err
			}
		}
		return store.SetReturnState(ctx, tx, shop, returnID, state, detail, now)
	})
}

// route assigns the return's units to the warehouse orders that shipped
// them (by SKU, in warehouse order creation order); units no shipment
// carried are returned apart.
func (w *NotifyWorker) route(ctx context.Context, shop string, ret *shopify.Return) ([]group, []connector.ReturnLine, error) {
	wos, err := store.WarehouseOrdersOf(ctx, w.Store.Read, shop, ret.OrderID)
	if err != nil {
		return nil, nil, err
	}
	type source struct {
		wo      store.WarehouseOrder
		shipped map[string]int
	}
	var sources []*source
	for _, wo := range wos {
		shs, err := store.ShipmentsOf(ctx, w.Store.Read, shop, wo.Order.ExternalRef)
		if err != nil {
			return nil, nil, err
		}
		src := &source{wo: wo, shipped: map[string]int{}}
		for _, sh := range shs {
			for _, l := range sh.Shipment.Lines {
				src.shipped[l.SKU] += l.Quantity
			}
		}
		sources = append(sources, src)
	}
	want := map[string]int{}
	var skus []string
	for _, l := range ret.Lines {
		if _, ok := want[l.SKU]; !ok {
			skus = append(skus, l.SKU)
		}
		want[l.SKU] += l.TotalQuantity
	}
	byRef := map[string]*group{}
	var refs []string
	var unshipped []connector.ReturnLine
	for _, sku := range skus {
		need := want[sku]
		for _, src := range sources {
			q := min(need, src.shipped[sku])
			if q <= 0 {
				continue
			}
			src.shipped[sku] -= q
			need -= q
			ref := src.wo.Order.ExternalRef
			g := byRef[ref]
			if g == nil {
				g = &group{wo: src.wo}
				byRef[ref] = g
				refs = append(refs, ref)
			}
			g.lines = append(g.lines, connector.ReturnLine{SKU: sku, Quantity: q})
		}
		if need > 0 {
			unshipped = append(unshipped, connector.ReturnLine{SKU: sku, Quantity: need})
		}
	}
	out := make([]group, 0, len(refs))
	for _, ref := range refs {
		out = append(out, *byRef[ref])
	}
	return out, unshipped, nil
}

// notice builds the announcement of g in the warehouse's item codes and
// units (the mapping in force when the order was placed).
func (w *NotifyWorker) notice(ctx context.Context, shop string, ret *shopify.Return, name string, g *group) (connector.ReturnNotice, error) {
	o := order.WarehouseOrder{Shop: shop, Warehouse: g.wo.Order.Warehouse, ExternalRef: g.wo.Order.ExternalRef, PlacedAt: g.wo.Order.PlacedAt}
	for i, l := range g.lines {
		o.Lines = append(o.Lines, order.Line{LineNo: i + 1, SKU: l.SKU, Quantity: l.Quantity})
	}
	mapped, _, err := mapping.ToWMS(ctx, w.Store.Read, &o, time.Now())
	if err != nil {
		return connector.ReturnNotice{}, fmt.Errorf("returns: map %s for %s: %w", ret.ID, o.Warehouse, err)
	}
	n := connector.ReturnNotice{ReturnID: ret.ID, Name: name, ExternalRef: o.ExternalRef, OrderID: ret.OrderID}
	for _, l := range mapped.Lines {
		n.Lines = append(n.Lines, connector.ReturnLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	return n, nil
}

// Received stores a warehouse's return_received event for the warehouse
// order wo as a receipt and enqueues its disposal, in tx, with a timeline
// entry. It returns the event's outcome: "applied", or "quarantined: …"
// (also on the timeline) for a receipt without a return, with bad lines,
// item codes that do not map back, or a return the hub does not know.
func Received(ctx context.Context, tx *store.Tx, jobs queue.InsertTx, shop, warehouse string, wo *store.WarehouseOrder, ev *connector.Event, at time.Time) (string, error) {
	src := store.SourceWMS(warehouse)
	subject := wo.Order.OrderID
	quarantine := func(reason string) (string, error) {
		msg := fmt.Sprintf("return_received event %s for %s not applied: %s", ev.ID, ev.ExternalRef, reason)
		if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: subject, At: at, Source: src, Kind: TimelineQuarantine, Message: msg}); err != nil {
			return "", err
		}
		return "quarantined: " + reason, nil
	}
	if ev.Return == nil || strings.TrimSpace(ev.Return.ReturnID) == "" {
		return quarantine("no return id")
	}
	if len(ev.Return.Lines) == 0 {
		return quarantine("no lines")
	}
	rec, err := store.GetReturn(ctx, tx, shop, ev.Return.ReturnID)
	if errors.Is(err, store.ErrNotFound) {
		return quarantine("return " + ev.Return.ReturnID + " is unknown to the hub")
	}
	if err != nil {
		return "", err
	}
	if rec.OrderID != subject {
		return quarantine(fmt.Sprintf("return %s belongs to order %s, not %s", rec.ReturnID, rec.OrderID, subject))
	}
	placed := wo.Order.PlacedAt
	if placed.IsZero() {
		placed = at
	}
	onOrder := map[string]bool{}
	for _, l := range wo.Order.Lines {
		onOrder[l.SKU] = true
	}
	var lines []store.ReturnReceiptLine
	var desc []string
	for i, l := range ev.Return.Lines {
		if l.Quantity <= 0 {
			return quarantine(fmt.Sprintf("line %d has quantity %d", i, l.Quantity))
		}
		if l.Condition != connector.ConditionRestockable && l.Condition != connector.ConditionDamaged {
			return quarantine(fmt.Sprintf("line %d has condition %q (want %s or %s)", i, l.Condition, connector.ConditionRestockable, connector.ConditionDamaged))
		}
		cands, err := mapping.LookupSKUs(ctx, tx, shop, warehouse, l.SKU, placed)
		if errors.Is(err, mapping.ErrUnknownItem) {
			return quarantine(err.Error())
		}
		if err != nil {
			return "", err
		}
		pick := cands[0]
		for _, c := range cands {
			if onOrder[c.SKU] {
				pick = c
				break
			}
		}
		if pack := max(pick.PackSize, 1); l.Quantity%pack != 0 {
			return quarantine(fmt.Sprintf("line %d: %d × %s is not a whole number of packs of %d", i, l.Quantity, l.SKU, pack))
		}
		q := pick.ShopifyUnits(l.Quantity)
		lines = append(lines, store.ReturnReceiptLine{SKU: pick.SKU, Quantity: q, Condition: l.Condition})
		desc = append(desc, fmt.Sprintf("%d × %s %s", q, pick.SKU, l.Condition))
	}
	ins, err := store.InsertReturnReceipt(ctx, tx, store.ReturnReceipt{Shop: shop, Warehouse: warehouse, EventID: ev.ID, ReturnID: rec.ReturnID,
		OrderID: subject, Lines: lines, ReceivedAt: at})
	if err != nil {
		return "", err
	}
	if !ins {
		return "duplicate receipt", nil
	}
	if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: subject, At: at, Source: src, Kind: TimelineReceived,
		Message: fmt.Sprintf("return %s received by %s: %s (event %s)", rec.ReturnID, warehouse, strings.Join(desc, ", "), ev.ID)}); err != nil {
		return "", err
	}
	if _, err := jobs.InsertTx(ctx, tx.Tx, DisposeArgs{Shop: shop, Warehouse: warehouse, EventID: ev.ID, ReturnID: rec.ReturnID}, uniqueOpts()); err != nil {
		return "", fmt.Errorf("returns: enqueue disposal: %w", err)
	}
	return "applied", nil
}

// DisposeWorker works DisposeArgs.
type DisposeWorker struct {
	river.WorkerDefaults[DisposeArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Work applies the receipt.
func (w *DisposeWorker) Work(ctx context.Context, job *river.Job[DisposeArgs]) error {
	return queue.Classify(w.Dispose(ctx, job.Args.Shop, job.Args.Warehouse, job.Args.EventID))
}

// lock serialises the disposals of one return in this process: two
// receipts of the same return must not both send the same difference.
func (w *DisposeWorker) lock(key string) func() {
	w.mu.Lock()
	if w.locks == nil {
		w.locks = map[string]*sync.Mutex{}
	}
	m := w.locks[key]
	if m == nil {
		m = &sync.Mutex{}
		w.locks[key] = m
	}
	w.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// dispKey names a disposition: SKU, type and location (RESTOCKED only).
type dispKey struct{ sku, typ, loc string }

// Dispose applies the receipt of event eventID from warehouse: it records
// in Shopify the dispositions the return's receipts call for and Shopify
// does not hold yet, then writes the order's timeline and, for damaged
// units, opens a return.damaged discrepancy. A receipt already applied
// changes nothing.
func (w *DisposeWorker) Dispose(ctx context.Context, shop, warehouse, eventID string) error {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("returns: unknown shop %s", shop))
	}
	rc, err := store.GetReturnReceipt(ctx, w.Store.Read, shop, warehouse, eventID)
	if err != nil {
		return err
	}
	if rc.AppliedAt != nil {
		return nil
	}
	defer w.lock(shop + " " + rc.ReturnID)()
	wh, ok := t.Warehouse(warehouse)
	if !ok {
		return connector.Permanent(fmt.Errorf("returns: warehouse %s is no longer configured", warehouse))
	}
	ret, err := t.Shopify.GetReturn(ctx, rc.ReturnID)
	if err != nil {
		return fmt.Errorf("returns: read %s: %w", rc.ReturnID, err)
	}
	receipts, err := store.ReturnReceipts(ctx, w.Store.Read, shop, rc.ReturnID)
	if err != nil {
		return err
	}
	// What every receipt of the return calls for …
	want := map[dispKey]int{}
	for _, r := range receipts {
		loc := ""
		if r.Warehouse == warehouse {
			loc = wh.LocationID
		} else if other, ok := t.Warehouse(r.Warehouse); ok {
			loc = other.LocationID
		}
		for _, l := range r.Lines {
			want[keyOf(l, loc)] += l.Quantity
		}
	}
	// … less what Shopify holds already.
	left := map[string]int{} // reverse FO line id → units without a disposition
	for _, l := range ret.Lines {
		left[l.ID] = l.TotalQuantity - l.Disposed()
		for _, d := range l.Dispositions {
			k := dispKey{sku: l.SKU, typ: d.Type}
			if d.Type == shopify.DispositionRestocked {
				k.loc = d.LocationID
			}
			want[k] -= d.Quantity
		}
	}
	keys := make([]dispKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.sku+"\x00"+a.typ+"\x00"+a.loc < b.sku+"\x00"+b.typ+"\x00"+b.loc
	})
	var inputs []shopify.DispositionInput
	excess := map[string]int{}
	for _, k := range keys {
		need := want[k]
		for _, l := range ret.Lines {
			if need <= 0 {
				break
			}
			if l.SKU != k.sku || left[l.ID] <= 0 {
				continue
			}
			q := min(need, left[l.ID])
			left[l.ID] -= q
			need -= q
			inputs = append(inputs, shopify.DispositionInput{LineID: l.ID, Quantity: q, Type: k.typ, LocationID: k.loc})
		}
		if need > 0 {
			excess[k.sku] += need
		}
	}
	var notOpen string
	if ret.Status != "OPEN" && len(inputs) > 0 {
		// Shopify takes no disposition on a closed or cancelled return: the
		// receipt is recorded for the operator instead.
		notOpen = ret.Status
		inputs = nil
	}
	if slices.ContainsFunc(inputs, func(d shopify.DispositionInput) bool {
		return d.Type == shopify.DispositionRestocked && d.LocationID == ""
	}) {
		return connector.Permanent(fmt.Errorf("returns: warehouse %s has no Shopify location to restock %s at", warehouse, rc.ReturnID))
	}
	if err := t.Shopify.DisposeReturn(ctx, inputs); err != nil {
		return fmt.Errorf("returns: dispose %s: %w", rc.ReturnID, err)
	}
	restocked := map[dispKey]int{} // SKU × location → units this call restocked
	for _, d := range inputs {
		if d.Type == shopify.DispositionRestocked {
			for _, l := range ret.Lines {
				if l.ID == d.LineID {
					restocked[dispKey{sku: l.SKU, typ: d.Type, loc: d.LocationID}] += d.Quantity
				}
			}
		}
	}
	return w.record(ctx, shop, wh, ret, rc, excess, restocked, notOpen)
}

func keyOf(l store.ReturnReceiptLine, loc string) dispKey {
	if l.Condition == connector.ConditionRestockable {
		return dispKey{sku: l.SKU, typ: shopify.DispositionRestocked, loc: loc}
	}
	return dispKey{sku: l.SKU, typ: shopify.DispositionNotRestocked}
}

// record writes the receipt's outcome once: the order's timeline, and a
// discrepancy for damaged units.
//
// Units restocked by this call raise Shopify's available at their location:
// the stock engine is told (store.ExpectShopifyRestock), with a ledger line,
// so that it does not take the hub's own change for a manual edit; its next
// push sets the warehouse's figure as always.
func (w *DisposeWorker) record(ctx context.Context, shop string, wh *tenant.Warehouse, ret *shopify.Return, rc *store.ReturnReceipt,
	excess map[string]int, restocked map[dispKey]int, notOpen string) error {
	name := ret.Name
	if name == "" {
		name = ret.ID
	}
	var parts []string
	damaged := 0
	var damagedSKUs []string
	for _, l := range rc.Lines {
		if l.Condition == connector.ConditionDamaged {
			parts = append(parts, fmt.Sprintf("%d × %s damaged, not restocked", l.Quantity, l.SKU))
			damaged += l.Quantity
			damagedSKUs = append(damagedSKUs, l.SKU)
		} else {
			parts = append(parts, fmt.Sprintf("%d × %s restocked at %s", l.Quantity, l.SKU, wh.Name))
		}
	}
	msg := fmt.Sprintf("return %s received at %s: %s; refund decision needed", name, wh.Name, strings.Join(parts, "; "))
	if notOpen != "" {
		msg = fmt.Sprintf("return %s received at %s: %s; the return is %s in Shopify, so no disposition was recorded there; refund decision needed",
			name, wh.Name, strings.Join(received(rc.Lines), ", "), notOpen)
	}
	var extra []string
	for _, sku := range slices.Sorted(maps.Keys(excess)) {
		extra = append(extra, fmt.Sprintf("%d × %s", excess[sku], sku))
	}
	now := time.Now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		first, err := store.SetReturnReceiptApplied(ctx, tx, shop, rc.Warehouse, rc.EventID, now)
		if err != nil || !first {
			return err
		}
		if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: ret.OrderID, At: now, Source: store.SourceHub, Kind: TimelineDisposed, Message: msg}); err != nil {
			return err
		}
		for k, n := range restocked {
			adjusted, err := store.ExpectShopifyRestock(ctx, tx, shop, k.loc, k.sku, n)
			if err != nil {
				return err
			}
			if !adjusted {
				continue
			}
			if err := store.AddLedger(ctx, tx, store.LedgerEntry{Shop: shop, LocationID: k.loc, SKU: k.sku, At: now, Kind: "return_restock",
				Message: fmt.Sprintf("return %s: %d unit(s) RESTOCKED in Shopify by the hub; expected Shopify value raised by %d until the next push", name, n, n)}); err != nil {
				return err
			}
		}
		if len(extra) > 0 {
			if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: ret.OrderID, At: now, Source: store.SourceHub, Kind: "incident",
				Message: fmt.Sprintf("return %s: %s received at %s beyond what the return lists; no disposition recorded for them", name, strings.Join(extra, ", "), wh.Name)}); err != nil {
				return err
			}
		}
		if damaged == 0 {
			return nil
		}
		d := store.Discrepancy{Shop: shop, Kind: KindDamaged, Severity: store.SeverityWarning,
			Key: KindDamaged + ":" + rc.ReturnID + ":" + rc.Warehouse + ":" + rc.EventID,
			Entities: map[string]string{"order": ret.OrderID, "order_name": ret.OrderName, "return": rc.ReturnID, "return_name": name,
				"warehouse": rc.Warehouse, "sku": strings.Join(damagedSKUs, ",")},
			Message:      fmt.Sprintf("return %s: %d unit(s) received damaged at %s, not restocked; refund decision needed", name, damaged, wh.Name),
			SuggestedFix: "decide the refund in Shopify (returnProcess) and any claim on the carrier; close this discrepancy when done"}
		_, _, err = store.OpenOrTouchDiscrepancy(ctx, tx, d, now)
		return err
	})
}

// received describes receipt lines: "1 × SKU-A restockable".
func received(lines []store.ReturnReceiptLine) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%d × %s %s", l.Quantity, l.SKU, l.Condition))
	}
	return out
}
