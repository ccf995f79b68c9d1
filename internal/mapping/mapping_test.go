package mapping_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

const shop = "a.myshopify.com"

var (
	t0    = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	alice = mapping.Author{Actor: "alice", Reason: "onboarding Paris"}
	bob   = mapping.Author{Actor: "bob", Reason: "Paris renamed its items"}
)

type fixture struct {
	ctx context.Context
	st  *store.Store
	tab *mapping.Table
}

// setup runs fn on a fresh migrated store of every dialect.
func setup(t *testing.T, fn func(t *testing.T, f fixture)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st := storetest.Open(t, d)
			tab := mapping.New(st)
			tab.Now = func() time.Time { return t0.Add(240 * time.Hour) }
			fn(t, fixture{ctx: context.Background(), st: st, tab: tab})
		})
	}
}

func (f fixture) set(t *testing.T, m mapping.Mapping, a mapping.Author) int64 {
	t.Helper()
	res, err := f.tab.Set(f.ctx, shop, m, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version == 0 || res.Changes != 1 {
		t.Fatalf("set %+v: %+v, want one change in a new version", m, res)
	}
	return res.Version
}

func (f fixture) item(t *testing.T, wh, sku string, at time.Time) mapping.Item {
	t.Helper()
	it, err := f.tab.WMSItem(f.ctx, shop, wh, sku, at)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestEffectiveDatedRename: a rename scheduled from a time applies to what
// happens from then on, and earlier times keep the earlier mapping.
func TestEffectiveDatedRename(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		if it := f.item(t, "paris", "TEE-1", t0); it.Code != "TEE-1" || it.PackSize != 1 || it.Mapped {
			t.Fatalf("unmapped SKU = %+v, want identity", it)
		}
		v1 := f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-100", UOM: "EA", EffectiveFrom: t0}, alice)
		rename := t0.Add(48 * time.Hour)
		v2 := f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-200", UOM: "EA", EffectiveFrom: rename}, bob)
		for _, c := range []struct {
			at   time.Time
			want string
			v    int64
		}{
			{t0.Add(-time.Second), "TEE-1", 0},
			{t0, "P-100", v1},
			{rename.Add(-time.Microsecond), "P-100", v1},
			{rename, "P-200", v2},
		} {
			it := f.item(t, "paris", "TEE-1", c.at)
			if it.Code != c.want || it.Version != c.v {
				t.Errorf("at %s: %+v, want %s from v%d", c.at, it, c.want, c.v)
			}
		}
		// Another warehouse is not concerned.
		if it := f.item(t, "newark", "TEE-1", rename); it.Code != "TEE-1" {
			t.Errorf("newark = %+v, want identity", it)
		}
		// Reverse lookups follow the same times.
		got, err := f.tab.SKU(f.ctx, shop, "paris", "P-100", t0.Add(time.Hour))
		if err != nil || got.SKU != "TEE-1" {
			t.Fatalf("SKU(P-100) = %+v, %v", got, err)
		}
		if _, err := f.tab.SKU(f.ctx, shop, "paris", "P-100", rename); !errors.Is(err, mapping.ErrUnknownItem) {
			t.Fatalf("SKU(P-100) after the rename: %v, want ErrUnknownItem", err)
		}
		if _, err := f.tab.SKU(f.ctx, shop, "paris", "TEE-1", rename); !errors.Is(err, mapping.ErrUnknownItem) {
			t.Fatalf("SKU(TEE-1) while TEE-1 is P-200: %v, want ErrUnknownItem", err)
		}
		if got, err := f.tab.SKU(f.ctx, shop, "paris", "MUG-1", rename); err != nil || got.SKU != "MUG-1" || got.PackSize != 1 {
			t.Fatalf("SKU(MUG-1) unmapped = %+v, %v; want identity", got, err)
		}
	})
}

