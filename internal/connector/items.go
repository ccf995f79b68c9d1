package connector

import "context"

// Item is one entry of a warehouse's item master: the article the WMS
// knows, under its own item code.
type Item struct {
	// Code is the warehouse's item code (often the SKU itself).
	Code string `json:"code"`
	// Description is the warehouse's label for the item.
	Description string `json:"description,omitempty"`
	// Barcodes are the GTIN/EAN/UPC codes the warehouse scans for it.
	Barcodes []string `json:"barcodes,omitempty"`
	// UOM is the unit of measure the warehouse counts in ("EA", "CS"...).
	UOM string `json:"uom,omitempty"`
	// PackSize is the number of sellable units in one UOM (1 for "EA").
	PackSize int `json:"pack_size,omitempty"`
	// Active is false for items the warehouse has retired.
	Active bool `json:"active"`
}

// ItemMaster is the optional capability of connectors that can list the
// warehouse's item master; the catalogue audit and the readiness check use
// it. Callers test for it with a type assertion.
type ItemMaster interface {
	// Items returns every item the warehouse knows.
	Items(ctx context.Context) ([]Item, error)
}
