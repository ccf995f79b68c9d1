package x12

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AK5 transaction set error codes (element 718) used by [Ack997].
const (
	AK5TrailerMissing   = "2"  // Transaction Set Trailer Missing
	AK5ControlMismatch  = "3"  // control number in header and trailer do not match
	AK5CountMismatch    = "4"  // number of included segments does not match actual count
	AK5SegmentsInError  = "5"  // one or more segments in error
	AK5MissingControlNo = "7"  // missing or invalid transaction set control number
	AK5NotSupported     = "1"  // transaction set not supported
	AK5MissingID        = "6"  // missing or invalid transaction set identifier
	AK5DuplicateControl = "23" // transaction set control number not unique within the group
)

// AK9 functional group error codes (element 716) used by [Ack997].
const (
	AK9TrailerMissing  = "3" // Functional Group Trailer Missing
	AK9ControlMismatch = "4" // group control number in GS and GE do not agree
	AK9CountMismatch   = "5" // number of included transaction sets does not match actual count
)

// DefaultMandatory lists, per segment ID, the element positions (1-based)
// that must not be empty. It is a deliberately small baseline for the 4010
// warehouse sets; callers extend it through [AckOptions].
var DefaultMandatory = map[string][]int{
	"N1":  {1},
	"N3":  {1},
	"N9":  {1},
	"LX":  {1},
	"G62": {1, 2},
	"W05": {1, 2},
	"W06": {1, 2},
	"W17": {1, 2, 3, 4},
	"W01": {1, 2},
	"W12": {1},
	"W66": {1, 2},
	"W76": {1},
}

// DefaultRequired lists, per transaction set code, the segments that must
// occur at least once (the mandatory header segment and the mandatory detail
// segment of the 4010 warehouse sets). A set missing one is rejected with
// AK3 code 3 (mandatory segment missing) and AK5 code 5.
var DefaultRequired = map[string][]string{
	"940": {"W05", "W01"},
	"945": {"W06", "W12"},
	"943": {"W06", "W04"},
	"944": {"W17", "W07"},
	"947": {"W15", "W19"},
	"846": {"BIA"},
	"997": {"AK1", "AK9"},
}

// AckOptions configure [Ack997].
type AckOptions struct {
	// Mandatory maps segment IDs to the element positions that must not be
	// empty; nil means DefaultMandatory.
	Mandatory map[string][]int
	// Required maps set codes to segments that must occur; nil means
	// DefaultRequired.
	Required map[string][]string
	// Supported lists the transaction set codes (ST01) the receiver
	// processes; a set of another code is rejected with AK5 code 1. Nil
	// accepts every code.
	Supported []string
}

