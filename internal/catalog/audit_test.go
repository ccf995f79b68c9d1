package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
)

// brief is the part of a finding the rule tables assert.
type brief struct {
	Kind      Kind
	Severity  Severity
	Warehouse string
	SKUs      []string
}

func briefs(fs []Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.Kind, f.Severity, f.Warehouse, f.SKUs})
	}
	return out
}

// builder makes small inputs: variants numbered in order, a warehouse
// "w1" expected to stock everything and owning its stock.
type builder struct{ in Input }

func setup(t *testing.T) *builder {
	t.Helper()
	return &builder{in: Input{Shop: "t.myshopify.com", Mapping: map[string][]string{}}}
}

func (b *builder) variant(sku, barcode string) *Variant {
	n := len(b.in.Variants) + 1
	b.in.Variants = append(b.in.Variants, Variant{ID: fmt.Sprintf("gid://shopify/ProductVariant/%d", n), SKU: sku, Barcode: barcode,
		Title: "Default Title", ProductTitle: "P" + sku, ProductStatus: "ACTIVE",
		InventoryItemID: fmt.Sprintf("gid://shopify/InventoryItem/%d", n), Tracked: true})
	return &b.in.Variants[len(b.in.Variants)-1]
}

// clean adds n variants with their items in w1 and their mapping.
func (b *builder) clean(n int) {
	for i := range n {
		v := b.variant(fmt.Sprintf("C-%d", i), fmt.Sprintf("9%03d", i))
		b.in.Mapping[v.InventoryItemID] = []string{v.SKU}
	}
	b.mirror()
}

// item returns w1's item of a code.
func (b *builder) item(code string) *connector.Item {
	items := b.in.Warehouses[0].Items
	return &items[slices.IndexFunc(items, func(it connector.Item) bool { return it.Code == code })]
}

// mirror (re)builds w1's item master from the Shopify SKUs.
func (b *builder) mirror() {
	w := Warehouse{ID: "w1", HasItemMaster: true, ExpectsAll: true, OwnsStock: true}
	seen := map[string]bool{}
	for _, v := range b.in.Variants {
		if strings.TrimSpace(v.SKU) != "" && !seen[v.SKU] {
			seen[v.SKU] = true
			w.Items = append(w.Items, connector.Item{Code: v.SKU, Barcodes: []string{v.Barcode}, Active: true})
		}
	}
	b.in.Warehouses = []Warehouse{w}
}

