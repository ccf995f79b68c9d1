package csvfile

import (
	"fmt"
	"io"
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
			q, reason := parseInt("quantity", row.str("quantity"), 1)
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

// ReadStock reads a stock-snapshot file into a snapshot with Items only;
// the caller sets AsOf and Full. When only one of on_hand and available is
// mapped, the other takes the same value. Quantities are whole numbers ≥ 0.
// A SKU listed twice is a RowError on the second row (and the SKU is left
// out, as its quantity is unknown).
func ReadStock(r io.Reader, p Profile) (connector.StockSnapshot, []RowError, error) {
	t, err := openTable(r, p, KindStock)
	if err != nil {
		return connector.StockSnapshot{}, nil, err
	}
	snap := connector.StockSnapshot{Items: []connector.StockItem{}}
	firstLine := map[string]int{}
	dup := map[string]bool{}
	var errs []RowError
	for row := range t.rows(&errs) {
		sku := row.id("sku")
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
		if first, ok := firstLine[sku]; ok {
			row.fail("sku", fmt.Sprintf("SKU %s is listed again (first on line %d)", sku, first))
			dup[sku] = true
			continue
		}
		firstLine[sku] = row.line
		if row.failed {
			dup[sku] = true // keep it out: its quantity is unknown
			continue
		}
		snap.Items = append(snap.Items, it)
	}
	if len(dup) > 0 {
		kept := snap.Items[:0]
		for _, it := range snap.Items {
			if !dup[it.SKU] {
				kept = append(kept, it)
			}
		}
		snap.Items = kept
	}
	return snap, errs, nil
}
