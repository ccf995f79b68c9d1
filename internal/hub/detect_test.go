package hub_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/alert"
	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/reconcile"
	"github.com/crossdock/crossdock/internal/store"
)

// inbox collects the alert notices a signed webhook channel receives.
type inbox struct {
	mu      sync.Mutex
	notices []alert.Notice
	bad     int
}

func (b *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Header.Get(alert.SignatureHeader) != alert.Sign([]byte("k"), body) {
		b.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n alert.Notice
	if err := json.Unmarshal(body, &n); err == nil {
		b.notices = append(b.notices, n)
	}
}

func (b *inbox) has(kind, status string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.notices {
		if n.Kind == kind && n.Status == status {
			return true
		}
	}
	return false
}

// TestLostWebhooksAreReconciledAndAlerted runs the hub with every webhook
// dropped and polling out of the way: reconciliation alone finds the
// orders, they ship, and the alert channel gets one firing notice for the
// group, then a resolved one.
func TestLostWebhooksAreReconciledAndAlerted(t *testing.T) {
	t.Parallel()
	sims, err := demo.StartSims(demo.SimOptions{SKUs: 5, DropRate: 1, RestoreRate: 20000, BucketSize: 40000, Seed: 8, WebhookRetryBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	in := &inbox{}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sims.HubConfig(ln.Addr().String(), filepath.Join(t.TempDir(), "crossdock.db"))
	cfg.Shops[0].BackfillInterval = config.Duration(time.Hour) // one pass at start, before any order
	// Reconciliation every 3s keeps each discrepancy open ~3s (it closes at
	// the run after its heal), longer than the group wait: a group that
	// heals within the wait sends nothing.
	cfg.Reconcile = config.Reconcile{Interval: config.Duration(3 * time.Second), OrderGrace: config.Duration(time.Second)}
	cfg.Alerts = config.Alerts{GroupWait: config.Duration(time.Second), EvaluateInterval: config.Duration(time.Second),
		Channels: []config.AlertChannel{{Name: "ops", Kind: config.AlertWebhook, URL: srv.URL, Secret: "k"}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	const n = 8
	if _, err := sims.CreateOrders(ctx, n, 4, 0); err != nil {
		t.Fatal(err)
	}
	sum := sims.WaitSettled(ctx, n)
	if !sum.Settled || sum.WebhooksDroppedByShopify == 0 {
		t.Fatalf("not settled or nothing dropped: %v %+v", sum.Problems, sum)
	}
	for !in.has(reconcile.KindOrderMissing, store.NoticeResolved) {
		select {
		case <-ctx.Done():
			t.Fatalf("no resolved notice; received %+v", in.notices)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !in.has(reconcile.KindOrderMissing, store.NoticeFiring) || in.bad != 0 {
		t.Errorf("notices %+v (%d badly signed)", in.notices, in.bad)
	}
	missing, err := store.ListDiscrepancies(ctx, h.Store.Read, store.DiscrepancyFilter{Kind: reconcile.KindOrderMissing})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != n {
		t.Errorf("%d order.missing discrepancies, want one per order (%d)", len(missing), n)
	}
	for _, d := range missing {
		if d.ClosedAt == nil {
			t.Errorf("%s still open", d.Key)
		}
	}
	sent, err := store.ListAlerts(ctx, h.Store.Read, "", 100)
	if err != nil || len(sent) == 0 {
		t.Fatalf("no alert recorded: %v", err)
	}
}
