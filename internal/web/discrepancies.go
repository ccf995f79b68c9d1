package web

import (
	"context"
	"fmt"
	"sort"

	"github.com/crossdock/crossdock/internal/store"
)

// StoreDiscrepancies reads reconciliation's findings from the store
// (package reconcile writes them there).
type StoreDiscrepancies struct{ Store *store.Store }

// ListDiscrepancies implements Discrepancies. The severity filter is
// applied here (the store filters by shop, kind and state).
func (s StoreDiscrepancies) ListDiscrepancies(ctx context.Context, f DiscrepancyFilter) ([]Discrepancy, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	ds, err := store.ListDiscrepancies(ctx, s.Store.Read, store.DiscrepancyFilter{Shop: f.Shop, Kind: f.Kind, State: f.State, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Discrepancy, 0, len(ds))
	for _, d := range ds {
		if f.Severity != "" && d.Severity != f.Severity {
			continue
		}
		state := "open"
		if d.ClosedAt != nil {
			state = "closed"
		}
		var ents []string
		for k, v := range d.Entities {
			ents = append(ents, fmt.Sprintf("%s: %s", k, v))
		}
		sort.Strings(ents)
		msg := d.Message
		if d.AutoHeal != "" {
			msg += " — auto-heal: " + d.AutoHeal
		}
		out = append(out, Discrepancy{ID: d.ID, Shop: d.Shop, Kind: d.Kind, Severity: d.Severity, State: state, Entities: ents,
			Message: msg, SuggestedFix: d.SuggestedFix, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen, ClosedAt: d.ClosedAt})
	}
	return out, nil
}

// OpenDiscrepancies implements Discrepancies.
func (s StoreDiscrepancies) OpenDiscrepancies(ctx context.Context) (map[string]int, error) {
	return store.CountOpenDiscrepanciesByKind(ctx, s.Store.Read, "")
}
