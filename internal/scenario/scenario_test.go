package scenario

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// briefIncidents are the incidents PRODUCT.md §7 lists; the catalogue must
// rehearse each of them.
var briefIncidents = []string{
	"duplicate webhook deliveries", "webhooks out of order", "a lost webhook", "order with an unknown SKU",
	"incomplete or invalid address", "order edited after transmission", "order cancelled before picking",
	"order cancelled after picking", "order cancelled after shipping", "partial shipment and backorder",
	"one order split across two warehouses", "several packages with several tracking numbers", "WMS unreachable for a while",
	"WMS acknowledges twice or ships twice", "stock drift between WMS and Shopify",
	"a stock edit made by hand in Shopify at a WMS-owned location", "Shopify throttling and 5xx",
	"a hub crash in the middle of a flow", "a return received damaged", "a SKU renamed in one system only",
}

func TestCatalogueCoversTheBrief(t *testing.T) {
	t.Parallel()
	ss, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) < 20 {
		t.Errorf("catalogue has %d scenarios, want at least 20", len(ss))
	}
	covered, names := map[string]bool{}, map[string]bool{}
	for _, s := range ss {
		covered[s.Incident] = true
		if names[s.Name] {
			t.Errorf("two scenarios named %s", s.Name)
		}
		names[s.Name] = true
		if len(strings.Fields(s.Description)) < 15 {
			t.Errorf("%s: the description is too short for an operator: %q", s.Name, s.Description)
		}
	}
	for _, inc := range briefIncidents {
		if !covered[inc] {
			t.Errorf("no scenario rehearses %q", inc)
		}
		if !slices.Contains(Incidents, inc) {
			t.Errorf("%q is missing from Incidents", inc)
		}
	}
}

func TestLintReportsLineAndField(t *testing.T) {
	t.Parallel()
	const head = "name: bad\ndescription: a scenario with one mistake in it\nsetup:\n  skus: [A]\n  warehouses:\n    - id: paris\n      stock: {A: 1}\nsteps:\n"
	cases := []struct {
		name, steps string
		line        int
		field, msg  string
	}{
		{"unknown field", "  - order: {id: X, lines: {A: 1}, adress: paris}\n  - expect:\n      - wms_order: {order: X, count: 1}\n", 9, "steps[0].order.adress", "unknown field"},
		{"bad count", "  - order: {id: X, lines: {A: 1}}\n  - expect:\n      - wms_order: {order: X, count: some}\n", 11, "", "not a count"},
		{"order not created", "  - order: {id: X, lines: {A: 1}}\n  - expect:\n      - wms_order: {order: Y, count: 1}\n", 11, "steps[1].expect[0].wms_order.order", `order "Y"`},
		{"bad duration", "  - order: {id: X, lines: {A: 1}}\n  - advance: soon\n  - expect:\n      - wms_order: {order: X, count: 1}\n", 10, "", "not a duration"},
		{"two actions", "  - order: {id: X, lines: {A: 1}}\n    advance: 1h\n  - expect:\n      - wms_order: {order: X, count: 1}\n", 9, "steps[0]", "exactly one of"},
		{"unknown warehouse", "  - order: {id: X, lines: {A: 1}}\n  - warehouse: {id: lyon, down: true}\n  - expect:\n      - wms_order: {order: X, count: 1}\n", 10, "steps[1].warehouse.id", `warehouse "lyon"`},
		{"nothing checked", "  - order: {id: X, lines: {A: 1}}\n", 1, "steps", "no expect step"},
		{"bad condition", "  - order: {id: X, lines: {A: 1}}\n  - return: {order: X, id: R, lines: {A: 1}, receive: [{sku: A, quantity: 1, condition: wet}]}\n  - expect:\n      - return: {id: R, restocked: 0}\n", 10, "steps[1].return.receive[0].condition", "restockable or damaged"},
		{"unknown preset", "  - order: {id: X, lines: {A: 1}, address: mars}\n  - expect:\n      - wms_order: {order: X, count: 1}\n", 9, "steps[0].order.address", "unknown preset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bad.yaml", []byte(head+c.steps))
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse: %v, want Errors", err)
			}
			for _, e := range es {
				if e.Line == c.line && (c.field == "" || e.Field == c.field) && strings.Contains(e.Msg, c.msg) {
					if !strings.HasPrefix(e.Error(), "bad.yaml:") {
						t.Errorf("message %q does not start with the file and line", e.Error())
					}
					return
				}
			}
			t.Fatalf("no error at line %d field %q containing %q; got %v", c.line, c.field, c.msg, es)
		})
	}
}