// Ack997 builds a 997 transaction set acknowledging the received group:
// AK1 (GS01, GS06); per set AK2 (ST01, ST02), AK3/AK4 for segments with
// missing mandatory elements, AK3 code 3 for a required segment missing
// (AckOptions.Required), and AK5 (A, or R with up to five reasons:
// 1 set not in AckOptions.Supported, 6 no ST01, 7 no ST02, 23 ST02 repeated
// in the group, 2 missing SE, 3 SE02≠ST02, 4 SE01 count mismatch, 5 segments
// in error); AK9 with A/P/R, the GE01
// count, sets received and sets accepted (A, E when only group-level errors
// were noted, P, R), plus group errors (missing GE,
// GE02≠GS06, GE01 mismatch). ST02 is left empty for the [Writer] to assign.
func Ack997(received *FunctionalGroup, opts AckOptions) *TransactionSet {
	mand := opts.Mandatory
	if mand == nil {
		mand = DefaultMandatory
	}
	req := opts.Required
	if req == nil {
		req = DefaultRequired
	}
	ack := &TransactionSet{ST: NewSegment("ST", "997", "")}
	add := func(s Segment) { ack.Segments = append(ack.Segments, s) }
	add(NewSegment("AK1", received.FunctionalID(), received.ControlNumber()))
	accepted := 0
	seen := map[string]bool{}
	for _, t := range received.Sets {
		add(NewSegment("AK2", t.Code(), t.ControlNumber()))
		var codes []string
		switch {
		case t.Code() == "":
			codes = append(codes, AK5MissingID)
		case opts.Supported != nil && !slices.Contains(opts.Supported, t.Code()):
			codes = append(codes, AK5NotSupported)
		}
		if t.ControlNumber() == "" {
			codes = append(codes, AK5MissingControlNo)
		} else if c := normControl(t.ControlNumber()); seen[c] {
			codes = append(codes, AK5DuplicateControl)
		} else {
			seen[c] = true
		}
		if t.SE.ID == "" {
			codes = append(codes, AK5TrailerMissing)
		} else {
			if !sameControl(t.SE.Value(2), t.ST.Value(2)) {
				codes = append(codes, AK5ControlMismatch)
			}
			if !sameCount(t.SE.Value(1), len(t.Segments)+2) {
				codes = append(codes, AK5CountMismatch)
			}
		}
		segErr := false
		for i, s := range t.Segments {
			var missing []int
			for _, n := range mand[s.ID] {
				if n > len(s.Elements) || s.Elements[n-1].IsEmpty() {
					missing = append(missing, n)
				}
			}
			if len(missing) == 0 {
				continue
			}
			segErr = true
			// AK302 counts from ST = 1; AK304 8 = segment has data element errors.
			add(NewSegment("AK3", s.ID, strconv.Itoa(i+2), "", "8"))
			for _, n := range missing {
				// AK403 1 = mandatory data element missing.
				add(NewSegment("AK4", strconv.Itoa(n), "", "1"))
			}
		}
		for _, id := range req[t.Code()] {
			if !slices.ContainsFunc(t.Segments, func(s Segment) bool { return s.ID == id }) {
				segErr = true
				// AK302: where the set ends (the SE's position, ST = 1);
				// AK304 3 = mandatory segment missing.
				add(NewSegment("AK3", id, strconv.Itoa(len(t.Segments)+2), "", "3"))
			}
		}
		if segErr {
			codes = append(codes, AK5SegmentsInError)
		}
		if len(codes) == 0 {
			accepted++
			add(NewSegment("AK5", "A"))
		} else {
			add(NewSegment("AK5", append([]string{"R"}, codes[:min(len(codes), 5)]...)...))
		}
	}
	var gerr []string
	count := strconv.Itoa(len(received.Sets))
	if received.GE.ID == "" {
		gerr = append(gerr, AK9TrailerMissing)
	} else {
		if v := strings.TrimSpace(received.GE.Value(1)); v != "" {
			count = v
		}
		if !sameControl(received.GE.Value(2), received.GS.Value(6)) {
			gerr = append(gerr, AK9ControlMismatch)
		}
		if !sameCount(received.GE.Value(1), len(received.Sets)) {
			gerr = append(gerr, AK9CountMismatch)
		}
	}
	// AK901: A accepted, E accepted with group-level errors noted,
	// P some sets rejected, R all rejected (or no sets at all).
	status := "A"
	switch {
	case accepted == 0:
		status = "R"
	case accepted < len(received.Sets):
		status = "P"
	case len(gerr) > 0:
		status = "E"
	}
	add(NewSegment("AK9", append([]string{status, count, strconv.Itoa(len(received.Sets)), strconv.Itoa(accepted)}, gerr[:min(len(gerr), 5)]...)...))
	ack.SE = NewSegment("SE", strconv.Itoa(len(ack.Segments)+2), "")
	return ack
}

// AckInterchange builds the reply interchange for received: one FA group
// holding one 997 per received group, with sender and receiver swapped in
// ISA05-08 and GS02/03. Control numbers are left for the [Writer]; date and
// time come from now.
func AckInterchange(received *Interchange, opts AckOptions, now time.Time) *Interchange {
	isa := cloneSeg(received.ISA)
	for len(isa.Elements) < 16 {
		isa.Elements = append(isa.Elements, Simple(""))
	}
	isa.Elements[4], isa.Elements[6] = isa.Elements[6], isa.Elements[4]
	isa.Elements[5], isa.Elements[7] = isa.Elements[7], isa.Elements[5]
	isa.setValue(9, now.Format("060102"))
	isa.setValue(10, now.Format("1504"))
	isa.setValue(13, "")
	isa.setValue(14, "0")
	for n := 1; n <= 15; n++ { // trim padding: the writer re-pads
		isa.setValue(n, strings.TrimSpace(isa.Value(n)))
	}
	out := &Interchange{ISA: isa, Delimiters: received.Delimiters}
	var first *FunctionalGroup
	if len(received.Groups) > 0 {
		first = received.Groups[0]
	}
	gs := NewSegment("GS", "FA", "", "", now.Format("20060102"), now.Format("1504"), "", "X", "004010")
	if first != nil {
		gs.setValue(2, first.GS.Value(3))
		gs.setValue(3, first.GS.Value(2))
		if v := first.GS.Value(8); v != "" {
			gs.setValue(8, v)
		}
	}
	fa := &FunctionalGroup{GS: gs}
	for _, g := range received.Groups {
		fa.Sets = append(fa.Sets, Ack997(g, opts))
	}
	out.Groups = []*FunctionalGroup{fa}
	return out
}

