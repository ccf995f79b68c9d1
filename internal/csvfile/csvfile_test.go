package csvfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullOrderColumns maps every order field to a header equal to its name.
func fullOrderColumns() Columns {
	c := Columns{}
	for _, f := range OrderFields {
		c[f] = f
	}
	return c
}

var frenchShipments = Profile{
	Delimiter: ";",
	Encoding:  "auto",
	Header:    true,
	Shipments: Columns{
		"external_ref":    "Commande",
		"shipment_id":     "Expédition",
		"shipped_at":      "Date d'expédition",
		"line_no":         "Ligne",
		"sku":             "Article",
		"quantity":        "Quantité",
		"package_id":      "Colis",
		"carrier":         "Transporteur",
		"tracking_number": "Suivi",
	},
}

func sampleOrder() order.WarehouseOrder {
	return order.WarehouseOrder{
		ExternalRef:        "FR-1001",
		Shop:               "boutique.myshopify.com",
		Warehouse:          "lyon",
		OrderID:            "gid://shopify/Order/1",
		OrderName:          "#1001",
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/1",
		ShippingMethod:     "Colissimo; signature",
		ShipTo: order.Address{
			Name: "Hôtel de l'Épée", Company: `Café "Le Zinc"`, Address1: "12, rue de l'Œuvre",
			Address2: "Bâtiment B\nPorte 3", City: "Besançon", PostalCode: "01200", CountryCode: "FR",
			Phone: "0612345678", Email: "zoë@example.fr",
		},
		Lines: []order.Line{
			{LineNo: 1, SKU: "000123", Quantity: 2, Name: "Crème brûlée — 6 pots", FulfillmentOrderLineItemID: "gid://shopify/FulfillmentOrderLineItem/1"},
			{LineNo: 2, SKU: "ABC;9", Quantity: 1, Name: "Sac « été » 15€"},
		},
		PlacedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
	}
}

