package csvfile

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/order"
)

// alphabet holds the troublesome characters: every delimiter, quotes, LF,
// spaces, digits (leading zeros), and characters Windows-1252 encodes
// outside ASCII (French accents, €, œ, typographic quotes). CR is left out:
// encoding/csv folds CRLF inside a quoted field to LF (documented).
var alphabet = []rune("aZ09 ;,\t\"'\n=-#éèêàçôûÉÈÀÇÔœŒ€«»’…ÿŸ")

func genString() *rapid.Generator[string] {
	return rapid.StringOfN(rapid.SampledFrom(alphabet), 0, 12, -1)
}

func genOrders(t *rapid.T) []order.WarehouseOrder {
	n := rapid.IntRange(1, 4).Draw(t, "orders")
	out := make([]order.WarehouseOrder, n)
	for i := range out {
		o := order.WarehouseOrder{
			// Unique, non-empty: rows are grouped by reference.
			ExternalRef:        genString().Draw(t, "ref") + "#" + strconv.Itoa(i),
			Shop:               genString().Draw(t, "shop"),
			Warehouse:          genString().Draw(t, "warehouse"),
			OrderID:            genString().Draw(t, "order_id"),
			OrderName:          genString().Draw(t, "order_name"),
			FulfillmentOrderID: genString().Draw(t, "fo_id"),
			ShippingMethod:     genString().Draw(t, "method"),
			ShipTo: order.Address{
				Name: genString().Draw(t, "name"), Company: genString().Draw(t, "company"),
				Address1: genString().Draw(t, "address1"), Address2: genString().Draw(t, "address2"),
				City: genString().Draw(t, "city"), ProvinceCode: genString().Draw(t, "province"),
				PostalCode: genString().Draw(t, "postal"), CountryCode: genString().Draw(t, "country"),
				Phone: genString().Draw(t, "phone"), Email: genString().Draw(t, "email"),
			},
		}
		if rapid.Bool().Draw(t, "placed") {
			o.PlacedAt = time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "sec"), rapid.Int64Range(0, 999999999).Draw(t, "nsec")).UTC()
		}
		for j := range rapid.IntRange(1, 4).Draw(t, "lines") {
			o.Lines = append(o.Lines, order.Line{
				LineNo:                     rapid.IntRange(0, 1000).Draw(t, "line_no") + j,
				SKU:                        genString().Draw(t, "sku"),
				Quantity:                   rapid.IntRange(1, 1e6).Draw(t, "qty"),
				Name:                       genString().Draw(t, "line_name"),
				FulfillmentOrderLineItemID: genString().Draw(t, "foli"),
			})
		}
		out[i] = o
	}
	return out
}

// TestPropertyOrdersRoundTrip: random orders full of delimiters, quotes,
// newlines and Windows-1252 accents round-trip exactly through WriteOrders
// and ReadOrders in every encoding × delimiter × header combination, read
// with the pinned dialect and with "auto" detection where it is decidable.
func TestPropertyOrdersRoundTrip(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{EncodingUTF8, EncodingUTF8BOM, EncodingWindows1252} {
		for _, delim := range []string{",", ";", "\t"} {
			for _, header := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%q/header=%v", enc, delim, header), func(t *testing.T) {
					t.Parallel()
					cols := Columns{}
					for i, f := range OrderFields {
						if header {
							cols[f] = "Col " + f + " é"
						} else {
							cols[f] = strconv.Itoa(i + 1)
						}
					}
					p := Profile{Delimiter: delim, Encoding: enc, Header: header, Orders: cols}
					rapid.Check(t, func(t *rapid.T) {
						orders := genOrders(t)
						var buf bytes.Buffer
						if err := WriteOrders(&buf, p, orders); err != nil {
							t.Fatal(err)
						}
						data := buf.Bytes()
						reads := []Profile{p}
						// Auto delimiter needs a header; auto encoding is
						// ambiguous only for Windows-1252 bytes that happen
						// to be valid UTF-8 (e.g. "Ã©").
						auto := p
						if header {
							auto.Delimiter = DelimiterAuto
						}
						if enc != EncodingWindows1252 || !utf8.Valid(data) {
							auto.Encoding = EncodingAuto
						}
						reads = append(reads, auto)
						for _, rp := range reads {
							got, rowErrs, err := ReadOrders(bytes.NewReader(data), rp)
							if err != nil {
								t.Fatalf("read %+v: %v", rp, err)
							}
							if len(rowErrs) > 0 {
								t.Fatalf("row errors: %v\nfile: %q", rowErrs, data)
							}
							if d := cmp.Diff(orders, got); d != "" {
								t.Fatalf("round trip (-want +got):\n%s\nfile: %q", d, data)
							}
						}
					})
				})
			}
		}
	}
}
