package shopifysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ProductInput seeds a product through AddProducts or POST /_sim/products.
type ProductInput struct {
	Title    string         `json:"title"`    // product title (required)
	Variants []VariantInput `json:"variants"` // variants; none creates one "Default Title" variant
	// Status is the ProductStatus: ACTIVE (default), ARCHIVED, DRAFT or
	// UNLISTED.
	Status string `json:"status,omitempty"`
}

// VariantInput is one variant of a seeded product; its inventory item is
// tracked (unless Tracked is false) and stocked at every location with zero
// quantities.
type VariantInput struct {
	SKU     string      `json:"sku"`               // stock keeping unit; read-back and routing key
	Barcode string      `json:"barcode,omitempty"` // optional barcode
	Price   json.Number `json:"price,omitempty"`   // decimal price, as a JSON number or string
	// Title defaults to "Default Title".
	Title string `json:"title,omitempty"`
	// Available optionally sets the available quantity at the shop's
	// first location ("Shop location").
	Available int `json:"available,omitempty"`
	// Tracked is InventoryItem.tracked; nil means true.
	Tracked *bool `json:"tracked,omitempty"`
}

// ProductState is a product as seeded, with its variants' GIDs.
type ProductState struct {
	ID       string         `json:"id"`       // Product GID
	Title    string         `json:"title"`    // product title
	Variants []VariantState `json:"variants"` // variants in position order
}

// VariantState is one product variant and its inventory item.
type VariantState struct {
	ID              string `json:"id"`                // ProductVariant GID
	SKU             string `json:"sku"`               // variant SKU
	Barcode         string `json:"barcode,omitempty"` // variant barcode
	Title           string `json:"title"`             // variant title
	Price           string `json:"price"`             // price with two decimals
	InventoryItemID string `json:"inventoryItemId"`   // InventoryItem GID
}

// LocationState is a location; fulfillment-service locations name their service.
type LocationState struct {
	ID                     string `json:"id"`                               // Location GID
	Name                   string `json:"name"`                             // location name
	Active                 bool   `json:"active"`                           // whether the location is active
	FulfillmentServiceID   string `json:"fulfillmentServiceId,omitempty"`   // FulfillmentService GID, if any
	FulfillmentServiceName string `json:"fulfillmentServiceName,omitempty"` // service name, if any
}

// InventoryQuantities are the quantity states of one inventory level.
// OnHand = Available + Committed + Reserved + Damaged + SafetyStock + QualityControl.
type InventoryQuantities struct {
	Available      int `json:"available"`       // sellable units
	OnHand         int `json:"on_hand"`         // physically present units (derived)
	Committed      int `json:"committed"`       // units claimed by unfulfilled orders
	Incoming       int `json:"incoming"`        // units on the way (not on hand)
	Reserved       int `json:"reserved"`        // units reserved
	Damaged        int `json:"damaged"`         // damaged units
	SafetyStock    int `json:"safety_stock"`    // safety stock
	QualityControl int `json:"quality_control"` // units in quality control
}

func quantitiesOf(q qty) InventoryQuantities {
	return InventoryQuantities{Available: q.available, OnHand: q.onHand(), Committed: q.committed, Incoming: q.incoming,
		Reserved: q.reserved, Damaged: q.damaged, SafetyStock: q.safetyStock, QualityControl: q.qualityControl}
}

// InventoryLevelState is one item × location level.
type InventoryLevelState struct {
	SKU             string              `json:"sku"`             // item SKU
	InventoryItemID string              `json:"inventoryItemId"` // InventoryItem GID
	LocationID      string              `json:"locationId"`      // Location GID
	LocationName    string              `json:"locationName"`    // location name
	Quantities      InventoryQuantities `json:"quantities"`      // quantity states
}

