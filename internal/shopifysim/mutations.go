package shopifysim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// idempotentMutations require @idempotent(key:) from 2026-04 on.
var idempotentMutations = map[string]bool{
	"inventoryAdjustQuantities": true, "inventorySetQuantities": true, "inventoryMoveQuantities": true,
	"inventorySetOnHandQuantities": true, "inventoryActivate": true, "refundCreate": true,
	"locationActivate": true, "locationDeactivate": true,
	"inventoryShipmentCreate": true, "inventoryShipmentCreateInTransit": true, "inventoryShipmentAddItems": true,
	"inventoryShipmentReceive": true, "inventoryTransferCreate": true, "inventoryTransferCreateAsReadyToShip": true,
	"inventoryTransferDuplicate": true, "inventoryTransferSetItems": true,
}

func (x *execCtx) checkIdempotent(f *ast.Field) error {
	d := f.Directives.ForName("idempotent")
	if d == nil {
		if idempotentMutations[f.Name] {
			return errf("BAD_REQUEST", "The @idempotent directive is required for this mutation but was not provided.")
		}
		return nil
	}
	key, _ := d.ArgumentMap(x.vars)["key"].(string)
	if strings.TrimSpace(key) == "" {
		return errf("BAD_REQUEST", "The @idempotent directive requires a non-empty key.")
	}
	x.idemKey = key
	return nil
}

// replay looks the idempotency key up. It returns the stored result for
// the same parameters, a mismatch payload for different ones, or nil.
func (x *execCtx) replay(mutation string, args map[string]any, mismatch func(*userError) payload) (string, any) {
	b, _ := json.Marshal(args)
	fp := mutation + ":" + string(b)
	if x.idemKey == "" {
		return fp, nil
	}
	rec := x.st.idem[x.idemKey]
	if rec == nil {
		return fp, nil
	}
	if rec.fingerprint != fp {
		return fp, mismatch(&userError{code: "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", message: "The same idempotency key cannot be used with different operation parameters."})
	}
	return fp, rec.result
}

func (x *execCtx) remember(fp string, result any) {
	if x.idemKey != "" {
		x.st.remember(x.idemKey, &idemRecord{fingerprint: fp, result: result})
	}
}

func registerMutations() {
	m := func(fn func(x *execCtx, a map[string]any) (any, error)) resolverFunc {
		return func(x *execCtx, _ any, a map[string]any) (any, error) { return fn(x, a) }
	}
	register("Mutation", map[string]resolverFunc{
		"orderCreate":                               m((*execCtx).orderCreate),
		"orderCancel":                               m((*execCtx).orderCancel),
		"fulfillmentServiceCreate":                  m((*execCtx).fulfillmentServiceCreate),
		"webhookSubscriptionCreate":                 m((*execCtx).webhookSubscriptionCreate),
		"webhookSubscriptionDelete":                 m((*execCtx).webhookSubscriptionDelete),
		"fulfillmentOrderSubmitFulfillmentRequest":  m((*execCtx).foSubmit),
		"fulfillmentOrderAcceptFulfillmentRequest":  m((*execCtx).foAccept),
		"fulfillmentOrderRejectFulfillmentRequest":  m((*execCtx).foReject),
		"fulfillmentOrderSubmitCancellationRequest": m((*execCtx).foSubmitCancel),
		"fulfillmentOrderAcceptCancellationRequest": m((*execCtx).foAcceptCancel),
		"fulfillmentOrderRejectCancellationRequest": m((*execCtx).foRejectCancel),
		"fulfillmentOrderMove":                      m((*execCtx).foMove),
		"fulfillmentOrderHold":                      m((*execCtx).foHold),
		"fulfillmentOrderReleaseHold":               m((*execCtx).foReleaseHold),
		"fulfillmentCreate":                         m((*execCtx).fulfillmentCreate),
		"fulfillmentTrackingInfoUpdate":             m((*execCtx).fulfillmentTrackingInfoUpdate),
		"inventorySetQuantities":                    m((*execCtx).inventorySetQuantities),
		"inventoryAdjustQuantities":                 m((*execCtx).inventoryAdjustQuantities),
	})
}

func ue(field []string, code, format string, a ...any) *userError {
	return &userError{field: field, code: code, message: fmt.Sprintf(format, a...)}
}

func path(parts ...any) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = fmt.Sprint(p)
	}
	return out
}

// touch records a change of the order (and optionally its fulfillment
// orders) and queues orders/updated.
func (x *execCtx) touch(o *order, fos ...*fulfillmentOrder) {
	o.updatedAt = x.now
	for _, fo := range fos {
		if fo != nil {
			fo.updatedAt = x.now
		}
	}
	x.emitOrder("orders/updated", o)
}

// ---- orders ----

var countryNames = map[string]string{
	"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
	"NL": "Netherlands", "BE": "Belgium", "AU": "Australia", "ES": "Spain", "IT": "Italy", "AT": "Austria",
	"CH": "Switzerland", "SE": "Sweden", "DK": "Denmark", "IE": "Ireland", "PL": "Poland", "JP": "Japan",
}

func addressFrom(m map[string]any) *address {
	if m == nil {
		return nil
	}
	a := &address{
		firstName: argStr(m, "firstName"), lastName: argStr(m, "lastName"), company: argStr(m, "company"),
		address1: argStr(m, "address1"), address2: argStr(m, "address2"), city: argStr(m, "city"),
		province: argStr(m, "province"), provinceCode: argStr(m, "provinceCode"), zip: argStr(m, "zip"),
		country: argStr(m, "country"), countryCode: argStr(m, "countryCode"), phone: argStr(m, "phone"),
	}
	if a.province == "" {
		a.province = a.provinceCode
	}
	if a.country == "" && a.countryCode != "" {
		a.country = countryNames[a.countryCode]
		if a.country == "" {
			a.country = a.countryCode
		}
	}
	return a
}

func moneyAmount(bag map[string]any) (string, bool) {
	shop := argMap(bag, "shopMoney")
	if shop == nil {
		return "", false
	}
	return argStr(shop, "amount"), true
}

