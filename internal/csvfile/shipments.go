package csvfile

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// ReadShipments reads a shipment-confirmation file. Rows are grouped by
// external_ref + shipment_id, in order of first appearance. A row may carry
// a line (sku and/or line_no, with quantity), a package (package_id and/or
// tracking_number, with carrier, service, tracking_url), or both; so files
// with one row per line, one row per package, or one row per line per
// package all work, and a shipment may have several tracking numbers.
//
// Shipment lines with the same line_no and SKU are summed (a line split
// over two packages); each package lists the lines on its rows. A package
// without package_id is identified by its tracking number. shipped_at is
// taken from the first row that has it; a different value on a later row
// is a RowError.
//
// A quantity may be 0: that line does not ship; a shipment whose every
// line ships 0 is the partner closing the order unshipped (csvwms reads it
// as the answer to a cancel).
//
// A shipment with any bad row is left out of the result (never half a
// shipment); each bad row is a RowError.
func ReadShipments(r io.Reader, p Profile) ([]order.Shipment, []RowError, error) {
	t, err := openTable(r, p, KindShipments)
	if err != nil {
		return nil, nil, err
	}
	type key struct{ ref, id string }
	type group struct {
		s         order.Shipment
		shippedAt int // line of the row shipped_at came from
		pkgs      map[string]int
		lines     map[order.ShipmentLine]int // (LineNo, SKU) → index
		bad       bool
	}
	var groups []*group
	byKey := map[key]*group{}
	var errs []RowError
	for row := range t.rows(&errs) {
		ref, id := row.id("external_ref"), row.id("shipment_id")
		if ref == "" {
			row.fail("external_ref", "external reference is empty")
		}
		if id == "" {
			row.fail("shipment_id", "shipment id is empty")
		}
		if row.failed {
			continue
		}
		k := key{ref, id}
		g := byKey[k]
		if g == nil {
			g = &group{
				s:     order.Shipment{ID: id, ExternalRef: ref, Lines: []order.ShipmentLine{}, Packages: []order.Package{}},
				pkgs:  map[string]int{},
				lines: map[order.ShipmentLine]int{},
			}
			byKey[k] = g
			groups = append(groups, g)
		}

		at, reason := parseTime(row.str("shipped_at"), &p)
		if reason != "" {
			row.fail("shipped_at", reason)
		} else if !at.IsZero() {
			if g.s.ShippedAt.IsZero() {
				g.s.ShippedAt, g.shippedAt = at, row.line
			} else if !at.Equal(g.s.ShippedAt) {
				row.fail("shipped_at", fmt.Sprintf("differs from shipped_at %s on line %d", g.s.ShippedAt.Format(time.RFC3339), g.shippedAt))
			}
		}

		var sl *order.ShipmentLine
		sku, lineNoRaw := row.id("sku"), row.str("line_no")
		if sku != "" || lineNoRaw != "" {
			l := order.ShipmentLine{SKU: sku}
			if lineNoRaw != "" {
				n, reason := parseInt("line_no", lineNoRaw, 0)
				if reason != "" {
					row.fail("line_no", reason)
				}
				l.LineNo = n
			}
			q, reason := parseInt("quantity", row.str("quantity"), 0) // 0: the line does not ship (every line 0: the order closed unshipped)
			if reason != "" {
				row.fail("quantity", reason)
			}
			l.Quantity = q
			sl = &l
		}
		pkgID, tracking := row.id("package_id"), row.id("tracking_number")
		if row.failed {
			g.bad = true
			continue
		}
		if sl != nil {
			lk := order.ShipmentLine{LineNo: sl.LineNo, SKU: sl.SKU}
			if i, ok := g.lines[lk]; ok {
				g.s.Lines[i].Quantity += sl.Quantity
			} else {
				g.lines[lk] = len(g.s.Lines)
				g.s.Lines = append(g.s.Lines, *sl)
			}
		}
		if pkgID != "" || tracking != "" {
			pk := pkgID
			if pk == "" {
				pk = "\x00" + tracking
			}
			i, ok := g.pkgs[pk]
			if !ok {
				id := pkgID
				if id == "" {
					id = tracking
				}
				i = len(g.s.Packages)
				g.pkgs[pk] = i
				g.s.Packages = append(g.s.Packages, order.Package{ID: id})
			}
			pkg := &g.s.Packages[i]
			setFirst(&pkg.TrackingNumber, tracking)
			setFirst(&pkg.Carrier, row.id("carrier"))
			setFirst(&pkg.Service, row.id("service"))
			setFirst(&pkg.TrackingURL, row.id("tracking_url"))
			if sl != nil {
				pkg.Lines = append(pkg.Lines, *sl)
			}
		}
	}
	var out []order.Shipment
	for _, g := range groups {
		if !g.bad {
			out = append(out, g.s)
		}
	}
	return out, errs, nil
}