// AddressState is a shipping address.
type AddressState struct {
	FirstName    string `json:"firstName,omitempty"`    // first name
	LastName     string `json:"lastName,omitempty"`     // last name
	Company      string `json:"company,omitempty"`      // company
	Address1     string `json:"address1,omitempty"`     // street line 1
	Address2     string `json:"address2,omitempty"`     // street line 2
	City         string `json:"city,omitempty"`         // city
	ProvinceCode string `json:"provinceCode,omitempty"` // province or state code
	Zip          string `json:"zip,omitempty"`          // postal code
	CountryCode  string `json:"countryCode,omitempty"`  // ISO country code
	Phone        string `json:"phone,omitempty"`        // phone
}

// OrderState is an order with its fulfillment orders and fulfillments.
type OrderState struct {
	ID                       string                  `json:"id"`                        // Order GID
	LegacyResourceID         int64                   `json:"legacyResourceId"`          // numeric id
	Name                     string                  `json:"name"`                      // order name, e.g. #1001
	Email                    string                  `json:"email,omitempty"`           // customer email
	CreatedAt                time.Time               `json:"createdAt"`                 // creation time
	UpdatedAt                time.Time               `json:"updatedAt"`                 // last change
	CancelledAt              *time.Time              `json:"cancelledAt,omitempty"`     // cancellation time, if cancelled
	DisplayFulfillmentStatus string                  `json:"displayFulfillmentStatus"`  // FULFILLED, PARTIALLY_FULFILLED or UNFULFILLED
	InventoryBehaviour       string                  `json:"inventoryBehaviour"`        // orderCreate inventoryBehaviour
	ShippingAddress          *AddressState           `json:"shippingAddress,omitempty"` // shipping address, if any
	LineItems                []LineItemState         `json:"lineItems"`                 // order lines
	FulfillmentOrders        []FulfillmentOrderState `json:"fulfillmentOrders"`         // fulfillment orders, splits included
	Fulfillments             []FulfillmentState      `json:"fulfillments"`              // fulfillments in creation order
}

// LineItemState is an order line.
type LineItemState struct {
	ID                string `json:"id"`                  // LineItem GID
	SKU               string `json:"sku,omitempty"`       // SKU
	Name              string `json:"name"`                // display name
	Quantity          int    `json:"quantity"`            // ordered quantity
	FulfilledQuantity int    `json:"fulfilledQuantity"`   // quantity fulfilled so far
	VariantID         string `json:"variantId,omitempty"` // ProductVariant GID; empty for custom lines
}

// FulfillmentOrderState is a fulfillment order.
type FulfillmentOrderState struct {
	ID            string                      `json:"id"`              // FulfillmentOrder GID
	Status        string                      `json:"status"`          // FulfillmentOrderStatus
	RequestStatus string                      `json:"requestStatus"`   // FulfillmentOrderRequestStatus
	LocationID    string                      `json:"locationId"`      // assigned Location GID
	LocationName  string                      `json:"locationName"`    // assigned location name
	LineItems     []FulfillmentOrderLineState `json:"lineItems"`       // fulfillment order lines
	Holds         []HoldState                 `json:"holds,omitempty"` // active holds
	// ProgressReports are the fulfillmentOrderReportProgress calls,
	// oldest first.
	ProgressReports []ProgressReportState `json:"progressReports,omitempty"`
}

// ProgressReportState is one progress report on a fulfillment order.
type ProgressReportState struct {
	Notes string    `json:"notes,omitempty"` // progressReport.reasonNotes
	At    time.Time `json:"at"`              // when it was reported
}

// FulfillmentOrderLineState is a fulfillment order line item.
type FulfillmentOrderLineState struct {
	ID                string `json:"id"`                // FulfillmentOrderLineItem GID
	LineItemID        string `json:"lineItemId"`        // LineItem GID
	SKU               string `json:"sku,omitempty"`     // SKU
	TotalQuantity     int    `json:"totalQuantity"`     // quantity assigned to this fulfillment order
	RemainingQuantity int    `json:"remainingQuantity"` // quantity not yet fulfilled
}

// HoldState is an active fulfillment hold.
type HoldState struct {
	ID     string `json:"id"`               // FulfillmentHold GID
	Reason string `json:"reason"`           // FulfillmentHoldReason
	Notes  string `json:"notes,omitempty"`  // reason notes
	Handle string `json:"handle,omitempty"` // app handle
}

