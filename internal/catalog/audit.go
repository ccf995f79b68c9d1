// Package catalog audits a shop's catalogue before (and while) it is
// integrated: the Shopify variants, the hub's mapping inventory item → SKU,
// and every warehouse's item master. Audit is pure: it works on plain
// inputs (Input) that a Loader gathers from Shopify, the connectors and the
// store, so every rule is testable without a network.
//
// The rules, one finding kind each:
//
//	empty_sku                    error    a variant without SKU (spaces only count as none)
//	duplicate_sku                error    one SKU on several Shopify variants
//	sku_case_or_space            warning  spellings of one SKU that differ only by case or
//	                             / error  surrounding spaces (error when Shopify and a
//	                                      warehouse spell it differently)
//	sku_unknown_to_warehouse     error    a SKU a warehouse is expected to stock is not an
//	                                      active item of its item master
//	wms_item_unknown_to_shopify  warning  an active warehouse item whose code is no Shopify SKU
//	barcode_on_two_skus          error    one barcode on two different SKUs, in Shopify or
//	                                      in an item master
//	inventory_not_tracked        error    Shopify does not track the inventory of a SKU
//	                                      whose stock a warehouse owns (the hub pushes it)
//	sku_renamed_one_side         error    an inventory item's SKU in Shopify is none of the
//	                                      SKUs the hub maps it under
//
// Each defect gives one finding: a spelling problem is reported once as
// sku_case_or_space and not again as an unknown SKU or item, a SKU missing
// from several warehouses gives one finding per warehouse, an untracked item
// one finding whatever the number of warehouses.
package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// Kind names a kind of finding. The names are a contract (CLI JSON output).
type Kind string

// The finding kinds.
const (
	KindEmptySKU                Kind = "empty_sku"
	KindDuplicateSKU            Kind = "duplicate_sku"
	KindSKUCaseOrSpace          Kind = "sku_case_or_space"
	KindSKUUnknownToWarehouse   Kind = "sku_unknown_to_warehouse"
	KindWMSItemUnknownToShopify Kind = "wms_item_unknown_to_shopify"
	KindBarcodeOnTwoSKUs        Kind = "barcode_on_two_skus"
	KindInventoryNotTracked     Kind = "inventory_not_tracked"
	KindSKURenamedOneSide       Kind = "sku_renamed_one_side"
)

// Kinds returns every kind, in report order.
func Kinds() []Kind {
	return []Kind{KindEmptySKU, KindDuplicateSKU, KindSKUCaseOrSpace, KindSKUUnknownToWarehouse,
		KindWMSItemUnknownToShopify, KindBarcodeOnTwoSKUs, KindInventoryNotTracked, KindSKURenamedOneSide}
}

// Severity is how bad a finding is: an error breaks orders or stock, a
// warning is a risk or clutter.
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Variant is one Shopify product variant with its inventory item.
type Variant struct {
	// ID is the ProductVariant GID.
	ID string
	// SKU is exactly as Shopify holds it.
	SKU string
	// Barcode is the variant's barcode, if any.
	Barcode string
	// Title is the variant title; ProductTitle the product's.
	Title, ProductTitle string
	// ProductStatus is ACTIVE, ARCHIVED, DRAFT or UNLISTED ("" counts as
	// ACTIVE). Only products that can be ordered (ACTIVE, UNLISTED) are
	// expected in warehouses and checked for tracking.
	ProductStatus string
	// InventoryItemID is the InventoryItem GID.
	InventoryItemID string
	// Tracked is InventoryItem.tracked.
	Tracked bool
}

// active reports whether the variant can be ordered: its product is ACTIVE
// or UNLISTED (sold through a direct link).
func (v *Variant) active() bool {
	return v.ProductStatus == "" || v.ProductStatus == "ACTIVE" || v.ProductStatus == "UNLISTED"
}

func (v *Variant) name() string {
	if v.Title == "" || v.Title == "Default Title" {
		return v.ProductTitle
	}
	return v.ProductTitle + " - " + v.Title
}

