package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			args := append(strings.Fields(name), "-h")
			if code := Main(args, &out, &errb); code != 0 {
				t.Fatalf("%s -h exited %d: %s", name, code, errb.String())
			}
			if !strings.Contains(errb.String(), "Usage: crossdock "+name) {
				t.Fatalf("%s -h printed no usage: %q", name, errb.String())
			}
		})
	}
}

func TestRequiredCommands(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"demo", "serve", "sim shopify", "sim wms", "migrate", "version"} {
		if _, ok := commands[c]; !ok {
			t.Errorf("command %q missing", c)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := Main([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("unknown command: code %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"serve"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--config is required") {
		t.Fatalf("serve without config: code %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"demo", "--exit-when-done"}, &out, &errb); code != 2 {
		t.Fatalf("demo --exit-when-done without --orders: code %d", code)
	}
	out.Reset()
	if code := Main([]string{"version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "2026-07") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

func TestParseStock(t *testing.T) {
	t.Parallel()
	got, err := parseStock("A=1, B-2=30")
	if err != nil || got["A"] != 1 || got["B-2"] != 30 {
		t.Fatalf("parseStock = %v, %v", got, err)
	}
	for _, bad := range []string{"A", "A=-1", "=3", "A=x"} {
		if _, err := parseStock(bad); err == nil {
			t.Errorf("parseStock(%q) accepted", bad)
		}
	}
}
