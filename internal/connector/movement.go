package connector

import (
	"context"
	"time"
)

// StockMovement is a change of one SKU's sellable quantity that a warehouse
// reports between snapshots: a receipt (X12 944), an inventory adjustment
// (X12 947), a return put back to stock.
type StockMovement struct {
	// ID is unique per warehouse; it is the deduplication key.
	ID string `json:"id"`
	// SKU is the warehouse's item code.
	SKU string `json:"sku"`
	// Delta is the change in sellable units (negative for a loss).
	Delta int `json:"delta"`
	// Reason says what happened ("receipt", "adjustment: damaged"...).
	Reason string `json:"reason,omitempty"`
	// At is when the warehouse recorded the movement.
	At time.Time `json:"at"`
}

// StockMovements is the optional capability of connectors whose warehouse
// reports stock movements between snapshots. The hub reads them after a
// cursor it stores, like Events.
type StockMovements interface {
	// Movements returns movements after cursor (empty: from the start),
	// at most limit, and the cursor to store for the next call.
	Movements(ctx context.Context, cursor string, limit int) ([]StockMovement, string, error)
}