// Warehouse is what the audit knows of one warehouse.
type Warehouse struct {
	// ID is the hub's warehouse id.
	ID string
	// HasItemMaster is false when the connector cannot list its items;
	// the checks that need them are then skipped (and noted).
	HasItemMaster bool
	// ItemMasterError is why the item master could not be read, if its
	// connector has one; the report is then incomplete.
	ItemMasterError string
	// Items is the item master.
	Items []connector.Item
	// ExpectsAll says the warehouse is expected to stock every SKU of an
	// active Shopify product; otherwise Expected lists the SKUs it is.
	ExpectsAll bool
	// Expected are the SKUs the warehouse is expected to stock when
	// ExpectsAll is false.
	Expected []string
	// OwnsStock says the warehouse's stock is the source of truth pushed
	// to Shopify, so Shopify must track the inventory of what it stocks.
	OwnsStock bool
}

// Input is everything Audit looks at.
type Input struct {
	// Shop is the shop domain, for messages.
	Shop string
	// Variants is the Shopify catalogue.
	Variants []Variant
	// Warehouses are the shop's warehouses.
	Warehouses []Warehouse
	// Mapping is the hub's mapping inventory item GID → the SKUs it is
	// mapped under. Nil means it could not be read (sku_renamed_one_side is
	// then skipped and noted); empty means no mapping yet.
	Mapping map[string][]string
}

// Entity is one thing a finding is about.
type Entity struct {
	// Type is "variant", "inventory_item", "wms_item", "barcode" or
	// "mapping".
	Type string `json:"type"`
	// ID is the GID (variant, inventory item), the item code (wms_item),
	// the barcode, or the mapped SKU (mapping).
	ID string `json:"id"`
	// SKU is the entity's SKU, exactly as its system holds it.
	SKU string `json:"sku,omitempty"`
	// Warehouse is set for wms_item.
	Warehouse string `json:"warehouse,omitempty"`
}

// Finding is one defect with the entities involved and what to do.
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Warehouse is set for findings about one warehouse.
	Warehouse string `json:"warehouse,omitempty"`
	// SKUs are the SKU spellings involved, sorted.
	SKUs     []string `json:"skus,omitempty"`
	Entities []Entity `json:"entities"`
	Message  string   `json:"message"`
	// Fix is the suggested correction.
	Fix string `json:"fix"`
}

// Report is the result of Audit.
type Report struct {
	Shop     string    `json:"shop,omitempty"`
	Findings []Finding `json:"findings"`
	// Notes are checks that could not run and inputs that were ignored,
	// with the reason.
	Notes []string `json:"notes,omitempty"`
	// Incomplete is true when a source could not be read (an item master
	// that failed): absent findings then prove nothing for it.
	Incomplete bool `json:"incomplete"`
}

// Counts are findings counted by kind and by severity; every kind and
// severity is present, zero included.
type Counts struct {
	ByKind     map[Kind]int     `json:"by_kind"`
	BySeverity map[Severity]int `json:"by_severity"`
}

// Count counts findings by kind and severity.
func Count(fs []Finding) Counts {
	c := Counts{ByKind: map[Kind]int{}, BySeverity: map[Severity]int{SeverityError: 0, SeverityWarning: 0}}
	for _, k := range Kinds() {
		c.ByKind[k] = 0
	}
	for _, f := range fs {
		c.ByKind[f.Kind]++
		c.BySeverity[f.Severity]++
	}
	return c
}

// HasErrors reports whether a finding of severity error exists.
func (r *Report) HasErrors() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == SeverityError })
}

// norm is the comparison key of SKUs that differ only by case or
// surrounding spaces.
func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// auditor holds the indexes shared by the rules.
type auditor struct {
	in  Input
	out Report
	// bySKU indexes variants with a non-blank SKU by exact SKU.
	bySKU map[string][]*Variant
	// skus are the distinct non-blank Shopify SKUs, sorted.
	skus []string
	// shopNorm is the set of norm(SKU) of Shopify SKUs.
	shopNorm map[string]bool
	// whs are the warehouses' indexes, in input order.
	whs []*whIndex
}

type whIndex struct {
	*Warehouse
	active   map[string]*connector.Item // active items by exact code
	inactive map[string]*connector.Item
	norms    map[string]bool // norm(code) of active items
	expected []string        // sorted, distinct
}

