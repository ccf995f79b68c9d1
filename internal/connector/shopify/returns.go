package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crossdock/crossdock/internal/connector"
)

// Return topics the hub subscribes to.
const (
	// TopicReturnsApprove is sent when a return becomes OPEN: approved
	// after a request, or created directly (returnCreate).
	TopicReturnsApprove = "returns/approve"
	// TopicReturnsClose is sent when a return is closed (the merchant's
	// refund decision is made).
	TopicReturnsClose = "returns/close"
)

// ReturnWebhook is the payload of returns/* topics. It is a trigger: the
// hub re-reads the return (GetReturn).
type ReturnWebhook struct {
	ID                int64  `json:"id"`
	AdminGraphQLAPIID string `json:"admin_graphql_api_id,omitempty"`
	// Status is lower case, e.g. "open".
	Status string `json:"status,omitempty"`
	// Order is present on returns/approve, request and decline; other
	// topics carry OrderID.
	Order *struct {
		ID                int64  `json:"id"`
		AdminGraphQLAPIID string `json:"admin_graphql_api_id,omitempty"`
	} `json:"order,omitempty"`
	OrderID int64 `json:"order_id,omitempty"`
}

// GID is the return's GID.
func (w *ReturnWebhook) GID() string {
	if w.AdminGraphQLAPIID != "" {
		return w.AdminGraphQLAPIID
	}
	return fmt.Sprintf("gid://shopify/Return/%d", w.ID)
}

// OrderGID is the return's order GID ("" when the payload names none).
func (w *ReturnWebhook) OrderGID() string {
	switch {
	case w.Order != nil && w.Order.AdminGraphQLAPIID != "":
		return w.Order.AdminGraphQLAPIID
	case w.Order != nil && w.Order.ID > 0:
		return fmt.Sprintf("gid://shopify/Order/%d", w.Order.ID)
	case w.OrderID > 0:
		return fmt.Sprintf("gid://shopify/Order/%d", w.OrderID)
	}
	return ""
}

// DecodeReturnWebhook decodes a returns/* payload. It fails on malformed
// JSON, wrong types, or a missing return or order id.
func DecodeReturnWebhook(body []byte) (*ReturnWebhook, error) {
	var w ReturnWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.ID <= 0 && w.AdminGraphQLAPIID == "" {
		return nil, errors.New("missing return id")
	}
	if _, _, err := ParseGID(w.GID()); err != nil {
		return nil, fmt.Errorf("return id: %w", err)
	}
	if w.OrderGID() == "" {
		return nil, errors.New("missing order id")
	}
	return &w, nil
}

// Return is a Shopify return as the hub reads it.
type Return struct {
	ID        string
	Name      string // e.g. "#1001-R1"
	Status    string // ReturnStatus: OPEN, CLOSED, …
	OrderID   string
	OrderName string
	// Lines are the line items of its reverse fulfillment orders.
	Lines []ReturnLine
}

// ReturnLine is one reverse fulfillment order line item: units of a SKU
// coming back and what was recorded of them so far.
type ReturnLine struct {
	// ID is the ReverseFulfillmentOrderLineItem GID (what dispositions name).
	ID                        string
	ReverseFulfillmentOrderID string
	FulfillmentLineItemID     string
	SKU                       string
	TotalQuantity             int
	Dispositions              []Disposition
}

// Disposed is how many units already have a disposition.
func (l ReturnLine) Disposed() int {
	n := 0
	for _, d := range l.Dispositions {
		n += d.Quantity
	}
	return n
}

// Disposition types.
const (
	DispositionRestocked    = "RESTOCKED"
	DispositionNotRestocked = "NOT_RESTOCKED"
)

// Disposition is what became of returned units.
type Disposition struct {
	// Type is RESTOCKED, NOT_RESTOCKED, PROCESSING_REQUIRED or MISSING.
	Type     string
	Quantity int
	// LocationID is the Location GID ("" when none).
	LocationID string
}

