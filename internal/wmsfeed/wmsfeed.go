// Package wmsfeed reads a warehouse's event feed (acknowledgements,
// progress, shipments) and applies it to the hub's state. A backorder is
// recorded on the order's timeline with the warehouse's shortages; the order
// ships when the warehouse's stock arrives.
//
// Events are read after a cursor stored in the database. Each page is
// applied in one transaction together with the new cursor, so a crash
// re-reads at most one page, and an event id already stored is skipped: the
// feed may repeat events (at-least-once) without effect. Progress only moves
// forward, so a late acknowledgement never moves a shipped order back. A
// shipment is stored once and the job that creates its Shopify fulfillment
// is enqueued in the same transaction. Shipment lines arrive in the
// warehouse's item codes and units and are stored in SKUs and Shopify
// units (package mapping, by the mapping in force when the order was
// placed); a line that does not fit its order line is quarantined.
package wmsfeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/returns"
	"github.com/crossdock/crossdock/internal/store"
)

// FulfilArgs is the job that turns a stored shipment into a Shopify
// fulfillment. It is defined here, where it is enqueued, and worked by
// package fulfil.
type FulfilArgs struct {
	ShipmentID int64 `json:"shipment_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (FulfilArgs) Kind() string { return "shipment.fulfil" }

// ProgressArgs reports a warehouse's progress (picking, packed) on the
// Shopify fulfillment order; worked by package fulfil.
type ProgressArgs struct {
	Shop               string    `json:"shop"`
	ExternalRef        string    `json:"external_ref"`
	FulfillmentOrderID string    `json:"fulfillment_order_id"`
	Step               string    `json:"step"`
	Warehouse          string    `json:"warehouse"`
	At                 time.Time `json:"at"`
}

// Kind implements river.JobArgs.
func (ProgressArgs) Kind() string { return "shipment.progress" }

// CarrierArgs turns a carrier event of a stored shipment into a Shopify
// fulfillment event; worked by package fulfil.
type CarrierArgs struct {
	ShipmentID int64                   `json:"shipment_id"`
	EventID    string                  `json:"event_id"`
	Carrier    connector.CarrierUpdate `json:"carrier"`
}

// Kind implements river.JobArgs.
func (CarrierArgs) Kind() string { return "shipment.carrier_event" }

// TrackingArgs carries a stored shipment's new tracking to its Shopify
// fulfillment; worked by package fulfil.
type TrackingArgs struct {
	ShipmentID int64  `json:"shipment_id"`
	EventID    string `json:"event_id"`
}

// Kind implements river.JobArgs.
func (TrackingArgs) Kind() string { return "shipment.tracking_update" }

// Poller polls one warehouse's feed.
type Poller struct {
	Store     *store.Store
	Jobs      queue.InsertTx
	Shop      string
	Warehouse string
	WMS       connector.WMS
	Interval  time.Duration
	PageSize  int
	Logger    *slog.Logger

	mu     sync.Mutex
	health Health
}

// Health is the poller's view of its warehouse, for operators.
type Health struct {
	LastPoll    time.Time `json:"last_poll"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error,omitempty"`
	Events      int64     `json:"events"`
	Duplicates  int64     `json:"duplicates"`
}

// Health returns a copy of the poller's health.
func (p *Poller) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

func (p *Poller) cursorName() string { return "wms:" + p.Warehouse + ":events" }

// Run polls until ctx ends. A full page is followed immediately by the next;
// errors back off up to a minute.
func (p *Poller) Run(ctx context.Context) {
	if p.Interval <= 0 {
		p.Interval = time.Second
	}
	backoff := p.Interval
	for {
		n, err := p.PollOnce(ctx)
		wait := p.Interval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.Logger.Warn("wms poll failed", "shop", p.Shop, "warehouse", p.Warehouse, "err", err)
			if d, ok := connector.RetryDelay(err); ok && d > backoff {
				backoff = d
			}
			wait = backoff
			backoff = min(backoff*2, time.Minute)
		case n >= p.pageSize():
			wait = 0
			backoff = p.Interval
		default:
			backoff = p.Interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (p *Poller) pageSize() int {
	if p.PageSize <= 0 {
		return 500
	}
	return p.PageSize
}

// PollOnce reads and applies one page of events; it returns how many events
// the page had.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	now := time.Now()
	p.mu.Lock()
	p.health.LastPoll = now
	p.mu.Unlock()
	n, dups, err := p.pollOnce(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.health.LastError = err.Error()
		return n, err
	}
	p.health.LastSuccess, p.health.LastError = now, ""
	p.health.Events += int64(n - dups)
	p.health.Duplicates += int64(dups)
	return n, nil
}

func (p *Poller) pollOnce(ctx context.Context) (int, int, error) {
	cur, err := store.Cursor(ctx, p.Store.Read, p.Shop, p.cursorName())
	if err != nil {
		return 0, 0, err
	}
	events, next, err := p.WMS.Events(ctx, cur, p.pageSize())
	if err != nil {
		return 0, 0, fmt.Errorf("wmsfeed %s: events: %w", p.Warehouse, err)
	}
	if len(events) == 0 && next == cur {
		return 0, 0, nil
	}
	dups := 0
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		dups = 0
		for i := range events {
			dup, err := p.apply(ctx, tx, &events[i])
			if err != nil {
				return err
			}
			if dup {
				dups++
			}
		}
		if next != "" && next != cur {
			return store.SetCursor(ctx, tx, p.Shop, p.cursorName(), next)
		}
		return nil
	})
	return len(events), dups, err
}

