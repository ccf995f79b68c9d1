package mapping

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
)

// load reads the entries of warehouse (and of every warehouse, "") for
// the given SKUs and for the SKUs mapped to the given item codes.
func load(ctx context.Context, q store.Querier, shop, warehouse string, skus, items []string) (schedule, error) {
	args := []any{shop, warehouse}
	list := func(vs []string) string {
		ph := make([]string, len(vs))
		for i, v := range vs {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		return strings.Join(ph, ",")
	}
	var cond []string
	if all := append(slices.Clone(skus), items...); len(all) > 0 {
		cond = append(cond, "sku IN ("+list(all)+")")
	}
	if len(items) > 0 {
		cond = append(cond, "sku IN (SELECT sku FROM mapping_entry WHERE shop = $1 AND warehouse IN ($2, '') AND item_code IN ("+list(items)+"))")
	}
	if len(cond) == 0 {
		return schedule{}, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+entryCols+` FROM mapping_entry WHERE shop = $1 AND warehouse IN ($2, '') AND (`+
		strings.Join(cond, " OR ")+`)`, args...) // no ORDER BY: it would steer SQLite to the version index
	if err != nil {
		return nil, fmt.Errorf("mapping: lookup: %w", err)
	}
	es, err := scanEntries(rows)
	if err != nil {
		return nil, err
	}
	return known(byVersion(es), 0), nil
}

// byVersion sorts entries in the order they were written.
func byVersion(es []entry) []entry {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Version < es[j].Version })
	return es
}

// reverse returns the SKUs whose item in warehouse at t is item, sorted:
// the SKUs mapped to it, else the item code itself when it is a SKU
// without a mapping (identity is only the reading of codes no mapping
// claims).
func (s schedule) reverse(warehouse, item string, t time.Time) []string {
	var out []string
	for k := range s {
		if slices.Contains(out, k.sku) {
			continue
		}
		if it := s.resolve(warehouse, k.sku, t); it.Mapped && it.Code == item {
			out = append(out, k.sku)
		}
	}
	if len(out) == 0 && !s.claimed()[item] && s.resolve(warehouse, item, t).Code == item {
		out = append(out, item)
	}
	sort.Strings(out)
	return out
}

// claimed returns the item codes some entry maps a SKU to, at any time: a
// code a mapping once claimed (say the old code after a rename) is not
// read as a SKU of that name.
func (s schedule) claimed() map[string]bool {
	c := map[string]bool{}
	for _, byAt := range s {
		for _, e := range byAt {
			if e.kind == kindSet && e.ItemCode != "" && e.ItemCode != e.SKU {
				c[e.ItemCode] = true
			}
		}
	}
	return c
}

// LookupItem returns what warehouse knows sku as at t; without a mapping,
// the SKU itself with pack size 1.
func LookupItem(ctx context.Context, q store.Querier, shop, warehouse, sku string, at time.Time) (Item, error) {
	s, err := load(ctx, q, shop, warehouse, []string{sku}, nil)
	if err != nil {
		return Item{}, err
	}
	return s.resolve(warehouse, sku, at), nil
}