// TestHistoryDiffRevert: each change is listed with who, why and old →
// new; diffs between versions and times show the change; a revert is a new
// version that restores the earlier table, and every change is an
// operator action.
func TestHistoryDiffRevert(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		a := mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-100", UOM: "EA", PackSize: 1, EffectiveFrom: t0}
		b := mapping.Mapping{Warehouse: "paris", SKU: "BOX-6", ItemCode: "P-101", UOM: "EA", PackSize: 6, EffectiveFrom: t0}
		v1 := f.set(t, a, alice)
		v2 := f.set(t, b, alice)
		a2 := a
		a2.ItemCode, a2.EffectiveFrom = "P-200", t0.Add(time.Hour)
		v3 := f.set(t, a2, bob)
		if _, err := f.tab.Delete(f.ctx, shop, "paris", "BOX-6", t0.Add(2*time.Hour), bob); err != nil {
			t.Fatal(err)
		}

		hist, err := f.tab.History(f.ctx, shop, mapping.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 || hist[0].Op != "delete" || hist[3].ID != v1 {
			t.Fatalf("history = %+v", hist)
		}
		rename := hist[1]
		if rename.ID != v3 || rename.Actor != "bob" || rename.Reason != bob.Reason || len(rename.Changes) != 1 {
			t.Fatalf("rename version = %+v", rename)
		}
		c := rename.Changes[0]
		if c.Old == nil || c.Old.ItemCode != "P-100" || c.New == nil || c.New.ItemCode != "P-200" || c.Kind != "set" {
			t.Fatalf("rename change = %+v (old %+v new %+v), want P-100 → P-200", c, c.Old, c.New)
		}
		if del := hist[0].Changes[0]; del.Old == nil || del.Old.ItemCode != "P-101" || del.New != nil {
			t.Fatalf("delete change = %+v", del)
		}
		if h, _ := f.tab.History(f.ctx, shop, mapping.Filter{SKU: "BOX-6"}); len(h) != 2 {
			t.Fatalf("history of BOX-6 has %d versions, want 2", len(h))
		}

		// Diff by versions (in force now) and by times.
		d, err := f.tab.Diff(f.ctx, shop, mapping.Point{Version: v2}, mapping.Point{Version: v3})
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != 1 || d[0].SKU != "TEE-1" || d[0].Old.ItemCode != "P-100" || d[0].New.ItemCode != "P-200" {
			t.Fatalf("diff v%d..v%d = %+v", v2, v3, d)
		}
		d, err = f.tab.Diff(f.ctx, shop, mapping.Point{At: t0}, mapping.Point{At: t0.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != 2 || d[0].SKU != "BOX-6" || d[0].New != nil || d[1].New.ItemCode != "P-200" {
			t.Fatalf("diff by time = %+v", d)
		}
		if _, err := f.tab.Diff(f.ctx, shop, mapping.Point{Version: 999}, mapping.Point{}); !errors.Is(err, mapping.ErrNotFound) {
			t.Fatalf("diff from an unknown version: %v", err)
		}

		// Revert to v2: TEE-1 is P-100 again at every time, BOX-6 is back.
		before, _ := f.tab.List(f.ctx, shop, t0.Add(3*time.Hour))
		res, err := f.tab.Revert(f.ctx, shop, v2, mapping.Author{Actor: "carol", Reason: "Paris postponed the rename"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Version == 0 || res.Changes != 2 {
			t.Fatalf("revert = %+v, want 2 entries withdrawn", res)
		}
		for _, at := range []time.Time{t0, t0.Add(3 * time.Hour)} {
			now, _ := f.tab.List(f.ctx, shop, at)
			want, _ := f.tab.Diff(f.ctx, shop, mapping.Point{Version: v2, At: at}, mapping.Point{At: at})
			if len(want) != 0 {
				t.Errorf("at %s after revert, diff to v%d = %+v", at, v2, want)
			}
			if len(now) != 2 {
				t.Errorf("at %s after revert: %+v", at, now)
			}
		}
		after, _ := f.tab.List(f.ctx, shop, t0.Add(3*time.Hour))
		if cmp.Equal(before, after) {
			t.Fatal("revert changed nothing")
		}
		if again, err := f.tab.Revert(f.ctx, shop, v2, mapping.Author{Actor: "carol", Reason: "twice"}); err != nil || again.Version != 0 {
			t.Fatalf("second revert to the same version = %+v, %v; want no new version", again, err)
		}
		h, _ := f.tab.History(f.ctx, shop, mapping.Filter{Limit: 1})
		if h[0].Op != "revert" || h[0].RevertedTo != v2 || h[0].Actor != "carol" {
			t.Fatalf("last version = %+v", h[0])
		}
		acts, err := store.Actions(f.ctx, f.st.Read, mapping.Target(shop), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != 5 || acts[0].Actor != "carol" || !strings.Contains(acts[0].Action, "revert") || acts[0].Reason != "Paris postponed the rename" {
			t.Fatalf("operator actions = %+v", acts)
		}
	})
}

// TestChangesNeedActorAndReason and reject bad values.
func TestBadChangesAreRefused(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		m := mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-1"}
		if _, err := f.tab.Set(f.ctx, shop, m, mapping.Author{Actor: "alice"}); err == nil {
			t.Error("set without reason accepted")
		}
		for _, bad := range []mapping.Mapping{{SKU: ""}, {SKU: " TEE-1"}, {SKU: "TEE-1", PackSize: -2}, {SKU: "TEE-1", ItemCode: "P-1\n"}} {
			if _, err := f.tab.Set(f.ctx, shop, bad, alice); err == nil {
				t.Errorf("set %+v accepted", bad)
			}
		}
		if _, err := f.tab.Delete(f.ctx, shop, "paris", "TEE-1", time.Time{}, alice); !errors.Is(err, mapping.ErrNotFound) {
			t.Errorf("delete of nothing: %v", err)
		}
		if _, err := f.tab.Revert(f.ctx, shop, 12345, alice); !errors.Is(err, mapping.ErrNotFound) {
			t.Errorf("revert to an unknown version: %v", err)
		}
		if h, _ := f.tab.History(f.ctx, shop, mapping.Filter{}); len(h) != 0 {
			t.Fatalf("refused changes were recorded: %+v", h)
		}
		// The same value twice is one version.
		f.set(t, m, alice)
		m.EffectiveFrom = t0.Add(240 * time.Hour) // the fixture's now, as the first set used
		if res, err := f.tab.Set(f.ctx, shop, m, alice); err != nil || res.Version != 0 {
			t.Fatalf("repeated set = %+v, %v", res, err)
		}
	})
}

// TestEveryWarehouseFallback: a mapping for every warehouse applies where
// a warehouse has none of its own, and deleting a warehouse's own mapping
// falls back to it.
func TestEveryWarehouseFallback(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		f.set(t, mapping.Mapping{SKU: "TEE-1", ItemCode: "G-1", VariantID: "gid://shopify/ProductVariant/1", EffectiveFrom: t0}, alice)
		f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-1", EffectiveFrom: t0}, alice)
		if it := f.item(t, "newark", "TEE-1", t0); it.Code != "G-1" {
			t.Fatalf("newark = %+v, want the every-warehouse mapping", it)
		}
		if it := f.item(t, "paris", "TEE-1", t0); it.Code != "P-1" {
			t.Fatalf("paris = %+v", it)
		}
		if _, err := f.tab.Delete(f.ctx, shop, "paris", "TEE-1", t0.Add(time.Hour), bob); err != nil {
			t.Fatal(err)
		}
		if it := f.item(t, "paris", "TEE-1", t0.Add(time.Hour)); it.Code != "G-1" {
			t.Fatalf("paris after delete = %+v, want G-1", it)
		}
	})
}

