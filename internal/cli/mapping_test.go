package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

// mappingCLI runs `crossdock mapping …` against one database.
type mappingCLI struct {
	t          *testing.T
	d          store.Dialect
	dsn        string
	out, errb  bytes.Buffer
	lastStatus int
}

func setupMappingCLI(t *testing.T, d store.Dialect) *mappingCLI {
	t.Helper()
	return &mappingCLI{t: t, d: d, dsn: storetest.DSN(t, d)}
}

// run runs a mapping subcommand with the database and shop flags and
// returns its exit status; stdout and stderr are kept.
func (c *mappingCLI) run(sub string, args ...string) int {
	c.t.Helper()
	c.out.Reset()
	c.errb.Reset()
	full := append([]string{"mapping", sub, "--db", c.dsn, "--driver", string(c.d), "--shop", "a.myshopify.com"}, args...)
	c.lastStatus = Main(full, &c.out, &c.errb)
	return c.lastStatus
}

func (c *mappingCLI) ok(sub string, args ...string) string {
	c.t.Helper()
	if code := c.run(sub, args...); code != 0 {
		c.t.Fatalf("mapping %s %v: exit %d\nstdout: %s\nstderr: %s", sub, args, code, c.out.String(), c.errb.String())
	}
	return c.out.String()
}

func (c *mappingCLI) version(sub string, args ...string) int64 {
	c.t.Helper()
	var res mapping.Result
	if err := json.Unmarshal([]byte(c.ok(sub, append(args, "--json")...)), &res); err != nil {
		c.t.Fatalf("mapping %s: %v: %s", sub, err, c.out.String())
	}
	if res.Version == 0 {
		c.t.Fatalf("mapping %s %v recorded no version", sub, args)
	}
	return res.Version
}