// Audit runs every rule over in and returns the findings sorted by kind,
// then SKU, then warehouse.
func Audit(in Input) Report {
	a := &auditor{in: in, out: Report{Shop: in.Shop, Findings: []Finding{}}, bySKU: map[string][]*Variant{}, shopNorm: map[string]bool{}}
	a.index()
	a.emptySKUs()
	a.duplicates()
	a.caseOrSpace()
	a.warehouses()
	a.barcodes()
	a.untracked()
	a.renamed()
	order := map[Kind]int{}
	for i, k := range Kinds() {
		order[k] = i
	}
	slices.SortStableFunc(a.out.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(order[x.Kind], order[y.Kind]), slices.Compare(x.SKUs, y.SKUs), cmp.Compare(x.Warehouse, y.Warehouse))
	})
	return a.out
}

func (a *auditor) add(f Finding) {
	slices.Sort(f.SKUs)
	f.SKUs = slices.Compact(f.SKUs)
	a.out.Findings = append(a.out.Findings, f)
}

func (a *auditor) note(format string, args ...any) {
	a.out.Notes = append(a.out.Notes, fmt.Sprintf(format, args...))
}

func variantEntities(vs []*Variant) []Entity {
	out := make([]Entity, 0, len(vs))
	for _, v := range vs {
		out = append(out, Entity{Type: "variant", ID: v.ID, SKU: v.SKU})
	}
	return out
}

func (a *auditor) index() {
	for i := range a.in.Variants {
		v := &a.in.Variants[i]
		if strings.TrimSpace(v.SKU) == "" {
			continue
		}
		if len(a.bySKU[v.SKU]) == 0 {
			a.skus = append(a.skus, v.SKU)
		}
		a.bySKU[v.SKU] = append(a.bySKU[v.SKU], v)
		a.shopNorm[norm(v.SKU)] = true
	}
	slices.Sort(a.skus)
	for i := range a.in.Warehouses {
		w := &a.in.Warehouses[i]
		x := &whIndex{Warehouse: w, active: map[string]*connector.Item{}, inactive: map[string]*connector.Item{}, norms: map[string]bool{}}
		for j := range w.Items {
			it := &w.Items[j]
			switch {
			case strings.TrimSpace(it.Code) == "":
				a.note("warehouse %s: item %d of the item master has no code; ignored", w.ID, j)
				continue
			case x.active[it.Code] != nil || x.inactive[it.Code] != nil:
				a.note("warehouse %s: item code %q is listed twice in the item master; the first is used", w.ID, it.Code)
				continue
			case it.Active:
				x.active[it.Code] = it
				x.norms[norm(it.Code)] = true
			default:
				x.inactive[it.Code] = it
			}
		}
		if w.ExpectsAll {
			for _, s := range a.skus {
				if slices.ContainsFunc(a.bySKU[s], (*Variant).active) {
					x.expected = append(x.expected, s)
				}
			}
		} else {
			for _, s := range w.Expected {
				if strings.TrimSpace(s) != "" {
					x.expected = append(x.expected, s)
				}
			}
			slices.Sort(x.expected)
			x.expected = slices.Compact(x.expected)
		}
		a.whs = append(a.whs, x)
	}
}

func (a *auditor) emptySKUs() {
	for i := range a.in.Variants {
		v := &a.in.Variants[i]
		if strings.TrimSpace(v.SKU) != "" {
			continue
		}
		a.add(Finding{Kind: KindEmptySKU, Severity: SeverityError,
			Entities: []Entity{{Type: "variant", ID: v.ID, SKU: v.SKU}, {Type: "inventory_item", ID: v.InventoryItemID}},
			Message:  fmt.Sprintf("variant %q (%s) has no SKU: it cannot be routed, mapped or synced", v.name(), v.ID),
			Fix:      "Give the variant a unique SKU in Shopify and create the same code in the item master of the warehouses that stock it.",
		})
	}
}

func (a *auditor) duplicates() {
	for _, s := range a.skus {
		vs := a.bySKU[s]
		if len(vs) < 2 {
			continue
		}
		names := make([]string, len(vs))
		for i, v := range vs {
			names[i] = fmt.Sprintf("%q", v.name())
		}
		a.add(Finding{Kind: KindDuplicateSKU, Severity: SeverityError, SKUs: []string{s}, Entities: variantEntities(vs),
			Message: fmt.Sprintf("SKU %q is on %d variants (%s): orders and stock for it cannot be told apart", s, len(vs), strings.Join(names, ", ")),
			Fix:     fmt.Sprintf("Keep %q on one variant and give the others their own SKUs (and items in the warehouses).", s),
		})
	}
}

