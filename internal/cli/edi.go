package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crossdock/crossdock/internal/x12"
)

const ediUsage = "edi inspect [--json] FILE..."

const ediHelp = `Reads X12 EDI files the way the EDI connector does (leniently) and prints,
per file, its interchanges (ISA), functional groups (GS) and transaction sets
(ST) with their control numbers and segment counts, then every warning
(count or control-number mismatch, unpadded ISA, missing ISA16, line break
inside a segment, missing trailer) and the error that stopped the reader,
each with its position (0-based segment index, line, byte offset). A file
holding bare transaction sets (ST ... SE, no ISA) is read with '*' and '~'
(or line ends) as delimiters, with a warning.

Exit status: 0 when every file could be read (warnings allowed), 1 when a
file could not be opened or read as X12, 2 on a usage error.

--json prints one object {"files": [...]}; per file:
  file                   the path as given
  readable               true when the file was read (warnings allowed)
  error                  {"message", "segment_index", "line", "byte_offset"}, or absent
  warnings               [{"kind", "segment", "segment_index", "line", "byte_offset", "message"}]
  interchanges           [{"control_number" (ISA13), "sender_qualifier", "sender_id",
                           "receiver_qualifier", "receiver_id" (ISA05-08), "date", "time"
                           (ISA09/10), "version" (ISA12), "usage" (ISA15), "delimiters"
                           {"element", "component", "repetition", "segment"},
                           "trailer_control_number" (IEA02), "declared_group_count" (IEA01),
                           "segment_index", "line", "groups": [...]}]
  groups                 [{"functional_id" (GS01), "control_number" (GS06), "sender" (GS02),
                           "receiver" (GS03), "version" (GS08), "trailer_control_number"
                           (GE02), "declared_set_count" (GE01), "segment_index", "line",
                           "sets": [...]}]
  sets                   [{"code" (ST01), "control_number" (ST02), "segment_count" (ST to SE
                           as read), "declared_segment_count" (SE01), "trailer_control_number"
                           (SE02), "segment_index", "line"}]
A trailer that is missing has its trailer fields empty ("").`

// ediFile is the report on one file (see ediHelp for the JSON fields).
type ediFile struct {
	File         string           `json:"file"`
	Readable     bool             `json:"readable"`
	Error        *ediError        `json:"error,omitempty"`
	Warnings     []ediWarning     `json:"warnings"`
	Interchanges []ediInterchange `json:"interchanges"`
}

type ediError struct {
	Message      string `json:"message"`
	SegmentIndex *int   `json:"segment_index,omitempty"`
	Line         *int   `json:"line,omitempty"`
	ByteOffset   *int   `json:"byte_offset,omitempty"`
}

type ediWarning struct {
	Kind         string `json:"kind"`
	Segment      string `json:"segment"`
	SegmentIndex int    `json:"segment_index"`
	Line         int    `json:"line"`
	ByteOffset   int    `json:"byte_offset"`
	Message      string `json:"message"`
}

type ediDelimiters struct {
	Element    string `json:"element"`
	Component  string `json:"component"`
	Repetition string `json:"repetition"`
	Segment    string `json:"segment"`
}

type ediInterchange struct {
	ControlNumber        string        `json:"control_number"`
	SenderQualifier      string        `json:"sender_qualifier"`
	SenderID             string        `json:"sender_id"`
	ReceiverQualifier    string        `json:"receiver_qualifier"`
	ReceiverID           string        `json:"receiver_id"`
	Date                 string        `json:"date"`
	Time                 string        `json:"time"`
	Version              string        `json:"version"`
	Usage                string        `json:"usage"`
	Delimiters           ediDelimiters `json:"delimiters"`
	TrailerControlNumber string        `json:"trailer_control_number"`
	DeclaredGroupCount   string        `json:"declared_group_count"`
	SegmentIndex         int           `json:"segment_index"`
	Line                 int           `json:"line"`
	Groups               []ediGroup    `json:"groups"`
}

type ediGroup struct {
	FunctionalID         string   `json:"functional_id"`
	ControlNumber        string   `json:"control_number"`
	Sender               string   `json:"sender"`
	Receiver             string   `json:"receiver"`
	Version              string   `json:"version"`
	TrailerControlNumber string   `json:"trailer_control_number"`
	DeclaredSetCount     string   `json:"declared_set_count"`
	SegmentIndex         int      `json:"segment_index"`
	Line                 int      `json:"line"`
	Sets                 []ediSet `json:"sets"`
}

