package mapping

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the header of the mapping CSV (export writes it; import
// takes these columns in any order, sku required, the others optional):
//
//	warehouse          warehouse id; empty = every warehouse without a row of its own
//	sku                crossdock SKU (the Shopify variant's SKU), kept as text
//	item_code          WMS item code, kept as text; empty = the SKU itself
//	uom                WMS unit of measure (EA, CS, …)
//	pack_size          WMS units in one Shopify unit, a whole number ≥ 1; empty = 1
//	variant_id         Shopify ProductVariant GID
//	inventory_item_id  Shopify InventoryItem GID
//	effective_from     RFC 3339 time the row applies from; empty = the import's time
//
// Values are taken as written: a value with surrounding spaces is an error,
// not trimmed. A file is UTF-8 (a byte-order mark is skipped), comma
// separated, with a header line.
var CSVHeader = []string{"warehouse", "sku", "item_code", "uom", "pack_size", "variant_id", "inventory_item_id", "effective_from"}

// Export writes the mappings in force at at (zero = now) as CSV.
func (t *Table) Export(ctx context.Context, shop string, at time.Time, w io.Writer) error {
	ms, err := t.List(ctx, shop, at)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("mapping: export: %w", err)
	}
	for _, m := range ms {
		if err := cw.Write([]string{m.Warehouse, m.SKU, m.ItemCode, m.UOM, strconv.Itoa(m.PackSize), m.VariantID, m.InventoryItemID,
			m.EffectiveFrom.UTC().Format(time.RFC3339Nano)}); err != nil {
			return fmt.Errorf("mapping: export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("mapping: export: %w", err)
	}
	return nil
}

// RowError is a CSV row that cannot be imported.
type RowError struct {
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("mapping csv line %d: %v", e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// ParseCSV reads mapping rows. Rows without effective_from get at. The
// first bad row stops the parse with a *RowError naming its line.
func ParseCSV(r io.Reader, at time.Time) ([]Mapping, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RowError{Line: 1, Err: errors.New("empty file: a header line is required")}
	}
	if err != nil {
		return nil, &RowError{Line: 1, Err: err}
	}
	col := map[string]int{}
	for i, h := range head {
		known := false
		for _, k := range CSVHeader {
			known = known || h == k
		}
		if !known {
			return nil, &RowError{Line: 1, Err: fmt.Errorf("unknown column %q (columns: %s)", h, strings.Join(CSVHeader, ","))}
		}
		if _, dup := col[h]; dup {
			return nil, &RowError{Line: 1, Err: fmt.Errorf("column %q appears twice", h)}
		}
		col[h] = i
	}
	if _, ok := col["sku"]; !ok {
		return nil, &RowError{Line: 1, Err: errors.New("column sku is required")}
	}
	type key struct {
		wh, sku string
		at      int64
	}
	firstLine := map[key]int{}
	var out []Mapping
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &RowError{Line: pe.Line, Err: pe.Err}
			}
			return nil, &RowError{Line: line, Err: err}
		}
		if len(rec) != len(head) {
			return nil, &RowError{Line: line, Err: fmt.Errorf("%d fields, the header has %d", len(rec), len(head))}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return rec[i]
			}
			return ""
		}
		m := Mapping{Warehouse: get("warehouse"), SKU: get("sku"), ItemCode: get("item_code"), UOM: get("uom"),
			VariantID: get("variant_id"), InventoryItemID: get("inventory_item_id"), EffectiveFrom: at}
		if ps := get("pack_size"); ps != "" {
			n, err := strconv.Atoi(ps)
			if err != nil {
				return nil, &RowError{Line: line, Err: fmt.Errorf("pack_size %q is not a whole number", ps)}
			}
			if n < 1 {
				return nil, &RowError{Line: line, Err: fmt.Errorf("pack_size %d must be at least 1", n)}
			}
			m.PackSize = n
		}
		if ef := get("effective_from"); ef != "" {
			t, err := time.Parse(time.RFC3339Nano, ef)
			if err != nil {
				return nil, &RowError{Line: line, Err: fmt.Errorf("effective_from %q is not an RFC 3339 time (e.g. 2026-11-27T00:00:00Z)", ef)}
			}
			m.EffectiveFrom = t
		}
		m.EffectiveFrom = norm(m.EffectiveFrom)
		if err := m.Validate(); err != nil {
			return nil, &RowError{Line: line, Err: err}
		}
		k := key{m.Warehouse, m.SKU, m.EffectiveFrom.UnixMicro()}
		if prev, dup := firstLine[k]; dup {
			return nil, &RowError{Line: line, Err: fmt.Errorf("warehouse %q sku %q from %s is already on line %d", m.Warehouse, m.SKU, m.EffectiveFrom.Format(time.RFC3339), prev)}
		}
		firstLine[k] = line
		out = append(out, m)
	}
	return out, nil
}

// Import applies a CSV of mappings as one version: each row is set from
// its effective time; rows already known as they are change nothing. The
// whole file is checked first, so a bad row (a *RowError naming its line)
// applies nothing. Import adds and changes rows; it does not delete
// mappings absent from the file.
func (t *Table) Import(ctx context.Context, shop string, r io.Reader, a Author) (Result, error) {
	if err := a.check(); err != nil {
		return Result{}, err
	}
	ms, err := ParseCSV(r, t.now())
	if err != nil {
		return Result{}, err
	}
	return t.write(ctx, shop, "import", 0, a, func(n int) string {
		return fmt.Sprintf("%d rows read, %d changed", len(ms), n)
	}, func(s schedule, _ []entry) ([]entry, error) {
		var out []entry
		for _, m := range ms {
			if cur, ok := s[whSKU{m.Warehouse, m.SKU}][m.EffectiveFrom.UnixMicro()]; ok && cur.kind == kindSet && sameContent(cur.Mapping, m) {
				continue
			}
			out = append(out, entry{Mapping: m, kind: kindSet})
		}
		return out, nil
	})
}
