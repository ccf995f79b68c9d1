package x12

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriterOptions configure a [Writer].
type WriterOptions struct {
	// Delimiters to write with; the zero value means DefaultDelimiters.
	// Component is required. ISA11 is the Repetition separator when it is
	// set and ISA12 is 00402 or later; otherwise ISA11 is "U" and repeated
	// elements are refused.
	Delimiters Delimiters
	// Newline is written after each segment terminator: "", "\n" or "\r\n".
	Newline string
	// Numbers, when set, supplies fresh ISA13/GS06/ST02 for every envelope
	// written, keyed by Partner. When nil, the control numbers already in
	// ISA13, GS06 and ST02 are kept and copied into the trailers.
	Numbers ControlNumbers
	// Partner is the key passed to Numbers.
	Partner string
}

// Writer writes interchanges strictly: a padded 106-character ISA, exact
// SE01/GE01/IEA01 counts and trailers paired with their headers.
type Writer struct {
	w    io.Writer
	opts WriterOptions
}

// ValueError reports a value the writer refuses to write.
type ValueError struct {
	Segment string // segment ID
	Element int    // 1-based element position (0 for the segment ID)
	Value   string
	Reason  string
}

// Error implements error.
func (e *ValueError) Error() string {
	if e.Element == 0 {
		return fmt.Sprintf("x12: segment ID %q: %s", e.Segment, e.Reason)
	}
	return fmt.Sprintf("x12: %s%02d value %q: %s", e.Segment, e.Element, e.Value, e.Reason)
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	if opts.Delimiters == (Delimiters{}) {
		opts.Delimiters = DefaultDelimiters
	}
	return &Writer{w: w, opts: opts}
}

// Encode writes ic with opts into a byte slice; see [Writer.Write].
func Encode(ctx context.Context, ic *Interchange, opts WriterOptions) ([]byte, *Interchange, error) {
	var b bytes.Buffer
	out, err := NewWriter(&b, opts).Write(ctx, ic)
	if err != nil {
		return nil, nil, err
	}
	return b.Bytes(), out, nil
}

func (d Delimiters) validate() error {
	cs := []byte{d.Element, d.Component, d.Segment}
	if d.Repetition != 0 {
		cs = append(cs, d.Repetition)
	}
	for i, c := range cs {
		if c == 0 || isAlnum(c) || c == ' ' || c == '\r' || (c == '\n' && i != 2) {
			return fmt.Errorf("x12: invalid delimiter %q", c)
		}
		for _, o := range cs[i+1:] {
			if c == o {
				return fmt.Errorf("x12: delimiter %q used twice", c)
			}
		}
	}
	return nil
}

// Write writes ic and returns the envelope exactly as written (control
// numbers assigned, counts set, trailers rebuilt). ic is not modified.
// Trailer segments (SE, GE, IEA) present in ic are ignored and regenerated.
func (w *Writer) Write(ctx context.Context, ic *Interchange) (*Interchange, error) {
	d := w.opts.Delimiters
	if err := d.validate(); err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(ic.ISA.Value(12)); d.Repetition != 0 && v < "00402" {
		d.Repetition = 0 // 4010 and older: ISA11 is "U", no repetition separator
	}
	out := &Interchange{ISA: cloneSeg(ic.ISA), Delimiters: d}
	out.ISA.ID = "ISA"
	if len(out.ISA.Elements) > 16 {
		return nil, &ValueError{Segment: "ISA", Element: 17, Reason: "ISA has more than 16 elements"}
	}
	ctrl := func(kind Kind, cur string, width int) (string, error) {
		if w.opts.Numbers == nil {
			cur = strings.TrimSpace(cur)
			if cur == "" {
				return "", fmt.Errorf("x12: no %s control number and no ControlNumbers configured", kind)
			}
			return cur, nil
		}
		n, err := w.opts.Numbers.Next(ctx, w.opts.Partner, kind)
		if err != nil {
			return "", fmt.Errorf("x12: %s control number for %q: %w", kind, w.opts.Partner, err)
		}
		if n < 1 || n > MaxControlNumber {
			return "", fmt.Errorf("x12: %s control number %d out of range", kind, n)
		}
		return fmt.Sprintf("%0*d", width, n), nil
	}
	isa13, err := ctrl(KindInterchange, ic.ISA.Value(13), 9)
	if err != nil {
		return nil, err
	}
	if _, err := strconv.ParseUint(isa13, 10, 64); err != nil || len(isa13) > 9 {
		return nil, &ValueError{Segment: "ISA", Element: 13, Value: isa13, Reason: "must be up to 9 digits"}
	}
	out.ISA.setValue(13, fmt.Sprintf("%09s", isa13))
	rep := "U"
	if d.Repetition != 0 {
		rep = string([]byte{d.Repetition})
	}
	out.ISA.setValue(11, rep)
	out.ISA.setValue(16, string([]byte{d.Component}))
	for n := 1; n <= 16; n++ {
		v := out.ISA.Value(n)
		width := isaWidths[n-1]
		if len(v) > width {
			return nil, &ValueError{Segment: "ISA", Element: n, Value: v, Reason: fmt.Sprintf("longer than the fixed width %d", width)}
		}
		out.ISA.setValue(n, v+strings.Repeat(" ", width-len(v)))
	}
	for _, g := range ic.Groups {
		og := &FunctionalGroup{GS: cloneSeg(g.GS)}
		og.GS.ID = "GS"
		gs06, err := ctrl(KindGroup, g.GS.Value(6), 1)
		if err != nil {
			return nil, err
		}
		og.GS.setValue(6, gs06)
		for _, t := range g.Sets {
			ot := &TransactionSet{ST: cloneSeg(t.ST)}
			ot.ST.ID = "ST"
			st02, err := ctrl(KindSet, t.ST.Value(2), 4)
			if err != nil {
				return nil, err
			}
			ot.ST.setValue(2, st02)
			for _, s := range t.Segments {
				switch s.ID {
				case "ISA", "IEA", "GS", "GE", "ST", "SE":
					return nil, &ValueError{Segment: s.ID, Reason: "envelope segment inside a transaction set body"}
				}
				ot.Segments = append(ot.Segments, cloneSeg(s))
			}
			ot.SE = NewSegment("SE", strconv.Itoa(len(ot.Segments)+2), st02)
			og.Sets = append(og.Sets, ot)
		}
		og.GE = NewSegment("GE", strconv.Itoa(len(og.Sets)), gs06)
		out.Groups = append(out.Groups, og)
	}
	out.IEA = NewSegment("IEA", strconv.Itoa(len(out.Groups)), out.ISA.Value(13))

	var buf bytes.Buffer
	if err := w.segment(&buf, d, out.ISA, true); err != nil {
		return nil, err
	}
	for _, g := range out.Groups {
		if err := w.segment(&buf, d, g.GS, false); err != nil {
			return nil, err
		}
		for _, t := range g.Sets {
			for _, s := range append(append([]Segment{t.ST}, t.Segments...), t.SE) {
				if err := w.segment(&buf, d, s, false); err != nil {
					return nil, err
				}
			}
		}
		if err := w.segment(&buf, d, g.GE, false); err != nil {
			return nil, err
		}
	}
	if err := w.segment(&buf, d, out.IEA, false); err != nil {
		return nil, err
	}
	if _, err := w.w.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	return out, nil
}

