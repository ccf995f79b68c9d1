package shopifysim

// Returns, as Shopify models them from 2026-07: a return (status OPEN once
// approved or created directly) lists return line items, each for units of
// one fulfillment line item, and has reverse fulfillment orders whose line
// items receive dispositions as the units come back: RESTOCKED at a
// location (available rises there), NOT_RESTOCKED, PROCESSING_REQUIRED or
// MISSING (no stock change). The simulator serves returnCreate (direct,
// OPEN, one reverse fulfillment order), reverseFulfillmentOrderDispose and
// the return query; CreateReturn does what returnCreate does from Go.
// Refunds (returnProcess) are out of its scope.

import (
	"fmt"
	"strings"
	"time"
)

// simReturn is one return.
type simReturn struct {
	id        int64
	name      string
	order     *order
	status    string // ReturnStatus
	createdAt time.Time
	lines     []*returnLine
	rfos      []*reverseFO
}

// returnLine is one ReturnLineItem.
type returnLine struct {
	id       int64
	ret      *simReturn
	fl       *fulfillmentLine
	quantity int
	note     string
}

// reverseFO is one ReverseFulfillmentOrder.
type reverseFO struct {
	id     int64
	ret    *simReturn
	status string // ReverseFulfillmentOrderStatus
	lines  []*reverseFOLine
}

// reverseFOLine is one ReverseFulfillmentOrderLineItem.
type reverseFOLine struct {
	id           int64
	rfo          *reverseFO
	rl           *returnLine
	total        int
	dispositions []*disposition
}

func (l *reverseFOLine) disposed() int {
	n := 0
	for _, d := range l.dispositions {
		n += d.quantity
	}
	return n
}

// disposition is one ReverseFulfillmentOrderDisposition.
type disposition struct {
	id        int64
	typ       string
	quantity  int
	loc       *location
	createdAt time.Time
}

// returnBook holds the shop's returns (a field of state).
type returnBook struct {
	list   []*simReturn
	byID   map[int64]*simReturn
	rfos   map[int64]*reverseFO
	rfoLns map[int64]*reverseFOLine
}

func (b *returnBook) init() {
	if b.byID == nil {
		b.byID = map[int64]*simReturn{}
		b.rfos = map[int64]*reverseFO{}
		b.rfoLns = map[int64]*reverseFOLine{}
	}
}

var dispositionTypes = map[string]bool{"RESTOCKED": true, "NOT_RESTOCKED": true, "PROCESSING_REQUIRED": true, "MISSING": true}

// ReturnLineInput is one line of a return made with CreateReturn: units of
// a SKU the order shipped.
type ReturnLineInput struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ReturnState is a return as the simulator holds it.
type ReturnState struct {
	ID      string `json:"id"`      // Return GID
	Name    string `json:"name"`    // e.g. "#1001-R1"
	OrderID string `json:"orderId"` // Order GID
	// Status is the ReturnStatus: OPEN, CLOSED, …
	Status string `json:"status"`
	// Lines are the return line items.
	Lines []ReturnLineState `json:"lines"`
	// ReverseFulfillmentOrders hold the dispositions.
	ReverseFulfillmentOrders []ReverseFulfillmentOrderState `json:"reverseFulfillmentOrders"`
}

// ReturnLineState is one return line item.
type ReturnLineState struct {
	ID                    string `json:"id"`                    // ReturnLineItem GID
	FulfillmentLineItemID string `json:"fulfillmentLineItemId"` // FulfillmentLineItem GID
	SKU                   string `json:"sku"`
	Quantity              int    `json:"quantity"`
}

// ReverseFulfillmentOrderState is one reverse fulfillment order.
type ReverseFulfillmentOrderState struct {
	ID     string `json:"id"`     // ReverseFulfillmentOrder GID
	Status string `json:"status"` // OPEN, CLOSED, CANCELED
	// Lines are its line items with their dispositions.
	Lines []ReverseFulfillmentOrderLineState `json:"lines"`
}

// ReverseFulfillmentOrderLineState is one reverse fulfillment order line
// item: how many units come back and what became of them.
type ReverseFulfillmentOrderLineState struct {
	ID            string             `json:"id"` // ReverseFulfillmentOrderLineItem GID
	SKU           string             `json:"sku"`
	TotalQuantity int                `json:"totalQuantity"`
	Dispositions  []DispositionState `json:"dispositions"`
}

