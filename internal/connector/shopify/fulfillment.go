package shopify

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// FulfillmentOrderState is a fulfillment order's state after a mutation.
type FulfillmentOrderState struct {
	// ID is the fulfillment order's GID.
	ID            string
	Status        string
	RequestStatus string
	// LocationID is the assigned location's GID; only MoveFulfillmentOrder
	// reads it.
	LocationID string
}

// wireFOState is the selection { id status requestStatus assignedLocation? }.
type wireFOState struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	RequestStatus    string `json:"requestStatus"`
	AssignedLocation *struct {
		Location *wireID `json:"location"`
	} `json:"assignedLocation"`
}

func (w *wireFOState) state() FulfillmentOrderState {
	s := FulfillmentOrderState{ID: w.ID, Status: w.Status, RequestStatus: w.RequestStatus}
	if w.AssignedLocation != nil && w.AssignedLocation.Location != nil {
		s.LocationID = w.AssignedLocation.Location.ID
	}
	return s
}

// foState returns the state of a payload's fulfillment order, or a
// permanent error when Shopify answered neither the object (with its id)
// nor userErrors.
func foState(op, id string, w *wireFOState) (FulfillmentOrderState, error) {
	if w == nil || w.ID == "" { // an empty id: found by FuzzDecodeGraphQLResponse
		return FulfillmentOrderState{}, connector.Permanent(fmt.Errorf("shopify %s %s: no fulfillment order in the answer", op, id))
	}
	return w.state(), nil
}