// caseOrSpace reports each group of spellings (Shopify SKUs and active item
// codes) that share norm() but are not one clean spelling.
func (a *auditor) caseOrSpace() {
	type spelling struct {
		shop bool
		whs  []string
	}
	// A first pass finds the keys with several spellings or a spelling
	// with spaces; only those are grouped in detail.
	first := make(map[string]string, len(a.skus))
	dirty := map[string]bool{}
	see := func(s string) {
		k := norm(s)
		if f, ok := first[k]; !ok {
			first[k] = s
		} else if f != s {
			dirty[k] = true
		}
		if s != strings.TrimSpace(s) {
			dirty[k] = true
		}
	}
	for _, s := range a.skus {
		see(s)
	}
	for _, w := range a.whs {
		for code := range w.active {
			see(code)
		}
	}
	if len(dirty) == 0 {
		return
	}
	groups := map[string]map[string]*spelling{}
	get := func(s string) *spelling {
		k := norm(s)
		if !dirty[k] {
			return nil
		}
		g := groups[k]
		if g == nil {
			g = map[string]*spelling{}
			groups[k] = g
		}
		sp := g[s]
		if sp == nil {
			sp = &spelling{}
			g[s] = sp
		}
		return sp
	}
	for _, s := range a.skus {
		if sp := get(s); sp != nil {
			sp.shop = true
		}
	}
	for _, w := range a.whs {
		for code := range w.active {
			if sp := get(code); sp != nil {
				sp.whs = append(sp.whs, w.ID)
			}
		}
	}
	keys := slices.Sorted(maps.Keys(groups))
	for _, k := range keys {
		g := groups[k]
		spellings := make([]string, 0, len(g))
		for s := range g {
			spellings = append(spellings, s)
		}
		slices.Sort(spellings)
		// Shopify and a warehouse disagree when a warehouse holding the key
		// does not hold exactly Shopify's spellings.
		var shopSet []string
		perWH := map[string][]string{}
		for _, s := range spellings {
			if g[s].shop {
				shopSet = append(shopSet, s)
			}
			for _, w := range g[s].whs {
				perWH[w] = append(perWH[w], s)
			}
		}
		sev := SeverityWarning
		if len(shopSet) > 0 {
			for _, ws := range perWH {
				if !slices.Equal(ws, shopSet) {
					sev = SeverityError
				}
			}
		}
		var ents []Entity
		var where []string
		for _, s := range spellings {
			sp := g[s]
			var in []string
			if sp.shop {
				ents = append(ents, variantEntities(a.bySKU[s])...)
				in = append(in, "Shopify")
			}
			for _, w := range sp.whs {
				ents = append(ents, Entity{Type: "wms_item", ID: s, SKU: s, Warehouse: w})
				in = append(in, w)
			}
			where = append(where, fmt.Sprintf("%q (%s)", s, strings.Join(in, ", ")))
		}
		msg := "SKU spellings differ only by case or surrounding spaces: " + strings.Join(where, "; ")
		if len(spellings) == 1 {
			msg = "SKU has surrounding spaces: " + where[0]
		}
		a.add(Finding{Kind: KindSKUCaseOrSpace, Severity: sev, SKUs: spellings, Entities: ents, Message: msg,
			Fix: fmt.Sprintf("Use one spelling without surrounding spaces (e.g. %q) in Shopify and in every item master; "+
				"systems that compare SKUs exactly will not match the others.", canonical(spellings, shopSet)),
		})
	}
}

// canonical suggests a spelling: Shopify's trimmed one if any, else the
// first trimmed one.
func canonical(spellings, shop []string) string {
	if len(shop) > 0 {
		return strings.TrimSpace(shop[0])
	}
	return strings.TrimSpace(spellings[0])
}

