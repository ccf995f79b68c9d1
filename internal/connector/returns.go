package connector

import "context"

// Return conditions reported by a warehouse for received units.
const (
	// ConditionRestockable units go back on the shelf and can be sold.
	ConditionRestockable = "restockable"
	// ConditionDamaged units are kept aside and cannot be sold.
	ConditionDamaged = "damaged"
)

// EventReturnReceived says the warehouse received returned units: Return
// holds the return id and, per SKU, the units and their condition.
// ExternalRef is the warehouse order the units were shipped with.
const EventReturnReceived EventType = "return_received"

// ReturnNotice is an expected return: units of an order the warehouse
// shipped that the customer sends back. ReturnID (the Shopify return GID)
// is the idempotency key: announcing the same return again changes
// nothing.
type ReturnNotice struct {
	ReturnID string `json:"return_id"`
	// Name is the shop-facing name of the return, e.g. "#1001-R1".
	Name string `json:"name,omitempty"`
	// ExternalRef is the warehouse order the units left with.
	ExternalRef string `json:"external_ref"`
	// OrderID is the Shopify order GID.
	OrderID string `json:"order_id,omitempty"`
	// Lines are in the warehouse's item codes and units.
	Lines []ReturnLine `json:"lines"`
}

// ReturnLine is units of one SKU (item code) expected back.
type ReturnLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ReturnReceipt is what a warehouse received for a return (the Return of
// an EventReturnReceived).
type ReturnReceipt struct {
	ReturnID string              `json:"return_id"`
	Lines    []ReturnReceiptLine `json:"lines"`
}

// ReturnReceiptLine is units of one SKU received in one condition.
type ReturnReceiptLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	// Condition is ConditionRestockable or ConditionDamaged.
	Condition string `json:"condition"`
}

// Returner is the optional capability of connectors whose warehouse can be
// told about expected returns; it reports their receipt as
// EventReturnReceived. ExpectReturn is idempotent on ReturnID. The hub finds
// it with a type assertion on the WMS.
type Returner interface {
	ExpectReturn(ctx context.Context, n ReturnNotice) error
}