// DispositionState is one disposition of returned units.
type DispositionState struct {
	// Type is RESTOCKED, NOT_RESTOCKED, PROCESSING_REQUIRED or MISSING.
	Type     string `json:"type"`
	Quantity int    `json:"quantity"`
	// LocationID is the Location GID (set for RESTOCKED).
	LocationID string `json:"locationId,omitempty"`
}

func init() {
	register("Mutation", map[string]resolverFunc{
		"returnCreate":                   func(x *execCtx, _ any, a map[string]any) (any, error) { return x.returnCreate(a) },
		"reverseFulfillmentOrderDispose": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.rfoDispose(a) },
		"returnClose": func(x *execCtx, _ any, a map[string]any) (any, error) {
			r, u := x.closeReturn(a["id"])
			if u != nil {
				return payload{"return": (*simReturn)(nil), "userErrors": userErrs([]*userError{u})}, nil
			}
			return payload{"return": r, "userErrors": []any{}}, nil
		},
	})
	register("QueryRoot", map[string]resolverFunc{
		"return": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if id, ok := idOf(a["id"], "Return"); ok {
				if r := x.st.returns.byID[id]; r != nil {
					return r, nil
				}
			}
			return nil, nil
		},
	})
	r := func(get func(r *simReturn, a map[string]any) (any, error)) resolverFunc {
		return func(_ *execCtx, p any, a map[string]any) (any, error) { return get(p.(*simReturn), a) }
	}
	register("Return", map[string]resolverFunc{
		"id":        r(func(r *simReturn, _ map[string]any) (any, error) { return gid("Return", r.id), nil }),
		"name":      r(func(r *simReturn, _ map[string]any) (any, error) { return r.name, nil }),
		"status":    r(func(r *simReturn, _ map[string]any) (any, error) { return r.status, nil }),
		"order":     r(func(r *simReturn, _ map[string]any) (any, error) { return r.order, nil }),
		"createdAt": r(func(r *simReturn, _ map[string]any) (any, error) { return dt(r.createdAt), nil }),
		"totalQuantity": r(func(r *simReturn, _ map[string]any) (any, error) {
			n := 0
			for _, l := range r.lines {
				n += l.quantity
			}
			return n, nil
		}),
		"returnLineItems": r(func(r *simReturn, a map[string]any) (any, error) {
			return paginate(byID(r.lines, func(l *returnLine) int64 { return l.id }), a)
		}),
		"reverseFulfillmentOrders": r(func(r *simReturn, a map[string]any) (any, error) {
			return paginate(byID(r.rfos, func(f *reverseFO) int64 { return f.id }), a)
		}),
	})
	rl := func(get func(l *returnLine) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*returnLine)), nil }
	}
	register("ReturnLineItem", map[string]resolverFunc{
		"id":                  rl(func(l *returnLine) any { return gid("ReturnLineItem", l.id) }),
		"quantity":            rl(func(l *returnLine) any { return l.quantity }),
		"fulfillmentLineItem": rl(func(l *returnLine) any { return l.fl }),
		"returnReasonNote":    rl(func(l *returnLine) any { return l.note }),
		"processedQuantity":   rl(func(*returnLine) any { return 0 }),
		"processableQuantity": rl(func(l *returnLine) any { return l.quantity }),
		"unprocessedQuantity": rl(func(l *returnLine) any { return l.quantity }),
		"refundedQuantity":    rl(func(*returnLine) any { return 0 }),
		"refundableQuantity":  rl(func(l *returnLine) any { return l.quantity }),
	})
	f := func(get func(f *reverseFO, a map[string]any) (any, error)) resolverFunc {
		return func(_ *execCtx, p any, a map[string]any) (any, error) { return get(p.(*reverseFO), a) }
	}
	register("ReverseFulfillmentOrder", map[string]resolverFunc{
		"id":     f(func(f *reverseFO, _ map[string]any) (any, error) { return gid("ReverseFulfillmentOrder", f.id), nil }),
		"status": f(func(f *reverseFO, _ map[string]any) (any, error) { return f.status, nil }),
		"order":  f(func(f *reverseFO, _ map[string]any) (any, error) { return f.ret.order, nil }),
		"lineItems": f(func(f *reverseFO, a map[string]any) (any, error) {
			return paginate(byID(f.lines, func(l *reverseFOLine) int64 { return l.id }), a)
		}),
	})
	l := func(get func(l *reverseFOLine) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*reverseFOLine)), nil }
	}
	register("ReverseFulfillmentOrderLineItem", map[string]resolverFunc{
		"id":                  l(func(l *reverseFOLine) any { return gid("ReverseFulfillmentOrderLineItem", l.id) }),
		"totalQuantity":       l(func(l *reverseFOLine) any { return l.total }),
		"fulfillmentLineItem": l(func(l *reverseFOLine) any { return l.rl.fl }),
		"dispositions": l(func(l *reverseFOLine) any {
			out := make([]any, len(l.dispositions))
			for i, d := range l.dispositions {
				out[i] = d
			}
			return out
		}),
	})
	d := func(get func(d *disposition) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*disposition)), nil }
	}
	register("ReverseFulfillmentOrderDisposition", map[string]resolverFunc{
		"id":        d(func(d *disposition) any { return gid("ReverseFulfillmentOrderDisposition", d.id) }),
		"type":      d(func(d *disposition) any { return d.typ }),
		"quantity":  d(func(d *disposition) any { return d.quantity }),
		"createdAt": d(func(d *disposition) any { return dt(d.createdAt) }),
		"location": d(func(d *disposition) any {
			if d.loc == nil {
				return nil
			}
			return d.loc
		}),
	})
}

