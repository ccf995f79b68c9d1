package csvfile

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/order"
)

// orderField reads and writes one canonical order field. Line-level fields
// vary per row; the others are repeated on every row of an order.
type orderField struct {
	line bool
	get  func(o *order.WarehouseOrder, l *order.Line) string
	// set stores v; a non-empty result is the reason v is invalid.
	set func(o *order.WarehouseOrder, l *order.Line, v string, p *Profile) string
}

func strField(ptr func(o *order.WarehouseOrder) *string) orderField {
	return orderField{
		get: func(o *order.WarehouseOrder, _ *order.Line) string { return *ptr(o) },
		set: func(o *order.WarehouseOrder, _ *order.Line, v string, _ *Profile) string { *ptr(o) = v; return "" },
	}
}

func lineStrField(ptr func(l *order.Line) *string) orderField {
	return orderField{
		line: true,
		get:  func(_ *order.WarehouseOrder, l *order.Line) string { return *ptr(l) },
		set:  func(_ *order.WarehouseOrder, l *order.Line, v string, _ *Profile) string { *ptr(l) = v; return "" },
	}
}

func lineIntField(name string, ptr func(l *order.Line) *int, min int) orderField {
	return orderField{
		line: true,
		get:  func(_ *order.WarehouseOrder, l *order.Line) string { return strconv.Itoa(*ptr(l)) },
		set: func(_ *order.WarehouseOrder, l *order.Line, v string, _ *Profile) string {
			n, reason := parseInt(name, v, min)
			*ptr(l) = n
			return reason
		},
	}
}

var orderFields = map[string]orderField{
	"external_ref":         strField(func(o *order.WarehouseOrder) *string { return &o.ExternalRef }),
	"order_name":           strField(func(o *order.WarehouseOrder) *string { return &o.OrderName }),
	"order_id":             strField(func(o *order.WarehouseOrder) *string { return &o.OrderID }),
	"shop":                 strField(func(o *order.WarehouseOrder) *string { return &o.Shop }),
	"warehouse":            strField(func(o *order.WarehouseOrder) *string { return &o.Warehouse }),
	"fulfillment_order_id": strField(func(o *order.WarehouseOrder) *string { return &o.FulfillmentOrderID }),
	"shipping_method":      strField(func(o *order.WarehouseOrder) *string { return &o.ShippingMethod }),
	"placed_at": {
		get: func(o *order.WarehouseOrder, _ *order.Line) string { return formatTime(o.PlacedAt) },
		set: func(o *order.WarehouseOrder, _ *order.Line, v string, p *Profile) string {
			t, reason := parseTime(v, p)
			o.PlacedAt = t
			return reason
		},
	},
	"ship_to.name":          strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Name }),
	"ship_to.company":       strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Company }),
	"ship_to.address1":      strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Address1 }),
	"ship_to.address2":      strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Address2 }),
	"ship_to.city":          strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.City }),
	"ship_to.province_code": strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.ProvinceCode }),
	"ship_to.postal_code":   strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.PostalCode }),
	"ship_to.country_code":  strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.CountryCode }),
	"ship_to.phone":         strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Phone }),
	"ship_to.email":         strField(func(o *order.WarehouseOrder) *string { return &o.ShipTo.Email }),
	"line_no":               lineIntField("line_no", func(l *order.Line) *int { return &l.LineNo }, 0),
	"sku":                   lineStrField(func(l *order.Line) *string { return &l.SKU }),
	"quantity":              lineIntField("quantity", func(l *order.Line) *int { return &l.Quantity }, 1),
	"line_name":             lineStrField(func(l *order.Line) *string { return &l.Name }),
	"fulfillment_order_line_item_id": lineStrField(func(l *order.Line) *string {
		return &l.FulfillmentOrderLineItemID
	}),
}