// FulfillmentState is a fulfillment with its tracking.
type FulfillmentState struct {
	ID         string                 `json:"id"`         // Fulfillment GID
	Name       string                 `json:"name"`       // e.g. #1001.1
	Status     string                 `json:"status"`     // FulfillmentStatus
	LocationID string                 `json:"locationId"` // Location GID
	CreatedAt  time.Time              `json:"createdAt"`  // creation time
	Tracking   []TrackingState        `json:"tracking"`   // tracking entries
	LineItems  []FulfillmentLineState `json:"lineItems"`  // fulfilled quantities
	// Events are the fulfillment events in creation order.
	Events []FulfillmentEventState `json:"events,omitempty"`
	// DisplayStatus is Fulfillment.displayStatus as the API answers it.
	DisplayStatus string `json:"displayStatus"`
}

// FulfillmentEventState is one fulfillment event.
type FulfillmentEventState struct {
	ID         string    `json:"id"`                // FulfillmentEvent GID
	Status     string    `json:"status"`            // FulfillmentEventStatus
	HappenedAt time.Time `json:"happenedAt"`        // when it happened
	Message    string    `json:"message,omitempty"` // message, if any
}

// TrackingState is one tracking entry of a fulfillment.
type TrackingState struct {
	Company string `json:"company,omitempty"` // carrier
	Number  string `json:"number,omitempty"`  // tracking number
	URL     string `json:"url,omitempty"`     // tracking URL
}

// FulfillmentLineState is a fulfilled quantity of an order line.
type FulfillmentLineState struct {
	LineItemID string `json:"lineItemId"`    // LineItem GID
	SKU        string `json:"sku,omitempty"` // SKU
	Quantity   int    `json:"quantity"`      // quantity in this fulfillment
}

// SubscriptionState is a webhook subscription.
type SubscriptionState struct {
	ID            string    `json:"id"`            // WebhookSubscription GID
	Topic         string    `json:"topic"`         // topic enum, e.g. ORDERS_CREATE
	URI           string    `json:"uri"`           // delivery address
	Format        string    `json:"format"`        // JSON
	CreatedViaAPI bool      `json:"createdViaApi"` // created by webhookSubscriptionCreate (removable after failures)
	CreatedAt     time.Time `json:"createdAt"`     // creation time
}

// Stats are the simulator's counters.
type Stats struct {
	// Requests counts every request to the GraphQL endpoint.
	Requests int64 `json:"requests"`
	// Throttled counts requests answered with THROTTLED.
	Throttled int64 `json:"throttled"`
	// PointsCharged sums the actual cost of every answered request: what
	// the bucket really paid (the least time the throttle allows for a
	// run is (PointsCharged − the bucket's content at its start) /
	// restore rate).
	PointsCharged int64 `json:"pointsCharged"`
	// MaxCostExceeded counts requests refused with MAX_COST_EXCEEDED.
	MaxCostExceeded int64 `json:"maxCostExceeded"`
	// Injected429 and Injected5xx count injected HTTP faults.
	Injected429 int64 `json:"injected429"`
	Injected5xx int64 `json:"injected5xx"` // 503 answers
	// WebhookEvents counts events that had at least one subscriber.
	WebhookEvents int64 `json:"webhookEvents"`
	// WebhooksSent counts deliveries answered with 2xx.
	WebhooksSent int64 `json:"webhooksSent"`
	// WebhookAttempts counts HTTP attempts (first tries and retries).
	WebhookAttempts int64 `json:"webhookAttempts"`
	// WebhooksDuplicated counts injected duplicate deliveries.
	WebhooksDuplicated int64 `json:"webhooksDuplicated"`
	// WebhooksDropped counts deliveries dropped on purpose.
	WebhooksDropped int64 `json:"webhooksDropped"`
	// WebhooksDelayed counts deliveries held back to reorder them.
	WebhooksDelayed int64 `json:"webhooksDelayed"`
	// WebhooksRetried counts scheduled retries.
	WebhooksRetried int64 `json:"webhooksRetried"`
	// WebhooksFailed counts deliveries abandoned after all retries.
	WebhooksFailed int64 `json:"webhooksFailed"`
	// SubscriptionsRemoved counts API subscriptions deleted after
	// persistent delivery failure.
	SubscriptionsRemoved int64 `json:"subscriptionsRemoved"`
	// RejectedOverfulfillments counts fulfillmentCreate calls refused
	// because a quantity exceeded the remaining quantity (including
	// attempts on fulfillment orders already fully fulfilled).
	RejectedOverfulfillments int64 `json:"rejectedOverfulfillments"`
	// DuplicateTracking counts fulfillments reusing a tracking number of
	// another fulfillment of the same order.
	DuplicateTracking int64 `json:"duplicateTracking"`
	// TrackingUpdates counts successful fulfillmentTrackingInfoUpdate
	// calls.
	TrackingUpdates int64 `json:"trackingUpdates"`
	// Orders, Fulfillments and WebhookSubscriptions are current counts.
	Orders               int `json:"orders"`
	Fulfillments         int `json:"fulfillments"`         // fulfillments created
	WebhookSubscriptions int `json:"webhookSubscriptions"` // current subscriptions
}