// LookupSKUs returns every SKU warehouse's item code maps back to at t
// (several when SKUs share an item, e.g. a single and a 6-pack), with the
// item each resolves to. It fails with ErrUnknownItem when none does:
// the code is neither mapped nor a SKU that keeps its own code.
func LookupSKUs(ctx context.Context, q store.Querier, shop, warehouse, itemCode string, at time.Time) ([]SKUItem, error) {
	s, err := load(ctx, q, shop, warehouse, nil, []string{itemCode})
	if err != nil {
		return nil, err
	}
	var out []SKUItem
	for _, sku := range s.reverse(warehouse, itemCode, at) {
		out = append(out, SKUItem{SKU: sku, Item: s.resolve(warehouse, sku, at)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s in warehouse %s at %s: no SKU maps to it", ErrUnknownItem, itemCode, warehouse, at.UTC().Format(time.RFC3339))
	}
	return out, nil
}

// SKUItem is a SKU and the WMS item it resolves to.
type SKUItem struct {
	SKU string `json:"sku"`
	Item
}

// WMSItem returns what warehouse knows sku as at t (identity when
// unmapped: item code = SKU, pack size 1).
func (t *Table) WMSItem(ctx context.Context, shop, warehouse, sku string, at time.Time) (Item, error) {
	return LookupItem(ctx, t.Store.Read, shop, warehouse, sku, at)
}

// SKU returns the SKU warehouse's itemCode maps back to at t, with its
// item. It fails with ErrUnknownItem when none does and ErrAmbiguous when
// several do (see SKUs).
func (t *Table) SKU(ctx context.Context, shop, warehouse, itemCode string, at time.Time) (SKUItem, error) {
	out, err := LookupSKUs(ctx, t.Store.Read, shop, warehouse, itemCode, at)
	if err != nil {
		return SKUItem{}, err
	}
	if len(out) > 1 {
		skus := make([]string, len(out))
		for i, o := range out {
			skus[i] = o.SKU
		}
		return SKUItem{}, fmt.Errorf("%w: %s in warehouse %s is %s", ErrAmbiguous, itemCode, warehouse, strings.Join(skus, ", "))
	}
	return out[0], nil
}

// SKUs returns every SKU warehouse's itemCode maps back to at t.
func (t *Table) SKUs(ctx context.Context, shop, warehouse, itemCode string, at time.Time) ([]SKUItem, error) {
	return LookupSKUs(ctx, t.Store.Read, shop, warehouse, itemCode, at)
}

// mappingTime is the time whose mapping an order uses: when it was placed
// in Shopify, else fallback.
func mappingTime(o *order.WarehouseOrder, fallback time.Time) time.Time {
	if !o.PlacedAt.IsZero() {
		return o.PlacedAt
	}
	return fallback
}

// ToWMS returns the warehouse order as its warehouse knows it, by the
// mapping in force when the order was placed (o.PlacedAt, else fallback):
// each line's SKU becomes the WMS item code and its quantity is multiplied
// by the pack size. o itself is left in SKUs and Shopify units. notes
// describe the lines that were mapped (none for identity).
func ToWMS(ctx context.Context, q store.Querier, o *order.WarehouseOrder, fallback time.Time) (*order.WarehouseOrder, []string, error) {
	skus := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		skus = append(skus, l.SKU)
	}
	s, err := load(ctx, q, o.Shop, o.Warehouse, skus, nil)
	if err != nil {
		return nil, nil, err
	}
	at := mappingTime(o, fallback)
	out := *o
	out.Lines = slices.Clone(o.Lines)
	var notes []string
	for i, l := range out.Lines {
		it := s.resolve(o.Warehouse, l.SKU, at)
		if !it.Mapped {
			continue
		}
		if l.Quantity > math.MaxInt32/it.PackSize {
			return nil, nil, fmt.Errorf("mapping: line %d: %d × pack size %d is too large", l.LineNo, l.Quantity, it.PackSize)
		}
		out.Lines[i].SKU = it.Code
		out.Lines[i].Quantity = l.Quantity * it.PackSize
		notes = append(notes, fmt.Sprintf("line %d SKU %s → item %s ×%d (%d %s, mapping v%d)", l.LineNo, l.SKU, it.Code, it.PackSize, out.Lines[i].Quantity, it.UOM, it.Version))
	}
	return &out, notes, nil
}

// FromWMSShipment rewrites, in place, a shipment a warehouse reported in
// its item codes and units into the hub's SKUs and Shopify units, by the
// mapping in force when the order was placed: each line's item code is
// mapped back to SKUs and must include the SKU of the order's line of the
// same number, and its quantity must be a whole number of packs (a
// package's line, which only describes a parcel, may hold part of a pack:
// it counts the Shopify units it holds some of, ⌈quantity ÷ pack size⌉). A line
// without an item code takes the order line's SKU; a line number the
// order does not have is left as it is (fulfilment reports it). Any
// mismatch is an ErrMismatch naming the line, for the caller to
// quarantine; other errors are the store's.
func FromWMSShipment(ctx context.Context, q store.Querier, wo *order.WarehouseOrder, sh *order.Shipment, fallback time.Time) error {
	byLine := map[int]order.Line{}
	var skus, items []string
	for _, l := range wo.Lines {
		byLine[l.LineNo] = l
		skus = append(skus, l.SKU)
	}
	lines := [][]order.ShipmentLine{sh.Lines}
	for _, p := range sh.Packages {
		lines = append(lines, p.Lines)
	}
	for _, ls := range lines {
		for _, l := range ls {
			if l.SKU != "" {
				items = append(items, l.SKU)
			}
		}
	}
	s, err := load(ctx, q, wo.Shop, wo.Warehouse, skus, items)
	if err != nil {
		return err
	}
	at := mappingTime(wo, fallback)
	for n, ls := range lines {
		parcel := n > 0
		for i := range ls {
			l := &ls[i]
			ol, ok := byLine[l.LineNo]
			if !ok {
				continue
			}
			it := s.resolve(wo.Warehouse, ol.SKU, at)
			if l.SKU != "" && !slices.Contains(s.reverse(wo.Warehouse, l.SKU, at), ol.SKU) {
				return fmt.Errorf("%w: shipment %s line %d: item %s does not map to SKU %s of %s line %d (its item is %s)",
					ErrMismatch, sh.ID, l.LineNo, l.SKU, ol.SKU, wo.ExternalRef, l.LineNo, it.Code)
			}
			if l.Quantity%it.PackSize != 0 && parcel {
				// A parcel may hold part of a pack: it holds some of
				// ⌈quantity ÷ pack size⌉ Shopify units.
				l.SKU = ol.SKU
				l.Quantity = (l.Quantity + it.PackSize - 1) / it.PackSize
				continue
			}
			if l.Quantity%it.PackSize != 0 {
				return fmt.Errorf("%w: shipment %s line %d: %d units of item %s is not a whole number of packs of %d",
					ErrMismatch, sh.ID, l.LineNo, l.Quantity, it.Code, it.PackSize)
			}
			l.SKU = ol.SKU
			l.Quantity /= it.PackSize
		}
	}
	return nil
}

// StockProblem is a snapshot item that could not be mapped to a SKU.
type StockProblem struct {
	ItemCode string `json:"item_code"`
	Reason   string `json:"reason"`
}

// StockToSKUs converts a warehouse's stock snapshot from item codes to
// SKUs by the mapping in force at the snapshot's time (snap.AsOf, else
// now): every SKU mapped to an item gets ⌊quantity ÷ pack size⌋ of it (a
// single and a 6-pack of one item both show what the item allows). Items
// no SKU maps to are left out and listed as problems, for the caller to
// report. The result's items are sorted by SKU.
func StockToSKUs(ctx context.Context, q store.Querier, shop, warehouse string, snap connector.StockSnapshot) (connector.StockSnapshot, []StockProblem, error) {
	at := snap.AsOf
	if at.IsZero() {
		at = time.Now()
	}
	codes := make([]string, len(snap.Items))
	for i, si := range snap.Items {
		codes[i] = si.SKU
	}
	back, err := ItemSKUs(ctx, q, shop, warehouse, at, codes)
	if err != nil {
		return snap, nil, err
	}
	out := connector.StockSnapshot{AsOf: snap.AsOf, Full: snap.Full}
	var problems []StockProblem
	seen := map[string]string{}
	for _, si := range snap.Items {
		skus := back[si.SKU]
		if len(skus) == 0 {
			problems = append(problems, StockProblem{ItemCode: si.SKU, Reason: fmt.Sprintf("no SKU maps to item %s in warehouse %s at %s", si.SKU, warehouse, at.UTC().Format(time.RFC3339))})
			continue
		}
		for _, x := range skus {
			if prev, dup := seen[x.SKU]; dup {
				problems = append(problems, StockProblem{ItemCode: si.SKU, Reason: fmt.Sprintf("SKU %s is reported by items %s and %s; the second is ignored", x.SKU, prev, si.SKU)})
				continue
			}
			seen[x.SKU] = si.SKU
			out.Items = append(out.Items, connector.StockItem{SKU: x.SKU, OnHand: x.ShopifyUnits(si.OnHand), Available: x.ShopifyUnits(si.Available)})
		}
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].SKU < out.Items[j].SKU })
	return out, problems, nil
}