var progressOf = map[connector.EventType]order.Progress{
	connector.EventAcknowledged: order.ProgressAcknowledged,
	connector.EventPicking:      order.ProgressPicking,
	connector.EventPacked:       order.ProgressPacked,
	connector.EventShipped:      order.ProgressShipped,
}

// apply stores one event and acts on it. It returns dup=true for an event
// already stored.
func (p *Poller) apply(ctx context.Context, tx *store.Tx, ev *connector.Event) (dup bool, err error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return false, err
	}
	ins, err := store.InsertWMSEvent(ctx, tx, p.Shop, p.Warehouse, ev.ID, string(ev.Type), ev.ExternalRef, body)
	if err != nil || !ins {
		return !ins, err
	}
	src := store.SourceWMS(p.Warehouse)
	// An event the hub cannot act on is kept, quarantined with the
	// reason, and the feed goes on (never a stalled feed, never a drop).
	var missing []string
	if ev.Type == "" {
		missing = append(missing, "type")
	}
	if ev.ExternalRef == "" {
		missing = append(missing, "external_ref")
	}
	if ev.At.IsZero() {
		missing = append(missing, "at")
	}
	if len(missing) > 0 {
		p.Logger.Warn("wms event quarantined", "warehouse", p.Warehouse, "event", ev.ID, "missing", missing)
		return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "quarantined: no "+strings.Join(missing, ", "))
	}
	wo, err := store.GetWarehouseOrderByRef(ctx, tx, p.Shop, ev.ExternalRef)
	if errors.Is(err, store.ErrNotFound) {
		p.Logger.Warn("wms event for an unknown order", "warehouse", p.Warehouse, "ref", ev.ExternalRef, "event", ev.ID)
		return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "quarantined: unknown external reference")
	}
	if err != nil {
		return false, err
	}
	subject := wo.Order.OrderID
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	timeline := func(kind, msg string) error {
		return store.AddTimeline(ctx, tx, store.Entry{Shop: p.Shop, Subject: subject, At: at, Source: src, Kind: kind, Message: msg})
	}
	prog, isProgress := progressOf[ev.Type]
	if ev.Type == connector.EventShipped {
		if ev.Shipment == nil {
			if err := timeline("quarantined", fmt.Sprintf("shipped event %s for %s has no shipment detail", ev.ID, ev.ExternalRef)); err != nil {
				return false, err
			}
			return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "quarantined: shipped without shipment")
		}
		sh := *ev.Shipment
		if sh.ExternalRef == "" {
			sh.ExternalRef = ev.ExternalRef
		}
		if sh.ShippedAt.IsZero() {
			sh.ShippedAt = at
		}
		// Lines come back in the warehouse's item codes and units: map them
		// to SKUs and Shopify units by the mapping the order went out with.
		wor := wo.Order
		wor.Shop, wor.Warehouse = p.Shop, p.Warehouse
		if err := mapping.FromWMSShipment(ctx, tx, &wor, &sh, at); errors.Is(err, mapping.ErrMismatch) {
			if err := timeline("quarantined", fmt.Sprintf("shipped event %s for %s not applied: %v", ev.ID, ev.ExternalRef, err)); err != nil {
				return false, err
			}
			return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "quarantined: "+err.Error())
		} else if err != nil {
			return false, err
		}
		id, ins, err := store.InsertShipment(ctx, tx, p.Shop, p.Warehouse, &sh)
		if err != nil {
			return false, err
		}
		if !ins {
			if err := timeline("duplicate", fmt.Sprintf("shipment %s reported again (event %s); ignored", sh.ID, ev.ID)); err != nil {
				return false, err
			}
			return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "duplicate shipment")
		}
		if _, err := p.Jobs.InsertTx(ctx, tx.Tx, FulfilArgs{ShipmentID: id}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			return false, fmt.Errorf("wmsfeed: enqueue fulfilment: %w", err)
		}
		if err := p.applyWaiting(ctx, tx, sh.ID, timeline); err != nil {
			return false, err
		}
		complete, err := shippedInFull(ctx, tx, p.Shop, wo)
		if err != nil {
			return false, err
		}
		if !complete {
			prog = order.ProgressPartiallyShipped
		}
		if err := timeline("shipped", describeShipment(&sh)); err != nil {
			return false, err
		}
	}
	if isProgress {
		moved, err := store.AdvanceWarehouseOrder(ctx, tx, p.Shop, ev.ExternalRef, prog, at)
		if err != nil {
			return false, err
		}
		if !moved {
			outcome := fmt.Sprintf("ignored: %s arrived after %s", ev.Type, wo.Progress)
			if ev.Type == connector.EventShipped {
				outcome = fmt.Sprintf("applied: shipment stored; progress already %s", wo.Progress)
			}
			return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, outcome)
		}
		if ev.Type != connector.EventShipped {
			if err := timeline(string(ev.Type), fmt.Sprintf("%s %s by %s", ev.ExternalRef, ev.Type, p.Warehouse)); err != nil {
				return false, err
			}
		}
		if ev.Type == connector.EventPicking || ev.Type == connector.EventPacked {
			// Shopify shows the fulfillment order in progress.
			args := ProgressArgs{Shop: p.Shop, ExternalRef: ev.ExternalRef, FulfillmentOrderID: wo.Order.FulfillmentOrderID, Step: string(ev.Type), Warehouse: p.Warehouse, At: at}
			if _, err := p.Jobs.InsertTx(ctx, tx.Tx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
				return false, fmt.Errorf("wmsfeed: enqueue progress report: %w", err)
			}
		}
		return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "applied")
	}
	switch ev.Type {
	case connector.EventCarrier, connector.EventTrackingUpdated:
		return false, p.afterShipping(ctx, tx, ev, timeline)
	}
	if ev.Type == connector.EventBackordered {
		return false, p.backordered(ctx, tx, ev, timeline)
	}
	if ev.Type == connector.EventReturnReceived {
		// Units back at the warehouse: disposed in Shopify (package returns).
		outcome, err := returns.Received(ctx, tx, p.Jobs, p.Shop, p.Warehouse, wo, ev, at)
		if err != nil {
			return false, err
		}
		return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, outcome)
	}
	// Cancellation outcomes are handled with the order lifecycle; record them.
	if ev.Type == connector.EventCancelled {
		// The warehouse will not ship it: its units stop counting in flight.
		if err := store.SetWarehouseOrderCancelled(ctx, tx, p.Shop, ev.ExternalRef, at); err != nil {
			return false, err
		}
	}
	msg := fmt.Sprintf("%s %s", ev.ExternalRef, ev.Type)
	if ev.Reason != "" {
		msg += ": " + ev.Reason
	}
	if err := timeline(string(ev.Type), msg); err != nil {
		return false, err
	}
	return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "recorded")
}