// returnTypeName maps the returns' Go values to their GraphQL types.
func returnTypeName(v any) string {
	switch v.(type) {
	case *simReturn:
		return "Return"
	case *returnLine:
		return "ReturnLineItem"
	case *reverseFO:
		return "ReverseFulfillmentOrder"
	case *reverseFOLine:
		return "ReverseFulfillmentOrderLineItem"
	case *disposition:
		return "ReverseFulfillmentOrderDisposition"
	}
	return ""
}

// returned is how many units of fl are on returns that are not declined
// or cancelled.
func (b *returnBook) returned(fl *fulfillmentLine) int {
	n := 0
	for _, r := range b.list {
		if r.status == "DECLINED" || r.status == "CANCELED" {
			continue
		}
		for _, l := range r.lines {
			if l.fl == fl {
				n += l.quantity
			}
		}
	}
	return n
}

// fulfillmentLineOf finds the fulfillment line item with numeric id among
// o's successful fulfillments.
func fulfillmentLineOf(o *order, id int64) *fulfillmentLine {
	for _, f := range o.fulfillments {
		if f.status != "SUCCESS" {
			continue
		}
		for _, l := range f.lines {
			if l.id == id {
				return l
			}
		}
	}
	return nil
}

type returnLineReq struct {
	fl       *fulfillmentLine
	quantity int
	note     string
}

// createReturn validates and records an OPEN return with one reverse
// fulfillment order, and queues returns/approve (Shopify's topic for a
// return whose status becomes OPEN).
func (x *execCtx) createReturn(o *order, reqs []returnLineReq) (*simReturn, *userError) {
	st := x.st
	st.returns.init()
	if o.cancelledAt != nil {
		return nil, ue(path("returnInput", "orderId"), "INVALID_STATE", "Order %s is cancelled.", o.name)
	}
	if len(reqs) == 0 {
		return nil, ue(path("returnInput", "returnLineItems"), "BLANK", "Return line items can't be blank.")
	}
	want := map[*fulfillmentLine]int{}
	for i, rq := range reqs {
		if rq.quantity <= 0 {
			return nil, ue(path("returnInput", "returnLineItems", i, "quantity"), "GREATER_THAN", "Quantity must be greater than 0.")
		}
		want[rq.fl] += rq.quantity
		if left := rq.fl.quantity - st.returns.returned(rq.fl); want[rq.fl] > left {
			return nil, ue(path("returnInput", "returnLineItems", i, "quantity"), "LESS_THAN_OR_EQUAL_TO",
				"Quantity %d exceeds the %d returnable units of fulfillment line item %s.", want[rq.fl], left, gid("FulfillmentLineItem", rq.fl.id))
		}
	}
	n := 1
	for _, r := range st.returns.list {
		if r.order == o {
			n++
		}
	}
	r := &simReturn{id: st.newID(), name: fmt.Sprintf("%s-R%d", o.name, n), order: o, status: "OPEN", createdAt: x.now}
	rfo := &reverseFO{id: st.newID(), ret: r, status: "OPEN"}
	for _, rq := range reqs {
		l := &returnLine{id: st.newID(), ret: r, fl: rq.fl, quantity: rq.quantity, note: rq.note}
		r.lines = append(r.lines, l)
		fl := &reverseFOLine{id: st.newID(), rfo: rfo, rl: l, total: rq.quantity}
		rfo.lines = append(rfo.lines, fl)
		st.returns.rfoLns[fl.id] = fl
	}
	r.rfos = []*reverseFO{rfo}
	st.returns.list = append(st.returns.list, r)
	st.returns.byID[r.id] = r
	st.returns.rfos[rfo.id] = rfo
	x.emit("returns/approve", func() any { return returnPayload(r) })
	return r, nil
}

