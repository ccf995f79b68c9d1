package ediwms

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/x12"
)

// Order940 is a 940 read back: the order and the W05-01 purpose code
// (N new, R change, F cancel).
type Order940 struct {
	Purpose string
	Order   order.WarehouseOrder
	// UOM is the W01-02 unit of measure of each line, in line order.
	UOM []string
}

// Read940 maps one 940 set to the order it carries, the inverse of what
// SubmitOrder writes: W05 (purpose, reference, order name), the N1*ST loop
// (N1-02 name, N2 company, N3 address lines, N4 city/province/postcode/
// country, PER TE/EM phone and email), G62*04 (order date), W66-05
// (shipping method, else W66-02), and per LX a W01 line (quantity, SKU from
// the qualified id SK, else VN, else the first, else the UPC) with its G69
// name. Lines without an LX are numbered by their position. It fails
// without a W05-02 reference, or without a W01 line unless it is a cancel. A 940 written by this connector
// reads back with the fields a 940 carries equal to the order sent (free
// text as cleaned; see Clean).
func Read940(t *x12.TransactionSet) (Order940, []string, error) {
	var out Order940
	var warns []string
	o := &out.Order
	loop := ""
	cur := -1 // index of the current line
	lineNo := 0
	for _, s := range t.Segments {
		v := func(n int) string { return strings.TrimSpace(s.Value(n)) }
		switch s.ID {
		case "W05":
			out.Purpose, o.ExternalRef, o.OrderName = v(1), v(2), v(3)
		case "N1":
			loop = v(1)
			if loop == "ST" {
				o.ShipTo.Name = v(2)
			}
		case "N2":
			if loop == "ST" {
				o.ShipTo.Company = v(1)
			}
		case "N3":
			if loop == "ST" {
				o.ShipTo.Address1, o.ShipTo.Address2 = v(1), v(2)
			}
		case "N4":
			if loop == "ST" {
				o.ShipTo.City, o.ShipTo.ProvinceCode, o.ShipTo.PostalCode, o.ShipTo.CountryCode = v(1), v(2), v(3), v(4)
			}
		case "PER":
			if loop == "ST" {
				for i := 3; i+1 <= len(s.Elements); i += 2 {
					switch v(i) {
					case "TE":
						o.ShipTo.Phone = v(i + 1)
					case "EM":
						o.ShipTo.Email = v(i + 1)
					}
				}
			}
		case "G62":
			if v(1) == "04" {
				if at, err := time.Parse("20060102", v(2)); err == nil {
					o.PlacedAt = at.UTC()
				} else {
					warns = append(warns, fmt.Sprintf("G62-02 %q is not CCYYMMDD", v(2)))
				}
			}
		case "W66":
			o.ShippingMethod = v(5)
			if o.ShippingMethod == "" {
				o.ShippingMethod = v(2)
			}
		case "LX":
			loop = ""
			n, ok := atoi(v(1))
			if !ok {
				warns = append(warns, fmt.Sprintf("LX %q is not a line number", v(1)))
			}
			lineNo = n
		case "W01":
			loop = ""
			q, ok := atoi(v(1))
			if !ok {
				warns = append(warns, fmt.Sprintf("W01 at %s: quantity %q is not a number", s.Pos, v(1)))
			}
			n := lineNo
			if n == 0 {
				n = len(o.Lines) + 1
			}
			o.Lines = append(o.Lines, order.Line{LineNo: n, SKU: qualifiedID(s, 4, v(3)), Quantity: q})
			out.UOM = append(out.UOM, v(2))
			cur = len(o.Lines) - 1
			lineNo = 0
		case "G69":
			if cur >= 0 {
				o.Lines[cur].Name = v(1)
			}
		}
	}
	if o.ExternalRef == "" {
		return out, warns, errors.New("no W05-02 depositor order number")
	}
	if len(o.Lines) == 0 && out.Purpose != purposeCancel { // a cancel may name the order only
		return out, warns, errors.New("no W01 line")
	}
	return out, warns, nil
}
