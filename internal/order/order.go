// Package order holds crossdock's canonical order model: the order received
// from Shopify, its lines and addresses, the warehouse order (the part of an
// order sent to one warehouse, under an immutable external reference), and
// what the warehouse reports back: shipments, packages and tracking.
//
// The model is independent of Shopify and of any WMS protocol: connectors map
// to and from it.
package order

import (
	"fmt"
	"strings"
	"time"
)

// Address is a postal address. PostalCode is always a string (leading zeros
// matter) and CountryCode is ISO 3166-1 alpha-2.
type Address struct {
	Name         string `json:"name,omitempty"`
	Company      string `json:"company,omitempty"`
	Address1     string `json:"address1,omitempty"`
	Address2     string `json:"address2,omitempty"`
	City         string `json:"city,omitempty"`
	ProvinceCode string `json:"province_code,omitempty"`
	PostalCode   string `json:"postal_code,omitempty"`
	CountryCode  string `json:"country_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
}

// Missing lists the fields a warehouse needs to ship to a that are empty.
// An address with nothing missing is complete enough to transmit.
func (a Address) Missing() []string {
	var m []string
	check := func(name, v string) {
		if strings.TrimSpace(v) == "" {
			m = append(m, name)
		}
	}
	check("name", a.Name)
	check("address1", a.Address1)
	check("city", a.City)
	check("country_code", a.CountryCode)
	// Postal codes are required everywhere crossdock ships except a few
	// countries without a postal system.
	switch strings.ToUpper(a.CountryCode) {
	case "HK", "AE", "IE":
	default:
		check("postal_code", a.PostalCode)
	}
	return m
}

// Line is one line of a warehouse order. LineNo is the stable correlation key
// between what was sent and what the warehouse reports (X12 LX/W01, CSV line
// column, REST line_no).
type Line struct {
	LineNo   int    `json:"line_no"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	// FulfillmentOrderLineItemID is the Shopify fulfillment order line item
	// GID the line came from; it is what a fulfillment must reference.
	FulfillmentOrderLineItemID string `json:"fulfillment_order_line_item_id,omitempty"`
	Name                       string `json:"name,omitempty"`
}

// WarehouseOrder is the part of a Shopify order sent to one warehouse. Its
// ExternalRef is immutable and unique per shop; it is the idempotency key of
// every call to the warehouse.
type WarehouseOrder struct {
	ExternalRef        string    `json:"external_ref"`
	Shop               string    `json:"shop"`
	Warehouse          string    `json:"warehouse"`
	OrderID            string    `json:"order_id"`             // Shopify order GID
	OrderName          string    `json:"order_name,omitempty"` // e.g. #1001
	FulfillmentOrderID string    `json:"fulfillment_order_id"` // Shopify fulfillment order GID
	ShippingMethod     string    `json:"shipping_method,omitempty"`
	ShipTo             Address   `json:"ship_to"`
	Lines              []Line    `json:"lines"`
	PlacedAt           time.Time `json:"placed_at,omitzero"`
}

// Validate reports why w cannot be transmitted, or nil.
func (w *WarehouseOrder) Validate() error {
	var probs []string
	if w.ExternalRef == "" {
		probs = append(probs, "external_ref is empty")
	}
	if len(w.Lines) == 0 {
		probs = append(probs, "no lines")
	}
	for _, l := range w.Lines {
		if strings.TrimSpace(l.SKU) == "" {
			probs = append(probs, fmt.Sprintf("line %d has no SKU", l.LineNo))
		}
		if l.Quantity <= 0 {
			probs = append(probs, fmt.Sprintf("line %d has quantity %d", l.LineNo, l.Quantity))
		}
	}
	if m := w.ShipTo.Missing(); len(m) > 0 {
		probs = append(probs, "ship-to address is missing "+strings.Join(m, ", "))
	}
	if len(probs) > 0 {
		return fmt.Errorf("warehouse order %s: %s", w.ExternalRef, strings.Join(probs, "; "))
	}
	return nil
}

// ShipmentLine is a quantity of one order line in a shipment or a package.
type ShipmentLine struct {
	LineNo   int    `json:"line_no"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Package is one parcel with its tracking.
type Package struct {
	ID             string         `json:"id"`
	Carrier        string         `json:"carrier,omitempty"`
	Service        string         `json:"service,omitempty"`
	TrackingNumber string         `json:"tracking_number,omitempty"`
	TrackingURL    string         `json:"tracking_url,omitempty"`
	Lines          []ShipmentLine `json:"lines,omitempty"`
}

// Shipment is what a warehouse reports it shipped for one warehouse order.
type Shipment struct {
	ID          string         `json:"id"` // the WMS's shipment id; unique per warehouse
	ExternalRef string         `json:"external_ref"`
	ShippedAt   time.Time      `json:"shipped_at"`
	Lines       []ShipmentLine `json:"lines"`
	Packages    []Package      `json:"packages"`
}

// Progress is how far a warehouse order has gone. Progress only moves
// forward (see Advance): a late or duplicated acknowledgement never moves a
// shipped order back.
type Progress int

// The progress steps of a warehouse order, in order.
const (
	ProgressNew Progress = iota
	ProgressRouted
	ProgressAccepted     // fulfillment request accepted in Shopify
	ProgressSent         // transmitted to the WMS
	ProgressAcknowledged // WMS acknowledged
	ProgressPicking
	ProgressPacked
	ProgressPartiallyShipped // some units shipped, the rest not yet
	ProgressShipped          // every unit shipped
	ProgressFulfilled        // fulfillment created in Shopify
)

// progressNames are stored in the database: a name never changes meaning.
var progressNames = [...]string{"new", "routed", "accepted", "sent", "acknowledged", "picking", "packed", "partially_shipped", "shipped", "fulfilled"}

// String returns the stable lower-case name stored in the database.
func (p Progress) String() string {
	if p < 0 || int(p) >= len(progressNames) {
		return fmt.Sprintf("progress(%d)", int(p))
	}
	return progressNames[p]
}

// ParseProgress is the inverse of Progress.String.
func ParseProgress(s string) (Progress, error) {
	for i, n := range progressNames {
		if n == s {
			return Progress(i), nil
		}
	}
	return 0, fmt.Errorf("order: unknown progress %q", s)
}

// Advance returns the later of cur and next and whether next moved it
// forward. It is the only way progress changes.
func Advance(cur, next Progress) (Progress, bool) {
	if next > cur {
		return next, true
	}
	return cur, false
}
