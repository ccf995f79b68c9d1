package x12

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// isaWidths are the fixed widths of ISA01..ISA16.
var isaWidths = [16]int{2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1}

// Parse reads every interchange in r (the whole input is read into memory).
//
// Delimiters are taken from each ISA: the element separator is the character
// after "ISA", the ISA fields are found by counting element separators (so an
// unpadded ISA is accepted, with a warning), ISA16 is the component separator,
// ISA11 the repetition separator unless it is "U" or alphanumeric, and the
// next character the segment terminator. When the terminator is not a line
// break, CR and LF are ignored wherever they occur (a break inside a segment
// gives a [WarnLineBreak] warning). Count and control-number mismatches and
// missing trailers are warnings. A missing or truncated ISA, a GE/SE/IEA
// without its header, or data outside an envelope is a [*SyntaxError].
func Parse(r io.Reader) ([]*Interchange, []Warning, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{data: data}
	var out []*Interchange
	for {
		p.skipSpace()
		if p.off >= len(data) {
			break
		}
		if !bytes.HasPrefix(data[p.off:], []byte("ISA")) {
			msg := "expected ISA"
			if len(out) > 0 {
				msg = "data outside an interchange envelope (expected ISA)"
			}
			return out, p.warns, &SyntaxError{Pos: p.pos(p.off), Msg: msg}
		}
		ic, err := p.interchange()
		if err != nil {
			return out, p.warns, err
		}
		out = append(out, ic)
	}
	if len(out) == 0 {
		return nil, p.warns, &SyntaxError{Pos: p.pos(p.off), Msg: "no ISA segment in input"}
	}
	return out, p.warns, nil
}

// ParseSets reads bare transaction sets (ST ... SE with no ISA/GS envelope,
// as found in partner guides and test fixtures) using the given delimiters.
// It applies the same leniency and warnings as [Parse].
func ParseSets(r io.Reader, d Delimiters) ([]*TransactionSet, []Warning, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{data: data, d: d}
	var sets []*TransactionSet
	var cur *TransactionSet
	for {
		seg, ok := p.next()
		if !ok {
			break
		}
		switch {
		case seg.ID == "ST":
			if cur != nil {
				p.warn(WarnMissingSE, seg, "ST %s has no SE before the next ST", cur.ControlNumber())
				sets = append(sets, cur)
			}
			cur = &TransactionSet{ST: seg}
		case cur == nil:
			return sets, p.warns, &SyntaxError{Pos: seg.Pos, Msg: fmt.Sprintf("segment %s outside a transaction set", seg.ID)}
		case seg.ID == "SE":
			cur.SE = seg
			p.checkSet(cur)
			sets = append(sets, cur)
			cur = nil
		default:
			cur.Segments = append(cur.Segments, seg)
		}
	}
	if cur != nil {
		p.warn(WarnMissingSE, cur.ST, "ST %s has no SE before end of input", cur.ControlNumber())
		sets = append(sets, cur)
	}
	return sets, p.warns, nil
}

type parser struct {
	data  []byte
	off   int
	d     Delimiters
	index int // ordinal of the next segment
	warns []Warning
	// line counting: lineAt is the line number at lineOff.
	lineOff, lineAt int
}

func (p *parser) pos(off int) Position {
	if p.lineAt == 0 || off < p.lineOff {
		p.lineOff, p.lineAt = 0, 1
	}
	p.lineAt += bytes.Count(p.data[p.lineOff:off], []byte{'\n'})
	p.lineOff = off
	return Position{Index: p.index, Offset: off, Line: p.lineAt}
}