// SentGroup is a functional group sent to a partner and awaiting its 997.
type SentGroup struct {
	Partner      string    `json:"partner,omitempty"`
	FunctionalID string    `json:"functional_id"` // GS01
	Control      string    `json:"control"`       // GS06, normalised (no leading zeros)
	SentAt       time.Time `json:"sent_at"`
	AckedAt      time.Time `json:"acked_at,omitzero"`    // zero until a 997 arrives
	AckStatus    string    `json:"ack_status,omitempty"` // AK901 of that 997 (A, E, P or R)
}

// Pending997s tracks groups sent to partners until their 997 arrives.
// It is safe for concurrent use. The zero value is ready to use.
type Pending997s struct {
	mu   sync.Mutex
	sent map[pendingKey]*SentGroup
}

type pendingKey struct{ partner, control string }

func normControl(c string) string {
	c = strings.TrimSpace(c)
	if n, err := strconv.ParseUint(c, 10, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return c
}

// Sent records that group (partner, GS01, GS06) was sent at t.
func (p *Pending997s) Sent(partner, functionalID, gs06 string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent == nil {
		p.sent = map[pendingKey]*SentGroup{}
	}
	c := normControl(gs06)
	p.sent[pendingKey{partner, c}] = &SentGroup{Partner: partner, FunctionalID: functionalID, Control: c, SentAt: t}
}

// SentInterchange records every group of an interchange as written by [Writer].
func (p *Pending997s) SentInterchange(partner string, ic *Interchange, t time.Time) {
	for _, g := range ic.Groups {
		if g.FunctionalID() != "FA" { // 997s are not acknowledged
			p.Sent(partner, g.FunctionalID(), g.ControlNumber(), t)
		}
	}
}

// Records returns every group recorded (acknowledged or not), oldest first.
func (p *Pending997s) Records() []SentGroup {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]SentGroup, 0, len(p.sent))
	for _, g := range p.sent {
		out = append(out, *g)
	}
	sortSent(out)
	return out
}

// Restore adds recorded groups (from Records, e.g. after a restart); a
// group already recorded is replaced.
func (p *Pending997s) Restore(gs []SentGroup) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent == nil {
		p.sent = map[pendingKey]*SentGroup{}
	}
	for _, g := range gs {
		g.Control = normControl(g.Control)
		p.sent[pendingKey{g.Partner, g.Control}] = &g
	}
}

// Prune forgets the groups acknowledged before t and returns how many.
// Unacknowledged groups are never pruned.
func (p *Pending997s) Prune(t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, g := range p.sent {
		if !g.AckedAt.IsZero() && g.AckedAt.Before(t) {
			delete(p.sent, k)
			n++
		}
	}
	return n
}

// ErrNotAck is returned by Acknowledge for a set that is not a 997.
var ErrNotAck = errors.New("x12: not a 997 transaction set")

// Acknowledge marks the group named by the 997's AK1 as acknowledged at t and
// returns it; it returns (nil, nil) when that group was never recorded.
func (p *Pending997s) Acknowledge(partner string, ack *TransactionSet, t time.Time) (*SentGroup, error) {
	if ack.Code() != "997" {
		return nil, ErrNotAck
	}
	var ak1, ak9 Segment
	for _, s := range ack.Segments {
		switch s.ID {
		case "AK1":
			ak1 = s
		case "AK9":
			ak9 = s
		}
	}
	if ak1.ID == "" {
		return nil, errors.New("x12: 997 has no AK1")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.sent[pendingKey{partner, normControl(ak1.Value(2))}]
	if g == nil {
		return nil, nil
	}
	g.AckedAt, g.AckStatus = t, strings.TrimSpace(ak9.Value(1))
	c := *g
	return &c, nil
}

// Overdue lists the groups still unacknowledged whose SentAt is more than
// deadline before now, oldest first.
func (p *Pending997s) Overdue(now time.Time, deadline time.Duration) []SentGroup {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []SentGroup
	for _, g := range p.sent {
		if g.AckedAt.IsZero() && now.Sub(g.SentAt) > deadline {
			out = append(out, *g)
		}
	}
	sortSent(out)
	return out
}

// Rejected lists the groups whose 997 rejected them in whole or in part
// (AK901 R or P), oldest first: the partner did not take (all of) what we
// sent, which no retry of ours will fix by itself.
func (p *Pending997s) Rejected() []SentGroup {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []SentGroup
	for _, g := range p.sent {
		if g.AckStatus == "R" || g.AckStatus == "P" {
			out = append(out, *g)
		}
	}
	sortSent(out)
	return out
}

func sortSent(out []SentGroup) {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SentAt.Equal(out[j].SentAt) {
			return out[i].SentAt.Before(out[j].SentAt)
		}
		if out[i].Partner != out[j].Partner {
			return out[i].Partner < out[j].Partner
		}
		return out[i].Control < out[j].Control
	})
}
