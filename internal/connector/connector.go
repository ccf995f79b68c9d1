// Package connector defines the seam between the hub and warehouse systems:
// the WMS interface every warehouse connector implements, the events a WMS
// reports, a registry of connector kinds, and the error classes that drive
// retries (permanent, retry-after, transient).
package connector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/order"
)

// SubmitResult is the warehouse's answer to an order submission.
type SubmitResult struct {
	// WMSOrderID is the warehouse's own id for the order.
	WMSOrderID string
	// Created is false when the warehouse already had an order with this
	// external reference (an idempotent replay).
	Created bool
}

// CancelResult is the warehouse's answer to a cancel request.
type CancelResult struct {
	Cancelled bool   // true: the order will not ship
	Reason    string // why a cancel was refused (e.g. "already shipped")
}

// AmendResult is the warehouse's answer to an amendment.
type AmendResult struct {
	Amended bool   // true: the warehouse ships the order as amended
	Reason  string // why an amendment was refused (e.g. "already picking")
}

// Amender is the optional capability of connectors whose warehouse accepts
// changes to an order it already has (lines and ship-to replaced, external
// reference unchanged), typically until picking starts. Amend is idempotent:
// amending with the content the warehouse already holds changes nothing. A
// refusal because the warehouse has gone too far is an answer
// (Amended false with the reason), not an error. The hub finds it with a
// type assertion on the WMS.
type Amender interface {
	Amend(ctx context.Context, o *order.WarehouseOrder) (AmendResult, error)
}

// EventType is the kind of a WMS event.
type EventType string

// The WMS event types.
const (
	EventAcknowledged   EventType = "acknowledged"
	EventPicking        EventType = "picking"
	EventPacked         EventType = "packed"
	EventShipped        EventType = "shipped"
	EventCancelled      EventType = "cancelled"
	EventCancelRejected EventType = "cancel_rejected"
	// EventCarrier is news of a shipped parcel from its carrier (in
	// transit, out for delivery, delivered, a failed attempt), in Carrier.
	EventCarrier EventType = "carrier"
	// EventTrackingUpdated says a shipment's tracking changed after it
	// shipped (a parcel relabelled, a carrier swapped): Tracking holds
	// every package's tracking as it is now.
	EventTrackingUpdated EventType = "tracking_updated"
	// EventBackordered says the warehouse could not allocate the order:
	// Shortages lists what it lacks. The order stays acknowledged and
	// ships (picking, packed, shipped follow) once stock arrives.
	EventBackordered EventType = "backordered"
)

// Shortage is a SKU a warehouse lacks for an order.
type Shortage struct {
	SKU       string `json:"sku"`
	Needed    int    `json:"needed"`
	Available int    `json:"available"`
}

// Carrier statuses of an EventCarrier.
const (
	CarrierPickedUp          = "carrier_picked_up"
	CarrierInTransit         = "in_transit"
	CarrierOutForDelivery    = "out_for_delivery"
	CarrierDelivered         = "delivered"
	CarrierAttemptedDelivery = "attempted_delivery"
	CarrierDelayed           = "delayed"
	CarrierFailure           = "failure"
)

// CarrierUpdate is one carrier event of a shipment.
type CarrierUpdate struct {
	// ShipmentID is the warehouse's shipment id (order.Shipment.ID).
	ShipmentID string `json:"shipment_id"`
	// TrackingNumber names the parcel when the shipment has several.
	TrackingNumber string `json:"tracking_number,omitempty"`
	// Status is one of the Carrier* statuses.
	Status     string    `json:"status"`
	HappenedAt time.Time `json:"happened_at"`
	Message    string    `json:"message,omitempty"`
	City       string    `json:"city,omitempty"`
	Country    string    `json:"country,omitempty"`
}

// TrackingUpdate is the tracking of a shipment's packages as it is now.
type TrackingUpdate struct {
	ShipmentID string          `json:"shipment_id"`
	Packages   []order.Package `json:"packages"`
}

