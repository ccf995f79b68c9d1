package filesim

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/order"
)

// CSV file name prefixes, as csvwms names them.
const (
	csvOrderPrefix     = "ord_"
	csvCancelPrefix    = "cancel_"
	csvShipmentPrefix  = "shp"
	csvInventoryPrefix = "inv"
	csvExt             = ".csv"
)

// handleCSV reads one file of the hub: orders or a cancel request. A
// non-empty reason rejects the file.
func (p *Partner) handleCSV(ctx context.Context, name string, data []byte) (string, error) {
	lower := strings.ToLower(name)
	switch {
	case !strings.HasSuffix(lower, csvExt):
		return fmt.Sprintf("%s is not a .csv file", name), nil
	case strings.HasPrefix(name, csvOrderPrefix):
		orders, rowErrs, err := csvfile.ReadOrders(bytes.NewReader(data), p.csv)
		if err != nil {
			return "order file does not read: " + err.Error(), nil
		}
		if len(rowErrs) > 0 {
			return strings.TrimSpace(csvfile.FormatRowErrors(rowErrs)), nil
		}
		if len(orders) == 0 {
			return "order file holds no order", nil
		}
		var reasons []string
		for _, o := range orders {
			reason, err := p.createOrder(ctx, o)
			if err != nil {
				return "", err
			}
			if reason != "" {
				reasons = append(reasons, reason)
			}
		}
		return strings.Join(reasons, "\n"), nil
	case strings.HasPrefix(name, csvCancelPrefix):
		refs, err := p.readCancelCSV(data)
		if err != nil {
			return "cancel file does not read: " + err.Error(), nil
		}
		if len(refs) == 0 {
			return "cancel file names no order", nil
		}
		var reasons []string
		for _, ref := range refs {
			reason, err := p.cancelOrder(ctx, ref)
			if err != nil {
				return "", err
			}
			if reason != "" {
				reasons = append(reasons, reason)
			}
		}
		return strings.Join(reasons, "\n"), nil
	}
	return fmt.Sprintf("file name %s starts with neither %s nor %s", name, csvOrderPrefix, csvCancelPrefix), nil
}

// delimiter is the profile's delimiter for reading and writing (","
// unless the profile pins another).
func (p *Partner) delimiter() rune {
	switch p.csv.Delimiter {
	case ";":
		return ';'
	case "\t", "tab", `\t`:
		return '\t'
	case "|":
		return '|'
	}
	return ','
}

// readCancelCSV reads a cancel file: one external reference per row, under
// a header row (csvwms.CancelOrder writes the orders mapping's external_ref
// header).
func (p *Partner) readCancelCSV(data []byte) ([]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = p.delimiter()
	r.FieldsPerRecord = -1
	var refs []string
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			return refs, nil
		}
		if err != nil {
			return nil, err
		}
		if first || len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue // header row
		}
		refs = append(refs, strings.TrimSpace(rec[0]))
	}
}

// table writes a CSV file with the mapped columns of fields, in fields'
// order.
type table struct {
	cols   csvfile.Columns
	fields []string
	buf    bytes.Buffer
	w      *csv.Writer
}

func (p *Partner) newTable(cols csvfile.Columns, fields []string) *table {
	t := &table{cols: cols}
	for _, f := range fields {
		if cols[f] != "" {
			t.fields = append(t.fields, f)
		}
	}
	t.w = csv.NewWriter(&t.buf)
	t.w.Comma = p.delimiter()
	t.w.UseCRLF = true
	head := make([]string, len(t.fields))
	for i, f := range t.fields {
		head[i] = cols[f]
	}
	_ = t.w.Write(head)
	return t
}

func (t *table) row(v map[string]string) {
	rec := make([]string, len(t.fields))
	for i, f := range t.fields {
		rec[i] = v[f]
	}
	_ = t.w.Write(rec)
}

func (t *table) bytes() ([]byte, error) {
	t.w.Flush()
	return t.buf.Bytes(), t.w.Error()
}

// writeShipmentsCSV writes one shp_*.csv file with the shipments of evs:
// one row per package and line, so that the file carries every package's
// tracking number and contents. A cancelled order is a shipment whose
// every line ships 0, the answer csvwms reads for a cancel.
func (p *Partner) writeShipmentsCSV(ctx context.Context, evs []connector.Event) error {
	t := p.newTable(p.csv.Shipments, csvfile.ShipmentFields)
	ships, cancels := 0, 0
	for _, e := range evs {
		if e.Type == connector.EventCancelled {
			o, ok := p.cfg.Sim.Order(e.ExternalRef)
			if !ok {
				p.log.Warn("cancelled order unknown to the warehouse", "ref", e.ExternalRef)
				continue
			}
			sh := order.Shipment{ID: "CANCEL-" + e.ExternalRef, ExternalRef: e.ExternalRef}
			for _, l := range o.Lines {
				t.row(shipmentRow(sh, e.At, order.Package{}, order.ShipmentLine{LineNo: l.LineNo, SKU: l.SKU, Quantity: 0}))
			}
			cancels++
			continue
		}
		ships++
		sh := e.Shipment
		at := sh.ShippedAt
		if at.IsZero() {
			at = e.At
		}
		for _, pk := range sh.Packages {
			for _, l := range pk.Lines {
				t.row(shipmentRow(*sh, at, pk, l))
			}
		}
	}
	data, err := t.bytes()
	if err != nil {
		return fmt.Errorf("filesim: shipment file: %w", err)
	}
	if err := p.putShipments(ctx, csvShipmentPrefix, csvExt, data); err != nil {
		return err
	}
	p.count(func(s *Stats) { s.ShipmentFiles++; s.Shipments += ships; s.Cancellations += cancels })
	return nil
}

// shipmentRow is the row of one line of one package of sh.
func shipmentRow(sh order.Shipment, at time.Time, pk order.Package, l order.ShipmentLine) map[string]string {
	return map[string]string{
		"external_ref": sh.ExternalRef, "shipment_id": sh.ID, "shipped_at": at.UTC().Format(time.RFC3339Nano),
		"line_no": strconv.Itoa(l.LineNo), "sku": l.SKU, "quantity": strconv.Itoa(l.Quantity),
		"package_id": pk.ID, "carrier": pk.Carrier, "service": pk.Service,
		"tracking_number": pk.TrackingNumber, "tracking_url": pk.TrackingURL,
	}
}

// writeStockCSV writes a full stock snapshot, inv_*.csv.
func (p *Partner) writeStockCSV(ctx context.Context) error {
	t := p.newTable(p.csv.Stock, csvfile.StockFields)
	for _, it := range p.stockItems() {
		t.row(map[string]string{"sku": it.SKU, "on_hand": strconv.Itoa(it.OnHand), "available": strconv.Itoa(it.Available)})
	}
	data, err := t.bytes()
	if err != nil {
		return fmt.Errorf("filesim: stock file: %w", err)
	}
	if err := p.put(ctx, p.nextName(csvInventoryPrefix, csvExt), data); err != nil {
		return err
	}
	p.count(func(s *Stats) { s.StockFiles++ })
	return nil
}
