// Package cancel answers Shopify cancellation requests according to how far
// the warehouse has gone: the hub asks the WMS to cancel, and the WMS's
// answer decides whether the hub accepts or rejects the request in Shopify,
// with the warehouse's reason as the message.
//
//   - not yet sent to a warehouse → accepted at once;
//   - the warehouse cancels (before picking) → accepted, nothing ships;
//   - the warehouse refuses (picking, packed) or the order already shipped →
//     rejected with the reason, and an incident is recorded on the order's
//     timeline: the parcel leaves or has left.
//
// The job re-reads the fulfillment order first, so a retry after a crash
// answers nothing twice; the WMS's cancel is idempotent on the external
// reference.
package cancel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// Args is the job that answers one cancellation request.
type Args struct {
	Shop               string `json:"shop" river:"unique"`
	FulfillmentOrderID string `json:"fulfillment_order_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "order.cancel" }

// InsertOpts makes the job unique per fulfillment order while one waits.
func InsertOpts() *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Worker works Args.
type Worker struct {
	river.WorkerDefaults[Args]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work answers the cancellation request.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	return queue.Classify(w.Cancel(ctx, job.Args.Shop, job.Args.FulfillmentOrderID))
}

// Cancel answers the cancellation request of one fulfillment order.
func (w *Worker) Cancel(ctx context.Context, shop, foID string) error {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("cancel: unknown shop %s", shop))
	}
	fo, err := t.Shopify.GetFulfillmentOrder(ctx, foID)
	if err != nil {
		return fmt.Errorf("cancel: read %s: %w", foID, err)
	}
	if fo.RequestStatus != "CANCELLATION_REQUESTED" {
		return nil // answered already, or withdrawn
	}
	record := func(state, kind, msg string) error {
		return w.Store.InTx(ctx, func(tx *store.Tx) error {
			if state != "" {
				if err := store.SetOrderState(ctx, tx, shop, fo.OrderID, state, msg); err != nil {
					return err
				}
			}
			return store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: fo.OrderID, At: time.Now(), Source: store.SourceHub, Kind: kind, Message: msg})
		})
	}
	wo, err := store.GetWarehouseOrderByFO(ctx, w.Store.Read, shop, foID)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := t.Shopify.AcceptCancellationRequest(ctx, foID, "not sent to a warehouse yet: cancelled"); err != nil {
			return fmt.Errorf("cancel: accept %s: %w", foID, err)
		}
		return record(store.OrderCancelled, "cancelled", "cancellation request accepted: the order had not been sent to a warehouse")
	}
	if err != nil {
		return err
	}
	wh, ok := t.Warehouse(wo.Order.Warehouse)
	if !ok {
		return connector.Permanent(fmt.Errorf("cancel: warehouse %s is no longer configured", wo.Order.Warehouse))
	}
	var res connector.CancelResult
	switch {
	case wo.Progress >= order.ProgressShipped:
		res = connector.CancelResult{Reason: "already shipped"}
	case wo.CancelledAt != nil:
		// The warehouse's feed already said it will not ship (a file
		// partner's answer to our cancel, read before a restart, or its own
		// cancellation): nothing ships.
		res = connector.CancelResult{Cancelled: true}
	default:
		res, err = wh.WMS.CancelOrder(ctx, wo.Order.ExternalRef)
	}
	if err != nil {
		return fmt.Errorf("cancel: ask %s to cancel %s: %w", wh.ID, wo.Order.ExternalRef, err)
	}
	if res.Cancelled {
		// Its units no longer count as in flight for the stock engine.
		if err := store.SetWarehouseOrderCancelled(ctx, w.Store.Write, shop, wo.Order.ExternalRef, time.Now()); err != nil {
			return err
		}
		if _, err := t.Shopify.AcceptCancellationRequest(ctx, foID, wh.Name+" cancelled "+wo.Order.ExternalRef); err != nil {
			return fmt.Errorf("cancel: accept %s: %w", foID, err)
		}
		return record(store.OrderCancelled, "cancelled",
			fmt.Sprintf("cancellation request accepted: %s cancelled %s before picking; nothing ships", wh.Name, wo.Order.ExternalRef))
	}
	reason := res.Reason
	if reason == "" {
		reason = "the warehouse refused"
	}
	if _, err := t.Shopify.RejectCancellationRequest(ctx, foID, wh.Name+" cannot cancel: "+reason); err != nil {
		return fmt.Errorf("cancel: reject %s: %w", foID, err)
	}
	return record("", "incident",
		fmt.Sprintf("cancellation request rejected: %s cannot cancel %s (%s); the parcel ships or has shipped — arrange a return with the customer", wh.Name, wo.Order.ExternalRef, reason))
}
