package scenario

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed catalogue/*.yaml
var catalogueFS embed.FS

// Catalogue returns the built-in scenarios, in file name order.
func Catalogue() ([]*Scenario, error) {
	names, err := fs.Glob(catalogueFS, "catalogue/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Scenario
	var errs []error
	for _, n := range names {
		data, err := catalogueFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s, err := Parse(n, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// Load reads scenario files; a directory contributes its *.yaml and *.yml
// files. Every file's problems are reported.
func Load(paths []string) ([]*Scenario, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	var out []*Scenario
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
		s, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}
