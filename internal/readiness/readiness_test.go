package readiness

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

type fixture struct {
	sims *demo.Sims
	cfg  *config.Config
	st   *store.Store
}

// setup starts the demo simulators and returns a complete configuration
// for them (every owner, policy and timer declared) with its database.
func setup(t *testing.T) *fixture {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 12, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	cfg := sims.HubConfig("127.0.0.1:1", filepath.Join(t.TempDir(), "hub.db"))
	s := &cfg.Shops[0]
	s.SourcesOfTruth = config.SourcesOfTruth{}
	for _, d := range config.Domains() {
		s.SourcesOfTruth[d] = config.AllowedOwners(d)[0]
	}
	s.SourcesOfTruth[config.DomainStock] = config.OwnerWMS
	s.Policies = config.Policies{UnknownSKU: config.UnknownSKUHold, CancelAfterPick: config.CancelAfterPickAskWMS, ManualStockEdit: config.ManualStockEditCorrect}
	s.SLA = config.SLA{AckWithin: config.Duration(15 * time.Minute), FulfillmentRequestAnswerWithin: config.Duration(5 * time.Minute),
		TrackingWithin: config.Duration(24 * time.Hour), StockRefreshWithin: config.Duration(5 * time.Minute), WebhookCheckInterval: config.Duration(time.Hour)}
	cfg.WebhookMaxBody = 1 << 20 // HubConfig leaves defaults to config.Parse
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), store.SQLite, cfg.Database.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &fixture{sims: sims, cfg: cfg, st: st}
}

// prepare registers what the hub registers at start.
func (f *fixture) prepare(t *testing.T) {
	t.Helper()
	reg, err := tenant.New(f.cfg, tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.PrepareShops(t.Context(), f.st, reg, f.cfg.PublicURL, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t *testing.T) *Report {
	t.Helper()
	rep, err := Run(t.Context(), f.cfg, Options{Store: f.st, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Status != OK && c.Fix == "" {
			t.Errorf("%s line says not what to do: %+v", c.Status, c)
		}
	}
	return rep
}

// blockers returns "check/warehouse: detail" for each blocker.
func blockers(rep *Report) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status == Blocker {
			out = append(out, fmt.Sprintf("%s/%s: %s", c.Check, c.Warehouse, c.Detail))
		}
	}
	return out
}

func TestReadyAfterPrepare(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prepare(t)
	rep := f.run(t)
	if !rep.Ready {
		t.Fatalf("not ready: %v", blockers(rep))
	}
	for _, c := range rep.Checks {
		if c.Status != OK {
			t.Errorf("unexpected %s: %+v", c.Status, c)
		}
	}
	if len(rep.Checks) != 11 {
		t.Errorf("%d checks, want 11 (sources_of_truth, 3 policies, sla, 2 connectors, webhooks, 2 locations, sku_coverage): %+v", len(rep.Checks), rep.Checks)
	}
}

func TestFreshShopLacksRegistrations(t *testing.T) {
	t.Parallel()
	f := setup(t)
	rep := f.run(t)
	want := []string{
		"webhooks/: no subscription to http://127.0.0.1:1/webhooks/shopify for orders/create, orders/updated, orders/cancelled, orders/edited, fulfillment_orders/fulfillment_request_submitted, fulfillment_orders/cancellation_request_submitted, inventory_levels/update, returns/approve, returns/close",
		"locations/paris: no fulfillment-service location registered (none in the hub's database)",
		"locations/newark: no fulfillment-service location registered (none in the hub's database)",
	}
	if diff := cmp.Diff(want, blockers(rep)); diff != "" {
		t.Errorf("blockers (-want +got):\n%s", diff)
	}
}

func TestMissingOwnerPolicyAndTimers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prepare(t)
	s := &f.cfg.Shops[0]
	delete(s.SourcesOfTruth, config.DomainStock)
	s.Warehouses[1].SourcesOfTruth = config.SourcesOfTruth{config.DomainStock: config.OwnerWMS}
	s.Policies.UnknownSKU = ""
	s.SLA = config.SLA{}
	rep := f.run(t)
	want := []string{
		"sources_of_truth/: no owner declared for stock (warehouses: paris)",
		"policies.unknown_sku/: no policy for an order line whose SKU no warehouse knows",
		"sla/: no SLA timers: a stuck order or a stale stock would go unnoticed",
	}
	if diff := cmp.Diff(want, blockers(rep)); diff != "" {
		t.Errorf("blockers (-want +got):\n%s", diff)
	}
	if rep.Ready {
		t.Error("report says ready")
	}
}

