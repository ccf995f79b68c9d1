package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScenarioCatchesBrokenDedupe builds the hub twice — as shipped, and
// with the crossdock_break_dedupe tag, which turns off the inbox's webhook
// deduplication — and runs the catalogue's duplicate-webhooks scenario with
// each: the real build passes, the broken one fails on the inbox check.
// The catalogue can fail.
func TestScenarioCatchesBrokenDedupe(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	dir := t.TempDir()
	run := func(tags string) (code int, report scenarioReport) {
		t.Helper()
		bin := filepath.Join(dir, "crossdock"+strings.ReplaceAll(tags, " ", "-"))
		args := []string{"build", "-o", bin}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		build := exec.Command("go", append(args, ".")...)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			t.Fatalf("build %q: %v", tags, err)
		}
		cmd := exec.Command(bin, "scenario", "run", "--json", "--within", "5s", "--run", "duplicate-webhooks")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("run %q: %v", tags, err)
		}
		if err := json.Unmarshal(out, &report); err != nil {
			t.Fatalf("report of %q: %v\n%s\n%s", tags, err, out, stderr.String())
		}
		return cmd.ProcessState.ExitCode(), report
	}

	code, rep := run("")
	if code != 0 || !rep.Passed || len(rep.Scenarios) != 1 {
		t.Fatalf("as shipped: exit %d, report %+v", code, rep)
	}
	code, rep = run("crossdock_break_dedupe")
	if code != 1 || rep.Passed || len(rep.Scenarios) != 1 {
		t.Fatalf("with deduplication off: exit %d, report %+v", code, rep)
	}
	failed := 0
	for _, c := range rep.Scenarios[0].Expectations {
		if c.Passed {
			continue
		}
		failed++
		if c.Kind != "webhooks" || !strings.Contains(c.Observed, "stored 2") {
			t.Errorf("unexpected failed check %+v", c)
		}
	}
	if failed == 0 {
		t.Fatal("no failed expectation")
	}
}

type scenarioReport struct {
	Passed    bool `json:"passed"`
	Scenarios []struct {
		Name         string `json:"name"`
		Passed       bool   `json:"passed"`
		Expectations []struct {
			Kind     string `json:"kind"`
			Observed string `json:"observed"`
			Passed   bool   `json:"passed"`
		} `json:"expectations"`
	} `json:"scenarios"`
}