func (p *parser) warn(k WarningKind, s Segment, format string, args ...any) {
	p.warns = append(p.warns, Warning{Kind: k, Pos: s.Pos, Segment: s.ID, Message: fmt.Sprintf(format, args...)})
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func (p *parser) skipSpace() {
	if p.off == 0 && bytes.HasPrefix(p.data, []byte("\xEF\xBB\xBF")) {
		p.off = 3
	}
	for p.off < len(p.data) && isSpace(p.data[p.off]) {
		p.off++
	}
}

// isa parses the ISA at p.off, sets p.d and returns the ISA segment.
func (p *parser) isa() (Segment, error) {
	start := p.off
	pos := p.pos(start)
	data := p.data
	if start+4 > len(data) {
		return Segment{}, &SyntaxError{Pos: pos, Msg: "truncated ISA"}
	}
	es := data[start+3]
	if isAlnum(es) || isSpace(es) {
		return Segment{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("invalid element separator %q after ISA", es)}
	}
	// Find the 16th element separator; the ISA may be unpadded but is never
	// much longer than 106 characters.
	seps, i := 0, start+3
	for ; i < len(data) && i < start+300; i++ {
		if data[i] == es {
			seps++
			if seps == 16 {
				break
			}
		}
	}
	if seps < 16 {
		return Segment{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("truncated ISA: %d of 16 element separators", seps)}
	}
	if i+1 >= len(data) {
		return Segment{}, &SyntaxError{Pos: pos, Msg: "truncated ISA: no ISA16 or segment terminator"}
	}
	fields := strings.Split(string(data[start+4:i]), string([]byte{es}))
	c1 := data[i+1]
	var comp, term byte
	var end int // index just past the terminator
	missing16 := false
	switch {
	case c1 == '\r' || c1 == '\n':
		missing16, term, end = true, '\n', i+1
	case i+2 >= len(data):
		// "ISA...*P*~" at end of input: c1 is the terminator.
		missing16, term, end = true, c1, i+2
	default:
		c2 := data[i+2]
		if (c2 == '\r' || c2 == '\n') && !isAlnum(c1) && nextLineEndsWith(data[i+2:], c1) {
			// ISA16 was lost ("*P*~" + newline): c1 is the real terminator.
			missing16, term, end = true, c1, i+2
		} else {
			comp, term, end = c1, c2, i+3
		}
	}
	if term == '\r' {
		term = '\n'
	}
	if isAlnum(term) || term == es || (comp != 0 && term == comp) {
		return Segment{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("invalid segment terminator %q", term)}
	}
	comp16 := ""
	if comp != 0 {
		comp16 = string([]byte{comp})
	}
	fields = append(fields, comp16)
	seg := Segment{ID: "ISA", Pos: pos}
	for _, f := range fields {
		seg.Elements = append(seg.Elements, Simple(f))
	}
	d := Delimiters{Element: es, Component: comp, Segment: term}
	if r := fields[10]; len(r) == 1 && r != "U" && !isAlnum(r[0]) && !isSpace(r[0]) && r[0] != es && r[0] != term && r[0] != comp {
		d.Repetition = r[0]
	}
	p.d = d
	p.off = end
	p.index++
	if missing16 {
		p.warn(WarnISA16Missing, seg, "ISA16 is missing; segment terminator is %q and components are not split", term)
	}
	for n, f := range fields[:15] {
		if len(f) != isaWidths[n] {
			p.warn(WarnISAFieldWidth, seg, "ISA%02d is %d characters, want %d", n+1, len(f), isaWidths[n])
		}
	}
	return seg, nil
}

// nextLineEndsWith reports whether the first non-blank line of b ends with c.
func nextLineEndsWith(b []byte, c byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, " \t\r")
		if len(line) > 0 {
			return line[len(line)-1] == c
		}
	}
	return false
}

