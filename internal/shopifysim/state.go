package shopifysim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// idBase is the first numeric id handed out: above 2^53, like real
// Shopify ids, so clients that decode ids as float64 break visibly.
const idBase int64 = 1<<53 + 1

// state is the shop's data. All access happens under Server.mu.
type state struct {
	nextID          int64
	nextOrderNumber int
	shopID          int64
	shopName        string
	createdAt       time.Time

	products     []*product
	productByID  map[int64]*product
	variants     []*variant
	variantByID  map[int64]*variant
	variantBySKU map[string]*variant
	items        map[int64]*invItem

	locations []*location
	locByID   map[int64]*location
	services  map[int64]*fulfillmentService

	orders       []*order
	orderByID    map[int64]*order
	lineItems    map[int64]*lineItem
	fos          map[int64]*fulfillmentOrder
	foLines      map[int64]*foLine
	fulfillments map[int64]*fulfillment
	holds        map[int64]*hold
	requests     map[int64]*merchantRequest
	adjGroups    map[int64]*adjGroup
	returns      returnBook // returns.go

	subs []*subscription

	idem     map[string]*idemRecord
	idemKeys []string
}

type product struct {
	id                   int64
	title, handle        string
	status               string // ProductStatus: ACTIVE, ARCHIVED, DRAFT, UNLISTED
	createdAt, updatedAt time.Time
	variants             []*variant
}

// statusOrActive is the product's ProductStatus (ACTIVE when unset).
func (p *product) statusOrActive() string {
	if p.status == "" {
		return "ACTIVE"
	}
	return p.status
}

type variant struct {
	id                         int64
	product                    *product
	title, sku, barcode, price string
	position                   int
	item                       *invItem
	createdAt, updatedAt       time.Time
}

type invItem struct {
	id                   int64
	variant              *variant
	sku                  string
	tracked              bool
	createdAt, updatedAt time.Time
}

// qty holds the quantity states of one inventory level. on_hand is
// derived, so on_hand = available + committed + reserved + damaged +
// safety_stock + quality_control always holds.
type qty struct {
	available, committed, reserved, damaged, safetyStock, qualityControl, incoming int
}

func (q qty) onHand() int {
	return q.available + q.committed + q.reserved + q.damaged + q.safetyStock + q.qualityControl
}

func (q qty) get(name string) (int, bool) {
	switch name {
	case "available":
		return q.available, true
	case "on_hand":
		return q.onHand(), true
	case "committed":
		return q.committed, true
	case "reserved":
		return q.reserved, true
	case "damaged":
		return q.damaged, true
	case "safety_stock":
		return q.safetyStock, true
	case "quality_control":
		return q.qualityControl, true
	case "incoming":
		return q.incoming, true
	}
	return 0, false
}

type invLevel struct {
	item                 *invItem
	loc                  *location
	q                    qty
	createdAt, updatedAt time.Time
}

func (l *invLevel) gid() string {
	return fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", l.loc.id, l.item.id)
}

type location struct {
	id                   int64
	name                 string
	active               bool
	service              *fulfillmentService
	createdAt, updatedAt time.Time
	levels               []*invLevel
	levelByItem          map[int64]*invLevel
}

type fulfillmentService struct {
	id                                                     int64
	name, handle, callbackURL                              string
	inventoryManagement, trackingSupport, requiresShipping bool
	loc                                                    *location
	createdAt                                              time.Time
}

type address struct {
	firstName, lastName, company, address1, address2, city   string
	province, provinceCode, zip, country, countryCode, phone string
}

func (a *address) name() string {
	return strings.TrimSpace(a.firstName + " " + a.lastName)
}

type order struct {
	id                                  int64
	number                              int
	name, email, phone, note, currency  string
	sourceName                          string
	tags                                []string
	test                                bool
	createdAt, updatedAt, processedAt   time.Time
	cancelledAt, closedAt               *time.Time
	shipping, billing                   *address
	shippingLine                        *shippingLine
	lines                               []*lineItem
	fos                                 []*fulfillmentOrder
	fulfillments                        []*fulfillment
	claimed                             bool // inventory moved available → committed at creation
	inventoryBehaviour, financialStatus string
}

type shippingLine struct {
	id                          int64
	title, code, source, amount string
}

type lineItem struct {
	id                                   int64
	order                                *order
	variant                              *variant
	sku, title, variantTitle, vendor     string
	price                                string
	quantity, fulfilled                  int
	requiresShipping                     bool
	fulfillmentServiceHandle, properties string
}

func (li *lineItem) name() string {
	if li.variantTitle != "" && li.variantTitle != "Default Title" {
		return li.title + " - " + li.variantTitle
	}
	return li.title
}

