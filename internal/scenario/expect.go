package scenario

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/store"
)

// observation is one evaluation of an expectation.
type observation struct {
	kind, expected, observed string
	ok                       bool
}

// expect polls each expectation until it holds or within passes.
func (e *env) expect(ctx context.Context, es []Expectation, within time.Duration) []Check {
	deadline := time.Now().Add(within)
	var out []Check
	for _, x := range es {
		var ob observation
		for {
			ob = e.observe(ctx, x)
			if ob.ok || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !ob.ok {
			if id := x.order(); id != "" && x.Timeline == nil {
				ob.observed += "; " + e.hubView(ctx, id)
			}
		}
		out = append(out, Check{Line: x.Line, Kind: ob.kind, Expected: ob.expected, Observed: ob.observed, Passed: ob.ok})
	}
	return out
}

// order is the scenario order an expectation is about, if any.
func (x Expectation) order() string {
	switch {
	case x.ShopifyOrder != nil:
		return x.ShopifyOrder.Order
	case x.WMSOrder != nil:
		return x.WMSOrder.Order
	case x.HubOrder != nil:
		return x.HubOrder.Order
	case x.Discrepancy != nil:
		return x.Discrepancy.Order
	}
	return ""
}

// hubView tells what the hub knows of an order, for a failed check: its
// state and its last timeline entries.
func (e *env) hubView(ctx context.Context, id string) string {
	o, err := store.GetOrder(ctx, e.store().Read, e.shop, e.orders[id])
	if err != nil || o == nil {
		return "the hub does not know the order"
	}
	v := "hub state " + o.State
	if o.StateReason != "" {
		v += " (" + o.StateReason + ")"
	}
	tl, _ := store.Timeline(ctx, e.store().Read, e.shop, e.orders[id])
	if len(tl) > 14 {
		tl = tl[len(tl)-14:]
	}
	for _, en := range tl {
		v += " | " + en.Kind + ": " + en.Message
	}
	return clip(v, 4000)
}

// facts accumulates "field: want" / "field: got" pairs of one expectation.
type facts struct {
	want, got []string
	ok        bool
}

func newFacts() *facts { return &facts{ok: true} }

func (f *facts) count(name string, c *Count, v int) {
	if c == nil {
		return
	}
	f.want = append(f.want, name+" "+c.String())
	f.got = append(f.got, fmt.Sprintf("%s %d", name, v))
	if !c.Holds(v) {
		f.ok = false
	}
}

func (f *facts) str(name, want, got string) {
	f.want = append(f.want, name+" "+want)
	f.got = append(f.got, name+" "+got)
	if !strings.EqualFold(want, got) {
		f.ok = false
	}
}

func (f *facts) quantities(name string, want map[string]int, got map[string]int) {
	if want == nil {
		return
	}
	f.want = append(f.want, name+" "+fmtQty(want))
	// Compare on the SKUs expected; an extra SKU in got is a difference too.
	gotSome := map[string]int{}
	for k, v := range got {
		if v != 0 {
			gotSome[k] = v
		}
	}
	f.got = append(f.got, name+" "+fmtQty(gotSome))
	for k, v := range want {
		if gotSome[k] != v {
			f.ok = false
		}
	}
	for k := range gotSome {
		if _, ok := want[k]; !ok {
			f.ok = false
		}
	}
}

func fmtQty(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (f *facts) result(kind, subject string) observation {
	return observation{kind: kind, expected: subject + ": " + strings.Join(f.want, ", "), observed: strings.Join(f.got, ", "), ok: f.ok}
}

func fail(kind, subject, why string) observation {
	return observation{kind: kind, expected: subject, observed: why}
}

func (e *env) observe(ctx context.Context, x Expectation) observation {
	switch {
	case x.ShopifyOrder != nil:
		return e.observeShopifyOrder(x.ShopifyOrder)
	case x.WMSOrder != nil:
		return e.observeWMSOrder(x.WMSOrder)
	case x.HubOrder != nil:
		k := x.HubOrder
		o, err := store.GetOrder(ctx, e.store().Read, e.shop, e.orders[k.Order])
		if err != nil || o == nil {
			return fail("hub_order", "order "+k.Order+" state "+k.State, fmt.Sprintf("not in the hub (%v)", err))
		}
		f := newFacts()
		f.str("state", k.State, o.State)
		ob := f.result("hub_order", "order "+k.Order)
		if o.StateReason != "" {
			ob.observed += " (" + o.StateReason + ")"
		}
		return ob
	case x.Timeline != nil:
		k := x.Timeline
		tl, err := store.Timeline(ctx, e.store().Read, e.shop, e.orders[k.Order])
		if err != nil {
			return fail("timeline", "order "+k.Order, err.Error())
		}
		n := 0
		var last string
		says := strings.ToLower(e.hubNames(k.Says))
		for _, en := range tl {
			if strings.Contains(strings.ToLower(en.Kind+": "+en.Message), says) {
				n++
				last = en.Kind + ": " + en.Message
			}
		}
		c := k.Count
		if c == nil {
			c = &Count{Op: ">=", N: 1}
		}
		ob := observation{kind: "timeline", expected: fmt.Sprintf("order %s: entries saying %q %s", k.Order, k.Says, c), ok: c.Holds(n)}
		if n > 0 {
			ob.observed = fmt.Sprintf("%d entries, e.g. %q", n, last)
		} else {
			var kinds []string
			for _, en := range tl {
				kinds = append(kinds, en.Kind+": "+en.Message)
			}
			ob.observed = fmt.Sprintf("0 entries among %d: %s", len(tl), clip(strings.Join(kinds, " | "), 1500))
		}
		return ob
	case x.Stock != nil:
		return e.observeStock(ctx, x.Stock)
	case x.Discrepancy != nil:
		return e.observeDiscrepancy(ctx, x.Discrepancy)
	case x.Alert != nil:
		return e.observeAlert(ctx, x.Alert)
	case x.Webhooks != nil:
		k := x.Webhooks
		f := newFacts()
		if k.Stored != nil {
			var n int
			if err := e.store().Read.QueryRowContext(ctx, `SELECT count(*) FROM webhook_event WHERE topic = $1`, k.Topic).Scan(&n); err != nil {
				return fail("webhooks", k.Topic, err.Error())
			}
			f.count("stored", k.Stored, n)
		}
		if k.Delivered != nil {
			f.count("delivered", k.Delivered, e.shopify.DeliveredCount(k.Topic))
		}
		return f.result("webhooks", k.Topic)
	case x.Return != nil:
		return e.observeReturn(x.Return)
	case x.ShopifyCalls != nil:
		k, st := x.ShopifyCalls, e.shopify.Stats()
		f := newFacts()
		f.count("throttled", k.Throttled, int(st.Throttled))
		f.count("http429", k.HTTP429, int(st.Injected429))
		f.count("http5xx", k.HTTP5xx, int(st.Injected5xx))
		return f.result("shopify_calls", "Shopify answers")
	}
	return fail("?", "?", "empty expectation")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (e *env) observeShopifyOrder(k *ShopifyOrderExpect) observation {
	o, err := e.shopifyOrder(k.Order)
	if err != nil {
		return fail("shopify_order", "order "+k.Order, err.Error())
	}
	f := newFacts()
	if k.FulfillmentStatus != "" {
		f.str("fulfillment_status", k.FulfillmentStatus, o.DisplayFulfillmentStatus)
	}
	fulfillments, tracking := 0, map[string]bool{}
	fulfilled := map[string]int{}
	for _, fl := range o.Fulfillments {
		if fl.Status == "CANCELLED" {
			continue
		}
		fulfillments++
		for _, t := range fl.Tracking {
			if t.Number != "" {
				tracking[t.Number] = true
			}
		}
		for _, l := range fl.LineItems {
			fulfilled[l.SKU] += l.Quantity
		}
	}
	f.count("fulfillments", k.Fulfillments, fulfillments)
	f.count("tracking_numbers", k.TrackingNumbers, len(tracking))
	if k.Cancelled != nil {
		f.str("cancelled", fmt.Sprint(*k.Cancelled), fmt.Sprint(o.CancelledAt != nil))
	}
	var holds []string
	locations := map[string]bool{}
	for _, fo := range o.FulfillmentOrders {
		for _, h := range fo.Holds {
			holds = append(holds, h.Reason)
		}
		units := 0
		for _, l := range fo.LineItems {
			units += l.TotalQuantity
		}
		if fo.Status != "CANCELLED" && units > 0 {
			locations[fo.LocationID] = true
		}
	}
	if k.Hold != nil {
		got := strings.Join(holds, ",")
		f.want = append(f.want, fmt.Sprintf("hold %q", *k.Hold))
		f.got = append(f.got, fmt.Sprintf("hold %q", got))
		if *k.Hold == "" && len(holds) > 0 || *k.Hold != "" && !slices.Contains(holds, *k.Hold) {
			f.ok = false
		}
	}
	f.quantities("fulfilled", k.Fulfilled, fulfilled)
	f.count("locations", k.Locations, len(locations))
	return f.result("shopify_order", "order "+k.Order)
}

func (e *env) observeWMSOrder(k *WMSOrderExpect) observation {
	wos := e.wmsOrders(e.orders[k.Order], k.Warehouse)
	subject := "order " + k.Order
	if k.Warehouse != "" {
		subject += " at " + k.Warehouse
	}
	f := newFacts()
	f.count("count", k.Count, len(wos))
	var live []int
	for i, o := range wos {
		if o.State != "cancelled" {
			live = append(live, i)
		}
	}
	if k.State != "" {
		state := "none"
		switch {
		case len(live) > 0:
			state = string(wos[live[len(live)-1]].State)
		case len(wos) > 0:
			state = string(wos[len(wos)-1].State)
		}
		if k.State == "cancelled" && len(wos) > 0 && len(live) == 0 {
			state = "cancelled"
		}
		f.str("state", k.State, state)
	}
	shipments := 0
	units := map[string]int{}
	for _, o := range wos {
		shipments += len(o.Shipments)
		if o.State == "cancelled" {
			continue
		}
		for _, l := range o.Lines {
			units[l.SKU] += l.Quantity
		}
	}
	f.count("shipments", k.Shipments, shipments)
	f.quantities("units", k.Units, units)
	return f.result("wms_order", subject)
}

func (e *env) observeStock(ctx context.Context, k *StockExpect) observation {
	w := e.byID[k.Warehouse]
	subject := k.SKU + " at " + k.Warehouse
	f := newFacts()
	loc, err := e.location(ctx, w)
	if err != nil || loc == "" {
		return fail("stock", subject, "no Shopify location for the warehouse")
	}
	if k.ShopifyAvailable != nil {
		q, _ := e.shopify.InventoryLevel(k.SKU, loc)
		f.count("shopify_available", k.ShopifyAvailable, q.Available)
	}
	if k.LedgerSays != "" {
		entries, err := store.Ledger(ctx, e.store().Read, e.shop, loc, k.SKU, "", 200)
		if err != nil {
			return fail("stock", subject, err.Error())
		}
		found := ""
		for _, en := range entries {
			if strings.Contains(strings.ToLower(en.Kind+": "+en.Message), strings.ToLower(k.LedgerSays)) {
				found = en.Kind + ": " + en.Message
				break
			}
		}
		f.want = append(f.want, fmt.Sprintf("ledger saying %q", k.LedgerSays))
		if found == "" {
			f.ok = false
			var all []string
			for _, en := range entries {
				all = append(all, en.Kind+": "+en.Message)
			}
			f.got = append(f.got, fmt.Sprintf("no such entry among %d: %s", len(entries), clip(strings.Join(all, " | "), 500)))
		} else {
			f.got = append(f.got, fmt.Sprintf("ledger %q", clip(found, 300)))
		}
	}
	code := k.SKU
	if c, ok := w.codes[k.SKU]; ok {
		code = c
	}
	it := w.sim.Stock()[code]
	f.count("wms_on_hand", k.WMSOnHand, it.OnHand)
	f.count("wms_available", k.WMSAvailable, it.Available)
	return f.result("stock", subject)
}

func (e *env) observeDiscrepancy(ctx context.Context, k *DiscrepancyExpect) observation {
	ds, err := store.ListDiscrepancies(ctx, e.store().Read, store.DiscrepancyFilter{Shop: e.shop, Kind: k.Kind, Limit: 1000})
	if err != nil {
		return fail("discrepancy", k.Kind, err.Error())
	}
	subject := k.Kind
	open, opened := 0, 0
	var msgs []string
	for _, d := range ds {
		if k.Order != "" && d.Entities["order"] != e.orders[k.Order] {
			continue
		}
		if k.SKU != "" && d.Entities["sku"] != k.SKU {
			continue
		}
		opened++
		if d.Open() {
			open++
		}
		msgs = append(msgs, d.Message)
	}
	if k.Order != "" {
		subject += " for order " + k.Order
	}
	if k.SKU != "" {
		subject += " for " + k.SKU
	}
	f := newFacts()
	f.count("open", k.Open, open)
	f.count("opened", k.Opened, opened)
	ob := f.result("discrepancy", subject)
	if len(msgs) > 0 {
		ob.observed += fmt.Sprintf(" (%q)", clip(msgs[0], 300))
	}
	return ob
}

func (e *env) observeAlert(ctx context.Context, k *AlertExpect) observation {
	notice := k.Notice
	if notice == "" {
		notice = store.NoticeFiring
	}
	as, err := store.ListAlerts(ctx, e.store().Read, e.shop, 1000)
	if err != nil {
		return fail("alert", k.Kind, err.Error())
	}
	n := 0
	for _, a := range as {
		if a.Kind == k.Kind && a.Notice == notice && a.Error == "" {
			n++
		}
	}
	c := k.Count
	if c == nil {
		c = &Count{Op: ">=", N: 1}
	}
	e.alerts.mu.Lock()
	received := len(e.alerts.notices)
	e.alerts.mu.Unlock()
	return observation{kind: "alert", expected: fmt.Sprintf("%s notices of %s %s", notice, k.Kind, c),
		observed: fmt.Sprintf("%d delivered (%d notices received by the rehearsal's channel in all)", n, received), ok: c.Holds(n)}
}

// hubNames rewrites the scenario's warehouse names in a timeline text
// ("sent to Paris") into the names the hub gives the warehouses standing
// in for them: with --config, the user's.
func (e *env) hubNames(says string) string {
	if e.opt.Config == nil {
		return says
	}
	for i, w := range e.whs {
		scen := strings.ToUpper(w.id[:1]) + w.id[1:]
		hub := e.cfg.Shops[0].Warehouses[i].Name
		if hub == "" {
			hub = w.hubID
		}
		if j := strings.Index(strings.ToLower(says), strings.ToLower(scen)); j >= 0 && hub != scen {
			says = says[:j] + hub + says[j+len(scen):]
		}
	}
	return says
}
