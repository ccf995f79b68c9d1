package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// A configuration change is recorded once, with the lines that changed and
// no secret; starting again with the same configuration records nothing.
func TestAuditConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st := storetest.Open(t, d)
			cfg := &config.Config{Listen: "127.0.0.1:8080", Shops: []config.Shop{{Domain: "a.myshopify.com", AccessToken: "shpat_SECRET_1",
				StockInterval: config.Duration(30e9), Warehouses: []config.Warehouse{{ID: "paris", Name: "Paris"}}}}}
			for i, want := range []bool{true, false} {
				if changed, err := AuditConfig(ctx, st, cfg); err != nil || changed != want {
					t.Fatalf("start %d: changed %v %v, want %v", i, changed, err, want)
				}
			}
			cfg.Shops[0].StockInterval = config.Duration(60e9)
			cfg.Shops[0].AccessToken = "shpat_SECRET_2"
			if changed, err := AuditConfig(ctx, st, cfg); err != nil || !changed {
				t.Fatalf("after a change: %v %v", changed, err)
			}
			as, err := store.Actions(ctx, st.Read, "config", 10)
			if err != nil || len(as) != 2 {
				t.Fatalf("actions %+v %v", as, err)
			}
			last := as[0]
			if last.Action != "config_changed" || !strings.Contains(last.Reason, "stock_interval: 1m") || !strings.Contains(last.Reason, "stock_interval: 30s") {
				t.Errorf("recorded change %+v, want the stock_interval lines", last)
			}
			for _, a := range as {
				if strings.Contains(a.Reason, "SECRET") {
					t.Errorf("a secret is in the audit: %+v", a)
				}
			}
		})
	}
}
