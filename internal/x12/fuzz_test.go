package x12

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds X12 bytes, seeded with the real sample files (defective
// ones included), to the lenient reader: it must never panic, and what it
// accepts must survive the strict writer and read back with no warning.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for _, file := range files {
		if st, err := os.Stat(file); err != nil || st.IsDir() || filepath.Ext(file) == ".md" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ics, _, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, ic := range ics {
			out, _, err := Encode(context.Background(), ic, WriterOptions{Delimiters: ic.Delimiters})
			if err != nil {
				continue // the strict writer may refuse what the lenient reader took (e.g. a delimiter in a value)
			}
			again, warns, err := Parse(bytes.NewReader(out))
			if err != nil || len(again) != 1 || len(warns) != 0 {
				t.Fatalf("written interchange reads back with err=%v, %d interchanges, warnings %v:\n%s", err, len(again), warns, out)
			}
		}
	})
}
