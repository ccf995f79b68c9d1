// Package config loads crossdock's YAML configuration: the database, the
// HTTP listener, and the tenants — each Shopify shop with its credentials and
// the warehouses that serve it, each warehouse with its connector.
// Each shop also declares its governance (governance.go): the owner of each
// data domain (sources_of_truth, overridable per warehouse), its policies
// and its SLA timers; `crossdock readiness` requires them.
//
// Decoding is strict (unknown keys are errors, with their line). String
// values may reference environment variables as ${NAME}, which must be set,
// or ${NAME:-default}, which takes default when NAME is unset or empty
// (comments are not expanded, nor values read as durations, owners or
// policies); CROSSDOCK_DATABASE_DRIVER,
// CROSSDOCK_DATABASE_DSN and CROSSDOCK_LISTEN override the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of a hub.
type Config struct {
	Database Database `yaml:"database"`
	// Listen is the address of the hub's HTTP server (webhooks, pages, API).
	Listen string `yaml:"listen"`
	// PublicURL is the base URL Shopify reaches the hub at; webhook
	// subscriptions are registered as PublicURL + "/webhooks/shopify".
	PublicURL string `yaml:"public_url"`
	// WebhookMaxBody is the largest webhook body accepted, in bytes; larger
	// bodies are answered 413. Default 1 MiB.
	WebhookMaxBody int64 `yaml:"webhook_max_body"`
	// Workers is the number of concurrent job workers. Default 50.
	Workers int `yaml:"workers"`
	// Shops are the tenants.
	Shops []Shop `yaml:"shops"`
	// Reconcile and Alerts: detect discrepancies and announce them
	// (alerts.go).
	Reconcile Reconcile `yaml:"reconcile,omitempty"`
	Alerts    Alerts    `yaml:"alerts,omitempty"`
}

// Database selects the store.
type Database struct {
	// Driver is "sqlite" (embedded, default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a postgres:// URL for postgres.
	DSN string `yaml:"dsn"`
}

// Shop is one Shopify shop (a tenant).
type Shop struct {
	// Domain is the shop's myshopify.com domain; it is the tenant key.
	Domain string `yaml:"domain"`
	// APIURL is the base URL of the Admin API. Default https://<domain>;
	// set it to a simulator's URL for rehearsals.
	APIURL string `yaml:"api_url"`
	// AccessToken is the Admin API access token.
	AccessToken string `yaml:"access_token"`
	// WebhookSecret is the app's client secret that signs webhooks.
	WebhookSecret string `yaml:"webhook_secret"`
	// PreviousWebhookSecret is accepted too during a secret rotation.
	PreviousWebhookSecret string `yaml:"previous_webhook_secret"`
	// BackfillInterval is how often orders updated since the stored cursor
	// are polled, to recover orders whose webhook never came. Default 1m.
	BackfillInterval Duration `yaml:"backfill_interval"`
	// HeldRetryInterval is how often held orders are routed again (the
	// cause of a hold — no stock, an unknown SKU — may have been fixed).
	// Default 1m.
	HeldRetryInterval Duration `yaml:"held_retry_interval"`
	// StockInterval is how often warehouse stock is read and pushed.
	// Default 30s.
	StockInterval Duration `yaml:"stock_interval"`
	// StockReadInterval is how often Shopify's levels at each warehouse
	// location are read in full (between reads the hub follows its own
	// pushes and inventory_levels/update webhooks). Default 10m.
	StockReadInterval Duration `yaml:"stock_read_interval"`
	// RegisterWebhooks makes the hub create its webhook subscriptions at
	// start if they are missing. Default true.
	RegisterWebhooks *bool `yaml:"register_webhooks"`
	// Warehouses serve this shop, in rank order unless Rank says otherwise.
	Warehouses []Warehouse `yaml:"warehouses"`
	// SourcesOfTruth declares the owner of each data domain for every
	// warehouse of the shop (see governance.go for the allowed owners).
	SourcesOfTruth SourcesOfTruth `yaml:"sources_of_truth,omitempty"`
	// Policies answer the cases where systems disagree (unknown SKU,
	// cancellation after picking, manual stock edit).
	Policies Policies `yaml:"policies,omitempty"`
	// SLA holds the timers per hop.
	SLA SLA `yaml:"sla,omitempty"`
	// Stock tunes the stock engine for the shop: default safety buffer,
	// per-SKU buffers and caps, the settling time of external changes.
	Stock ShopStock `yaml:"stock"`
}

