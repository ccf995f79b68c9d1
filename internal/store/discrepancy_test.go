package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

func TestDiscrepancyLifecycle(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storetest.Open(t, d)
			t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			a := store.Discrepancy{Shop: "s.myshopify.com", Kind: "order.missing", Severity: store.SeverityWarning, Key: "order.missing:1",
				Entities: map[string]string{"order": "gid://shopify/Order/1"}, Message: "missing", SuggestedFix: "re-fetch"}
			b := a
			b.Kind, b.Key = "stock.mismatch", "stock.mismatch:L:SKU"

			id, opened, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, a, t0)
			if err != nil || !opened {
				t.Fatalf("open: opened=%v err=%v", opened, err)
			}
			if _, _, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, b, t0); err != nil {
				t.Fatal(err)
			}
			// Seen again by the next run: touched, not reopened.
			a.AutoHeal = "enqueued order.route"
			id2, opened, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, a, t0.Add(time.Minute))
			if err != nil || opened || id2 != id {
				t.Fatalf("touch: id %d→%d opened=%v err=%v", id, id2, opened, err)
			}
			// The run at t0+1m checked order.missing only: b is another
			// kind and stays open although it was not seen.
			n, err := store.CloseUnseenDiscrepancies(ctx, st.Write, a.Shop, []string{"order.missing"}, t0.Add(time.Minute), t0.Add(time.Minute))
			if err != nil || n != 0 {
				t.Fatalf("close after touch: closed %d, err %v", n, err)
			}
			got, err := store.GetDiscrepancy(ctx, st.Read, id)
			if err != nil {
				t.Fatal(err)
			}
			want := store.Discrepancy{ID: id, Shop: a.Shop, Kind: a.Kind, Severity: a.Severity, Key: a.Key, Entities: a.Entities, Message: "missing",
				SuggestedFix: "re-fetch", AutoHeal: "enqueued order.route", FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 2}
			if diff := cmp.Diff(want, *got, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
				t.Errorf("touched discrepancy (-want +got):\n%s", diff)
			}
			byKind, err := store.CountOpenDiscrepanciesByKind(ctx, st.Read, "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int{"order.missing": 1, "stock.mismatch": 1}, byKind); diff != "" {
				t.Errorf("open by kind (-want +got):\n%s", diff)
			}

			// Not seen by the run at t0+2m: closed with that time.
			closeAt := t0.Add(2 * time.Minute)
			n, err = store.CloseUnseenDiscrepancies(ctx, st.Write, a.Shop, []string{"order.missing", "stock.mismatch"}, closeAt, closeAt)
			if err != nil || n != 2 {
				t.Fatalf("close unseen: closed %d, err %v", n, err)
			}
			closed, err := store.ListDiscrepancies(ctx, st.Read, store.DiscrepancyFilter{Shop: a.Shop, State: "closed"})
			if err != nil {
				t.Fatal(err)
			}
			if len(closed) != 2 || closed[0].ClosedAt == nil || !closed[0].ClosedAt.Equal(closeAt) {
				t.Fatalf("closed discrepancies: %+v", closed)
			}
			// The same key later opens a new discrepancy: unique only while open.
			id3, opened, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, a, t0.Add(3*time.Minute))
			if err != nil || !opened || id3 == id {
				t.Fatalf("reopen: id %d opened=%v err=%v", id3, opened, err)
			}
			opened2, open, err := store.DiscrepancyTotals(ctx, st.Read, a.Shop)
			if err != nil || opened2 != 3 || open != 1 {
				t.Fatalf("totals: opened %d open %d err %v", opened2, open, err)
			}
			hist, err := store.ListDiscrepancies(ctx, st.Read, store.DiscrepancyFilter{Key: a.Key})
			if err != nil || len(hist) != 2 || hist[0].ID != id3 {
				t.Fatalf("history of %s: %+v, %v", a.Key, hist, err)
			}
			if _, err := store.ListDiscrepancies(ctx, st.Read, store.DiscrepancyFilter{State: "bogus"}); err == nil {
				t.Error("an unknown state was accepted")
			}
		})
	}
}

func TestAlertsAndLease(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storetest.Open(t, d)
			t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			for _, a := range []store.Alert{
				{Shop: "s", Channel: "ops", GroupKey: "s/order.missing", Kind: "order.missing", Notice: store.NoticeFiring, OpenCount: 10000, NewCount: 10000, Message: "m", At: t0},
				{Shop: "s", Channel: "ops", GroupKey: "s/stock.mismatch", Kind: "stock.mismatch", Notice: store.NoticeFiring, OpenCount: 1, NewCount: 1, Message: "m", At: t0},
				{Shop: "s", Channel: "ops", GroupKey: "s/stock.mismatch", Kind: "stock.mismatch", Notice: store.NoticeResolved, Message: "m", At: t0.Add(time.Minute), Error: "smtp down"},
			} {
				if _, err := store.RecordAlert(ctx, st.Write, a); err != nil {
					t.Fatal(err)
				}
			}
			firing, err := store.FiringAlertGroups(ctx, st.Read)
			if err != nil || len(firing) != 1 || firing[0].GroupKey != "s/order.missing" || firing[0].OpenCount != 10000 {
				t.Fatalf("firing groups: %+v, %v", firing, err)
			}
			last, err := store.LastAlert(ctx, st.Read, "s", "s/stock.mismatch", "ops")
			if err != nil || last.Notice != store.NoticeResolved || last.Error != "smtp down" {
				t.Fatalf("last alert: %+v, %v", last, err)
			}
			counts, err := store.CountAlerts(ctx, st.Read)
			if err != nil || len(counts) != 2 {
				t.Fatalf("alert counts: %+v, %v", counts, err)
			}

			ok, err := store.TryLease(ctx, st.Write, "s", "reconcile", "a", t0, time.Minute)
			if err != nil || !ok {
				t.Fatalf("first lease: %v %v", ok, err)
			}
			if ok, err := store.TryLease(ctx, st.Write, "s", "reconcile", "b", t0.Add(30*time.Second), time.Minute); err != nil || ok {
				t.Fatalf("b took a held lease: %v %v", ok, err)
			}
			if ok, err := store.TryLease(ctx, st.Write, "s", "reconcile", "a", t0.Add(30*time.Second), time.Minute); err != nil || !ok {
				t.Fatalf("a could not renew: %v %v", ok, err)
			}
			if ok, err := store.TryLease(ctx, st.Write, "s", "reconcile", "b", t0.Add(2*time.Minute), time.Minute); err != nil || !ok {
				t.Fatalf("b could not take an expired lease: %v %v", ok, err)
			}
			if err := store.ReleaseLease(ctx, st.Write, "s", "reconcile", "b"); err != nil {
				t.Fatal(err)
			}
			if ok, err := store.TryLease(ctx, st.Write, "s", "reconcile", "a", t0.Add(2*time.Minute), time.Minute); err != nil || !ok {
				t.Fatalf("a could not take a released lease: %v %v", ok, err)
			}
		})
	}
}
