package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("SHOPIFY_ACCESS_TOKEN", "shpat_x")
	t.Setenv("SHOPIFY_WEBHOOK_SECRET", "s3cret")
	t.Setenv("PARIS_WMS_TOKEN", "p")
	t.Setenv("NEWARK_WMS_TOKEN", "n")
	c, err := Load(filepath.Join("..", "..", "examples", "crossdock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shops[0]
	if s.AccessToken != "shpat_x" || s.APIURL != "https://brand.myshopify.com" {
		t.Fatalf("shop = %+v", s)
	}
	if got := s.StockInterval.Std(0); got != 30*time.Second {
		t.Fatalf("stock interval %v", got)
	}
	if w := s.Warehouses[1]; w.Rank != 2 || w.Connector.Kind != "rest" || w.Connector.Settings["token"] != "n" {
		t.Fatalf("warehouse = %+v", w)
	}
	m := c.Masked()
	if m.Shops[0].AccessToken != "***" || m.Shops[0].Warehouses[0].Connector.Settings["token"] != "***" {
		t.Fatalf("secrets not masked: %+v", m.Shops[0])
	}
	if c.Shops[0].AccessToken != "shpat_x" {
		t.Fatal("Masked modified the original")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "listen: x\nlisen: y\n", "field lisen not found"},
		{"no shops", "listen: 127.0.0.1:1\n", "at least one shop"},
		{"bad domain", "shops:\n- domain: shop.example.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: p, connector: {kind: rest}}]\n", "not a *.myshopify.com"},
		{"missing secret", "shops:\n- domain: a.myshopify.com\n  access_token: a\n  warehouses: [{id: p, connector: {kind: rest}}]\n", "webhook_secret: required"},
		{"bad warehouse id", "shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: Paris!, connector: {kind: rest}}]\n", "must be 1-32"},
		{"no connector kind", "shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: p, connector: {base_url: x}}]\n", "connector needs a kind"},
		{"bad duration", "shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  stock_interval: soon\n  warehouses: [{id: p, connector: {kind: rest}}]\n", "invalid duration"},
		{"unset env", "shops:\n- domain: a.myshopify.com\n  access_token: ${CROSSDOCK_TEST_UNSET_VAR}\n", "CROSSDOCK_TEST_UNSET_VAR"},
		{"bad driver", "database: {driver: mysql, dsn: x}\nshops: []\n", "not sqlite or postgres"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEnvOverride(t *testing.T) {
	t.Setenv("CROSSDOCK_DATABASE_DRIVER", "postgres")
	t.Setenv("CROSSDOCK_DATABASE_DSN", "postgres://u:pw@127.0.0.1/test")
	c, err := Parse(strings.NewReader("shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: p, connector: {kind: rest}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Driver != "postgres" || !strings.Contains(c.Database.DSN, "pw") {
		t.Fatalf("override not applied: %+v", c.Database)
	}
	if strings.Contains(c.Masked().Database.DSN, "pw") {
		t.Fatal("password not masked")
	}
}

func TestEnvExpansionInValuesOnly(t *testing.T) {
	t.Setenv("CROSSDOCK_TEST_TOKEN", "tok")
	t.Setenv("CROSSDOCK_TEST_DELIM", ";")
	c, err := Parse(strings.NewReader(`# a comment may mention ${CROSSDOCK_TEST_NEVER_SET}
shops:
- domain: a.myshopify.com
  access_token: prefix-${CROSSDOCK_TEST_TOKEN}
  webhook_secret: b
  warehouses:
  - id: p
    connector: {kind: csv, password: "${CROSSDOCK_TEST_TOKEN}", profile: {delimiter: "${CROSSDOCK_TEST_DELIM}", header: true}, ports: ["${CROSSDOCK_TEST_TOKEN}"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shops[0]
	set := s.Warehouses[0].Connector.Settings
	if s.AccessToken != "prefix-tok" || set["password"] != "tok" {
		t.Fatalf("not expanded: %q, %v", s.AccessToken, set)
	}
	if p, _ := set["profile"].(map[string]any); p["delimiter"] != ";" || p["header"] != true {
		t.Fatalf("nested settings not expanded: %v", set["profile"])
	}
	if l, _ := set["ports"].([]any); len(l) != 1 || l[0] != "tok" {
		t.Fatalf("list in settings not expanded: %v", set["ports"])
	}
}
