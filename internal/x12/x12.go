// Package x12 reads and writes ANSI X12 EDI interchanges (ISA/IEA, GS/GE,
// ST/SE envelopes) for the warehouse connectors.
//
// The rule is "lenient read, strict write": [Parse] takes delimiters from
// each ISA, tolerates line breaks and stray whitespace, and reports count and
// control-number mismatches as [Warning]s with their position; only input that
// cannot be given an envelope structure is an error ([*SyntaxError]).
// [Writer] always emits a padded 106-character ISA, exact counts and paired
// control numbers, and refuses values that contain a delimiter.
//
// [Ack997] and [AckInterchange] build the 997 for every group received
// (rejected ones included, with AK3/AK4/AK5/AK9 codes); [Pending997s] tracks
// every group sent until its 997 arrives and lists the overdue and rejected
// ones; [FileState] keeps a partner's control numbers and pending groups in
// a file written atomically, for processes without a database.
package x12

import (
	"fmt"
	"strconv"
	"strings"
)

// Delimiters are the separator characters of one interchange.
// A zero Component or Repetition means "none": the reader then does not split
// elements on it, and the writer falls back to [DefaultDelimiters].
type Delimiters struct {
	Element    byte // ISA position 3, usually '*'
	Component  byte // ISA16, usually '>' or ':'
	Repetition byte // ISA11 when it is not 'U' (5010+), usually '^'
	Segment    byte // the character after ISA16, usually '~'; '\n' means line-terminated
}

// DefaultDelimiters are the delimiters the writer uses when none are configured.
var DefaultDelimiters = Delimiters{Element: '*', Component: '>', Repetition: '^', Segment: '~'}

// Element is one data element: one or more repetitions, each holding one or
// more components. A simple element is Element{{"value"}}.
type Element [][]string

// Simple returns an element holding the single value v.
func Simple(v string) Element { return Element{{v}} }

// Composite returns an element with one repetition made of the given components.
func Composite(components ...string) Element { return Element{components} }

// Value returns the first component of the first repetition ("" if empty).
func (e Element) Value() string {
	if len(e) == 0 || len(e[0]) == 0 {
		return ""
	}
	return e[0][0]
}

// Components returns the components of the first repetition.
func (e Element) Components() []string {
	if len(e) == 0 {
		return nil
	}
	return e[0]
}

// IsEmpty reports whether every component of every repetition is empty.
func (e Element) IsEmpty() bool {
	for _, r := range e {
		for _, c := range r {
			if c != "" {
				return false
			}
		}
	}
	return true
}

// Position locates a segment in the parsed input.
type Position struct {
	Index  int // 0-based ordinal of the segment in the input (the first ISA is 0)
	Offset int // byte offset of the segment's first character
	Line   int // 1-based line of the segment's first character
}

// String formats the position as "segment N (line L, byte B)".
func (p Position) String() string {
	return fmt.Sprintf("segment %d (line %d, byte %d)", p.Index, p.Line, p.Offset)
}

// Segment is one segment: its identifier and its elements (Elements[0] is
// element 01). Pos is set by the reader and ignored by the writer.
type Segment struct {
	ID       string
	Elements []Element
	Pos      Position
}

// NewSegment builds a segment of simple elements.
func NewSegment(id string, values ...string) Segment {
	s := Segment{ID: id, Elements: make([]Element, len(values))}
	for i, v := range values {
		s.Elements[i] = Simple(v)
	}
	return s
}

// Value returns the value of element n, counted from 1 as in X12 (SE01 is
// Value(1)); it returns "" when the element is absent.
func (s Segment) Value(n int) string {
	if n < 1 || n > len(s.Elements) {
		return ""
	}
	return s.Elements[n-1].Value()
}

// setValue sets element n (1-based) to a simple value, growing the segment.
func (s *Segment) setValue(n int, v string) {
	for len(s.Elements) < n {
		s.Elements = append(s.Elements, Simple(""))
	}
	s.Elements[n-1] = Simple(v)
}

// Interchange is one ISA ... IEA envelope.
type Interchange struct {
	ISA        Segment // elements ISA01..ISA16 as simple values, padding kept
	Groups     []*FunctionalGroup
	IEA        Segment // zero ID if the trailer was missing
	Delimiters Delimiters
}

// ControlNumber returns ISA13 without padding.
func (ic *Interchange) ControlNumber() string { return strings.TrimSpace(ic.ISA.Value(13)) }

// FunctionalGroup is one GS ... GE envelope.
type FunctionalGroup struct {
	GS   Segment
	Sets []*TransactionSet
	GE   Segment // zero ID if the trailer was missing
}

// FunctionalID returns GS01 (e.g. "OW" for 940, "FA" for 997).
func (g *FunctionalGroup) FunctionalID() string { return strings.TrimSpace(g.GS.Value(1)) }

// ControlNumber returns GS06.
func (g *FunctionalGroup) ControlNumber() string { return strings.TrimSpace(g.GS.Value(6)) }

// TransactionSet is one ST ... SE envelope; Segments holds the segments
// between them.
type TransactionSet struct {
	ST       Segment
	Segments []Segment
	SE       Segment // zero ID if the trailer was missing
}

// Code returns ST01 (e.g. "940").
func (t *TransactionSet) Code() string { return strings.TrimSpace(t.ST.Value(1)) }

// ControlNumber returns ST02.
func (t *TransactionSet) ControlNumber() string { return strings.TrimSpace(t.ST.Value(2)) }

// WarningKind classifies a [Warning].
type WarningKind string

// Warning kinds reported by the reader.
const (
	WarnSegmentCount    WarningKind = "SE01 segment count"
	WarnSetControl      WarningKind = "SE02 does not match ST02"
	WarnSetCount        WarningKind = "GE01 transaction set count"
	WarnGroupControl    WarningKind = "GE02 does not match GS06"
	WarnGroupCount      WarningKind = "IEA01 functional group count"
	WarnInterchangeCtrl WarningKind = "IEA02 does not match ISA13"
	WarnISAFieldWidth   WarningKind = "ISA field not padded to its fixed width"
	WarnISA16Missing    WarningKind = "ISA16 component separator missing"
	WarnLineBreak       WarningKind = "line break inside a segment"
	WarnMissingSE       WarningKind = "SE missing"
	WarnMissingGE       WarningKind = "GE missing"
	WarnMissingIEA      WarningKind = "IEA missing"
)

// Warning is a tolerated defect found by the reader.
type Warning struct {
	Kind    WarningKind
	Pos     Position // the segment the warning is about (the trailer for count/control warnings)
	Segment string   // that segment's ID
	Message string
}

// String formats the warning with its position.
func (w Warning) String() string { return w.Pos.String() + ": " + w.Message }

// SyntaxError is returned for input that cannot be given an envelope structure.
type SyntaxError struct {
	Pos Position
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string { return "x12: " + e.Pos.String() + ": " + e.Msg }

// sameControl compares control numbers: numerically when both are digits,
// so "3438" pairs with "000003438"; otherwise as trimmed strings.
func sameControl(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	if ea == nil && eb == nil {
		return na == nb
	}
	return a == b
}

// sameCount reports whether the count element v equals n.
func sameCount(v string, n int) bool {
	c, err := strconv.Atoi(strings.TrimSpace(v))
	return err == nil && c == n
}
