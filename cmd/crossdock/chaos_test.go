package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestChaosSoak builds the binary and runs a small "bench chaos": the hub
// as a separate process SIGKILLed every 4 s while 300 orders go through
// duplicate, reordered and dropped webhooks, Shopify 429/5xx answers and
// warehouse outages. Nothing may be lost, duplicated or left mismatched.
func TestChaosSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a 300-order chaos soak")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "crossdock")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}

	const orders = 300
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "bench", "chaos", "--orders", "300", "--rate", "30", "--kill-every", "4s",
		// Outages of 0.5–1 s: a route job retried 1 s after meeting one
		// mostly finds the warehouse back, so the growing backoff (81 s
		// after a third error, 256 s after a fourth, then the 5-minute
		// cap of internal/queue) stays rare.
		"--wms-outage-every", "8s", "--wms-outage", "1s", "--seed", "3", "--timeout", "10m", "--json",
		"--db-dir", filepath.Join(dir, "run"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	// Its own struct rather than chaos.Result: the JSON field names are the
	// contract users' scripts read, so the test decodes them by name.
	var res struct {
		Orders                 int      `json:"orders"`
		OrdersCreated          int      `json:"orders_created"`
		OrdersShipped          int      `json:"orders_shipped"`
		OrdersFulfilled        int      `json:"orders_fulfilled"`
		Lost                   int      `json:"lost"`
		DuplicatedAtWMS        int      `json:"duplicated_at_wms"`
		DuplicatedFulfillments int      `json:"duplicated_fulfillments"`
		StockMismatches        int      `json:"stock_mismatches"`
		Restarts               int      `json:"restarts"`
		ElapsedSeconds         float64  `json:"elapsed_seconds"`
		Settled                bool     `json:"settled"`
		Problems               []string `json:"problems"`
		Faults                 struct {
			WebhooksDuplicated int64 `json:"webhooks_duplicated"`
			WebhooksDropped    int64 `json:"webhooks_dropped"`
			Shopify429         int64 `json:"shopify_429"`
			Shopify5xx         int64 `json:"shopify_5xx"`
			WMSOutages         int   `json:"wms_outages"`
		} `json:"faults"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("decode the JSON output (%v): %v\nstdout:\n%s\nstderr:\n%s", runErr, err, stdout.String(), stderr.String())
	}
	t.Logf("%s", stdout.String())
	if runErr != nil {
		t.Errorf("bench chaos: %v; problems %v\nprogress:\n%s\nhub log tail:\n%s", runErr, res.Problems, stderr.String(),
			tail(readLog(filepath.Join(dir, "run", "hub.log")), 40))
	}
	if res.Orders != orders || res.OrdersCreated != orders || res.OrdersShipped != orders || res.OrdersFulfilled != orders || !res.Settled {
		t.Errorf("orders %d, created %d, shipped %d, fulfilled %d, settled %v; want %d each, settled", res.Orders,
			res.OrdersCreated, res.OrdersShipped, res.OrdersFulfilled, res.Settled, orders)
	}
	if res.Lost != 0 || res.DuplicatedAtWMS != 0 || res.DuplicatedFulfillments != 0 || res.StockMismatches != 0 {
		t.Errorf("lost %d, duplicated at WMS %d, duplicated fulfillments %d, stock mismatches %d; want 0 each",
			res.Lost, res.DuplicatedAtWMS, res.DuplicatedFulfillments, res.StockMismatches)
	}
	if res.Restarts < 2 {
		t.Errorf("restarts = %d, want ≥ 2", res.Restarts)
	}
	// The faults really happened.
	f := res.Faults
	if f.WebhooksDuplicated == 0 || f.WebhooksDropped == 0 || f.Shopify429+f.Shopify5xx == 0 || f.WMSOutages == 0 {
		t.Errorf("faults not injected: %+v", f)
	}
}