// Snapshot is the whole simulator state, served by GET /_sim/state.
type Snapshot struct {
	Shop                 ShopState             `json:"shop"`                 // shop identity and throttle settings
	Stats                Stats                 `json:"stats"`                // counters
	Faults               Faults                `json:"faults"`               // current fault rates
	Locations            []LocationState       `json:"locations"`            // locations
	Products             []ProductState        `json:"products"`             // seeded products
	Inventory            []InventoryLevelState `json:"inventory"`            // every inventory level
	Orders               []OrderState          `json:"orders"`               // orders
	WebhookSubscriptions []SubscriptionState   `json:"webhookSubscriptions"` // webhook subscriptions
}

// ShopState identifies the shop.
type ShopState struct {
	Name           string `json:"name"`            // Shop.name
	Domain         string `json:"myshopifyDomain"` // myshopify domain
	ID             string `json:"id"`              // Shop GID
	ThrottleBucket int    `json:"throttleBucket"`  // bucket size in points
	RestoreRate    int    `json:"restoreRate"`     // points per second
}

// AddProducts seeds products, each variant with a tracked inventory item
// stocked at every location. It returns the created products.
func (s *Server) AddProducts(in []ProductInput) ([]ProductState, error) {
	for i, p := range in {
		if strings.TrimSpace(p.Title) == "" {
			return nil, fmt.Errorf("product %d: title is required", i)
		}
		switch p.Status {
		case "", "ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED":
		default:
			return nil, fmt.Errorf("product %d: status %q is not ACTIVE, ARCHIVED, DRAFT or UNLISTED", i, p.Status)
		}
		for j, v := range p.Variants {
			if v.Price != "" {
				if _, err := v.Price.Float64(); err != nil {
					return nil, fmt.Errorf("product %d variant %d: invalid price %q", i, j, v.Price)
				}
			}
			if v.Available < 0 {
				return nil, fmt.Errorf("product %d variant %d: available must not be negative", i, j)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	now := s.now().UTC()
	out := make([]ProductState, 0, len(in))
	for _, p := range in {
		pr := &product{id: st.newID(), title: p.Title, handle: strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(p.Title), "-"), "-"), status: p.Status, createdAt: now, updatedAt: now}
		if pr.status == "" {
			pr.status = "ACTIVE"
		}
		vs := p.Variants
		if len(vs) == 0 {
			vs = []VariantInput{{}}
		}
		ps := ProductState{ID: gid("Product", pr.id), Title: pr.title}
		for i, vi := range vs {
			title := vi.Title
			if title == "" {
				title = "Default Title"
			}
			price := "0.00"
			if vi.Price != "" {
				price = formatCents(cents(vi.Price.String()))
			}
			v := &variant{id: st.newID(), product: pr, title: title, sku: vi.SKU, barcode: vi.Barcode, price: price, position: i + 1, createdAt: now, updatedAt: now}
			v.item = &invItem{id: st.newID(), variant: v, sku: vi.SKU, tracked: vi.Tracked == nil || *vi.Tracked, createdAt: now, updatedAt: now}
			pr.variants = append(pr.variants, v)
			st.variants = append(st.variants, v)
			st.variantByID[v.id] = v
			st.items[v.item.id] = v.item
			if _, dup := st.variantBySKU[v.sku]; !dup && v.sku != "" {
				st.variantBySKU[v.sku] = v
			}
			for _, l := range st.locations {
				st.ensureLevel(v.item, l, now)
			}
			if vi.Available > 0 {
				st.locations[0].levelByItem[v.item.id].q.available = vi.Available
			}
			ps.Variants = append(ps.Variants, variantState(v))
		}
		st.products = append(st.products, pr)
		st.productByID[pr.id] = pr
		out = append(out, ps)
	}
	return out, nil
}

func variantState(v *variant) VariantState {
	return VariantState{ID: gid("ProductVariant", v.id), SKU: v.sku, Barcode: v.barcode, Title: v.title, Price: v.price, InventoryItemID: gid("InventoryItem", v.item.id)}
}

// Products returns the seeded products.
func (s *Server) Products() []ProductState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.productsLocked()
}

