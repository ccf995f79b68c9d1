package shopifysim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// registry maps GraphQL type → field → resolver.
var registry = map[string]map[string]resolverFunc{}

func register(typ string, fields map[string]resolverFunc) {
	m := registry[typ]
	if m == nil {
		m = map[string]resolverFunc{}
		registry[typ] = m
	}
	for k, v := range fields {
		m[k] = v
	}
}

func lookupResolver(typ, field string) resolverFunc {
	if m := registry[typ]; m != nil {
		if r := m[field]; r != nil {
			return r
		}
	}
	switch {
	case strings.HasSuffix(typ, "Connection"):
		return connectionResolvers[field]
	case strings.HasSuffix(typ, "Edge"):
		return edgeResolvers[field]
	case strings.HasSuffix(typ, "Payload"):
		return func(x *execCtx, p any, _ map[string]any) (any, error) {
			pl, _ := p.(payload)
			v, ok := pl[field]
			if !ok {
				return nil, errf("NOT_IMPLEMENTED", "%s.%s is not implemented by the crossdock Shopify simulator", typ, field)
			}
			return v, nil
		}
	case strings.HasSuffix(typ, "UserError"):
		return userErrorResolvers[field]
	}
	return nil
}

// payload is a mutation payload keyed by field name.
type payload map[string]any

// userError is any of Shopify's UserError types.
type userError struct {
	field   []string
	message string
	code    string
}

var userErrorResolvers = map[string]resolverFunc{
	"field": func(_ *execCtx, p any, _ map[string]any) (any, error) {
		ue := p.(*userError)
		if ue.field == nil {
			return nil, nil
		}
		out := make([]any, len(ue.field))
		for i, f := range ue.field {
			out[i] = f
		}
		return out, nil
	},
	"message": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*userError).message, nil },
	"code":    func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*userError).code), nil },
}

func userErrs(ues []*userError) []any {
	out := make([]any, len(ues))
	for i, u := range ues {
		out[i] = u
	}
	return out
}

// ---- value helpers ----

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func dt(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func dtp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return dt(*t)
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<62 {
			return int64(n), true
		}
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), true
		}
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

func argInt(args map[string]any, name string) (int, bool) {
	n, ok := toInt64(args[name])
	return int(n), ok
}

func argStr(args map[string]any, name string) string {
	switch v := args[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func argBool(args map[string]any, name string) bool {
	b, _ := args[name].(bool)
	return b
}

func argMap(args map[string]any, name string) map[string]any {
	m, _ := args[name].(map[string]any)
	return m
}

func argList(args map[string]any, name string) []any {
	switch v := args[name].(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

func strList(v []any) []string {
	out := make([]string, 0, len(v))
	for _, e := range v {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func toAnyList[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// ---- connections ----

// pageItem is one candidate node with its sort key (value, id).
type pageItem struct {
	v, id int64
	node  any
}

type connection struct {
	nodes   []any
	cursors []string
	info    *pageInfo
}

type edge struct {
	cursor string
	node   any
}

type pageInfo struct {
	hasNext, hasPrev bool
	start, end       string
}

type cursorKey struct {
	LastID    int64 `json:"last_id"`
	LastValue int64 `json:"last_value"`
}

func encodeCursor(it pageItem) string {
	b, _ := json.Marshal(cursorKey{LastID: it.id, LastValue: it.v})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (pageItem, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return pageItem{}, false
		}
	}
	var k cursorKey
	if json.Unmarshal(b, &k) != nil {
		return pageItem{}, false
	}
	return pageItem{v: k.LastValue, id: k.LastID}, true
}

func cmpItem(a, b pageItem) int {
	switch {
	case a.v < b.v:
		return -1
	case a.v > b.v:
		return 1
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// paginate applies first/after/last/before/reverse to items, which must
// be sorted ascending by (v, id).
func paginate(items []pageItem, args map[string]any) (*connection, error) {
	if args[bulkAllArg] == true { // a bulk query reads every item
		return bulkConnection(items, argBool(args, "reverse")), nil
	}
	first, hasFirst := argInt(args, "first")
	last, hasLast := argInt(args, "last")
	if !hasFirst && !hasLast {
		return nil, errf("", "you must provide one of first or last")
	}
	if (hasFirst && first < 0) || (hasLast && last < 0) {
		return nil, errf("", "first and last must be non-negative")
	}
	if (hasFirst && first > 250) || (hasLast && last > 250) {
		return nil, errf("", "first and last cannot be greater than 250")
	}
	reverse := argBool(args, "reverse")
	if reverse {
		items = slices.Clone(items)
		slices.Reverse(items)
	}
	dir := 1
	if reverse {
		dir = -1
	}
	lo, hi := 0, len(items)
	if a := argStr(args, "after"); a != "" {
		c, ok := decodeCursor(a)
		if !ok {
			return nil, errf("", "Invalid cursor for current pagination sort.")
		}
		lo = len(items)
		for i, it := range items {
			if cmpItem(it, c)*dir > 0 {
				lo = i
				break
			}
		}
	}
	if b := argStr(args, "before"); b != "" {
		c, ok := decodeCursor(b)
		if !ok {
			return nil, errf("", "Invalid cursor for current pagination sort.")
		}
		hi = lo
		for i := lo; i < len(items); i++ {
			if cmpItem(items[i], c)*dir >= 0 {
				break
			}
			hi = i + 1
		}
	}
	if hasFirst && hi-lo > first {
		hi = lo + first
	}
	if hasLast && hi-lo > last {
		lo = hi - last
	}
	win := items[lo:hi]
	c := &connection{nodes: make([]any, len(win)), cursors: make([]string, len(win)), info: &pageInfo{hasPrev: lo > 0, hasNext: hi < len(items)}}
	for i, it := range win {
		c.nodes[i] = it.node
		c.cursors[i] = encodeCursor(it)
	}
	if len(win) > 0 {
		c.info.start, c.info.end = c.cursors[0], c.cursors[len(win)-1]
	}
	return c, nil
}

func byID[T any](list []T, id func(T) int64) []pageItem {
	out := make([]pageItem, len(list))
	for i, v := range list {
		n := id(v)
		out[i] = pageItem{v: n, id: n, node: v}
	}
	return out
}

var connectionResolvers = map[string]resolverFunc{
	"nodes": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*connection).nodes, nil },
	"edges": func(_ *execCtx, p any, _ map[string]any) (any, error) {
		c := p.(*connection)
		out := make([]any, len(c.nodes))
		for i := range c.nodes {
			out[i] = &edge{cursor: c.cursors[i], node: c.nodes[i]}
		}
		return out, nil
	},
	"pageInfo": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*connection).info, nil },
}

var edgeResolvers = map[string]resolverFunc{
	"cursor": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*edge).cursor, nil },
	"node":   func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*edge).node, nil },
}

