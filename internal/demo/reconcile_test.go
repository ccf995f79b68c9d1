package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/crossdock/crossdock/internal/cli"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/reconcile"
	"github.com/crossdock/crossdock/internal/store"
)

// TestDemoWithDroppedWebhooks runs the command in process:
//
//	crossdock demo --orders 300 --drop-webhooks 0.1 --exit-when-done --json
//
// The Shopify simulator drops 10% of webhook deliveries; every order must
// still ship and be fulfilled, reconciliation must have opened
// discrepancies (orders Shopify has that no webhook announced) and closed
// every one of them, which the test checks in the hub's store.
func TestDemoWithDroppedWebhooks(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crossdock.db")
	var out, errb bytes.Buffer
	code := cli.Main([]string{"demo", "--orders", "300", "--drop-webhooks", "0.1", "--exit-when-done", "--json", "--seed", "5", "--db", db}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	var sum demo.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out.String())
	}
	if sum.OrdersCreated != 300 || sum.OrdersShipped != 300 || sum.OrdersFulfilled != 300 {
		t.Errorf("created %d, shipped %d, fulfilled %d; want 300 each", sum.OrdersCreated, sum.OrdersShipped, sum.OrdersFulfilled)
	}
	if sum.WebhooksDroppedByShopify == 0 {
		t.Fatal("the simulator dropped no webhook: the test proves nothing")
	}
	if sum.DiscrepanciesOpened == 0 || sum.DiscrepanciesOpen != 0 {
		t.Errorf("discrepancies_opened %d (want > 0), discrepancies_open %d (want 0)", sum.DiscrepanciesOpened, sum.DiscrepanciesOpen)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLite, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing, err := store.ListDiscrepancies(ctx, st.Read, store.DiscrepancyFilter{Kind: reconcile.KindOrderMissing, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) == 0 {
		t.Fatal("reconciliation found no order whose webhook was dropped")
	}
	for _, d := range missing {
		if d.ClosedAt == nil || d.ClosedAt.Before(d.FirstSeen) {
			t.Errorf("discrepancy %d (%s) opened at %s is not closed after it: closed_at %v", d.ID, d.Key, d.FirstSeen, d.ClosedAt)
			continue
		}
		if d.AutoHeal == "" {
			t.Errorf("discrepancy %d (%s): no auto-heal recorded", d.ID, d.Key)
		}
		o, err := store.GetOrder(ctx, st.Read, d.Shop, d.Entities["order"])
		if err != nil {
			t.Errorf("order %s of discrepancy %d: %v", d.Entities["order"], d.ID, err)
			continue
		}
		if o.State != store.OrderFulfilled {
			t.Errorf("order %s found by reconciliation is %s, not fulfilled", o.Name, o.State)
		}
	}
	open, err := store.ListDiscrepancies(ctx, st.Read, store.DiscrepancyFilter{State: "open"})
	if err != nil || len(open) != 0 {
		t.Errorf("open discrepancies left: %+v %v", open, err)
	}
}
