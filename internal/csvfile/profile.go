// Package csvfile is the CSV codec used by CSV-over-SFTP warehouse
// connectors (WMS.md §3): it writes order files and reads shipment
// confirmations and stock snapshots, with a declarative column mapping per
// partner (Profile).
//
// Conventions: one row per order line with the order columns repeated on
// every row; CRLF line ends on output; UTF-8 (with or without BOM) or
// Windows-1252; ',' or ';' delimiters (auto-detected from the first line on
// input when the profile says "auto"). SKUs, references and postal codes are
// always strings: they are never parsed as numbers, so leading zeros survive.
//
// Readers never stop at a bad row: each bad row becomes a RowError and the
// rest of the file is still read, so the caller can quarantine the file with
// a reason file listing them. Problems that make the whole file unreadable
// (a mapped required column missing from the header, undecodable bytes in a
// pinned encoding) are returned as the error.
package csvfile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Encodings a Profile may name.
const (
	EncodingAuto        = "auto" // read: BOM or valid UTF-8 → UTF-8, else Windows-1252; write: UTF-8
	EncodingUTF8        = "utf-8"
	EncodingUTF8BOM     = "utf-8-bom"
	EncodingWindows1252 = "windows-1252"
)

// DelimiterAuto asks readers to detect the delimiter from the first line.
const DelimiterAuto = "auto"

// Profile is one partner's CSV dialect and column mapping. It decodes from
// YAML or JSON, e.g.
//
//	delimiter: ";"
//	encoding: windows-1252
//	header: true
//	shipments:
//	  external_ref: Commande
//	  shipment_id: Expedition
//	  tracking_number: Suivi
type Profile struct {
	// Delimiter is ",", ";", "\t" (or "tab"), or "auto" (read: detect from
	// the first line; write: ","). Empty means "auto".
	Delimiter string `json:"delimiter,omitempty" yaml:"delimiter,omitempty"`
	// Encoding is "utf-8", "utf-8-bom", "windows-1252" or "auto" (empty).
	// On read, "utf-8" and "utf-8-bom" both accept a BOM; a BOM always wins
	// over "windows-1252".
	Encoding string `json:"encoding,omitempty" yaml:"encoding,omitempty"`
	// Header says the file has a header row. The Columns values are then
	// header names (matched case-insensitively, ignoring surrounding
	// spaces). Without a header they are 1-based column numbers ("1", "2").
	Header bool `json:"header" yaml:"header"`
	// Transliterate replaces characters Windows-1252 cannot encode with
	// an ASCII approximation ("ł" → "l", "ő" → "o", else "?") instead of
	// failing.
	Transliterate bool `json:"transliterate,omitempty" yaml:"transliterate,omitempty"`
	// TimeLayout is an extra Go time layout tried first when reading
	// timestamps (shipped_at, placed_at). Timestamps without a zone are UTC.
	// Output always uses RFC 3339.
	TimeLayout string `json:"time_layout,omitempty" yaml:"time_layout,omitempty"`

	Orders    Columns `json:"orders,omitempty" yaml:"orders,omitempty"`
	Shipments Columns `json:"shipments,omitempty" yaml:"shipments,omitempty"`
	Stock     Columns `json:"stock,omitempty" yaml:"stock,omitempty"`
}

// Columns maps canonical field names (see OrderFields, ShipmentFields,
// StockFields) to the partner's column headers (or 1-based numbers when the
// profile has no header).
type Columns map[string]string

// Kind names one of the three file kinds.
type Kind string

// File kinds.
const (
	KindOrders    Kind = "orders"
	KindShipments Kind = "shipments"
	KindStock     Kind = "stock"
)

// OrderFields are the canonical order-file fields in output column order.
var OrderFields = []string{
	"external_ref", "order_name", "order_id", "shop", "warehouse",
	"fulfillment_order_id", "shipping_method", "placed_at",
	"ship_to.name", "ship_to.company", "ship_to.address1", "ship_to.address2",
	"ship_to.city", "ship_to.province_code", "ship_to.postal_code",
	"ship_to.country_code", "ship_to.phone", "ship_to.email",
	"line_no", "sku", "quantity", "line_name", "fulfillment_order_line_item_id",
}

// ShipmentFields are the canonical shipment-confirmation fields.
var ShipmentFields = []string{
	"external_ref", "shipment_id", "shipped_at",
	"line_no", "sku", "quantity",
	"package_id", "carrier", "service", "tracking_number", "tracking_url",
}

// StockFields are the canonical stock-snapshot fields.
var StockFields = []string{"sku", "on_hand", "available"}

var required = map[Kind][]string{
	KindOrders:    {"external_ref", "line_no", "sku", "quantity"},
	KindShipments: {"external_ref", "shipment_id"},
	KindStock:     {"sku"},
}

func (p Profile) columns(k Kind) (Columns, []string) {
	switch k {
	case KindOrders:
		return p.Orders, OrderFields
	case KindShipments:
		return p.Shipments, ShipmentFields
	default:
		return p.Stock, StockFields
	}
}

// Validate checks the dialect and the mapping for kind k: known encoding
// and delimiter, no unknown canonical field, every required field mapped
// (the error names it), column numbers valid when there is no header.
func (p Profile) Validate(k Kind) error {
	if _, err := p.delimiter(); err != nil {
		return err
	}
	switch p.Encoding {
	case "", EncodingAuto, EncodingUTF8, EncodingUTF8BOM, EncodingWindows1252:
	default:
		return fmt.Errorf("csvfile: unknown encoding %q (want utf-8, utf-8-bom, windows-1252 or auto)", p.Encoding)
	}
	cols, fields := p.columns(k)
	var unknown []string
	for f := range cols {
		if !slices.Contains(fields, f) {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("csvfile: %s mapping has unknown field(s) %s (known: %s)", k, strings.Join(unknown, ", "), strings.Join(fields, ", "))
	}
	for _, f := range required[k] {
		if strings.TrimSpace(cols[f]) == "" {
			return fmt.Errorf("csvfile: %s mapping: required field %q is not mapped to a column", k, f)
		}
	}
	switch k {
	case KindShipments:
		if (cols["sku"] != "" || cols["line_no"] != "") && cols["quantity"] == "" {
			return fmt.Errorf("csvfile: shipments mapping: field \"quantity\" must be mapped when sku or line_no is")
		}
	case KindStock:
		if cols["on_hand"] == "" && cols["available"] == "" {
			return fmt.Errorf("csvfile: stock mapping: at least one of \"on_hand\" or \"available\" must be mapped")
		}
	}
	if !p.Header {
		seen := map[int]string{}
		for _, f := range fields {
			v, ok := cols[f]
			if !ok {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				return fmt.Errorf("csvfile: %s mapping: field %q: without a header, columns are 1-based numbers, got %q", k, f, v)
			}
			if o, dup := seen[n]; dup {
				return fmt.Errorf("csvfile: %s mapping: fields %q and %q both use column %d", k, o, f, n)
			}
			seen[n] = f
		}
	}
	return nil
}

func (p Profile) delimiter() (rune, error) {
	switch p.Delimiter {
	case "", DelimiterAuto:
		return 0, nil
	case ",":
		return ',', nil
	case ";":
		return ';', nil
	case "\t", "tab", `\t`:
		return '\t', nil
	case "|":
		return '|', nil
	}
	return 0, fmt.Errorf("csvfile: unsupported delimiter %q (want \",\", \";\", \"tab\", \"|\" or \"auto\")", p.Delimiter)
}