func TestCatalogueFilesLintClean(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("catalogue/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue files: %v", err)
	}
	ss, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(files) {
		t.Fatalf("loaded %d of %d files", len(ss), len(files))
	}
}

// setup parses a scenario for a run test.
func setup(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := Parse(t.Name()+".yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A scenario whose expectation is false fails, and the report says what was
// observed instead.
func TestWrongExpectationFails(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a hub")
	}
	s := setup(t, `name: wrong
description: expects two fulfillments where the warehouse ships one parcel, which must fail
setup:
  skus: [A]
  warehouses:
    - id: paris
      stock: {A: 5}
steps:
  - order: {id: X, lines: {A: 1}}
  - expect:
      - wms_order: {order: X, count: 1}
  - advance: 1h
  - expect:
      - shopify_order: {order: X, fulfillment_status: FULFILLED, fulfillments: 2}
    within: 3s
`)
	r := Run(context.Background(), s, Options{})
	if r.Passed || r.Error != "" || len(r.Expectations) != 2 {
		t.Fatalf("result %+v, want a failure on the second expectation only", r)
	}
	c := r.Expectations[1]
	if c.Passed || c.Line != 14 || !strings.Contains(c.Observed, "fulfillments 1") || !strings.Contains(c.Expected, "fulfillments 2") {
		t.Fatalf("check %+v", c)
	}
	if !r.Expectations[0].Passed {
		t.Fatalf("the first expectation failed: %+v", r.Expectations[0])
	}
}

// With the user's configuration, the scenario's warehouses stand for the
// configuration's (in rank order) and the user's policies apply.
func TestRehearseAgainstConfig(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a hub")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "crossdock.yaml")
	err := os.WriteFile(cfgPath, []byte(`database: {driver: sqlite, dsn: /nonexistent/prod.db}
listen: 127.0.0.1:1
shops:
  - domain: brand.myshopify.com
    api_url: https://brand.myshopify.com
    access_token: shpat_real
    webhook_secret: real-secret
    policies: {unknown_sku: hold}
    warehouses:
      - id: nj-fc
        rank: 2
        connector: {kind: rest, base_url: "https://wms.example/nj", token: t}
      - id: lyon-3pl
        rank: 1
        connector: {kind: rest, base_url: "https://wms.example/lyon", token: t}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := setup(t, `name: with-config
description: an order for the first warehouse of the user's configuration ships and is fulfilled
setup:
  skus: [A]
  warehouses:
    - id: first
      stock: {A: 5}
steps:
  - order: {id: X, lines: {A: 1}}
  - expect:
      - wms_order: {order: X, warehouse: first, count: 1}
      - timeline: {order: X, says: lyon-3pl}
  - advance: 1h
  - expect:
      - shopify_order: {order: X, fulfillment_status: FULFILLED}
`)
	r := Run(context.Background(), s, Options{Config: cfg, Within: 20 * time.Second})
	if !r.Passed || r.Warehouses["first"] != "lyon-3pl" {
		t.Fatalf("result %+v", r)
	}
	// A scenario needing more warehouses than the configuration has is
	// skipped, not failed.
	s3 := setup(t, `name: three
description: needs three warehouses, which the configuration does not have, so it is skipped
setup:
  skus: [A]
  warehouses:
    - {id: a, stock: {A: 1}}
    - {id: b, stock: {A: 1}}
    - {id: c, stock: {A: 1}}
steps:
  - order: {id: X, lines: {A: 1}}
  - expect:
      - wms_order: {order: X, count: 1}
`)
	if r := Run(context.Background(), s3, Options{Config: cfg}); r.Skipped == "" || r.Passed {
		t.Fatalf("result %+v, want skipped", r)
	}
}

// fileConfig is a configuration with a csv warehouse (rank 1: ";" and
// renamed stock columns) and an edi one (rank 2: non-default ISA ids),
// both pointing at endpoints that do not exist: the rehearsal replaces
// only where and how to connect.
const fileConfig = `database: {driver: sqlite, dsn: /nonexistent/prod.db}
listen: 127.0.0.1:1
shops:
  - domain: brand.myshopify.com
    api_url: https://brand.myshopify.com
    access_token: shpat_real
    webhook_secret: real-secret
    warehouses:
      - id: nj-edi
        rank: 2
        connector:
          kind: edi
          transport: local
          dir: /nonexistent/edi
          profile: {sender_id: BRANDHUB, sender_qualifier: "01", receiver_id: NJ3PLWMS, receiver_qualifier: "12"}
      - id: lyon-csv
        rank: 1
        connector:
          kind: csv
          transport: sftp
          address: sftp.lyon.invalid:22
          user: brand
          password: secret
          insecure_ignore_host_key: true
          out: outbound
          in: inbound
          profile:
            header: true
            delimiter: ";"
            stock: {sku: Article, on_hand: Qty On Hand, available: Dispo}
`

// With --config, csv and edi warehouses are rehearsed through their files
// over SFTP, the simulated 3PL speaking the user's dialect; a partner
// that does not speak it makes the rehearsal fail.
func TestRehearseFileWarehouses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a hub")
	}
	cfgPath := filepath.Join(t.TempDir(), "crossdock.yaml")
	if err := os.WriteFile(cfgPath, []byte(fileConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const body = `
setup:
  skus: [A, B]
  warehouses:
    - id: first
      stock: {A: 5}
    - id: second
      stock: {B: 5}
steps:
  - order: {id: X, lines: {A: 1}}
  - order: {id: Y, lines: {B: 2}}
  - expect:
      - wms_order: {order: X, warehouse: first, count: 1}
      - wms_order: {order: Y, warehouse: second, count: 1}
  - advance: 1h
  - expect:
      - shopify_order: {order: X, fulfillment_status: FULFILLED, tracking_numbers: ">=1", fulfilled: {A: 1}}
      - shopify_order: {order: Y, fulfillment_status: FULFILLED, tracking_numbers: ">=1", fulfilled: {B: 2}}
`
	s := setup(t, "name: files\ndescription: an order for each file warehouse of the configuration ships and is fulfilled with tracking\n"+body)
	r := Run(context.Background(), s, Options{Config: cfg, Within: 20 * time.Second})
	if !r.Passed {
		t.Fatalf("result %+v", r)
	}
	if d := cmp.Diff(map[string]string{"first": "lyon-csv", "second": "nj-edi"}, r.Warehouses); d != "" {
		t.Errorf("warehouses (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"first": "csv", "second": "edi"}, r.Transports); d != "" {
		t.Errorf("transports (-want +got):\n%s", d)
	}
	for _, id := range []string{"first", "second"} {
		st := r.Files[id]
		if st.FilesRead == 0 || st.OrdersCreated != 1 || st.ShipmentFiles == 0 || st.StockFiles == 0 || st.FilesRejected != 0 {
			t.Errorf("%s: partner stats %+v: files did not flow both ways", id, st)
		}
	}
	if st := r.Files["second"]; st.AcksSent == 0 {
		t.Errorf("second: no 997 for the hub's 940s: %+v", st)
	}

	// A partner expecting the SKU in an "Article" column of the order
	// files (the hub writes "sku") rejects them: nothing ships and the
	// rehearsal fails.
	bad := setup(t, "name: files-wrong-dialect\ndescription: the simulated 3PL does not speak the hub's CSV dialect, so nothing ships and the rehearsal fails\n"+body)
	opt := Options{Config: cfg, Within: 3 * time.Second, partnerCSV: func(p *csvfile.Profile) {
		p.Orders = maps.Clone(csvwms.DefaultProfile().Orders)
		p.Orders["sku"] = "Article"
	}}
	r = Run(context.Background(), bad, opt)
	if r.Passed || r.Skipped != "" {
		t.Fatalf("result %+v, want a failure", r)
	}
	if st := r.Files["first"]; st.FilesRejected == 0 || st.OrdersCreated != 0 {
		t.Errorf("first: partner stats %+v, want the hub's order file rejected (result %+v)", st, r)
	}
}

// What a file warehouse cannot play skips the scenario, with the reason;
// what it can play does not.
func TestFileWarehouseLimits(t *testing.T) {
	t.Parallel()
	ss, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Scenario{}
	for _, s := range ss {
		byName[s.Name] = s
	}
	cases := []struct {
		scenario string
		skip     string // a word of the reason; "" when it runs
	}{
		{"normal-flow", ""},
		{"wms-unreachable", ""},
		{"cancel-before-picking", ""}, // CSV; EDI below
		{"cancel-after-picking", "rejection before the parcel ships"},
		{"return-damaged", "returns"},
		{"sku-renamed-at-warehouse", "item master"},
		{"wms-duplicate-events", "acknowledged"},
		{"backorder", "backorder"},
		{"warehouse-silent-sla", "sla.ack"},
	}
	for _, c := range cases {
		s := byName[c.scenario]
		if s == nil {
			t.Fatalf("no catalogue scenario %s", c.scenario)
		}
		e := &env{s: s, byID: map[string]*simWarehouse{}}
		for _, ws := range s.Setup.Warehouses {
			w := &simWarehouse{id: ws.ID, hubID: "lyon-csv", file: &fileWarehouse{kind: transportCSV}}
			e.whs = append(e.whs, w)
			e.byID[ws.ID] = w
		}
		err := e.fileLimits()
		var skip *skipError
		switch {
		case c.skip == "" && err != nil:
			t.Errorf("%s: skipped (%v), want it played over files", c.scenario, err)
		case c.skip != "" && (!errors.As(err, &skip) || !strings.Contains(skip.why, c.skip) || !strings.Contains(skip.why, "lyon-csv is a CSV warehouse")):
			t.Errorf("%s: %v, want a skip saying %q and naming the warehouse", c.scenario, err, c.skip)
		}
	}

	// Over EDI, a cancellation is played too (the hub asks for the 3PL's
	// answer every cancel_recheck, compressed in rehearsals).
	e := &env{s: byName["cancel-before-picking"], byID: map[string]*simWarehouse{}}
	e.whs = []*simWarehouse{{id: "paris", hubID: "nj-edi", file: &fileWarehouse{kind: transportEDI}}}
	if err := e.fileLimits(); err != nil {
		t.Errorf("cancel over EDI: %v, want it played over files", err)
	}

	// An EDI profile the simulated 3PL cannot speak skips; ids map across.
	var skip *skipError
	n9 := config.Connector{Kind: "edi", Settings: map[string]any{"profile": map[string]any{"sender_id": "HUB", "receiver_id": "WMS", "tracking_in": "N9"}}}
	if _, _, err := partnerDialect(n9, "nj-edi"); !errors.As(err, &skip) || !strings.Contains(skip.why, "N9") {
		t.Errorf("tracking_in N9: %v, want a skip", err)
	}
	ok := config.Connector{Kind: "edi", Settings: map[string]any{"profile": map[string]any{"sender_id": "HUB", "sender_qualifier": "01", "receiver_id": "WMS"}}}
	_, ep, err := partnerDialect(ok, "nj-edi")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(filesim.EDIProfile{ID: "WMS", HubQualifier: "01", HubID: "HUB"}, ep); d != "" {
		t.Errorf("partner's X12 ids (-want +got):\n%s", d)
	}
}
