package filesim

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/x12"
)

// genShipment draws a shipment of 1–3 packages, each with 1–3 lines of
// distinct line numbers (a line may be split over packages).
func genShipment(t *rapid.T) order.Shipment {
	sku := rapid.StringMatching(`[A-Z0-9][A-Z0-9-]{0,11}`)
	skus := map[int]string{}
	sh := order.Shipment{
		ID:          rapid.StringMatching(`S[0-9]{1,8}`).Draw(t, "id"),
		ExternalRef: rapid.StringMatching(`CD-[0-9]{1,12}`).Draw(t, "ref"),
		ShippedAt:   time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.IntRange(0, 86399).Draw(t, "sec")) * time.Second),
	}
	carrier := rapid.SampledFrom(wmssim.DefaultCarriers).Draw(t, "carrier")
	sum := map[order.ShipmentLine]int{}
	var keys []order.ShipmentLine
	for i := range rapid.IntRange(1, 3).Draw(t, "packages") {
		p := order.Package{ID: fmt.Sprintf("P%d", i+1), Carrier: carrier.Name, Service: carrier.Service,
			TrackingNumber: rapid.StringMatching(`[0-9A-Z]{8,18}`).Draw(t, "tracking")}
		for _, n := range rapid.SliceOfNDistinct(rapid.IntRange(1, 5), 1, 3, rapid.ID).Draw(t, "lines") {
			if skus[n] == "" {
				skus[n] = sku.Draw(t, "sku")
			}
			l := order.ShipmentLine{LineNo: n, SKU: skus[n], Quantity: rapid.IntRange(1, 9).Draw(t, "qty")}
			p.Lines = append(p.Lines, l)
			k := order.ShipmentLine{LineNo: n, SKU: skus[n]}
			if _, ok := sum[k]; !ok {
				keys = append(keys, k)
			}
			sum[k] += l.Quantity
		}
		sh.Packages = append(sh.Packages, p)
	}
	for _, k := range keys {
		k.Quantity = sum[k]
		sh.Lines = append(sh.Lines, k)
	}
	return sh
}

// normalize sorts lines and drops what a format does not carry.
func normalize(sh order.Shipment, keepURL bool) order.Shipment {
	byLine := func(a, b order.ShipmentLine) int { return a.LineNo - b.LineNo }
	sh.Lines = slices.Clone(sh.Lines)
	slices.SortFunc(sh.Lines, byLine)
	pk := make([]order.Package, len(sh.Packages))
	for i, p := range sh.Packages {
		p.Lines = slices.Clone(p.Lines)
		slices.SortFunc(p.Lines, byLine)
		if !keepURL {
			p.TrackingURL = ""
		}
		pk[i] = p
	}
	sh.Packages = pk
	return sh
}

func newTestPartner(t *rapid.T, protocol string) *Partner {
	sim := wmssim.New(wmssim.Config{Name: "enc"})
	drop, err := filedrop.NewLocal(os.TempDir()) // never written to: only encoders are used
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Sim: sim, Drop: drop, Protocol: protocol})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShipmentFileRoundTrip: a shipment written as a CSV confirmation
// reads back through csvfile (the csvwms codec) unchanged.
func TestShipmentFileRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		sh := genShipment(t)
		p := newTestPartner(t, ProtocolCSV)
		tb := p.newTable(p.csv.Shipments, csvfile.ShipmentFields)
		for _, pk := range sh.Packages {
			for _, l := range pk.Lines {
				tb.row(shipmentRow(sh, sh.ShippedAt, pk, l))
			}
		}
		data, err := tb.bytes()
		if err != nil {
			t.Fatal(err)
		}
		got, rowErrs, err := csvfile.ReadShipments(bytes.NewReader(data), csvwms.DefaultProfile())
		if err != nil || len(rowErrs) > 0 || len(got) != 1 {
			t.Fatalf("read back: %v %v %d shipments\n%s", err, rowErrs, len(got), data)
		}
		if d := cmp.Diff(normalize(sh, true), normalize(got[0], true)); d != "" {
			t.Fatalf("(-written +read):\n%s\n%s", d, data)
		}
	})
}

// Test945RoundTrip: a shipment written as a 945 reads back through
// ediwms.Read945 with its lines, packages, tracking numbers and carrier
// (the ship date at day precision, no tracking URL: a 945 carries neither).
func Test945RoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		sh := genShipment(t)
		p := newTestPartner(t, ProtocolEDI)
		set := p.build945(connector.Event{Type: connector.EventShipped, ExternalRef: sh.ExternalRef, Shipment: &sh})
		data, err := p.encode(t.Context(), p.envelope(fidShip, []*x12.TransactionSet{set}))
		if err != nil {
			t.Fatal(err)
		}
		ics, warns, err := x12.Parse(bytes.NewReader(data))
		if err != nil || len(warns) > 0 {
			t.Fatalf("parse: %v %v\n%s", err, warns, data)
		}
		got, mw, err := ediwms.Read945(ics[0].Groups[0].Sets[0], ediwms.Profile{SenderID: "CROSSDOCK", ReceiverID: "DEMO3PL"})
		if err != nil || len(mw) > 0 {
			t.Fatalf("Read945: %v %v\n%s", err, mw, data)
		}
		want := normalize(sh, false)
		want.ShippedAt = sh.ShippedAt.Truncate(24 * time.Hour)
		if d := cmp.Diff(want, normalize(got, false)); d != "" {
			t.Fatalf("(-written +read):\n%s\n%s", d, strings.ReplaceAll(string(data), "~", "~\n"))
		}
	})
}