// Warehouse is one warehouse (a Shopify fulfillment-service location).
type Warehouse struct {
	// ID is a short stable name, used in external references and URLs.
	ID string `yaml:"id"`
	// Name is the fulfillment service / location name in Shopify.
	Name string `yaml:"name"`
	// Rank orders warehouses for routing (1 is tried first).
	Rank int `yaml:"rank"`
	// LocationID is the Shopify location GID. When empty the hub registers
	// a fulfillment service named Name and remembers its location.
	LocationID string `yaml:"location_id"`
	// PollInterval is how often the warehouse's event feed is read.
	// Default 1s.
	PollInterval Duration `yaml:"poll_interval"`
	// Connector configures how the hub talks to the WMS.
	Connector Connector `yaml:"connector"`
	// SourcesOfTruth overrides the shop's owners for this warehouse.
	SourcesOfTruth SourcesOfTruth `yaml:"sources_of_truth,omitempty"`
	// Stock tunes how this warehouse's figures enter the stock engine.
	Stock WarehouseStock `yaml:"stock"`
}

// Connector is a connector kind and its own settings, decoded by the
// connector itself.
type Connector struct {
	Kind     string
	Settings map[string]any
}

// UnmarshalYAML reads `kind:` and keeps the other keys as Settings.
func (c *Connector) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return err
	}
	k, _ := m["kind"].(string)
	if k == "" {
		return fmt.Errorf("line %d: connector needs a kind", n.Line)
	}
	delete(m, "kind")
	c.Kind, c.Settings = k, m
	return nil
}

