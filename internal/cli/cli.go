// Package cli implements crossdock's subcommands. Each subcommand parses its
// own flags (with -h help) and calls into the packages that do the work.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/shopifyschema"
	"github.com/crossdock/crossdock/internal/store"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=…".
var Version = "dev"

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary, run}
}

func init() {
	register("version", "print the version", runVersion)
	register("serve", "run the hub against the endpoints of a configuration file", runServe)
	register("migrate", "apply database migrations and exit", runMigrate)
	register("edi", "inspect X12 EDI files: envelopes, control numbers, counts, warnings (edi inspect)", runEDI)
	register("catalog", "catalogue governance: catalog audit checks SKUs across Shopify, the hub and every warehouse", runCatalog)
	register("bench", "measure crossdock against in-process simulators: bench audit", runBench)
	register("readiness", "go-live checklist: blockers, warnings and what to do (exit 1 while a blocker remains)", runReadiness)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "crossdock — the hub between Shopify stores and warehouse systems")
	fmt.Fprintln(w, "\nUsage: crossdock <command> [flags]   (crossdock <command> -h for its flags)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
}

// errUsage marks an error already explained by a flag set's own message.
var errUsage = errors.New("usage")

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name, rest := args[0], args[1:]
	if name == "sim" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = "sim "+rest[0], rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "crossdock: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, rest, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		fmt.Fprintf(stderr, "crossdock %s: %v\n", name, err)
		return 1
	}
}

// exitCode is an error that only carries an exit status (the command has
// already said why).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: crossdock %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}

func logger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "crossdock %s (Shopify Admin API %s)\n", Version, shopifyschema.Version)
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve --config FILE", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML), required")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	jobTimeout := fs.Duration("job-timeout", time.Minute, "limit of one job attempt; jobs of a crashed process are retried after twice this")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "serve: --config is required")
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := logger(stderr, *level)
	h, err := hub.Open(ctx, cfg, hub.Options{Logger: log, JobTimeout: *jobTimeout})
	if err != nil {
		return err
	}
	if err := h.Start(ctx, nil); err != nil {
		h.Stop(context.Background())
		return err
	}
	fmt.Fprintf(stdout, "crossdock serving on http://%s\n", h.Addr())
	<-ctx.Done()
	log.Info("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return h.Stop(sctx)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate --config FILE", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML), required")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "migrate: --config is required")
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Dialect(cfg.Database.Driver), cfg.Database.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s database\n", cfg.Database.Driver)
	return nil
}