func (s *Server) productsLocked() []ProductState {
	out := make([]ProductState, 0, len(s.st.products))
	for _, p := range s.st.products {
		ps := ProductState{ID: gid("Product", p.id), Title: p.title}
		for _, v := range p.variants {
			ps.Variants = append(ps.Variants, variantState(v))
		}
		out = append(out, ps)
	}
	return out
}

// Locations returns all locations in creation order; the first is the
// merchant's "Shop location".
func (s *Server) Locations() []LocationState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.locationsLocked()
}

func (s *Server) locationsLocked() []LocationState {
	out := make([]LocationState, 0, len(s.st.locations))
	for _, l := range s.st.locations {
		ls := LocationState{ID: gid("Location", l.id), Name: l.name, Active: l.active}
		if l.service != nil {
			ls.FulfillmentServiceID = gid("FulfillmentService", l.service.id)
			ls.FulfillmentServiceName = l.service.name
		}
		out = append(out, ls)
	}
	return out
}

// InventoryLevel returns the quantities of the variant with sku at the
// location with the given GID.
func (s *Server) InventoryLevel(sku, locationGID string) (InventoryQuantities, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.st.variantBySKU[sku]
	l := s.st.locByGID(locationGID)
	if v == nil || l == nil {
		return InventoryQuantities{}, false
	}
	lv := l.levelByItem[v.item.id]
	if lv == nil {
		return InventoryQuantities{}, false
	}
	return quantitiesOf(lv.q), true
}

// SetInventory sets quantities of the variant with sku at a location
// directly (test and demo setup; emits no webhook). on_hand is derived.
func (s *Server) SetInventory(sku, locationGID string, q InventoryQuantities) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.variantBySKU[sku]
	if v == nil {
		return fmt.Errorf("unknown sku %q", sku)
	}
	l := s.st.locByGID(locationGID)
	if l == nil {
		return fmt.Errorf("unknown location %q", locationGID)
	}
	lv := s.st.ensureLevel(v.item, l, s.now().UTC())
	lv.q = qty{available: q.Available, committed: q.Committed, reserved: q.Reserved, damaged: q.Damaged,
		safetyStock: q.SafetyStock, qualityControl: q.QualityControl, incoming: q.Incoming}
	lv.updatedAt = s.now().UTC()
	return nil
}

// Inventory returns every inventory level.
func (s *Server) Inventory() []InventoryLevelState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.inventoryLocked()
}