func (x *execCtx) orderCreate(a map[string]any) (any, error) {
	st := x.st
	in := argMap(a, "order")
	behaviour := "BYPASS"
	if opts := argMap(a, "options"); opts != nil && argStr(opts, "inventoryBehaviour") != "" {
		behaviour = argStr(opts, "inventoryBehaviour")
	}
	fail := func(ues ...*userError) (any, error) {
		return payload{"order": (*order)(nil), "userErrors": userErrs(ues)}, nil
	}
	raw := argList(in, "lineItems")
	if len(raw) == 0 {
		return fail(ue(path("order", "lineItems"), "INVALID", "Line items must have at least one line item"))
	}
	var ues []*userError
	var lines []*lineItem
	for i, r := range raw {
		m, _ := r.(map[string]any)
		q, _ := argInt(m, "quantity")
		if q <= 0 {
			ues = append(ues, ue(path("order", "lineItems", i, "quantity"), "INVALID", "Quantity must be greater than 0"))
			continue
		}
		li := &lineItem{quantity: q, sku: argStr(m, "sku"), title: argStr(m, "title"), variantTitle: argStr(m, "variantTitle"), vendor: argStr(m, "vendor"), requiresShipping: true}
		if vid, ok := m["variantId"]; ok && vid != nil {
			v := st.variantByGID(vid)
			if v == nil {
				ues = append(ues, ue(path("order", "lineItems", i, "variantId"), "INVALID", "Variant %v does not exist", vid))
				continue
			}
			li.variant = v
			if li.sku == "" {
				li.sku = v.sku
			}
			if li.title == "" {
				li.title = v.product.title
			}
			if li.variantTitle == "" {
				li.variantTitle = v.title
			}
			li.price = v.price
		} else if li.title == "" {
			ues = append(ues, ue(path("order", "lineItems", i, "title"), "INVALID", "Title can't be blank for a line item without a variant"))
			continue
		}
		if amt, ok := moneyAmount(argMap(m, "priceSet")); ok {
			li.price = amt
		}
		if li.price == "" {
			li.price = "0.00"
		}
		lines = append(lines, li)
	}
	if len(ues) > 0 {
		return fail(ues...)
	}

	// Order routing: the first fulfillment-service location (by creation)
	// with enough available stock for every tracked line, else the first
	// fulfillment-service location, else the shop's first location.
	need := map[*invItem]int{}
	var needOrder []*invItem
	for _, li := range lines {
		if li.variant != nil && li.variant.item.tracked {
			if _, ok := need[li.variant.item]; !ok {
				needOrder = append(needOrder, li.variant.item)
			}
			need[li.variant.item] += li.quantity
		}
	}
	enough := func(l *location) bool {
		for _, it := range needOrder {
			lv := l.levelByItem[it.id]
			if lv == nil || lv.q.available < need[it] {
				return false
			}
		}
		return true
	}
	var target *location
	fsLocs := st.fulfillmentServiceLocations()
	for _, l := range fsLocs {
		if enough(l) {
			target = l
			break
		}
	}
	if target == nil && len(fsLocs) > 0 {
		target = fsLocs[0]
	}
	if target == nil {
		for _, l := range st.locations {
			if l.active {
				target = l
				break
			}
		}
	}
	if behaviour == "DECREMENT_OBEYING_POLICY" && !enough(target) {
		return fail(ue(path("order", "lineItems"), "INVENTORY_CLAIM_FAILED", "Unable to reserve inventory: not enough available at %s", target.name))
	}

	o := &order{
		id: st.newID(), number: st.nextOrderNumber, email: argStr(in, "email"), phone: argStr(in, "phone"),
		note: argStr(in, "note"), currency: "USD", sourceName: "crossdock-simulator", test: argBool(in, "test"),
		createdAt: x.now, updatedAt: x.now, processedAt: x.now,
		shipping: addressFrom(argMap(in, "shippingAddress")), billing: addressFrom(argMap(in, "billingAddress")),
		inventoryBehaviour: behaviour, financialStatus: "paid",
	}
	st.nextOrderNumber++
	o.name = "#" + strconv.Itoa(o.number)
	if n := argStr(in, "name"); n != "" {
		o.name = n
	}
	if c := argStr(in, "currency"); c != "" {
		o.currency = c
	}
	if fs := argStr(in, "financialStatus"); fs != "" {
		o.financialStatus = strings.ToLower(fs)
	}
	if p, ok := parseSearchTime(argStr(in, "processedAt")); ok {
		o.processedAt = p.UTC()
	}
	o.tags = strList(argList(in, "tags"))
	if cust := argMap(in, "customer"); o.email == "" && cust != nil {
		if up := argMap(cust, "toUpsert"); up != nil {
			o.email = argStr(up, "email")
		}
	}
	if sls := argList(in, "shippingLines"); len(sls) > 0 {
		if sm, ok := sls[0].(map[string]any); ok {
			amt, _ := moneyAmount(argMap(sm, "priceSet"))
			o.shippingLine = &shippingLine{id: st.newID(), title: argStr(sm, "title"), code: argStr(sm, "code"), source: argStr(sm, "source"), amount: amt}
		}
	}
	for _, li := range lines {
		li.id = st.newID()
		li.order = o
		o.lines = append(o.lines, li)
		st.lineItems[li.id] = li
	}
	st.orders = append(st.orders, o)
	st.orderByID[o.id] = o

	fo := &fulfillmentOrder{id: st.newID(), order: o, loc: target, status: "OPEN", requestStatus: "UNSUBMITTED", createdAt: x.now, updatedAt: x.now}
	for _, li := range o.lines {
		l := &foLine{id: st.newID(), fo: fo, li: li, total: li.quantity, remaining: li.quantity}
		fo.lines = append(fo.lines, l)
		st.foLines[l.id] = l
	}
	o.fos = append(o.fos, fo)
	st.fos[fo.id] = fo

	var changed []*invLevel
	if behaviour != "BYPASS" {
		o.claimed = true
		for _, it := range needOrder {
			lv := target.levelByItem[it.id]
			lv.q.available -= need[it]
			lv.q.committed += need[it]
			lv.updatedAt = x.now
			changed = append(changed, lv)
		}
	}
	x.emitOrder("orders/create", o)
	x.emit("fulfillment_orders/order_routing_complete", func() any {
		return map[string]any{"fulfillment_order": map[string]any{"id": gid("FulfillmentOrder", fo.id), "status": strings.ToLower(fo.status)}}
	})
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	return payload{"order": o, "userErrors": []any{}}, nil
}

func (x *execCtx) orderCancel(a map[string]any) (any, error) {
	st := x.st
	fail := func(field []string, code, msg string) (any, error) {
		u := ue(field, code, "%s", msg)
		return payload{"job": nil, "orderCancelUserErrors": userErrs([]*userError{u}), "userErrors": userErrs([]*userError{u})}, nil
	}
	o := st.orderByGID(a["orderId"])
	if o == nil {
		return fail(path("orderId"), "NOT_FOUND", "Order does not exist")
	}
	if o.cancelledAt != nil {
		return fail(path("orderId"), "INVALID", "Order has already been cancelled")
	}
	for _, fo := range o.fos {
		if fo.requestStatus == "ACCEPTED" && fo.status == "IN_PROGRESS" {
			return fail(path("orderId"), "INVALID", "Cannot cancel an order whose fulfillment request was accepted; submit a cancellation request first")
		}
	}
	now := x.now
	o.cancelledAt = &now
	o.closedAt = &now
	restock := argBool(a, "restock")
	var changed []*invLevel
	for _, fo := range o.fos {
		if fo.status == "CLOSED" || fo.status == "CANCELLED" {
			continue
		}
		if o.claimed {
			changed = append(changed, x.release(fo, restock)...)
		}
		fo.status = "CLOSED"
		if fo.remaining() > 0 {
			fo.status = "CANCELLED"
		}
		fo.updatedAt = now
	}
	o.updatedAt = now
	x.emitOrder("orders/cancelled", o)
	x.emitOrder("orders/updated", o)
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	return payload{"job": map[string]any{"id": gid("Job", st.newID()), "done": true}, "orderCancelUserErrors": []any{}, "userErrors": []any{}}, nil
}

// release returns the committed units of fo's remaining lines to
// available (restock) or drops them from committed.
func (x *execCtx) release(fo *fulfillmentOrder, restock bool) []*invLevel {
	var changed []*invLevel
	for _, l := range fo.lines {
		if l.remaining == 0 || l.li.variant == nil || !l.li.variant.item.tracked {
			continue
		}
		lv := fo.loc.levelByItem[l.li.variant.item.id]
		if lv == nil {
			continue
		}
		lv.q.committed -= l.remaining
		if restock {
			lv.q.available += l.remaining
		}
		lv.updatedAt = x.now
		changed = append(changed, lv)
	}
	return changed
}

