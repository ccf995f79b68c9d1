package shopify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// The webhook topics the hub subscribes to, in REST form (the
// X-Shopify-Topic header).
const (
	TopicOrdersCreate                 = "orders/create"
	TopicOrdersUpdated                = "orders/updated"
	TopicOrdersCancelled              = "orders/cancelled"
	TopicOrdersEdited                 = "orders/edited"
	TopicFulfillmentRequestSubmitted  = "fulfillment_orders/fulfillment_request_submitted"
	TopicCancellationRequestSubmitted = "fulfillment_orders/cancellation_request_submitted"
	TopicInventoryLevelsUpdate        = "inventory_levels/update"
)

// HubTopics returns the topics the hub subscribes to.
func HubTopics() []string {
	return []string{
		TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersCancelled, TopicOrdersEdited,
		TopicFulfillmentRequestSubmitted, TopicCancellationRequestSubmitted, TopicInventoryLevelsUpdate,
		TopicReturnsApprove, TopicReturnsClose,
	}
}

// ErrUnknownTopic is in the chain of DecodeWebhook's error for a topic it
// has no type for.
var ErrUnknownTopic = errors.New("shopify: unknown webhook topic")

// Webhook payloads are thin triggers: the hub re-reads the object through
// GraphQL. The types below model the fields the hub uses; numeric IDs are
// int64 (never float64, which corrupts IDs ≥ 2^53) and re-encode to the
// same JSON.

// OrderWebhook is the payload of orders/create, orders/updated and
// orders/cancelled.
type OrderWebhook struct {
	// ID is the order's numeric id; AdminGraphQLAPIID its GID.
	ID                int64  `json:"id"`
	AdminGraphQLAPIID string `json:"admin_graphql_api_id,omitempty"`
	// Name is the shop-facing name, e.g. "#1001".
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// CreatedAt and UpdatedAt are zero when absent; compare UpdatedAt to
	// discard deliveries older than what the hub already has.
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	UpdatedAt   time.Time  `json:"updated_at,omitzero"`
	CancelledAt *time.Time `json:"cancelled_at"`
	// CancelReason is e.g. "customer", "fraud"; nil unless cancelled.
	CancelReason      *string `json:"cancel_reason"`
	FinancialStatus   *string `json:"financial_status"`
	FulfillmentStatus *string `json:"fulfillment_status"`
	// LineItems are the order's lines.
	LineItems []OrderWebhookLineItem `json:"line_items"`
	// ShippingAddress is nil for orders that do not ship.
	ShippingAddress *WebhookAddress `json:"shipping_address"`
	// ShippingLines are the chosen shipping rates.
	ShippingLines []OrderWebhookShippingLine `json:"shipping_lines"`
}

// GID returns the order's GID: AdminGraphQLAPIID, else built from ID.
func (o *OrderWebhook) GID() string {
	if o.AdminGraphQLAPIID != "" {
		return o.AdminGraphQLAPIID
	}
	return GID("Order", o.ID)
}

// OrderWebhookLineItem is one line of an order payload.
type OrderWebhookLineItem struct {
	ID                int64  `json:"id"`
	AdminGraphQLAPIID string `json:"admin_graphql_api_id,omitempty"`
	// VariantID and ProductID are nil for custom lines and deleted
	// products.
	VariantID *int64 `json:"variant_id"`
	ProductID *int64 `json:"product_id"`
	SKU       string `json:"sku,omitempty"`
	Name      string `json:"name,omitempty"`
	// Quantity is the ordered quantity; CurrentQuantity after edits and
	// removals; FulfillableQuantity what is left to fulfil.
	Quantity            int  `json:"quantity"`
	CurrentQuantity     *int `json:"current_quantity,omitempty"`
	FulfillableQuantity *int `json:"fulfillable_quantity,omitempty"`
	RequiresShipping    bool `json:"requires_shipping"`
}

// OrderWebhookShippingLine is one shipping line of an order payload.
type OrderWebhookShippingLine struct {
	ID    int64   `json:"id"`
	Title string  `json:"title,omitempty"`
	Code  *string `json:"code"`
}