func cloneSeg(s Segment) Segment {
	c := Segment{ID: s.ID, Elements: make([]Element, len(s.Elements))}
	for i, e := range s.Elements {
		ce := make(Element, len(e))
		for j, r := range e {
			ce[j] = append([]string(nil), r...)
		}
		c.Elements[i] = ce
	}
	return c
}

var errEmptyElement = errors.New("element has no repetitions")

// segment encodes s; for the ISA, values are written verbatim (ISA11 and
// ISA16 are the repetition and component separators themselves).
func (w *Writer) segment(buf *bytes.Buffer, d Delimiters, s Segment, isa bool) error {
	if len(s.ID) < 2 || len(s.ID) > 3 {
		return &ValueError{Segment: s.ID, Reason: "must be 2 or 3 characters"}
	}
	for i := 0; i < len(s.ID); i++ {
		if c := s.ID[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return &ValueError{Segment: s.ID, Reason: "must be upper-case letters and digits"}
		}
	}
	buf.WriteString(s.ID)
	for n, e := range s.Elements {
		buf.WriteByte(d.Element)
		if len(e) == 0 {
			return &ValueError{Segment: s.ID, Element: n + 1, Reason: errEmptyElement.Error()}
		}
		if isa {
			v := e.Value()
			if n+1 != 11 && n+1 != 16 {
				if err := checkValue(s.ID, n+1, v, d); err != nil {
					return err
				}
			}
			buf.WriteString(v)
			continue
		}
		if len(e) > 1 && d.Repetition == 0 {
			return &ValueError{Segment: s.ID, Element: n + 1, Value: e.Value(), Reason: "repeated element but no repetition separator configured"}
		}
		for k, r := range e {
			if k > 0 {
				buf.WriteByte(d.Repetition)
			}
			if len(r) == 0 {
				return &ValueError{Segment: s.ID, Element: n + 1, Reason: "repetition has no components"}
			}
			for j, c := range r {
				if j > 0 {
					buf.WriteByte(d.Component)
				}
				if err := checkValue(s.ID, n+1, c, d); err != nil {
					return err
				}
				buf.WriteString(c)
			}
		}
	}
	buf.WriteByte(d.Segment)
	buf.WriteString(w.opts.Newline)
	return nil
}

func checkValue(seg string, n int, v string, d Delimiters) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		var what string
		switch {
		case c == d.Element:
			what = "element separator"
		case c == d.Component:
			what = "component separator"
		case d.Repetition != 0 && c == d.Repetition:
			what = "repetition separator"
		case c == d.Segment:
			what = "segment terminator"
		case c == '\r' || c == '\n':
			what = "line break"
		default:
			continue
		}
		return &ValueError{Segment: seg, Element: n, Value: v, Reason: fmt.Sprintf("contains the %s %q", what, c)}
	}
	return nil
}