func init() {
	register("Job", map[string]resolverFunc{
		"id":    func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(map[string]any)["id"], nil },
		"done":  func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(map[string]any)["done"], nil },
		"query": func(*execCtx, any, map[string]any) (any, error) { return rootValue{}, nil },
	})
}

// ---- fulfillment services and webhooks ----

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func (x *execCtx) fulfillmentServiceCreate(a map[string]any) (any, error) {
	st := x.st
	fail := func(u *userError) (any, error) {
		return payload{"fulfillmentService": (*fulfillmentService)(nil), "userErrors": userErrs([]*userError{u})}, nil
	}
	name := strings.TrimSpace(argStr(a, "name"))
	if name == "" {
		return fail(ue(path("name"), "", "Name can't be blank"))
	}
	for _, s := range st.services {
		if strings.EqualFold(s.name, name) {
			return fail(ue(path("name"), "", "Name has already been taken"))
		}
	}
	cb := argStr(a, "callbackUrl")
	if cb != "" {
		if u, err := url.Parse(cb); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fail(ue(path("callbackUrl"), "", "Callback url is not a valid URL"))
		}
	}
	requiresShipping := true
	if v, ok := a["requiresShippingMethod"].(bool); ok {
		requiresShipping = v
	}
	svc := &fulfillmentService{
		id: st.newID(), name: name, handle: strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-"),
		callbackURL: cb, inventoryManagement: argBool(a, "inventoryManagement"), trackingSupport: argBool(a, "trackingSupport"),
		requiresShipping: requiresShipping, createdAt: x.now,
	}
	svc.loc = st.addLocation(name, svc, x.now)
	st.services[svc.id] = svc
	return payload{"fulfillmentService": svc, "userErrors": []any{}}, nil
}

func (x *execCtx) webhookSubscriptionCreate(a map[string]any) (any, error) {
	st := x.st
	fail := func(u *userError) (any, error) {
		return payload{"webhookSubscription": (*subscription)(nil), "userErrors": userErrs([]*userError{u})}, nil
	}
	topic := argStr(a, "topic")
	in := argMap(a, "webhookSubscription")
	uri := argStr(in, "uri")
	if uri == "" {
		uri = argStr(in, "callbackUrl")
	}
	if uri == "" {
		return fail(ue(path("webhookSubscription", "uri"), "", "Address can't be blank"))
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		if err == nil && (u.Scheme == "pubsub" || u.Scheme == "arn") {
			return fail(ue(path("webhookSubscription", "uri"), "", "Address protocol %s is not supported by the crossdock Shopify simulator", u.Scheme))
		}
		return fail(ue(path("webhookSubscription", "uri"), "", "Address is invalid"))
	}
	format := argStr(in, "format")
	if format == "" {
		format = "JSON"
	}
	if format != "JSON" {
		return fail(ue(path("webhookSubscription", "format"), "", "Format %s is not supported by the crossdock Shopify simulator", format))
	}
	for _, s := range st.subs {
		if s.topic == topic && s.uri == uri {
			return fail(ue(path("webhookSubscription", "callbackUrl"), "", "Address for this topic has already been taken"))
		}
	}
	sub := st.addSubscription(topic, uri, format, true, x.now)
	sub.name = argStr(in, "name")
	sub.filter = argStr(in, "filter")
	return payload{"webhookSubscription": sub, "userErrors": []any{}}, nil
}

func (x *execCtx) webhookSubscriptionDelete(a map[string]any) (any, error) {
	id, ok := idOf(a["id"], "WebhookSubscription")
	if !ok || !x.st.removeSubscription(id) {
		return payload{"deletedWebhookSubscriptionId": nil, "userErrors": userErrs([]*userError{ue(path("id"), "", "Webhook subscription does not exist")})}, nil
	}
	return payload{"deletedWebhookSubscriptionId": gid("WebhookSubscription", id), "userErrors": []any{}}, nil
}

// ---- fulfillment orders ----

// foLineQuantities parses [{id, quantity}] against fo. The map is keyed by
// line; an empty input yields nil.
func (x *execCtx) foLineQuantities(fo *fulfillmentOrder, raw []any, field []string, codes map[string]string) (map[*foLine]int, []*userError) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := map[*foLine]int{}
	var ues []*userError
	for i, r := range raw {
		m, _ := r.(map[string]any)
		f := append(slices.Clone(field), strconv.Itoa(i))
		id, _ := idOf(m["id"], "FulfillmentOrderLineItem")
		l := x.st.foLines[id]
		if l == nil || l.fo != fo {
			ues = append(ues, ue(append(f, "id"), codes["notFound"], "Fulfillment order line item %v does not belong to fulfillment order %s", m["id"], gid("FulfillmentOrder", fo.id)))
			continue
		}
		if _, dup := out[l]; dup {
			ues = append(ues, ue(append(f, "id"), codes["duplicate"], "Fulfillment order line item %s is listed more than once", gid("FulfillmentOrderLineItem", l.id)))
			continue
		}
		q, _ := argInt(m, "quantity")
		if q <= 0 {
			ues = append(ues, ue(append(f, "quantity"), codes["zero"], "Quantity must be greater than 0"))
			continue
		}
		if q > l.remaining {
			ues = append(ues, ue(append(f, "quantity"), codes["tooMany"], "Quantity %d exceeds the remaining quantity %d of fulfillment order line item %s", q, l.remaining, gid("FulfillmentOrderLineItem", l.id)))
			continue
		}
		out[l] = q
	}
	return out, ues
}

// splitFO moves take[line] units of fo into a new fulfillment order at the
// same location and returns it.
func (x *execCtx) splitFO(fo *fulfillmentOrder, take map[*foLine]int) *fulfillmentOrder {
	st := x.st
	n := &fulfillmentOrder{id: st.newID(), order: fo.order, loc: fo.loc, status: "OPEN", requestStatus: "UNSUBMITTED", createdAt: x.now, updatedAt: x.now}
	kept := fo.lines[:0:0]
	for _, l := range fo.lines {
		if q := take[l]; q > 0 {
			l.total -= q
			l.remaining -= q
			nl := &foLine{id: st.newID(), fo: n, li: l.li, total: q, remaining: q}
			n.lines = append(n.lines, nl)
			st.foLines[nl.id] = nl
		}
		if l.total > 0 {
			kept = append(kept, l)
		} else {
			delete(st.foLines, l.id)
		}
	}
	fo.lines = kept
	i := slices.Index(fo.order.fos, fo)
	fo.order.fos = slices.Insert(fo.order.fos, i+1, n)
	st.fos[n.id] = n
	fo.updatedAt = x.now
	return n
}

// rest returns remaining − chosen per line (the part not chosen).
func rest(fo *fulfillmentOrder, chosen map[*foLine]int) (map[*foLine]int, bool) {
	out := map[*foLine]int{}
	found := false
	for _, l := range fo.lines {
		if r := l.remaining - chosen[l]; r > 0 {
			out[l] = r
			found = true
		}
	}
	return out, found
}

func foStub(fo *fulfillmentOrder) map[string]any {
	if fo == nil {
		return nil
	}
	return map[string]any{"id": gid("FulfillmentOrder", fo.id), "status": strings.ToLower(fo.status), "request_status": strings.ToLower(fo.requestStatus)}
}

