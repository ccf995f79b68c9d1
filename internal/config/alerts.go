package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
)

// Reconcile tunes reconciliation: the periodic comparison of Shopify, the
// hub and the warehouses that records discrepancies (see
// internal/reconcile).
type Reconcile struct {
	// Interval is how often each shop is reconciled. Default 5m.
	Interval Duration `yaml:"interval,omitempty"`
	// OrdersLookback is how far back orders updated in Shopify are
	// compared with the hub's (each run lists them: mind Shopify's cost
	// points). Default 6h.
	OrdersLookback Duration `yaml:"orders_lookback,omitempty"`
	// OrderGrace is how long an order may exist in Shopify unknown to the
	// hub before it is a discrepancy (its webhook may be on its way).
	// Default 2m.
	OrderGrace Duration `yaml:"order_grace,omitempty"`
	// ShipmentGrace is how long a stored shipment may wait for its
	// Shopify fulfillment before it is a discrepancy. Default 2m.
	ShipmentGrace Duration `yaml:"shipment_grace,omitempty"`
	// StockGrace is how long Shopify's figure may differ from the hub's
	// target (a push or a sync under way) before it is a discrepancy.
	// Default 2m.
	StockGrace Duration `yaml:"stock_grace,omitempty"`
}

// Alert channel kinds.
const (
	AlertWebhook = "webhook" // JSON POST signed with HMAC-SHA256
	AlertSlack   = "slack"   // Slack-compatible incoming webhook
	AlertEmail   = "email"   // email over SMTP
)

// Alerts configures where discrepancies are announced, and how often.
type Alerts struct {
	// GroupWait is how long the hub gathers a group's (a shop and a
	// discrepancy kind) first discrepancies before its first notice, so
	// that a burst is one alert. Default 30s.
	GroupWait Duration `yaml:"group_wait,omitempty"`
	// RepeatInterval is the least time between two notices of a group
	// while it stays open (sent only when discrepancies were added).
	// Default 1h.
	RepeatInterval Duration `yaml:"repeat_interval,omitempty"`
	// EvaluateInterval is how often the groups are evaluated. Default 10s.
	EvaluateInterval Duration `yaml:"evaluate_interval,omitempty"`
	// Channels receive the notices.
	Channels []AlertChannel `yaml:"channels,omitempty"`
}

// AlertChannel is one destination of alert notices.
type AlertChannel struct {
	// Name identifies the channel in the alert history.
	Name string `yaml:"name"`
	// Kind is webhook, slack or email.
	Kind string `yaml:"kind"`
	// Shops limits the channel to some shops (domains); empty = all.
	Shops []string `yaml:"shops,omitempty"`
	// MinSeverity drops notices of groups below it: info (default),
	// warning or critical.
	MinSeverity string `yaml:"min_severity,omitempty"`
	// URL is where webhook and slack notices are POSTed.
	URL string `yaml:"url,omitempty"`
	// Secret signs webhook notices: X-Crossdock-Signature is
	// "sha256=" + hex HMAC-SHA256 of the body with this key.
	Secret string `yaml:"secret,omitempty"`
	// SMTPAddr is the SMTP server (host:port) of email notices.
	SMTPAddr string `yaml:"smtp_addr,omitempty"`
	// Username and Password authenticate to the SMTP server (PLAIN;
	// empty = no authentication).
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	// From and To address email notices.
	From string   `yaml:"from,omitempty"`
	To   []string `yaml:"to,omitempty"`
}

// ForShop reports whether the channel receives notices of shop.
func (c *AlertChannel) ForShop(shop string) bool {
	return len(c.Shops) == 0 || slices.Contains(c.Shops, shop)
}

// validateDetect checks the reconcile and alerts blocks.
func (c *Config) validateDetect() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for k, d := range map[string]Duration{"interval": c.Reconcile.Interval, "orders_lookback": c.Reconcile.OrdersLookback,
		"order_grace": c.Reconcile.OrderGrace, "shipment_grace": c.Reconcile.ShipmentGrace, "stock_grace": c.Reconcile.StockGrace} {
		if d < 0 {
			add("reconcile.%s: must be a positive duration", k)
		}
	}
	if c.Alerts.GroupWait < 0 {
		add("alerts.group_wait: must be a positive duration")
	}
	if c.Alerts.EvaluateInterval < 0 {
		add("alerts.evaluate_interval: must be a positive duration")
	}
	if c.Alerts.RepeatInterval < 0 {
		add("alerts.repeat_interval: must be a positive duration")
	}
	shops := map[string]bool{}
	for _, s := range c.Shops {
		shops[s.Domain] = true
	}
	names := map[string]bool{}
	for i, ch := range c.Alerts.Channels {
		p := fmt.Sprintf("alerts.channels[%d]", i)
		if ch.Name == "" {
			add("%s.name: required", p)
		} else if names[ch.Name] {
			add("%s.name: %q appears twice", p, ch.Name)
		}
		names[ch.Name] = true
		for _, s := range ch.Shops {
			if !shops[s] {
				add("%s.shops: %q is not a configured shop", p, s)
			}
		}
		switch ch.MinSeverity {
		case "", "info", "warning", "critical":
		default:
			add("%s.min_severity: %q is not info, warning or critical", p, ch.MinSeverity)
		}
		switch ch.Kind {
		case AlertWebhook, AlertSlack:
			if u, err := url.Parse(ch.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				add("%s.url: %q is not an http(s) URL", p, ch.URL)
			}
			if ch.Kind == AlertWebhook && ch.Secret == "" {
				add("%s.secret: required (receivers verify the X-Crossdock-Signature header with it)", p)
			}
		case AlertEmail:
			if !strings.Contains(ch.SMTPAddr, ":") {
				add("%s.smtp_addr: %q is not host:port", p, ch.SMTPAddr)
			}
			if _, err := mail.ParseAddress(ch.From); err != nil {
				add("%s.from: %q: %v", p, ch.From, err)
			}
			if len(ch.To) == 0 {
				add("%s.to: at least one address is required", p)
			}
			for _, to := range ch.To {
				if _, err := mail.ParseAddress(to); err != nil {
					add("%s.to: %q: %v", p, to, err)
				}
			}
		default:
			add("%s.kind: %q is not webhook, slack or email", p, ch.Kind)
		}
	}
	return errs
}

// masked returns a copy with the channels' secrets replaced by "***".
func (a Alerts) masked() Alerts {
	a.Channels = slices.Clone(a.Channels)
	for i := range a.Channels {
		c := &a.Channels[i]
		c.Secret, c.Password = mask(c.Secret), mask(c.Password)
		if u, err := url.Parse(c.URL); err == nil && (u.RawQuery != "" || c.Kind == AlertSlack) {
			// Incoming-webhook URLs carry their token in the path.
			c.URL = u.Scheme + "://" + u.Host + "/***"
		}
	}
	return a
}
