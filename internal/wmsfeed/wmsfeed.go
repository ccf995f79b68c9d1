// Package wmsfeed reads a warehouse's event feed (acknowledgements,
// progress, shipments) and applies it to the hub's state.
//
// Events are read after a cursor stored in the database. Each page is
// applied in one transaction together with the new cursor, so a crash
// re-reads at most one page, and an event id already stored is skipped: the
// feed may repeat events (at-least-once) without effect. Progress only moves
// forward, so a late acknowledgement never moves a shipped order back. A
// shipment is stored once and the job that creates its Shopify fulfillment
// is enqueued in the same transaction.
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
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
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
		return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "applied")
	}
	// Cancellation outcomes are handled with the order lifecycle; record them.
	msg := fmt.Sprintf("%s %s", ev.ExternalRef, ev.Type)
	if ev.Reason != "" {
		msg += ": " + ev.Reason
	}
	if err := timeline(string(ev.Type), msg); err != nil {
		return false, err
	}
	return false, store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "recorded")
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
