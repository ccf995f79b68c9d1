package wmsfeed

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/store"
)

// backordered records on the order's timeline that the warehouse could not
// allocate it, with what it lacks. Progress does not move: the warehouse
// ships the order (picking, packed, shipped follow) once stock arrives.
func (p *Poller) backordered(ctx context.Context, tx *store.Tx, ev *connector.Event, timeline func(kind, msg string) error) error {
	if err := timeline("backordered", describeBackorder(ev, p.Warehouse)); err != nil {
		return err
	}
	return store.SetWMSEventOutcome(ctx, tx, p.Shop, p.Warehouse, ev.ID, "recorded")
}

// describeBackorder is the timeline message of a backordered event.
func describeBackorder(ev *connector.Event, warehouse string) string {
	if len(ev.Shortages) == 0 {
		return fmt.Sprintf("%s backordered by %s (no shortages given); it ships when stock arrives", ev.ExternalRef, warehouse)
	}
	parts := make([]string, 0, len(ev.Shortages))
	for _, s := range ev.Shortages {
		parts = append(parts, fmt.Sprintf("%s (needs %d, has %d)", s.SKU, s.Needed, s.Available))
	}
	return fmt.Sprintf("%s backordered by %s: short of %s; it ships when stock arrives", ev.ExternalRef, warehouse, strings.Join(parts, ", "))
}
