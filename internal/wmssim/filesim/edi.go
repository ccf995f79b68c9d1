package filesim

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/x12"
)

const (
	ediExt    = ".edi"
	ediPeer   = "hub" // control-number key
	purposeN  = "N"
	purposeR  = "R"
	purposeF  = "F"
	uomEach   = "EA"
	statusCC  = "CC" // W12-01: shipped complete
	fidShip   = "SW" // GS01 of a 945
	fidStock  = "IB" // GS01 of an 846
	ackPrefix = "997"
)

// handleEDI reads one file of the hub: 940s (new, change, cancel) or the
// hub's 997s. Every functional group of a file that parses is acknowledged
// with a 997, accepted or not. A non-empty reason rejects the file.
func (p *Partner) handleEDI(ctx context.Context, name string, data []byte) (string, error) {
	ics, _, err := x12.Parse(bytes.NewReader(data))
	if err != nil {
		return "does not parse as X12: " + err.Error(), nil
	}
	if strings.HasPrefix(name, ackPrefix) {
		n := 0
		for _, ic := range ics {
			for _, g := range ic.Groups {
				for _, t := range g.Sets {
					if t.Code() == "997" {
						n++
					}
				}
			}
		}
		p.count(func(s *Stats) { s.AcksReceived += n })
		if n == 0 {
			return "997 file holds no 997 set", nil
		}
		return "", nil
	}
	var reasons []string
	for _, ic := range ics {
		for _, g := range ic.Groups {
			if g.FunctionalID() == "FA" {
				continue
			}
			for _, t := range g.Sets {
				if t.Code() != "940" {
					reasons = append(reasons, fmt.Sprintf("set %s %s: not a 940", t.Code(), t.ControlNumber()))
					continue
				}
				o, _, err := ediwms.Read940(t)
				if err != nil {
					reasons = append(reasons, fmt.Sprintf("940 %s: %v", t.ControlNumber(), err))
					continue
				}
				var reason string
				switch o.Purpose {
				case purposeN, purposeR:
					o.Order.Lines = withLineNumbers(o.Order.Lines)
					reason, err = p.createOrder(ctx, o.Order)
				case purposeF:
					reason, err = p.cancelOrder(ctx, o.Order.ExternalRef)
				default:
					reason = fmt.Sprintf("940 %s: W05-01 purpose %q is not N, R or F", t.ControlNumber(), o.Purpose)
				}
				if err != nil {
					return "", err
				}
				if reason != "" {
					reasons = append(reasons, reason)
				}
			}
		}
	}
	if err := p.ack(ctx, name, ics); err != nil {
		return "", err
	}
	if len(ics) == 0 {
		reasons = append(reasons, "no interchange in the file")
	}
	return strings.Join(reasons, "\n"), nil
}

// withLineNumbers numbers lines that came without an LX by position.
func withLineNumbers(ls []order.Line) []order.Line {
	for i := range ls {
		if ls[i].LineNo <= 0 {
			ls[i].LineNo = i + 1
		}
	}
	return ls
}

// ack writes 997_<stem>.edi acknowledging every non-FA group of ics.
func (p *Partner) ack(ctx context.Context, name string, ics []*x12.Interchange) error {
	var buf bytes.Buffer
	sets := 0
	for _, ic := range ics {
		recv := *ic
		recv.Groups = nil
		for _, g := range ic.Groups {
			if g.FunctionalID() != "FA" {
				recv.Groups = append(recv.Groups, g)
			}
		}
		if len(recv.Groups) == 0 {
			continue
		}
		reply := x12.AckInterchange(&recv, x12.AckOptions{Supported: []string{"940"}}, p.cfg.Now().UTC())
		data, _, err := x12.Encode(ctx, reply, x12.WriterOptions{Newline: "\n", Numbers: &p.numbers, Partner: ediPeer})
		if err != nil {
			return fmt.Errorf("filesim: 997 for %s: %w", name, err)
		}
		buf.Write(data)
		sets += len(recv.Groups)
	}
	if buf.Len() == 0 {
		return nil
	}
	stem := strings.TrimSuffix(name, path.Ext(name))
	if err := p.put(ctx, ackPrefix+"_"+stem+ediExt, buf.Bytes()); err != nil {
		return err
	}
	p.count(func(s *Stats) { s.AcksSent += sets })
	return nil
}

// envelope wraps sets in an interchange from the partner to the hub.
func (p *Partner) envelope(fid string, sets []*x12.TransactionSet) *x12.Interchange {
	e, now := p.cfg.EDI, p.cfg.Now().UTC()
	isa := x12.NewSegment("ISA", "00", "", "00", "", e.Qualifier, e.ID, e.HubQualifier, e.HubID,
		now.Format("060102"), now.Format("1504"), "U", "00401", "", "0", "P", ">")
	gs := x12.NewSegment("GS", fid, e.ID, e.HubID, now.Format("20060102"), now.Format("1504"), "", "X", "004010")
	return &x12.Interchange{ISA: isa, Groups: []*x12.FunctionalGroup{{GS: gs, Sets: sets}}}
}