// SubmitFulfillmentRequest asks the fulfillment service of fulfillment
// order id to fulfil all of it (merchant role). Shopify's request status
// goes UNSUBMITTED → SUBMITTED. It returns the submitted fulfillment order.
func (c *Client) SubmitFulfillmentRequest(ctx context.Context, id, message string, notifyCustomer bool) (FulfillmentOrderState, error) {
	var resp struct {
		P struct {
			Submitted *wireFOState `json:"submittedFulfillmentOrder"`
		} `json:"fulfillmentOrderSubmitFulfillmentRequest"`
	}
	vars := map[string]any{"id": id, "message": nullable(message), "notifyCustomer": notifyCustomer}
	if err := c.Do(ctx, "FulfillmentOrderSubmitRequest", vars, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState("FulfillmentOrderSubmitRequest", id, resp.P.Submitted)
}

// AcceptFulfillmentRequest accepts the submitted fulfillment request of
// fulfillment order id (fulfillment-service role): SUBMITTED → ACCEPTED,
// status IN_PROGRESS.
func (c *Client) AcceptFulfillmentRequest(ctx context.Context, id, message string) (FulfillmentOrderState, error) {
	var resp struct {
		P struct {
			FO *wireFOState `json:"fulfillmentOrder"`
		} `json:"fulfillmentOrderAcceptFulfillmentRequest"`
	}
	if err := c.Do(ctx, "FulfillmentOrderAcceptRequest", map[string]any{"id": id, "message": nullable(message)}, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState("FulfillmentOrderAcceptRequest", id, resp.P.FO)
}

// RejectFulfillmentRequest rejects the submitted fulfillment request of
// fulfillment order id (fulfillment-service role). reason is a
// FulfillmentOrderRejectionReason such as "INVENTORY_OUT_OF_STOCK",
// "INCORRECT_ADDRESS" or "OTHER"; "" sends none.
func (c *Client) RejectFulfillmentRequest(ctx context.Context, id, reason, message string) (FulfillmentOrderState, error) {
	var resp struct {
		P struct {
			FO *wireFOState `json:"fulfillmentOrder"`
		} `json:"fulfillmentOrderRejectFulfillmentRequest"`
	}
	vars := map[string]any{"id": id, "reason": nullable(reason), "message": nullable(message)}
	if err := c.Do(ctx, "FulfillmentOrderRejectRequest", vars, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState("FulfillmentOrderRejectRequest", id, resp.P.FO)
}

// MoveFulfillmentOrder moves all of fulfillment order id to the location
// newLocationID. Shopify only allows it while the request status is
// UNSUBMITTED or REJECTED. It returns the moved fulfillment order, which may
// have a new ID.
func (c *Client) MoveFulfillmentOrder(ctx context.Context, id, newLocationID string) (FulfillmentOrderState, error) {
	var resp struct {
		P struct {
			Moved *wireFOState `json:"movedFulfillmentOrder"`
		} `json:"fulfillmentOrderMove"`
	}
	if err := c.Do(ctx, "FulfillmentOrderMove", map[string]any{"id": id, "newLocationId": newLocationID}, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState("FulfillmentOrderMove", id, resp.P.Moved)
}

// Hold describes a fulfillment hold.
type Hold struct {
	// Reason is a FulfillmentHoldReason, e.g. "INVENTORY_OUT_OF_STOCK",
	// "INCORRECT_ADDRESS", "OTHER".
	Reason string
	// Notes are shown to the merchant.
	Notes string
	// Handle identifies the hold (≤ 64 characters, unique per app and
	// fulfillment order); "" lets Shopify use its default.
	Handle string
	// NotifyMerchant asks Shopify to notify the merchant.
	NotifyMerchant bool
}

// HoldFulfillmentOrder puts all of fulfillment order id on hold (status
// ON_HOLD) and returns the hold's GID.
func (c *Client) HoldFulfillmentOrder(ctx context.Context, id string, h Hold) (string, error) {
	if strings.TrimSpace(h.Reason) == "" {
		return "", connector.Permanent(fmt.Errorf("shopify FulfillmentOrderHold %s: no reason", id))
	}
	hold := map[string]any{"reason": h.Reason, "notifyMerchant": h.NotifyMerchant}
	if h.Notes != "" {
		hold["reasonNotes"] = h.Notes
	}
	if h.Handle != "" {
		hold["handle"] = h.Handle
	}
	var resp struct {
		P struct {
			Hold *wireID `json:"fulfillmentHold"`
		} `json:"fulfillmentOrderHold"`
	}
	if err := c.Do(ctx, "FulfillmentOrderHold", map[string]any{"id": id, "fulfillmentHold": hold}, &resp); err != nil {
		return "", err
	}
	if resp.P.Hold == nil {
		return "", nil
	}
	return resp.P.Hold.ID, nil
}

// ReleaseHold releases every hold on fulfillment order id.
func (c *Client) ReleaseHold(ctx context.Context, id string) (FulfillmentOrderState, error) {
	var resp struct {
		P struct {
			FO *wireFOState `json:"fulfillmentOrder"`
		} `json:"fulfillmentOrderReleaseHold"`
	}
	if err := c.Do(ctx, "FulfillmentOrderReleaseHold", map[string]any{"id": id}, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState("FulfillmentOrderReleaseHold", id, resp.P.FO)
}

// FulfillmentLine is a quantity of one fulfillment order line item.
type FulfillmentLine struct {
	// ID is the fulfillment order line item's GID.
	ID       string
	Quantity int
}

// FulfillmentInput is a shipment to report: lines of one fulfillment order
// and their tracking.
type FulfillmentInput struct {
	// FulfillmentOrderID is the fulfillment order's GID.
	FulfillmentOrderID string
	// Lines are the quantities shipped; empty means everything remaining.
	Lines []FulfillmentLine
	// Company is the carrier's name; Shopify builds tracking URLs for
	// carriers it knows.
	Company string
	// Numbers are the tracking numbers, URLs the tracking URLs.
	Numbers []string
	URLs    []string
	// NotifyCustomer asks Shopify to send the shipping confirmation.
	NotifyCustomer bool
	// Message is an optional note on the fulfillment.
	Message string
}

// CreateFulfillment reports a shipment and returns the fulfillment's GID.
// Shopify refuses quantities above what remains with a userError.
func (c *Client) CreateFulfillment(ctx context.Context, in FulfillmentInput) (string, error) {
	group := map[string]any{"fulfillmentOrderId": in.FulfillmentOrderID}
	if len(in.Lines) > 0 {
		lines := make([]map[string]any, len(in.Lines))
		for i, l := range in.Lines {
			lines[i] = map[string]any{"id": l.ID, "quantity": l.Quantity}
		}
		group["fulfillmentOrderLineItems"] = lines
	}
	f := map[string]any{
		"lineItemsByFulfillmentOrder": []any{group},
		"notifyCustomer":              in.NotifyCustomer,
	}
	tracking := map[string]any{}
	if in.Company != "" {
		tracking["company"] = in.Company
	}
	if len(in.Numbers) > 0 {
		tracking["numbers"] = in.Numbers
	}
	if len(in.URLs) > 0 {
		tracking["urls"] = in.URLs
	}
	if len(tracking) > 0 {
		f["trackingInfo"] = tracking
	}
	var resp struct {
		P struct {
			Fulfillment *wireID `json:"fulfillment"`
		} `json:"fulfillmentCreate"`
	}
	if err := c.Do(ctx, "FulfillmentCreate", map[string]any{"fulfillment": f, "message": nullable(in.Message)}, &resp); err != nil {
		return "", err
	}
	if resp.P.Fulfillment == nil || resp.P.Fulfillment.ID == "" { // an empty id: found by FuzzDecodeGraphQLResponse
		return "", connector.Permanent(fmt.Errorf("shopify FulfillmentCreate %s: no fulfillment in the answer", in.FulfillmentOrderID))
	}
	return resp.P.Fulfillment.ID, nil
}

// FindFulfillmentByTracking returns the GID of a fulfillment of the order
// with GID orderID that carries one of the tracking numbers, or "" when
// there is none (or numbers is empty). Cancelled and failed fulfillments
// are ignored. Call it before retrying CreateFulfillment after an attempt
// whose outcome is unknown: fulfillmentCreate is not idempotent. It reads
// the order's first 50 fulfillments.
func (c *Client) FindFulfillmentByTracking(ctx context.Context, orderID string, numbers []string) (string, error) {
	if len(numbers) == 0 {
		return "", nil
	}
	want := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var resp struct {
		Order *struct {
			Fulfillments []struct {
				ID           string `json:"id"`
				Status       string `json:"status"`
				TrackingInfo []struct {
					Number string `json:"number"`
				} `json:"trackingInfo"`
			} `json:"fulfillments"`
		} `json:"order"`
	}
	if err := c.Do(ctx, "OrderFulfillments", map[string]any{"id": orderID}, &resp); err != nil {
		return "", err
	}
	if resp.Order == nil {
		return "", connector.Permanent(fmt.Errorf("%w: order %s", ErrNotFound, orderID))
	}
	for _, f := range resp.Order.Fulfillments {
		switch f.Status {
		case "CANCELLED", "ERROR", "FAILURE":
			continue
		}
		for _, ti := range f.TrackingInfo {
			if want[strings.TrimSpace(ti.Number)] {
				return f.ID, nil
			}
		}
	}
	return "", nil
}

// cancellationAnswer runs one of the cancellation-request mutations, which
// share their shape.
func (c *Client) cancellationAnswer(ctx context.Context, op, field, id, message string) (FulfillmentOrderState, error) {
	var resp map[string]struct {
		FO *wireFOState `json:"fulfillmentOrder"`
	}
	if err := c.Do(ctx, op, map[string]any{"id": id, "message": nullable(message)}, &resp); err != nil {
		return FulfillmentOrderState{}, err
	}
	return foState(op, id, resp[field].FO)
}

// AcceptCancellationRequest accepts the merchant's cancellation request of
// fulfillment order id (fulfillment-service role): the warehouse stopped it.
func (c *Client) AcceptCancellationRequest(ctx context.Context, id, message string) (FulfillmentOrderState, error) {
	return c.cancellationAnswer(ctx, "FulfillmentOrderAcceptCancellationRequest", "fulfillmentOrderAcceptCancellationRequest", id, message)
}

// RejectCancellationRequest refuses the merchant's cancellation request of
// fulfillment order id, with the warehouse's reason as message.
func (c *Client) RejectCancellationRequest(ctx context.Context, id, message string) (FulfillmentOrderState, error) {
	return c.cancellationAnswer(ctx, "FulfillmentOrderRejectCancellationRequest", "fulfillmentOrderRejectCancellationRequest", id, message)
}

// SubmitCancellationRequest asks the fulfillment service of fulfillment
// order id to cancel it (merchant role).
func (c *Client) SubmitCancellationRequest(ctx context.Context, id, message string) (FulfillmentOrderState, error) {
	return c.cancellationAnswer(ctx, "FulfillmentOrderSubmitCancellationRequest", "fulfillmentOrderSubmitCancellationRequest", id, message)
}
