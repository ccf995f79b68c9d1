package mapping

import (
	"sort"
	"time"
)

// Entry kinds (mapping_entry.kind).
const (
	kindSet    = "set"
	kindDelete = "delete" // no mapping from effective_from on
	kindVoid   = "void"   // the entry at this effective time is withdrawn (revert)
)

// entry is one stored mapping_entry row.
type entry struct {
	Mapping
	kind string
}

type whSKU struct{ warehouse, sku string }

// schedule holds, for every (warehouse, SKU), the entries known at one
// version, keyed by effective time (Unix microseconds). Voids are removed.
type schedule map[whSKU]map[int64]entry

func (s schedule) add(e entry) {
	k := whSKU{e.Warehouse, e.SKU}
	m := s[k]
	if m == nil {
		m = map[int64]entry{}
		s[k] = m
	}
	at := e.EffectiveFrom.UnixMicro()
	if e.kind == kindVoid {
		delete(m, at)
		if len(m) == 0 {
			delete(s, k)
		}
		return
	}
	m[at] = e
}

// known builds the schedule from entries sorted by version, keeping those
// of versions up to max (0 = all).
func known(entries []entry, max int64) schedule {
	s := schedule{}
	for _, e := range entries {
		if max > 0 && e.Version > max {
			break
		}
		s.add(e)
	}
	return s
}

// at returns the entry of (warehouse, sku) in force at t: the latest
// effective entry not after t, unless it is a delete.
func (s schedule) at(k whSKU, t time.Time) (Mapping, bool) {
	var best entry
	found := false
	tm := t.UnixMicro()
	for eff, e := range s[k] {
		if eff <= tm && (!found || eff > best.EffectiveFrom.UnixMicro()) {
			best, found = e, true
		}
	}
	if !found || best.kind != kindSet {
		return Mapping{}, false
	}
	return best.Mapping, true
}

// inForce lists the mappings in force at t, sorted by warehouse and SKU.
func (s schedule) inForce(t time.Time) []Mapping {
	var out []Mapping
	for k := range s {
		if m, ok := s.at(k, t); ok {
			out = append(out, m)
		}
	}
	sortMappings(out)
	return out
}

func sortMappings(ms []Mapping) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Warehouse != ms[j].Warehouse {
			return ms[i].Warehouse < ms[j].Warehouse
		}
		return ms[i].SKU < ms[j].SKU
	})
}

// resolve returns the WMS item of sku in warehouse at t: the warehouse's
// own mapping, else the mapping for every warehouse (""), else identity.
func (s schedule) resolve(warehouse, sku string, t time.Time) Item {
	m, ok := s.at(whSKU{warehouse, sku}, t)
	if !ok && warehouse != "" {
		m, ok = s.at(whSKU{"", sku}, t)
	}
	if !ok {
		return Item{Code: sku, PackSize: 1}
	}
	it := Item{Code: m.ItemCode, UOM: m.UOM, PackSize: m.PackSize, Mapped: true, Version: m.Version}
	if it.Code == "" {
		it.Code = sku
	}
	if it.PackSize <= 0 {
		it.PackSize = 1
	}
	return it
}

// sameContent reports whether two mappings say the same thing (versions
// and effective times aside).
func sameContent(a, b Mapping) bool {
	return a.ItemCode == b.ItemCode && a.UOM == b.UOM && a.PackSize == b.PackSize &&
		a.VariantID == b.VariantID && a.InventoryItemID == b.InventoryItemID
}