type fulfillmentOrder struct {
	id                    int64
	order                 *order
	loc                   *location
	status, requestStatus string
	createdAt, updatedAt  time.Time
	lines                 []*foLine
	holds                 []*hold
	requests              []*merchantRequest
	progress              []progressReport // fulfillmentOrderReportProgress calls, oldest first
}

func (fo *fulfillmentOrder) remaining() int {
	n := 0
	for _, l := range fo.lines {
		n += l.remaining
	}
	return n
}

type foLine struct {
	id               int64
	fo               *fulfillmentOrder
	li               *lineItem
	total, remaining int
}

type hold struct {
	id                    int64
	fo                    *fulfillmentOrder
	reason, notes, handle string
	createdAt             time.Time
}

type merchantRequest struct {
	id            int64
	fo            *fulfillmentOrder
	kind, message string
	options       map[string]any
	sentAt        time.Time
}

type fulfillment struct {
	id                   int64
	order                *order
	loc                  *location
	name, status         string
	createdAt, updatedAt time.Time
	tracking             []tracking
	lines                []*fulfillmentLine
	fos                  []*fulfillmentOrder
	events               []*fulfillmentEvent // fulfillmentEventCreate calls, in creation order
}

type fulfillmentLine struct {
	id       int64
	li       *lineItem
	quantity int
}

type tracking struct {
	company, number, url string
}

type adjGroup struct {
	id          int64
	reason, ref string
	createdAt   time.Time
	changes     []invChange
}

type invChange struct {
	name         string
	delta, after int
	item         *invItem
	loc          *location
}

type subscription struct {
	id                        int64
	topic                     string // GraphQL enum form, e.g. ORDERS_CREATE
	uri, format, name, filter string
	viaAPI                    bool
	createdAt, updatedAt      time.Time
}

type idemRecord struct {
	fingerprint string
	result      any
}

func newState(now time.Time, shopName string) *state {
	st := &state{
		nextID:          idBase,
		nextOrderNumber: 1001,
		shopName:        shopName,
		createdAt:       now,
		productByID:     map[int64]*product{},
		variantByID:     map[int64]*variant{},
		variantBySKU:    map[string]*variant{},
		items:           map[int64]*invItem{},
		locByID:         map[int64]*location{},
		services:        map[int64]*fulfillmentService{},
		orderByID:       map[int64]*order{},
		lineItems:       map[int64]*lineItem{},
		fos:             map[int64]*fulfillmentOrder{},
		foLines:         map[int64]*foLine{},
		fulfillments:    map[int64]*fulfillment{},
		holds:           map[int64]*hold{},
		requests:        map[int64]*merchantRequest{},
		adjGroups:       map[int64]*adjGroup{},
		idem:            map[string]*idemRecord{},
	}
	st.shopID = st.newID()
	st.addLocation("Shop location", nil, now)
	return st
}

func (st *state) newID() int64 {
	id := st.nextID
	st.nextID++
	return id
}

func (st *state) addLocation(name string, svc *fulfillmentService, now time.Time) *location {
	l := &location{id: st.newID(), name: name, active: true, service: svc, createdAt: now, updatedAt: now, levelByItem: map[int64]*invLevel{}}
	st.locations = append(st.locations, l)
	st.locByID[l.id] = l
	for _, v := range st.variants {
		st.ensureLevel(v.item, l, now)
	}
	return l
}

// ensureLevel stocks item at loc (every item is stocked at every location).
func (st *state) ensureLevel(it *invItem, l *location, now time.Time) *invLevel {
	if lv := l.levelByItem[it.id]; lv != nil {
		return lv
	}
	lv := &invLevel{item: it, loc: l, createdAt: now, updatedAt: now}
	l.levels = append(l.levels, lv)
	l.levelByItem[it.id] = lv
	return lv
}

func (st *state) level(it *invItem, l *location) *invLevel {
	if it == nil || l == nil {
		return nil
	}
	return l.levelByItem[it.id]
}

func (st *state) addSubscription(topic, uri, format string, viaAPI bool, now time.Time) *subscription {
	sub := &subscription{id: st.newID(), topic: topic, uri: uri, format: format, viaAPI: viaAPI, createdAt: now, updatedAt: now}
	st.subs = append(st.subs, sub)
	return sub
}

func (st *state) removeSubscription(id int64) bool {
	for i, s := range st.subs {
		if s.id == id {
			st.subs = append(st.subs[:i:i], st.subs[i+1:]...)
			return true
		}
	}
	return false
}

func (st *state) remember(key string, rec *idemRecord) {
	const maxKeys = 100000
	if _, ok := st.idem[key]; !ok {
		st.idemKeys = append(st.idemKeys, key)
	}
	st.idem[key] = rec
	for len(st.idemKeys) > maxKeys {
		delete(st.idem, st.idemKeys[0])
		st.idemKeys = st.idemKeys[1:]
	}
}