// TestCSVRoundTrip: an export imported elsewhere gives the same table;
// identifiers stay text (leading zeros, long digits).
func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "00123", ItemCode: "000000000000123456789", UOM: "CS", PackSize: 12,
			VariantID: "gid://shopify/ProductVariant/9007199254740993", InventoryItemID: "gid://shopify/InventoryItem/7", EffectiveFrom: t0}, alice)
		f.set(t, mapping.Mapping{SKU: "TEE,\"1\"", ItemCode: "T-1", EffectiveFrom: t0.Add(time.Minute)}, alice)
		var buf bytes.Buffer
		if err := f.tab.Export(f.ctx, shop, time.Time{}, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), strings.Join(mapping.CSVHeader, ",")+"\n") {
			t.Fatalf("export header: %q", buf.String())
		}
		res, err := f.tab.Import(f.ctx, "b.myshopify.com", bytes.NewReader(buf.Bytes()), alice)
		if err != nil || res.Changes != 2 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		a, _ := f.tab.List(f.ctx, shop, time.Time{})
		b, _ := f.tab.List(f.ctx, "b.myshopify.com", time.Time{})
		if d := cmp.Diff(a, b, cmpopts.IgnoreFields(mapping.Mapping{}, "Version")); d != "" {
			t.Fatalf("imported table differs (-export +import):\n%s", d)
		}
		// Importing the same file again changes nothing.
		if res, err := f.tab.Import(f.ctx, "b.myshopify.com", bytes.NewReader(buf.Bytes()), alice); err != nil || res.Version != 0 {
			t.Fatalf("re-import = %+v, %v", res, err)
		}
	})
}