// returnPayload is the returns/approve body, in the shape of Shopify's
// published example (line items are not listed; the hub re-reads).
func returnPayload(r *simReturn) map[string]any {
	total := 0
	for _, l := range r.lines {
		total += l.quantity
	}
	return map[string]any{
		"id":                        r.id,
		"admin_graphql_api_id":      gid("Return", r.id),
		"status":                    strings.ToLower(r.status),
		"order":                     map[string]any{"id": r.order.id, "admin_graphql_api_id": gid("Order", r.order.id)},
		"total_return_line_items":   total,
		"name":                      nil,
		"return_line_items":         []any{},
		"return_shipping_fees":      []any{},
		"exchange_line_items":       []any{},
		"total_exchange_line_items": 0,
	}
}

// returnCreate is the returnCreate mutation (a direct, OPEN return).
func (x *execCtx) returnCreate(a map[string]any) (any, error) {
	fail := func(u *userError) (any, error) {
		return payload{"return": (*simReturn)(nil), "userErrors": userErrs([]*userError{u})}, nil
	}
	in := argMap(a, "returnInput")
	o := x.st.orderByGID(in["orderId"])
	if o == nil {
		return fail(ue(path("returnInput", "orderId"), "NOT_FOUND", "Order does not exist."))
	}
	if len(argList(in, "exchangeLineItems")) > 0 {
		return fail(ue(path("returnInput", "exchangeLineItems"), "FEATURE_NOT_ENABLED", "Exchanges are not supported by the crossdock Shopify simulator."))
	}
	var reqs []returnLineReq
	for i, raw := range argList(in, "returnLineItems") {
		m, _ := raw.(map[string]any)
		id, _ := idOf(m["fulfillmentLineItemId"], "FulfillmentLineItem")
		fl := fulfillmentLineOf(o, id)
		if fl == nil {
			return fail(ue(path("returnInput", "returnLineItems", i, "fulfillmentLineItemId"), "NOT_FOUND",
				"Fulfillment line item does not exist or is not fulfilled on order %s.", o.name))
		}
		q, _ := argInt(m, "quantity")
		reqs = append(reqs, returnLineReq{fl: fl, quantity: q, note: argStr(m, "returnReasonNote")})
	}
	r, u := x.createReturn(o, reqs)
	if u != nil {
		return fail(u)
	}
	return payload{"return": r, "userErrors": []any{}}, nil
}