func foFail(key string) func(u *userError) (any, error) {
	return func(u *userError) (any, error) {
		return payload{key: (*fulfillmentOrder)(nil), "userErrors": userErrs([]*userError{u})}, nil
	}
}

func (x *execCtx) foSubmit(a map[string]any) (any, error) {
	fail := func(u ...*userError) (any, error) {
		return payload{"originalFulfillmentOrder": (*fulfillmentOrder)(nil), "submittedFulfillmentOrder": (*fulfillmentOrder)(nil),
			"unsubmittedFulfillmentOrder": (*fulfillmentOrder)(nil), "userErrors": userErrs(u)}, nil
	}
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "", "Fulfillment order does not exist."))
	}
	if fo.loc.service == nil {
		return fail(ue(path("id"), "", "Fulfillment order is not assigned to a fulfillment service location."))
	}
	if fo.status != "OPEN" || (fo.requestStatus != "UNSUBMITTED" && fo.requestStatus != "REJECTED") {
		return fail(ue(path("id"), "", "Cannot request fulfillment for a fulfillment order with status %s and request status %s.", fo.status, fo.requestStatus))
	}
	chosen, ues := x.foLineQuantities(fo, argList(a, "fulfillmentOrderLineItems"), path("fulfillmentOrderLineItems"), nil)
	if len(ues) > 0 {
		return fail(ues...)
	}
	var unsubmitted *fulfillmentOrder
	if chosen != nil {
		if r, partial := rest(fo, chosen); partial {
			unsubmitted = x.splitFO(fo, r)
		}
	}
	fo.requestStatus = "SUBMITTED"
	req := &merchantRequest{id: x.st.newID(), fo: fo, kind: "FULFILLMENT_REQUEST", message: argStr(a, "message"),
		options: map[string]any{"notify_customer": argBool(a, "notifyCustomer")}, sentAt: x.now}
	fo.requests = append(fo.requests, req)
	x.st.requests[req.id] = req
	x.touch(fo.order, fo)
	x.emit("fulfillment_orders/fulfillment_request_submitted", func() any {
		body := map[string]any{
			"original_fulfillment_order":         foStub(fo),
			"submitted_fulfillment_order":        foStub(fo),
			"fulfillment_order_merchant_request": map[string]any{"id": gid("FulfillmentOrderMerchantRequest", req.id), "message": nz(req.message)},
		}
		if unsubmitted != nil {
			body["unsubmitted_fulfillment_order"] = foStub(unsubmitted)
		}
		return body
	})
	return payload{"originalFulfillmentOrder": fo, "submittedFulfillmentOrder": fo, "unsubmittedFulfillmentOrder": unsubmitted, "userErrors": []any{}}, nil
}

// foTransition is a fulfillment service's answer to a merchant request.
type foTransition struct {
	what      string // "accept a fulfillment request", for the userError
	from      string // the request status the answer requires
	to        string // the request status after the answer
	status    string // the status after the answer ("" keeps it)
	topic     string // the webhook topic the answer emits
	releaseUp bool   // release the inventory the order claimed
}

// foAnswer checks and applies an answer, records the change and emits the
// webhook with the answer's message.
func (x *execCtx) foAnswer(a map[string]any, t foTransition) (any, error) {
	fail := foFail("fulfillmentOrder")
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "", "Fulfillment order does not exist."))
	}
	if fo.requestStatus != t.from {
		return fail(ue(path("id"), "", "Cannot %s for a fulfillment order with request status %s.", t.what, fo.requestStatus))
	}
	fo.requestStatus = t.to
	if t.status != "" {
		fo.status = t.status
	}
	var changed []*invLevel
	if t.releaseUp && fo.order.claimed {
		changed = x.release(fo, true)
	}
	x.touch(fo.order, fo)
	msg := argStr(a, "message")
	x.emit(t.topic, func() any {
		return map[string]any{"fulfillment_order": foStub(fo), "message": nz(msg)}
	})
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	return payload{"fulfillmentOrder": fo, "userErrors": []any{}}, nil
}

func (x *execCtx) foAccept(a map[string]any) (any, error) {
	return x.foAnswer(a, foTransition{what: "accept a fulfillment request", from: "SUBMITTED", to: "ACCEPTED", status: "IN_PROGRESS",
		topic: "fulfillment_orders/fulfillment_request_accepted"})
}

func (x *execCtx) foReject(a map[string]any) (any, error) {
	return x.foAnswer(a, foTransition{what: "reject a fulfillment request", from: "SUBMITTED", to: "REJECTED", status: "OPEN",
		topic: "fulfillment_orders/fulfillment_request_rejected"})
}

func (x *execCtx) foSubmitCancel(a map[string]any) (any, error) {
	fail := foFail("fulfillmentOrder")
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "", "Fulfillment order does not exist."))
	}
	if fo.requestStatus != "ACCEPTED" || fo.status != "IN_PROGRESS" {
		return fail(ue(path("id"), "", "Cannot request cancellation for a fulfillment order with status %s and request status %s.", fo.status, fo.requestStatus))
	}
	fo.requestStatus = "CANCELLATION_REQUESTED"
	req := &merchantRequest{id: x.st.newID(), fo: fo, kind: "CANCELLATION_REQUEST", message: argStr(a, "message"), options: map[string]any{}, sentAt: x.now}
	fo.requests = append(fo.requests, req)
	x.st.requests[req.id] = req
	x.touch(fo.order, fo)
	x.emit("fulfillment_orders/cancellation_request_submitted", func() any {
		return map[string]any{"fulfillment_order": foStub(fo), "fulfillment_order_merchant_request": map[string]any{"id": gid("FulfillmentOrderMerchantRequest", req.id), "message": nz(req.message)}}
	})
	return payload{"fulfillmentOrder": fo, "userErrors": []any{}}, nil
}

func (x *execCtx) foAcceptCancel(a map[string]any) (any, error) {
	return x.foAnswer(a, foTransition{what: "accept a cancellation request", from: "CANCELLATION_REQUESTED", to: "CANCELLATION_ACCEPTED",
		status: "CANCELLED", topic: "fulfillment_orders/cancellation_request_accepted", releaseUp: true})
}

func (x *execCtx) foRejectCancel(a map[string]any) (any, error) {
	return x.foAnswer(a, foTransition{what: "reject a cancellation request", from: "CANCELLATION_REQUESTED", to: "CANCELLATION_REJECTED",
		topic: "fulfillment_orders/cancellation_request_rejected"})
}