// TestCSVBadRowAppliesNothing: a bad row is an error naming its line and
// the good rows before it are not applied.
func TestCSVBadRowAppliesNothing(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		for _, c := range []struct {
			csv  string
			line int
			msg  string
		}{
			{"sku,item_code,pack_size\nA,X,1\nB,Y,six\n", 3, "pack_size"},
			{"sku,item_code\nA,X\n B,Y\n", 3, "surrounding spaces"},
			{"sku,item_code,effective_from\nA,X,2026-11-01\n", 2, "RFC 3339"},
			{"sku,colour\nA,red\n", 1, "unknown column"},
			{"item_code\nX\n", 1, "sku is required"},
			{"sku,item_code\nA,X\nA,Y\n", 3, "already on line 2"},
			{"sku,item_code\nA,X\nB\n", 3, "fields"},
			{"sku,item_code\nA,X\n,Y\n", 3, "sku is required"},
			{"", 1, "header"},
		} {
			_, err := f.tab.Import(f.ctx, shop, strings.NewReader(c.csv), alice)
			var re *mapping.RowError
			if !errors.As(err, &re) || re.Line != c.line || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("import %q: %v, want line %d about %q", c.csv, err, c.line, c.msg)
			}
		}
		if ms, _ := f.tab.List(f.ctx, shop, time.Time{}); len(ms) != 0 {
			t.Fatalf("bad files applied rows: %+v", ms)
		}
		// A byte-order mark and any column order are fine.
		res, err := f.tab.Import(f.ctx, shop, strings.NewReader("\ufeffitem_code,sku\nX,A\n"), alice)
		if err != nil || res.Changes != 1 {
			t.Fatalf("import with BOM = %+v, %v", res, err)
		}
	})
}