// ---- small value types ----

type money struct{ amount, currency string }

type mailAddr struct {
	id int64
	a  *address
}

type assignedLoc struct{ loc *location }

type foDest struct{ fo *fulfillmentOrder }

type invQuantity struct {
	lvl  *invLevel
	name string
}

type apiVersion struct{}

func (x *execCtx) currency() string { return "USD" }

func moneyBag(amount, currency string) map[string]any {
	m := &money{amount: amount, currency: currency}
	return map[string]any{"shopMoney": m, "presentmentMoney": m}
}

func init() {
	register("MoneyBag", map[string]resolverFunc{
		"shopMoney": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(map[string]any)["shopMoney"], nil },
		"presentmentMoney": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(map[string]any)["presentmentMoney"], nil
		},
	})
	register("MoneyV2", map[string]resolverFunc{
		"amount":       func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*money).amount, nil },
		"currencyCode": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*money).currency, nil },
	})
	register("PageInfo", map[string]resolverFunc{
		"hasNextPage":     func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*pageInfo).hasNext, nil },
		"hasPreviousPage": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*pageInfo).hasPrev, nil },
		"startCursor":     func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*pageInfo).start), nil },
		"endCursor":       func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*pageInfo).end), nil },
	})
	register("ApiVersion", map[string]resolverFunc{
		"handle":      func(*execCtx, any, map[string]any) (any, error) { return APIVersion, nil },
		"displayName": func(*execCtx, any, map[string]any) (any, error) { return APIVersion + " (Latest)", nil },
		"supported":   func(*execCtx, any, map[string]any) (any, error) { return true, nil },
	})
	registerQueryRoot()
	registerShop()
	registerOrder()
	registerFulfillmentOrder()
	registerFulfillment()
	registerInventory()
	registerCatalog()
	registerWebhookSubscription()
	registerMutations()
	registerBulk()
	registerFulfillmentEvents()
}

func registerQueryRoot() {
	register("QueryRoot", map[string]resolverFunc{
		"shop": func(*execCtx, any, map[string]any) (any, error) { return shopValue{}, nil },
		"order": func(x *execCtx, _ any, a map[string]any) (any, error) {
			return x.st.orderByGID(a["id"]), nil
		},
		"orders": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.ordersConnection(a) },
		"fulfillmentOrder": func(x *execCtx, _ any, a map[string]any) (any, error) {
			return x.st.foByGID(a["id"]), nil
		},
		"fulfillmentOrders": func(x *execCtx, _ any, a map[string]any) (any, error) {
			includeClosed := argBool(a, "includeClosed")
			var items []pageItem
			for _, o := range x.st.orders {
				for _, fo := range o.fos {
					if !includeClosed && (fo.status == "CLOSED" || fo.status == "CANCELLED") {
						continue
					}
					items = append(items, foItem(fo, a))
				}
			}
			sortItems(items)
			return paginate(items, a)
		},
		"assignedFulfillmentOrders": func(x *execCtx, _ any, a map[string]any) (any, error) {
			var locs map[int64]bool
			if ids := argList(a, "locationIds"); ids != nil {
				locs = map[int64]bool{}
				for _, id := range ids {
					if n, ok := idOf(id, "Location"); ok {
						locs[n] = true
					}
				}
			}
			want := argStr(a, "assignmentStatus")
			var items []pageItem
			for _, o := range x.st.orders {
				for _, fo := range o.fos {
					if fo.loc.service == nil || (locs != nil && !locs[fo.loc.id]) {
						continue
					}
					if !assignmentMatches(fo, want) {
						continue
					}
					items = append(items, foItem(fo, a))
				}
			}
			sortItems(items)
			return paginate(items, a)
		},
		"location": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if a["id"] == nil {
				return x.st.locations[0], nil
			}
			return x.st.locByGID(a["id"]), nil
		},
		"locations": func(x *execCtx, _ any, a map[string]any) (any, error) {
			var locs []*location
			for _, l := range x.st.locations {
				if l.active || argBool(a, "includeInactive") {
					locs = append(locs, l)
				}
			}
			items := byID(locs, func(l *location) int64 { return l.id })
			if argStr(a, "sortKey") == "NAME" {
				slices.SortStableFunc(items, func(p, q pageItem) int {
					return strings.Compare(p.node.(*location).name, q.node.(*location).name)
				})
				for i := range items {
					items[i].v = int64(i)
				}
			}
			return paginate(items, a)
		},
		"productVariant": func(x *execCtx, _ any, a map[string]any) (any, error) {
			return x.st.variantByGID(a["id"]), nil
		},
		"productVariants": func(x *execCtx, _ any, a map[string]any) (any, error) {
			f, err := parseSearch(argStr(a, "query"))
			if err != nil {
				return nil, err
			}
			var vs []*variant
			for _, v := range x.st.variants {
				if f.matchVariant(v) {
					vs = append(vs, v)
				}
			}
			return paginate(byID(vs, func(v *variant) int64 { return v.id }), a)
		},
		"product": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if id, ok := idOf(a["id"], "Product"); ok {
				return x.st.productByID[id], nil
			}
			return nil, nil
		},
		"products": func(x *execCtx, _ any, a map[string]any) (any, error) {
			return paginate(byID(x.st.products, func(p *product) int64 { return p.id }), a)
		},
		"inventoryItem": func(x *execCtx, _ any, a map[string]any) (any, error) {
			return x.st.itemByGID(a["id"]), nil
		},
		"inventoryLevel": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if lv, ok := x.st.node(a["id"]).(*invLevel); ok {
				return lv, nil
			}
			return nil, nil
		},
		"fulfillmentService": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if id, ok := idOf(a["id"], "FulfillmentService"); ok {
				return x.st.services[id], nil
			}
			return nil, nil
		},
		"webhookSubscription": func(x *execCtx, _ any, a map[string]any) (any, error) {
			if s, ok := x.st.node(a["id"]).(*subscription); ok {
				return s, nil
			}
			return nil, nil
		},
		"webhookSubscriptions": func(x *execCtx, _ any, a map[string]any) (any, error) {
			topics := map[string]bool{}
			for _, t := range strList(argList(a, "topics")) {
				topics[t] = true
			}
			uri := argStr(a, "callbackUrl")
			var subs []*subscription
			for _, s := range x.st.subs {
				if len(topics) > 0 && !topics[s.topic] {
					continue
				}
				if uri != "" && s.uri != uri {
					continue
				}
				subs = append(subs, s)
			}
			return paginate(byID(subs, func(s *subscription) int64 { return s.id }), a)
		},
		"node": func(x *execCtx, _ any, a map[string]any) (any, error) { return x.st.node(a["id"]), nil },
		"nodes": func(x *execCtx, _ any, a map[string]any) (any, error) {
			ids := argList(a, "ids")
			out := make([]any, len(ids))
			for i, id := range ids {
				out[i] = x.st.node(id)
			}
			return out, nil
		},
	})
}