func (x *execCtx) foMove(a map[string]any) (any, error) {
	fail := func(u ...*userError) (any, error) {
		return payload{"movedFulfillmentOrder": (*fulfillmentOrder)(nil), "originalFulfillmentOrder": (*fulfillmentOrder)(nil),
			"remainingFulfillmentOrder": (*fulfillmentOrder)(nil), "userErrors": userErrs(u)}, nil
	}
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "", "Fulfillment order does not exist."))
	}
	if fo.status != "OPEN" {
		return fail(ue(path("id"), "", "Cannot move a fulfillment order with status %s.", fo.status))
	}
	if fo.requestStatus != "UNSUBMITTED" && fo.requestStatus != "REJECTED" {
		return fail(ue(path("id"), "", "Cannot move a fulfillment order with request status %s.", fo.requestStatus))
	}
	to := x.st.locByGID(a["newLocationId"])
	if to == nil || !to.active {
		return fail(ue(path("newLocationId"), "", "Location does not exist or is not active."))
	}
	if to == fo.loc {
		return fail(ue(path("newLocationId"), "", "Fulfillment order is already assigned to %s.", to.name))
	}
	chosen, ues := x.foLineQuantities(fo, argList(a, "fulfillmentOrderLineItems"), path("fulfillmentOrderLineItems"), nil)
	if len(ues) > 0 {
		return fail(ues...)
	}
	hasFulfilled := false
	for _, l := range fo.lines {
		if l.remaining < l.total {
			hasFulfilled = true
		}
	}
	from := fo.loc
	original, moved := fo, fo
	var remaining *fulfillmentOrder
	partial := false
	if chosen != nil {
		_, partial = rest(fo, chosen)
	}
	if partial || hasFulfilled {
		if chosen == nil {
			chosen = map[*foLine]int{}
			for _, l := range fo.lines {
				if l.remaining > 0 {
					chosen[l] = l.remaining
				}
			}
		}
		moved = x.splitFO(fo, chosen)
		moved.loc = to
		if fo.remaining() == 0 {
			fo.status = "CLOSED"
		} else {
			remaining = fo
		}
	} else {
		fo.loc = to
		fo.requestStatus = "UNSUBMITTED"
	}
	var changed []*invLevel
	if fo.order.claimed {
		for _, l := range moved.lines {
			if l.li.variant == nil || !l.li.variant.item.tracked || l.remaining == 0 {
				continue
			}
			it := l.li.variant.item
			src, dst := from.levelByItem[it.id], x.st.ensureLevel(it, to, x.now)
			src.q.committed -= l.remaining
			src.q.available += l.remaining
			dst.q.available -= l.remaining
			dst.q.committed += l.remaining
			src.updatedAt, dst.updatedAt = x.now, x.now
			changed = append(changed, src, dst)
		}
	}
	x.touch(fo.order, fo, moved)
	x.emit("fulfillment_orders/moved", func() any {
		var reqLines []any
		for _, l := range moved.lines {
			reqLines = append(reqLines, map[string]any{"id": gid("FulfillmentOrderLineItem", l.id), "quantity": l.remaining})
		}
		return map[string]any{
			"original_fulfillment_order":             map[string]any{"id": gid("FulfillmentOrder", original.id), "status": strings.ToLower(original.status), "assigned_location_id": gid("Location", original.loc.id)},
			"moved_fulfillment_order":                map[string]any{"id": gid("FulfillmentOrder", moved.id), "status": strings.ToLower(moved.status), "assigned_location_id": gid("Location", moved.loc.id)},
			"destination_location_id":                gid("Location", to.id),
			"fulfillment_order_line_items_requested": reqLines,
			"source_location":                        map[string]any{"id": gid("Location", from.id)},
		}
	})
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	return payload{"movedFulfillmentOrder": moved, "originalFulfillmentOrder": original, "remainingFulfillmentOrder": remaining, "userErrors": []any{}}, nil
}

func holdStub(h *hold) map[string]any {
	return map[string]any{"id": gid("FulfillmentHold", h.id), "reason": strings.ToLower(h.reason), "reason_notes": nz(h.notes),
		"held_by_requesting_app": true, "handle": nz(h.handle), "held_by_app": nil}
}

func (x *execCtx) foHold(a map[string]any) (any, error) {
	fail := func(u ...*userError) (any, error) {
		return payload{"fulfillmentHold": (*hold)(nil), "fulfillmentOrder": (*fulfillmentOrder)(nil), "remainingFulfillmentOrder": (*fulfillmentOrder)(nil), "userErrors": userErrs(u)}, nil
	}
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "FULFILLMENT_ORDER_NOT_FOUND", "Fulfillment order does not exist."))
	}
	in := argMap(a, "fulfillmentHold")
	if (fo.status != "OPEN" && fo.status != "ON_HOLD") || (fo.requestStatus != "UNSUBMITTED" && fo.requestStatus != "REJECTED") {
		return fail(ue(path("id"), "", "Cannot place a hold on a fulfillment order with status %s and request status %s.", fo.status, fo.requestStatus))
	}
	handle := argStr(in, "handle")
	if len(handle) > 64 {
		return fail(ue(path("fulfillmentHold", "handle"), "", "Handle is too long (maximum is 64 characters)"))
	}
	if len(fo.holds) >= 10 {
		return fail(ue(path("id"), "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED", "The maximum number of fulfillment holds for this fulfillment order has been reached for this app. An app can only have up to 10 holds on a single fulfillment order at any one time."))
	}
	for _, h := range fo.holds {
		if handle != "" && h.handle == handle {
			return fail(ue(path("fulfillmentHold", "handle"), "DUPLICATE_FULFILLMENT_HOLD_HANDLE", "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order."))
		}
	}
	chosen, ues := x.foLineQuantities(fo, argList(in, "fulfillmentOrderLineItems"), path("fulfillmentHold", "fulfillmentOrderLineItems"),
		map[string]string{"duplicate": "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS", "zero": "GREATER_THAN_ZERO", "tooMany": "INVALID_LINE_ITEM_QUANTITY"})
	if len(ues) > 0 {
		return fail(ues...)
	}
	var remaining *fulfillmentOrder
	if chosen != nil {
		if r, partial := rest(fo, chosen); partial {
			remaining = x.splitFO(fo, r)
		}
	}
	h := &hold{id: x.st.newID(), fo: fo, reason: argStr(in, "reason"), notes: argStr(in, "reasonNotes"), handle: handle, createdAt: x.now}
	fo.holds = append(fo.holds, h)
	x.st.holds[h.id] = h
	fo.status = "ON_HOLD"
	x.touch(fo.order, fo)
	x.emit("fulfillment_orders/placed_on_hold", func() any {
		var hs []any
		for _, h := range fo.holds {
			hs = append(hs, holdStub(h))
		}
		stub := foStub(fo)
		delete(stub, "request_status")
		stub["fulfillment_holds"] = hs
		body := map[string]any{"fulfillment_order": stub, "created_fulfillment_hold": holdStub(h)}
		if remaining != nil {
			body["remaining_fulfillment_order"] = map[string]any{"id": gid("FulfillmentOrder", remaining.id), "status": "open"}
		}
		var held []any
		for _, l := range fo.lines {
			held = append(held, map[string]any{"id": gid("FulfillmentOrderLineItem", l.id), "quantity": l.remaining})
		}
		body["held_fulfillment_order_line_items"] = held
		return body
	})
	x.emit("fulfillment_holds/added", func() any {
		return map[string]any{"fulfillment_order": map[string]any{"id": gid("FulfillmentOrder", fo.id)}, "fulfillment_hold": holdStub(h)}
	})
	return payload{"fulfillmentHold": h, "fulfillmentOrder": fo, "remainingFulfillmentOrder": remaining, "userErrors": []any{}}, nil
}

