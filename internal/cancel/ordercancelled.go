package cancel

import (
	"context"
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

// OrderCancelledArgs is the job that follows an order cancelled in Shopify
// outright (orders/cancelled) after it reached a warehouse: the same rule
// as a cancellation request — the warehouse is asked to cancel; when it
// can, nothing ships; when it cannot (picked, packed, shipped), an
// incident is opened on the order's timeline, since the customer was told
// the order is cancelled and a parcel leaves or has left.
type OrderCancelledArgs struct {
	Shop    string `json:"shop" river:"unique"`
	OrderID string `json:"order_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (OrderCancelledArgs) Kind() string { return "order.cancelled" }

// OrderCancelledWorker works OrderCancelledArgs.
type OrderCancelledWorker struct {
	river.WorkerDefaults[OrderCancelledArgs]
	Store   *store.Store
	Tenants *tenant.Registry
	Logger  *slog.Logger
}

// Work cancels the order's warehouse orders that may still be stopped and
// records an incident for the others. Warehouse orders already cancelled
// are skipped, so a retry asks no warehouse twice.
func (w *OrderCancelledWorker) Work(ctx context.Context, job *river.Job[OrderCancelledArgs]) error {
	return queue.Classify(w.cancelOrder(ctx, job.Args.Shop, job.Args.OrderID))
}

func (w *OrderCancelledWorker) cancelOrder(ctx context.Context, shop, orderID string) error {
	t, ok := w.Tenants.Shop(shop)
	if !ok {
		return connector.Permanent(fmt.Errorf("cancel: unknown shop %s", shop))
	}
	wos, err := store.WarehouseOrdersOf(ctx, w.Store.Read, shop, orderID)
	if err != nil {
		return err
	}
	incidents := 0
	for _, wo := range wos {
		if wo.CancelledAt != nil {
			continue
		}
		ref := wo.Order.ExternalRef
		wh, ok := t.Warehouse(wo.Order.Warehouse)
		if !ok {
			return connector.Permanent(fmt.Errorf("cancel: warehouse %s is no longer configured", wo.Order.Warehouse))
		}
		var res connector.CancelResult
		switch {
		case wo.Progress >= order.ProgressShipped:
			res = connector.CancelResult{Reason: "already shipped"}
		case wo.Progress < order.ProgressSent:
			res = connector.CancelResult{Cancelled: true} // never reached the warehouse
		default:
			if res, err = wh.WMS.CancelOrder(ctx, ref); err != nil {
				return fmt.Errorf("cancel: ask %s to cancel %s: %w", wh.ID, ref, err)
			}
		}
		err := w.Store.InTx(ctx, func(tx *store.Tx) error {
			entry := store.Entry{Shop: shop, Subject: orderID, At: time.Now(), Source: store.SourceHub}
			if res.Cancelled {
				if err := store.SetWarehouseOrderCancelled(ctx, tx, shop, ref, time.Now()); err != nil {
					return err
				}
				entry.Kind, entry.Message = "cancelled", fmt.Sprintf("order cancelled in Shopify: %s cancelled %s; nothing ships", wh.Name, ref)
			} else {
				reason := res.Reason
				if reason == "" {
					reason = "the warehouse refused"
				}
				entry.Kind, entry.Message = "incident", fmt.Sprintf("order cancelled in Shopify, but %s cannot stop %s (%s): the parcel ships or has shipped — arrange a return with the customer", wh.Name, ref, reason)
			}
			return store.AddTimeline(ctx, tx, entry)
		})
		if err != nil {
			return err
		}
		if !res.Cancelled {
			incidents++
		}
	}
	state, reason := store.OrderCancelled, "cancelled in Shopify"
	if incidents > 0 {
		reason = fmt.Sprintf("cancelled in Shopify; %d warehouse order(s) could not be stopped (incident)", incidents)
	}
	return store.SetOrderState(ctx, w.Store.Write, shop, orderID, state, reason)
}