func foItem(fo *fulfillmentOrder, a map[string]any) pageItem {
	if argStr(a, "sortKey") == "UPDATED_AT" {
		return pageItem{v: fo.updatedAt.UnixNano(), id: fo.id, node: fo}
	}
	return pageItem{v: fo.id, id: fo.id, node: fo}
}

func sortItems(items []pageItem) { slices.SortFunc(items, cmpItem) }

func assignmentMatches(fo *fulfillmentOrder, want string) bool {
	switch want {
	case "":
		return fo.status != "CLOSED" && fo.status != "CANCELLED"
	case "FULFILLMENT_REQUESTED":
		return fo.requestStatus == "SUBMITTED"
	case "FULFILLMENT_ACCEPTED":
		return fo.requestStatus == "ACCEPTED" && fo.status == "IN_PROGRESS"
	case "CANCELLATION_REQUESTED":
		return fo.requestStatus == "CANCELLATION_REQUESTED"
	case "FULFILLMENT_UNSUBMITTED":
		return fo.requestStatus == "UNSUBMITTED" && fo.status == "OPEN"
	}
	return false
}

func registerShop() {
	register("Shop", map[string]resolverFunc{
		"id":              func(x *execCtx, _ any, _ map[string]any) (any, error) { return gid("Shop", x.st.shopID), nil },
		"name":            func(x *execCtx, _ any, _ map[string]any) (any, error) { return x.st.shopName, nil },
		"myshopifyDomain": func(x *execCtx, _ any, _ map[string]any) (any, error) { return x.s.cfg.ShopDomain, nil },
		"url":             func(x *execCtx, _ any, _ map[string]any) (any, error) { return "https://" + x.s.cfg.ShopDomain, nil },
		"email":           func(x *execCtx, _ any, _ map[string]any) (any, error) { return "owner@" + x.s.cfg.ShopDomain, nil },
		"contactEmail":    func(x *execCtx, _ any, _ map[string]any) (any, error) { return "owner@" + x.s.cfg.ShopDomain, nil },
		"currencyCode":    func(x *execCtx, _ any, _ map[string]any) (any, error) { return x.currency(), nil },
		"ianaTimezone":    func(*execCtx, any, map[string]any) (any, error) { return "Etc/UTC", nil },
		"timezoneAbbreviation": func(*execCtx, any, map[string]any) (any, error) {
			return "UTC", nil
		},
		"timezoneOffset":        func(*execCtx, any, map[string]any) (any, error) { return "+0000", nil },
		"timezoneOffsetMinutes": func(*execCtx, any, map[string]any) (any, error) { return 0, nil },
		"weightUnit":            func(*execCtx, any, map[string]any) (any, error) { return "KILOGRAMS", nil },
		"taxesIncluded":         func(*execCtx, any, map[string]any) (any, error) { return false, nil },
		"createdAt":             func(x *execCtx, _ any, _ map[string]any) (any, error) { return dt(x.st.createdAt), nil },
		"updatedAt":             func(x *execCtx, _ any, _ map[string]any) (any, error) { return dt(x.st.createdAt), nil },
		"fulfillmentServices": func(x *execCtx, _ any, _ map[string]any) (any, error) {
			var out []any
			for _, l := range x.st.locations {
				if l.service != nil {
					out = append(out, l.service)
				}
			}
			return out, nil
		},
	})
}

func addrFields() map[string]resolverFunc {
	f := func(get func(a *address) string) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(get(p.(*mailAddr).a)), nil }
	}
	return map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return fmt.Sprintf("gid://shopify/MailingAddress/%d?model_name=Address", p.(*mailAddr).id), nil
		},
		"name":         f(func(a *address) string { return a.name() }),
		"firstName":    f(func(a *address) string { return a.firstName }),
		"lastName":     f(func(a *address) string { return a.lastName }),
		"company":      f(func(a *address) string { return a.company }),
		"address1":     f(func(a *address) string { return a.address1 }),
		"address2":     f(func(a *address) string { return a.address2 }),
		"city":         f(func(a *address) string { return a.city }),
		"province":     f(func(a *address) string { return a.province }),
		"provinceCode": f(func(a *address) string { return a.provinceCode }),
		"zip":          f(func(a *address) string { return a.zip }),
		"country":      f(func(a *address) string { return a.country }),
		"countryCodeV2": f(func(a *address) string {
			return a.countryCode
		}),
		"phone":                f(func(a *address) string { return a.phone }),
		"coordinatesValidated": func(*execCtx, any, map[string]any) (any, error) { return false, nil },
		"formattedArea": f(func(a *address) string {
			return strings.Trim(strings.Join([]string{a.city, a.provinceCode, a.country}, ", "), ", ")
		}),
	}
}

