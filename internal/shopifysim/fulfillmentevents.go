package shopifysim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// progressReport is one fulfillmentOrderReportProgress call.
type progressReport struct {
	notes string
	at    time.Time
}

// fulfillmentEvent is one fulfillmentEventCreate call.
type fulfillmentEvent struct {
	id                                     int64
	f                                      *fulfillment
	status, message                        string
	address1, city, province, country, zip string
	latitude, longitude                    *float64
	happenedAt, createdAt                  time.Time
	estimatedDeliveryAt                    *time.Time
}

// fulfillmentEventStatuses are the FulfillmentEventStatus values. Each maps
// to the FulfillmentDisplayStatus of the same name.
var fulfillmentEventStatuses = map[string]bool{
	"ATTEMPTED_DELIVERY": true, "CARRIER_PICKED_UP": true, "CONFIRMED": true, "DELAYED": true,
	"DELIVERED": true, "FAILURE": true, "IN_TRANSIT": true, "LABEL_PRINTED": true,
	"LABEL_PURCHASED": true, "OUT_FOR_DELIVERY": true, "READY_FOR_PICKUP": true,
}

// latestEvent is the event that happened last (the later-created one on a
// tie), or nil.
func (f *fulfillment) latestEvent() *fulfillmentEvent {
	var last *fulfillmentEvent
	for _, e := range f.events {
		if last == nil || !e.happenedAt.Before(last.happenedAt) {
			last = e
		}
	}
	return last
}

// displayStatus is Fulfillment.displayStatus: CANCELED for a cancelled
// fulfillment, else the status of the latest event (every
// FulfillmentEventStatus has a FulfillmentDisplayStatus of the same name),
// else FULFILLED.
func (f *fulfillment) displayStatus() string {
	if f.status == "CANCELLED" {
		return "CANCELED"
	}
	if e := f.latestEvent(); e != nil {
		return e.status
	}
	return "FULFILLED"
}

// eventTime returns the happenedAt of the first (earliest) event with
// status when first is true, else of the latest one.
func (f *fulfillment) eventTime(status string, first bool) *time.Time {
	var out *time.Time
	for _, e := range f.events {
		if e.status != status {
			continue
		}
		if out == nil || (first && e.happenedAt.Before(*out)) || (!first && !e.happenedAt.Before(*out)) {
			t := e.happenedAt
			out = &t
		}
	}
	return out
}

// estimatedDelivery is the estimatedDeliveryAt of the latest event that
// has one.
func (f *fulfillment) estimatedDelivery() *time.Time {
	var out *time.Time
	var at time.Time
	for _, e := range f.events {
		if e.estimatedDeliveryAt != nil && (out == nil || !e.happenedAt.Before(at)) {
			out, at = e.estimatedDeliveryAt, e.happenedAt
		}
	}
	return out
}

// parseDateTime parses a DateTime input (RFC 3339, or a bare date).
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func registerFulfillmentEvents() {
	m := func(fn func(x *execCtx, a map[string]any) (any, error)) resolverFunc {
		return func(x *execCtx, _ any, a map[string]any) (any, error) { return fn(x, a) }
	}
	register("Mutation", map[string]resolverFunc{
		"fulfillmentOrderReportProgress": m((*execCtx).foReportProgress),
		"fulfillmentEventCreate":         m((*execCtx).fulfillmentEventCreate),
	})
	register("QueryRoot", map[string]resolverFunc{
		"fulfillment": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if id, ok := idOf(a["id"], "Fulfillment"); ok {
				if f := x.st.fulfillments[id]; f != nil {
					return f, nil
				}
			}
			return nil, nil
		},
	})
	f := func(get func(f *fulfillment, a map[string]any) (any, error)) resolverFunc {
		return func(_ *execCtx, p any, a map[string]any) (any, error) { return get(p.(*fulfillment), a) }
	}
	register("Fulfillment", map[string]resolverFunc{
		"displayStatus": f(func(f *fulfillment, _ map[string]any) (any, error) { return f.displayStatus(), nil }),
		"inTransitAt": f(func(f *fulfillment, _ map[string]any) (any, error) {
			return dtp(f.eventTime("IN_TRANSIT", true)), nil
		}),
		"deliveredAt": f(func(f *fulfillment, _ map[string]any) (any, error) {
			return dtp(f.eventTime("DELIVERED", false)), nil
		}),
		"estimatedDeliveryAt": f(func(f *fulfillment, _ map[string]any) (any, error) { return dtp(f.estimatedDelivery()), nil }),
		"events": f(func(f *fulfillment, a map[string]any) (any, error) {
			if argStr(a, "sortKey") == "ID" {
				return paginate(byID(f.events, func(e *fulfillmentEvent) int64 { return e.id }), a)
			}
			items := make([]pageItem, len(f.events))
			for i, e := range f.events {
				items[i] = pageItem{v: e.happenedAt.UnixNano(), id: e.id, node: e}
			}
			slices.SortFunc(items, cmpItem)
			return paginate(items, a)
		}),
	})
	e := func(get func(e *fulfillmentEvent) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*fulfillmentEvent)), nil }
	}
	register("FulfillmentEvent", map[string]resolverFunc{
		"id":                  e(func(e *fulfillmentEvent) any { return gid("FulfillmentEvent", e.id) }),
		"status":              e(func(e *fulfillmentEvent) any { return e.status }),
		"happenedAt":          e(func(e *fulfillmentEvent) any { return dt(e.happenedAt) }),
		"createdAt":           e(func(e *fulfillmentEvent) any { return dt(e.createdAt) }),
		"message":             e(func(e *fulfillmentEvent) any { return nz(e.message) }),
		"address1":            e(func(e *fulfillmentEvent) any { return nz(e.address1) }),
		"city":                e(func(e *fulfillmentEvent) any { return nz(e.city) }),
		"province":            e(func(e *fulfillmentEvent) any { return nz(e.province) }),
		"country":             e(func(e *fulfillmentEvent) any { return nz(e.country) }),
		"zip":                 e(func(e *fulfillmentEvent) any { return nz(e.zip) }),
		"estimatedDeliveryAt": e(func(e *fulfillmentEvent) any { return dtp(e.estimatedDeliveryAt) }),
		"latitude":            e(func(e *fulfillmentEvent) any { return fp(e.latitude) }),
		"longitude":           e(func(e *fulfillmentEvent) any { return fp(e.longitude) }),
	})
}

