// Package mapping holds the hub's mapping tables as first-class, versioned
// data: a crossdock SKU (the Shopify variant's SKU) ↔ its Shopify variant
// and inventory item ↔ the WMS item code per warehouse, with unit of
// measure and pack size.
//
// Nothing is updated in place. Every change (Set, Delete, Import, Revert)
// is a new version recording who made it, when and why, and writes entries
// that are effective from a time, so a rename can be scheduled or dated
// back. The table can be listed as it is in force at any time, a version's
// changes shown old → new (History), two versions or two times compared
// (Diff), and any earlier version restored (Revert, itself a new version).
// Every change is also recorded as an operator action.
//
// Resolution: the mapping of a SKU in a warehouse at time t is the entry of
// that warehouse with the latest effective time not after t; without one
// (or when that entry is a delete), the entry for every warehouse
// (warehouse ""); without either, identity: item code = SKU, pack size 1.
// Back from a warehouse, an item code means the SKUs mapped to it then
// (several when, say, a single and a 6-pack share an item); a code no
// mapping claims, at any time, is the SKU of that name unless that SKU is
// itself mapped to another code then; other codes are unknown (a stale
// code after a rename: reported, never guessed).
//
// Pack size is the number of WMS units in one Shopify unit (a Shopify
// "box of 6" variant stocked by the warehouse as single items has pack
// size 6). Orders go to the WMS as quantity × pack size; a shipped WMS
// quantity must be a whole number of packs and comes back ÷ pack size (a
// parcel's line may hold part of a pack and counts ⌈÷ pack size⌉);
// stock comes back as ⌊WMS quantity ÷ pack size⌋. Unit of measure is
// recorded for the operator and for connectors that need it.
package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/store"
)

// Mapping is one mapping entry: how a SKU is known to Shopify and to a
// warehouse from EffectiveFrom on.
type Mapping struct {
	// Warehouse is the warehouse id; "" applies to every warehouse that has
	// no entry of its own for the SKU.
	Warehouse string `json:"warehouse"`
	// SKU is the crossdock SKU, the Shopify variant's SKU.
	SKU string `json:"sku"`
	// ItemCode is the WMS item code; "" means the SKU itself.
	ItemCode string `json:"item_code"`
	// UOM is the WMS unit of measure (e.g. EA, CS), informational.
	UOM string `json:"uom,omitempty"`
	// PackSize is the number of WMS units in one Shopify unit (≥ 1).
	PackSize        int       `json:"pack_size"`
	VariantID       string    `json:"variant_id,omitempty"`
	InventoryItemID string    `json:"inventory_item_id,omitempty"`
	EffectiveFrom   time.Time `json:"effective_from"`
	// Version is the version that wrote the entry (set on reads).
	Version int64 `json:"version,omitempty"`
}

// Item is what a warehouse knows a SKU as.
type Item struct {
	Code     string `json:"item_code"`
	UOM      string `json:"uom,omitempty"`
	PackSize int    `json:"pack_size"`
	// Mapped is false for the identity mapping (no entry).
	Mapped bool `json:"mapped"`
	// Version is the version of the entry used (0 for identity).
	Version int64 `json:"version,omitempty"`
}

// Author names who makes a change and why; both are required.
type Author struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

func (a Author) check() error {
	if strings.TrimSpace(a.Actor) == "" || strings.TrimSpace(a.Reason) == "" {
		return fmt.Errorf("%w: actor and reason are required", ErrInvalid)
	}
	return nil
}