// next returns the next segment using p.d, or false at end of input.
func (p *parser) next() (Segment, bool) {
	for {
		p.skipSpace()
		if p.off >= len(p.data) {
			return Segment{}, false
		}
		start := p.off
		j := bytes.IndexByte(p.data[start:], p.d.Segment)
		var raw []byte
		if j < 0 {
			raw, p.off = p.data[start:], len(p.data)
		} else {
			raw, p.off = p.data[start:start+j], start+j+1
		}
		hadBreak := false
		if p.d.Segment == '\n' {
			raw = bytes.TrimRight(raw, "\r")
		} else {
			raw = bytes.TrimRight(raw, "\r\n")
			if bytes.ContainsAny(raw, "\r\n") {
				hadBreak = true
				raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r"), nil), []byte("\n"), nil)
			}
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		seg := p.split(string(raw))
		seg.Pos = p.pos(start)
		p.index++
		if hadBreak {
			p.warn(WarnLineBreak, seg, "%s segment contains a line break (ignored)", seg.ID)
		}
		return seg, true
	}
}

func (p *parser) split(raw string) Segment {
	parts := strings.Split(raw, string(p.d.Element))
	seg := Segment{ID: strings.TrimSpace(parts[0])}
	for _, f := range parts[1:] {
		var reps []string
		if p.d.Repetition != 0 {
			reps = strings.Split(f, string(p.d.Repetition))
		} else {
			reps = []string{f}
		}
		el := make(Element, len(reps))
		for k, r := range reps {
			if p.d.Component != 0 {
				el[k] = strings.Split(r, string(p.d.Component))
			} else {
				el[k] = []string{r}
			}
		}
		seg.Elements = append(seg.Elements, el)
	}
	return seg
}

// interchange parses one ISA ... IEA.
func (p *parser) interchange() (*Interchange, error) {
	isa, err := p.isa()
	if err != nil {
		return nil, err
	}
	ic := &Interchange{ISA: isa, Delimiters: p.d}
	var g *FunctionalGroup
	var t *TransactionSet
	closeSet := func(at Segment) {
		if t != nil {
			p.warn(WarnMissingSE, at, "ST %s has no SE before %s", t.ControlNumber(), at.ID)
			g.Sets = append(g.Sets, t)
			t = nil
		}
	}
	closeGroup := func(at Segment) {
		closeSet(at)
		if g != nil {
			p.warn(WarnMissingGE, at, "GS %s has no GE before %s", g.ControlNumber(), at.ID)
			ic.Groups = append(ic.Groups, g)
			g = nil
		}
	}
	for {
		save := p.off
		saveIndex := p.index
		seg, ok := p.next()
		if !ok {
			end := Segment{ID: "EOF", Pos: p.pos(len(p.data))}
			closeGroup(end)
			p.warn(WarnMissingIEA, end, "ISA %s has no IEA before end of input", ic.ControlNumber())
			return ic, nil
		}
		switch seg.ID {
		case "ISA":
			closeGroup(seg)
			p.warn(WarnMissingIEA, seg, "ISA %s has no IEA before the next ISA", ic.ControlNumber())
			p.off, p.index = save, saveIndex // let Parse read the new ISA
			p.skipSpace()
			return ic, nil
		case "IEA":
			closeGroup(seg)
			ic.IEA = seg
			if !sameCount(seg.Value(1), len(ic.Groups)) {
				p.warn(WarnGroupCount, seg, "IEA01 is %q, interchange has %d functional groups", seg.Value(1), len(ic.Groups))
			}
			if !sameControl(seg.Value(2), ic.ISA.Value(13)) {
				p.warn(WarnInterchangeCtrl, seg, "IEA02 %q does not match ISA13 %q", seg.Value(2), ic.ISA.Value(13))
			}
			return ic, nil
		case "GS":
			closeGroup(seg)
			g = &FunctionalGroup{GS: seg}
		case "GE":
			if g == nil {
				return nil, &SyntaxError{Pos: seg.Pos, Msg: "GE without GS"}
			}
			closeSet(seg)
			g.GE = seg
			if !sameCount(seg.Value(1), len(g.Sets)) {
				p.warn(WarnSetCount, seg, "GE01 is %q, group has %d transaction sets", seg.Value(1), len(g.Sets))
			}
			if !sameControl(seg.Value(2), g.GS.Value(6)) {
				p.warn(WarnGroupControl, seg, "GE02 %q does not match GS06 %q", seg.Value(2), g.GS.Value(6))
			}
			ic.Groups = append(ic.Groups, g)
			g = nil
		case "ST":
			if g == nil {
				return nil, &SyntaxError{Pos: seg.Pos, Msg: "ST outside a functional group (no GS)"}
			}
			closeSet(seg)
			t = &TransactionSet{ST: seg}
		case "SE":
			if t == nil {
				return nil, &SyntaxError{Pos: seg.Pos, Msg: "SE without ST"}
			}
			t.SE = seg
			p.checkSet(t)
			g.Sets = append(g.Sets, t)
			t = nil
		default:
			if t == nil {
				return nil, &SyntaxError{Pos: seg.Pos, Msg: fmt.Sprintf("segment %s outside a transaction set", seg.ID)}
			}
			t.Segments = append(t.Segments, seg)
		}
	}
}

// checkSet warns about SE01/SE02 defects of a closed set.
func (p *parser) checkSet(t *TransactionSet) {
	se := t.SE
	if n := len(t.Segments) + 2; !sameCount(se.Value(1), n) {
		p.warn(WarnSegmentCount, se, "SE01 is %q, transaction set has %d segments", se.Value(1), n)
	}
	if !sameControl(se.Value(2), t.ST.Value(2)) {
		p.warn(WarnSetControl, se, "SE02 %q does not match ST02 %q", se.Value(2), t.ST.Value(2))
	}
}