func (x *execCtx) foReleaseHold(a map[string]any) (any, error) {
	fail := foFail("fulfillmentOrder")
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "FULFILLMENT_ORDER_NOT_FOUND", "Fulfillment order does not exist."))
	}
	if fo.status != "ON_HOLD" {
		return fail(ue(path("id"), "", "The fulfillment order is not on hold."))
	}
	var release []*hold
	if ids := argList(a, "holdIds"); ids != nil {
		for i, raw := range ids {
			id, _ := idOf(raw, "FulfillmentHold")
			h := x.st.holds[id]
			if h == nil || h.fo != fo {
				return fail(ue(path("holdIds", i), "", "Fulfillment hold %v does not exist on this fulfillment order.", raw))
			}
			release = append(release, h)
		}
	} else {
		release = slices.Clone(fo.holds)
	}
	for _, h := range release {
		fo.holds = slices.DeleteFunc(fo.holds, func(o *hold) bool { return o == h })
		delete(x.st.holds, h.id)
	}
	if len(fo.holds) == 0 {
		fo.status = "OPEN"
	}
	x.touch(fo.order, fo)
	x.emit("fulfillment_orders/hold_released", func() any {
		return map[string]any{"fulfillment_order": map[string]any{"id": gid("FulfillmentOrder", fo.id), "status": strings.ToLower(fo.status)}}
	})
	for _, h := range release {
		x.emit("fulfillment_holds/released", func() any {
			return map[string]any{"fulfillment_order": map[string]any{"id": gid("FulfillmentOrder", fo.id)}, "fulfillment_hold": holdStub(h)}
		})
	}
	return payload{"fulfillmentOrder": fo, "userErrors": []any{}}, nil
}

// ---- fulfillments ----

var carrierURLs = map[string]string{
	"ups":         "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=%s",
	"usps":        "https://tools.usps.com/go/TrackConfirmAction?qtc_tLabels1=%s",
	"fedex":       "https://www.fedex.com/fedextrack/?trknbr=%s",
	"dhl":         "https://www.dhl.com/en/express/tracking.html?AWB=%s&brand=DHL",
	"dhl express": "https://www.dhl.com/en/express/tracking.html?AWB=%s&brand=DHL",
	"canada post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/%s",
	"royal mail":  "https://www.royalmail.com/track-your-item#/tracking-results/%s",
	"dpd":         "https://tracking.dpd.de/status/en_US/parcel/%s",
	"gls":         "https://gls-group.eu/track/%s",
	"postnl":      "https://jouw.postnl.nl/track-and-trace/%s",
}

// trackingFrom builds tracking entries from FulfillmentTrackingInput.
func trackingFrom(ti map[string]any, field []string) ([]tracking, *userError) {
	if ti == nil {
		return nil, nil
	}
	_, hasNumber := ti["number"]
	_, hasNumbers := ti["numbers"]
	if ti["number"] != nil && ti["numbers"] != nil && hasNumber && hasNumbers {
		return nil, ue(append(field, "numbers"), "", "Tracking number and tracking numbers can't both be specified; use numbers for several.")
	}
	if ti["url"] != nil && ti["urls"] != nil {
		return nil, ue(append(field, "urls"), "", "Tracking url and tracking urls can't both be specified; use urls for several.")
	}
	company := argStr(ti, "company")
	numbers := strList(argList(ti, "numbers"))
	if n := argStr(ti, "number"); n != "" {
		numbers = []string{n}
	}
	urls := strList(argList(ti, "urls"))
	if u := argStr(ti, "url"); u != "" {
		urls = []string{u}
	}
	for i, u := range urls {
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return nil, ue(append(field, "urls", strconv.Itoa(i)), "", "Tracking url %q is not a valid URL", u)
		}
	}
	n := max(len(numbers), len(urls))
	if n == 0 && company != "" {
		n = 1
	}
	out := make([]tracking, n)
	for i := range out {
		out[i].company = company
		if i < len(numbers) {
			out[i].number = numbers[i]
		}
		if i < len(urls) {
			out[i].url = urls[i]
		} else if tmpl := carrierURLs[strings.ToLower(company)]; tmpl != "" && out[i].number != "" {
			out[i].url = fmt.Sprintf(tmpl, url.QueryEscape(out[i].number))
		}
	}
	return out, nil
}

const overfulfilCode = "simulator:overfulfilment"

func (x *execCtx) fulfillmentCreate(a map[string]any) (any, error) {
	st := x.st
	fail := func(u ...*userError) (any, error) {
		return payload{"fulfillment": (*fulfillment)(nil), "userErrors": userErrs(u)}, nil
	}
	in := argMap(a, "fulfillment")
	groups := argList(in, "lineItemsByFulfillmentOrder")
	if len(groups) == 0 {
		return fail(ue(path("fulfillment", "lineItemsByFulfillmentOrder"), "", "Line items by fulfillment order can't be blank"))
	}
	type part struct {
		fo  *fulfillmentOrder
		qty map[*foLine]int
	}
	var parts []part
	var o *order
	var loc *location
	seen := map[*fulfillmentOrder]bool{}
	for i, g := range groups {
		m, _ := g.(map[string]any)
		field := path("fulfillment", "lineItemsByFulfillmentOrder", i)
		fo := st.foByGID(m["fulfillmentOrderId"])
		if fo == nil {
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %v does not exist.", m["fulfillmentOrderId"]))
		}
		if seen[fo] {
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s is listed more than once.", gid("FulfillmentOrder", fo.id)))
		}
		seen[fo] = true
		if o == nil {
			o, loc = fo.order, fo.loc
		} else if fo.order != o {
			return fail(ue(append(field, "fulfillmentOrderId"), "", "All fulfillment orders of a fulfillment must belong to the same order."))
		} else if fo.loc != loc {
			return fail(ue(append(field, "fulfillmentOrderId"), "", "All fulfillment orders of a fulfillment must be assigned to the same location."))
		}
		switch {
		case fo.status == "CLOSED" && fo.remaining() == 0:
			// Everything was fulfilled already: a second fulfilment would over-fulfil.
			x.s.ctr.rejectedOverfulfillments.Add(1)
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s is closed: all of its line items have been fulfilled.", gid("FulfillmentOrder", fo.id)))
		case fo.status == "ON_HOLD":
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s is on hold.", gid("FulfillmentOrder", fo.id)))
		case fo.status != "OPEN" && fo.status != "IN_PROGRESS":
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s has status %s and can't be fulfilled.", gid("FulfillmentOrder", fo.id), fo.status))
		case fo.loc.service != nil && fo.requestStatus != "ACCEPTED" && fo.requestStatus != "CANCELLATION_REQUESTED" && fo.requestStatus != "CANCELLATION_REJECTED":
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s is assigned to a fulfillment service and its fulfillment request has not been accepted (request status %s).", gid("FulfillmentOrder", fo.id), fo.requestStatus))
		}
		// UserError has no code field, so the internal code never shows.
		qty, ues := x.foLineQuantities(fo, argList(m, "fulfillmentOrderLineItems"), append(field, "fulfillmentOrderLineItems"), map[string]string{"tooMany": overfulfilCode})
		if len(ues) > 0 {
			if slices.ContainsFunc(ues, func(u *userError) bool { return u.code == overfulfilCode }) {
				x.s.ctr.rejectedOverfulfillments.Add(1)
			}
			return fail(ues...)
		}
		if qty == nil {
			qty = map[*foLine]int{}
			for _, l := range fo.lines {
				if l.remaining > 0 {
					qty[l] = l.remaining
				}
			}
		}
		if len(qty) == 0 {
			x.s.ctr.rejectedOverfulfillments.Add(1)
			return fail(ue(append(field, "fulfillmentOrderId"), "", "Fulfillment order %s has no remaining line items to fulfill.", gid("FulfillmentOrder", fo.id)))
		}
		parts = append(parts, part{fo: fo, qty: qty})
	}
	tr, u := trackingFrom(argMap(in, "trackingInfo"), path("fulfillment", "trackingInfo"))
	if u != nil {
		return fail(u)
	}

	f := &fulfillment{id: st.newID(), order: o, loc: loc, status: "SUCCESS", createdAt: x.now, updatedAt: x.now, tracking: tr}
	f.name = fmt.Sprintf("%s.%d", o.name, len(o.fulfillments)+1)
	byLine := map[*lineItem]*fulfillmentLine{}
	for _, p := range parts {
		f.fos = append(f.fos, p.fo)
		for _, l := range p.fo.lines { // deterministic order
			q := p.qty[l]
			if q == 0 {
				continue
			}
			l.remaining -= q
			l.li.fulfilled += q
			fl := byLine[l.li]
			if fl == nil {
				fl = &fulfillmentLine{id: st.newID(), li: l.li}
				byLine[l.li] = fl
				f.lines = append(f.lines, fl)
			}
			fl.quantity += q
			if o.claimed && l.li.variant != nil && l.li.variant.item.tracked {
				if lv := p.fo.loc.levelByItem[l.li.variant.item.id]; lv != nil {
					lv.q.committed -= q // leaves on_hand with the shipment
					lv.updatedAt = x.now
				}
			}
		}
		if p.fo.remaining() == 0 {
			p.fo.status = "CLOSED"
		} else if p.fo.status == "OPEN" {
			p.fo.status = "IN_PROGRESS"
		}
		p.fo.updatedAt = x.now
	}
	dupTracking := false
	for _, prev := range o.fulfillments {
		for _, pt := range prev.tracking {
			for _, nt := range tr {
				if pt.number != "" && pt.number == nt.number {
					dupTracking = true
				}
			}
		}
	}
	if dupTracking {
		x.s.ctr.duplicateTracking.Add(1)
	}
	o.fulfillments = append(o.fulfillments, f)
	st.fulfillments[f.id] = f
	x.touch(o)
	x.emit("fulfillments/create", func() any { return x.fulfillmentPayload(f) })
	if o.fulfillmentStatus() == "FULFILLED" {
		x.emitOrder("orders/fulfilled", o)
	} else {
		x.emitOrder("orders/partially_fulfilled", o)
	}
	return payload{"fulfillment": f, "userErrors": []any{}}, nil
}

