package ediwms

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/x12"
)

var _ connector.StockMovements = (*Conn)(nil)

func isMovementFile(name string) bool {
	return isKind(name, receiptPrefix) || isKind(name, adjustPrefix)
}

// DecreaseReasons are the 947 W19-01 adjustment reason codes whose unsigned
// quantity is a loss of sellable stock (06 decrease, 07 destroyed, AU/AV
// damaged in the facility / in transit, AW recall). Any other code takes
// the quantity's own sign (56 increase, AA physical count +/-). A quantity
// written with a minus sign is always a loss.
var DecreaseReasons = []string{"06", "07", "AU", "AV", "AW"}

// Read944 maps one 944 (stock transfer receipt advice) set to movements:
// one per W07 detail, Delta = W07-01 converted to units, SKU from the
// qualified id SK, else VN, else the first W07-04/05 or 06/07 id, else the
// W07-03 UPC. W17-02 (CCYYMMDD) dates them; W17-03 (warehouse receipt
// number) and W17-04 (our reference) go into the Reason, with W13
// exceptions (over, short, damaged) as warnings. IDs are
// idPrefix + "-<n>" with n the detail's ordinal (stable for the same file).
// A detail without an item id or a numeric quantity is an error (the file
// must not be half applied); so is a set without any W07.
func Read944(t *x12.TransactionSet, p Profile, idPrefix string) ([]connector.StockMovement, []string, error) {
	p, _ = p.withDefaults()
	var out []connector.StockMovement
	var warns, bad []string
	var at time.Time
	reason := "receipt"
	n := 0
	for _, s := range t.Segments {
		v := func(i int) string { return strings.TrimSpace(s.Value(i)) }
		switch s.ID {
		case "W17":
			at = parseDate(v(2), &warns, "W17-02")
			if rn := v(3); rn != "" {
				reason += " " + rn
			}
			if ref := v(4); ref != "" {
				reason += " for " + ref
			}
		case "W07":
			n++
			sku := qualifiedID(s, 4, v(3))
			q, ok := atoi(v(1))
			switch {
			case sku == "":
				bad = append(bad, fmt.Sprintf("W07 at %s has no item id", s.Pos))
				continue
			case !ok:
				bad = append(bad, fmt.Sprintf("W07 at %s: received quantity %q is not a number", s.Pos, v(1)))
				continue
			}
			u, w := p.units(q, v(2))
			if w != "" {
				warns = append(warns, sku+": "+w)
			}
			out = append(out, connector.StockMovement{ID: fmt.Sprintf("%s-%d", idPrefix, n), SKU: sku, Delta: u, Reason: reason, At: at})
		case "W13":
			warns = append(warns, fmt.Sprintf("receipt exception W13 at %s: %s", s.Pos, strings.Join(values(s), " ")))
		}
	}
	if n == 0 {
		bad = append(bad, "no W07 detail")
	}
	if len(bad) > 0 {
		return nil, warns, errors.New(strings.Join(bad, "; "))
	}
	for i := range out {
		out[i].At, out[i].Reason = at, reason
	}
	return out, warns, nil
}

// Read947 maps one 947 (warehouse inventory adjustment advice) set to
// movements: one per W19, Delta = W19-02 converted to units with its sign
// (negative for a DecreaseReasons code), SKU from the qualified ids
// W19-05/06 or 07/08 (SK, else VN, else the first), else the W19-04 UPC.
// W15-01 (CCYYMMDD) dates them, W15-02 (adjustment number) and the reason
// code go into the Reason. IDs and errors as for Read944.
func Read947(t *x12.TransactionSet, p Profile, idPrefix string) ([]connector.StockMovement, []string, error) {
	p, _ = p.withDefaults()
	var out []connector.StockMovement
	var warns, bad []string
	var at time.Time
	adj := ""
	n := 0
	for _, s := range t.Segments {
		v := func(i int) string { return strings.TrimSpace(s.Value(i)) }
		switch s.ID {
		case "W15":
			at = parseDate(v(1), &warns, "W15-01")
			adj = v(2)
		case "W19":
			n++
			code := v(1)
			sku := qualifiedID(s, 5, v(4))
			raw := v(2)
			q, ok := atoi(raw)
			switch {
			case sku == "":
				bad = append(bad, fmt.Sprintf("W19 at %s has no item id", s.Pos))
				continue
			case !ok:
				bad = append(bad, fmt.Sprintf("W19 at %s: quantity %q is not a number", s.Pos, raw))
				continue
			}
			u, w := p.units(q, v(3))
			if w != "" {
				warns = append(warns, sku+": "+w)
			}
			if u > 0 && slices.Contains(DecreaseReasons, code) {
				u = -u
			}
			r := "adjustment " + cmp.Or(code, "(no reason code)")
			if adj != "" {
				r += " (" + adj + ")"
			}
			out = append(out, connector.StockMovement{ID: fmt.Sprintf("%s-%d", idPrefix, n), SKU: sku, Delta: u, Reason: r})
		}
	}
	if n == 0 {
		bad = append(bad, "no W19 detail")
	}
	if len(bad) > 0 {
		return nil, warns, errors.New(strings.Join(bad, "; "))
	}
	for i := range out {
		out[i].At = at
	}
	return out, warns, nil
}

