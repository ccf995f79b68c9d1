package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// shopYAML is a valid one-shop configuration; extra is inserted at the
// shop's level and whExtra at its warehouse's level (both indented).
func shopYAML(extra, whExtra string) string {
	return "shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n" + extra +
		"  warehouses:\n  - id: p\n    connector: {kind: rest}\n" + whExtra
}

func TestGovernanceBlocks(t *testing.T) {
	t.Parallel()
	c, err := Parse(strings.NewReader(shopYAML(`  sources_of_truth: {catalog: shopify, orders: shopify, stock: wms, execution_status: wms, tracking: wms, returns: shopify}
  policies: {unknown_sku: reject, cancel_after_pick: ask_wms, manual_stock_edit: flag}
  sla: {ack_within: 15m, fulfillment_request_answer_within: 5m, tracking_within: 24h, stock_refresh_within: 2m, webhook_check_interval: 1h}
`, "    sources_of_truth: {stock: shopify}\n")))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shops[0]
	want := SourcesOfTruth{DomainCatalog: OwnerShopify, DomainOrders: OwnerShopify, DomainStock: OwnerWMS, DomainExecutionStatus: OwnerWMS, DomainTracking: OwnerWMS, DomainReturns: OwnerShopify}
	if diff := cmp.Diff(want, s.SourcesOfTruth); diff != "" {
		t.Errorf("sources_of_truth (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(SourcesOfTruth{DomainStock: OwnerShopify}, s.Warehouses[0].SourcesOfTruth); diff != "" {
		t.Errorf("warehouse override (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Policies{UnknownSKU: UnknownSKUReject, CancelAfterPick: CancelAfterPickAskWMS, ManualStockEdit: ManualStockEditFlag}, s.Policies); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	if got := s.SLA.TrackingWithin.Std(0); got != 24*time.Hour {
		t.Errorf("tracking_within = %v", got)
	}
	if got := s.SLA.WebhookCheckInterval.Std(0); got != time.Hour {
		t.Errorf("webhook_check_interval = %v", got)
	}
}

func TestGovernanceBlocksOptional(t *testing.T) {
	t.Parallel()
	c, err := Parse(strings.NewReader(shopYAML("  policies:\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shops[0]
	if s.SourcesOfTruth != nil || s.Policies != (Policies{}) || s.SLA != (SLA{}) {
		t.Fatalf("unset blocks decoded as %+v %+v %+v", s.SourcesOfTruth, s.Policies, s.SLA)
	}
}

func TestGovernanceErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, shop, wh string
		want           []string
	}{
		{"unknown domain", "  sources_of_truth:\n    stok: wms\n", "", []string{`line 6: sources_of_truth: unknown domain "stok"`}},
		{"owner not allowed", "  sources_of_truth:\n    orders: wms\n", "", []string{`line 6: sources_of_truth.orders: "wms" is not an owner of orders (allowed: shopify)`}},
		{"nonsense owner in warehouse", "", "    sources_of_truth: {stock: erp}\n", []string{`line 8: sources_of_truth.stock: "erp" is not an owner of stock`}},
		{"bad policy value", "  policies:\n    unknown_sku: ignore\n", "", []string{`line 6: policies.unknown_sku: "ignore" is not one of hold, reject`}},
		{"unknown policy", "  policies:\n    unknown_skus: hold\n", "", []string{`line 6: policies: unknown key "unknown_skus"`}},
		{"negative sla", "  sla:\n    ack_within: -5m\n", "", []string{`line 6: sla.ack_within: "-5m" must be a positive duration`}},
		{"bad sla duration", "  sla:\n    tracking_within: tomorrow\n", "", []string{`sla.tracking_within: line 6: time: invalid duration`}},
		{"unknown sla", "  sla:\n    ack: 5m\n", "", []string{`line 6: sla: unknown key "ack"`}},
		{"all errors at once", "  policies:\n    unknown_sku: ignore\n    cancel_after_pick: never\n  sla: {ack_within: 0s}\n", "",
			[]string{`line 6: policies.unknown_sku`, `line 7: policies.cancel_after_pick: "never" is not one of reject, ask_wms`, `line 8: sla.ack_within`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(shopYAML(tc.shop, tc.wh)))
			if err == nil {
				t.Fatal("Parse accepted the configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGovernanceValidateInCode(t *testing.T) {
	t.Parallel()
	c, err := Parse(strings.NewReader(shopYAML("", "")))
	if err != nil {
		t.Fatal(err)
	}
	c.Shops[0].SourcesOfTruth = SourcesOfTruth{DomainExecutionStatus: OwnerShopify}
	c.Shops[0].Policies.ManualStockEdit = "ignore"
	err = c.Validate()
	for _, w := range []string{`shops[0].sources_of_truth.execution_status: "shopify" is not an owner`, `shops[0].policies.manual_stock_edit: "ignore"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate = %v, want %q", err, w)
		}
	}
}

func TestEnvDefault(t *testing.T) {
	t.Setenv("CROSSDOCK_TEST_SET", "set")
	t.Setenv("CROSSDOCK_TEST_EMPTY", "")
	c, err := Parse(strings.NewReader(`shops:
- domain: a.myshopify.com
  api_url: ${CROSSDOCK_TEST_NEVER_SET:-http://127.0.0.1:1/x}
  access_token: ${CROSSDOCK_TEST_SET:-default}
  webhook_secret: ${CROSSDOCK_TEST_EMPTY:-fallback}${CROSSDOCK_TEST_EMPTY}
  warehouses: [{id: p, connector: {kind: rest, base_url: "${CROSSDOCK_TEST_NEVER_SET:-}"}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Shops[0]
	got := []string{s.APIURL, s.AccessToken, s.WebhookSecret, s.Warehouses[0].Connector.Settings["base_url"].(string)}
	if diff := cmp.Diff([]string{"http://127.0.0.1:1/x", "set", "fallback", ""}, got); diff != "" {
		t.Errorf("expansion (-want +got):\n%s", diff)
	}
}

// TestGovernanceRoundTrip: a configuration written back to YAML (as tools
// and tests do) parses again to the same blocks, declared or not.
func TestGovernanceRoundTrip(t *testing.T) {
	t.Parallel()
	for _, extra := range []string{"", "  sources_of_truth: {stock: wms}\n  policies: {unknown_sku: reject}\n  sla: {ack_within: 15m}\n"} {
		c, err := Parse(strings.NewReader(shopYAML(extra, "    sources_of_truth: {tracking: shopify}\n")))
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		s, s2 := c.Shops[0], again.Shops[0]
		if diff := cmp.Diff([]any{s.SourcesOfTruth, s.Policies, s.SLA, s.Warehouses[0].SourcesOfTruth}, []any{s2.SourcesOfTruth, s2.Policies, s2.SLA, s2.Warehouses[0].SourcesOfTruth}); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}