// applyWaiting applies the carrier events and tracking changes that arrived
// before the shipment shipmentID was stored.
func (p *Poller) applyWaiting(ctx context.Context, tx *store.Tx, shipmentID string, timeline func(kind, msg string) error) error {
	bodies, order, err := store.WaitingWMSEvents(ctx, tx, p.Shop, p.Warehouse)
	if err != nil {
		return err
	}
	for _, id := range order {
		var ev connector.Event
		if err := json.Unmarshal(bodies[id], &ev); err != nil {
			return fmt.Errorf("wmsfeed: waiting event %s: %w", id, err)
		}
		about := ""
		switch {
		case ev.Carrier != nil:
			about = ev.Carrier.ShipmentID
		case ev.Tracking != nil:
			about = ev.Tracking.ShipmentID
		}
		if about != shipmentID {
			continue
		}
		if err := p.afterShipping(ctx, tx, &ev, timeline); err != nil {
			return err
		}
	}
	return nil
}

// afterShipping records a carrier event or a tracking change of a stored
// shipment and enqueues what carries it to Shopify. An event about a
// shipment the hub never stored, or without its detail, is quarantined
// with the reason.
func (p *Poller) afterShipping(ctx context.Context, tx *store.Tx, ev *connector.Event, timeline func(kind, msg string) error) error {
	quarantine := func(why string) error {
		if err := timeline("quarantined", fmt.Sprintf("%s event %s for %s: %s", ev.Type, ev.ID, ev.ExternalRef, why)); err != nil {
			return err
		}
		return store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "quarantined: "+why)
	}
	shipmentID := ""
	switch {
	case ev.Type == connector.EventCarrier && ev.Carrier != nil:
		shipmentID = ev.Carrier.ShipmentID
	case ev.Type == connector.EventTrackingUpdated && ev.Tracking != nil && len(ev.Tracking.Packages) > 0:
		shipmentID = ev.Tracking.ShipmentID
	default:
		return quarantine("no detail")
	}
	sh, err := store.GetShipmentByWMSID(ctx, tx, p.Shop, p.Warehouse, shipmentID)
	if errors.Is(err, store.ErrNotFound) {
		// Out of order: the shipment's own event has not come yet. The
		// event waits and is applied when the shipment is stored.
		if err := timeline(string(ev.Type), fmt.Sprintf("%s event %s about shipment %s, not reported yet: kept until it is", ev.Type, ev.ID, shipmentID)); err != nil {
			return err
		}
		return store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "waiting: shipment "+shipmentID+" not reported yet")
	}
	if err != nil {
		return err
	}
	opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if ev.Type == connector.EventCarrier {
		c := ev.Carrier
		msg := fmt.Sprintf("carrier: %s %s", c.TrackingNumber, c.Status)
		if c.Message != "" {
			msg += " — " + c.Message
		}
		if err := timeline("carrier", msg); err != nil {
			return err
		}
		if _, err := p.Jobs.InsertTx(ctx, tx.Tx, CarrierArgs{ShipmentID: sh.ID, EventID: ev.ID, Carrier: *c}, opts); err != nil {
			return fmt.Errorf("wmsfeed: enqueue carrier event: %w", err)
		}
		return store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "applied")
	}
	// New tracking: keep the stored lines, take the new numbers, by
	// package id (by position when the ids do not match).
	pkgs := append([]order.Package(nil), sh.Shipment.Packages...)
	var nums []string
	for i := range pkgs {
		for j, u := range ev.Tracking.Packages {
			if u.ID == pkgs[i].ID || (u.ID != pkgs[i].ID && j == i && len(ev.Tracking.Packages) == len(pkgs)) {
				pkgs[i].TrackingNumber, pkgs[i].TrackingURL = u.TrackingNumber, u.TrackingURL
				if u.Carrier != "" {
					pkgs[i].Carrier = u.Carrier
				}
				break
			}
		}
		nums = append(nums, pkgs[i].TrackingNumber)
	}
	if err := store.SetShipmentPackages(ctx, tx, sh.ID, pkgs); err != nil {
		return err
	}
	if err := timeline("tracking_updated", fmt.Sprintf("tracking of shipment %s is now %s", shipmentID, strings.Join(nums, ", "))); err != nil {
		return err
	}
	if _, err := p.Jobs.InsertTx(ctx, tx.Tx, TrackingArgs{ShipmentID: sh.ID, EventID: ev.ID}, opts); err != nil {
		return fmt.Errorf("wmsfeed: enqueue tracking update: %w", err)
	}
	return store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "applied")
}

// shippedInFull reports whether the warehouse order's stored shipments
// cover every unit of every line.
func shippedInFull(ctx context.Context, q store.Querier, shop string, wo *store.WarehouseOrder) (bool, error) {
	ships, err := store.ShipmentsOf(ctx, q, shop, wo.Order.ExternalRef)
	if err != nil {
		return false, err
	}
	shipped := map[int]int{}
	for _, sh := range ships {
		for _, l := range sh.Shipment.Lines {
			shipped[l.LineNo] += l.Quantity
		}
	}
	for _, l := range wo.Order.Lines {
		if shipped[l.LineNo] < l.Quantity {
			return false, nil
		}
	}
	return true, nil
}

func describeShipment(s *order.Shipment) string {
	units := 0
	for _, l := range s.Lines {
		units += l.Quantity
	}
	var tr []string
	for _, pk := range s.Packages {
		t := pk.TrackingNumber
		if pk.Carrier != "" {
			t = pk.Carrier + " " + t
		}
		tr = append(tr, t)
	}
	return fmt.Sprintf("shipment %s: %d units in %d package(s), tracking %s", s.ID, units, len(s.Packages), strings.Join(tr, ", "))
}