func TestAuditRules(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		build func(b *builder)
		want  []brief
	}{
		"a clean catalogue yields no finding": {
			build: func(b *builder) {},
		},
		"empty SKU, blank SKU": {
			build: func(b *builder) { b.variant("", "1"); b.variant("  ", "2") },
			want:  []brief{{KindEmptySKU, SeverityError, "", nil}, {KindEmptySKU, SeverityError, "", nil}},
		},
		"duplicate SKU": {
			build: func(b *builder) { b.variant("D", "1"); b.variant("D", "2"); b.variant("D", "3"); b.mirror() },
			want:  []brief{{KindDuplicateSKU, SeverityError, "", []string{"D"}}},
		},
		"two spellings in Shopify, both in the warehouse": {
			build: func(b *builder) { b.variant("Ab", "1"); b.variant("aB", "2"); b.mirror() },
			want:  []brief{{KindSKUCaseOrSpace, SeverityWarning, "", []string{"Ab", "aB"}}},
		},
		"surrounding spaces in Shopify, trimmed in the warehouse": {
			build: func(b *builder) {
				b.variant(" S ", "1")
				b.mirror()
				b.item(" S ").Code = "S"
			},
			want: []brief{{KindSKUCaseOrSpace, SeverityError, "", []string{" S ", "S"}}},
		},
		"warehouse spells a SKU in another case: one finding, not two unknowns": {
			build: func(b *builder) {
				b.variant("UP", "1")
				b.mirror()
				b.item("UP").Code = "up"
			},
			want: []brief{{KindSKUCaseOrSpace, SeverityError, "", []string{"UP", "up"}}},
		},
		"SKU missing from a warehouse expected to stock it": {
			build: func(b *builder) { b.variant("M", "1") },
			want:  []brief{{KindSKUUnknownToWarehouse, SeverityError, "w1", []string{"M"}}},
		},
		"SKU whose item is retired": {
			build: func(b *builder) { b.variant("R", "1"); b.mirror(); b.item("R").Active = false },
			want:  []brief{{KindSKUUnknownToWarehouse, SeverityError, "w1", []string{"R"}}},
		},
		"SKU of an archived product or not expected: no finding": {
			build: func(b *builder) {
				b.variant("ARCH", "1").ProductStatus = "ARCHIVED"
				b.variant("ELSEWHERE", "2")
				b.mirror()
				b.in.Warehouses = append(b.in.Warehouses, Warehouse{ID: "w2", HasItemMaster: true, Expected: []string{"C-0"},
					Items: []connector.Item{{Code: "C-0", Barcodes: []string{"9000"}, Active: true}}})
			},
		},
		"SKU of an unlisted product is expected (it can be ordered by link)": {
			build: func(b *builder) {
				b.variant("UNL", "1").ProductStatus = "UNLISTED"
				b.variant("DR", "2").ProductStatus = "DRAFT"
			},
			want: []brief{{KindSKUUnknownToWarehouse, SeverityError, "w1", []string{"UNL"}}},
		},
		"explicit expectation of a SKU the warehouse lacks": {
			build: func(b *builder) {
				b.in.Warehouses = append(b.in.Warehouses, Warehouse{ID: "w2", HasItemMaster: true, Expected: []string{"C-1", "C-1", " "}})
			},
			want: []brief{{KindSKUUnknownToWarehouse, SeverityError, "w2", []string{"C-1"}}},
		},
		"warehouse item unknown to Shopify (inactive ones are fine)": {
			build: func(b *builder) {
				b.in.Warehouses[0].Items = append(b.in.Warehouses[0].Items,
					connector.Item{Code: "ONLY-WMS", Active: true}, connector.Item{Code: "OLD", Active: false})
			},
			want: []brief{{KindWMSItemUnknownToShopify, SeverityWarning, "w1", []string{"ONLY-WMS"}}},
		},
		"barcode on two SKUs in Shopify": {
			build: func(b *builder) { b.variant("B1", "777"); b.variant("B2", "777"); b.mirror() },
			want:  []brief{{KindBarcodeOnTwoSKUs, SeverityError, "", []string{"B1", "B2"}}},
		},
		"barcode of a Shopify SKU on another item in the warehouse": {
			build: func(b *builder) { b.item("C-1").Barcodes = []string{"9000"} },
			want:  []brief{{KindBarcodeOnTwoSKUs, SeverityError, "", []string{"C-0", "C-1"}}},
		},
		"one barcode on two variants of one SKU is the duplicate, not a barcode finding": {
			build: func(b *builder) { b.variant("X", "55"); b.variant("X", "55"); b.mirror() },
			want:  []brief{{KindDuplicateSKU, SeverityError, "", []string{"X"}}},
		},
		"untracked inventory for stock owned by two warehouses: one finding": {
			build: func(b *builder) {
				b.variant("U", "1").Tracked = false
				b.mirror()
				w2 := b.in.Warehouses[0]
				w2.ID = "w2"
				b.in.Warehouses = append(b.in.Warehouses, w2)
			},
			want: []brief{{KindInventoryNotTracked, SeverityError, "", []string{"U"}}},
		},
		"untracked inventory where the warehouse does not own stock: no finding": {
			build: func(b *builder) {
				b.variant("U", "1").Tracked = false
				b.mirror()
				b.in.Warehouses[0].OwnsStock = false
			},
		},
		"renamed in Shopify, mapping still on the old SKU": {
			build: func(b *builder) {
				v := b.variant("NEW", "1")
				b.in.Mapping[v.InventoryItemID] = []string{"OLD"}
				b.mirror()
			},
			want: []brief{{KindSKURenamedOneSide, SeverityError, "", []string{"NEW", "OLD"}}},
		},
		"renamed and mapped under the new SKU too: no finding": {
			build: func(b *builder) {
				v := b.variant("NEW", "1")
				b.in.Mapping[v.InventoryItemID] = []string{"OLD", "NEW"}
				b.mirror()
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.clean(3)
			tc.build(b)
			got := Audit(b.in)
			if diff := cmp.Diff(tc.want, briefs(got.Findings), cmp.Comparer(func(x, y []string) bool { return slices.Equal(x, y) })); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range got.Findings {
				if f.Message == "" || f.Fix == "" || len(f.Entities) == 0 {
					t.Errorf("finding without message, fix or entities: %+v", f)
				}
			}
		})
	}
}

func TestAuditNotesWhatItCouldNotCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clean(2)
	b.in.Mapping = nil
	b.in.Warehouses[0].Items = append(b.in.Warehouses[0].Items, connector.Item{Code: "", Active: true}, connector.Item{Code: "C-0", Active: true})
	b.in.Warehouses = append(b.in.Warehouses,
		Warehouse{ID: "nomaster", ExpectsAll: true},
		Warehouse{ID: "down", ExpectsAll: true, ItemMasterError: "GET /v1/items: 503"})
	r := Audit(b.in)
	if len(r.Findings) != 0 {
		t.Errorf("findings %v, want none", briefs(r.Findings))
	}
	for _, want := range []string{"item 2 of the item master has no code", `"C-0" is listed twice`, "warehouse nomaster: no item master",
		"warehouse down: the item master could not be read (GET /v1/items: 503)", "hub mapping not read"} {
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("notes %q lack %q", r.Notes, want)
		}
	}
	if !r.Incomplete {
		t.Error("report with an unreadable item master is not marked incomplete")
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	c := Count([]Finding{{Kind: KindEmptySKU, Severity: SeverityError}, {Kind: KindEmptySKU, Severity: SeverityError},
		{Kind: KindWMSItemUnknownToShopify, Severity: SeverityWarning}})
	if c.ByKind[KindEmptySKU] != 2 || c.ByKind[KindWMSItemUnknownToShopify] != 1 || len(c.ByKind) != len(Kinds()) {
		t.Errorf("by kind %v", c.ByKind)
	}
	if c.BySeverity[SeverityError] != 2 || c.BySeverity[SeverityWarning] != 1 {
		t.Errorf("by severity %v", c.BySeverity)
	}
}

// TestAuditFindsEveryPlantedDefect: on any synthetic catalogue, every
// planted defect is found once and nothing else is; perKind 0 (clean)
// yields no finding at all.
func TestAuditFindsEveryPlantedDefect(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		perKind := rapid.IntRange(0, 6).Draw(t, "perKind")
		n := rapid.IntRange(PlantsPerRound*perKind, PlantsPerRound*perKind+300).Draw(t, "n")
		s, err := Synthesize(n, perKind, rapid.Uint64().Draw(t, "seed"))
		if err != nil {
			t.Fatal(err)
		}
		in, ids := s.Input()
		r := Audit(in)
		sc := Score(s.Planted, r.Findings, ids)
		for _, k := range Kinds() {
			if sc.Planted[k] != perKind || sc.Found[k] != perKind {
				t.Errorf("%s: planted %d, found %d, want %d", k, sc.Planted[k], sc.Found[k], perKind)
			}
		}
		if sc.FalsePositives != 0 || len(sc.Missed) != 0 {
			t.Fatalf("%d false positives %v, missed %v", sc.FalsePositives, briefs(sc.Unexpected), sc.Missed)
		}
		if len(r.Notes) != 0 {
			t.Errorf("notes on a complete input: %v", r.Notes)
		}
	})
}

// TestAuditIgnoresOrder: shuffling the variants and items changes nothing.
func TestAuditIgnoresOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		s, err := Synthesize(120, 3, rapid.Uint64().Draw(t, "seed"))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := s.Input()
		want := Audit(in)
		perm := rapid.Permutation(in.Variants).Draw(t, "variants")
		in.Variants = perm
		for i := range in.Warehouses {
			in.Warehouses[i].Items = rapid.Permutation(in.Warehouses[i].Items).Draw(t, "items")
		}
		got := Audit(in)
		if diff := cmp.Diff(briefs(want.Findings), briefs(got.Findings)); diff != "" {
			t.Fatalf("findings depend on order (-before +after):\n%s", diff)
		}
	})
}
