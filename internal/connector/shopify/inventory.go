package shopify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// InventoryQuantity is one "available" quantity to set.
type InventoryQuantity struct {
	// InventoryItemID and LocationID are GIDs.
	InventoryItemID string
	LocationID      string
	// Quantity is the new available quantity (0 … 1,000,000,000).
	Quantity int
	// ChangeFromQuantity is the quantity the caller last read: Shopify
	// refuses the change with CHANGE_FROM_QUANTITY_STALE when it differs.
	// nil skips the check (sent as an explicit null, as 2026-04+ requires).
	ChangeFromQuantity *int
}

// wireQuantity is InventoryQuantityInput; changeFromQuantity is always sent.
type wireQuantity struct {
	InventoryItemID    string `json:"inventoryItemId"`
	LocationID         string `json:"locationId"`
	Quantity           int    `json:"quantity"`
	ChangeFromQuantity *int   `json:"changeFromQuantity"`
}

// SetInventory sets the "available" quantities qs (at most MaxInputItems,
// one per item and location) with reason (e.g. "correction",
// "cycle_count_available") and referenceDocumentUri refURI (may be ""). key
// is the @idempotent key: a replay with the same key returns the original
// result, so use one key per intended change and a new key after a failure.
// It returns the inventory adjustment group's GID ("" when nothing changed).
//
// A stale changeFromQuantity yields a permanent error wrapping
// *StaleQuantityError that lists the stale entries; other userErrors a
// permanent *UserErrorsError.
func (c *Client) SetInventory(ctx context.Context, key, reason, refURI string, qs []InventoryQuantity) (string, error) {
	if strings.TrimSpace(key) == "" {
		return "", connector.Permanent(errors.New("shopify InventorySetQuantities: empty idempotency key"))
	}
	if len(qs) == 0 {
		return "", nil
	}
	if len(qs) > MaxInputItems {
		return "", connector.Permanent(fmt.Errorf("shopify InventorySetQuantities: %d quantities, at most %d per call", len(qs), MaxInputItems))
	}
	wq := make([]wireQuantity, len(qs))
	for i, q := range qs {
		wq[i] = wireQuantity(q)
	}
	input := map[string]any{"name": "available", "reason": reason, "quantities": wq}
	if refURI != "" {
		input["referenceDocumentUri"] = refURI
	}
	var resp struct {
		P struct {
			Group *wireID `json:"inventoryAdjustmentGroup"`
		} `json:"inventorySetQuantities"`
	}
	err := c.Do(ctx, "InventorySetQuantities", map[string]any{"input": input, "idempotencyKey": key}, &resp)
	var uerr *UserErrorsError
	if errors.As(err, &uerr) && uerr.HasCode("CHANGE_FROM_QUANTITY_STALE") {
		return "", connector.Permanent(staleError(uerr, qs))
	}
	if err != nil {
		return "", err
	}
	if resp.P.Group == nil {
		return "", nil
	}
	return resp.P.Group.ID, nil
}

// staleError lists the entries of qs that Shopify reported stale.
func staleError(uerr *UserErrorsError, qs []InventoryQuantity) *StaleQuantityError {
	e := &StaleQuantityError{UserErrors: uerr}
	for _, u := range uerr.Errors {
		if u.Code != "CHANGE_FROM_QUANTITY_STALE" {
			continue
		}
		i, ok := fieldIndex(u.Field, "quantities")
		if !ok || i >= len(qs) {
			e.Items = append(e.Items, StaleItem{Index: -1, Message: u.Message})
			continue
		}
		q := qs[i]
		e.Items = append(e.Items, StaleItem{
			Index:              i,
			InventoryItemID:    q.InventoryItemID,
			LocationID:         q.LocationID,
			ChangeFromQuantity: q.ChangeFromQuantity,
			Message:            u.Message,
		})
	}
	return e
}

// InventoryLevel is the available quantity of one item at a location.
type InventoryLevel struct {
	// InventoryItemID is the item's GID.
	InventoryItemID string
	SKU             string
	Available       int
}

// inventoryLevelsPageSize is the page size of AllInventoryLevels.
const inventoryLevelsPageSize = 250

