package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/scenario"
)

var scenarioCommands = map[string]subcommand{
	"run":  {"rehearse incidents: run scenario files (default: the built-in catalogue) against a real hub and the simulators", runScenarioRun},
	"lint": {"check scenario files; every problem with its line and field", runScenarioLint},
	"list": {"list the built-in catalogue: name, incident, description", runScenarioList},
}

func init() {
	register("scenario", "rehearse incidents before go-live: scenario run | lint | list", runScenario)
}

func runScenario(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatchSubcommand(ctx, "scenario", scenarioCommands, args, stdout, stderr)
}

// flagsFirst moves flags before positional arguments, so that
// "scenario run file.yaml --json" works like "scenario run --json file.yaml".
func flagsFirst(args []string, valued map[string]bool) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if valued[name] && !strings.Contains(name, "=") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func runScenarioRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scenario run", "scenario run [--json] [--config FILE] [--within D] [--run NAME] [PATH...]", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfgPath := fs.String("config", "", "rehearse against this configuration (its first shop and warehouses), simulators standing in for Shopify and the warehouses")
	within := fs.Duration("within", 30*time.Second, "default real-time bound of each expect step")
	only := fs.String("run", "", "run only the scenarios whose name contains this text")
	verbose := fs.Bool("v", false, "print the hub's warnings to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: crossdock scenario run [--json] [--config FILE] [--within 30s] [--run NAME] [PATH...]

Runs scenario files (a file or a directory of *.yaml) — or, with no path, the
built-in catalogue of incidents (crossdock scenario list) — each against a
fresh hub on a scratch database, wired to the Shopify and warehouse
simulators. Warehouse time is simulated (advance steps); the hub's own timers
are compressed to seconds. With --config, the hub runs with your
configuration (first shop, its policies, stock rules and warehouses in rank
order standing in for the scenario's), every endpoint replaced by a
simulator and alerts sent to the rehearsal only.

Exit status: 0 when every expectation of every scenario held; 1 otherwise;
2 usage or an invalid scenario file.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(flagsFirst(args, map[string]bool{"config": true, "within": true, "run": true})); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	var (
		ss  []*scenario.Scenario
		err error
	)
	if fs.NArg() == 0 {
		ss, err = scenario.Catalogue()
	} else {
		ss, err = scenario.Load(fs.Args())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitCode(2)
	}
	if *only != "" {
		var kept []*scenario.Scenario
		for _, s := range ss {
			if strings.Contains(s.Name, *only) {
				kept = append(kept, s)
			}
		}
		ss = kept
	}
	opt := scenario.Options{Within: *within}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		opt.Config = cfg
	}
	if *verbose {
		opt.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var progress func(scenario.Result)
	if !*asJSON {
		progress = func(r scenario.Result) { printResult(stdout, r) }
	}
	rep := scenario.RunAll(ctx, ss, opt, progress)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "\n%d scenarios: %d passed, %d failed, %d skipped in %.1fs\n", rep.Total, rep.Total-rep.Failed-rep.Skipped, rep.Failed, rep.Skipped,
			float64(rep.ElapsedMS)/1000)
	}
	if !rep.Passed {
		return exitCode(1)
	}
	return nil
}

func printResult(w io.Writer, r scenario.Result) {
	status := "PASS"
	switch {
	case r.Skipped != "":
		status = "SKIP"
	case !r.Passed:
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s  %-44s %5.1fs  %s\n", status, r.Name, float64(r.ElapsedMS)/1000, r.Incident)
	if r.Skipped != "" {
		fmt.Fprintf(w, "      skipped: %s\n", r.Skipped)
	}
	if len(r.Warehouses) > 0 {
		var pairs []string
		for k, v := range r.Warehouses {
			pairs = append(pairs, k+" → "+v)
		}
		sort.Strings(pairs)
		fmt.Fprintf(w, "      warehouses: %s\n", strings.Join(pairs, ", "))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "      error: %s\n", r.Error)
	}
	for _, c := range r.Expectations {
		if !c.Passed {
			fmt.Fprintf(w, "      %s:%d %s\n        expected %s\n        observed %s\n", r.File, c.Line, c.Kind, c.Expected, c.Observed)
		}
	}
}

func runScenarioLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scenario lint", "scenario lint [--json] FILE...", stderr)
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	if err := fs.Parse(flagsFirst(args, nil)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "scenario lint: give one or more scenario files")
		return errUsage
	}
	var problems scenario.Errors
	for _, f := range fs.Args() {
		_, err := scenario.Load([]string{f})
		var es scenario.Errors
		switch {
		case err == nil:
		case errors.As(err, &es):
			problems = append(problems, es...)
		default:
			problems = append(problems, scenario.Error{File: f, Msg: err.Error()})
		}
	}
	if *asJSON {
		out := struct {
			Valid    bool             `json:"valid"`
			Problems []scenario.Error `json:"problems"`
		}{len(problems) == 0, append([]scenario.Error{}, problems...)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	} else {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.Error())
		}
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "%d file(s) valid\n", fs.NArg())
		}
	}
	if len(problems) > 0 {
		return exitCode(1)
	}
	return nil
}

func runScenarioList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scenario list", "scenario list", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ss, err := scenario.Catalogue()
	if err != nil {
		return err
	}
	for _, s := range ss {
		fmt.Fprintf(stdout, "%s  (%s)\n    %s\n", s.Name, s.Incident, strings.Join(strings.Fields(s.Description), " "))
	}
	return nil
}