func setFirst(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// ReadStock reads a stock-snapshot file into a snapshot with Items and
// Rejected; the caller sets AsOf and Full. When only one of on_hand and
// available is mapped, the other takes the same value. Quantities are whole
// numbers ≥ 0.
//
// Every data row ends in Items or in Rejected: a row with a bad cell (no
// SKU, a quantity that is not a whole number ≥ 0) or the wrong number of
// fields is a RejectedStockLine with Index the data row's index from 0
// (RowError.Row: the header and blank lines not counted), SKU the row's
// sku cell and Reason its RowError texts (line, column, value, reason);
// every row of a SKU listed on several rows is rejected, since which one
// is right cannot be told. The RowErrors are returned too, in row order.
//
// The error is for the file as a whole: no header or a header without a
// mapped column, an undecodable or unreadable file, and CSV syntax (a
// stray or unbalanced quote): a quote can swallow the rows after it, whose
// SKUs a full snapshot would then zero, so such a file is not used at all.
func ReadStock(r io.Reader, p Profile) (connector.StockSnapshot, []RowError, error) {
	t, err := openTable(r, p, KindStock)
	if err != nil {
		return connector.StockSnapshot{}, nil, err
	}
	type dataRow struct {
		sku  string
		line int
	}
	type good struct {
		index int
		it    connector.StockItem
	}
	all := map[int]dataRow{} // every data row, by index
	var items []good
	var errs []RowError
	for row := range t.rows(&errs) {
		sku := row.id("sku")
		all[row.index] = dataRow{sku: sku, line: row.line}
		if sku == "" {
			row.fail("sku", "SKU is empty")
			continue
		}
		it := connector.StockItem{SKU: sku}
		var onOK, avOK bool
		if t.mapped("on_hand") {
			n, reason := parseInt("on_hand", row.str("on_hand"), 0)
			if reason != "" {
				row.fail("on_hand", reason)
			}
			it.OnHand, onOK = n, true
		}
		if t.mapped("available") {
			n, reason := parseInt("available", row.str("available"), 0)
			if reason != "" {
				row.fail("available", reason)
			}
			it.Available, avOK = n, true
		}
		if !onOK {
			it.OnHand = it.Available
		}
		if !avOK {
			it.Available = it.OnHand
		}
		if !row.failed {
			items = append(items, good{index: row.index, it: it})
		}
	}
	for _, e := range errs {
		if e.Row < 0 || strings.HasPrefix(e.Reason, malformedCSV) {
			return connector.StockSnapshot{}, errs, fmt.Errorf("csvfile: stock file cannot be read row by row, so none of its rows is used: %w", e)
		}
		if _, ok := all[e.Row]; !ok { // a row with the wrong number of fields
			all[e.Row] = dataRow{sku: e.SKU, line: e.Line}
		}
	}
	order := slices.Sorted(maps.Keys(all))
	lines := map[string][]string{}
	for _, i := range order {
		if r := all[i]; r.sku != "" {
			lines[r.sku] = append(lines[r.sku], strconv.Itoa(r.line))
		}
	}
	for _, i := range order {
		if r := all[i]; len(lines[r.sku]) > 1 {
			errs = append(errs, RowError{Line: r.line, Column: t.name["sku"], Value: r.sku, Row: i, SKU: r.sku,
				Reason: fmt.Sprintf("SKU %s is listed on %d rows (lines %s); all of them are rejected since which one is right cannot be told",
					r.sku, len(lines[r.sku]), strings.Join(lines[r.sku], ", "))})
		}
	}
	slices.SortStableFunc(errs, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
	why := map[int][]string{}
	for _, e := range errs {
		why[e.Row] = append(why[e.Row], e.Error())
	}
	snap := connector.StockSnapshot{Items: []connector.StockItem{}}
	for _, g := range items {
		if why[g.index] == nil {
			snap.Items = append(snap.Items, g.it)
		}
	}
	for _, i := range order {
		if w := why[i]; w != nil {
			snap.Rejected = append(snap.Rejected, connector.RejectedStockLine{Index: i, SKU: all[i].sku, Reason: strings.Join(w, "; ")})
		}
	}
	return snap, errs, nil
}