func (x *execCtx) fulfillmentTrackingInfoUpdate(a map[string]any) (any, error) {
	fail := func(u *userError) (any, error) {
		return payload{"fulfillment": (*fulfillment)(nil), "userErrors": userErrs([]*userError{u})}, nil
	}
	id, _ := idOf(a["fulfillmentId"], "Fulfillment")
	f := x.st.fulfillments[id]
	if f == nil {
		return fail(ue(path("fulfillmentId"), "", "Fulfillment does not exist."))
	}
	tr, u := trackingFrom(argMap(a, "trackingInfoInput"), path("trackingInfoInput"))
	if u != nil {
		return fail(u)
	}
	f.tracking = tr
	f.updatedAt = x.now
	x.s.ctr.trackingUpdates.Add(1)
	x.touch(f.order)
	x.emit("fulfillments/update", func() any { return x.fulfillmentPayload(f) })
	return payload{"fulfillment": f, "userErrors": []any{}}, nil
}

// ---- inventory ----

var inventoryReasons = map[string]bool{
	"correction": true, "cycle_count_available": true, "damaged": true, "movement_created": true,
	"movement_updated": true, "movement_received": true, "movement_canceled": true, "other": true,
	"promotion": true, "quality_control": true, "received": true, "reservation_created": true,
	"reservation_deleted": true, "reservation_updated": true, "restock": true, "safety_stock": true,
	"shrinkage": true,
}

func validURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}

// inventoryResult is the payload of the inventory mutations.
func inventoryResult(g *adjGroup, ues []*userError) payload {
	return payload{"inventoryAdjustmentGroup": g, "userErrors": userErrs(ues)}
}

// inventoryPrologue does what both inventory mutations do first: since
// 2026-04 every entry of the input list must carry changeFromQuantity
// explicitly (null skips the check), and a request under an idempotency
// key already used is replayed (prev set) instead of applied again.
func (x *execCtx) inventoryPrologue(a map[string]any, mutation, list, inputType string) (in map[string]any, raw []any, fp string, prev any, err error) {
	in = argMap(a, "input")
	raw = argList(in, list)
	for i, r := range raw {
		m, _ := r.(map[string]any)
		if _, ok := m["changeFromQuantity"]; !ok {
			return nil, nil, "", nil, errf("INVALID_FIELD_ARGUMENTS", "%s must include the following argument: changeFromQuantity (%s[%d]). Pass the expected current quantity, or null to skip the compare-and-swap check.", inputType, list, i)
		}
	}
	fp, prev = x.replay(mutation, a, func(u *userError) payload { return inventoryResult(nil, []*userError{u}) })
	return in, raw, fp, prev, nil
}