// rfoDispose is reverseFulfillmentOrderDispose: every input is checked
// before any is applied.
func (x *execCtx) rfoDispose(a map[string]any) (any, error) {
	fail := func(u *userError) (any, error) {
		return payload{"reverseFulfillmentOrderLineItems": nil, "userErrors": userErrs([]*userError{u})}, nil
	}
	st := x.st
	st.returns.init()
	type plan struct {
		l   *reverseFOLine
		typ string
		q   int
		loc *location
	}
	var plans []plan
	taken := map[*reverseFOLine]int{}
	for i, raw := range argList(a, "dispositionInputs") {
		m, _ := raw.(map[string]any)
		f := path("dispositionInputs", i)
		id, _ := idOf(m["reverseFulfillmentOrderLineItemId"], "ReverseFulfillmentOrderLineItem")
		l := st.returns.rfoLns[id]
		if l == nil {
			return fail(ue(append(f, "reverseFulfillmentOrderLineItemId"), "NOT_FOUND", "Reverse fulfillment order line item does not exist."))
		}
		if l.rfo.status != "OPEN" || l.rfo.ret.status != "OPEN" {
			return fail(ue(append(f, "reverseFulfillmentOrderLineItemId"), "INVALID_STATE",
				"Reverse fulfillment order %s is %s.", gid("ReverseFulfillmentOrder", l.rfo.id), l.rfo.status))
		}
		typ := argStr(m, "dispositionType")
		if !dispositionTypes[typ] {
			return fail(ue(append(f, "dispositionType"), "INCLUSION", "Disposition type %q is not valid.", typ))
		}
		q, _ := argInt(m, "quantity")
		if q <= 0 {
			return fail(ue(append(f, "quantity"), "GREATER_THAN", "Quantity must be greater than 0."))
		}
		taken[l] += q
		if left := l.total - l.disposed(); taken[l] > left {
			return fail(ue(append(f, "quantity"), "LESS_THAN_OR_EQUAL_TO", "Quantity %d exceeds the %d units left to dispose.", taken[l], left))
		}
		var loc *location
		if v, ok := m["locationId"]; ok && v != nil {
			if loc = st.locByGID(v); loc == nil {
				return fail(ue(append(f, "locationId"), "NOT_FOUND", "Location does not exist."))
			}
		}
		if typ == "RESTOCKED" && loc == nil {
			return fail(ue(append(f, "locationId"), "BLANK", "A location is required to restock."))
		}
		plans = append(plans, plan{l, typ, q, loc})
	}
	if len(plans) == 0 {
		return fail(ue(path("dispositionInputs"), "BLANK", "Disposition inputs can't be blank."))
	}
	var out []any
	seen := map[*reverseFOLine]bool{}
	var rfos []*reverseFO
	for _, p := range plans {
		d := &disposition{id: st.newID(), typ: p.typ, quantity: p.q, loc: p.loc, createdAt: x.now}
		if p.typ == "RESTOCKED" {
			if v := p.l.rl.fl.li.variant; v != nil && v.item != nil {
				lv := st.ensureLevel(v.item, p.loc, x.now)
				lv.q.available += p.q
				lv.updatedAt = x.now
				x.emitLevel(lv)
			}
		}
		p.l.dispositions = append(p.l.dispositions, d)
		if !seen[p.l] {
			seen[p.l] = true
			out = append(out, p.l)
			if !containsRFO(rfos, p.l.rfo) {
				rfos = append(rfos, p.l.rfo)
			}
		}
	}
	for _, rfo := range rfos {
		done := true
		for _, l := range rfo.lines {
			if l.disposed() < l.total {
				done = false
			}
		}
		if done {
			rfo.status = "CLOSED"
		}
		x.emit("reverse_fulfillment_orders/dispose", func() any { return disposePayload(rfo) })
	}
	return payload{"reverseFulfillmentOrderLineItems": out, "userErrors": []any{}}, nil
}

func containsRFO(list []*reverseFO, f *reverseFO) bool {
	for _, g := range list {
		if g == f {
			return true
		}
	}
	return false
}

// disposePayload is the reverse_fulfillment_orders/dispose body, in the
// shape of Shopify's published example.
func disposePayload(rfo *reverseFO) map[string]any {
	var ds []any
	for _, l := range rfo.lines {
		for _, d := range l.dispositions {
			var loc any
			if d.loc != nil {
				loc = map[string]any{"id": d.loc.id, "admin_graphql_api_id": gid("Location", d.loc.id)}
			}
			ds = append(ds, map[string]any{
				"reverse_fulfillment_order_line_item": map[string]any{"id": l.id, "admin_graphql_api_id": gid("ReverseFulfillmentOrderLineItem", l.id)},
				"reverse_delivery_line_item":          nil,
				"type":                                strings.ToLower(d.typ),
				"location":                            loc,
				"quantity":                            d.quantity,
			})
		}
	}
	return map[string]any{
		"id":                   rfo.id,
		"admin_graphql_api_id": gid("ReverseFulfillmentOrder", rfo.id),
		"dispositions":         ds,
		"total_dispositions":   len(ds),
	}
}

// CreateReturn opens a return on the order orderGID, as returnCreate does,
// for units of the given SKUs that were fulfilled and are not yet on a
// return (taken from the order's fulfillments oldest first), and sends
// returns/approve. Nothing changes when a line asks for more units of a
// SKU than are fulfilled and not yet returned.
func (s *Server) CreateReturn(orderGID string, lines []ReturnLineInput) (ReturnState, error) {
	s.mu.Lock()
	x := &execCtx{s: s, st: s.st, now: s.now().UTC()}
	rs, err := x.createReturnBySKU(orderGID, lines)
	s.mu.Unlock()
	if err != nil {
		return ReturnState{}, err
	}
	s.emit(x.events)
	return rs, nil
}