// MarshalYAML writes the connector back as one mapping.
func (c Connector) MarshalYAML() (any, error) {
	m := map[string]any{"kind": c.Kind}
	for k, v := range c.Settings {
		m[k] = v
	}
	return m, nil
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Std returns the time.Duration, or def when unset.
func (d Duration) Std(def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return time.Duration(d)
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// Parse decodes, applies defaults and environment overrides, and validates.
func Parse(r io.Reader) (*Config, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// ${NAME} is expanded in the decoded string values only: errors keep
	// their line numbers and a commented-out ${NAME} asks for nothing.
	var missing []string
	expandStrings(reflect.ValueOf(&c).Elem(), func(v string) string {
		return envRef.ReplaceAllStringFunc(v, func(m string) string {
			sub := envRef.FindStringSubmatch(m)
			name := sub[1]
			val, ok := os.LookupEnv(name)
			if def, hasDef := strings.CutPrefix(sub[2], ":-"); hasDef {
				if val == "" {
					val = def
				}
				return val
			}
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables not set: %s", strings.Join(missing, ", "))
	}
	if v := os.Getenv("CROSSDOCK_DATABASE_DRIVER"); v != "" {
		c.Database.Driver = v
	}
	if v := os.Getenv("CROSSDOCK_DATABASE_DSN"); v != "" {
		c.Database.DSN = v
	}
	if v := os.Getenv("CROSSDOCK_LISTEN"); v != "" {
		c.Listen = v
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// expandStrings applies f to every string reachable from v (fields,
// pointers, slices, and values of maps such as connector settings).
func expandStrings(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Interface {
			if s, ok := v.Interface().(string); ok && v.CanSet() {
				v.Set(reflect.ValueOf(f(s)))
				return
			}
		}
		expandStrings(v.Elem(), f)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				expandStrings(v.Field(i), f)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			expandStrings(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if s, ok := e.Interface().(string); ok {
				v.SetMapIndex(k, reflect.ValueOf(f(s)))
				continue
			}
			cp := reflect.New(e.Type()).Elem()
			cp.Set(e)
			expandStrings(cp, f)
			v.SetMapIndex(k, cp)
		}
	}
}

func (c *Config) applyDefaults() {
	if c.Database.Driver == "" {
		c.Database.Driver = "sqlite"
	}
	if c.Database.DSN == "" && c.Database.Driver == "sqlite" {
		c.Database.DSN = "crossdock.db"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	if c.WebhookMaxBody == 0 {
		c.WebhookMaxBody = 1 << 20
	}
	if c.Workers == 0 {
		c.Workers = 50
	}
	for i := range c.Shops {
		s := &c.Shops[i]
		if s.APIURL == "" {
			s.APIURL = "https://" + s.Domain
		}
		for j := range s.Warehouses {
			w := &s.Warehouses[j]
			if w.Rank == 0 {
				w.Rank = j + 1
			}
			if w.Name == "" {
				w.Name = w.ID
			}
		}
	}
}

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate reports every problem found, one per line.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Database.Driver {
	case "sqlite", "postgres":
	default:
		add("database.driver: %q is not sqlite or postgres", c.Database.Driver)
	}
	if c.Database.DSN == "" {
		add("database.dsn: required")
	}
	if _, err := url.Parse(c.PublicURL); err != nil {
		add("public_url: %v", err)
	}
	if c.WebhookMaxBody < 1024 {
		add("webhook_max_body: %d is below 1024 bytes", c.WebhookMaxBody)
	}
	if len(c.Shops) == 0 {
		add("shops: at least one shop is required")
	}
	seenShop := map[string]bool{}
	for i, s := range c.Shops {
		p := fmt.Sprintf("shops[%d]", i)
		if !strings.HasSuffix(s.Domain, ".myshopify.com") {
			add("%s.domain: %q is not a *.myshopify.com domain", p, s.Domain)
		}
		if seenShop[s.Domain] {
			add("%s.domain: %q appears twice", p, s.Domain)
		}
		seenShop[s.Domain] = true
		if s.AccessToken == "" {
			add("%s.access_token: required", p)
		}
		if s.WebhookSecret == "" {
			add("%s.webhook_secret: required (webhooks cannot be verified without it)", p)
		}
		if u, err := url.Parse(s.APIURL); err != nil || u.Host == "" {
			add("%s.api_url: %q is not an absolute URL", p, s.APIURL)
		}
		if len(s.Warehouses) == 0 {
			add("%s.warehouses: at least one warehouse is required", p)
		}
		seenWH := map[string]bool{}
		for j, w := range s.Warehouses {
			wp := fmt.Sprintf("%s.warehouses[%d]", p, j)
			if !idRe.MatchString(w.ID) {
				add("%s.id: %q must be 1-32 lower-case letters, digits, - or _", wp, w.ID)
			}
			if seenWH[w.ID] {
				add("%s.id: %q appears twice in this shop", wp, w.ID)
			}
			seenWH[w.ID] = true
			if w.LocationID != "" && !strings.HasPrefix(w.LocationID, "gid://shopify/Location/") {
				add("%s.location_id: %q is not a gid://shopify/Location/ id", wp, w.LocationID)
			}
			if w.Connector.Kind == "" {
				add("%s.connector.kind: required", wp)
			}
		}
		errs = append(errs, s.validateGovernance(p)...)
		if err := s.validateStock(); err != nil {
			add("%s.%v", p, err)
		}
	}
	errs = append(errs, c.validateDetect()...)
	return errors.Join(errs...)
}

// RegisterWebhooksEnabled reports whether the hub registers webhook
// subscriptions for s at start.
func (s *Shop) RegisterWebhooksEnabled() bool {
	return s.RegisterWebhooks == nil || *s.RegisterWebhooks
}

// Masked returns a copy of c with secrets replaced by "***", for display.
func (c *Config) Masked() *Config {
	m := *c
	m.Alerts = c.Alerts.masked()
	m.Shops = make([]Shop, len(c.Shops))
	for i, s := range c.Shops {
		s.AccessToken = mask(s.AccessToken)
		s.WebhookSecret = mask(s.WebhookSecret)
		s.PreviousWebhookSecret = mask(s.PreviousWebhookSecret)
		whs := make([]Warehouse, len(s.Warehouses))
		for j, w := range s.Warehouses {
			settings := map[string]any{}
			for k, v := range w.Connector.Settings {
				if strings.Contains(k, "token") || strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "key") {
					v = mask(fmt.Sprint(v))
				}
				settings[k] = v
			}
			w.Connector.Settings = settings
			whs[j] = w
		}
		s.Warehouses = whs
		m.Shops[i] = s
	}
	if strings.Contains(m.Database.DSN, "@") {
		if u, err := url.Parse(m.Database.DSN); err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			m.Database.DSN = u.String()
		}
	}
	return &m
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}
