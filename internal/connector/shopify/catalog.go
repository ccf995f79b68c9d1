package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// CatalogVariant is one product variant as the catalogue audit reads it.
type CatalogVariant struct {
	// ID is the ProductVariant GID.
	ID string `json:"id"`
	// SKU is the variant's SKU exactly as Shopify holds it (surrounding
	// spaces and case included); empty when the variant has none.
	SKU string `json:"sku"`
	// Barcode is the variant's barcode (GTIN, EAN, UPC…), if any.
	Barcode string `json:"barcode,omitempty"`
	// Title is the variant title ("Default Title" for single variants).
	Title string `json:"title"`
	// InventoryItemID is the InventoryItem GID.
	InventoryItemID string `json:"inventory_item_id"`
	// InventoryItemSKU is the inventory item's SKU (Shopify keeps it equal
	// to the variant's).
	InventoryItemSKU string `json:"inventory_item_sku,omitempty"`
	// Tracked reports whether Shopify tracks the item's inventory.
	Tracked bool `json:"tracked"`
	// ProductID is the Product GID.
	ProductID string `json:"product_id"`
	// ProductTitle is the product's title.
	ProductTitle string `json:"product_title"`
	// ProductStatus is the ProductStatus: ACTIVE, ARCHIVED, DRAFT or
	// UNLISTED.
	ProductStatus string `json:"product_status"`
}

// CatalogPageSize is the page size of CatalogPage: 250 variants request
// 752 cost points (2 + 250 × 3), under the 1,000-point single-query limit.
const CatalogPageSize = 250

// CatalogPage reads one page of the catalogue after the cursor after (""
// for the first page). It returns the variants and the cursor of the next
// page, "" after the last one. Requests are paced by the client's throttle
// handling like every other operation.
func (c *Client) CatalogPage(ctx context.Context, after string) (variants []CatalogVariant, next string, err error) {
	var resp struct {
		ProductVariants struct {
			Nodes []struct {
				ID            string  `json:"id"`
				SKU           *string `json:"sku"`
				Barcode       *string `json:"barcode"`
				Title         string  `json:"title"`
				InventoryItem *struct {
					ID      string  `json:"id"`
					SKU     *string `json:"sku"`
					Tracked bool    `json:"tracked"`
				} `json:"inventoryItem"`
				Product *struct {
					ID     string `json:"id"`
					Title  string `json:"title"`
					Status string `json:"status"`
				} `json:"product"`
			} `json:"nodes"`
			PageInfo pageInfo `json:"pageInfo"`
		} `json:"productVariants"`
	}
	if err := c.Do(ctx, "CatalogVariants", map[string]any{"first": CatalogPageSize, "after": nullable(after)}, &resp); err != nil {
		return nil, "", err
	}
	out := make([]CatalogVariant, 0, len(resp.ProductVariants.Nodes))
	for _, n := range resp.ProductVariants.Nodes {
		v := CatalogVariant{ID: n.ID, SKU: deref(n.SKU), Barcode: deref(n.Barcode), Title: n.Title}
		if it := n.InventoryItem; it != nil {
			v.InventoryItemID, v.InventoryItemSKU, v.Tracked = it.ID, deref(it.SKU), it.Tracked
		}
		if p := n.Product; p != nil {
			v.ProductID, v.ProductTitle, v.ProductStatus = p.ID, p.Title, p.Status
		}
		out = append(out, v)
	}
	next, err = resp.ProductVariants.PageInfo.next(after)
	if err != nil {
		return nil, "", fmt.Errorf("shopify CatalogVariants: %w", err)
	}
	return out, next, nil
}

// Catalog reads every page of the catalogue. progress, if not nil, is
// called after each page with the number of variants read so far.
func (c *Client) Catalog(ctx context.Context, progress func(read int)) ([]CatalogVariant, error) {
	var all []CatalogVariant
	after := ""
	for {
		page, next, err := c.CatalogPage(ctx, after)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if progress != nil {
			progress(len(all))
		}
		if next == "" {
			return all, nil
		}
		after = next
	}
}

// bulkCatalogQuery is the catalogue as one bulk query: every variant with
// the fields of CatalogVariants.
const bulkCatalogQuery = `{
  productVariants {
    edges {
      node {
        id
        sku
        barcode
        title
        inventoryItem {
          id
          sku
          tracked
        }
        product {
          id
          title
          status
        }
      }
    }
  }
}`

// bulkCatalogLine is one JSONL line of bulkCatalogQuery.
type bulkCatalogLine struct {
	ID            string  `json:"id"`
	SKU           *string `json:"sku"`
	Barcode       *string `json:"barcode"`
	Title         string  `json:"title"`
	InventoryItem *struct {
		ID      string  `json:"id"`
		SKU     *string `json:"sku"`
		Tracked bool    `json:"tracked"`
	} `json:"inventoryItem"`
	Product *struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Status string `json:"status"`
	} `json:"product"`
}

// CatalogBulk reads the same catalogue as Catalog with one bulk operation
// (BulkQuery, polled from poll, DefaultBulkPoll when ≤ 0): its cost is one
// mutation and the polls whatever the catalogue's size, where Catalog
// spends 3 points per variant. progress, if not nil, is called every 1,000
// variants decoded and at the end. A malformed line is a permanent error
// naming it.
func (c *Client) CatalogBulk(ctx context.Context, poll time.Duration, progress func(read int)) ([]CatalogVariant, error) {
	body, err := c.BulkQuery(ctx, bulkCatalogQuery, poll)
	if err != nil {
		return nil, fmt.Errorf("shopify bulk catalogue: %w", err)
	}
	defer body.Close()
	out, err := parseBulkCatalog(body, progress)
	if err != nil {
		return nil, fmt.Errorf("shopify bulk catalogue: %w", err)
	}
	return out, nil
}

// parseBulkCatalog decodes the JSONL of bulkCatalogQuery.
func parseBulkCatalog(r io.Reader, progress func(read int)) ([]CatalogVariant, error) {
	var out []CatalogVariant
	err := eachLine(r, func(n int, line []byte) error {
		var l bulkCatalogLine
		if err := json.Unmarshal(line, &l); err != nil || l.ID == "" {
			return connector.Permanent(fmt.Errorf("line %d is not a variant: %.200q", n, line))
		}
		v := CatalogVariant{ID: l.ID, SKU: deref(l.SKU), Barcode: deref(l.Barcode), Title: l.Title}
		if it := l.InventoryItem; it != nil {
			v.InventoryItemID, v.InventoryItemSKU, v.Tracked = it.ID, deref(it.SKU), it.Tracked
		}
		if p := l.Product; p != nil {
			v.ProductID, v.ProductTitle, v.ProductStatus = p.ID, p.Title, p.Status
		}
		out = append(out, v)
		if progress != nil && len(out)%1000 == 0 {
			progress(len(out))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(len(out))
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