// fp answers a nullable Float.
func fp(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// foReportProgress is fulfillmentOrderReportProgress: allowed on an OPEN
// or IN_PROGRESS fulfillment order whose request was ACCEPTED; it sets
// status IN_PROGRESS and records the report.
func (x *execCtx) foReportProgress(a map[string]any) (any, error) {
	fail := foFail("fulfillmentOrder")
	fo := x.st.foByGID(a["id"])
	if fo == nil {
		return fail(ue(path("id"), "FULFILLMENT_ORDER_NOT_FOUND", "Fulfillment order does not exist."))
	}
	if (fo.status != "OPEN" && fo.status != "IN_PROGRESS") || fo.requestStatus != "ACCEPTED" {
		return fail(ue(path("id"), "FULFILLMENT_ORDER_STATUS_INVALID",
			"Cannot report progress for a fulfillment order with status %s and request status %s.", fo.status, fo.requestStatus))
	}
	fo.status = "IN_PROGRESS"
	fo.progress = append(fo.progress, progressReport{notes: argStr(argMap(a, "progressReport"), "reasonNotes"), at: x.now})
	x.touch(fo.order, fo)
	return payload{"fulfillmentOrder": fo, "userErrors": []any{}}, nil
}

// fulfillmentEventCreate appends an event to a fulfillment.
func (x *execCtx) fulfillmentEventCreate(a map[string]any) (any, error) {
	fail := func(u ...*userError) (any, error) {
		return payload{"fulfillmentEvent": (*fulfillmentEvent)(nil), "userErrors": userErrs(u)}, nil
	}
	in := argMap(a, "fulfillmentEvent")
	id, _ := idOf(in["fulfillmentId"], "Fulfillment")
	f := x.st.fulfillments[id]
	if f == nil {
		return fail(ue(path("fulfillmentEvent", "fulfillmentId"), "", "Fulfillment does not exist."))
	}
	status := argStr(in, "status")
	if !fulfillmentEventStatuses[status] {
		return fail(ue(path("fulfillmentEvent", "status"), "", "Status %q is not a valid fulfillment event status.", status))
	}
	ev := &fulfillmentEvent{f: f, status: status, message: argStr(in, "message"), address1: argStr(in, "address1"),
		city: argStr(in, "city"), province: argStr(in, "province"), country: argStr(in, "country"), zip: argStr(in, "zip"),
		happenedAt: x.now, createdAt: x.now}
	var ues []*userError
	if s := argStr(in, "happenedAt"); s != "" {
		t, ok := parseDateTime(s)
		if !ok {
			ues = append(ues, ue(path("fulfillmentEvent", "happenedAt"), "", "happenedAt %q is not a valid date and time.", s))
		}
		ev.happenedAt = t
	}
	if s := argStr(in, "estimatedDeliveryAt"); s != "" {
		t, ok := parseDateTime(s)
		if !ok {
			ues = append(ues, ue(path("fulfillmentEvent", "estimatedDeliveryAt"), "", "estimatedDeliveryAt %q is not a valid date and time.", s))
		}
		ev.estimatedDeliveryAt = &t
	}
	for _, k := range []string{"latitude", "longitude"} {
		v, present := in[k]
		if !present || v == nil {
			continue
		}
		n, ok := toFloat(v)
		if !ok {
			ues = append(ues, ue(path("fulfillmentEvent", k), "", "%s is not a number.", k))
			continue
		}
		if k == "latitude" {
			ev.latitude = &n
		} else {
			ev.longitude = &n
		}
	}
	if len(ues) > 0 {
		return fail(ues...)
	}
	ev.id = x.st.newID()
	f.events = append(f.events, ev)
	f.updatedAt = x.now
	x.touch(f.order)
	x.emit("fulfillment_events/create", func() any { return x.fulfillmentEventPayload(ev) })
	return payload{"fulfillmentEvent": ev, "userErrors": []any{}}, nil
}

// toFloat converts a coerced Float input.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	if i, ok := toInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// fulfillmentEventPayload is the REST-style fulfillment_events/create body.
func (x *execCtx) fulfillmentEventPayload(e *fulfillmentEvent) map[string]any {
	return map[string]any{
		"id":                    e.id,
		"fulfillment_id":        e.f.id,
		"order_id":              e.f.order.id,
		"shop_id":               x.st.shopID,
		"status":                strings.ToLower(e.status),
		"message":               nz(e.message),
		"happened_at":           restTime(e.happenedAt),
		"created_at":            restTime(e.createdAt),
		"updated_at":            restTime(e.createdAt),
		"address1":              nz(e.address1),
		"city":                  nz(e.city),
		"province":              nz(e.province),
		"country":               nz(e.country),
		"zip":                   nz(e.zip),
		"latitude":              fp(e.latitude),
		"longitude":             fp(e.longitude),
		"estimated_delivery_at": restTimePtr(e.estimatedDeliveryAt),
		"admin_graphql_api_id":  gid("FulfillmentEvent", e.id),
	}
}
