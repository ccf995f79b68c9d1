package shopify

import (
	"context"
	"fmt"

	"github.com/crossdock/crossdock/internal/connector"
)

// SplitResult is the outcome of SplitFulfillmentOrder.
type SplitResult struct {
	// OriginalID is the fulfillment order that kept the lines not split
	// out (the one split, or its replacement when Shopify could not split
	// it in its state).
	OriginalID string
	// NewID is the new fulfillment order holding the lines split out.
	NewID string
}

// SplitFulfillmentOrder moves the given quantities (by fulfillment order
// line item GID) of fulfillment order id into a new fulfillment order at
// the same location (fulfillmentOrderSplit).
func (c *Client) SplitFulfillmentOrder(ctx context.Context, id string, lines map[string]int) (SplitResult, error) {
	if len(lines) == 0 {
		return SplitResult{}, connector.Permanent(fmt.Errorf("shopify FulfillmentOrderSplit %s: no line items to split out", id))
	}
	items := make([]map[string]any, 0, len(lines))
	for lid, q := range lines {
		items = append(items, map[string]any{"id": lid, "quantity": q})
	}
	vars := map[string]any{"fulfillmentOrderSplits": []map[string]any{{"fulfillmentOrderId": id, "fulfillmentOrderLineItems": items}}}
	type ref struct {
		ID string `json:"id"`
	}
	var resp struct {
		P struct {
			Splits []struct {
				Original    *ref `json:"fulfillmentOrder"`
				Remaining   *ref `json:"remainingFulfillmentOrder"`
				Replacement *ref `json:"replacementFulfillmentOrder"`
			} `json:"fulfillmentOrderSplits"`
		} `json:"fulfillmentOrderSplit"`
	}
	if err := c.Do(ctx, "FulfillmentOrderSplit", vars, &resp); err != nil {
		return SplitResult{}, err
	}
	if len(resp.P.Splits) != 1 || resp.P.Splits[0].Remaining == nil || resp.P.Splits[0].Original == nil {
		return SplitResult{}, fmt.Errorf("shopify FulfillmentOrderSplit %s: answer without the split fulfillment orders", id)
	}
	sp := resp.P.Splits[0]
	res := SplitResult{OriginalID: sp.Original.ID, NewID: sp.Remaining.ID}
	if sp.Replacement != nil && sp.Replacement.ID != "" {
		res.OriginalID = sp.Replacement.ID
	}
	return res, nil
}
