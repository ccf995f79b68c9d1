package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/dispatch"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

// checks returns the shop's checks in the order a run does them.
func (w *Worker) checks(t *tenant.Shop) []check {
	cs := []check{
		{name: "orders", kinds: []string{KindOrderMissing, KindOrderNotDispatched, KindOrderCancelled}, run: w.checkOrders},
		{name: "order timers", kinds: []string{KindSLAAck, KindSLARequest}, run: w.checkOrderTimers},
		{name: "shipments", kinds: []string{KindShipmentUnfulfilled, KindShipmentNoTracking, KindSLATracking}, run: w.checkShipments},
		{name: "stock", kinds: []string{KindStockMismatch, KindSLAStockRefresh}, run: w.checkStock},
	}
	if w.WebhookURI != "" && t.Config.RegisterWebhooksEnabled() {
		every := dur(t.Config.SLA.WebhookCheckInterval, DefaultWebhookCheckInterval)
		cs = append(cs, check{name: "webhook subscriptions", kinds: []string{KindSLAWebhook}, run: w.checkWebhooks,
			due: func(shop string, now time.Time) bool {
				w.mu.Lock()
				defer w.mu.Unlock()
				last, ok := w.webhooksChecked[shop]
				return !ok || now.Sub(last) >= every
			},
			done: func(shop string, now time.Time) {
				w.mu.Lock()
				w.webhooksChecked[shop] = now
				w.mu.Unlock()
			}})
	}
	return cs
}

// activeStates are the job states in which an enqueued job still waits or
// runs: auto-heals do not enqueue a second one meanwhile.
var activeStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled,
	rivertype.JobStateRunning, rivertype.JobStateRetryable}

func ago(d time.Duration) string { return d.Round(time.Second).String() }

// checkOrders compares the orders Shopify updated within the lookback with
// the hub's: unknown ones (missed webhooks), known but never dispatched,
// and cancelled in Shopify while a warehouse still holds them.
func (w *Worker) checkOrders(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error) {
	shop := t.Domain
	lookback := dur(w.Config.OrdersLookback, DefaultOrdersLookback)
	grace := dur(w.Config.OrderGrace, DefaultGrace)
	from := now.Add(-lookback)
	var out []finding
	cancelled := map[string]shopify.OrderSummary{}
	after := ""
	for {
		page, err := t.Shopify.OrdersUpdatedSince(ctx, from, after)
		if err != nil {
			return nil, fmt.Errorf("list orders updated since %s: %w", from.Format(time.RFC3339), err)
		}
		ids := make([]string, len(page.Orders))
		for i, o := range page.Orders {
			ids[i] = o.ID
		}
		known, err := store.KnownOrders(ctx, w.Store.Read, shop, ids)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Orders {
			k, isKnown := known[o.ID]
			if o.CancelledAt != nil {
				if isKnown {
					cancelled[o.ID] = o
				}
				continue // a cancelled order the hub never saw needs nothing
			}
			switch {
			case !isKnown && now.Sub(o.UpdatedAt) >= grace:
				out = append(out, w.missingOrder(shop, o, now))
			case isKnown && k.State == store.OrderReceived && now.Sub(k.CreatedAt) >= grace:
				out = append(out, w.undispatchedOrder(shop, k, now))
			}
		}
		if page.EndCursor == "" {
			break
		}
		after = page.EndCursor
	}
	// Cancelled in Shopify (seen now, or recorded from a webhook) while a
	// warehouse still holds the order.
	held := map[string]store.OverdueOrder{}
	stored, err := store.CancelledButAtWarehouse(ctx, w.Store.Read, shop)
	if err != nil {
		return nil, err
	}
	for _, o := range stored {
		held[o.ExternalRef] = o
	}
	for id, o := range cancelled {
		wos, err := store.WarehouseOrdersOf(ctx, w.Store.Read, shop, id)
		if err != nil {
			return nil, err
		}
		for _, wo := range wos {
			if wo.Progress < order.ProgressSent || wo.Progress >= order.ProgressPartiallyShipped {
				continue
			}
			if _, ok := held[wo.Order.ExternalRef]; !ok {
				held[wo.Order.ExternalRef] = store.OverdueOrder{ExternalRef: wo.Order.ExternalRef, OrderID: id, OrderName: o.Name,
					Warehouse: wo.Order.Warehouse, Progress: wo.Progress.String(), Since: *o.CancelledAt}
			}
		}
	}
	// A warehouse order cancelled at the warehouse is not listed by the
	// store query; drop those the Shopify listing added.
	refs := make([]string, 0, len(held))
	for ref := range held {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		o := held[ref]
		if woCancelled(ctx, w.Store, shop, ref) {
			continue
		}
		out = append(out, finding{d: store.Discrepancy{Kind: KindOrderCancelled, Severity: store.SeverityCritical, Key: KindOrderCancelled + ":" + ref,
			Entities: map[string]string{"order": o.OrderID, "order_name": o.OrderName, "external_ref": ref, "warehouse": o.Warehouse, "progress": o.Progress},
			Message: fmt.Sprintf("order %s was cancelled in Shopify %s ago but warehouse %s still holds %s (%s): it may ship",
				o.OrderName, ago(now.Sub(o.Since)), o.Warehouse, ref, o.Progress),
			SuggestedFix: fmt.Sprintf("cancel %s at warehouse %s (its cancellation request may have been missed), or stop the parcel", ref, o.Warehouse)}})
	}
	return out, nil
}

