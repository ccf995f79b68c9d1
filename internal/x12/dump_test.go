package x12

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDump(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(f, "transaction-only") || strings.Contains(f, "997-") {
			sets, w, err := ParseSets(bytes.NewReader(b), DefaultDelimiters)
			fmt.Println(f, len(sets), err)
			for _, x := range w {
				fmt.Printf("   %s %s\n", x.Kind, x)
			}
			continue
		}
		ics, w, err := Parse(bytes.NewReader(b))
		fmt.Println(f, len(ics), err)
		for _, x := range w {
			fmt.Printf("   %s | %s\n", x.Kind, x)
		}
	}
}
