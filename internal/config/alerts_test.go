package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const detectShop = "shops:\n- domain: a.myshopify.com\n  access_token: a\n  webhook_secret: b\n  warehouses: [{id: p, connector: {kind: rest}}]\n"

func TestAlertsAndReconcileBlocks(t *testing.T) {
	t.Setenv("CROSSDOCK_TEST_SMTP_PASSWORD", "pw")
	c, err := Parse(strings.NewReader(detectShop + `reconcile:
  interval: 30s
  order_grace: 5m
alerts:
  group_wait: 1m
  repeat_interval: 2h
  channels:
  - {name: ops, kind: webhook, url: "https://ops.example.com/hook", secret: k}
  - {name: chat, kind: slack, url: "https://chat.example.com/services/T/B/XYZ", min_severity: critical}
  - name: mail
    kind: email
    shops: [a.myshopify.com]
    smtp_addr: "smtp.example.com:587"
    username: crossdock
    password: ${CROSSDOCK_TEST_SMTP_PASSWORD}
    from: crossdock@example.com
    to: [ops@example.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Reconcile.Interval.Std(0); got != 30*time.Second {
		t.Errorf("reconcile.interval %v", got)
	}
	if got := c.Alerts.RepeatInterval.Std(0); got != 2*time.Hour {
		t.Errorf("alerts.repeat_interval %v", got)
	}
	if got := c.Alerts.Channels[2].Password; got != "pw" {
		t.Errorf("password not expanded: %q", got)
	}
	m := c.Masked()
	got := []string{m.Alerts.Channels[0].Secret, m.Alerts.Channels[1].URL, m.Alerts.Channels[2].Password}
	if diff := cmp.Diff([]string{"***", "https://chat.example.com/***", "***"}, got); diff != "" {
		t.Errorf("masked secrets (-want +got):\n%s", diff)
	}
	if c.Alerts.Channels[0].Secret != "k" {
		t.Error("Masked modified the original")
	}
}

func TestAlertsValidation(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, yaml, want string }{
		{"unsigned webhook", `{name: a, kind: webhook, url: "https://x.example.com/h"}`, "alerts.channels[0].secret: required"},
		{"bad url", `{name: a, kind: slack, url: "not a url"}`, "alerts.channels[0].url"},
		{"unknown kind", `{name: a, kind: pager}`, `alerts.channels[0].kind: "pager" is not webhook, slack or email`},
		{"email without recipients", `{name: a, kind: email, smtp_addr: "h:25", from: a@example.com}`, "alerts.channels[0].to: at least one"},
		{"unknown shop", `{name: a, kind: slack, url: "https://x.example.com/h", shops: [b.myshopify.com]}`, `"b.myshopify.com" is not a configured shop`},
		{"bad severity", `{name: a, kind: slack, url: "https://x.example.com/h", min_severity: loud}`, "min_severity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(detectShop + "alerts:\n  channels:\n  - " + tc.yaml + "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Parse(strings.NewReader(detectShop + "alerts:\n  channels:\n  - {name: a, kind: slack, url: \"https://x.example.com/h\", nope: 1}\n")); err == nil {
		t.Error("an unknown key in a channel was accepted")
	}
}