// TestOrderShipmentAndStockConversion: an order goes out in item codes and
// WMS units, its shipment and the stock come back in SKUs and Shopify
// units, by the mapping in force at the order's (or snapshot's) time.
func TestOrderShipmentAndStockConversion(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, f fixture) {
		f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "BOX-6", ItemCode: "P-1", UOM: "EA", PackSize: 6, EffectiveFrom: t0}, alice)
		f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "TEE-1", ItemCode: "P-1", UOM: "EA", EffectiveFrom: t0}, alice)
		f.set(t, mapping.Mapping{Warehouse: "paris", SKU: "MUG-1", ItemCode: "P-9", EffectiveFrom: t0.Add(time.Hour)}, bob)
		wo := &order.WarehouseOrder{ExternalRef: "CD-1", Shop: shop, Warehouse: "paris", PlacedAt: t0.Add(time.Minute), Lines: []order.Line{
			{LineNo: 1, SKU: "BOX-6", Quantity: 2}, {LineNo: 2, SKU: "MUG-1", Quantity: 1}, {LineNo: 3, SKU: "TEE-1", Quantity: 3},
		}}
		sent, notes, err := mapping.ToWMS(f.ctx, f.st.Read, wo, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []order.Line{{LineNo: 1, SKU: "P-1", Quantity: 12}, {LineNo: 2, SKU: "MUG-1", Quantity: 1}, {LineNo: 3, SKU: "P-1", Quantity: 3}}
		if d := cmp.Diff(want, sent.Lines); d != "" {
			t.Fatalf("lines sent (-want +got):\n%s", d)
		}
		if len(notes) != 2 || wo.Lines[0].SKU != "BOX-6" || wo.Lines[0].Quantity != 2 {
			t.Fatalf("notes %v; order changed: %+v", notes, wo.Lines)
		}
		sh := &order.Shipment{ID: "S1", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 6}, {LineNo: 2, SKU: "MUG-1", Quantity: 1}, {LineNo: 3, SKU: "P-1", Quantity: 3}},
			Packages: []order.Package{{ID: "PK", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 6}}}}}
		if err := mapping.FromWMSShipment(f.ctx, f.st.Read, wo, sh, time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantSh := []order.ShipmentLine{{LineNo: 1, SKU: "BOX-6", Quantity: 1}, {LineNo: 2, SKU: "MUG-1", Quantity: 1}, {LineNo: 3, SKU: "TEE-1", Quantity: 3}}
		if d := cmp.Diff(wantSh, sh.Lines); d != "" || sh.Packages[0].Lines[0].SKU != "BOX-6" || sh.Packages[0].Lines[0].Quantity != 1 {
			t.Fatalf("shipment lines (-want +got):\n%s\npackage %+v", d, sh.Packages[0].Lines)
		}
		// Two parcels each holding 3 of the 6 units of one box: each holds
		// part of that box.
		split := &order.Shipment{ID: "S3", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 6}},
			Packages: []order.Package{{ID: "A", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 3}}}, {ID: "B", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 3}}}}}
		if err := mapping.FromWMSShipment(f.ctx, f.st.Read, wo, split, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if l := split.Packages[1].Lines[0]; split.Lines[0].Quantity != 1 || l.SKU != "BOX-6" || l.Quantity != 1 {
			t.Fatalf("split parcels: shipment %+v, parcel %+v", split.Lines, l)
		}
		for _, bad := range []order.ShipmentLine{{LineNo: 1, SKU: "P-1", Quantity: 4}, {LineNo: 2, SKU: "P-9", Quantity: 1}, {LineNo: 1, SKU: "BOX-6", Quantity: 6}} {
			s := &order.Shipment{ID: "S2", Lines: []order.ShipmentLine{bad}}
			if err := mapping.FromWMSShipment(f.ctx, f.st.Read, wo, s, time.Time{}); err == nil {
				t.Errorf("shipment line %+v accepted", bad)
			}
		}
		snap := connector.StockSnapshot{AsOf: t0.Add(2 * time.Hour), Full: true, Items: []connector.StockItem{
			{SKU: "P-1", OnHand: 20, Available: 13}, {SKU: "P-9", OnHand: 4, Available: 4}, {SKU: "MUG-1", OnHand: 1, Available: 1}, {SKU: "CAP-1", OnHand: 2, Available: 2},
		}}
		got, problems, err := mapping.StockToSKUs(f.ctx, f.st.Read, shop, "paris", snap)
		if err != nil {
			t.Fatal(err)
		}
		wantStock := []connector.StockItem{{SKU: "BOX-6", OnHand: 3, Available: 2}, {SKU: "CAP-1", OnHand: 2, Available: 2}, {SKU: "MUG-1", OnHand: 4, Available: 4}, {SKU: "TEE-1", OnHand: 20, Available: 13}}
		if d := cmp.Diff(wantStock, got.Items); d != "" {
			t.Fatalf("stock (-want +got):\n%s", d)
		}
		if len(problems) != 1 || problems[0].ItemCode != "MUG-1" {
			t.Fatalf("problems = %+v, want the stale item MUG-1", problems)
		}
		back, err := mapping.ItemSKUs(f.ctx, f.st.Read, shop, "paris", t0.Add(2*time.Hour), []string{"P-1", "MUG-1", "P-9"})
		if err != nil {
			t.Fatal(err)
		}
		if len(back["P-1"]) != 2 || back["P-1"][0].SKU != "BOX-6" || back["P-1"][0].ShopifyUnits(13) != 2 || back["P-1"][1].ShopifyUnits(13) != 13 ||
			len(back["MUG-1"]) != 0 || len(back["P-9"]) != 1 {
			t.Fatalf("ItemSKUs = %+v", back)
		}
		if _, err := f.tab.SKU(f.ctx, shop, "paris", "P-1", t0.Add(time.Hour)); !errors.Is(err, mapping.ErrAmbiguous) {
			t.Fatalf("SKU(P-1) = %v, want ErrAmbiguous", err)
		}
	})
}

