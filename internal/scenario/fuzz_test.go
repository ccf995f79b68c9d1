package scenario

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds scenario files, seeded with the built-in catalogue, to
// Parse. Properties: no panic; a refusal is Errors in which every problem
// names a line of the file; a scenario Parse accepts validates again
// without a problem and keeps its file name.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("catalogue", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no catalogue to seed from: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\n---\nname: y\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		s, err := Parse(name, data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse refused the file without Errors: %T %v", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range es {
				if e.Line < 1 || e.Line > lines {
					t.Fatalf("problem without a line of the file (1..%d): %+v\nall: %v", lines, e, es)
				}
				if e.File != name {
					t.Fatalf("problem names file %q, want %q: %v", e.File, name, e)
				}
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither a scenario nor an error")
		}
		if s.File != name {
			t.Fatalf("parsed scenario names file %q, want %q", s.File, name)
		}
		if es := s.Validate(); len(es) > 0 {
			t.Fatalf("a scenario Parse accepted does not validate again: %v", es)
		}
	})
}