// fulfillmentStatus computes Order.displayFulfillmentStatus.
func (o *order) fulfillmentStatus() string {
	total, done := 0, 0
	for _, li := range o.lines {
		total += li.quantity
		done += li.fulfilled
	}
	switch {
	case total > 0 && done >= total:
		return "FULFILLED"
	case done > 0:
		return "PARTIALLY_FULFILLED"
	}
	return "UNFULFILLED"
}

func (o *order) totals() (subtotal, total int64) {
	for _, li := range o.lines {
		subtotal += cents(li.price) * int64(li.quantity)
	}
	total = subtotal
	if o.shippingLine != nil {
		total += cents(o.shippingLine.amount)
	}
	return subtotal, total
}

func registerOrder() {
	o := func(get func(x *execCtx, o *order, a map[string]any) (any, error)) resolverFunc {
		return func(x *execCtx, p any, a map[string]any) (any, error) { return get(x, p.(*order), a) }
	}
	register("Order", map[string]resolverFunc{
		"id":               o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return gid("Order", o.id), nil }),
		"legacyResourceId": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return strconv.FormatInt(o.id, 10), nil }),
		"name":             o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return o.name, nil }),
		"number":           o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return o.number - 1000, nil }),
		"email":            o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return nz(o.email), nil }),
		"phone":            o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return nz(o.phone), nil }),
		"note":             o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return nz(o.note), nil }),
		"tags":             o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return toAnyList(o.tags), nil }),
		"test":             o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return o.test, nil }),
		"confirmed":        o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return true, nil }),
		"sourceName":       o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return nz(o.sourceName), nil }),
		"currencyCode":     o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return o.currency, nil }),
		"createdAt":        o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return dt(o.createdAt), nil }),
		"updatedAt":        o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return dt(o.updatedAt), nil }),
		"processedAt":      o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return dt(o.processedAt), nil }),
		"cancelledAt":      o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return dtp(o.cancelledAt), nil }),
		"closedAt":         o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return dtp(o.closedAt), nil }),
		"closed":           o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return o.closedAt != nil, nil }),
		"displayFulfillmentStatus": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			return o.fulfillmentStatus(), nil
		}),
		"displayFinancialStatus": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			return strings.ToUpper(o.financialStatus), nil
		}),
		"fulfillable": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			if o.cancelledAt != nil {
				return false, nil
			}
			for _, fo := range o.fos {
				if fo.remaining() > 0 && fo.status != "CLOSED" && fo.status != "CANCELLED" {
					return true, nil
				}
			}
			return false, nil
		}),
		"requiresShipping": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) { return true, nil }),
		"shippingAddress": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			if o.shipping == nil {
				return nil, nil
			}
			return &mailAddr{id: o.id, a: o.shipping}, nil
		}),
		"billingAddress": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			if o.billing == nil {
				return nil, nil
			}
			return &mailAddr{id: o.id + 1, a: o.billing}, nil
		}),
		"shippingLine": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			if o.shippingLine == nil {
				return nil, nil
			}
			return o.shippingLine, nil
		}),
		"shippingLines": o(func(_ *execCtx, o *order, a map[string]any) (any, error) {
			var sl []*shippingLine
			if o.shippingLine != nil {
				sl = append(sl, o.shippingLine)
			}
			return paginate(byID(sl, func(s *shippingLine) int64 { return s.id }), a)
		}),
		"lineItems": o(func(_ *execCtx, o *order, a map[string]any) (any, error) {
			return paginate(byID(o.lines, func(l *lineItem) int64 { return l.id }), a)
		}),
		"fulfillmentOrders": o(func(_ *execCtx, o *order, a map[string]any) (any, error) {
			f, err := parseSearch(argStr(a, "query"))
			if err != nil {
				return nil, err
			}
			var fos []*fulfillmentOrder
			for _, fo := range o.fos {
				if argBool(a, "displayable") && (fo.status == "CLOSED" || fo.status == "CANCELLED") {
					continue
				}
				if f.matchFO(fo) {
					fos = append(fos, fo)
				}
			}
			return paginate(byID(fos, func(fo *fulfillmentOrder) int64 { return fo.id }), a)
		}),
		"fulfillments": o(func(_ *execCtx, o *order, a map[string]any) (any, error) {
			fs := o.fulfillments
			if n, ok := argInt(a, "first"); ok && n >= 0 && n < len(fs) {
				fs = fs[:n]
			}
			return toAnyList(fs), nil
		}),
		"subtotalLineItemsQuantity": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			n := 0
			for _, li := range o.lines {
				n += li.quantity
			}
			return n, nil
		}),
		"totalPriceSet": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			_, t := o.totals()
			return moneyBag(formatCents(t), o.currency), nil
		}),
		"currentTotalPriceSet": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			_, t := o.totals()
			return moneyBag(formatCents(t), o.currency), nil
		}),
		"subtotalPriceSet": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			s, _ := o.totals()
			return moneyBag(formatCents(s), o.currency), nil
		}),
		"totalShippingPriceSet": o(func(_ *execCtx, o *order, _ map[string]any) (any, error) {
			amt := "0.00"
			if o.shippingLine != nil {
				amt = formatCents(cents(o.shippingLine.amount))
			}
			return moneyBag(amt, o.currency), nil
		}),
	})
	register("MailingAddress", addrFields())
	register("ShippingLine", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("ShippingLine", p.(*shippingLine).id), nil
		},
		"title":  func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*shippingLine).title, nil },
		"code":   func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*shippingLine).code), nil },
		"source": func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*shippingLine).source), nil },
		"custom": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"isRemoved": func(*execCtx, any, map[string]any) (any, error) {
			return false, nil
		},
		"carrierIdentifier": func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"originalPriceSet": func(x *execCtx, p any, _ map[string]any) (any, error) {
			return moneyBag(formatCents(cents(p.(*shippingLine).amount)), x.currency()), nil
		},
		"discountedPriceSet": func(x *execCtx, p any, _ map[string]any) (any, error) {
			return moneyBag(formatCents(cents(p.(*shippingLine).amount)), x.currency()), nil
		},
	})
	li := func(get func(li *lineItem) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*lineItem)), nil }
	}
	register("LineItem", map[string]resolverFunc{
		"id":                  li(func(l *lineItem) any { return gid("LineItem", l.id) }),
		"sku":                 li(func(l *lineItem) any { return nz(l.sku) }),
		"name":                li(func(l *lineItem) any { return l.name() }),
		"title":               li(func(l *lineItem) any { return l.title }),
		"variantTitle":        li(func(l *lineItem) any { return nz(l.variantTitle) }),
		"vendor":              li(func(l *lineItem) any { return nz(l.vendor) }),
		"quantity":            li(func(l *lineItem) any { return l.quantity }),
		"currentQuantity":     li(func(l *lineItem) any { return l.quantity }),
		"unfulfilledQuantity": li(func(l *lineItem) any { return l.quantity - l.fulfilled }),
		"requiresShipping":    li(func(l *lineItem) any { return l.requiresShipping }),
		"isGiftCard":          li(func(l *lineItem) any { return false }),
		"taxable":             li(func(l *lineItem) any { return true }),
		"variant": li(func(l *lineItem) any {
			if l.variant == nil {
				return nil
			}
			return l.variant
		}),
		"product": li(func(l *lineItem) any {
			if l.variant == nil {
				return nil
			}
			return l.variant.product
		}),
		"originalUnitPriceSet": func(x *execCtx, p any, _ map[string]any) (any, error) {
			return moneyBag(formatCents(cents(p.(*lineItem).price)), x.currency()), nil
		},
		"originalTotalSet": func(x *execCtx, p any, _ map[string]any) (any, error) {
			l := p.(*lineItem)
			return moneyBag(formatCents(cents(l.price)*int64(l.quantity)), x.currency()), nil
		},
	})
}