// TestMappingCLIChangeDiffRevert: a mapping set, renamed from a date,
// diffed and reverted through the command line; every change is recorded
// with its actor and reason (mapping history and operator actions).
func TestMappingCLIChangeDiffRevert(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			c := setupMappingCLI(t, d)
			v1 := c.version("set", "--warehouse", "paris", "--sku", "TEE-1", "--item-code", "P-100", "--uom", "EA",
				"--effective-from", "2026-11-01T00:00:00Z", "--actor", "alice", "--reason", "onboarding Paris")
			v2 := c.version("set", "--warehouse", "paris", "--sku", "TEE-1", "--item-code", "P-200",
				"--effective-from", "2026-11-20T00:00:00Z", "--actor", "bob", "--reason", "Paris renamed the item")

			before := c.ok("list", "--at", "2026-11-10T00:00:00Z")
			after := c.ok("list", "--at", "2026-11-21T00:00:00Z")
			if !strings.Contains(before, "P-100") || strings.Contains(before, "P-200") || !strings.Contains(after, "P-200") {
				t.Fatalf("list before the rename:\n%s\nafter:\n%s", before, after)
			}
			diff := c.ok("diff", "--from", itoa(v1), "--to", itoa(v2))
			if !strings.Contains(diff, "paris/TEE-1") || !strings.Contains(diff, "P-100 ×1 EA → P-200 ×1") {
				t.Fatalf("diff v%d..v%d:\n%s", v1, v2, diff)
			}
			if out := c.ok("diff", "--from", "2026-11-10T00:00:00Z", "--to", "2026-11-21T00:00:00Z"); !strings.Contains(out, "P-100 ×1 EA → P-200 ×1") {
				t.Fatalf("diff by time:\n%s", out)
			}
			v3 := c.version("revert", "--to", itoa(v1), "--actor", "carol", "--reason", "rename postponed")
			if out := c.ok("list", "--at", "2026-11-21T00:00:00Z"); !strings.Contains(out, "P-100") || strings.Contains(out, "P-200") {
				t.Fatalf("list after revert:\n%s", out)
			}
			if out := c.ok("diff", "--from", itoa(v1)); !strings.Contains(out, "no differences") {
				t.Fatalf("diff v%d..now after revert:\n%s", v1, out)
			}
			hist := c.ok("history")
			for _, want := range []string{"bob", "Paris renamed the item", "carol", "revert to v" + itoa(v1), "rename postponed", "P-100 ×1 EA → P-200 ×1"} {
				if !strings.Contains(hist, want) {
					t.Errorf("history lacks %q:\n%s", want, hist)
				}
			}
			st, err := store.Open(context.Background(), d, c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			acts, err := store.Actions(context.Background(), st.Read, mapping.Target("a.myshopify.com"), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != 3 || acts[0].Actor != "carol" || acts[0].Reason != "rename postponed" ||
				!strings.Contains(acts[0].Action, "revert v"+itoa(v3)) || acts[2].Actor != "alice" {
				t.Fatalf("operator actions = %+v", acts)
			}
		})
	}
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMappingCLIImportExportAndErrors: export and import round-trip; a bad
// row names its line and applies nothing; changes without a reason and
// bad flags are usage errors.
func TestMappingCLIImportExportAndErrors(t *testing.T) {
	t.Parallel()
	c := setupMappingCLI(t, store.SQLite)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte("warehouse,sku,item_code,pack_size\nparis,00042,000123,6\n,TEE-1,T-1,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.version("import", "--file", good, "--reason", "initial load", "--actor", "alice")
	exported := c.ok("export")
	if !strings.HasPrefix(exported, strings.Join(mapping.CSVHeader, ",")+"\n") || !strings.Contains(exported, "paris,00042,000123,,6,") {
		t.Fatalf("export:\n%s", exported)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("sku,item_code,pack_size\nMUG-1,M-1,1\nCAP-1,C-1,-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := c.run("import", "--file", bad, "--reason", "oops", "--actor", "alice"); code != 1 || !strings.Contains(c.errb.String(), "line 3") {
		t.Fatalf("bad import: exit %d, %q", code, c.errb.String())
	}
	if out := c.ok("export"); out != exported {
		t.Fatalf("a bad import changed the table:\n%s", out)
	}
	for _, args := range [][]string{
		{"set", "--sku", "X"}, // no reason
		{"set", "--sku", "X", "--reason", "r", "--actor", " "}, // blank actor
		{"diff"},                      // no --from
		{"list", "--at", "yesterday"}, // not a time
		{"revert", "--reason", "r", "--actor", "a"},                  // no --to
		{"delete", "--sku", "NOPE", "--reason", "r", "--actor", "a"}, // nothing to delete
	} {
		if code := c.run(args[0], args[1:]...); code == 0 {
			t.Errorf("mapping %v accepted: %s", args, c.out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"mapping", "list", "--shop", "a"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--config or --db is required") {
		t.Fatalf("list without a database: %d %q", code, errb.String())
	}
	if code := Main([]string{"mapping", "frob"}, &out, &errb); code != 2 {
		t.Fatalf("unknown subcommand: exit %d", code)
	}
}

// TestMappingSubcommandsHaveHelp: `crossdock mapping SUB -h` prints the
// subcommand's usage and exits 0.
func TestMappingSubcommandsHaveHelp(t *testing.T) {
	t.Parallel()
	for name := range mappingCmds {
		var out, errb bytes.Buffer
		if code := Main([]string{"mapping", name, "-h"}, &out, &errb); code != 0 {
			t.Errorf("mapping %s -h exited %d", name, code)
		}
		if !strings.Contains(errb.String(), "Usage: crossdock mapping "+name) {
			t.Errorf("mapping %s -h printed %q", name, errb.String())
		}
	}
}

// TestMappingCLIWithConfig: --config gives the database and the shop (its
// only one), and a change naming a warehouse the shop does not have is
// refused.
func TestMappingCLIWithConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crossdock.yaml")
	yaml := `database:
  driver: sqlite
  dsn: ` + filepath.Join(dir, "crossdock.db") + `
listen: 127.0.0.1:0
public_url: https://hub.example.com
shops:
  - domain: brand.myshopify.com
    access_token: shpat_x
    webhook_secret: s
    warehouses:
      - id: paris
        name: Paris 3PL
        rank: 1
        connector:
          kind: rest
          base_url: https://wms.example
          token: t
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	run := func(args ...string) int {
		out.Reset()
		errb.Reset()
		return Main(append([]string{"mapping"}, args...), &out, &errb)
	}
	if code := run("set", "--config", cfg, "--warehouse", "lyon", "--sku", "TEE-1", "--item-code", "L-1", "--actor", "a", "--reason", "r"); code != 2 || !strings.Contains(errb.String(), "warehouse lyon is not configured") {
		t.Fatalf("set for an unknown warehouse: %d %q", code, errb.String())
	}
	if code := run("set", "--config", cfg, "--warehouse", "paris", "--sku", "TEE-1", "--item-code", "P-1", "--actor", "a", "--reason", "r"); code != 0 {
		t.Fatalf("set: %d %q", code, errb.String())
	}
	if code := run("list", "--config", cfg, "--json"); code != 0 {
		t.Fatalf("list: %d %q", code, errb.String())
	}
	var list struct{ Mappings []mapping.Mapping }
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list.Mappings) != 1 || list.Mappings[0].ItemCode != "P-1" {
		t.Fatalf("list = %s, %v", out.String(), err)
	}
}
