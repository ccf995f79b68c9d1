package shopify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// fulfillmentEventsPageSize is the number of events FulfillmentEvents
// reads per request.
const fulfillmentEventsPageSize = 100

// ReportProgress reports the warehouse's picking/packing progress on the
// accepted fulfillment order fulfillmentOrderID (fulfillment-service
// role); Shopify sets its status to IN_PROGRESS. notes ("" sends none) are
// shown to the merchant. Shopify refuses fulfillment orders that are not
// OPEN or IN_PROGRESS with an accepted request with a permanent
// *UserErrorsError.
func (c *Client) ReportProgress(ctx context.Context, fulfillmentOrderID, notes string) error {
	report := map[string]any{}
	if notes != "" {
		report["reasonNotes"] = notes
	}
	var resp struct {
		P struct {
			FO *wireFOState `json:"fulfillmentOrder"`
		} `json:"fulfillmentOrderReportProgress"`
	}
	vars := map[string]any{"id": fulfillmentOrderID, "progressReport": report}
	if err := c.Do(ctx, "FulfillmentOrderReportProgress", vars, &resp); err != nil {
		return err
	}
	_, err := foState("FulfillmentOrderReportProgress", fulfillmentOrderID, resp.P.FO)
	return err
}

// FulfillmentEvent is one tracking event of a fulfillment.
type FulfillmentEvent struct {
	// ID is the event's GID.
	ID string
	// Status is a FulfillmentEventStatus, e.g. "IN_TRANSIT", "DELIVERED".
	Status string
	// Message is the event's message; "" when it has none.
	Message string
	// HappenedAt is when the event happened.
	HappenedAt time.Time
}

// FulfillmentEvents returns every event of the fulfillment with GID
// fulfillmentID, oldest first (by HappenedAt), reading all pages. A
// fulfillment Shopify does not know is a permanent error wrapping
// ErrNotFound.
func (c *Client) FulfillmentEvents(ctx context.Context, fulfillmentID string) ([]FulfillmentEvent, error) {
	var out []FulfillmentEvent
	after := ""
	for {
		var resp struct {
			Fulfillment *struct {
				Events struct {
					Nodes []struct {
						ID         string    `json:"id"`
						Status     string    `json:"status"`
						Message    *string   `json:"message"`
						HappenedAt time.Time `json:"happenedAt"`
					} `json:"nodes"`
					PageInfo pageInfo `json:"pageInfo"`
				} `json:"events"`
			} `json:"fulfillment"`
		}
		vars := map[string]any{"id": fulfillmentID, "first": fulfillmentEventsPageSize, "after": nullable(after)}
		if err := c.Do(ctx, "FulfillmentEvents", vars, &resp); err != nil {
			return nil, err
		}
		if resp.Fulfillment == nil {
			return nil, connector.Permanent(fmt.Errorf("%w: fulfillment %s", ErrNotFound, fulfillmentID))
		}
		for _, n := range resp.Fulfillment.Events.Nodes {
			out = append(out, FulfillmentEvent{ID: n.ID, Status: n.Status, Message: deref(n.Message), HappenedAt: n.HappenedAt})
		}
		next, err := resp.Fulfillment.Events.PageInfo.next(after)
		if err != nil {
			return nil, connector.Permanent(fmt.Errorf("shopify FulfillmentEvents %s: %w", fulfillmentID, err))
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// FulfillmentEventInput is a carrier event to record on a fulfillment.
type FulfillmentEventInput struct {
	// Status is a FulfillmentEventStatus: "CONFIRMED", "LABEL_PURCHASED",
	// "LABEL_PRINTED", "READY_FOR_PICKUP", "CARRIER_PICKED_UP",
	// "IN_TRANSIT", "OUT_FOR_DELIVERY", "ATTEMPTED_DELIVERY", "DELAYED",
	// "DELIVERED" or "FAILURE".
	Status string
	// HappenedAt is when the event happened; zero lets Shopify use now.
	HappenedAt time.Time
	// Message, City and Country are optional ("" sends none).
	Message, City, Country string
	// EstimatedDeliveryAt is the carrier's delivery estimate, if any.
	EstimatedDeliveryAt *time.Time
}

// CreateFulfillmentEvent records a carrier event on the fulfillment with
// GID fulfillmentID and returns the event's GID. Shopify derives the
// fulfillment's displayStatus (and inTransitAt, deliveredAt) from its
// events. An empty status is refused before sending, as a permanent error;
// Shopify's refusals are a permanent *UserErrorsError.
func (c *Client) CreateFulfillmentEvent(ctx context.Context, fulfillmentID string, in FulfillmentEventInput) (string, error) {
	if strings.TrimSpace(in.Status) == "" {
		return "", connector.Permanent(fmt.Errorf("shopify FulfillmentEventCreate %s: no status", fulfillmentID))
	}
	ev := map[string]any{"fulfillmentId": fulfillmentID, "status": in.Status}
	if !in.HappenedAt.IsZero() {
		ev["happenedAt"] = in.HappenedAt.UTC().Format(time.RFC3339)
	}
	if in.EstimatedDeliveryAt != nil {
		ev["estimatedDeliveryAt"] = in.EstimatedDeliveryAt.UTC().Format(time.RFC3339)
	}
	for k, v := range map[string]string{"message": in.Message, "city": in.City, "country": in.Country} {
		if v != "" {
			ev[k] = v
		}
	}
	var resp struct {
		P struct {
			Event *wireID `json:"fulfillmentEvent"`
		} `json:"fulfillmentEventCreate"`
	}
	if err := c.Do(ctx, "FulfillmentEventCreate", map[string]any{"fulfillmentEvent": ev}, &resp); err != nil {
		return "", err
	}
	if resp.P.Event == nil {
		return "", connector.Permanent(fmt.Errorf("shopify FulfillmentEventCreate %s: no fulfillment event in the answer", fulfillmentID))
	}
	return resp.P.Event.ID, nil
}

// UpdateTracking replaces the tracking of the fulfillment with GID
// fulfillmentID with numbers, urls and the carrier company (empty values
// are not sent; Shopify builds URLs for carriers it knows).
// notifyCustomer asks Shopify to email the customer about this and later
// updates. Shopify's refusals are a permanent *UserErrorsError.
func (c *Client) UpdateTracking(ctx context.Context, fulfillmentID string, numbers, urls []string, company string, notifyCustomer bool) error {
	tracking := map[string]any{}
	if len(numbers) > 0 {
		tracking["numbers"] = numbers
	}
	if len(urls) > 0 {
		tracking["urls"] = urls
	}
	if company != "" {
		tracking["company"] = company
	}
	var resp struct {
		P struct {
			Fulfillment *wireID `json:"fulfillment"`
		} `json:"fulfillmentTrackingInfoUpdate"`
	}
	vars := map[string]any{"fulfillmentId": fulfillmentID, "trackingInfoInput": tracking, "notifyCustomer": notifyCustomer}
	if err := c.Do(ctx, "FulfillmentTrackingInfoUpdate", vars, &resp); err != nil {
		return err
	}
	if resp.P.Fulfillment == nil {
		return connector.Permanent(fmt.Errorf("shopify FulfillmentTrackingInfoUpdate %s: no fulfillment in the answer", fulfillmentID))
	}
	return nil
}