func TestUnreachableWarehouseAndUnknownSKU(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prepare(t)
	if _, err := f.sims.Shopify.AddProducts([]shopifysim.ProductInput{{Title: "Ghost", Variants: []shopifysim.VariantInput{{SKU: "GHOST-1", Price: "1.00"}, {Price: "1.00"}}}}); err != nil {
		t.Fatal(err)
	}
	f.cfg.Shops[0].Warehouses[0].Connector.Settings["base_url"] = "http://127.0.0.1:1"
	rep := f.run(t)
	got := blockers(rep)
	if len(got) != 2 || !strings.HasPrefix(got[0], "connector/paris: stock read failed") ||
		got[1] != "sku_coverage/: 1 of 13 SKUs are known to no warehouse: GHOST-1 (unreachable, not counted: paris)" {
		t.Errorf("blockers = %q", got)
	}
	var noSKU bool
	for _, c := range rep.Checks {
		noSKU = noSKU || (c.Status == Warning && c.Detail == "1 variants have no SKU: their lines are held by dispatch")
	}
	if !noSKU {
		t.Errorf("no warning for the variant without SKU: %+v", rep.Checks)
	}
}

func TestUnusualOwnersWarn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prepare(t)
	f.cfg.Shops[0].Warehouses[0].SourcesOfTruth = config.SourcesOfTruth{config.DomainStock: config.OwnerShopify}
	f.cfg.Shops[0].SLA.StockRefreshWithin = config.Duration(time.Millisecond)
	rep := f.run(t)
	if !rep.Ready {
		t.Fatalf("not ready: %v", blockers(rep))
	}
	var warned []string
	for _, c := range rep.Checks {
		if c.Status == Warning && c.Check != "sku_coverage" {
			warned = append(warned, c.Check+"/"+c.Warehouse)
		}
	}
	if diff := cmp.Diff([]string{"sources_of_truth/paris", "sla/"}, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Run(ctx, f.cfg, Options{Store: f.st}); err == nil {
		t.Fatal("Run on a cancelled context returned no error")
	}
}

// TestCoverageFollowsTheMapping: a Shopify SKU that a warehouse knows under
// another item code (mapping tables) is covered; unmapped it is not.
func TestCoverageFollowsTheMapping(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.prepare(t)
	if _, err := f.sims.Shopify.AddProducts([]shopifysim.ProductInput{{Title: "Renamed", Variants: []shopifysim.VariantInput{{SKU: "NEW-NAME", Price: "1.00"}}}}); err != nil {
		t.Fatal(err)
	}
	if got := blockers(f.run(t)); len(got) != 1 || !strings.HasPrefix(got[0], "sku_coverage/: 1 of 13 SKUs are known to no warehouse: NEW-NAME") {
		t.Fatalf("unmapped: blockers = %q", got)
	}
	m := mapping.Mapping{Warehouse: "newark", SKU: "NEW-NAME", ItemCode: f.sims.SKUs[11], EffectiveFrom: time.Now().Add(-time.Hour)}
	if _, err := mapping.New(f.st).Set(t.Context(), f.cfg.Shops[0].Domain, m, mapping.Author{Actor: "test", Reason: "renamed in Shopify"}); err != nil {
		t.Fatal(err)
	}
	if rep := f.run(t); !rep.Ready {
		t.Fatalf("mapped: blockers = %q", blockers(rep))
	}
}