func (p *Partner) encode(ctx context.Context, ic *x12.Interchange) ([]byte, error) {
	data, _, err := x12.Encode(ctx, ic, x12.WriterOptions{Newline: "\n", Numbers: &p.numbers, Partner: ediPeer})
	if err != nil {
		return nil, fmt.Errorf("filesim: encode: %w", err)
	}
	return data, nil
}

// write945 writes one 945 file with a set per shipment (or cancellation)
// of evs.
func (p *Partner) write945(ctx context.Context, evs []connector.Event) error {
	var sets []*x12.TransactionSet
	ships, cancels := 0, 0
	for _, e := range evs {
		if e.Type == connector.EventShipped {
			sets = append(sets, p.build945(e))
			ships++
			continue
		}
		o, ok := p.cfg.Sim.Order(e.ExternalRef)
		if !ok {
			p.log.Warn("cancelled order unknown to the warehouse", "ref", e.ExternalRef)
			continue
		}
		sets = append(sets, p.build945Cancel(e, o.Lines))
		cancels++
	}
	if len(sets) == 0 {
		return nil
	}
	data, err := p.encode(ctx, p.envelope(fidShip, sets))
	if err != nil {
		return err
	}
	if err := p.putShipments(ctx, "945", ediExt, data); err != nil {
		return err
	}
	p.count(func(s *Stats) { s.ShipmentFiles++; s.Shipments += ships; s.Cancellations += cancels })
	return nil
}

// build945 maps a shipment to a 945: W06 (reference, ship date, shipment
// id), W27 (carrier, service), then per package and line LX (line
// number), MAN (GM package id, CP tracking number) and W12 (ordered and
// shipped units, SKU in W12-07), and W03 (total units).
func (p *Partner) build945(e connector.Event) *x12.TransactionSet {
	sh := e.Shipment
	at := sh.ShippedAt
	if at.IsZero() {
		at = e.At
	}
	ordered := map[int]int{}
	if o, ok := p.cfg.Sim.Order(sh.ExternalRef); ok {
		for _, l := range o.Lines {
			ordered[l.LineNo] = l.Quantity
		}
	}
	t := &x12.TransactionSet{ST: x12.NewSegment("ST", "945", "")}
	add := func(id string, vs ...string) { t.Segments = append(t.Segments, x12.NewSegment(id, vs...)) }
	add("W06", purposeN, sh.ExternalRef, at.UTC().Format("20060102"), sh.ID)
	if len(sh.Packages) > 0 && sh.Packages[0].Carrier != "" {
		add("W27", "M", clean(sh.Packages[0].Carrier), clean(sh.Packages[0].Service))
	}
	total := 0
	for _, pk := range sh.Packages {
		for _, l := range pk.Lines {
			add("LX", strconv.Itoa(l.LineNo))
			add("MAN", "GM", pk.ID, "", "CP", pk.TrackingNumber)
			add("W12", statusCC, strconv.Itoa(max(ordered[l.LineNo], l.Quantity)), strconv.Itoa(l.Quantity), "0", uomEach, "", l.SKU)
			total += l.Quantity
		}
	}
	add("W03", strconv.Itoa(total))
	return t
}

// build945Cancel is the 945 of an order closed without shipping: every
// W12 ships 0, which ediwms reads as the warehouse's cancellation.
func (p *Partner) build945Cancel(e connector.Event, lines []order.Line) *x12.TransactionSet {
	t := &x12.TransactionSet{ST: x12.NewSegment("ST", "945", "")}
	add := func(id string, vs ...string) { t.Segments = append(t.Segments, x12.NewSegment(id, vs...)) }
	add("W06", purposeN, e.ExternalRef, e.At.UTC().Format("20060102"), "CANCELLED")
	for _, l := range lines {
		add("LX", strconv.Itoa(l.LineNo))
		add("W12", "CP", strconv.Itoa(l.Quantity), "0", strconv.Itoa(l.Quantity), uomEach, "", l.SKU)
	}
	add("W03", "0")
	return t
}

// write846 writes a full stock snapshot, 846_*.edi.
func (p *Partner) write846(ctx context.Context) error {
	now := p.cfg.Now().UTC()
	t := &x12.TransactionSet{ST: x12.NewSegment("ST", "846", "")}
	add := func(id string, vs ...string) { t.Segments = append(t.Segments, x12.NewSegment(id, vs...)) }
	add("BIA", "00", "SI", fmt.Sprintf("INV%d", p.seq+1), now.Format("20060102"), now.Format("150405"))
	items := p.stockItems()
	for _, it := range items {
		add("LIN", "", "SK", it.SKU)
		add("QTY", "17", strconv.Itoa(it.OnHand), uomEach)
		add("QTY", "33", strconv.Itoa(it.Available), uomEach)
	}
	add("CTT", strconv.Itoa(len(items)))
	data, err := p.encode(ctx, p.envelope(fidStock, []*x12.TransactionSet{t}))
	if err != nil {
		return err
	}
	if err := p.put(ctx, p.nextName("846", ediExt), data); err != nil {
		return err
	}
	p.count(func(s *Stats) { s.StockFiles++ })
	return nil
}

// clean keeps free text (carrier names) free of X12 delimiters.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '*', '~', '>', '^', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}