func (x *execCtx) createReturnBySKU(orderGID string, lines []ReturnLineInput) (ReturnState, error) {
	st := x.st
	st.returns.init()
	o := st.orderByGID(orderGID)
	if o == nil {
		return ReturnState{}, fmt.Errorf("shopifysim: return: no order %s", orderGID)
	}
	used := map[*fulfillmentLine]int{}
	var reqs []returnLineReq
	for _, in := range lines {
		if in.Quantity <= 0 {
			return ReturnState{}, fmt.Errorf("shopifysim: return: %s: quantity %d must be above 0", in.SKU, in.Quantity)
		}
		need := in.Quantity
		for _, f := range o.fulfillments {
			if f.status != "SUCCESS" {
				continue
			}
			for _, fl := range f.lines {
				if need == 0 || fl.li.sku != in.SKU {
					continue
				}
				left := fl.quantity - st.returns.returned(fl) - used[fl]
				if left <= 0 {
					continue
				}
				q := min(left, need)
				used[fl] += q
				need -= q
				reqs = append(reqs, returnLineReq{fl: fl, quantity: q})
			}
		}
		if need > 0 {
			return ReturnState{}, fmt.Errorf("shopifysim: return: order %s has %d fulfilled unit(s) of %s not yet returned, %d asked",
				o.name, in.Quantity-need, in.SKU, in.Quantity)
		}
	}
	r, u := x.createReturn(o, reqs)
	if u != nil {
		return ReturnState{}, fmt.Errorf("shopifysim: return: %s", u.message)
	}
	return returnState(r), nil
}

func returnState(r *simReturn) ReturnState {
	out := ReturnState{ID: gid("Return", r.id), Name: r.name, OrderID: gid("Order", r.order.id), Status: r.status,
		Lines: []ReturnLineState{}, ReverseFulfillmentOrders: []ReverseFulfillmentOrderState{}}
	for _, l := range r.lines {
		out.Lines = append(out.Lines, ReturnLineState{ID: gid("ReturnLineItem", l.id), FulfillmentLineItemID: gid("FulfillmentLineItem", l.fl.id),
			SKU: l.fl.li.sku, Quantity: l.quantity})
	}
	for _, f := range r.rfos {
		fs := ReverseFulfillmentOrderState{ID: gid("ReverseFulfillmentOrder", f.id), Status: f.status, Lines: []ReverseFulfillmentOrderLineState{}}
		for _, l := range f.lines {
			ls := ReverseFulfillmentOrderLineState{ID: gid("ReverseFulfillmentOrderLineItem", l.id), SKU: l.rl.fl.li.sku, TotalQuantity: l.total,
				Dispositions: []DispositionState{}}
			for _, d := range l.dispositions {
				ds := DispositionState{Type: d.typ, Quantity: d.quantity}
				if d.loc != nil {
					ds.LocationID = gid("Location", d.loc.id)
				}
				ls.Dispositions = append(ls.Dispositions, ds)
			}
			fs.Lines = append(fs.Lines, ls)
		}
		out.ReverseFulfillmentOrders = append(out.ReverseFulfillmentOrders, fs)
	}
	return out
}

// Returns lists every return, oldest first, with its lines and the
// dispositions of its reverse fulfillment orders.
func (s *Server) Returns() []ReturnState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ReturnState, 0, len(s.st.returns.list))
	for _, r := range s.st.returns.list {
		out = append(out, returnState(r))
	}
	return out
}

// closeReturn is returnClose: an OPEN return becomes CLOSED (closing a
// closed return changes nothing) and returns/close is sent.
func (x *execCtx) closeReturn(id any) (*simReturn, *userError) {
	x.st.returns.init()
	n, _ := idOf(id, "Return")
	r := x.st.returns.byID[n]
	if r == nil {
		return nil, ue(path("id"), "NOT_FOUND", "Return does not exist.")
	}
	switch r.status {
	case "CLOSED":
		return r, nil
	case "OPEN":
	default:
		return nil, ue(path("id"), "INVALID_STATE", "Return %s is %s and cannot be closed.", r.name, r.status)
	}
	r.status = "CLOSED"
	x.emit("returns/close", func() any {
		return map[string]any{"id": r.id, "admin_graphql_api_id": gid("Return", r.id), "order_id": r.order.id, "status": "closed"}
	})
	return r, nil
}

// CloseReturn closes the return returnGID as returnClose does (after the
// merchant's refund decision) and sends returns/close.
func (s *Server) CloseReturn(returnGID string) error {
	s.mu.Lock()
	x := &execCtx{s: s, st: s.st, now: s.now().UTC()}
	_, u := x.closeReturn(returnGID)
	s.mu.Unlock()
	if u != nil {
		return fmt.Errorf("shopifysim: close return: %s", u.message)
	}
	s.emit(x.events)
	return nil
}