func registerFulfillmentOrder() {
	f := func(get func(x *execCtx, fo *fulfillmentOrder, a map[string]any) (any, error)) resolverFunc {
		return func(x *execCtx, p any, a map[string]any) (any, error) { return get(x, p.(*fulfillmentOrder), a) }
	}
	register("FulfillmentOrder", map[string]resolverFunc{
		"id": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			return gid("FulfillmentOrder", fo.id), nil
		}),
		"status":        f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return fo.status, nil }),
		"requestStatus": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return fo.requestStatus, nil }),
		"createdAt":     f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return dt(fo.createdAt), nil }),
		"updatedAt":     f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return dt(fo.updatedAt), nil }),
		"order":         f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return fo.order, nil }),
		"orderId": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			return gid("Order", fo.order.id), nil
		}),
		"orderName": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) { return fo.order.name, nil }),
		"orderProcessedAt": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			return dt(fo.order.processedAt), nil
		}),
		"fulfillAt": f(func(*execCtx, *fulfillmentOrder, map[string]any) (any, error) { return nil, nil }),
		"fulfillBy": f(func(*execCtx, *fulfillmentOrder, map[string]any) (any, error) { return nil, nil }),
		"assignedLocation": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			return &assignedLoc{loc: fo.loc}, nil
		}),
		"destination": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			if fo.order.shipping == nil {
				return nil, nil
			}
			return &foDest{fo: fo}, nil
		}),
		"lineItems": f(func(_ *execCtx, fo *fulfillmentOrder, a map[string]any) (any, error) {
			return paginate(byID(fo.lines, func(l *foLine) int64 { return l.id }), a)
		}),
		"fulfillmentHolds": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			return toAnyList(fo.holds), nil
		}),
		"merchantRequests": f(func(_ *execCtx, fo *fulfillmentOrder, a map[string]any) (any, error) {
			kind := argStr(a, "kind")
			var rs []*merchantRequest
			for _, r := range fo.requests {
				if kind == "" || r.kind == kind {
					rs = append(rs, r)
				}
			}
			return paginate(byID(rs, func(r *merchantRequest) int64 { return r.id }), a)
		}),
		"fulfillments": f(func(x *execCtx, fo *fulfillmentOrder, a map[string]any) (any, error) {
			var fs []*fulfillment
			for _, ff := range fo.order.fulfillments {
				if slices.Contains(ff.fos, fo) {
					fs = append(fs, ff)
				}
			}
			return paginate(byID(fs, func(f *fulfillment) int64 { return f.id }), a)
		}),
		"supportedActions": f(func(_ *execCtx, fo *fulfillmentOrder, _ map[string]any) (any, error) {
			var acts []any
			for _, a := range supportedActions(fo) {
				acts = append(acts, map[string]any{"action": a})
			}
			return acts, nil
		}),
	})
	register("FulfillmentOrderSupportedAction", map[string]resolverFunc{
		"action":      func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(map[string]any)["action"], nil },
		"externalUrl": func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
	})
	register("FulfillmentOrderAssignedLocation", map[string]resolverFunc{
		"name":        func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*assignedLoc).loc.name, nil },
		"location":    func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*assignedLoc).loc, nil },
		"countryCode": func(*execCtx, any, map[string]any) (any, error) { return "US", nil },
		"address1":    func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"address2":    func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"city":        func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"province":    func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"zip":         func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"phone":       func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
	})
	d := func(get func(a *address) string) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nz(get(p.(*foDest).fo.order.shipping)), nil
		}
	}
	register("FulfillmentOrderDestination", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("FulfillmentOrderDestination", p.(*foDest).fo.id), nil
		},
		"firstName":   d(func(a *address) string { return a.firstName }),
		"lastName":    d(func(a *address) string { return a.lastName }),
		"company":     d(func(a *address) string { return a.company }),
		"address1":    d(func(a *address) string { return a.address1 }),
		"address2":    d(func(a *address) string { return a.address2 }),
		"city":        d(func(a *address) string { return a.city }),
		"province":    d(func(a *address) string { return a.province }),
		"countryCode": d(func(a *address) string { return a.countryCode }),
		"zip":         d(func(a *address) string { return a.zip }),
		"phone":       d(func(a *address) string { return a.phone }),
		"email": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nz(p.(*foDest).fo.order.email), nil
		},
		"location": func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
	})
	l := func(get func(l *foLine) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*foLine)), nil }
	}
	register("FulfillmentOrderLineItem", map[string]resolverFunc{
		"id":                l(func(l *foLine) any { return gid("FulfillmentOrderLineItem", l.id) }),
		"sku":               l(func(l *foLine) any { return nz(l.li.sku) }),
		"totalQuantity":     l(func(l *foLine) any { return l.total }),
		"remainingQuantity": l(func(l *foLine) any { return l.remaining }),
		"productTitle":      l(func(l *foLine) any { return l.li.title }),
		"variantTitle":      l(func(l *foLine) any { return nz(l.li.variantTitle) }),
		"vendor":            l(func(l *foLine) any { return nz(l.li.vendor) }),
		"requiresShipping":  l(func(l *foLine) any { return l.li.requiresShipping }),
		"lineItem":          l(func(l *foLine) any { return l.li }),
		"warnings":          l(func(*foLine) any { return []any{} }),
		"inventoryItemId": l(func(l *foLine) any {
			if l.li.variant == nil {
				return nil
			}
			return gid("InventoryItem", l.li.variant.item.id)
		}),
		"variant": l(func(l *foLine) any {
			if l.li.variant == nil {
				return nil
			}
			return l.li.variant
		}),
	})
	register("FulfillmentHold", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("FulfillmentHold", p.(*hold).id), nil
		},
		"reason":              func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*hold).reason, nil },
		"reasonNotes":         func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*hold).notes), nil },
		"handle":              func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*hold).handle), nil },
		"heldByRequestingApp": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"heldByApp":           func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"displayReason": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			s := strings.ToLower(strings.ReplaceAll(p.(*hold).reason, "_", " "))
			return strings.ToUpper(s[:1]) + s[1:], nil
		},
	})
	register("FulfillmentOrderMerchantRequest", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("FulfillmentOrderMerchantRequest", p.(*merchantRequest).id), nil
		},
		"kind":             func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*merchantRequest).kind, nil },
		"message":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*merchantRequest).message), nil },
		"requestOptions":   func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*merchantRequest).options, nil },
		"responseData":     func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"sentAt":           func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*merchantRequest).sentAt), nil },
		"fulfillmentOrder": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*merchantRequest).fo, nil },
	})
}

