package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds configuration files, seeded with the example, to Parse:
// it must never panic, and a configuration it accepts must validate.
func FuzzParse(f *testing.F) {
	ex, err := os.ReadFile(filepath.Join("..", "..", "examples", "crossdock.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	// The example reads secrets from the environment; the seed inlines them.
	f.Add([]byte(strings.NewReplacer("${SHOPIFY_ACCESS_TOKEN}", "t", "${SHOPIFY_WEBHOOK_SECRET}", "s",
		"${PARIS_WMS_TOKEN}", "p", "${NEWARK_WMS_TOKEN}", "n").Replace(string(ex))))
	f.Add([]byte("shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: p, connector: {kind: rest}}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that does not validate: %v", err)
		}
		_ = c.Masked()
	})
}
