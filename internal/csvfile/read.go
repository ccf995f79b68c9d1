package csvfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
)

// RowError is one bad row (or cell) of an input file. Line is the 1-based
// physical line where the row starts; Column is the column header (or
// "column N" without a header), empty when the row as a whole is bad.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
	// Row is the data row's index from 0: the records after the header,
	// blank lines not counted. It is -1 when the error is not about one
	// record (the file could not be read on).
	Row int `json:"row"`
	// SKU is the row's sku cell (trimmed, Excel guard unwrapped) when the
	// mapping has a sku column and the row reaches it, else "". On a row
	// with the wrong number of fields it is the cell at the sku column's
	// position, which a shifted row may have wrong.
	SKU string `json:"sku,omitempty"`
}

func (e RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ", value %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// FormatRowErrors renders row errors one per line, for a quarantine reason
// file.
func FormatRowErrors(errs []RowError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// table is an opened input file with its columns resolved.
type table struct {
	cr       *csv.Reader
	idx      map[string]int    // canonical field → column index
	name     map[string]string // canonical field → column display name
	width    int               // header width; 0 without a header
	maxIdx   int
	Encoding string // encoding used to decode the file
	Comma    rune   // delimiter used
}

func normHeader(h string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
}

// openTable decodes r, detects the delimiter and resolves the mapped
// columns against the header (or the column numbers).
func openTable(r io.Reader, p Profile, k Kind) (*table, error) {
	if err := p.Validate(k); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("csvfile: read: %w", err)
	}
	text, enc, err := decodeInput(raw, p.Encoding)
	if err != nil {
		return nil, err
	}
	delim, _ := p.delimiter()
	if delim == 0 {
		delim = detectDelimiter(text)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	t := &table{cr: cr, idx: map[string]int{}, name: map[string]string{}, Encoding: enc, Comma: delim}
	cols, fields := p.columns(k)
	if p.Header {
		header, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("csvfile: %s file is empty: no header row", k)
		}
		if err != nil {
			return nil, fmt.Errorf("csvfile: %s file header: %w", k, err)
		}
		pos := map[string]int{}
		for i, h := range header {
			n := normHeader(h)
			if _, dup := pos[n]; dup {
				pos[n] = -1 // ambiguous
				continue
			}
			pos[n] = i
		}
		t.width = len(header)
		var missing []string
		for _, f := range fields {
			h, ok := cols[f]
			if !ok {
				continue
			}
			i, found := pos[normHeader(h)]
			switch {
			case !found:
				missing = append(missing, fmt.Sprintf("%q (field %s)", h, f))
				continue
			case i < 0:
				return nil, fmt.Errorf("csvfile: %s file header has column %q more than once", k, h)
			}
			t.idx[f] = i
			t.name[f] = strings.TrimSpace(header[i])
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("csvfile: %s file header (delimiter %q) lacks mapped column(s) %s; header is %q",
				k, string(delim), strings.Join(missing, ", "), header)
		}
	} else {
		for _, f := range fields {
			h, ok := cols[f]
			if !ok {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimSpace(h))
			t.idx[f] = n - 1
			t.name[f] = "column " + strconv.Itoa(n)
		}
	}
	for _, i := range t.idx {
		t.maxIdx = max(t.maxIdx, i)
	}
	return t, nil
}

// detectDelimiter picks ';', ',' or tab by counting them outside quotes on
// the first line; ties go to ','.
func detectDelimiter(text string) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, r := range text {
		if r == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if r == '\n' || r == '\r' {
			break
		}
		counts[r]++
	}
	best, n := ',', counts[',']
	for _, c := range []rune{';', '\t'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}

func (t *table) mapped(f string) bool { _, ok := t.idx[f]; return ok }

// rowCtx is one data row being converted.
type rowCtx struct {
	t      *table
	line   int
	index  int // data row index from 0 (see RowError.Row)
	rec    []string
	errs   *[]RowError
	failed bool
}

// str is the raw value of field f, "" when unmapped.
func (c *rowCtx) str(f string) string {
	i, ok := c.t.idx[f]
	if !ok {
		return ""
	}
	return c.rec[i]
}

// id is the value of an identifier field (SKU, reference, tracking
// number): surrounding spaces removed and an Excel text guard ="00123"
// unwrapped. It is never parsed as a number.
func (c *rowCtx) id(f string) string {
	return idValue(c.str(f))
}

// idValue is v as an identifier; see rowCtx.id.
func idValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 3 && strings.HasPrefix(v, `="`) && strings.HasSuffix(v, `"`) {
		v = v[2 : len(v)-1]
	}
	return v
}