// WriteOrders writes orders as one row per line, order columns repeated on
// every row, in the profile's delimiter and encoding, with CRLF line ends
// and a header row when p.Header. Columns appear in OrderFields order (or
// at their numbers without a header); unmapped fields are not written.
//
// Nothing is written to w unless the whole file encodes: with
// Windows-1252, a character outside the code page is an error naming the
// order, line and field, unless p.Transliterate.
func WriteOrders(w io.Writer, p Profile, orders []order.WarehouseOrder) error {
	if err := p.Validate(KindOrders); err != nil {
		return err
	}
	delim, _ := p.delimiter()
	if delim == 0 {
		delim = ','
	}
	// Column layout.
	type col struct{ field, name string }
	var cols []col
	if p.Header {
		seen := map[string]string{}
		for _, f := range OrderFields {
			h, ok := p.Orders[f]
			if !ok {
				continue
			}
			if o, dup := seen[normHeader(h)]; dup {
				return fmt.Errorf("csvfile: orders mapping: fields %q and %q both write column %q", o, f, h)
			}
			seen[normHeader(h)] = f
			cols = append(cols, col{f, h})
		}
	} else {
		n := 0
		for _, h := range p.Orders {
			k, _ := strconv.Atoi(strings.TrimSpace(h))
			n = max(n, k)
		}
		cols = make([]col, n)
		for f, h := range p.Orders {
			k, _ := strconv.Atoi(strings.TrimSpace(h))
			cols[k-1] = col{f, "column " + strconv.Itoa(k)}
		}
	}

	enc := p.Encoding
	var buf bytes.Buffer
	if enc == EncodingUTF8BOM {
		buf.Write(utf8BOM)
	}
	rec := make([]string, len(cols))
	writeRec := func() {
		for i, v := range rec {
			if i > 0 {
				buf.WriteRune(delim)
			}
			writeField(&buf, v, delim, len(rec) == 1)
		}
		buf.WriteString("\r\n")
	}
	conv := func(v string) (string, error) {
		if enc != EncodingWindows1252 {
			return v, nil
		}
		if p.Transliterate {
			var b strings.Builder
			for _, r := range v {
				if _, ok := encodeRune1252(r); ok {
					b.WriteRune(r)
				} else if t, ok := translit[r]; ok {
					b.WriteString(t)
				} else {
					b.WriteByte('?')
				}
			}
			return b.String(), nil
		}
		_, err := appendWindows1252(nil, v, false)
		return v, err
	}
	if p.Header {
		for i, c := range cols {
			v, err := conv(c.name)
			if err != nil {
				return fmt.Errorf("csvfile: header of column for field %s: %w", c.field, err)
			}
			rec[i] = v
		}
		writeRec()
	}
	for oi := range orders {
		o := &orders[oi]
		if len(o.Lines) == 0 {
			return fmt.Errorf("csvfile: order %s has no lines; an order file has one row per line", o.ExternalRef)
		}
		for li := range o.Lines {
			l := &o.Lines[li]
			for i, c := range cols {
				if c.field == "" {
					rec[i] = ""
					continue
				}
				v, err := conv(orderFields[c.field].get(o, l))
				if err != nil {
					return fmt.Errorf("csvfile: order %s line %d field %s (column %q): %w", o.ExternalRef, l.LineNo, c.field, c.name, err)
				}
				rec[i] = v
			}
			writeRec()
		}
	}
	out := buf.Bytes()
	if enc == EncodingWindows1252 {
		var err error
		out, err = appendWindows1252(make([]byte, 0, len(out)), string(out), false)
		if err != nil { // cannot happen: every value was checked above
			return fmt.Errorf("csvfile: %w", err)
		}
	}
	_, err := w.Write(out)
	return err
}

// writeField writes v, quoted when it contains the delimiter, a quote, CR
// or LF, or has surrounding spaces; an empty sole field is quoted so the
// row is not a blank line.
func writeField(buf *bytes.Buffer, v string, delim rune, sole bool) {
	need := (sole && v == "") || strings.ContainsRune(v, delim) || strings.ContainsAny(v, "\"\r\n") ||
		strings.HasPrefix(v, " ") || strings.HasPrefix(v, "\t") || strings.HasPrefix(v, "\ufeff")
	if !need {
		buf.WriteString(v)
		return
	}
	buf.WriteByte('"')
	buf.WriteString(strings.ReplaceAll(v, `"`, `""`))
	buf.WriteByte('"')
}

// ReadOrders reads an order file (the inverse of WriteOrders): rows are
// grouped by external_ref into orders, in order of first appearance. Order
// columns must be identical on every row of an order; a row that differs
// is a RowError. An order with any bad row is left out of the result.
func ReadOrders(r io.Reader, p Profile) ([]order.WarehouseOrder, []RowError, error) {
	t, err := openTable(r, p, KindOrders)
	if err != nil {
		return nil, nil, err
	}
	type group struct {
		o        order.WarehouseOrder
		first    int
		orderRaw map[string]string
		bad      bool
	}
	var groups []*group
	byRef := map[string]*group{}
	var errs []RowError
	for row := range t.rows(&errs) {
		ref := row.str("external_ref")
		if ref == "" {
			row.fail("external_ref", "external reference is empty")
			continue
		}
		g := byRef[ref]
		isNew := g == nil
		if isNew {
			g = &group{first: row.line, orderRaw: map[string]string{}}
			byRef[ref] = g
			groups = append(groups, g)
		}
		var line order.Line
		var o order.WarehouseOrder
		for _, f := range OrderFields {
			if !t.mapped(f) {
				continue
			}
			v := row.str(f)
			fd := orderFields[f]
			if !fd.line {
				if prev, ok := g.orderRaw[f]; ok {
					if prev != v {
						row.fail(f, fmt.Sprintf("order column differs from the order's first row (line %d): %q", g.first, prev))
					}
					continue
				}
				g.orderRaw[f] = v
			}
			if reason := fd.set(&o, &line, v, &p); reason != "" {
				row.fail(f, reason)
			}
		}
		if isNew { // the order-level fields come from the first row
			g.o = o
			g.o.ExternalRef = ref
		}
		if row.failed {
			g.bad = true
			continue
		}
		g.o.Lines = append(g.o.Lines, line)
	}
	var out []order.WarehouseOrder
	for _, g := range groups {
		if !g.bad {
			out = append(out, g.o)
		}
	}
	return out, errs, nil
}

// formatTime writes t as RFC 3339 in UTC, empty for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