func supportedActions(fo *fulfillmentOrder) []string {
	switch fo.status {
	case "CLOSED", "CANCELLED", "INCOMPLETE":
		return nil
	case "ON_HOLD":
		return []string{"RELEASE_HOLD", "HOLD"}
	}
	fs := fo.loc.service != nil
	switch fo.requestStatus {
	case "SUBMITTED":
		return []string{"CANCEL_FULFILLMENT_ORDER", "REQUEST_CANCELLATION"}
	case "ACCEPTED":
		return []string{"CREATE_FULFILLMENT", "REQUEST_CANCELLATION"}
	}
	if fs {
		return []string{"REQUEST_FULFILLMENT", "MOVE", "HOLD", "SPLIT"}
	}
	return []string{"CREATE_FULFILLMENT", "MOVE", "HOLD", "SPLIT"}
}

func registerFulfillment() {
	f := func(get func(x *execCtx, f *fulfillment, a map[string]any) (any, error)) resolverFunc {
		return func(x *execCtx, p any, a map[string]any) (any, error) { return get(x, p.(*fulfillment), a) }
	}
	register("Fulfillment", map[string]resolverFunc{
		"id": f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return gid("Fulfillment", f.id), nil }),
		"legacyResourceId": f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) {
			return strconv.FormatInt(f.id, 10), nil
		}),
		"name":             f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return f.name, nil }),
		"status":           f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return f.status, nil }),
		"createdAt":        f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return dt(f.createdAt), nil }),
		"updatedAt":        f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return dt(f.updatedAt), nil }),
		"requiresShipping": f(func(*execCtx, *fulfillment, map[string]any) (any, error) { return true, nil }),
		"order":            f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return f.order, nil }),
		"location":         f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) { return f.loc, nil }),
		"service": f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) {
			if f.loc == nil || f.loc.service == nil {
				return nil, nil
			}
			return f.loc.service, nil
		}),
		"totalQuantity": f(func(_ *execCtx, f *fulfillment, _ map[string]any) (any, error) {
			n := 0
			for _, l := range f.lines {
				n += l.quantity
			}
			return n, nil
		}),
		"trackingInfo": f(func(_ *execCtx, f *fulfillment, a map[string]any) (any, error) {
			out := make([]any, 0, len(f.tracking))
			for i := range f.tracking {
				out = append(out, &f.tracking[i])
			}
			if n, ok := argInt(a, "first"); ok && n >= 0 && n < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"fulfillmentLineItems": f(func(_ *execCtx, f *fulfillment, a map[string]any) (any, error) {
			return paginate(byID(f.lines, func(l *fulfillmentLine) int64 { return l.id }), a)
		}),
		"fulfillmentOrders": f(func(_ *execCtx, f *fulfillment, a map[string]any) (any, error) {
			return paginate(byID(f.fos, func(fo *fulfillmentOrder) int64 { return fo.id }), a)
		}),
	})
	register("FulfillmentTrackingInfo", map[string]resolverFunc{
		"company": func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*tracking).company), nil },
		"number":  func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*tracking).number), nil },
		"url":     func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*tracking).url), nil },
	})
	register("FulfillmentLineItem", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("FulfillmentLineItem", p.(*fulfillmentLine).id), nil
		},
		"quantity": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*fulfillmentLine).quantity, nil },
		"lineItem": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*fulfillmentLine).li, nil },
	})
}

