package hub

import (
	"log/slog"

	"github.com/crossdock/crossdock/internal/governance"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// StockWorker builds the stock engine with the shops' governance: it writes
// stock only where the warehouse owns it (sources_of_truth), and handles
// manual edits in Shopify as the manual_stock_edit policy says.
func StockWorker(st *store.Store, reg *tenant.Registry, log *slog.Logger) *stock.Worker {
	rules := func(shop string) *governance.Rules {
		t, ok := reg.Shop(shop)
		if !ok {
			return nil
		}
		return governance.New(t.Config)
	}
	return &stock.Worker{Store: st, Tenants: reg, Logger: log,
		ManualEdit: func(shop, warehouse string) string {
			r := rules(shop)
			if r == nil {
				return string(governance.StockEditCorrect)
			}
			a, _ := r.ManualStockEdit(warehouse)
			return string(a)
		},
		StockOwnedByWMS: func(shop, warehouse string) bool {
			r := rules(shop)
			return r == nil || r.StockPush(warehouse).Allowed
		},
	}
}
