package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/readiness"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
)

// runReadiness is `crossdock readiness`: the go-live checklist. It exits 1
// while a blocker remains. With --fix it first does what the hub does at
// start (registers each warehouse's fulfillment service, recorded in the
// database, and the webhook subscriptions), so that an integrator can make
// a fresh shop ready without starting the hub.
func runReadiness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("readiness", "readiness [--config FILE] [--json] [--fix]", stderr)
	cfgPath := fl.String("config", "crossdock.yaml", "configuration file (YAML)")
	asJSON := fl.Bool("json", false, "print the report as JSON: ready, checks[{status, check, detail, fix}]")
	fix := fl.Bool("fix", false, "first register the missing fulfillment services and webhook subscriptions, as the hub does at start")
	timeout := fl.Duration("timeout", 15*time.Second, "limit of each remote read (Shopify, one warehouse)")
	if err := parse(fl, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := logger(stderr, "error")
	var extra []readiness.Check
	st, dbCheck := openStoreForReadiness(ctx, cfg, *fix)
	extra = append(extra, dbCheck)
	if st != nil {
		defer st.Close()
	}
	if *fix && st != nil {
		reg, err := tenant.New(cfg, tenant.Options{Logger: log})
		if err != nil {
			return err
		}
		fctx, cancel := context.WithTimeout(ctx, 4**timeout)
		err = hub.PrepareShops(fctx, st, reg, cfg.PublicURL, log)
		cancel()
		if err != nil {
			extra = append(extra, readiness.Check{Status: readiness.Blocker, Check: "fix", Detail: "registration failed: " + err.Error(),
				Fix: "correct what the other lines report, then run --fix again"})
		} else {
			extra = append(extra, readiness.Check{Status: readiness.OK, Check: "fix", Detail: "fulfillment services and webhook subscriptions registered where missing"})
		}
	}
	rep, err := readiness.Run(ctx, cfg, readiness.Options{Store: st, Timeout: *timeout, Logger: log})
	if err != nil {
		return err
	}
	all := &readiness.Report{Ready: true}
	all.Add(extra...) // the database and --fix first: what follows depends on them
	all.Add(rep.Checks...)
	rep = all
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.Ready {
		return exitCode(1)
	}
	return nil
}

// openStoreForReadiness opens the hub's database to read the locations the
// hub recorded. Without fix it never creates an SQLite file.
func openStoreForReadiness(ctx context.Context, cfg *config.Config, fix bool) (*store.Store, readiness.Check) {
	c := readiness.Check{Check: "database"}
	if cfg.Database.Driver == "sqlite" && !fix {
		if _, err := os.Stat(cfg.Database.DSN); errors.Is(err, fs.ErrNotExist) {
			c.Status, c.Detail = readiness.Warning, fmt.Sprintf("no database at %s yet: the hub creates it at first start and records there the fulfillment services it registers", cfg.Database.DSN)
			c.Fix = "run `crossdock readiness --fix` or start the hub once"
			return nil, c
		}
	}
	st, err := store.Open(ctx, store.Dialect(cfg.Database.Driver), cfg.Database.DSN)
	if err == nil && fix {
		if err = st.Migrate(ctx); err != nil {
			st.Close()
		}
	}
	if err != nil {
		c.Status, c.Detail, c.Fix = readiness.Blocker, fmt.Sprintf("%s database not usable: %v", cfg.Database.Driver, err), "check database.dsn and that the database is reachable"
		return nil, c
	}
	c.Status, c.Detail = readiness.OK, cfg.Database.Driver+" database reachable"
	return st, c
}

func printReport(w io.Writer, rep *readiness.Report) {
	for _, c := range rep.Checks {
		where := c.Shop
		if c.Warehouse != "" {
			where += "/" + c.Warehouse
		}
		name := c.Check
		if where != "" {
			name += " (" + where + ")"
		}
		line := fmt.Sprintf("%-8s %s: %s", c.Status, name, c.Detail)
		if c.Fix != "" {
			line += ". Fix: " + c.Fix
		}
		fmt.Fprintln(w, line)
	}
	n := rep.Counts()
	verdict := "READY"
	if !rep.Ready {
		verdict = "NOT READY"
	}
	fmt.Fprintf(w, "%s: %d blockers, %d warnings, %d ok\n", verdict, n[readiness.Blocker], n[readiness.Warning], n[readiness.OK])
}