// AllInventoryLevels returns the available quantity of every item stocked
// at the location with GID locationID, reading every page. A missing
// location is a permanent error wrapping ErrNotFound.
func (c *Client) AllInventoryLevels(ctx context.Context, locationID string) ([]InventoryLevel, error) {
	var levels []InventoryLevel
	after := ""
	for {
		var resp struct {
			Location *struct {
				InventoryLevels struct {
					Nodes []struct {
						Item struct {
							ID  string `json:"id"`
							SKU string `json:"sku"`
						} `json:"item"`
						Quantities []struct {
							Name     string `json:"name"`
							Quantity *int   `json:"quantity"`
						} `json:"quantities"`
					} `json:"nodes"`
					PageInfo pageInfo `json:"pageInfo"`
				} `json:"inventoryLevels"`
			} `json:"location"`
		}
		vars := map[string]any{"id": locationID, "first": inventoryLevelsPageSize, "after": nullable(after)}
		if err := c.Do(ctx, "LocationInventoryLevels", vars, &resp); err != nil {
			return nil, err
		}
		if resp.Location == nil {
			return nil, connector.Permanent(fmt.Errorf("%w: location %s", ErrNotFound, locationID))
		}
		for i, n := range resp.Location.InventoryLevels.Nodes {
			// Like the bulk read: a level without item or without an
			// available quantity is an error, not a level of 0 (found by
			// FuzzDecodeGraphQLResponse).
			if n.Item.ID == "" {
				return nil, connector.Permanent(fmt.Errorf("shopify LocationInventoryLevels %s: level %d has no inventory item id", locationID, len(levels)+i))
			}
			l := InventoryLevel{InventoryItemID: n.Item.ID, SKU: n.Item.SKU}
			found := false
			for _, q := range n.Quantities {
				if q.Name == "available" && q.Quantity != nil {
					l.Available, found = *q.Quantity, true
				}
			}
			if !found {
				return nil, connector.Permanent(fmt.Errorf("shopify LocationInventoryLevels %s: item %s has no available quantity", locationID, n.Item.ID))
			}
			levels = append(levels, l)
		}
		next, err := resp.Location.InventoryLevels.PageInfo.next(after)
		if err != nil {
			return nil, fmt.Errorf("shopify LocationInventoryLevels: %w", err)
		}
		if next == "" {
			return levels, nil
		}
		after = next
	}
}

// Variant is a product variant with its inventory item.
type Variant struct {
	// ID and InventoryItemID are GIDs.
	ID              string
	SKU             string
	Barcode         string
	InventoryItemID string
	// Tracked reports whether Shopify tracks the item's inventory.
	Tracked bool
}

// variantsPageSize is the page size of AllVariants.
const variantsPageSize = 250

// AllVariants returns every product variant of the shop, reading every
// page: the SKU ↔ inventory item mapping.
func (c *Client) AllVariants(ctx context.Context) ([]Variant, error) {
	var out []Variant
	after := ""
	for {
		var resp struct {
			ProductVariants struct {
				Nodes []struct {
					ID            string `json:"id"`
					SKU           string `json:"sku"`
					Barcode       string `json:"barcode"`
					InventoryItem struct {
						ID      string `json:"id"`
						Tracked bool   `json:"tracked"`
					} `json:"inventoryItem"`
				} `json:"nodes"`
				PageInfo pageInfo `json:"pageInfo"`
			} `json:"productVariants"`
		}
		if err := c.Do(ctx, "ProductVariants", map[string]any{"first": variantsPageSize, "after": nullable(after)}, &resp); err != nil {
			return nil, err
		}
		for _, n := range resp.ProductVariants.Nodes {
			out = append(out, Variant{ID: n.ID, SKU: n.SKU, Barcode: n.Barcode, InventoryItemID: n.InventoryItem.ID, Tracked: n.InventoryItem.Tracked})
		}
		next, err := resp.ProductVariants.PageInfo.next(after)
		if err != nil {
			return nil, fmt.Errorf("shopify ProductVariants: %w", err)
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}
