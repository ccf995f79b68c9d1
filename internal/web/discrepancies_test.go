package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/web"
)

// The discrepancies page and API read what reconciliation stored: open
// ones with their fix and auto-heal, closed ones with their closing time.
func TestStoreDiscrepanciesPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, d := range []store.Discrepancy{
		{Shop: shop, Kind: "order.missing", Severity: "warning", Key: "order.missing:1", Entities: map[string]string{"order": "gid://shopify/Order/1"},
			Message: "order #1001 in Shopify, unknown to the hub", SuggestedFix: "none: re-fetched", AutoHeal: "re-fetched and dispatched"},
		{Shop: shop, Kind: "shipment.no_tracking", Severity: "error", Key: "shipment.no_tracking:9", Entities: map[string]string{"shipment": "S-9"},
			Message: "fulfilled without tracking", SuggestedFix: "ask the warehouse for the tracking number"},
	} {
		if _, _, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, d, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.CloseUnseenDiscrepancies(ctx, st.Write, shop, []string{"order.missing"}, now.Add(time.Second), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st, Discrepancies: web.StoreDiscrepancies{Store: st}})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(path string) string {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := get("/discrepancies")
	if !strings.Contains(open, "fulfilled without tracking") || !strings.Contains(open, "ask the warehouse") || strings.Contains(open, "unknown to the hub") {
		t.Errorf("open discrepancies page:\n%s", open)
	}
	if all := get("/api/v1/discrepancies?state=closed"); !strings.Contains(all, "re-fetched and dispatched") || !strings.Contains(all, "closed_at") {
		t.Errorf("closed discrepancies JSON: %s", all)
	}
}