func (a *auditor) warehouses() {
	for _, w := range a.whs {
		if w.ItemMasterError != "" {
			a.out.Incomplete = true
			a.note("warehouse %s: the item master could not be read (%s): %s and %s not checked for it",
				w.ID, w.ItemMasterError, KindSKUUnknownToWarehouse, KindWMSItemUnknownToShopify)
			continue
		}
		if !w.HasItemMaster {
			a.note("warehouse %s: no item master (its connector cannot list items): %s and %s not checked for it",
				w.ID, KindSKUUnknownToWarehouse, KindWMSItemUnknownToShopify)
			continue
		}
		for _, s := range w.expected {
			if w.active[s] != nil || (w.norms[norm(s)] && len(a.bySKU[s]) > 0) {
				continue // known, or reported as sku_case_or_space
			}
			ents := variantEntities(a.bySKU[s])
			msg := fmt.Sprintf("SKU %q is expected in warehouse %s but is not in its item master", s, w.ID)
			if it := w.inactive[s]; it != nil {
				ents = append(ents, Entity{Type: "wms_item", ID: it.Code, SKU: it.Code, Warehouse: w.ID})
				msg = fmt.Sprintf("SKU %q is expected in warehouse %s but its item there is inactive (retired)", s, w.ID)
			}
			a.add(Finding{Kind: KindSKUUnknownToWarehouse, Severity: SeverityError, Warehouse: w.ID, SKUs: []string{s}, Entities: ents,
				Message: msg + ": orders for it would be backordered or refused",
				Fix:     fmt.Sprintf("Create (or reactivate) item %q in %s's item master, correct the SKU in Shopify, or stop stocking it in %s.", s, w.ID, w.ID),
			})
		}
		codes := make([]string, 0, len(w.active))
		for c := range w.active {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			if len(a.bySKU[c]) > 0 || a.shopNorm[norm(c)] {
				continue
			}
			label := fmt.Sprintf("item %q", c)
			if d := w.active[c].Description; d != "" {
				label += fmt.Sprintf(" (%s)", d)
			}
			a.add(Finding{Kind: KindWMSItemUnknownToShopify, Severity: SeverityWarning, Warehouse: w.ID, SKUs: []string{c},
				Entities: []Entity{{Type: "wms_item", ID: c, SKU: c, Warehouse: w.ID}},
				Message:  fmt.Sprintf("%s of warehouse %s is no Shopify SKU: its stock is never sold", label, w.ID),
				Fix:      fmt.Sprintf("Create the variant with SKU %q in Shopify, correct the item code, or deactivate the item in %s.", c, w.ID),
			})
		}
	}
}