// ShopifyUnits converts a WMS quantity of the item to Shopify units of the
// SKU: ⌊quantity ÷ pack size⌋ (toward zero for a negative quantity).
func (x SKUItem) ShopifyUnits(wmsQty int) int { return wmsQty / max(x.PackSize, 1) }

// ItemSKUs maps a warehouse's item codes back to SKUs at t in one read of
// the warehouse's mappings (for snapshots, movements and other bulk
// reports): each code maps to the SKUs mapped to it then, each with its
// item (pack size); a code no mapping claims is the SKU of that name
// unless that SKU is mapped to another code then. Codes that map to no
// SKU are absent from the result: callers report them.
func ItemSKUs(ctx context.Context, q store.Querier, shop, warehouse string, at time.Time, codes []string) (map[string][]SKUItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+entryCols+` FROM mapping_entry WHERE shop = $1 AND warehouse IN ($2, '')`, shop, warehouse)
	if err != nil {
		return nil, fmt.Errorf("mapping: item lookup: %w", err)
	}
	es, err := scanEntries(rows)
	if err != nil {
		return nil, err
	}
	s := known(byVersion(es), 0)
	claimed := s.claimed()
	byItem := map[string][]string{} // item code → the SKUs mapped to it
	for k := range s {
		it := s.resolve(warehouse, k.sku, at)
		if it.Mapped && !slices.Contains(byItem[it.Code], k.sku) {
			byItem[it.Code] = append(byItem[it.Code], k.sku)
		}
	}
	out := map[string][]SKUItem{}
	for _, code := range codes {
		if _, done := out[code]; done {
			continue
		}
		skus := slices.Clone(byItem[code])
		if len(skus) == 0 && !claimed[code] && s.resolve(warehouse, code, at).Code == code {
			skus = []string{code} // a code no mapping claims: the SKU itself
		}
		sort.Strings(skus)
		for _, sku := range skus {
			out[code] = append(out[code], SKUItem{SKU: sku, Item: s.resolve(warehouse, sku, at)})
		}
	}
	return out, nil
}
