package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/web"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// requireBrowserEnv makes a missing chromium a failure instead of a skip
// (set by .ci/run).
const requireBrowserEnv = "CROSSDOCK_REQUIRE_BROWSER"

// browser is a running demo hub and a headless chromium pointed at it.
type browser struct {
	ctx  context.Context // chromedp's: every action runs in it
	base string
	hub  *hub.Hub
	sims *demo.Sims
}

// setupBrowser starts the simulators and a hub on them (as `crossdock
// demo` does), creates orders until n have settled, and opens a headless
// chromium. Without chromium the test is skipped, or fails when
// CROSSDOCK_REQUIRE_BROWSER=1.
func setupBrowser(t *testing.T, n int) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatalf("%s is required (%s=1) but missing: %v", chromiumPath, requireBrowserEnv, err)
		}
		t.Skipf("browser tests need chromium at %s (apt-get install chromium); skipped: %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	sims, err := demo.StartSims(demo.SimOptions{Seed: 5, RestoreRate: 20000, BucketSize: 40000, WebhookRetryBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.Open(ctx, sims.HubConfig(ln.Addr().String(), filepath.Join(t.TempDir(), "crossdock.db")),
		hub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx, ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		h.Stop(sctx)
	})
	if err := sims.WaitStockPublished(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sims.CreateOrders(ctx, n, 2, 0); err != nil {
		t.Fatal(err)
	}
	if sum := sims.WaitSettled(ctx, n); !sum.Settled {
		t.Fatalf("demo orders did not settle: %v", sum.Problems)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return &browser{ctx: bctx, base: "http://" + h.Addr(), hub: h, sims: sims}
}

// do runs steps in the browser; on failure it shows the page.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage body:\n%s", what, err, body)
	}
}

// value runs an action that reads something from the page.
func value[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage body:\n%s", what, err, body)
	}
	return v
}