func registerInventory() {
	register("Location", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) { return gid("Location", p.(*location).id), nil },
		"legacyResourceId": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return strconv.FormatInt(p.(*location).id, 10), nil
		},
		"name":                 func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*location).name, nil },
		"isActive":             func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*location).active, nil },
		"isFulfillmentService": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*location).service != nil, nil },
		"isPrimary": func(x *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*location) == x.st.locations[0], nil
		},
		"fulfillsOnlineOrders": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"shipsInventory":       func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"hasActiveInventory":   func(_ *execCtx, p any, _ map[string]any) (any, error) { return len(p.(*location).levels) > 0, nil },
		"activatable":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return !p.(*location).active, nil },
		"deactivatable":        func(_ *execCtx, p any, _ map[string]any) (any, error) { return false, nil },
		"deletable":            func(*execCtx, any, map[string]any) (any, error) { return false, nil },
		"addressVerified":      func(*execCtx, any, map[string]any) (any, error) { return false, nil },
		"createdAt":            func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*location).createdAt), nil },
		"updatedAt":            func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*location).updatedAt), nil },
		"fulfillmentService": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			if s := p.(*location).service; s != nil {
				return s, nil
			}
			return nil, nil
		},
		"inventoryLevels": func(_ *execCtx, p any, a map[string]any) (any, error) {
			l := p.(*location)
			items := make([]pageItem, len(l.levels))
			for i, lv := range l.levels {
				items[i] = pageItem{v: lv.item.id, id: lv.item.id, node: lv}
			}
			return paginate(items, a)
		},
		"inventoryLevel": func(x *execCtx, p any, a map[string]any) (any, error) {
			if it := x.st.itemByGID(a["inventoryItemId"]); it != nil {
				return p.(*location).levelByItem[it.id], nil
			}
			return nil, nil
		},
	})
	register("FulfillmentService", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("FulfillmentService", p.(*fulfillmentService).id), nil
		},
		"serviceName": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*fulfillmentService).name, nil },
		"handle":      func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*fulfillmentService).handle, nil },
		"callbackUrl": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nz(p.(*fulfillmentService).callbackURL), nil
		},
		"inventoryManagement": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*fulfillmentService).inventoryManagement, nil
		},
		"trackingSupport": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*fulfillmentService).trackingSupport, nil
		},
		"requiresShippingMethod": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*fulfillmentService).requiresShipping, nil
		},
		"fulfillmentOrdersOptIn": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"type":                   func(*execCtx, any, map[string]any) (any, error) { return "THIRD_PARTY", nil },
		"location":               func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*fulfillmentService).loc, nil },
	})
	register("InventoryLevel", map[string]resolverFunc{
		"id":        func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invLevel).gid(), nil },
		"item":      func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invLevel).item, nil },
		"location":  func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invLevel).loc, nil },
		"isActive":  func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"createdAt": func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*invLevel).createdAt), nil },
		"updatedAt": func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*invLevel).updatedAt), nil },
		"canDeactivate": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*invLevel).q.committed == 0, nil
		},
		"deactivationAlert": func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"quantities": func(_ *execCtx, p any, a map[string]any) (any, error) {
			lv := p.(*invLevel)
			names := strList(argList(a, "names"))
			out := make([]any, 0, len(names))
			for _, n := range names {
				if _, ok := lv.q.get(n); !ok {
					return nil, errf("INVALID_NAME", "The quantity name %q is not valid. Valid names: available, on_hand, committed, incoming, reserved, damaged, safety_stock, quality_control", n)
				}
				out = append(out, &invQuantity{lvl: lv, name: n})
			}
			return out, nil
		},
	})
	register("InventoryQuantity", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			q := p.(*invQuantity)
			return fmt.Sprintf("gid://shopify/InventoryQuantity/%d?inventory_item_id=%d&internal_name=%s", q.lvl.loc.id, q.lvl.item.id, q.name), nil
		},
		"name": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invQuantity).name, nil },
		"quantity": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			q := p.(*invQuantity)
			n, _ := q.lvl.q.get(q.name)
			return n, nil
		},
		"updatedAt": func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*invQuantity).lvl.updatedAt), nil },
	})
	register("InventoryItem", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("InventoryItem", p.(*invItem).id), nil
		},
		"legacyResourceId": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return strconv.FormatInt(p.(*invItem).id, 10), nil
		},
		"sku":              func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*invItem).sku), nil },
		"tracked":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invItem).tracked, nil },
		"requiresShipping": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"createdAt":        func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*invItem).createdAt), nil },
		"updatedAt":        func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*invItem).updatedAt), nil },
		"variant":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invItem).variant, nil },
		"duplicateSkuCount": func(x *execCtx, p any, _ map[string]any) (any, error) {
			it := p.(*invItem)
			n := 0
			for _, v := range x.st.variants {
				if v.sku == it.sku && v.item != it && it.sku != "" {
					n++
				}
			}
			return n, nil
		},
		"inventoryLevels": func(x *execCtx, p any, a map[string]any) (any, error) {
			it := p.(*invItem)
			var items []pageItem
			for _, l := range x.st.locations {
				if lv := l.levelByItem[it.id]; lv != nil {
					items = append(items, pageItem{v: l.id, id: l.id, node: lv})
				}
			}
			return paginate(items, a)
		},
		"inventoryLevel": func(x *execCtx, p any, a map[string]any) (any, error) {
			if l := x.st.locByGID(a["locationId"]); l != nil {
				return l.levelByItem[p.(*invItem).id], nil
			}
			return nil, nil
		},
	})
	register("InventoryAdjustmentGroup", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return gid("InventoryAdjustmentGroup", p.(*adjGroup).id), nil
		},
		"createdAt":            func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*adjGroup).createdAt), nil },
		"reason":               func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*adjGroup).reason, nil },
		"referenceDocumentUri": func(_ *execCtx, p any, _ map[string]any) (any, error) { return nz(p.(*adjGroup).ref), nil },
		"app":                  func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"staffMember":          func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
		"changes": func(_ *execCtx, p any, a map[string]any) (any, error) {
			g := p.(*adjGroup)
			itemF := idSet(argList(a, "inventoryItemIds"), "InventoryItem")
			locF := idSet(argList(a, "locationIds"), "Location")
			var names map[string]bool
			if ns := argList(a, "quantityNames"); ns != nil {
				names = map[string]bool{}
				for _, n := range strList(ns) {
					names[n] = true
				}
			}
			var out []any
			for i := range g.changes {
				c := &g.changes[i]
				if (itemF != nil && !itemF[c.item.id]) || (locF != nil && !locF[c.loc.id]) || (names != nil && !names[c.name]) {
					continue
				}
				out = append(out, c)
			}
			if out == nil {
				out = []any{}
			}
			return out, nil
		},
	})
	register("InventoryChange", map[string]resolverFunc{
		"name":                func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invChange).name, nil },
		"delta":               func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invChange).delta, nil },
		"quantityAfterChange": func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invChange).after, nil },
		"item":                func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invChange).item, nil },
		"location":            func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*invChange).loc, nil },
		"ledgerDocumentUri":   func(*execCtx, any, map[string]any) (any, error) { return nil, nil },
	})
}