// fulfillmentServiceLocations returns fulfillment-service locations in
// creation order (the routing priority).
func (st *state) fulfillmentServiceLocations() []*location {
	var out []*location
	for _, l := range st.locations {
		if l.service != nil && l.active {
			out = append(out, l)
		}
	}
	return out
}

func gid(typ string, id int64) string {
	return "gid://shopify/" + typ + "/" + strconv.FormatInt(id, 10)
}

// parseGID splits "gid://shopify/Type/123?x=y" into type, id and query.
func parseGID(s string) (typ string, id int64, q url.Values, ok bool) {
	rest, found := strings.CutPrefix(s, "gid://shopify/")
	if !found {
		return "", 0, nil, false
	}
	rest, rawQ, _ := strings.Cut(rest, "?")
	typ, num, found := strings.Cut(rest, "/")
	if !found || typ == "" {
		return "", 0, nil, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, nil, false
	}
	q, _ = url.ParseQuery(rawQ)
	return typ, id, q, true
}

// idOf returns the numeric id of a GID of the wanted type.
func idOf(v any, want string) (int64, bool) {
	s, ok := v.(string)
	if !ok {
		if n, ok := toInt64(v); ok {
			return n, true
		}
		return 0, false
	}
	typ, id, _, ok := parseGID(s)
	if !ok || typ != want {
		return 0, false
	}
	return id, true
}

func (st *state) orderByGID(v any) *order {
	if id, ok := idOf(v, "Order"); ok {
		return st.orderByID[id]
	}
	return nil
}

func (st *state) foByGID(v any) *fulfillmentOrder {
	if id, ok := idOf(v, "FulfillmentOrder"); ok {
		return st.fos[id]
	}
	return nil
}

func (st *state) locByGID(v any) *location {
	if id, ok := idOf(v, "Location"); ok {
		return st.locByID[id]
	}
	return nil
}

func (st *state) itemByGID(v any) *invItem {
	if id, ok := idOf(v, "InventoryItem"); ok {
		return st.items[id]
	}
	return nil
}

func (st *state) variantByGID(v any) *variant {
	if id, ok := idOf(v, "ProductVariant"); ok {
		return st.variantByID[id]
	}
	return nil
}

// node resolves any supported GID.
func (st *state) node(v any) any {
	s, _ := v.(string)
	typ, id, q, ok := parseGID(s)
	if !ok {
		return nil
	}
	var out any
	switch typ {
	case "Order":
		out = st.orderByID[id]
	case "FulfillmentOrder":
		out = st.fos[id]
	case "FulfillmentOrderLineItem":
		out = st.foLines[id]
	case "LineItem":
		out = st.lineItems[id]
	case "Fulfillment":
		out = st.fulfillments[id]
	case "FulfillmentHold":
		out = st.holds[id]
	case "FulfillmentOrderMerchantRequest":
		out = st.requests[id]
	case "Location":
		out = st.locByID[id]
	case "FulfillmentService":
		out = st.services[id]
	case "Product":
		out = st.productByID[id]
	case "ProductVariant":
		out = st.variantByID[id]
	case "InventoryItem":
		out = st.items[id]
	case "InventoryAdjustmentGroup":
		out = st.adjGroups[id]
	case "InventoryLevel":
		if l := st.locByID[id]; l != nil {
			if itemID, err := strconv.ParseInt(q.Get("inventory_item_id"), 10, 64); err == nil {
				out = l.levelByItem[itemID]
			}
		}
	case "WebhookSubscription":
		for _, s := range st.subs {
			if s.id == id {
				out = s
			}
		}
	case "Shop":
		if id == st.shopID {
			out = shopValue{}
		}
	}
	if isNil(out) {
		return nil
	}
	return out
}

type shopValue struct{}

// typeNameOf maps a resolved Go value to its GraphQL object type, for
// fields typed as interfaces or unions.
func typeNameOf(v any) string {
	switch v.(type) {
	case *order:
		return "Order"
	case *fulfillmentOrder:
		return "FulfillmentOrder"
	case *foLine:
		return "FulfillmentOrderLineItem"
	case *lineItem:
		return "LineItem"
	case *fulfillment:
		return "Fulfillment"
	case *hold:
		return "FulfillmentHold"
	case *merchantRequest:
		return "FulfillmentOrderMerchantRequest"
	case *location:
		return "Location"
	case *fulfillmentService:
		return "FulfillmentService"
	case *product:
		return "Product"
	case *variant:
		return "ProductVariant"
	case *invItem:
		return "InventoryItem"
	case *invLevel:
		return "InventoryLevel"
	case *adjGroup:
		return "InventoryAdjustmentGroup"
	case *subscription:
		return "WebhookSubscription"
	case shopValue:
		return "Shop"
	case *userError:
		return "UserError"
	}
	return ""
}
