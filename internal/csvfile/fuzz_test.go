package csvfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzProfiles are the partner profiles the fuzzer reads every input with:
// the French Windows-1252 shipment mapping, the BOM stock mapping, a
// headerless stock mapping and the French order mapping of the golden file,
// each also with delimiter and encoding detection.
func fuzzProfiles() []struct {
	kind Kind
	p    Profile
} {
	orders := Profile{Delimiter: ";", Encoding: "windows-1252", Header: true, Orders: Columns{
		"external_ref": "Référence", "order_name": "Commande", "shipping_method": "Transport",
		"ship_to.name": "Nom", "ship_to.company": "Société", "ship_to.address1": "Adresse 1",
		"ship_to.address2": "Adresse 2", "ship_to.postal_code": "CP", "ship_to.city": "Ville",
		"ship_to.country_code": "Pays", "line_no": "Ligne", "sku": "Article", "quantity": "Qté", "line_name": "Désignation",
	}}
	headerless := Profile{Delimiter: ",", Stock: Columns{"sku": "1", "available": "2"}}
	return []struct {
		kind Kind
		p    Profile
	}{
		{KindShipments, frenchShipments},
		{KindShipments, withDelimEnc(frenchShipments, "auto", "auto")},
		{KindStock, stockProfile},
		{KindStock, withDelimEnc(stockProfile, "auto", "auto")},
		{KindStock, headerless},
		{KindOrders, orders},
		{KindOrders, withDelimEnc(orders, "auto", "auto")},
	}
}

// FuzzRead feeds CSV bytes, seeded with the real sample files in testdata/
// (Windows-1252, UTF-8 with BOM, bad rows), to the three readers under
// several partner profiles. A reader must never panic; every row error it
// reports must carry a line and a reason (bad input is reported, never
// silently dropped); what it accepts must be well-formed: stock items with
// a SKU and no negative quantity, every bad stock row a rejected line whose
// SKU is not also kept, shipments and orders with a reference.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	profiles := fuzzProfiles()
	for _, fp := range profiles {
		if err := fp.p.Validate(fp.kind); err != nil {
			f.Fatalf("fuzz profile for %s: %v", fp.kind, err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRowErrors := func(errs []RowError) {
			for _, e := range errs {
				if e.Line < 1 || e.Reason == "" {
					t.Fatalf("row error without line or reason: %+v", e)
				}
			}
		}
		for _, fp := range profiles {
			switch fp.kind {
			case KindStock:
				snap, errs, err := ReadStock(bytes.NewReader(b), fp.p)
				if err != nil {
					continue
				}
				checkRowErrors(errs)
				items := map[string]bool{}
				for _, it := range snap.Items {
					if it.SKU == "" || it.OnHand < 0 || it.Available < 0 || items[it.SKU] {
						t.Fatalf("accepted a bad stock item %+v", it)
					}
					items[it.SKU] = true
				}
				// Every bad row is a rejected line (once, in row order,
				// with a reason), and no SKU is both kept and rejected.
				rejected := map[int]bool{}
				for i, r := range snap.Rejected {
					if r.Reason == "" || (i > 0 && r.Index <= snap.Rejected[i-1].Index) || items[r.SKU] {
						t.Fatalf("bad rejected line %+v in %+v", r, snap)
					}
					rejected[r.Index] = true
				}
				for _, e := range errs {
					if !rejected[e.Row] {
						t.Fatalf("row error %+v is not a rejected line", e)
					}
				}
			case KindShipments:
				shs, errs, err := ReadShipments(bytes.NewReader(b), fp.p)
				if err != nil {
					continue
				}
				checkRowErrors(errs)
				for _, sh := range shs {
					if sh.ExternalRef == "" {
						t.Fatalf("accepted a shipment without a reference %+v", sh)
					}
				}
			case KindOrders:
				ords, errs, err := ReadOrders(bytes.NewReader(b), fp.p)
				if err != nil {
					continue
				}
				checkRowErrors(errs)
				for _, o := range ords {
					if o.ExternalRef == "" {
						t.Fatalf("accepted an order without a reference %+v", o)
					}
				}
			}
		}
	})
}