// Event is one thing a warehouse reports about a warehouse order. ID is
// unique per warehouse and is the deduplication key: the same event may be
// delivered more than once.
type Event struct {
	ID          string          `json:"id"`
	Type        EventType       `json:"type"`
	ExternalRef string          `json:"external_ref"`
	At          time.Time       `json:"at"`
	Shipment    *order.Shipment `json:"shipment,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	// Carrier is set on EventCarrier, Tracking on EventTrackingUpdated.
	Carrier  *CarrierUpdate  `json:"carrier,omitempty"`
	Tracking *TrackingUpdate `json:"tracking,omitempty"`
	// Shortages is set on EventBackordered.
	Shortages []Shortage `json:"shortages,omitempty"`
	// Return is set on EventReturnReceived (returns.go).
	Return *ReturnReceipt `json:"return,omitempty"`
}

// StockItem is the sellable quantity of one SKU in a snapshot.
type StockItem struct {
	SKU       string `json:"sku"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}

// StockSnapshot is a warehouse's stock at AsOf. A Full snapshot lists every
// SKU the warehouse holds; a SKU missing from it has zero.
type StockSnapshot struct {
	AsOf  time.Time   `json:"as_of"`
	Full  bool        `json:"full"`
	Items []StockItem `json:"items"`
	// Rejected are the lines the connector could not trust (no SKU, a
	// negative quantity, a SKU listed twice…). A connector puts them here
	// instead of failing the whole snapshot: the hub applies Items,
	// quarantines each rejected line with its reason and keeps the last
	// figure of a SKU whose line was rejected, even in a Full snapshot.
	Rejected []RejectedStockLine `json:"rejected,omitempty"`
}

// RejectedStockLine is one line of a warehouse's stock snapshot that the
// connector rejected.
type RejectedStockLine struct {
	// Index is the line's position in what the warehouse sent (from 0).
	Index int `json:"index"`
	// SKU is the item code the line names, as the warehouse sent it ("" if
	// it named none).
	SKU string `json:"sku,omitempty"`
	// Reason says what is wrong with the line, for an operator.
	Reason string `json:"reason"`
}

// WMS is what the hub needs from a warehouse. Every method is idempotent:
// SubmitOrder on the order's ExternalRef, CancelOrder on the reference, and
// Events returns events after a cursor the hub stores.
type WMS interface {
	// SubmitOrder transmits a warehouse order. Submitting the same
	// ExternalRef again returns the existing order with Created false.
	SubmitOrder(ctx context.Context, o *order.WarehouseOrder) (SubmitResult, error)
	// CancelOrder asks the warehouse to cancel. The answer says whether it
	// was still possible.
	CancelOrder(ctx context.Context, externalRef string) (CancelResult, error)
	// Events returns events after cursor (empty: from the start) and the
	// cursor to store for the next call. It returns at most limit events.
	Events(ctx context.Context, cursor string, limit int) ([]Event, string, error)
	// Stock returns the warehouse's current stock.
	Stock(ctx context.Context) (StockSnapshot, error)
}

// Info describes a registered connector kind.
type Info struct {
	// Kind is the name used in configuration, e.g. "rest".
	Kind string
	// Summary is one line for help texts.
	Summary string
	// New builds a connector from its configuration block (decoded YAML,
	// strictly: unknown keys are an error).
	New func(cfg map[string]any) (WMS, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Info{}
)

// Register adds a connector kind. It panics on a duplicate kind, as
// registration happens in init functions.
func Register(info Info) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[info.Kind]; dup {
		panic("connector: duplicate kind " + info.Kind)
	}
	registry[info.Kind] = info
}

// Lookup returns the registered kind.
func Lookup(kind string) (Info, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	i, ok := registry[kind]
	return i, ok
}

// Kinds lists registered kinds, sorted.
func Kinds() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	ks := make([]string, 0, len(registry))
	for k := range registry {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ErrPermanent marks an error that retrying cannot fix (bad request,
// rejected data). Jobs that see it stop retrying and record the reason.
var ErrPermanent = errors.New("permanent")

// Permanent wraps err as permanent.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// IsPermanent reports whether err is permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// RetryAfterError asks the caller to wait Delay before retrying.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err with a delay before the next attempt.
func RetryAfter(d time.Duration, err error) error { return &RetryAfterError{Delay: d, Err: err} }

// RetryDelay returns the delay requested by a RetryAfterError in err's chain.
func RetryDelay(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.Delay, true
	}
	return 0, false
}