func (s *Server) inventoryLocked() []InventoryLevelState {
	var out []InventoryLevelState
	for _, l := range s.st.locations {
		for _, lv := range l.levels {
			out = append(out, InventoryLevelState{SKU: lv.item.sku, InventoryItemID: gid("InventoryItem", lv.item.id),
				LocationID: gid("Location", l.id), LocationName: l.name, Quantities: quantitiesOf(lv.q)})
		}
	}
	return out
}

// Orders returns copies of all orders in creation order.
func (s *Server) Orders() []OrderState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]OrderState, 0, len(s.st.orders))
	for _, o := range s.st.orders {
		out = append(out, orderState(o))
	}
	return out
}

// Order returns one order by GID.
func (s *Server) Order(orderGID string) (OrderState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.st.orderByGID(orderGID)
	if o == nil {
		return OrderState{}, false
	}
	return orderState(o), true
}

func orderState(o *order) OrderState {
	os := OrderState{ID: gid("Order", o.id), LegacyResourceID: o.id, Name: o.name, Email: o.email, CreatedAt: o.createdAt,
		UpdatedAt: o.updatedAt, DisplayFulfillmentStatus: o.fulfillmentStatus(), InventoryBehaviour: o.inventoryBehaviour,
		LineItems: []LineItemState{}, FulfillmentOrders: []FulfillmentOrderState{}, Fulfillments: []FulfillmentState{}}
	if o.cancelledAt != nil {
		t := *o.cancelledAt
		os.CancelledAt = &t
	}
	if a := o.shipping; a != nil {
		os.ShippingAddress = &AddressState{FirstName: a.firstName, LastName: a.lastName, Company: a.company, Address1: a.address1,
			Address2: a.address2, City: a.city, ProvinceCode: a.provinceCode, Zip: a.zip, CountryCode: a.countryCode, Phone: a.phone}
	}
	for _, li := range o.lines {
		ls := LineItemState{ID: gid("LineItem", li.id), SKU: li.sku, Name: li.name(), Quantity: li.quantity, FulfilledQuantity: li.fulfilled}
		if li.variant != nil {
			ls.VariantID = gid("ProductVariant", li.variant.id)
		}
		os.LineItems = append(os.LineItems, ls)
	}
	for _, fo := range o.fos {
		fs := FulfillmentOrderState{ID: gid("FulfillmentOrder", fo.id), Status: fo.status, RequestStatus: fo.requestStatus,
			LocationID: gid("Location", fo.loc.id), LocationName: fo.loc.name, LineItems: []FulfillmentOrderLineState{}}
		for _, l := range fo.lines {
			fs.LineItems = append(fs.LineItems, FulfillmentOrderLineState{ID: gid("FulfillmentOrderLineItem", l.id), LineItemID: gid("LineItem", l.li.id),
				SKU: l.li.sku, TotalQuantity: l.total, RemainingQuantity: l.remaining})
		}
		for _, h := range fo.holds {
			fs.Holds = append(fs.Holds, HoldState{ID: gid("FulfillmentHold", h.id), Reason: h.reason, Notes: h.notes, Handle: h.handle})
		}
		for _, r := range fo.progress {
			fs.ProgressReports = append(fs.ProgressReports, ProgressReportState{Notes: r.notes, At: r.at})
		}
		os.FulfillmentOrders = append(os.FulfillmentOrders, fs)
	}
	for _, f := range o.fulfillments {
		fs := FulfillmentState{ID: gid("Fulfillment", f.id), Name: f.name, Status: f.status, CreatedAt: f.createdAt,
			Tracking: []TrackingState{}, LineItems: []FulfillmentLineState{}, DisplayStatus: f.displayStatus()}
		for _, e := range f.events {
			fs.Events = append(fs.Events, FulfillmentEventState{ID: gid("FulfillmentEvent", e.id), Status: e.status, HappenedAt: e.happenedAt, Message: e.message})
		}
		if f.loc != nil {
			fs.LocationID = gid("Location", f.loc.id)
		}
		for _, t := range f.tracking {
			fs.Tracking = append(fs.Tracking, TrackingState{Company: t.company, Number: t.number, URL: t.url})
		}
		for _, l := range f.lines {
			fs.LineItems = append(fs.LineItems, FulfillmentLineState{LineItemID: gid("LineItem", l.li.id), SKU: l.li.sku, Quantity: l.quantity})
		}
		os.Fulfillments = append(os.Fulfillments, fs)
	}
	return os
}

