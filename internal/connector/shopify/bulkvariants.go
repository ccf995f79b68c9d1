package shopify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/crossdock/crossdock/internal/connector"
)

// bulkVariantsQuery reads every variant with its inventory item, as
// AllVariants does page by page.
const bulkVariantsQuery = `{
  productVariants {
    edges {
      node {
        id
        sku
        barcode
        inventoryItem {
          id
          tracked
        }
      }
    }
  }
}`

// BulkVariants returns every product variant with its SKU, barcode and
// inventory item, like AllVariants, read with one bulk operation: for a
// large catalogue it costs a mutation and a few polls instead of about
// three points per variant.
func (c *Client) BulkVariants(ctx context.Context) ([]Variant, error) {
	body, err := c.BulkQuery(ctx, bulkVariantsQuery, DefaultBulkPoll)
	if err != nil {
		return nil, fmt.Errorf("shopify bulk variants: %w", err)
	}
	defer body.Close()
	var out []Variant
	err = eachLine(body, func(n int, line []byte) error {
		var v struct {
			ID            string  `json:"id"`
			SKU           *string `json:"sku"`
			Barcode       *string `json:"barcode"`
			InventoryItem *struct {
				ID      string `json:"id"`
				Tracked bool   `json:"tracked"`
			} `json:"inventoryItem"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			return connector.Permanent(fmt.Errorf("shopify bulk variants: result line %d: %w", n, err))
		}
		if v.ID == "" {
			return connector.Permanent(fmt.Errorf("shopify bulk variants: result line %d has no id", n))
		}
		out = append(out, Variant{ID: v.ID, SKU: strOf(v.SKU), Barcode: strOf(v.Barcode), InventoryItemID: itemID(v.InventoryItem), Tracked: v.InventoryItem != nil && v.InventoryItem.Tracked})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func strOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func itemID(it *struct {
	ID      string `json:"id"`
	Tracked bool   `json:"tracked"`
}) string {
	if it == nil {
		return ""
	}
	return it.ID
}