func idSet(ids []any, typ string) map[int64]bool {
	if ids == nil {
		return nil
	}
	m := map[int64]bool{}
	for _, v := range ids {
		if n, ok := idOf(v, typ); ok {
			m[n] = true
		}
	}
	return m
}

func registerCatalog() {
	v := func(get func(x *execCtx, v *variant) any) resolverFunc {
		return func(x *execCtx, p any, _ map[string]any) (any, error) { return get(x, p.(*variant)), nil }
	}
	register("ProductVariant", map[string]resolverFunc{
		"id":               v(func(_ *execCtx, v *variant) any { return gid("ProductVariant", v.id) }),
		"legacyResourceId": v(func(_ *execCtx, v *variant) any { return strconv.FormatInt(v.id, 10) }),
		"sku":              v(func(_ *execCtx, v *variant) any { return nz(v.sku) }),
		"barcode":          v(func(_ *execCtx, v *variant) any { return nz(v.barcode) }),
		"title":            v(func(_ *execCtx, v *variant) any { return v.title }),
		"displayName":      v(func(_ *execCtx, v *variant) any { return v.product.title + " - " + v.title }),
		"price":            v(func(_ *execCtx, v *variant) any { return formatCents(cents(v.price)) }),
		"position":         v(func(_ *execCtx, v *variant) any { return v.position }),
		"product":          v(func(_ *execCtx, v *variant) any { return v.product }),
		"inventoryItem":    v(func(_ *execCtx, v *variant) any { return v.item }),
		"inventoryPolicy":  v(func(*execCtx, *variant) any { return "DENY" }),
		"taxable":          v(func(*execCtx, *variant) any { return true }),
		"createdAt":        v(func(_ *execCtx, v *variant) any { return dt(v.createdAt) }),
		"updatedAt":        v(func(_ *execCtx, v *variant) any { return dt(v.updatedAt) }),
		"inventoryQuantity": v(func(x *execCtx, v *variant) any {
			n := 0
			for _, l := range x.st.locations {
				if lv := l.levelByItem[v.item.id]; lv != nil {
					n += lv.q.available
				}
			}
			return n
		}),
		"availableForSale": v(func(x *execCtx, v *variant) any {
			for _, l := range x.st.locations {
				if lv := l.levelByItem[v.item.id]; lv != nil && lv.q.available > 0 {
					return true
				}
			}
			return false
		}),
	})
	register("Product", map[string]resolverFunc{
		"id": func(_ *execCtx, p any, _ map[string]any) (any, error) { return gid("Product", p.(*product).id), nil },
		"legacyResourceId": func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return strconv.FormatInt(p.(*product).id, 10), nil
		},
		"title":           func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*product).title, nil },
		"handle":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*product).handle, nil },
		"status":          func(_ *execCtx, p any, _ map[string]any) (any, error) { return p.(*product).statusOrActive(), nil },
		"vendor":          func(*execCtx, any, map[string]any) (any, error) { return "", nil },
		"productType":     func(*execCtx, any, map[string]any) (any, error) { return "", nil },
		"tracksInventory": func(*execCtx, any, map[string]any) (any, error) { return true, nil },
		"createdAt":       func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*product).createdAt), nil },
		"updatedAt":       func(_ *execCtx, p any, _ map[string]any) (any, error) { return dt(p.(*product).updatedAt), nil },
		"variants": func(_ *execCtx, p any, a map[string]any) (any, error) {
			return paginate(byID(p.(*product).variants, func(v *variant) int64 { return v.id }), a)
		},
		"totalInventory": func(x *execCtx, p any, _ map[string]any) (any, error) {
			n := 0
			for _, v := range p.(*product).variants {
				for _, l := range x.st.locations {
					if lv := l.levelByItem[v.item.id]; lv != nil {
						n += lv.q.available
					}
				}
			}
			return n, nil
		},
	})
}

func registerWebhookSubscription() {
	s := func(get func(s *subscription) any) resolverFunc {
		return func(_ *execCtx, p any, _ map[string]any) (any, error) { return get(p.(*subscription)), nil }
	}
	register("WebhookSubscription", map[string]resolverFunc{
		"id":                  s(func(s *subscription) any { return gid("WebhookSubscription", s.id) }),
		"legacyResourceId":    s(func(s *subscription) any { return strconv.FormatInt(s.id, 10) }),
		"topic":               s(func(s *subscription) any { return s.topic }),
		"uri":                 s(func(s *subscription) any { return s.uri }),
		"callbackUrl":         s(func(s *subscription) any { return s.uri }),
		"format":              s(func(s *subscription) any { return s.format }),
		"name":                s(func(s *subscription) any { return nz(s.name) }),
		"filter":              s(func(s *subscription) any { return nz(s.filter) }),
		"includeFields":       s(func(*subscription) any { return []any{} }),
		"metafieldNamespaces": s(func(*subscription) any { return []any{} }),
		"createdAt":           s(func(s *subscription) any { return dt(s.createdAt) }),
		"updatedAt":           s(func(s *subscription) any { return dt(s.updatedAt) }),
		"apiVersion":          s(func(*subscription) any { return apiVersion{} }),
	})
}

// cents parses a decimal amount ("12.5", "12.50", "12") into cents.
func cents(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac = (frac + "00")[:2]
	f, _ := strconv.ParseInt(frac, 10, 64)
	n := w*100 + f
	if neg {
		n = -n
	}
	return n
}

func formatCents(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}