// qualifiedID picks the item id of a detail segment whose qualifier/id
// pairs start at element first (first, first+1, first+2, first+3): SK,
// else VN, else the first non-empty id; else fallback (the UPC).
func qualifiedID(s x12.Segment, first int, fallback string) string {
	ids := map[string]string{}
	firstID := ""
	for i := first; i <= first+2; i += 2 {
		q, id := strings.TrimSpace(s.Value(i)), strings.TrimSpace(s.Value(i+1))
		if id == "" {
			continue
		}
		if _, dup := ids[q]; !dup {
			ids[q] = id
		}
		firstID = cmp.Or(firstID, id)
	}
	return cmp.Or(ids["SK"], ids["VN"], firstID, fallback)
}

func parseDate(v string, warns *[]string, what string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse("20060102", v)
	if err != nil {
		*warns = append(*warns, fmt.Sprintf("%s date %q is not CCYYMMDD", what, v))
		return time.Time{}
	}
	return t.UTC()
}

func values(s x12.Segment) []string {
	out := make([]string, 0, len(s.Elements))
	for i := range s.Elements {
		out = append(out, s.Value(i+1))
	}
	return out
}

// Movements implements connector.StockMovements from the partner's 944
// (receipts) and 947 (inventory adjustments) files, with the same file
// feed rules as Events (its own cursor: the name of the last 944/947 file
// returned; archive after the cursor passed it; a file that does not parse
// or has no 944/947 set goes to error/ with a reason). Each file's groups
// are acknowledged with a 997. A movement's ID is
// "<944|947>:<ISA09><ISA10>:<ISA13>:<GS06>:<ST02>-<n>" (n: the detail's
// ordinal), stable across re-reads and equal for a file the partner resends
// unchanged, so the hub's dedupe on ID absorbs it; a movement without a
// date in the file takes the file's modification time. Parser and mapping
// warnings are appended to the movement's Reason after " — x12 warnings: ".
func (c *Conn) Movements(ctx context.Context, cursor string, limit int) ([]connector.StockMovement, string, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return nil, cursor, err
	}
	inbox, stable, err := c.mfeed.ListIn(ctx, isMovementFile)
	if err != nil {
		return nil, cursor, err
	}
	byID := map[string]connector.StockMovement{}
	evs, next, err := c.mfeed.Events(ctx, cursor, limit, inbox, stable, func(fi filedrop.FileInfo, data []byte) filefeed.Decoded {
		ics, mvs, reason := c.movementsOf(fi, data)
		d := filefeed.Decoded{Reason: reason, Take: func(ctx context.Context) error { return c.ack(ctx, fi, ics) }}
		for _, m := range mvs {
			byID[m.ID] = m
			// The feed counts and pages events; each carries one movement.
			d.Events = append(d.Events, connector.Event{ID: m.ID})
		}
		return d
	})
	if err != nil {
		return nil, cursor, err
	}
	out := make([]connector.StockMovement, 0, len(evs))
	for _, e := range evs {
		out = append(out, byID[e.ID])
	}
	return out, next, nil
}

// movementsOf parses a 944/947 file; a non-empty reason rejects it (ics is
// then set when the file parsed, so its groups are still acknowledged).
func (c *Conn) movementsOf(fi filedrop.FileInfo, data []byte) ([]*x12.Interchange, []connector.StockMovement, string) {
	ics, warns, err := x12.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, "does not parse as X12: " + err.Error() + "\n"
	}
	var out []connector.StockMovement
	var fileWarns, bad []string
	sets := 0
	for _, w := range warns {
		fileWarns = append(fileWarns, w.String())
	}
	for _, ic := range ics {
		for _, g := range ic.Groups {
			for _, t := range g.Sets {
				prefix := fmt.Sprintf("%s:%s%s:%s:%s:%s", t.Code(), strings.TrimSpace(ic.ISA.Value(9)), strings.TrimSpace(ic.ISA.Value(10)),
					ic.ControlNumber(), g.ControlNumber(), t.ControlNumber())
				var mvs []connector.StockMovement
				var ws []string
				var err error
				switch t.Code() {
				case "944":
					mvs, ws, err = Read944(t, c.profile, prefix)
				case "947":
					mvs, ws, err = Read947(t, c.profile, prefix)
				default:
					fileWarns = append(fileWarns, fmt.Sprintf("set %s %s ignored (not a 944 or 947)", t.Code(), t.ControlNumber()))
					continue
				}
				sets++
				if err != nil {
					bad = append(bad, fmt.Sprintf("%s %s: %v", t.Code(), t.ControlNumber(), err))
					continue
				}
				for _, m := range mvs {
					if m.At.IsZero() {
						m.At = fi.ModTime.UTC()
					}
					if all := append(slices.Clone(ws), fileWarns...); len(all) > 0 {
						m.Reason += " — x12 warnings: " + strings.Join(all, "; ")
					}
					out = append(out, m)
				}
			}
		}
	}
	if sets == 0 {
		return ics, nil, "no 944 or 947 transaction set in the file\n"
	}
	if len(bad) > 0 {
		return ics, nil, strings.Join(bad, "\n") + "\n"
	}
	return ics, out, ""
}