// woCancelled reports whether a warehouse order is cancelled at the
// warehouse (cancelled_at set by the cancellation flow).
func woCancelled(ctx context.Context, st *store.Store, shop, ref string) bool {
	var n int
	err := st.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM warehouse_order WHERE shop = $1 AND external_ref = $2 AND cancelled_at IS NOT NULL`, shop, ref).Scan(&n)
	return err == nil && n > 0
}

func (w *Worker) missingOrder(shop string, o shopify.OrderSummary, now time.Time) finding {
	return finding{
		d: store.Discrepancy{Kind: KindOrderMissing, Severity: store.SeverityWarning, Key: KindOrderMissing + ":" + o.ID,
			Entities: map[string]string{"order": o.ID, "order_name": o.Name, "shopify_updated_at": o.UpdatedAt.UTC().Format(time.RFC3339)},
			Message: fmt.Sprintf("order %s is in Shopify (updated %s ago) but unknown to the hub: its webhook never arrived",
				o.Name, ago(now.Sub(o.UpdatedAt))),
			SuggestedFix: "none needed if the auto-heal worked: the hub re-fetches the order and dispatches it; otherwise check the webhook subscriptions and the order's timeline"},
		heal: func(ctx context.Context, tx *store.Tx) (string, error) {
			upd := o.UpdatedAt
			created, err := store.UpsertOrder(ctx, tx, &store.Order{Shop: shop, OrderID: o.ID, Name: o.Name, ShopifyUpdatedAt: &upd})
			if err != nil {
				return "", err
			}
			if created {
				if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: o.ID, Source: store.SourceHub, Kind: "recovered",
					Message: fmt.Sprintf("%s found by reconciliation: in Shopify but no webhook had arrived", o.Name)}); err != nil {
					return "", err
				}
			}
			if _, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: shop, OrderID: o.ID}, dispatch.InsertOpts()); err != nil {
				return "", err
			}
			return "recorded the order and enqueued order.route (re-fetch and dispatch)", nil
		},
	}
}

func (w *Worker) undispatchedOrder(shop string, k store.Order, now time.Time) finding {
	return finding{
		d: store.Discrepancy{Kind: KindOrderNotDispatched, Severity: store.SeverityWarning, Key: KindOrderNotDispatched + ":" + k.OrderID,
			Entities:     map[string]string{"order": k.OrderID, "order_name": k.Name},
			Message:      fmt.Sprintf("order %s was received %s ago but never routed to a warehouse", k.Name, ago(now.Sub(k.CreatedAt))),
			SuggestedFix: "none needed if the auto-heal worked (order.route enqueued); otherwise look for its order.route job among the dead letters"},
		heal: func(ctx context.Context, tx *store.Tx) (string, error) {
			res, err := w.Jobs.InsertTx(ctx, tx.Tx, dispatch.RouteArgs{Shop: shop, OrderID: k.OrderID}, dispatch.InsertOpts())
			if err != nil {
				return "", err
			}
			if res.UniqueSkippedAsDuplicate {
				return "", nil // its route job is still queued: nothing to heal
			}
			return "enqueued order.route", nil
		},
	}
}

// checkOrderTimers applies the ack_within and
// fulfillment_request_answer_within timers.
func (w *Worker) checkOrderTimers(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error) {
	shop := t.Domain
	var out []finding
	if d := time.Duration(t.Config.SLA.AckWithin); d > 0 {
		late, err := store.UnacknowledgedOrders(ctx, w.Store.Read, shop, now.Add(-d))
		if err != nil {
			return nil, err
		}
		for _, o := range late {
			out = append(out, finding{d: store.Discrepancy{Kind: KindSLAAck, Severity: store.SeverityCritical, Key: KindSLAAck + ":" + o.ExternalRef,
				Entities: map[string]string{"order": o.OrderID, "order_name": o.OrderName, "external_ref": o.ExternalRef, "warehouse": o.Warehouse},
				Message: fmt.Sprintf("%s (order %s) was transmitted to warehouse %s %s ago and never acknowledged (sla.ack_within %s)",
					o.ExternalRef, o.OrderName, o.Warehouse, ago(now.Sub(o.Since)), ago(d)),
				SuggestedFix: fmt.Sprintf("ask warehouse %s whether it received %s; check its event feed (lag on /metrics)", o.Warehouse, o.ExternalRef)}})
		}
	}
	if d := time.Duration(t.Config.SLA.FulfillmentRequestAnswerWithin); d > 0 {
		late, err := store.UnansweredRequests(ctx, w.Store.Read, shop, now.Add(-d))
		if err != nil {
			return nil, err
		}
		for _, o := range late {
			out = append(out, finding{d: store.Discrepancy{Kind: KindSLARequest, Severity: store.SeverityWarning, Key: KindSLARequest + ":" + o.ExternalRef,
				Entities: map[string]string{"order": o.OrderID, "order_name": o.OrderName, "external_ref": o.ExternalRef, "warehouse": o.Warehouse},
				Message: fmt.Sprintf("the fulfillment request of %s (order %s) for warehouse %s is unanswered after %s (%s; sla.fulfillment_request_answer_within %s)",
					o.ExternalRef, o.OrderName, o.Warehouse, ago(now.Sub(o.Since)), o.Progress, ago(d)),
				SuggestedFix: "look at the order's timeline and its order.route job (dead letters); retry it once the cause is fixed"}})
		}
	}
	return out, nil
}

// checkShipments finds shipments without their Shopify fulfillment,
// fulfillments without tracking, and the tracking_within timer.
func (w *Worker) checkShipments(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error) {
	shop := t.Domain
	grace := dur(w.Config.ShipmentGrace, DefaultGrace)
	lookback := dur(w.Config.OrdersLookback, DefaultOrdersLookback)
	trackingWithin := time.Duration(t.Config.SLA.TrackingWithin)
	unfulfilled, err := store.UnfulfilledShipments(ctx, w.Store.Read, shop, now)
	if err != nil {
		return nil, err
	}
	recent, err := store.ShipmentsReceivedSince(ctx, w.Store.Read, shop, now.Add(-lookback))
	if err != nil {
		return nil, err
	}
	byID := map[int64]store.ShipmentAt{}
	for _, s := range append(unfulfilled, recent...) {
		byID[s.ID] = s
	}
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []finding
	for _, id := range ids {
		s := byID[id]
		ref, wh := s.Shipment.Shipment.ExternalRef, s.Warehouse
		sid := strconv.FormatInt(s.ID, 10)
		ents := map[string]string{"shipment": sid, "wms_shipment_id": s.Shipment.Shipment.ID, "external_ref": ref, "warehouse": wh}
		tracked := hasTracking(s.Shipment.Shipment)
		if s.FulfillmentID == "" && now.Sub(s.ReceivedAt) >= grace {
			out = append(out, finding{
				d: store.Discrepancy{Kind: KindShipmentUnfulfilled, Severity: store.SeverityWarning, Key: KindShipmentUnfulfilled + ":" + sid, Entities: ents,
					Message: fmt.Sprintf("shipment %s of %s was shipped by warehouse %s (reported %s ago) but is not fulfilled in Shopify",
						s.Shipment.Shipment.ID, ref, wh, ago(now.Sub(s.ReceivedAt))),
					SuggestedFix: "none needed if the auto-heal worked (shipment.fulfil enqueued again); otherwise look for its shipment.fulfil job among the dead letters"},
				heal: func(ctx context.Context, tx *store.Tx) (string, error) {
					res, err := w.Jobs.InsertTx(ctx, tx.Tx, wmsfeed.FulfilArgs{ShipmentID: s.ID}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
					if err != nil {
						return "", err
					}
					if res.UniqueSkippedAsDuplicate {
						return "", nil // its job is still queued (or completed: see the dead letters)
					}
					return "enqueued shipment.fulfil again (re-send the fulfillment)", nil
				}})
		}
		if s.FulfillmentID != "" && !tracked {
			out = append(out, finding{d: store.Discrepancy{Kind: KindShipmentNoTracking, Severity: store.SeverityWarning, Key: KindShipmentNoTracking + ":" + sid,
				Entities:     withKV(ents, "fulfillment", s.FulfillmentID),
				Message:      fmt.Sprintf("shipment %s of %s is fulfilled in Shopify (%s) without any tracking number: warehouse %s reported none", s.Shipment.Shipment.ID, ref, s.FulfillmentID, wh),
				SuggestedFix: fmt.Sprintf("get the tracking numbers from warehouse %s and add them to fulfillment %s in Shopify", wh, s.FulfillmentID)}})
		}
		if trackingWithin > 0 && (s.FulfillmentID == "" || !tracked) && now.Sub(s.ShippedAt) >= trackingWithin {
			why := "its fulfillment is not in Shopify"
			if s.FulfillmentID != "" {
				why = "its fulfillment has no tracking number"
			}
			out = append(out, finding{d: store.Discrepancy{Kind: KindSLATracking, Severity: store.SeverityCritical, Key: KindSLATracking + ":" + sid, Entities: ents,
				Message: fmt.Sprintf("shipment %s of %s shipped %s ago without tracking in Shopify: %s (sla.tracking_within %s)",
					s.Shipment.Shipment.ID, ref, ago(now.Sub(s.ShippedAt)), why, ago(trackingWithin)),
				SuggestedFix: "see the shipment.unfulfilled or shipment.no_tracking discrepancy of this shipment"}})
		}
	}
	return out, nil
}

func hasTracking(s order.Shipment) bool {
	for _, p := range s.Packages {
		if p.TrackingNumber != "" {
			return true
		}
	}
	return false
}

func withKV(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// checkWebhooks lists the shop's webhook subscriptions and re-creates the
// hub's missing ones.
func (w *Worker) checkWebhooks(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error) {
	subs, err := t.Shopify.WebhookSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	have := map[string]bool{}
	for _, s := range subs {
		if s.URI == w.WebhookURI {
			have[s.Topic] = true
		}
	}
	var missing []string
	for _, topic := range shopify.HubTopics() {
		if e := shopify.TopicEnum(topic); !have[e] {
			missing = append(missing, e)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	healed := "re-created the subscription"
	created, err := t.Shopify.EnsureWebhooks(ctx, w.WebhookURI, missing)
	if err != nil {
		healed = ""
		w.Logger.Warn("reconcile: re-create webhook subscriptions", "shop", t.Domain, "err", err)
	}
	var out []finding
	for _, topic := range missing {
		d := store.Discrepancy{Kind: KindSLAWebhook, Severity: store.SeverityCritical, Key: KindSLAWebhook + ":" + topic,
			Entities:     map[string]string{"topic": topic, "uri": w.WebhookURI},
			Message:      fmt.Sprintf("the webhook subscription %s → %s was missing in Shopify (Shopify deletes subscriptions whose deliveries keep failing)", topic, w.WebhookURI),
			SuggestedFix: "check that Shopify reaches public_url (TLS, firewall, 5xx answers); `crossdock readiness --fix` re-creates subscriptions"}
		if slices.Contains(created, topic) {
			d.AutoHeal = healed
		} else if err != nil {
			d.Message += fmt.Sprintf("; re-creating it failed: %v", err)
		}
		out = append(out, finding{d: d})
	}
	return out, nil
}

// stockSuspect is a level first noticed out of sync at since.
type stockSuspect struct{ since time.Time }

// checkStock compares, per SKU × location, Shopify's available with the
// hub's target and flags what stays unexplained past the grace; it also
// applies the stock_refresh_within timer.
func (w *Worker) checkStock(ctx context.Context, t *tenant.Shop, now time.Time) ([]finding, error) {
	shop := t.Domain
	grace := dur(w.Config.StockGrace, DefaultGrace)
	levels, err := store.LocationLevels(ctx, w.Store.Read, shop, "")
	if err != nil {
		return nil, err
	}
	type whFigures struct {
		id       string
		snapshot map[string]store.StockLevel
		inFlight map[string]int
	}
	atLocation := map[string][]whFigures{}
	for _, wh := range t.Warehouses {
		if wh.LocationID == "" {
			continue
		}
		lv, err := store.StockLevels(ctx, w.Store.Read, shop, wh.ID)
		if err != nil {
			return nil, err
		}
		snap := make(map[string]store.StockLevel, len(lv))
		for _, l := range lv {
			snap[l.SKU] = l
		}
		inf, err := store.InFlightUnits(ctx, w.Store.Read, shop, wh.ID)
		if err != nil {
			return nil, err
		}
		atLocation[wh.LocationID] = append(atLocation[wh.LocationID], whFigures{id: wh.ID, snapshot: snap, inFlight: inf})
	}
	var out []finding
	resync := false
	seen := map[string]bool{}
	locs := make([]string, 0, len(levels))
	for loc := range levels {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		skus := make([]string, 0, len(levels[loc]))
		for sku := range levels[loc] {
			skus = append(skus, sku)
		}
		sort.Strings(skus)
		for _, sku := range skus {
			l := levels[loc][sku]
			if l.Target == nil || l.ShopifyAvailable == nil || *l.Target == *l.ShopifyAvailable {
				continue
			}
			key := KindStockMismatch + ":" + loc + ":" + sku
			seen[shop+" "+key] = true
			w.mu.Lock()
			sus, ok := w.stockSince[shop+" "+key]
			if !ok {
				sus = stockSuspect{since: now}
				w.stockSince[shop+" "+key] = sus
			}
			w.mu.Unlock()
			if now.Sub(sus.since) < grace {
				continue // a sync or a push may be under way
			}
			target, have := *l.Target, *l.ShopifyAvailable
			var parts []string
			var whs []string
			for _, f := range atLocation[loc] {
				whs = append(whs, f.id)
				if s, ok := f.snapshot[sku]; ok {
					parts = append(parts, fmt.Sprintf("%s: snapshot %d at %s, %d in flight", f.id, s.Available, s.AsOf.UTC().Format(time.RFC3339), f.inFlight[sku]))
				} else {
					parts = append(parts, fmt.Sprintf("%s: no snapshot, %d in flight", f.id, f.inFlight[sku]))
				}
			}
			// The stock engine's own explanation, when it has one: the
			// formula's parts from the stored state now.
			if ex, err := stock.ExplainLevel(ctx, w.Store, t, loc, sku); err == nil {
				parts = parts[:0]
				for _, c := range ex.Figure.Contributions {
					parts = append(parts, fmt.Sprintf("%s: snapshot %d + %d moved − %d in flight − %d buffer = %d", c.Warehouse, c.Snapshot, c.Movements, c.InFlight, c.Buffer, c.Units))
				}
				if ex.Figure.Cap > 0 {
					parts = append(parts, fmt.Sprintf("cap %d", ex.Figure.Cap))
				}
				if ex.Figure.Target != target {
					parts = append(parts, fmt.Sprintf("the formula now gives %d: a sync is pending", ex.Figure.Target))
				}
			}
			explained := "the hub has not pushed its target yet"
			if l.PushedValue != nil && *l.PushedValue == target {
				explained = fmt.Sprintf("the hub pushed %d; Shopify changed since (a manual edit, or orders the hub has not seen)", target)
			}
			d := store.Discrepancy{Kind: KindStockMismatch, Severity: store.SeverityWarning, Key: key,
				Entities: map[string]string{"sku": sku, "location": loc, "warehouses": strings.Join(whs, ","),
					"target": strconv.Itoa(target), "shopify_available": strconv.Itoa(have), "difference": strconv.Itoa(have - target)},
				Message: fmt.Sprintf("%s at %s: Shopify shows %d, the hub's target is %d (%s); %+d unexplained for %s: %s",
					sku, loc, have, target, strings.Join(parts, "; "), have-target, ago(now.Sub(sus.since)), explained),
				SuggestedFix: fmt.Sprintf("`crossdock stock explain` for %s at %s; `crossdock stock sync --full` re-reads Shopify and pushes the target", sku, loc)}
			f := finding{d: d}
			if l.FlaggedTarget != nil && *l.FlaggedTarget == target {
				f.d.Severity = store.SeverityInfo
				f.d.Message += " (a manual edit in Shopify, flagged and not corrected by the manual_stock_edit policy)"
				f.d.SuggestedFix = "decide: correct Shopify (`crossdock stock sync --full` after changing the policy) or adjust the warehouse's stock"
			} else {
				first := !resync
				resync = true
				f.heal = func(ctx context.Context, tx *store.Tx) (string, error) {
					if first {
						if _, err := w.Jobs.InsertTx(ctx, tx.Tx, stock.SyncArgs{Shop: shop, Full: true},
							&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}); err != nil {
							return "", err
						}
					}
					return "enqueued a full stock.sync (re-read Shopify, re-push the target)", nil
				}
			}
			out = append(out, f)
		}
	}
	w.mu.Lock()
	for k := range w.stockSince {
		if strings.HasPrefix(k, shop+" ") && !seen[k] {
			delete(w.stockSince, k)
		}
	}
	w.mu.Unlock()

	if d := time.Duration(t.Config.SLA.StockRefreshWithin); d > 0 {
		refreshed, err := store.StockRefreshedAt(ctx, w.Store.Read, shop)
		if err != nil {
			return nil, err
		}
		var late []finding
		for _, wh := range t.Warehouses {
			at, ok := refreshed[wh.ID]
			if !ok || now.Sub(at) < d {
				continue
			}
			late = append(late, finding{d: store.Discrepancy{Kind: KindSLAStockRefresh, Severity: store.SeverityCritical, Key: KindSLAStockRefresh + ":" + wh.ID,
				Entities:     map[string]string{"warehouse": wh.ID, "refreshed_at": at.Format(time.RFC3339)},
				Message:      fmt.Sprintf("the stock of warehouse %s was last refreshed %s ago (sla.stock_refresh_within %s): Shopify sells on old figures", wh.ID, ago(now.Sub(at)), ago(d)),
				SuggestedFix: fmt.Sprintf("check warehouse %s's stock feed and the stock.sync jobs (dead letters)", wh.ID)}})
		}
		raw, err := store.Cursor(ctx, w.Store.Read, shop, stock.ProgressCursor)
		if err != nil {
			return nil, err
		}
		var p stock.Progress
		if raw != "" && json.Unmarshal([]byte(raw), &p) == nil && !p.Finished && !p.Updated.IsZero() && now.Sub(p.Updated) >= d {
			late = append(late, finding{d: store.Discrepancy{Kind: KindSLAStockRefresh, Severity: store.SeverityCritical, Key: KindSLAStockRefresh + ":sync",
				Entities:     map[string]string{"phase": p.Phase, "started": p.Started.UTC().Format(time.RFC3339)},
				Message:      fmt.Sprintf("a stock sync started %s ago has not progressed for %s (phase %q, %d of %d)", ago(now.Sub(p.Started)), ago(now.Sub(p.Updated)), p.Phase, p.Done, p.Total),
				SuggestedFix: "look at the stock.sync jobs and the hub's log; a crashed sync is resumed by the next one"}})
		}
		for i := range late {
			if i == 0 {
				late[i].heal = func(ctx context.Context, tx *store.Tx) (string, error) {
					if _, err := w.Jobs.InsertTx(ctx, tx.Tx, stock.SyncArgs{Shop: shop}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}); err != nil {
						return "", err
					}
					return "enqueued stock.sync", nil
				}
			}
		}
		out = append(out, late...)
	}
	return out, nil
}