type ediSet struct {
	Code                 string `json:"code"`
	ControlNumber        string `json:"control_number"`
	SegmentCount         int    `json:"segment_count"`
	DeclaredSegmentCount string `json:"declared_segment_count"`
	TrailerControlNumber string `json:"trailer_control_number"`
	SegmentIndex         int    `json:"segment_index"`
	Line                 int    `json:"line"`
}

func runEDI(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("edi", ediUsage, stderr)
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintf(stderr, "\n%s\n", ediHelp)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		fmt.Fprintln(stderr, "edi: a subcommand is required: inspect")
		fs.Usage()
		return errUsage
	}
	if args[0] != "inspect" {
		fmt.Fprintf(stderr, "edi: unknown subcommand %q (want inspect)\n", args[0])
		fs.Usage()
		return errUsage
	}
	asJSON := fs.Bool("json", false, "print JSON (fields listed below) instead of text")
	// Flags may come before or after the files.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "edi inspect: at least one FILE is required")
		fs.Usage()
		return errUsage
	}
	reports := make([]ediFile, 0, len(files))
	failed := false
	for _, f := range files {
		r := inspectFile(f)
		failed = failed || !r.Readable
		reports = append(reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Files []ediFile `json:"files"`
		}{reports}); err != nil {
			return err
		}
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printEDI(stdout, r)
		}
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// inspectFile reads one file into its report.
func inspectFile(name string) ediFile {
	r := ediFile{File: name, Warnings: []ediWarning{}, Interchanges: []ediInterchange{}}
	data, err := os.ReadFile(name)
	if err != nil {
		r.Error = &ediError{Message: err.Error()}
		return r
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	var ics []*x12.Interchange
	var warns []x12.Warning
	if bytes.HasPrefix(trimmed, []byte("ST")) && len(trimmed) > 2 {
		d := x12.Delimiters{Element: trimmed[2], Segment: '~'}
		if !bytes.ContainsRune(trimmed, '~') {
			d.Segment = '\n'
		}
		var sets []*x12.TransactionSet
		sets, warns, err = x12.ParseSets(bytes.NewReader(data), d)
		r.Warnings = append(r.Warnings, ediWarning{Kind: "no envelope", Segment: "ST", Line: 1,
			Message: fmt.Sprintf("no ISA/GS envelope: read as bare transaction sets with element separator %q and segment terminator %q", d.Element, d.Segment)})
		if len(sets) > 0 {
			ics = []*x12.Interchange{{Delimiters: d, Groups: []*x12.FunctionalGroup{{Sets: sets, GE: x12.Segment{}}}}}
		}
	} else {
		ics, warns, err = x12.Parse(bytes.NewReader(data))
	}
	for _, w := range warns {
		r.Warnings = append(r.Warnings, ediWarning{Kind: string(w.Kind), Segment: w.Segment, SegmentIndex: w.Pos.Index,
			Line: w.Pos.Line, ByteOffset: w.Pos.Offset, Message: w.Message})
	}
	for _, ic := range ics {
		r.Interchanges = append(r.Interchanges, describeInterchange(ic))
	}
	if err != nil {
		e := &ediError{Message: err.Error()}
		var se *x12.SyntaxError
		if errors.As(err, &se) {
			e.Message = se.Msg
			e.SegmentIndex, e.Line, e.ByteOffset = &se.Pos.Index, &se.Pos.Line, &se.Pos.Offset
		}
		r.Error = e
		return r
	}
	r.Readable = true
	return r
}

func delimString(c byte) string {
	if c == 0 {
		return ""
	}
	return string([]byte{c})
}

func trim(s string) string { return strings.TrimSpace(s) }

func describeInterchange(ic *x12.Interchange) ediInterchange {
	isa := ic.ISA
	out := ediInterchange{
		ControlNumber: ic.ControlNumber(), SenderQualifier: trim(isa.Value(5)), SenderID: trim(isa.Value(6)),
		ReceiverQualifier: trim(isa.Value(7)), ReceiverID: trim(isa.Value(8)), Date: trim(isa.Value(9)), Time: trim(isa.Value(10)),
		Version: trim(isa.Value(12)), Usage: trim(isa.Value(15)),
		Delimiters: ediDelimiters{Element: delimString(ic.Delimiters.Element), Component: delimString(ic.Delimiters.Component),
			Repetition: delimString(ic.Delimiters.Repetition), Segment: delimString(ic.Delimiters.Segment)},
		TrailerControlNumber: trim(ic.IEA.Value(2)), DeclaredGroupCount: trim(ic.IEA.Value(1)),
		SegmentIndex: isa.Pos.Index, Line: isa.Pos.Line, Groups: []ediGroup{},
	}
	for _, g := range ic.Groups {
		og := ediGroup{FunctionalID: g.FunctionalID(), ControlNumber: g.ControlNumber(), Sender: trim(g.GS.Value(2)),
			Receiver: trim(g.GS.Value(3)), Version: trim(g.GS.Value(8)), TrailerControlNumber: trim(g.GE.Value(2)),
			DeclaredSetCount: trim(g.GE.Value(1)), SegmentIndex: g.GS.Pos.Index, Line: g.GS.Pos.Line, Sets: []ediSet{}}
		for _, t := range g.Sets {
			n := len(t.Segments) + 1
			if t.SE.ID != "" {
				n++
			}
			og.Sets = append(og.Sets, ediSet{Code: t.Code(), ControlNumber: t.ControlNumber(), SegmentCount: n,
				DeclaredSegmentCount: trim(t.SE.Value(1)), TrailerControlNumber: trim(t.SE.Value(2)),
				SegmentIndex: t.ST.Pos.Index, Line: t.ST.Pos.Line})
		}
		out.Groups = append(out.Groups, og)
	}
	return out
}

func orMissing(s string) string {
	if s == "" {
		return "(missing)"
	}
	return s
}

func printEDI(w io.Writer, r ediFile) {
	fmt.Fprintf(w, "%s\n", r.File)
	for i, ic := range r.Interchanges {
		if ic.ControlNumber != "" || ic.SenderID != "" {
			fmt.Fprintf(w, "  interchange %d: ISA13 %s, %s:%s -> %s:%s, %s %s, version %s, usage %s, delimiters %q %q %q %q (line %d); IEA01 %s, IEA02 %s\n",
				i+1, ic.ControlNumber, ic.SenderQualifier, ic.SenderID, ic.ReceiverQualifier, ic.ReceiverID, ic.Date, ic.Time,
				ic.Version, ic.Usage, ic.Delimiters.Element, ic.Delimiters.Component, ic.Delimiters.Repetition, ic.Delimiters.Segment,
				ic.Line, orMissing(ic.DeclaredGroupCount), orMissing(ic.TrailerControlNumber))
		} else {
			fmt.Fprintf(w, "  bare transaction sets (no ISA/GS envelope)\n")
		}
		for _, g := range ic.Groups {
			if g.FunctionalID != "" {
				fmt.Fprintf(w, "    group %s GS06 %s, %s -> %s, version %s (line %d): %d set(s); GE01 %s, GE02 %s\n",
					g.FunctionalID, g.ControlNumber, g.Sender, g.Receiver, g.Version, g.Line, len(g.Sets),
					orMissing(g.DeclaredSetCount), orMissing(g.TrailerControlNumber))
			}
			for _, t := range g.Sets {
				fmt.Fprintf(w, "      set %s ST02 %s (line %d): %d segments; SE01 %s, SE02 %s\n",
					t.Code, t.ControlNumber, t.Line, t.SegmentCount, orMissing(t.DeclaredSegmentCount), orMissing(t.TrailerControlNumber))
			}
		}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "  warning: segment %d (line %d, byte %d) %s: %s\n", wn.SegmentIndex, wn.Line, wn.ByteOffset, wn.Segment, wn.Message)
	}
	if r.Error != nil {
		if r.Error.SegmentIndex != nil {
			fmt.Fprintf(w, "  error: segment %d (line %d, byte %d): %s\n", *r.Error.SegmentIndex, *r.Error.Line, *r.Error.ByteOffset, r.Error.Message)
		} else {
			fmt.Fprintf(w, "  error: %s\n", r.Error.Message)
		}
		fmt.Fprintln(w, "  result: NOT READABLE")
		return
	}
	fmt.Fprintf(w, "  result: readable, %d warning(s)\n", len(r.Warnings))
}