// skuOf is the sku cell of rec ("" when unmapped or beyond the record).
func (t *table) skuOf(rec []string) string {
	if i, ok := t.idx["sku"]; ok && i >= 0 && i < len(rec) {
		return idValue(rec[i])
	}
	return ""
}

func (c *rowCtx) fail(f, reason string) {
	c.failed = true
	*c.errs = append(*c.errs, RowError{Line: c.line, Column: c.t.name[f], Value: c.str(f), Reason: reason, Row: c.index, SKU: c.t.skuOf(c.rec)})
}

// malformedCSV starts the reason of a row the CSV syntax rejects.
const malformedCSV = "malformed CSV: "

// rows yields the data rows, appending structural problems (CSV syntax,
// wrong field count) to errs and skipping those rows.
func (t *table) rows(errs *[]RowError) iter.Seq[*rowCtx] {
	return func(yield func(*rowCtx) bool) {
		index := 0
		for ; ; index++ {
			rec, err := t.cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					*errs = append(*errs, RowError{Line: pe.StartLine, Reason: malformedCSV + pe.Err.Error(), Row: index})
					continue
				}
				*errs = append(*errs, RowError{Reason: err.Error(), Row: -1})
				return
			}
			line, _ := t.cr.FieldPos(0)
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && t.width != 1 {
				index--
				continue // blank-looking line (spaces only)
			}
			if t.width > 0 && len(rec) != t.width {
				*errs = append(*errs, RowError{Line: line, Reason: fmt.Sprintf("row has %d fields, header has %d (unquoted delimiter?)", len(rec), t.width), Row: index, SKU: t.skuOf(rec)})
				continue
			}
			if len(rec) <= t.maxIdx {
				*errs = append(*errs, RowError{Line: line, Reason: fmt.Sprintf("row has %d fields, mapping needs %d", len(rec), t.maxIdx+1), Row: index, SKU: t.skuOf(rec)})
				continue
			}
			if !yield(&rowCtx{t: t, line: line, index: index, rec: rec, errs: errs}) {
				return
			}
		}
	}
}

// parseInt parses a whole number ≥ min; the second result is the reason it
// is not one.
func parseInt(name, v string, min int) (int, string) {
	s := strings.TrimSpace(v)
	if s == "" {
		return 0, name + " is empty"
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, name + " is out of range"
		}
		return 0, fmt.Sprintf("%s %q is not a whole number", name, s)
	}
	if n < min {
		if min == 1 {
			return 0, fmt.Sprintf("%s must be positive, got %d", name, n)
		}
		return 0, fmt.Sprintf("%s must be at least %d, got %d", name, min, n)
	}
	return n, ""
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
	"02/01/2006",
}

// parseTime parses a timestamp in the profile layout or a common one; no
// zone means UTC. Empty is the zero time.
func parseTime(v string, p *Profile) (time.Time, string) {
	s := strings.TrimSpace(v)
	if s == "" {
		return time.Time{}, ""
	}
	layouts := timeLayouts
	if p.TimeLayout != "" {
		layouts = append([]string{p.TimeLayout}, timeLayouts...)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, ""
		}
	}
	return time.Time{}, fmt.Sprintf("timestamp %q is not in a known format (RFC 3339, YYYY-MM-DD[ HH:MM[:SS]], DD/MM/YYYY[ HH:MM[:SS]])", s)
}
