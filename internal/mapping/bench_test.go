package mapping_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// loaded returns a table of n SKUs mapped in paris (every tenth renamed
// from t0+1h), imported as one CSV.
func loaded(b *testing.B, n int) (*store.Store, *mapping.Table) {
	b.Helper()
	st := storetest.Open(b, store.SQLite)
	tab := mapping.New(st)
	var sb strings.Builder
	sb.WriteString("warehouse,sku,item_code,pack_size,effective_from\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "paris,SKU-%05d,P-%05d,1,%s\n", i, i, t0.Format(time.RFC3339))
		if i%10 == 0 {
			fmt.Fprintf(&sb, "paris,SKU-%05d,Q-%05d,2,%s\n", i, i, t0.Add(time.Hour).Format(time.RFC3339))
		}
	}
	if _, err := tab.Import(context.Background(), shop, strings.NewReader(sb.String()), alice); err != nil {
		b.Fatal(err)
	}
	return st, tab
}

// BenchmarkImport10k: one CSV of 10,000 mappings (+1,000 renames) as one
// version.
func BenchmarkImport10k(b *testing.B) {
	for b.Loop() {
		loaded(b, 10000)
	}
}

// BenchmarkToWMS: mapping a 3-line order against 10,000 mappings, as
// dispatch does for every warehouse order it transmits.
func BenchmarkToWMS(b *testing.B) {
	st, _ := loaded(b, 10000)
	wo := &order.WarehouseOrder{Shop: shop, Warehouse: "paris", PlacedAt: t0.Add(2 * time.Hour), Lines: []order.Line{
		{LineNo: 1, SKU: "SKU-00010", Quantity: 1}, {LineNo: 2, SKU: "SKU-04321", Quantity: 2}, {LineNo: 3, SKU: "UNMAPPED", Quantity: 1}}}
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := mapping.ToWMS(ctx, st.Read, wo, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStockToSKUs: a full snapshot of 10,000 items against 10,000
// mappings.
func BenchmarkStockToSKUs(b *testing.B) {
	st, _ := loaded(b, 10000)
	snap := connector.StockSnapshot{AsOf: t0.Add(2 * time.Hour), Full: true}
	for i := 0; i < 10000; i++ {
		code := fmt.Sprintf("P-%05d", i)
		if i%10 == 0 {
			code = fmt.Sprintf("Q-%05d", i)
		}
		snap.Items = append(snap.Items, connector.StockItem{SKU: code, OnHand: 10, Available: 9})
	}
	ctx := context.Background()
	for b.Loop() {
		out, problems, err := mapping.StockToSKUs(ctx, st.Read, shop, "paris", snap)
		if err != nil || len(problems) != 0 || len(out.Items) != 10000 {
			b.Fatalf("%d items, problems %v, %v", len(out.Items), problems, err)
		}
	}
}
