package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/amend"
	"github.com/crossdock/crossdock/internal/cancel"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/returns"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// DrainWorker processes a shop's pending webhooks in batches: it records
// the order, puts the event on the order's timeline and enqueues the
// dispatch job when there is something to dispatch, all in one transaction
// per batch. A payload that fails to decode here is quarantined with the
// error on its timeline; it is never dropped.
type DrainWorker struct {
	river.WorkerDefaults[DrainArgs]
	Store   *store.Store
	Jobs    queue.InsertTx
	Tenants *tenant.Registry
	Logger  *slog.Logger
	// Batch is how many webhooks one transaction processes. Default 200.
	Batch int
	// Started, if set, is called when a drain starts (Handler.DrainStarted).
	Started func(shop string)
}

// Work drains the shop's inbox.
func (w *DrainWorker) Work(ctx context.Context, job *river.Job[DrainArgs]) error {
	if w.Started != nil {
		w.Started(job.Args.Shop)
	}
	batch := w.Batch
	if batch <= 0 {
		batch = 200
	}
	for {
		n := 0
		err := w.Store.InTx(ctx, func(tx *store.Tx) error {
			events, err := store.ClaimPendingWebhooks(ctx, tx, w.Store.Dialect, job.Args.Shop, batch)
			if err != nil {
				return err
			}
			n = len(events)
			for i := range events {
				if err := w.process(ctx, tx, &events[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < batch {
			return err
		}
	}
}

func (w *DrainWorker) process(ctx context.Context, tx *store.Tx, ev *store.WebhookEvent) error {
	now := time.Now()
	v, err := shopify.DecodeWebhook(ev.Topic, ev.Body)
	if err != nil {
		status := store.WebhookQuarantined
		if errors.Is(err, shopify.ErrUnknownTopic) {
			status = store.WebhookIgnored
		} else if err := store.AddTimeline(ctx, tx, store.Entry{Shop: ev.Shop, Subject: store.WebhookSubject(ev.ID), At: now,
			Source: store.SourceShopify, Kind: "quarantined", Message: err.Error()}); err != nil {
			return err
		}
		return store.SetWebhookStatus(ctx, tx, ev.ID, status, err.Error(), now)
	}
	switch p := v.(type) {
	case *shopify.OrderWebhook:
		if err := w.order(ctx, tx, ev, p); err != nil {
			return err
		}
	case *shopify.FulfillmentOrderWebhook:
		foID := p.FulfillmentOrderID()
		if ev.Topic == shopify.TopicCancellationRequestSubmitted {
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, cancel.Args{Shop: ev.Shop, FulfillmentOrderID: foID}, cancel.InsertOpts()); err != nil {
				return err
			}
			break
		}
		wo, err := store.GetWarehouseOrderByFO(ctx, tx, ev.Shop, foID)
		switch {
		case err == nil:
			// Our own request coming back, or already handled.
			_ = wo
		case errors.Is(err, store.ErrNotFound):
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: ev.Shop, FulfillmentOrderID: foID}, dispatch.InsertOpts()); err != nil {
				return err
			}
		default:
			return err
		}
	case *shopify.InventoryLevelWebhook:
		if err := w.inventoryLevel(ctx, tx, ev, p); err != nil {
			return err
		}
	case *shopify.ReturnWebhook:
		// A return opened in Shopify is announced to the warehouse that
		// shipped it (package returns).
		// A closed one (the refund decision made) closes its incidents.
		if shopify.TopicEnum(ev.Topic) == "RETURNS_CLOSE" {
			if err := returns.Closed(ctx, tx, ev.Shop, p, ev.ReceivedAt, ev.WebhookID); err != nil {
				return err
			}
		} else if err := returns.Opened(ctx, tx, w.Jobs, ev.Shop, p, ev.ReceivedAt, ev.WebhookID); err != nil {
			return err
		}
	case *shopify.OrderEditWebhook:
		// An edit committed on an order already at its warehouse is
		// carried there (package amend re-reads the order).
		cur, err := store.GetOrder(ctx, tx, ev.Shop, p.OrderGID())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cur != nil && cur.State == store.OrderInProgress {
			if err := store.AddTimeline(ctx, tx, store.Entry{Shop: ev.Shop, Subject: cur.OrderID, At: ev.ReceivedAt, Source: store.SourceShopify, Kind: "edited",
				Message: fmt.Sprintf("orders/edited: edit %d committed (webhook %s)", p.OrderEdit.ID, ev.WebhookID)}); err != nil {
				return err
			}
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, amend.Args{Shop: ev.Shop, OrderID: cur.OrderID}, amend.InsertOpts()); err != nil {
				return fmt.Errorf("ingest: enqueue amendment: %w", err)
			}
		}
	}
	return store.SetWebhookStatus(ctx, tx, ev.ID, store.WebhookProcessed, "", now)
}

// inventoryLevel records what Shopify now holds for a level at one of the
// shop's warehouse locations, unless a newer figure is already known.
func (w *DrainWorker) inventoryLevel(ctx context.Context, tx *store.Tx, ev *store.WebhookEvent, p *shopify.InventoryLevelWebhook) error {
	if p.Available == nil || w.Tenants == nil {
		return nil
	}
	t, ok := w.Tenants.Shop(ev.Shop)
	if !ok {
		return nil
	}
	if _, ok := t.WarehouseAt(p.LocationGID()); !ok {
		return nil // not a crossdock warehouse's location
	}
	sku, err := store.SKUOfInventoryItem(ctx, tx, ev.Shop, p.InventoryItemGID())
	if err != nil || sku == "" {
		return err
	}
	seen := p.UpdatedAt
	if seen.IsZero() {
		seen = ev.ReceivedAt
	}
	// The stock engine compares it with what it wrote or agreed: its own
	// writes come back with the value it wrote (no echo), anything else is
	// an order or a manual edit.
	_, err = store.ObserveShopifyLevel(ctx, tx, ev.Shop, p.LocationGID(), sku, p.InventoryItemGID(), *p.Available, seen, store.SourceWebhook)
	return err
}

func (w *DrainWorker) order(ctx context.Context, tx *store.Tx, ev *store.WebhookEvent, p *shopify.OrderWebhook) error {
	gid := p.GID()
	var upd *time.Time
	if !p.UpdatedAt.IsZero() {
		upd = &p.UpdatedAt
	}
	created, err := store.UpsertOrder(ctx, tx, &store.Order{Shop: ev.Shop, OrderID: gid, LegacyID: p.ID, Name: p.Name, ShopifyUpdatedAt: upd, CancelledAt: p.CancelledAt})
	if err != nil {
		return err
	}
	cur, err := store.GetOrder(ctx, tx, ev.Shop, gid)
	if err != nil {
		return err
	}
	if created || ev.Topic == shopify.TopicOrdersCancelled {
		msg := fmt.Sprintf("%s %s (webhook %s)", ev.Topic, p.Name, ev.WebhookID)
		if err := store.AddTimeline(ctx, tx, store.Entry{Shop: ev.Shop, Subject: gid, At: ev.ReceivedAt, Source: store.SourceShopify, Kind: "received", Message: msg}); err != nil {
			return err
		}
	}
	// An order cancelled outright after it reached a warehouse: the
	// warehouse is asked to stop it (package cancel).
	if ev.Topic == shopify.TopicOrdersCancelled && (cur.State == store.OrderInProgress || cur.State == store.OrderFulfilled) {
		if _, err := w.Jobs.InsertTx(ctx, tx.Tx, cancel.OrderCancelledArgs{Shop: ev.Shop, OrderID: gid}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			return fmt.Errorf("ingest: enqueue order cancellation: %w", err)
		}
	}
	// An edit (quantities, shipping address) of an order already at its
	// warehouse is carried there (package amend).
	if ev.Topic == shopify.TopicOrdersUpdated && cur.State == store.OrderInProgress {
		changed, err := amend.Changed(ctx, tx, ev.Shop, p)
		if err != nil {
			return err
		}
		if changed {
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, amend.Args{Shop: ev.Shop, OrderID: gid}, amend.InsertOpts()); err != nil {
				return fmt.Errorf("ingest: enqueue amendment: %w", err)
			}
		}
	}
	// Dispatch what is not yet under way; an order already with its
	// warehouse needs no Shopify read for every orders/updated.
	switch cur.State {
	case store.OrderReceived, store.OrderHeld:
		if _, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: ev.Shop, OrderID: gid}, dispatch.InsertOpts()); err != nil {
			return fmt.Errorf("ingest: enqueue dispatch: %w", err)
		}
	}
	return nil
}