// Version is one recorded change set with what it changed. Version
// numbers increase across the whole database: a shop's versions are
// ordered but not consecutive.
type Version struct {
	ID     int64     `json:"version"`
	Shop   string    `json:"shop"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	// Op is set, delete, import or revert.
	Op string `json:"op"`
	// RevertedTo is, for a revert, the version restored.
	RevertedTo int64    `json:"reverted_to,omitempty"`
	Changes    []Change `json:"changes"`
}

// Change is one (warehouse, SKU) whose mapping differs: in a version, at
// the entry's effective time before and after it; in a diff, between the
// two points. Old or New is nil when there was or is no mapping.
type Change struct {
	Warehouse     string     `json:"warehouse"`
	SKU           string     `json:"sku"`
	EffectiveFrom *time.Time `json:"effective_from,omitempty"`
	// Kind, in a version, is the entry written: set, delete or void.
	Kind string   `json:"kind,omitempty"`
	Old  *Mapping `json:"old"`
	New  *Mapping `json:"new"`
}

// Result is what a change did: the new version (0 when nothing changed)
// and the number of entries it wrote.
type Result struct {
	Version int64 `json:"version"`
	Changes int   `json:"changes"`
}

// Point is a state of the table: the mappings in force at At (zero = now)
// as known at Version (0 = the latest).
type Point struct {
	Version int64     `json:"version,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// Errors callers may test for.
var (
	// ErrNotFound: no mapping to delete, or no such version.
	ErrNotFound = errors.New("mapping: not found")
	// ErrUnknownItem: a WMS item code no SKU maps to at that time.
	ErrUnknownItem = errors.New("mapping: unknown WMS item")
	// ErrAmbiguous: a WMS item code several SKUs map to at that time.
	ErrAmbiguous = errors.New("mapping: WMS item maps to several SKUs")
	// ErrInvalid: a change refused for its values (or without actor and
	// reason).
	ErrInvalid = errors.New("mapping: invalid change")
	// ErrMismatch: a shipment line whose item or quantity does not fit the
	// order line it reports.
	ErrMismatch = errors.New("mapping: shipment does not match the order")
)

// Table is the versioned mapping table of a store.
type Table struct {
	Store *store.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns the mapping table of st.
func New(st *store.Store) *Table { return &Table{Store: st} }

func (t *Table) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// norm makes an effective time comparable on both databases (UTC,
// microseconds).
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Validate checks a mapping before it is stored.
func (m *Mapping) Validate() error {
	if m.SKU == "" {
		return errors.New("sku is required")
	}
	for _, f := range []struct{ name, v string }{{"sku", m.SKU}, {"warehouse", m.Warehouse}, {"item_code", m.ItemCode}, {"uom", m.UOM}} {
		if strings.TrimSpace(f.v) != f.v {
			return fmt.Errorf("%s %q has surrounding spaces", f.name, f.v)
		}
		if strings.ContainsAny(f.v, "\r\n\t") {
			return fmt.Errorf("%s %q contains a control character", f.name, f.v)
		}
	}
	if m.PackSize == 0 {
		m.PackSize = 1
	}
	if m.PackSize < 1 {
		return fmt.Errorf("pack_size %d must be at least 1", m.PackSize)
	}
	return nil
}

const entryCols = `warehouse, sku, effective_from, version, kind, item_code, uom, pack_size, variant_id, inventory_item_id`

func scanEntries(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) ([]entry, error) {
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.Warehouse, &e.SKU, &e.EffectiveFrom, &e.Version, &e.kind, &e.ItemCode, &e.UOM, &e.PackSize, &e.VariantID, &e.InventoryItemID); err != nil {
			return nil, fmt.Errorf("mapping: scan entry: %w", err)
		}
		e.EffectiveFrom = norm(e.EffectiveFrom)
		out = append(out, e)
	}
	return out, rows.Err()
}

// loadEntries reads a shop's entries in version order.
func loadEntries(ctx context.Context, q store.Querier, shop string) ([]entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+entryCols+` FROM mapping_entry WHERE shop = $1 ORDER BY version`, shop)
	if err != nil {
		return nil, fmt.Errorf("mapping: read entries: %w", err)
	}
	return scanEntries(rows)
}

// List returns the mappings in force at at (zero = now), sorted by
// warehouse and SKU.
func (t *Table) List(ctx context.Context, shop string, at time.Time) ([]Mapping, error) {
	return t.state(ctx, t.Store.Read, shop, Point{At: at})
}