// GetReturn reads a return with its reverse fulfillment order line items
// and their dispositions. A return Shopify does not know is a permanent
// error wrapping ErrNotFound.
func (c *Client) GetReturn(ctx context.Context, id string) (*Return, error) {
	var resp struct {
		Return *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"status"`
			Order  struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"order"`
			RFOs struct {
				Nodes []struct {
					ID        string `json:"id"`
					LineItems struct {
						Nodes []struct {
							ID            string `json:"id"`
							TotalQuantity int    `json:"totalQuantity"`
							FLI           *struct {
								ID       string `json:"id"`
								LineItem struct {
									SKU *string `json:"sku"`
								} `json:"lineItem"`
							} `json:"fulfillmentLineItem"`
							Dispositions []struct {
								Type     string  `json:"type"`
								Quantity int     `json:"quantity"`
								Location *wireID `json:"location"`
							} `json:"dispositions"`
						} `json:"nodes"`
					} `json:"lineItems"`
				} `json:"nodes"`
			} `json:"reverseFulfillmentOrders"`
		} `json:"return"`
	}
	if err := c.Do(ctx, "GetReturn", map[string]any{"id": id}, &resp); err != nil {
		return nil, err
	}
	r := resp.Return
	if r == nil {
		return nil, connector.Permanent(fmt.Errorf("%w: return %s", ErrNotFound, id))
	}
	out := &Return{ID: r.ID, Name: r.Name, Status: r.Status, OrderID: r.Order.ID, OrderName: r.Order.Name}
	for _, f := range r.RFOs.Nodes {
		for _, n := range f.LineItems.Nodes {
			l := ReturnLine{ID: n.ID, ReverseFulfillmentOrderID: f.ID, TotalQuantity: n.TotalQuantity}
			if n.FLI != nil {
				l.FulfillmentLineItemID, l.SKU = n.FLI.ID, deref(n.FLI.LineItem.SKU)
			}
			for _, d := range n.Dispositions {
				dd := Disposition{Type: d.Type, Quantity: d.Quantity}
				if d.Location != nil {
					dd.LocationID = d.Location.ID
				}
				l.Dispositions = append(l.Dispositions, dd)
			}
			out.Lines = append(out.Lines, l)
		}
	}
	return out, nil
}

// DispositionInput disposes units of one reverse fulfillment order line
// item.
type DispositionInput struct {
	// LineID is the ReverseFulfillmentOrderLineItem GID.
	LineID   string
	Quantity int
	// Type is RESTOCKED (LocationID required), NOT_RESTOCKED,
	// PROCESSING_REQUIRED or MISSING.
	Type       string
	LocationID string
}

// DisposeReturn records dispositions (reverseFulfillmentOrderDispose):
// RESTOCKED units become available at their location. It is not
// idempotent: callers compare with the dispositions GetReturn reads first.
// Shopify's refusals (more units than are left, no location to restock
// at) are a permanent *UserErrorsError.
func (c *Client) DisposeReturn(ctx context.Context, in []DispositionInput) error {
	if len(in) == 0 {
		return nil
	}
	list := make([]any, 0, len(in))
	for _, d := range in {
		if d.Type == DispositionRestocked && d.LocationID == "" {
			return connector.Permanent(fmt.Errorf("shopify ReverseFulfillmentOrderDispose %s: RESTOCKED needs a location", d.LineID))
		}
		m := map[string]any{"reverseFulfillmentOrderLineItemId": d.LineID, "quantity": d.Quantity, "dispositionType": d.Type}
		if d.LocationID != "" {
			m["locationId"] = d.LocationID
		}
		list = append(list, m)
	}
	var resp struct {
		P struct {
			Lines []wireID `json:"reverseFulfillmentOrderLineItems"`
		} `json:"reverseFulfillmentOrderDispose"`
	}
	return c.Do(ctx, "ReverseFulfillmentOrderDispose", map[string]any{"dispositionInputs": list}, &resp)
}