// WebhookAddress is a REST address (shipping_address, billing_address).
type WebhookAddress struct {
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	Name         string `json:"name,omitempty"`
	Company      string `json:"company,omitempty"`
	Address1     string `json:"address1,omitempty"`
	Address2     string `json:"address2,omitempty"`
	City         string `json:"city,omitempty"`
	Province     string `json:"province,omitempty"`
	ProvinceCode string `json:"province_code,omitempty"`
	Zip          string `json:"zip,omitempty"`
	Country      string `json:"country,omitempty"`
	CountryCode  string `json:"country_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// Address maps the REST address to the canonical order.Address (zip →
// PostalCode, province_code else province → ProvinceCode).
func (a *WebhookAddress) Address() order.Address {
	if a == nil {
		return order.Address{}
	}
	// One mapping for both shapes: the GraphQL MailingAddress's.
	return wireMailingAddress{Name: a.Name, FirstName: a.FirstName, LastName: a.LastName, Company: a.Company,
		Address1: a.Address1, Address2: a.Address2, City: a.City, Province: a.Province, ProvinceCode: a.ProvinceCode,
		Zip: a.Zip, CountryCodeV2: a.CountryCode, Phone: a.Phone}.address("")
}

// FulfillmentOrderWebhook is the payload of fulfillment_orders/* topics.
// fulfillment_request_submitted carries the original and submitted
// fulfillment orders (different when the request split it) and the
// merchant's request; other actions carry fulfillment_order.
type FulfillmentOrderWebhook struct {
	FulfillmentOrder          *WebhookFulfillmentOrder `json:"fulfillment_order,omitempty"`
	OriginalFulfillmentOrder  *WebhookFulfillmentOrder `json:"original_fulfillment_order,omitempty"`
	SubmittedFulfillmentOrder *WebhookFulfillmentOrder `json:"submitted_fulfillment_order,omitempty"`
	// MerchantRequest is the fulfillment request, with its message.
	MerchantRequest *WebhookMerchantRequest `json:"fulfillment_order_merchant_request,omitempty"`
}

// FulfillmentOrderID returns the GID of the fulfillment order the event is
// about: the submitted one, else fulfillment_order, else the original one.
func (w *FulfillmentOrderWebhook) FulfillmentOrderID() string {
	for _, fo := range []*WebhookFulfillmentOrder{w.SubmittedFulfillmentOrder, w.FulfillmentOrder, w.OriginalFulfillmentOrder} {
		if fo != nil && fo.ID != "" {
			return fo.ID
		}
	}
	return ""
}

// WebhookFulfillmentOrder is a fulfillment order reference in a payload.
// Status and RequestStatus are lower case ("open", "unsubmitted").
type WebhookFulfillmentOrder struct {
	// ID is a GID string in these payloads.
	ID            string `json:"id"`
	Status        string `json:"status,omitempty"`
	RequestStatus string `json:"request_status,omitempty"`
}

// WebhookMerchantRequest is a merchant's request in a payload.
type WebhookMerchantRequest struct {
	ID      string `json:"id"`
	Message string `json:"message,omitempty"`
}

// InventoryLevelWebhook is the payload of inventory_levels/update. It
// carries only the available quantity.
type InventoryLevelWebhook struct {
	InventoryItemID int64 `json:"inventory_item_id"`
	LocationID      int64 `json:"location_id"`
	// Available is nil when Shopify sent null.
	Available         *int      `json:"available"`
	UpdatedAt         time.Time `json:"updated_at,omitzero"`
	AdminGraphQLAPIID string    `json:"admin_graphql_api_id,omitempty"`
}

// InventoryItemGID returns the inventory item's GID.
func (w *InventoryLevelWebhook) InventoryItemGID() string {
	return GID("InventoryItem", w.InventoryItemID)
}

// LocationGID returns the location's GID.
func (w *InventoryLevelWebhook) LocationGID() string { return GID("Location", w.LocationID) }

// DecodeOrderWebhook decodes an orders/create, orders/updated or
// orders/cancelled payload. It fails on malformed JSON, wrong types and a
// missing id.
func DecodeOrderWebhook(body []byte) (*OrderWebhook, error) {
	var w OrderWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.ID <= 0 {
		return nil, errors.New("missing or invalid id")
	}
	for i, li := range w.LineItems {
		if li.ID <= 0 {
			return nil, fmt.Errorf("line_items[%d]: missing or invalid id", i)
		}
	}
	return &w, nil
}

// OrderEditWebhook is the payload of orders/edited: which order an edit
// committed on (the hub re-reads the order itself).
type OrderEditWebhook struct {
	OrderEdit struct {
		ID          int64     `json:"id"`
		OrderID     int64     `json:"order_id"`
		CommittedAt time.Time `json:"committed_at,omitzero"`
	} `json:"order_edit"`
}

// OrderGID returns the edited order's GID.
func (w *OrderEditWebhook) OrderGID() string { return GID("Order", w.OrderEdit.OrderID) }

// DecodeOrderEditWebhook decodes an orders/edited payload. It fails on
// malformed JSON, wrong types and a missing order id.
func DecodeOrderEditWebhook(body []byte) (*OrderEditWebhook, error) {
	var w OrderEditWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.OrderEdit.OrderID <= 0 {
		return nil, errors.New("missing or invalid order_edit.order_id")
	}
	return &w, nil
}

// DecodeFulfillmentOrderWebhook decodes a fulfillment_orders/* payload. It
// fails on malformed JSON, wrong types, or no fulfillment order GID.
func DecodeFulfillmentOrderWebhook(body []byte) (*FulfillmentOrderWebhook, error) {
	var w FulfillmentOrderWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	id := w.FulfillmentOrderID()
	if id == "" {
		return nil, errors.New("missing fulfillment order id")
	}
	if _, _, err := ParseGID(id); err != nil {
		return nil, fmt.Errorf("fulfillment order id: %w", err)
	}
	return &w, nil
}

// DecodeInventoryLevelWebhook decodes an inventory_levels/update payload.
// It fails on malformed JSON, wrong types, or a missing inventory_item_id
// or location_id.
func DecodeInventoryLevelWebhook(body []byte) (*InventoryLevelWebhook, error) {
	var w InventoryLevelWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.InventoryItemID <= 0 {
		return nil, errors.New("missing or invalid inventory_item_id")
	}
	if w.LocationID <= 0 {
		return nil, errors.New("missing or invalid location_id")
	}
	return &w, nil
}

// DecodeWebhook decodes the payload of topic (REST "orders/create" or enum
// "ORDERS_CREATE" form) into *OrderWebhook, *OrderEditWebhook,
// *FulfillmentOrderWebhook, *InventoryLevelWebhook or *ReturnWebhook. Errors are permanent: a payload that does not
// decode will not decode on a retry. An unsupported topic wraps
// ErrUnknownTopic.
func DecodeWebhook(topic string, body []byte) (any, error) {
	var (
		v   any
		err error
	)
	switch t := TopicEnum(topic); {
	case t == "ORDERS_CREATE" || t == "ORDERS_UPDATED" || t == "ORDERS_CANCELLED":
		v, err = DecodeOrderWebhook(body)
	case strings.HasPrefix(t, "FULFILLMENT_ORDERS_"):
		v, err = DecodeFulfillmentOrderWebhook(body)
	case t == "INVENTORY_LEVELS_UPDATE":
		v, err = DecodeInventoryLevelWebhook(body)
	case t == "ORDERS_EDITED":
		v, err = DecodeOrderEditWebhook(body)
	case t == "RETURNS_APPROVE" || t == "RETURNS_CLOSE":
		v, err = DecodeReturnWebhook(body)
	default:
		err = ErrUnknownTopic
	}
	if err != nil {
		return nil, connector.Permanent(fmt.Errorf("shopify webhook %s: %w", topic, err))
	}
	return v, nil
}