// TestRevertRestoresAnyVersion (property): after any sequence of sets and
// deletes, reverting to version v makes the table in force at every time
// what it was at v.
func TestRevertRestoresAnyVersion(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, store.SQLite)
	tab := mapping.New(st)
	ctx := context.Background()
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		s := fmt.Sprintf("p%d.myshopify.com", n)
		at := func(label string) time.Time {
			return t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(rt, label)) * time.Hour)
		}
		var versions []int64
		steps := rapid.IntRange(1, 12).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			wh := rapid.SampledFrom([]string{"", "paris"}).Draw(rt, "wh")
			sku := rapid.SampledFrom([]string{"A", "B"}).Draw(rt, "sku")
			var res mapping.Result
			var err error
			if rapid.IntRange(0, 3).Draw(rt, "op") == 0 {
				res, err = tab.Delete(ctx, s, wh, sku, at("del_at"), alice)
				if errors.Is(err, mapping.ErrNotFound) {
					continue
				}
			} else {
				res, err = tab.Set(ctx, s, mapping.Mapping{Warehouse: wh, SKU: sku, ItemCode: rapid.SampledFrom([]string{"X", "Y", ""}).Draw(rt, "code"),
					PackSize: rapid.IntRange(1, 3).Draw(rt, "pack"), EffectiveFrom: at("set_at")}, alice)
			}
			if err != nil {
				rt.Fatal(err)
			}
			if res.Version != 0 {
				versions = append(versions, res.Version)
			}
		}
		if len(versions) == 0 {
			return
		}
		v := rapid.SampledFrom(versions).Draw(rt, "revert_to")
		if _, err := tab.Revert(ctx, s, v, bob); err != nil {
			rt.Fatal(err)
		}
		for h := 0; h <= 6; h++ {
			tm := t0.Add(time.Duration(h) * time.Hour)
			d, err := tab.Diff(ctx, s, mapping.Point{Version: v, At: tm}, mapping.Point{At: tm})
			if err != nil {
				rt.Fatal(err)
			}
			if len(d) != 0 {
				rt.Fatalf("at +%dh after revert to v%d: %d differences, first %+v", h, v, len(d), d[0])
			}
			for _, wh := range []string{"paris", "newark"} {
				for _, sku := range []string{"A", "B"} {
					it, err := tab.WMSItem(ctx, s, wh, sku, tm)
					if err != nil {
						rt.Fatal(err)
					}
					back, err := tab.SKUs(ctx, s, wh, it.Code, tm)
					if err != nil {
						rt.Fatalf("%s/%s is %s at +%dh but that item maps back to nothing: %v", wh, sku, it.Code, h, err)
					}
					found := false
					for _, b := range back {
						found = found || b.SKU == sku
					}
					if !found {
						rt.Fatalf("%s/%s is %s at +%dh but that item maps back to %+v", wh, sku, it.Code, h, back)
					}
				}
			}
		}
	})
}

// TestParsePoint: operators write VERSION, TIME or VERSION@TIME.
func TestParsePoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want mapping.Point
	}{
		{"", mapping.Point{}},
		{"12", mapping.Point{Version: 12}},
		{"2026-11-01T08:00:00Z", mapping.Point{At: t0}},
		{"12@2026-11-01T08:00:00Z", mapping.Point{Version: 12, At: t0}},
	} {
		got, err := mapping.ParsePoint(c.in)
		if err != nil || !cmp.Equal(got, c.want) {
			t.Errorf("ParsePoint(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "0", "-3", "x@2026-11-01T08:00:00Z", "3@soon"} {
		if p, err := mapping.ParsePoint(bad); err == nil {
			t.Errorf("ParsePoint(%q) = %+v, want an error", bad, p)
		}
	}
}