func (t *Table) state(ctx context.Context, q store.Querier, shop string, p Point) ([]Mapping, error) {
	es, err := loadEntries(ctx, q, shop)
	if err != nil {
		return nil, err
	}
	if p.At.IsZero() {
		p.At = t.now()
	}
	return known(es, p.Version).inForce(p.At), nil
}

// Diff compares the table at two points, per (warehouse, SKU).
func (t *Table) Diff(ctx context.Context, shop string, from, to Point) ([]Change, error) {
	for _, p := range []Point{from, to} {
		if p.Version > 0 {
			if _, err := t.version(ctx, t.Store.Read, shop, p.Version); err != nil {
				return nil, err
			}
		}
	}
	a, err := t.state(ctx, t.Store.Read, shop, from)
	if err != nil {
		return nil, err
	}
	b, err := t.state(ctx, t.Store.Read, shop, to)
	if err != nil {
		return nil, err
	}
	old := map[whSKU]Mapping{}
	for _, m := range a {
		old[whSKU{m.Warehouse, m.SKU}] = m
	}
	var out []Change
	for _, m := range b {
		k := whSKU{m.Warehouse, m.SKU}
		o, had := old[k]
		delete(old, k)
		if had && sameContent(o, m) {
			continue
		}
		c := Change{Warehouse: m.Warehouse, SKU: m.SKU, New: &m}
		if had {
			c.Old = &o
		}
		out = append(out, c)
	}
	for _, o := range old {
		out = append(out, Change{Warehouse: o.Warehouse, SKU: o.SKU, Old: &o})
	}
	sortChanges(out)
	return out, nil
}

func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Warehouse != cs[j].Warehouse {
			return cs[i].Warehouse < cs[j].Warehouse
		}
		return cs[i].SKU < cs[j].SKU
	})
}

// Filter narrows History to one warehouse and/or SKU ("" = any).
type Filter struct {
	Warehouse string
	SKU       string
	// Limit keeps the newest versions only (0 = all).
	Limit int
}

// History lists a shop's versions, newest first, each with its changes
// (old → new at the entry's effective time).
func (t *Table) History(ctx context.Context, shop string, f Filter) ([]Version, error) {
	rows, err := t.Store.Read.QueryContext(ctx, `SELECT id, at, actor, reason, op, reverted_to FROM mapping_version WHERE shop = $1 ORDER BY id`, shop)
	if err != nil {
		return nil, fmt.Errorf("mapping: history: %w", err)
	}
	var vs []Version
	for rows.Next() {
		v := Version{Shop: shop}
		if err := rows.Scan(&v.ID, &v.At, &v.Actor, &v.Reason, &v.Op, &v.RevertedTo); err != nil {
			rows.Close()
			return nil, fmt.Errorf("mapping: history: %w", err)
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mapping: history: %w", err)
	}
	es, err := loadEntries(ctx, t.Store.Read, shop)
	if err != nil {
		return nil, err
	}
	// Walk the versions in order, keeping the schedule known so far.
	s := schedule{}
	i := 0
	var out []Version
	for _, v := range vs {
		var batch []entry
		for i < len(es) && es[i].Version <= v.ID {
			if es[i].Version == v.ID {
				batch = append(batch, es[i])
			}
			i++
		}
		type before struct {
			m  Mapping
			ok bool
		}
		olds := make([]before, len(batch))
		for j, e := range batch {
			m, ok := s.at(whSKU{e.Warehouse, e.SKU}, e.EffectiveFrom)
			olds[j] = before{m, ok}
		}
		for _, e := range batch {
			s.add(e)
		}
		for j, e := range batch {
			if (f.Warehouse != "" && e.Warehouse != f.Warehouse) || (f.SKU != "" && e.SKU != f.SKU) {
				continue
			}
			eff := e.EffectiveFrom
			c := Change{Warehouse: e.Warehouse, SKU: e.SKU, EffectiveFrom: &eff, Kind: e.kind}
			if olds[j].ok {
				o := olds[j].m
				c.Old = &o
			}
			if m, ok := s.at(whSKU{e.Warehouse, e.SKU}, e.EffectiveFrom); ok {
				c.New = &m
			}
			v.Changes = append(v.Changes, c)
		}
		if len(v.Changes) > 0 || (f.Warehouse == "" && f.SKU == "") {
			out = append(out, v)
		}
	}
	// Newest first.
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (t *Table) version(ctx context.Context, q store.Querier, shop string, id int64) (Version, error) {
	v := Version{ID: id, Shop: shop}
	err := q.QueryRowContext(ctx, `SELECT at, actor, reason, op, reverted_to FROM mapping_version WHERE shop = $1 AND id = $2`, shop, id).
		Scan(&v.At, &v.Actor, &v.Reason, &v.Op, &v.RevertedTo)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return v, fmt.Errorf("%w: version %d of shop %s", ErrNotFound, id, shop)
		}
		return v, fmt.Errorf("mapping: version %d: %w", id, err)
	}
	return v, nil
}