func (b *browser) text(t *testing.T, css string) string {
	t.Helper()
	return value(t, b, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

// TestBrowserDashboard opens every page of the dashboard of a running demo
// in headless chromium, follows an order from the orders list to its
// timeline, and replays a dead letter from its page.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	b := setupBrowser(t, 4)

	// Every page: its heading, and htmx loaded (no build step, served by
	// the hub itself).
	for _, p := range []struct{ path, heading string }{
		{"/overview", "Overview"},
		{"/", "Orders"},
		{"/stock", "Stock"},
		{"/discrepancies", "Discrepancies"},
		{"/connectors", "Connectors"},
		{"/deadletters", "Dead letters"},
		{"/operations", "Long operations"},
		{"/config", "Effective configuration"},
	} {
		b.do(t, "open "+p.path, chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS("h2")))
		h2 := b.text(t, "h2")
		htmx := value(t, b, "htmx on "+p.path, chromedp.Evaluate[bool](`typeof htmx === "object" && typeof htmx.version === "string"`))
		if !strings.HasPrefix(h2, p.heading) || !htmx {
			t.Errorf("%s: heading %q (want %q…), htmx loaded %v", p.path, h2, p.heading, htmx)
		}
	}

	// The overview draws this hour's orders.
	b.do(t, "overview chart", chromedp.Navigate(b.base+"/overview"), chromedp.WaitVisible(chromedp.CSS("#orders-chart rect.bar")))
	if bars := value(t, b, "bars", chromedp.Evaluate[int](`document.querySelectorAll("#orders-chart rect.bar").length`)); bars == 0 {
		t.Errorf("overview chart has no bar")
	}
	// Typing a SKU in the stock page's filter narrows the levels to it
	// (htmx, no page load).
	b.do(t, "stock page", chromedp.Navigate(b.base+"/stock"), chromedp.WaitVisible(chromedp.CSS("#levels td a")))
	sku := b.text(t, "#levels td a")
	total := value(t, b, "levels", chromedp.Evaluate[int](`document.querySelectorAll("#levels td a").length`))
	b.do(t, "filter stock", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`), chromedp.SendKeys(chromedp.CSS("#sku"), sku))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](`window.notReloaded && [...document.querySelectorAll("#levels td a")].length > 0 && [...document.querySelectorAll("#levels td a")].every(a => a.textContent === `+strconv.Quote(sku)+`)`)); err != nil {
		t.Errorf("filtering stock by %s (of %d levels): %v\n%s", sku, total, err, b.text(t, "#levels"))
	}
	// A stock level's explanation is one click away.
	b.do(t, "stock explain", chromedp.Navigate(b.base+"/stock"), chromedp.WaitVisible(chromedp.CSS("#levels td a")),
		chromedp.Click(chromedp.CSS("#levels td a")), chromedp.WaitVisible(chromedp.CSS("h3")))
	if h := b.text(t, "body"); !strings.Contains(h, "Ledger") || !strings.Contains(h, "Target") {
		t.Errorf("stock explanation page:\n%s", h)
	}
	// The demo's warehouses are listed with a cursor.
	b.do(t, "connectors", chromedp.Navigate(b.base+"/connectors"), chromedp.WaitVisible(chromedp.CSS("#connectors table")))
	conns := b.text(t, "#connectors table")
	for _, p := range b.hub.Pollers {
		if !strings.Contains(conns, p.Warehouse) {
			t.Errorf("connectors page does not list %s:\n%s", p.Warehouse, conns)
		}
	}
	// The adapter of the hub's pollers reports each feed's kind and cursor.
	resp, err := http.Get(b.base + "/api/v1/connectors")
	if err != nil {
		t.Fatal(err)
	}
	var cs struct {
		Connectors []web.ConnectorHealth `json:"connectors"`
	}
	err = json.NewDecoder(resp.Body).Decode(&cs)
	resp.Body.Close()
	if err != nil || len(cs.Connectors) != len(b.hub.Pollers) {
		t.Fatalf("connectors = %+v, %v", cs, err)
	}
	for _, c := range cs.Connectors {
		if c.Kind == "" || c.Cursor == "" || c.LastSuccess.IsZero() || c.Events == 0 {
			t.Errorf("connector after shipments: %+v", c)
		}
	}
	// The configuration shows the shop and masks its token.
	b.do(t, "config", chromedp.Navigate(b.base+"/config"), chromedp.WaitVisible(chromedp.CSS("#config")))
	cfg := b.text(t, "#config")
	shopCfg := b.hub.Config.Shops[0]
	if !strings.Contains(cfg, shopCfg.Domain) || strings.Contains(cfg, shopCfg.AccessToken) || !strings.Contains(cfg, "***") {
		t.Errorf("configuration page:\n%s", cfg)
	}

	// Orders list → an order's page with its full timeline.
	b.do(t, "orders list", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.CSS("#orders table td a")))
	name := b.text(t, "#orders table td a")
	b.do(t, "follow an order", chromedp.Click(chromedp.CSS("#orders table td a")), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	heading, timeline := b.text(t, "h2"), b.text(t, "#timeline")
	if !strings.HasPrefix(heading, name) {
		t.Errorf("followed %q, landed on %q", name, heading)
	}
	for _, k := range []string{"received", "routed", "sent", "acknowledged", "shipped", "fulfilled"} {
		if !strings.Contains(timeline, k) {
			t.Errorf("timeline of %s lacks %q:\n%s", name, k, timeline)
		}
	}

	// Typing in the orders page's search box narrows the list (htmx, no
	// page load) to the order.
	b.do(t, "search",
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`),
		chromedp.SendKeys(chromedp.CSS("#q"), name),
	)
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](`window.notReloaded && document.querySelectorAll("#orders table td a").length === 1`)); err != nil {
		t.Errorf("search for %s does not narrow the list to it: %v\n%s", name, err, b.text(t, "#orders"))
	}

	// A dead letter: a fulfilment of a shipment that does not exist, with
	// one attempt, is discarded at once.
	ins, err := b.hub.Jobs.Insert(b.ctx, wmsfeed.FulfilArgs{ShipmentID: 987654321}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := ins.Job.ID
	waitJob(t, b, id, func(j *rivertype.JobRow) bool { return j.State == rivertype.JobStateDiscarded })

	row := fmt.Sprintf("#job-%d", id)
	b.do(t, "retry the dead letter",
		chromedp.Navigate(b.base+"/deadletters"),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.SendKeys(chromedp.CSS(row+` input[name="actor"]`), "ops@brand"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name="reason"]`), "shipment re-imported"),
		chromedp.Click(chromedp.CSS(row+` button[value="retry"]`)),
		chromedp.WaitVisible(chromedp.CSS("#action-message")),
	)
	if msg := b.text(t, "#action-message"); !strings.Contains(msg, "retry recorded") {
		t.Errorf("after retry the page says %q", msg)
	}
	// The job ran again (second attempt) and is back as a dead letter.
	waitJob(t, b, id, func(j *rivertype.JobRow) bool { return j.Attempt == 2 && j.State == rivertype.JobStateDiscarded })
	acts, err := store.Actions(b.ctx, b.hub.Store.Read, fmt.Sprintf("job:%d", id), 10)
	if err != nil || len(acts) != 1 || acts[0].Actor != "ops@brand" || acts[0].Action != "retry" || acts[0].Reason != "shipment re-imported" {
		t.Fatalf("recorded actions = %+v, %v", acts, err)
	}

	// Retry with an edited payload.
	b.do(t, "retry with an edited payload",
		chromedp.Navigate(b.base+"/deadletters"),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.SetValue(chromedp.CSS(row+` textarea[name="args"]`), `{"shipment_id": 987654322}`),
		chromedp.SendKeys(chromedp.CSS(row+` input[name="actor"]`), "ops@brand"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name="reason"]`), "wrong shipment id"),
		chromedp.Click(chromedp.CSS(row+` button[value="retry-edited"]`)),
		chromedp.WaitVisible(chromedp.CSS("#action-message")),
	)
	if msg := b.text(t, "#action-message"); !strings.Contains(msg, "retry with edited payload") {
		t.Errorf("after an edited retry the page says %q", msg)
	}
	job := waitJob(t, b, id, func(j *rivertype.JobRow) bool { return j.Attempt == 3 && j.State == rivertype.JobStateDiscarded })
	if !strings.Contains(string(job.EncodedArgs), "987654322") {
		t.Errorf("payload after the edited retry: %s", job.EncodedArgs)
	}
	if acts, _ := store.Actions(b.ctx, b.hub.Store.Read, fmt.Sprintf("job:%d", id), 10); len(acts) != 2 {
		t.Errorf("recorded actions after the edited retry: %+v", acts)
	}
}

// waitJob polls job id until ok, for at most 30 s.
func waitJob(t *testing.T, b *browser, id int64, ok func(*rivertype.JobRow) bool) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := b.hub.Jobs.JobGet(b.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d stays %s (attempt %d)", id, j.State, j.Attempt)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