// barcodes reports every barcode carried by two SKUs (compared with
// norm, so spelling variants count as one SKU) across Shopify and the item
// masters.
func (a *auditor) barcodes() {
	type holder struct {
		sku string
		ent Entity
	}
	// each calls f for every (barcode, SKU, holder) in Shopify and the
	// item masters.
	each := func(f func(bc, sku string, e func() Entity)) {
		for _, s := range a.skus {
			for _, v := range a.bySKU[s] {
				f(v.Barcode, s, func() Entity { return Entity{Type: "variant", ID: v.ID, SKU: s} })
			}
		}
		for _, w := range a.whs {
			for _, it := range w.active {
				for _, bc := range it.Barcodes {
					f(bc, it.Code, func() Entity { return Entity{Type: "wms_item", ID: it.Code, SKU: it.Code, Warehouse: w.ID} })
				}
			}
		}
	}
	// A first pass finds the barcodes on two SKUs; only those are
	// collected in detail.
	firstSKU := map[string]string{} // barcode → norm(SKU) of its first holder
	shared := map[string]bool{}
	each(func(bc, sku string, _ func() Entity) {
		if bc = strings.TrimSpace(bc); bc == "" {
			return
		}
		k := norm(sku)
		if f, ok := firstSKU[bc]; !ok {
			firstSKU[bc] = k
		} else if f != k {
			shared[bc] = true
		}
	})
	if len(shared) == 0 {
		return
	}
	by := map[string]map[string][]holder{} // barcode → norm(SKU) → holders
	each(func(bc, sku string, e func() Entity) {
		if bc = strings.TrimSpace(bc); !shared[bc] {
			return
		}
		m := by[bc]
		if m == nil {
			m = map[string][]holder{}
			by[bc] = m
		}
		m[norm(sku)] = append(m[norm(sku)], holder{sku, e()})
	})
	bcs := slices.Sorted(maps.Keys(by))
	for _, bc := range bcs {
		f := Finding{Kind: KindBarcodeOnTwoSKUs, Severity: SeverityError, Entities: []Entity{{Type: "barcode", ID: bc}}}
		for _, hs := range by[bc] {
			for _, h := range hs {
				f.SKUs = append(f.SKUs, h.sku)
				f.Entities = append(f.Entities, h.ent)
			}
		}
		slices.SortFunc(f.Entities[1:], func(x, y Entity) int {
			return cmp.Or(cmp.Compare(x.SKU, y.SKU), cmp.Compare(x.Type, y.Type), cmp.Compare(x.Warehouse, y.Warehouse), cmp.Compare(x.ID, y.ID))
		})
		skus := slices.Clone(f.SKUs)
		slices.Sort(skus)
		skus = slices.Compact(skus)
		f.Message = fmt.Sprintf("barcode %s is on %d SKUs (%s): a scan can pick the wrong article", bc, len(by[bc]), quoteAll(skus))
		f.Fix = fmt.Sprintf("Keep barcode %s on one SKU only: correct the others in Shopify or in the item master that holds them.", bc)
		a.add(f)
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// untracked reports, once per variant, an untracked inventory item whose
// SKU a stock-owning warehouse is expected to stock.
func (a *auditor) untracked() {
	owners := map[string][]string{} // SKU → owning warehouses expecting it
	for _, w := range a.whs {
		if !w.OwnsStock {
			continue
		}
		for _, s := range w.expected {
			owners[s] = append(owners[s], w.ID)
		}
	}
	for _, s := range a.skus {
		whs := owners[s]
		if len(whs) == 0 {
			continue
		}
		for _, v := range a.bySKU[s] {
			if v.Tracked || !v.active() {
				continue
			}
			a.add(Finding{Kind: KindInventoryNotTracked, Severity: SeverityError, SKUs: []string{s},
				Entities: []Entity{{Type: "variant", ID: v.ID, SKU: s}, {Type: "inventory_item", ID: v.InventoryItemID, SKU: s}},
				Message: fmt.Sprintf("Shopify does not track inventory of SKU %q (%s) although its stock is owned by %s: the quantities the hub pushes are ignored and it can be oversold",
					s, v.name(), strings.Join(whs, ", ")),
				Fix: "Turn on inventory tracking for the variant in Shopify (Track quantity).",
			})
		}
	}
}

// renamed reports inventory items whose Shopify SKU is none of the SKUs the
// hub maps them under.
func (a *auditor) renamed() {
	if a.in.Mapping == nil {
		a.note("hub mapping not read: %s not checked", KindSKURenamedOneSide)
		return
	}
	byItem := map[string]*Variant{}
	for i := range a.in.Variants {
		v := &a.in.Variants[i]
		if v.InventoryItemID != "" {
			byItem[v.InventoryItemID] = v
		}
	}
	items := make([]string, 0, len(a.in.Mapping))
	for it := range a.in.Mapping {
		items = append(items, it)
	}
	slices.Sort(items)
	gone := 0
	for _, it := range items {
		mapped := a.in.Mapping[it]
		v := byItem[it]
		if v == nil {
			gone++
			continue
		}
		if strings.TrimSpace(v.SKU) == "" || slices.Contains(mapped, v.SKU) {
			continue // empty_sku covers the first case
		}
		old := slices.Sorted(slices.Values(mapped))
		ents := []Entity{{Type: "inventory_item", ID: it, SKU: v.SKU}, {Type: "variant", ID: v.ID, SKU: v.SKU}}
		for _, m := range old {
			ents = append(ents, Entity{Type: "mapping", ID: m, SKU: m})
		}
		a.add(Finding{Kind: KindSKURenamedOneSide, Severity: SeverityError, SKUs: append([]string{v.SKU}, old...), Entities: ents,
			Message: fmt.Sprintf("inventory item %s is SKU %q in Shopify but the hub maps it as %s: stock and orders use the old SKU",
				it, v.SKU, quoteAll(old)),
			Fix: fmt.Sprintf("If the rename is intended, map the item to %q (and rename the warehouse items); otherwise restore %s in Shopify.",
				v.SKU, quoteAll(old)),
		})
	}
	if gone > 0 {
		a.note("hub mapping: %d inventory items are mapped but no longer in Shopify (stale mapping rows)", gone)
	}
}
