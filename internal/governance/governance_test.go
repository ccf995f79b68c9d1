package governance

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/config"
)

func setup(t *testing.T, shop config.SourcesOfTruth, paris config.SourcesOfTruth, p config.Policies) *Rules {
	t.Helper()
	return New(config.Shop{
		Domain:         "a.myshopify.com",
		SourcesOfTruth: shop,
		Policies:       p,
		Warehouses:     []config.Warehouse{{ID: "paris", SourcesOfTruth: paris}, {ID: "newark"}},
	})
}

func TestOwnerOverride(t *testing.T) {
	t.Parallel()
	r := setup(t, config.SourcesOfTruth{config.DomainStock: config.OwnerWMS}, config.SourcesOfTruth{config.DomainStock: config.OwnerShopify}, config.Policies{})
	if o, ok := r.Owner("paris", config.DomainStock); !ok || o != config.OwnerShopify {
		t.Errorf("paris stock owner = %q, %v; want the warehouse override", o, ok)
	}
	if o, ok := r.Owner("newark", config.DomainStock); !ok || o != config.OwnerWMS {
		t.Errorf("newark stock owner = %q, %v; want the shop's", o, ok)
	}
	if _, ok := r.Owner("newark", config.DomainTracking); ok {
		t.Error("tracking reported declared")
	}
	if d := r.StockPush("paris"); d.Allowed || !strings.Contains(d.Reason, "refused: shopify owns stock for warehouse paris") {
		t.Errorf("stock push at paris = %+v", d)
	}
	if d := r.StockPush("newark"); !d.Allowed || !d.Declared {
		t.Errorf("stock push at newark = %+v", d)
	}
}

func TestUndeclaredUsesDefaults(t *testing.T) {
	t.Parallel()
	r := setup(t, nil, nil, config.Policies{})
	if d := r.Check("newark", config.DomainTracking, config.OwnerWMS); !d.Allowed || d.Declared || !strings.Contains(d.Reason, "none declared") {
		t.Errorf("tracking by wms = %+v", d)
	}
	if r.UnknownSKU() != config.UnknownSKUHold || r.CancelAfterPick() != config.CancelAfterPickAskWMS {
		t.Errorf("policy defaults = %q, %q", r.UnknownSKU(), r.CancelAfterPick())
	}
	if a, why := r.ManualStockEdit("paris"); a != StockEditCorrect || !strings.Contains(why, "no manual_stock_edit policy") {
		t.Errorf("manual edit = %q, %q", a, why)
	}
	want := map[string][]config.DataDomain{"paris": config.Domains(), "newark": config.Domains()}
	if diff := cmp.Diff(want, r.Undeclared()); diff != "" {
		t.Errorf("undeclared (-want +got):\n%s", diff)
	}
}

func TestManualStockEdit(t *testing.T) {
	t.Parallel()
	r := setup(t, config.SourcesOfTruth{config.DomainStock: config.OwnerWMS}, config.SourcesOfTruth{config.DomainStock: config.OwnerShopify},
		config.Policies{ManualStockEdit: config.ManualStockEditFlag})
	if a, _ := r.ManualStockEdit("paris"); a != StockEditAccept {
		t.Errorf("paris (Shopify owns stock) = %q", a)
	}
	if a, why := r.ManualStockEdit("newark"); a != StockEditFlag || !strings.Contains(why, "manual_stock_edit: flag") {
		t.Errorf("newark = %q, %q", a, why)
	}
}

// TestCheckAllowsOnlyTheOwner: for any declaration, exactly one writer is
// allowed per domain and warehouse, and it is the effective owner.
func TestCheckAllowsOnlyTheOwner(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		gen := func(label string) config.SourcesOfTruth {
			s := config.SourcesOfTruth{}
			for _, d := range config.Domains() {
				if rapid.Bool().Draw(t, label+string(d)+"?") {
					s[d] = rapid.SampledFrom(config.AllowedOwners(d)).Draw(t, label+string(d))
				}
			}
			return s
		}
		r := New(config.Shop{Domain: "a.myshopify.com", SourcesOfTruth: gen("shop."), Warehouses: []config.Warehouse{{ID: "w", SourcesOfTruth: gen("w.")}}})
		for _, d := range config.Domains() {
			allowed := 0
			for _, o := range []config.Owner{config.OwnerShopify, config.OwnerWMS, config.OwnerHub} {
				dec := r.Check("w", d, o)
				if dec.Allowed {
					allowed++
					if o != r.Effective("w", d) {
						t.Fatalf("%s: %s allowed but %s is in force", d, o, r.Effective("w", d))
					}
				} else if dec.Reason == "" {
					t.Fatalf("%s: refusal of %s has no reason", d, o)
				}
			}
			if allowed != 1 {
				t.Fatalf("%s: %d writers allowed", d, allowed)
			}
		}
	})
}