// write records one version with its entries, in one transaction, and the
// operator action. plan computes the entries from the schedule known in
// the transaction; no entry means nothing changed and nothing is written.
func (t *Table) write(ctx context.Context, shop, op string, revertedTo int64, a Author, describe func(n int) string,
	plan func(s schedule, es []entry) ([]entry, error)) (Result, error) {
	if err := a.check(); err != nil {
		return Result{}, err
	}
	if strings.TrimSpace(shop) == "" {
		return Result{}, fmt.Errorf("%w: shop is required", ErrInvalid)
	}
	var res Result
	err := t.Store.InTx(ctx, func(tx *store.Tx) error {
		if t.Store.Dialect == store.Postgres {
			// Versions of a shop are written one at a time, so that "known
			// at version v" means the same thing to every reader.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('crossdock.mapping:' || $1))`, shop); err != nil {
				return fmt.Errorf("mapping: lock: %w", err)
			}
		}
		es, err := loadEntries(ctx, tx, shop)
		if err != nil {
			return err
		}
		out, err := plan(known(es, 0), es)
		if err != nil || len(out) == 0 {
			return err
		}
		now := t.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO mapping_version (shop, at, actor, reason, op, reverted_to) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
			shop, now, a.Actor, a.Reason, op, revertedTo).Scan(&res.Version); err != nil {
			return fmt.Errorf("mapping: record version: %w", err)
		}
		for _, e := range out {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mapping_entry (shop, `+entryCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
				shop, e.Warehouse, e.SKU, norm(e.EffectiveFrom), res.Version, e.kind, e.ItemCode, e.UOM, e.PackSize, e.VariantID, e.InventoryItemID); err != nil {
				return fmt.Errorf("mapping: write %s/%s: %w", e.Warehouse, e.SKU, err)
			}
		}
		res.Changes = len(out)
		return store.RecordAction(ctx, tx, store.Action{At: now, Actor: a.Actor, Action: fmt.Sprintf("mapping %s v%d: %s", op, res.Version, describe(len(out))),
			Target: Target(shop), Reason: a.Reason})
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// Target is the operator_action target of a shop's mapping changes.
func Target(shop string) string { return "mapping:" + shop }

func describeMapping(m Mapping) string {
	wh := m.Warehouse
	if wh == "" {
		wh = "*"
	}
	code := m.ItemCode
	if code == "" {
		code = m.SKU
	}
	return fmt.Sprintf("%s/%s → %s ×%d from %s", wh, m.SKU, code, m.PackSize, m.EffectiveFrom.Format(time.RFC3339))
}

// Set records m (effective from m.EffectiveFrom, zero = now) as a new
// version. Setting what is already known at that effective time changes
// nothing and writes no version (Result.Version 0).
func (t *Table) Set(ctx context.Context, shop string, m Mapping, a Author) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if m.EffectiveFrom.IsZero() {
		m.EffectiveFrom = t.now()
	}
	m.EffectiveFrom = norm(m.EffectiveFrom)
	m.Version = 0
	return t.write(ctx, shop, "set", 0, a, func(int) string { return describeMapping(m) }, func(s schedule, _ []entry) ([]entry, error) {
		if cur, ok := s[whSKU{m.Warehouse, m.SKU}][m.EffectiveFrom.UnixMicro()]; ok && cur.kind == kindSet && sameContent(cur.Mapping, m) {
			return nil, nil
		}
		return []entry{{Mapping: m, kind: kindSet}}, nil
	})
}

// Delete ends the mapping of sku in warehouse from effectiveFrom (zero =
// now) on: from then the SKU resolves to the mapping for every warehouse,
// or to identity. It fails with ErrNotFound when no mapping is in force
// then.
func (t *Table) Delete(ctx context.Context, shop, warehouse, sku string, effectiveFrom time.Time, a Author) (Result, error) {
	if effectiveFrom.IsZero() {
		effectiveFrom = t.now()
	}
	effectiveFrom = norm(effectiveFrom)
	m := Mapping{Warehouse: warehouse, SKU: sku, EffectiveFrom: effectiveFrom, PackSize: 1}
	return t.write(ctx, shop, "delete", 0, a, func(int) string {
		return fmt.Sprintf("%s/%s deleted from %s", warehouse, sku, effectiveFrom.Format(time.RFC3339))
	}, func(s schedule, _ []entry) ([]entry, error) {
		if _, ok := s.at(whSKU{warehouse, sku}, effectiveFrom); !ok {
			return nil, fmt.Errorf("%w: no mapping of %s in warehouse %q at %s", ErrNotFound, sku, warehouse, effectiveFrom.Format(time.RFC3339))
		}
		return []entry{{Mapping: m, kind: kindDelete}}, nil
	})
}

// Revert restores the table as it was known at version to: every entry
// changed since is written back (or withdrawn when it did not exist), as a
// new version. Nothing to restore writes no version (Result.Version 0).
func (t *Table) Revert(ctx context.Context, shop string, to int64, a Author) (Result, error) {
	if _, err := t.version(ctx, t.Store.Read, shop, to); err != nil {
		return Result{}, err
	}
	return t.write(ctx, shop, "revert", to, a, func(n int) string {
		return fmt.Sprintf("restored version %d (%d entries)", to, n)
	}, func(cur schedule, es []entry) ([]entry, error) {
		target := known(es, to)
		var out []entry
		for k, byAt := range cur {
			for at, e := range byAt {
				if _, ok := target[k][at]; !ok {
					v := e
					v.kind = kindVoid
					out = append(out, v)
				}
			}
		}
		for k, byAt := range target {
			for at, e := range byAt {
				c, ok := cur[k][at]
				if !ok || c.kind != e.kind || !sameContent(c.Mapping, e.Mapping) {
					out = append(out, e)
				}
			}
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Warehouse != out[j].Warehouse {
				return out[i].Warehouse < out[j].Warehouse
			}
			if out[i].SKU != out[j].SKU {
				return out[i].SKU < out[j].SKU
			}
			return out[i].EffectiveFrom.Before(out[j].EffectiveFrom)
		})
		return out, nil
	})
}

// ParsePoint reads a point as written by operators: VERSION (a number),
// TIME (RFC 3339), or VERSION@TIME; "" is the latest version, now.
func ParsePoint(s string) (Point, error) {
	var p Point
	v, t, hasAt := strings.Cut(s, "@")
	if !hasAt {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			t = ""
		} else {
			v, t = "", s
		}
	}
	if v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return p, fmt.Errorf("point %q: version must be a positive number", s)
		}
		p.Version = n
	}
	if t != "" {
		at, err := ParseTime(t)
		if err != nil {
			return p, fmt.Errorf("point %q: %w", s, err)
		}
		p.At = at
	}
	return p, nil
}

// ParseTime reads an RFC 3339 time; "" is the zero time (now, where a
// time is optional).
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (e.g. 2026-11-27T09:00:00Z)", s)
	}
	return t, nil
}
