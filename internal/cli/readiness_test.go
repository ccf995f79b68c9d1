package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/readiness"
)

// exampleConfig is the repository's example configuration, unmodified.
var exampleConfig = filepath.Join("..", "..", "examples", "crossdock.yaml")

// setupReadiness starts the demo simulators and points the example
// configuration's environment variables at them, as an integrator
// rehearsing a go-live would.
func setupReadiness(t *testing.T) *demo.Sims {
	t.Helper()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 12, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	for k, v := range map[string]string{
		"SHOPIFY_API_URL":        sims.ShopifyURL,
		"SHOPIFY_ACCESS_TOKEN":   demo.AccessToken,
		"SHOPIFY_WEBHOOK_SECRET": demo.WebhookSecret,
		"PARIS_WMS_URL":          sims.Warehouses[0].URL,
		"PARIS_WMS_TOKEN":        demo.WMSToken,
		"NEWARK_WMS_URL":         sims.Warehouses[1].URL,
		"NEWARK_WMS_TOKEN":       demo.WMSToken,
		"CROSSDOCK_PUBLIC_URL":   "http://127.0.0.1:1",
		"CROSSDOCK_DATABASE_DSN": filepath.Join(t.TempDir(), "crossdock.db"),
	} {
		t.Setenv(k, v)
	}
	return sims
}

func runReadinessCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append([]string{"readiness"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestReadinessExamplePassesOnDemoSimulators: the unmodified example
// configuration is not ready on a fresh shop (nothing registered yet),
// --fix registers what the hub registers at start, and then it passes.
func TestReadinessExamplePassesOnDemoSimulators(t *testing.T) {
	setupReadiness(t)

	code, out, errs := runReadinessCmd(t, "--config", exampleConfig)
	if code != 1 {
		t.Fatalf("fresh shop: exit %d, want 1\n%s%s", code, out, errs)
	}
	var blockers []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "blocker") {
			blockers = append(blockers, strings.SplitN(l, ":", 2)[0])
		}
	}
	want := []string{
		"blocker  webhooks (brand.myshopify.com)",
		"blocker  locations (brand.myshopify.com/paris)",
		"blocker  locations (brand.myshopify.com/newark)",
	}
	if diff := cmp.Diff(want, blockers); diff != "" {
		t.Errorf("fresh shop blockers (-want +got):\n%s\n%s", diff, out)
	}

	code, out, errs = runReadinessCmd(t, "--config", exampleConfig, "--fix", "--json")
	if code != 0 {
		t.Fatalf("--fix: exit %d\n%s%s", code, out, errs)
	}
	var rep readiness.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if !rep.Ready {
		t.Fatalf("not ready after --fix: %+v", rep.Checks)
	}

	code, out, errs = runReadinessCmd(t, "--config", exampleConfig)
	if code != 0 || !strings.Contains(out, "READY: 0 blockers") {
		t.Fatalf("after --fix: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("crossdock readiness --config %s:\n%s", exampleConfig, out)
}

// TestReadinessMissingStockOwnerAndUnknownSKUPolicy: the example without
// a stock owner and without an unknown-SKU policy fails with one line for
// each, saying what to do.
func TestReadinessMissingStockOwnerAndUnknownSKUPolicy(t *testing.T) {
	setupReadiness(t)
	b, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, line := range []string{"      stock: wms\n", "      unknown_sku: hold"} {
		i := strings.Index(cfg, line)
		if i < 0 {
			t.Fatalf("example has no %q line", line)
		}
		j := strings.IndexByte(cfg[i:], '\n')
		cfg = cfg[:i] + cfg[i+j+1:]
	}
	path := filepath.Join(t.TempDir(), "crossdock.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runReadinessCmd(t, "--config", path, "--fix")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	var blockers []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "blocker") {
			blockers = append(blockers, l)
		}
	}
	want := []string{
		"blocker  sources_of_truth (brand.myshopify.com): no owner declared for stock (warehouses: paris, newark). Fix: declare `stock: wms` under shops[0].sources_of_truth (allowed: wms, shopify), or under each warehouse's sources_of_truth",
		"blocker  policies.unknown_sku (brand.myshopify.com): no policy for an order line whose SKU no warehouse knows. Fix: declare shops[0].policies.unknown_sku: hold | reject",
	}
	if diff := cmp.Diff(want, blockers); diff != "" {
		t.Errorf("blockers (-want +got):\n%s\n%s", diff, out)
	}
	if !strings.Contains(out, "NOT READY: 2 blockers") {
		t.Errorf("no verdict line:\n%s", out)
	}
}

func TestReadinessBadConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("shops:\n- domain: a.myshopify.com\n  policies:\n    unknown_sku: ignore\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runReadinessCmd(t, "--config", path)
	if code != 1 || !strings.Contains(errs, `line 4: policies.unknown_sku: "ignore" is not one of hold, reject`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