// WebhookSubscriptions returns the current subscriptions.
func (s *Server) WebhookSubscriptions() []SubscriptionState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.subscriptionsLocked()
}

func (s *Server) subscriptionsLocked() []SubscriptionState {
	out := make([]SubscriptionState, 0, len(s.st.subs))
	for _, sub := range s.st.subs {
		out = append(out, SubscriptionState{ID: gid("WebhookSubscription", sub.id), Topic: sub.topic, URI: sub.uri,
			Format: sub.format, CreatedViaAPI: sub.viaAPI, CreatedAt: sub.createdAt})
	}
	return out
}

// Subscribe adds an app-configuration subscription (never removed after
// failures). topic is an enum value (ORDERS_CREATE) or REST topic.
func (s *Server) Subscribe(topic, uri string) (SubscriptionState, error) {
	t, ok := normalizeTopic(topic)
	if !ok {
		return SubscriptionState{}, fmt.Errorf("unknown webhook topic %q", topic)
	}
	if uri == "" {
		return SubscriptionState{}, errors.New("uri is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.st.addSubscription(t, uri, "JSON", false, s.now().UTC())
	return SubscriptionState{ID: gid("WebhookSubscription", sub.id), Topic: sub.topic, URI: sub.uri, Format: sub.format, CreatedAt: sub.createdAt}, nil
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	orders, subs := len(s.st.orders), len(s.st.subs)
	fulfillments := len(s.st.fulfillments)
	s.mu.RUnlock()
	return s.statsWith(orders, fulfillments, subs)
}

func (s *Server) statsWith(orders, fulfillments, subs int) Stats {
	c := &s.ctr
	return Stats{
		Requests: c.requests.Load(), Throttled: c.throttled.Load(), MaxCostExceeded: c.maxCost.Load(), PointsCharged: c.pointsCharged.Load(),
		Injected429: c.injected429.Load(), Injected5xx: c.injected5xx.Load(),
		WebhookEvents: c.whEvents.Load(), WebhooksSent: c.whSent.Load(), WebhookAttempts: c.whAttempts.Load(),
		WebhooksDuplicated: c.whDuplicated.Load(), WebhooksDropped: c.whDropped.Load(), WebhooksDelayed: c.whDelayed.Load(),
		WebhooksRetried: c.whRetried.Load(), WebhooksFailed: c.whFailed.Load(), SubscriptionsRemoved: c.subsRemoved.Load(),
		RejectedOverfulfillments: c.rejectedOverfulfillments.Load(), DuplicateTracking: c.duplicateTracking.Load(),
		TrackingUpdates: c.trackingUpdates.Load(),
		Orders:          orders, Fulfillments: fulfillments, WebhookSubscriptions: subs,
	}
}

// Snapshot returns a copy of the whole state.
func (s *Server) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	snap := Snapshot{
		Shop: ShopState{Name: s.st.shopName, Domain: s.cfg.ShopDomain, ID: gid("Shop", s.st.shopID),
			ThrottleBucket: int(s.cfg.BucketSize), RestoreRate: int(s.cfg.RestoreRate)},
		Stats:                s.statsWith(len(s.st.orders), len(s.st.fulfillments), len(s.st.subs)),
		Faults:               s.Faults(),
		Locations:            s.locationsLocked(),
		Products:             s.productsLocked(),
		Inventory:            s.inventoryLocked(),
		WebhookSubscriptions: s.subscriptionsLocked(),
		Orders:               make([]OrderState, 0, len(s.st.orders)),
	}
	for _, o := range s.st.orders {
		snap.Orders = append(snap.Orders, orderState(o))
	}
	return snap
}