func (x *execCtx) inventorySetQuantities(a map[string]any) (any, error) {
	st := x.st
	in, raw, fp, prev, err := x.inventoryPrologue(a, "inventorySetQuantities", "quantities", "InventoryQuantityInput")
	if err != nil || prev != nil {
		return prev, err
	}
	name := argStr(in, "name")
	reason := argStr(in, "reason")
	ref := argStr(in, "referenceDocumentUri")
	var ues []*userError
	if name != "available" && name != "on_hand" {
		ues = append(ues, ue(path("input", "name"), "INVALID_NAME", "The quantity name must be either 'available' or 'on_hand'."))
	}
	if !inventoryReasons[reason] {
		ues = append(ues, ue(path("input", "reason"), "INVALID_REASON", "The specified reason is invalid."))
	}
	if ref != "" && !validURI(ref) {
		ues = append(ues, ue(path("input", "referenceDocumentUri"), "INVALID_REFERENCE_DOCUMENT", "The specified reference document is invalid."))
	}
	type set struct {
		lv     *invLevel
		target int
	}
	var sets []set
	seen := map[*invLevel]bool{}
	for i, r := range raw {
		m, _ := r.(map[string]any)
		f := path("input", "quantities", i)
		it := st.itemByGID(m["inventoryItemId"])
		loc := st.locByGID(m["locationId"])
		if it == nil {
			ues = append(ues, ue(append(f, "inventoryItemId"), "INVALID_INVENTORY_ITEM", "The specified inventory item could not be found."))
			continue
		}
		if loc == nil {
			ues = append(ues, ue(append(f, "locationId"), "INVALID_LOCATION", "The specified location could not be found."))
			continue
		}
		lv := st.level(it, loc)
		if lv == nil {
			ues = append(ues, ue(f, "ITEM_NOT_STOCKED_AT_LOCATION", "The specified inventory item is not stocked at the location."))
			continue
		}
		if seen[lv] {
			ues = append(ues, ue(f, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", "The combination of inventoryItemId and locationId must be unique."))
			continue
		}
		seen[lv] = true
		q, _ := argInt(m, "quantity")
		switch {
		case q < 0:
			ues = append(ues, ue(append(f, "quantity"), "INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative."))
			continue
		case q > 1_000_000_000:
			ues = append(ues, ue(append(f, "quantity"), "INVALID_QUANTITY_TOO_HIGH", "The total quantity can't be higher than 1,000,000,000."))
			continue
		}
		if cf, present := m["changeFromQuantity"]; present && cf != nil && (name == "available" || name == "on_hand") {
			want, _ := toInt64(cf)
			cur, _ := lv.q.get(name)
			if int64(cur) != want {
				ues = append(ues, ue(append(f, "changeFromQuantity"), "CHANGE_FROM_QUANTITY_STALE", "The changeFromQuantity value does not match persisted value (current %s quantity is %d).", name, cur))
				continue
			}
		}
		sets = append(sets, set{lv: lv, target: q})
	}
	if len(ues) > 0 {
		res := inventoryResult(nil, ues)
		x.remember(fp, res)
		return res, nil
	}
	g := &adjGroup{id: st.newID(), reason: reason, ref: ref, createdAt: x.now}
	var changed []*invLevel
	for _, s := range sets {
		lv := s.lv
		cur, _ := lv.q.get(name)
		d := s.target - cur
		lv.q.available += d // on_hand follows: both names change available
		lv.updatedAt = x.now
		lv.item.updatedAt = x.now
		g.changes = append(g.changes,
			invChange{name: "available", delta: d, after: lv.q.available, item: lv.item, loc: lv.loc},
			invChange{name: "on_hand", delta: d, after: lv.q.onHand(), item: lv.item, loc: lv.loc})
		if d != 0 {
			changed = append(changed, lv)
		}
	}
	st.adjGroups[g.id] = g
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	res := inventoryResult(g, nil)
	x.remember(fp, res)
	return res, nil
}

// adjustableNames are the quantity names inventoryAdjustQuantities accepts.
var adjustableNames = map[string]bool{"available": true, "damaged": true, "incoming": true, "quality_control": true, "reserved": true, "safety_stock": true}

func (x *execCtx) inventoryAdjustQuantities(a map[string]any) (any, error) {
	st := x.st
	in, raw, fp, prev, err := x.inventoryPrologue(a, "inventoryAdjustQuantities", "changes", "InventoryChangeInput")
	if err != nil || prev != nil {
		return prev, err
	}
	name := argStr(in, "name")
	reason := argStr(in, "reason")
	ref := argStr(in, "referenceDocumentUri")
	var ues []*userError
	if !adjustableNames[name] {
		ues = append(ues, ue(path("input", "name"), "INVALID_QUANTITY_NAME", "The quantity name %q can't be adjusted.", name))
	}
	if !inventoryReasons[reason] {
		ues = append(ues, ue(path("input", "reason"), "INVALID_REASON", "The specified reason is invalid."))
	}
	if ref != "" && !validURI(ref) {
		ues = append(ues, ue(path("input", "referenceDocumentUri"), "INVALID_REFERENCE_DOCUMENT", "The specified reference document is invalid."))
	}
	type adj struct {
		lv    *invLevel
		delta int
	}
	var adjs []adj
	ledgers := map[string]bool{}
	for i, r := range raw {
		m, _ := r.(map[string]any)
		f := path("input", "changes", i)
		ledger := argStr(m, "ledgerDocumentUri")
		switch {
		case name == "available" && ledger != "":
			ues = append(ues, ue(append(f, "ledgerDocumentUri"), "INVALID_AVAILABLE_DOCUMENT", "A ledger document URI is not allowed when adjusting available."))
			continue
		case name != "available" && ledger == "":
			ues = append(ues, ue(append(f, "ledgerDocumentUri"), "INVALID_QUANTITY_DOCUMENT", "A ledger document URI is required when adjusting %s.", name))
			continue
		case strings.HasPrefix(ledger, "gid://shopify/"):
			ues = append(ues, ue(append(f, "ledgerDocumentUri"), "INTERNAL_LEDGER_DOCUMENT", "A ledger document URI can't reference a Shopify resource."))
			continue
		case ledger != "" && !validURI(ledger):
			ues = append(ues, ue(append(f, "ledgerDocumentUri"), "INVALID_LEDGER_DOCUMENT", "The specified ledger document is invalid."))
			continue
		}
		if ledger != "" {
			ledgers[ledger] = true
		}
		it := st.itemByGID(m["inventoryItemId"])
		loc := st.locByGID(m["locationId"])
		if it == nil {
			ues = append(ues, ue(append(f, "inventoryItemId"), "INVALID_INVENTORY_ITEM", "The specified inventory item could not be found."))
			continue
		}
		if loc == nil {
			ues = append(ues, ue(append(f, "locationId"), "INVALID_LOCATION", "The specified location could not be found."))
			continue
		}
		lv := st.level(it, loc)
		if lv == nil {
			ues = append(ues, ue(f, "ITEM_NOT_STOCKED_AT_LOCATION", "The specified inventory item is not stocked at the location."))
			continue
		}
		d, _ := argInt(m, "delta")
		if cf := m["changeFromQuantity"]; cf != nil {
			want, _ := toInt64(cf)
			if cur, _ := lv.q.get(name); int64(cur) != want {
				ues = append(ues, ue(append(f, "changeFromQuantity"), "CHANGE_FROM_QUANTITY_STALE", "The changeFromQuantity argument no longer matches the persisted quantity (current %s quantity is %d).", name, cur))
				continue
			}
		}
		if cur, ok := lv.q.get(name); ok && (int64(cur)+int64(d) > 2_000_000_000) {
			ues = append(ues, ue(append(f, "delta"), "INVALID_QUANTITY_TOO_HIGH", "The quantity can't be higher than 2,000,000,000."))
			continue
		} else if ok && int64(cur)+int64(d) < -2_000_000_000 {
			ues = append(ues, ue(append(f, "delta"), "INVALID_QUANTITY_TOO_LOW", "The quantity can't be lower than -2,000,000,000."))
			continue
		}
		adjs = append(adjs, adj{lv: lv, delta: d})
	}
	if len(ledgers) > 1 {
		ues = append(ues, ue(path("input", "changes"), "MAX_ONE_LEDGER_DOCUMENT", "Only one ledger document URI is allowed per request."))
	}
	if len(ues) > 0 {
		res := inventoryResult(nil, ues)
		x.remember(fp, res)
		return res, nil
	}
	g := &adjGroup{id: st.newID(), reason: reason, ref: ref, createdAt: x.now}
	var changed []*invLevel
	for _, ad := range adjs {
		lv := ad.lv
		q := &lv.q
		switch name {
		case "available":
			q.available += ad.delta
		case "damaged":
			q.damaged += ad.delta
		case "incoming":
			q.incoming += ad.delta
		case "quality_control":
			q.qualityControl += ad.delta
		case "reserved":
			q.reserved += ad.delta
		case "safety_stock":
			q.safetyStock += ad.delta
		}
		lv.updatedAt = x.now
		after, _ := q.get(name)
		g.changes = append(g.changes, invChange{name: name, delta: ad.delta, after: after, item: lv.item, loc: lv.loc})
		if name != "incoming" {
			g.changes = append(g.changes, invChange{name: "on_hand", delta: ad.delta, after: q.onHand(), item: lv.item, loc: lv.loc})
		}
		if name == "available" && ad.delta != 0 {
			changed = append(changed, lv)
		}
	}
	st.adjGroups[g.id] = g
	for _, lv := range changed {
		x.emitLevel(lv)
	}
	res := inventoryResult(g, nil)
	x.remember(fp, res)
	return res, nil
}