// TestProfileJSONAndValidate: a profile decodes from JSON, and validation
// names the unmapped required field, unknown fields and bad dialects.
func TestProfileJSONAndValidate(t *testing.T) {
	t.Parallel()
	var p Profile
	err := json.Unmarshal([]byte(`{"delimiter":";","encoding":"windows-1252","header":true,
		"stock":{"sku":"Article","on_hand":"Stock"}}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Delimiter: ";", Encoding: "windows-1252", Header: true, Stock: Columns{"sku": "Article", "on_hand": "Stock"}}
	if d := cmp.Diff(want, p); d != "" {
		t.Fatalf("decoded profile (-want +got):\n%s", d)
	}
	if err := p.Validate(KindStock); err != nil {
		t.Fatalf("valid stock profile: %v", err)
	}
	for _, tc := range []struct {
		name string
		p    Profile
		k    Kind
		want string
	}{
		{"orders missing sku", Profile{Header: true, Orders: Columns{"external_ref": "a", "line_no": "b", "quantity": "c"}}, KindOrders, `required field "sku"`},
		{"shipments missing shipment_id", Profile{Header: true, Shipments: Columns{"external_ref": "a"}}, KindShipments, `required field "shipment_id"`},
		{"stock without quantity", Profile{Header: true, Stock: Columns{"sku": "a"}}, KindStock, `"on_hand" or "available"`},
		{"unknown field", Profile{Header: true, Stock: Columns{"sku": "a", "on_hand": "b", "onhand": "c"}}, KindStock, `unknown field(s) onhand`},
		{"bad delimiter", Profile{Delimiter: ":", Stock: Columns{"sku": "1", "on_hand": "2"}}, KindStock, `unsupported delimiter`},
		{"bad encoding", Profile{Encoding: "latin9", Stock: Columns{"sku": "1", "on_hand": "2"}}, KindStock, `unknown encoding`},
		{"no header needs numbers", Profile{Stock: Columns{"sku": "SKU", "on_hand": "2"}}, KindStock, `1-based numbers`},
		{"shipment sku without quantity", Profile{Header: true, Shipments: Columns{"external_ref": "a", "shipment_id": "b", "sku": "c"}}, KindShipments, `"quantity" must be mapped`},
	} {
		err := tc.p.Validate(tc.k)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestReadShipmentsFrenchWindows1252: a ';'-separated Windows-1252 file
// (accented headers must be decoded to be found) groups rows by reference
// and shipment, sums a line split over two packages, keeps two tracking
// numbers and the SKU's leading zeros.
func TestReadShipmentsFrenchWindows1252(t *testing.T) {
	t.Parallel()
	data := readFile(t, "shipments_fr_windows1252.csv")
	if !bytes.Contains(data, []byte("H\xf4tel de l'\xc9p\xe9e")) {
		t.Fatal("golden file is not Windows-1252")
	}
	for _, p := range []Profile{frenchShipments, withDelimEnc(frenchShipments, "auto", "windows-1252")} {
		got, rowErrs, err := ReadShipments(bytes.NewReader(data), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(rowErrs) > 0 {
			t.Fatalf("row errors: %v", rowErrs)
		}
		at1 := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)
		at2 := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
		want := []order.Shipment{
			{
				ID: "EXP-1", ExternalRef: "FR-1001", ShippedAt: at1,
				Lines: []order.ShipmentLine{{LineNo: 1, SKU: "00123", Quantity: 2}, {LineNo: 2, SKU: "ABC-9", Quantity: 2}},
				Packages: []order.Package{
					{ID: "C1", Carrier: "Colissimo", TrackingNumber: "6A123", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "00123", Quantity: 2}, {LineNo: 2, SKU: "ABC-9", Quantity: 1}}},
					{ID: "C2", Carrier: "Colissimo", TrackingNumber: "6A124", Lines: []order.ShipmentLine{{LineNo: 2, SKU: "ABC-9", Quantity: 1}}},
				},
			},
			{
				ID: "EXP-2", ExternalRef: "FR-1002", ShippedAt: at2,
				Lines:    []order.ShipmentLine{{LineNo: 1, SKU: "00456", Quantity: 3}},
				Packages: []order.Package{{ID: "XY9", Carrier: "Chronopost", TrackingNumber: "XY9", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "00456", Quantity: 3}}}},
			},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("shipments (-want +got):\n%s", d)
		}
	}
	// The same file read as UTF-8 (pinned) is a whole-file error.
	_, _, err := ReadShipments(bytes.NewReader(data), withDelimEnc(frenchShipments, ";", "utf-8"))
	if err == nil || !strings.Contains(err.Error(), "line 1 is not valid UTF-8") {
		t.Fatalf("pinned utf-8 on Windows-1252 file: err = %v", err)
	}
}

func withDelimEnc(p Profile, delim, enc string) Profile {
	p.Delimiter, p.Encoding = delim, enc
	return p
}

var stockProfile = Profile{Header: true, Stock: Columns{"sku": "SKU", "on_hand": "On hand", "available": "Available"}}

// TestReadStockUTF8BOM: a BOM file is read (the BOM does not corrupt the
// first header), SKUs keep leading zeros.
func TestReadStockUTF8BOM(t *testing.T) {
	t.Parallel()
	got, rowErrs, err := ReadStock(bytes.NewReader(readFile(t, "stock_utf8bom.csv")), stockProfile)
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("err=%v rowErrs=%v", err, rowErrs)
	}
	want := connector.StockSnapshot{Items: []connector.StockItem{
		{SKU: "000123", OnHand: 10, Available: 7},
		{SKU: "00042", OnHand: 0, Available: 0},
		{SKU: "ABC-1", OnHand: 5, Available: 5},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("stock (-want +got):\n%s", d)
	}
}

// TestReadStockRowErrors: bad quantities, an empty SKU, a short row and a
// duplicate SKU become RowErrors with the right line, column, value, row
// index and SKU, and rejected lines in the snapshot (both rows of the
// duplicate); the good rows are still read, and every data row is in Items
// or in Rejected.
func TestReadStockRowErrors(t *testing.T) {
	t.Parallel()
	p := Profile{Header: true, Stock: Columns{"sku": "sku", "available": "stock"}}
	data := append(readFile(t, "stock_bad_rows.csv"), ";2\n\n000129;1;x\n000130;6\n"...)
	got, rowErrs, err := ReadStock(bytes.NewReader(data), p)
	if err != nil {
		t.Fatal(err)
	}
	dup := "SKU 000123 is listed on 2 rows (lines 2, 7); all of them are rejected since which one is right cannot be told"
	wantErrs := []RowError{
		{Line: 2, Column: "sku", Value: "000123", Reason: dup, Row: 0, SKU: "000123"},
		{Line: 3, Column: "stock", Value: "quatre", Reason: `available "quatre" is not a whole number`, Row: 1, SKU: "000124"},
		{Line: 4, Column: "stock", Value: "-1", Reason: "available must be at least 0, got -1", Row: 2, SKU: "000125"},
		{Line: 5, Column: "stock", Reason: "available is empty", Row: 3, SKU: "000126"},
		{Line: 6, Column: "stock", Value: "3.0", Reason: `available "3.0" is not a whole number`, Row: 4, SKU: "000127"},
		{Line: 7, Column: "sku", Value: "000123", Reason: dup, Row: 5, SKU: "000123"},
		{Line: 9, Column: "sku", Reason: "SKU is empty", Row: 7},
		{Line: 11, Reason: "row has 3 fields, header has 2 (unquoted delimiter?)", Row: 8, SKU: "000129"},
	}
	if d := cmp.Diff(wantErrs, rowErrs); d != "" {
		t.Fatalf("row errors (-want +got):\n%s", d)
	}
	want := connector.StockSnapshot{Items: []connector.StockItem{
		{SKU: "000128", OnHand: 12, Available: 12},
		{SKU: "000130", OnHand: 6, Available: 6},
	}}
	for _, e := range wantErrs {
		want.Rejected = append(want.Rejected, connector.RejectedStockLine{Index: e.Row, SKU: e.SKU, Reason: e.Error()})
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("stock (-want +got):\n%s", d)
	}
	if s := FormatRowErrors(rowErrs[1:2]); s != "line 3, column \"stock\", value \"quatre\": available \"quatre\" is not a whole number\n" {
		t.Errorf("FormatRowErrors = %q", s)
	}
	// Two bad cells of one row are one rejected line with both reasons.
	p.Stock["on_hand"] = "hand"
	got, _, err = ReadStock(strings.NewReader("sku,hand,stock\nA,x,-2\nB,1,1\n"), p)
	if err != nil {
		t.Fatal(err)
	}
	wantR := []connector.RejectedStockLine{{Index: 0, SKU: "A", Reason: `line 2, column "hand", value "x": on_hand "x" is not a whole number; ` +
		`line 2, column "stock", value "-2": available must be at least 0, got -2`}}
	if d := cmp.Diff(wantR, got.Rejected); d != "" || len(got.Items) != 1 {
		t.Fatalf("rejected (-want +got):\n%s items %+v", d, got.Items)
	}
}

// TestReadStockWholeFileErrors: CSV syntax (a quote that may swallow the
// rows after it) makes the whole stock file unusable, with the row error
// wrapped in the error; nothing of the file is returned.
func TestReadStockWholeFileErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"SKU,On hand,Available\nA,1,1\nB,\"2,2\nC,3,3\n",
		"SKU,On hand,Available\nA,1,1\nB,2\"x,2\nC,3,3\n",
	} {
		got, _, err := ReadStock(strings.NewReader(in), stockProfile)
		var re RowError
		if err == nil || !errors.As(err, &re) || !strings.Contains(err.Error(), "malformed CSV") || len(got.Items)+len(got.Rejected) != 0 {
			t.Errorf("%q: snapshot %+v, err %v; want a whole-file error", in, got, err)
		}
	}
}

// TestReadShipmentsRowErrors: a bad quantity drops its whole shipment (never
// half a shipment), other shipments are still returned; line numbers count
// physical lines, including a quoted multi-line field before the bad row;
// a malformed CSV row is reported and skipped.
func TestReadShipmentsRowErrors(t *testing.T) {
	t.Parallel()
	p := Profile{Header: true, Shipments: Columns{"external_ref": "ref", "shipment_id": "id", "sku": "sku", "quantity": "qty", "tracking_number": "tn"}}
	in := "ref,id,sku,qty,tn,note\r\n" +
		"R1,S1,001,1,T1,\"two\r\nlines\"\r\n" + // lines 2-3
		"R1,S1,002,x,T1,\r\n" + // line 4: bad qty → S1 dropped
		"R2,S2,003,2,T2,\r\n" + // line 5
		"R2,S2,004,1\r\n" + // line 6: short row
		"R3,S3,005,1,T\"3,\r\n" + // line 7: bare quote
		"R4,S4,006,-1,T4,\r\n" + // line 8: negative quantity (0 is a line that does not ship)
		",S5,007,1,T5,\r\n" // line 9: no ref
	got, rowErrs, err := ReadShipments(strings.NewReader(in), p)
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := []RowError{
		{Line: 4, Column: "qty", Value: "x", Reason: `quantity "x" is not a whole number`, Row: 1, SKU: "002"},
		{Line: 6, Reason: "row has 4 fields, header has 6 (unquoted delimiter?)", Row: 3, SKU: "004"},
		{Line: 7, Reason: "malformed CSV: bare \" in non-quoted-field", Row: 4},
		{Line: 8, Column: "qty", Value: "-1", Reason: "quantity must be at least 0, got -1", Row: 5, SKU: "006"},
		{Line: 9, Column: "ref", Reason: "external reference is empty", Row: 6, SKU: "007"},
	}
	if d := cmp.Diff(wantErrs, rowErrs); d != "" {
		t.Fatalf("row errors (-want +got):\n%s", d)
	}
	if len(got) != 1 || got[0].ID != "S2" {
		t.Fatalf("shipments = %+v, want only S2", got)
	}
}

// TestMissingHeaderColumn: a header without a mapped required column is a
// whole-file error naming the column and field.
func TestMissingHeaderColumn(t *testing.T) {
	t.Parallel()
	_, _, err := ReadStock(strings.NewReader("Article,On hand,Available\r\n1,2,3\r\n"), stockProfile)
	if err == nil || !strings.Contains(err.Error(), `lacks mapped column(s) "SKU" (field sku)`) {
		t.Fatalf("err = %v", err)
	}
	// A ';' file read with a pinned ',' has one big header column: the
	// error shows the delimiter used.
	_, _, err = ReadStock(strings.NewReader("SKU;On hand;Available\r\n1;2;3\r\n"), withDelimEnc(stockProfile, ",", ""))
	if err == nil || !strings.Contains(err.Error(), `delimiter ","`) {
		t.Fatalf("err = %v", err)
	}
	_, _, err = ReadStock(strings.NewReader(""), stockProfile)
	if err == nil || !strings.Contains(err.Error(), "no header row") {
		t.Fatalf("empty file: err = %v", err)
	}
}

// TestDelimiterDetection: ',', ';' and tab files read the same with
// delimiter "auto"; quoted delimiters in the header do not mislead it.
func TestDelimiterDetection(t *testing.T) {
	t.Parallel()
	want := connector.StockSnapshot{Items: []connector.StockItem{{SKU: "000123", OnHand: 1, Available: 1}, {SKU: "0042", OnHand: 2, Available: 2}}}
	p := Profile{Delimiter: "auto", Header: true, Stock: Columns{"sku": "sku", "on_hand": "qty, total"}}
	for _, in := range []string{
		"sku,\"qty, total\"\r\n000123,1\r\n0042,2\r\n",
		"sku;\"qty, total\"\n000123;1\n0042;2\n",
		"sku;\"qty, total\";\"a,b,c\"\r\n000123;1;x\r\n0042;2;y\r\n",
		"sku\tqty, total\tnote\r\n000123\t1\t\r\n0042\t2\t\r\n",
	} {
		got, rowErrs, err := ReadStock(strings.NewReader(in), p)
		if err != nil || len(rowErrs) > 0 {
			t.Fatalf("%q: err=%v rowErrs=%v", in, err, rowErrs)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", in, d)
		}
	}
}

// TestEncodingDetection: the same French text as UTF-8, UTF-8 with BOM
// and Windows-1252 reads identically with encoding "auto"; a BOM wins over
// a pinned windows-1252; an Excel ="00123" guard is unwrapped.
func TestEncodingDetection(t *testing.T) {
	t.Parallel()
	text := "Article;Quantité;Transporteur\r\n\"=\"\"00123\"\"\";2;x\r\nÉPÉE-1;1;x\r\n"
	p := Profile{Header: true, Stock: Columns{"sku": "Article", "on_hand": "Quantité"}}
	cp, err := appendWindows1252(nil, text, false)
	if err != nil {
		t.Fatal(err)
	}
	want := connector.StockSnapshot{Items: []connector.StockItem{{SKU: "00123", OnHand: 2, Available: 2}, {SKU: "ÉPÉE-1", OnHand: 1, Available: 1}}}
	for _, tc := range []struct {
		name, enc string
		data      []byte
	}{
		{"utf-8 auto", "", []byte(text)},
		{"bom auto", "auto", append(append([]byte{}, utf8BOM...), text...)},
		{"1252 auto", "auto", cp},
		{"1252 pinned", "windows-1252", cp},
		{"bom beats pinned 1252", "windows-1252", append(append([]byte{}, utf8BOM...), text...)},
		{"utf-8 pinned", "utf-8", []byte(text)},
		{"utf-8-bom pinned, no bom", "utf-8-bom", []byte(text)},
	} {
		got, rowErrs, err := ReadStock(bytes.NewReader(tc.data), withDelimEnc(p, "", tc.enc))
		if err != nil || len(rowErrs) > 0 {
			t.Fatalf("%s: err=%v rowErrs=%v", tc.name, err, rowErrs)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}

// TestWindows1252Table: every byte decodes and re-encodes to itself, and
// the 0x80–0x9F block holds the expected characters.
func TestWindows1252Table(t *testing.T) {
	t.Parallel()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	s := decodeWindows1252(all)
	back, err := appendWindows1252(nil, s, false)
	if err != nil || !bytes.Equal(back, all) {
		t.Fatalf("round trip: err=%v equal=%v", err, bytes.Equal(back, all))
	}
	if got := decodeWindows1252([]byte{0x80, 0x8C, 0x9C, 0x9F, 0xE9, 0xC9, 0xF4, 0xAB}); got != "€ŒœŸéÉô«" {
		t.Fatalf("decode = %q", got)
	}
}

// TestWriteOrdersGolden: the exact bytes of a Windows-1252 ';' order file:
// header, one row per line with order columns repeated, quoting, CRLF,
// accents as single bytes.
func TestWriteOrdersGolden(t *testing.T) {
	t.Parallel()
	p := Profile{Delimiter: ";", Encoding: "windows-1252", Header: true, Orders: Columns{
		"external_ref": "Référence", "order_name": "Commande", "shipping_method": "Transport",
		"ship_to.name": "Nom", "ship_to.company": "Société", "ship_to.address1": "Adresse 1",
		"ship_to.address2": "Adresse 2", "ship_to.postal_code": "CP", "ship_to.city": "Ville",
		"ship_to.country_code": "Pays", "line_no": "Ligne", "sku": "Article", "quantity": "Qté", "line_name": "Désignation",
	}}
	var buf bytes.Buffer
	if err := WriteOrders(&buf, p, []order.WarehouseOrder{sampleOrder()}); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "orders_fr_windows1252.golden.csv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, "orders_fr_windows1252.golden.csv"); !bytes.Equal(want, buf.Bytes()) {
		t.Fatalf("output differs from golden:\n got %q\nwant %q", buf.Bytes(), want)
	}
	if !bytes.Contains(buf.Bytes(), []byte("H\xf4tel de l'\xc9p\xe9e")) || !bytes.Contains(buf.Bytes(), []byte(";01200;")) {
		t.Fatal("accents or postal code not written as expected")
	}
	got, rowErrs, err := ReadOrders(bytes.NewReader(buf.Bytes()), withDelimEnc(p, "auto", "auto"))
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("read back: err=%v rowErrs=%v", err, rowErrs)
	}
	if got[0].ShipTo.Name != "Hôtel de l'Épée" || got[0].ShipTo.PostalCode != "01200" || got[0].Lines[0].SKU != "000123" {
		t.Fatalf("read back %+v", got[0])
	}
}

// TestWriteOrdersUnencodable: a character outside Windows-1252 is an error
// naming order, line and field, and nothing is written; Transliterate
// approximates it instead; UTF-8 output needs neither.
func TestWriteOrdersUnencodable(t *testing.T) {
	t.Parallel()
	o := sampleOrder()
	o.Lines[1].Name = "Łódź ő ✓"
	p := Profile{Encoding: "windows-1252", Header: true, Orders: fullOrderColumns()}
	var buf bytes.Buffer
	err := WriteOrders(&buf, p, []order.WarehouseOrder{o})
	if err == nil || !strings.Contains(err.Error(), "order FR-1001 line 2 field line_name") || !strings.Contains(err.Error(), "U+0141") {
		t.Fatalf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes on error", buf.Len())
	}
	p.Transliterate = true
	if err := WriteOrders(&buf, p, []order.WarehouseOrder{o}); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadOrders(bytes.NewReader(buf.Bytes()), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := got[0].Lines[1].Name; n != "Lódz o ?" {
		t.Fatalf("transliterated name = %q", n)
	}
	if got[0].ShipTo.Name != "Hôtel de l'Épée" {
		t.Fatalf("French accents were transliterated: %q", got[0].ShipTo.Name)
	}
	buf.Reset()
	p.Encoding, p.Transliterate = "utf-8-bom", false
	if err := WriteOrders(&buf, p, []order.WarehouseOrder{o}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), utf8BOM) {
		t.Fatal("utf-8-bom output lacks a BOM")
	}
}

// TestOrdersRoundTrip: write → read gives back the orders exactly, with
// and without a header row.
func TestOrdersRoundTrip(t *testing.T) {
	t.Parallel()
	o2 := sampleOrder()
	o2.ExternalRef, o2.PlacedAt = "FR-1002", time.Time{}
	o2.Lines = o2.Lines[:1]
	orders := []order.WarehouseOrder{sampleOrder(), o2}
	noHeader := Columns{}
	for i, f := range OrderFields {
		noHeader[f] = strconv.Itoa(i + 1)
	}
	for _, p := range []Profile{
		{Delimiter: ",", Encoding: "utf-8", Header: true, Orders: fullOrderColumns()},
		{Delimiter: ";", Encoding: "windows-1252", Orders: noHeader},
	} {
		var buf bytes.Buffer
		if err := WriteOrders(&buf, p, orders); err != nil {
			t.Fatal(err)
		}
		got, rowErrs, err := ReadOrders(&buf, p)
		if err != nil || len(rowErrs) > 0 {
			t.Fatalf("err=%v rowErrs=%v", err, rowErrs)
		}
		if d := cmp.Diff(orders, got); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	}
}

// TestReadOrdersInconsistentRows: an order whose repeated columns differ
// between rows is reported and left out.
func TestReadOrdersInconsistentRows(t *testing.T) {
	t.Parallel()
	p := Profile{Header: true, Orders: Columns{"external_ref": "ref", "ship_to.postal_code": "cp", "line_no": "n", "sku": "sku", "quantity": "q"}}
	in := "ref,cp,n,sku,q\r\nA,01200,1,x,1\r\nA,1200,2,y,1\r\nB,75001,1,z,1\r\n"
	got, rowErrs, err := ReadOrders(strings.NewReader(in), p)
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := []RowError{{Line: 3, Column: "cp", Value: "1200", Reason: `order column differs from the order's first row (line 2): "01200"`, Row: 1, SKU: "y"}}
	if d := cmp.Diff(wantErrs, rowErrs); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	if len(got) != 1 || got[0].ExternalRef != "B" || got[0].ShipTo.PostalCode != "75001" {
		t.Fatalf("orders = %+v", got)
	}
}
