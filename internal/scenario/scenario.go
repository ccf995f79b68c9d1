// Package scenario rehearses incidents before production: a scenario file
// (YAML) sets up a shop, its warehouses, catalogue and stock, plays a
// timeline of actions (orders, edits, cancellations, faults on either side,
// simulated time, operator actions) against a real hub wired to the
// Shopify and warehouse simulators, and checks expectations on what each
// system then holds. The built-in catalogue (catalogue/*.yaml) covers every
// incident of the product brief; `crossdock scenario run` runs it, or the
// user's own files, optionally against the user's own configuration.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/config"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	// Name identifies the scenario (lower-case words joined by dashes).
	Name string `yaml:"name"`
	// Incident is the incident rehearsed, in the words of the catalogue
	// of incidents (see Incidents).
	Incident string `yaml:"incident"`
	// Description tells an operator what happens and what the hub must do.
	Description string `yaml:"description"`
	Setup       Setup  `yaml:"setup"`
	Steps       []Step `yaml:"steps"`
	// File is where the scenario was read from.
	File string `yaml:"-"`
}

// Setup is the world a scenario starts from.
type Setup struct {
	// SKUs are the catalogue: one Shopify product variant per SKU.
	SKUs       []string         `yaml:"skus"`
	Warehouses []WarehouseSetup `yaml:"warehouses"`
	Shopify    ShopifySetup     `yaml:"shopify"`
	Hub        HubSetup         `yaml:"hub"`
	Line       int              `yaml:"-"`
}

// WarehouseSetup is one simulated warehouse (REST protocol), in rank order.
type WarehouseSetup struct {
	ID string `yaml:"id"`
	// Stock is the on-hand quantity per SKU.
	Stock map[string]int `yaml:"stock"`
	// Codes are the warehouse's own item codes for Shopify SKUs that it
	// knows under another name (SKU → code).
	Codes map[string]string `yaml:"codes"`
	// Times are the simulated durations of the warehouse's steps.
	Times WarehouseTimes `yaml:"times"`
	// Packages ships every order of two units or more in that many
	// parcels (0 or 1: one parcel).
	Packages int `yaml:"packages"`
	// PartialShip ships every order of two units or more in two
	// shipments.
	PartialShip bool `yaml:"partial_ship"`
	Line        int  `yaml:"-"`
}

// WarehouseTimes are simulated durations; defaults: ack 1m, pick 10m,
// pack 10m, ship 20m.
type WarehouseTimes struct {
	Ack  Duration `yaml:"ack"`
	Pick Duration `yaml:"pick"`
	Pack Duration `yaml:"pack"`
	Ship Duration `yaml:"ship"`
}

// ShopifySetup configures the Shopify simulator at the start.
type ShopifySetup struct {
	Faults ShopifyFaults `yaml:"faults"`
}

// ShopifyFaults are the Shopify simulator's injected faults (rates in
// [0, 1]).
type ShopifyFaults struct {
	HTTP429Rate          float64 `yaml:"http429_rate"`
	HTTP5xxRate          float64 `yaml:"http5xx_rate"`
	WebhookDuplicateRate float64 `yaml:"webhook_duplicate_rate"`
	WebhookReorderRate   float64 `yaml:"webhook_reorder_rate"`
	WebhookDropRate      float64 `yaml:"webhook_drop_rate"`
	// Throttle shrinks the cost bucket so that GraphQL answers THROTTLED:
	// the bucket holds this many points and restores a tenth of it per
	// second (0: a bucket large enough never to throttle).
	Throttle float64 `yaml:"throttle_bucket"`
}

// HubSetup tunes the hub's configuration (ignored with --config, where
// the user's configuration rules).
type HubSetup struct {
	Policies config.Policies  `yaml:"policies"`
	Stock    config.ShopStock `yaml:"stock"`
	SLA      config.SLA       `yaml:"sla"`
}

// Duration is a time.Duration written as "90s", "10m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 90s, 10m, 2h)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Std returns d, or def when d is zero.
func (d Duration) Std(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// Step is one entry of the timeline: exactly one action (or expect).
type Step struct {
	// Note is free text shown in reports.
	Note string `yaml:"note"`

	Order     *OrderAction     `yaml:"order"`
	Edit      *EditAction      `yaml:"edit"`
	Cancel    *CancelAction    `yaml:"cancel"`
	Return    *ReturnAction    `yaml:"return"`
	Shopify   *ShopifyAction   `yaml:"shopify"`
	Warehouse *WarehouseAction `yaml:"warehouse"`
	// Advance moves the warehouses' simulated clock: every step due in
	// between (acknowledge, pick, pack, ship, carrier scans) happens.
	Advance *Duration `yaml:"advance"`
	// Wait lets real time pass (the hub's own timers); use sparingly.
	Wait *Duration  `yaml:"wait"`
	Hub  *HubAction `yaml:"hub"`
	// Expect checks the systems; each expectation is polled until it holds
	// or Within passes.
	Expect []Expectation `yaml:"expect"`
	// Within bounds the wait of Expect in real time (default 30s).
	Within Duration `yaml:"within"`

	Line int `yaml:"-"`
}

// UnmarshalYAML records the step's line.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	s.Line = n.Line
	return nil
}

// OrderAction creates a Shopify order.
type OrderAction struct {
	// ID names the order within the scenario.
	ID    string `yaml:"id"`
	Lines Lines  `yaml:"lines"`
	// Address is a preset ("paris", "lyon", "new-york", "newark",
	// "missing-street", "missing-postcode") or a full address.
	Address AddressSpec `yaml:"address"`
}

// EditAction edits an order in Shopify (an order edit by the merchant).
type EditAction struct {
	Order string `yaml:"order"`
	// Quantities sets the quantity of existing lines, by SKU.
	Quantities Lines `yaml:"quantities"`
	// Add adds lines.
	Add Lines `yaml:"add"`
	// Address replaces the shipping address.
	Address *AddressSpec `yaml:"address"`
}

// CancelAction cancels an order as a merchant does in the Shopify admin:
// outright while no warehouse accepted it, otherwise by a cancellation
// request to the fulfillment service.
type CancelAction struct {
	Order  string `yaml:"order"`
	Reason string `yaml:"reason"`
}

// ReturnAction is a customer return: the merchant creates the return in
// Shopify, then the warehouse receives the parcel.
type ReturnAction struct {
	Order string `yaml:"order"`
	// ID names the return within the scenario.
	ID string `yaml:"id"`
	// Lines are the units returned, by SKU.
	Lines Lines `yaml:"lines"`
	// Receive, when set, is the warehouse's receipt: condition per SKU
	// and quantity (restockable or damaged).
	Receive []ReceiptLine `yaml:"receive"`
}

// ReceiptLine is units of a SKU received back in one condition.
type ReceiptLine struct {
	SKU       string `yaml:"sku"`
	Quantity  int    `yaml:"quantity"`
	Condition string `yaml:"condition"`
}

// ShopifyAction changes the Shopify side.
type ShopifyAction struct {
	// Faults replaces the simulator's faults.
	Faults *ShopifyFaults `yaml:"faults"`
	// SetAvailable edits "available" by hand at a warehouse's location
	// (as a merchant in the admin would).
	SetAvailable *SetAvailable `yaml:"set_available"`
	// RenameSKU renames a variant's SKU in Shopify only.
	RenameSKU *Rename `yaml:"rename_sku"`
}

// SetAvailable is a hand edit of a stock figure in Shopify.
type SetAvailable struct {
	SKU       string `yaml:"sku"`
	Warehouse string `yaml:"warehouse"`
	Quantity  int    `yaml:"quantity"`
}

// Rename renames a SKU.
type Rename struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// WarehouseAction changes a warehouse.
type WarehouseAction struct {
	ID string `yaml:"id"`
	// Down makes the warehouse's API answer 503 (true) or recover (false).
	Down *bool `yaml:"down"`
	// DuplicateEvents publishes every event that many times from now on
	// (1: none duplicated, 2: each twice).
	DuplicateEvents int `yaml:"duplicate_events"`
	// Short marks SKUs short on the shelf: orders needing them wait
	// (backorder) until Restock.
	Short []string `yaml:"short"`
	// Restock receives units (on hand added per SKU).
	Restock map[string]int `yaml:"restock"`
	// SetStock sets the warehouse's on-hand figures (a stock count).
	SetStock map[string]int `yaml:"set_stock"`
	// RenameSKU renames an item in the warehouse's item master only.
	RenameSKU *Rename `yaml:"rename_sku"`
	// Packages and PartialShip change how later orders ship.
	Packages    *int  `yaml:"packages"`
	PartialShip *bool `yaml:"partial_ship"`
}

// HubAction acts on the hub or as its operator.
type HubAction struct {
	// Crash stops the hub abruptly (jobs in flight abandoned, nothing
	// flushed) and starts a new one on the same database.
	Crash bool `yaml:"crash"`
	// Reconcile runs reconciliation now.
	Reconcile bool `yaml:"reconcile"`
	// SyncStock runs a stock sync now.
	SyncStock bool `yaml:"sync_stock"`
	// MapSKU is an operator adding a SKU mapping for a warehouse.
	MapSKU *MapSKU `yaml:"map_sku"`
}

// MapSKU maps a Shopify SKU to a warehouse's item code.
type MapSKU struct {
	Warehouse string `yaml:"warehouse"`
	SKU       string `yaml:"sku"`
	Code      string `yaml:"code"`
}

// Expectation is one check. Exactly one of its kinds is set.
type Expectation struct {
	ShopifyOrder *ShopifyOrderExpect `yaml:"shopify_order"`
	WMSOrder     *WMSOrderExpect     `yaml:"wms_order"`
	HubOrder     *HubOrderExpect     `yaml:"hub_order"`
	Timeline     *TimelineExpect     `yaml:"timeline"`
	Stock        *StockExpect        `yaml:"stock"`
	Discrepancy  *DiscrepancyExpect  `yaml:"discrepancy"`
	Alert        *AlertExpect        `yaml:"alert"`
	Webhooks     *WebhooksExpect     `yaml:"webhooks"`
	Return       *ReturnExpect       `yaml:"return"`
	ShopifyCalls *ShopifyCallsExpect `yaml:"shopify_calls"`

	Line int `yaml:"-"`
}

// UnmarshalYAML records the expectation's line.
func (e *Expectation) UnmarshalYAML(n *yaml.Node) error {
	type plain Expectation
	if err := n.Decode((*plain)(e)); err != nil {
		return err
	}
	e.Line = n.Line
	return nil
}

// ShopifyOrderExpect checks an order in Shopify.
type ShopifyOrderExpect struct {
	Order string `yaml:"order"`
	// FulfillmentStatus is displayFulfillmentStatus (FULFILLED,
	// PARTIALLY_FULFILLED, UNFULFILLED).
	FulfillmentStatus string `yaml:"fulfillment_status"`
	// Fulfillments counts fulfillments (not cancelled).
	Fulfillments *Count `yaml:"fulfillments"`
	// TrackingNumbers counts distinct tracking numbers on them.
	TrackingNumbers *Count `yaml:"tracking_numbers"`
	// Cancelled says whether the order is cancelled.
	Cancelled *bool `yaml:"cancelled"`
	// Hold is a hold reason on an open fulfillment order ("" = none).
	Hold *string `yaml:"hold"`
	// Fulfilled is the quantity fulfilled per SKU.
	Fulfilled map[string]int `yaml:"fulfilled"`
	// FulfillmentOrders counts the order's fulfillment orders that are
	// not closed or cancelled, with a location (split orders have several).
	Locations *Count `yaml:"locations"`
}

// WMSOrderExpect checks the warehouses' orders for a Shopify order.
type WMSOrderExpect struct {
	Order string `yaml:"order"`
	// Warehouse limits the check to one warehouse ("" = all).
	Warehouse string `yaml:"warehouse"`
	// Count is how many warehouse orders exist for it (cancelled
	// included).
	Count *Count `yaml:"count"`
	// State is the state of the live (or last) one: received,
	// acknowledged, picking, packed, partially_shipped, shipped, cancelled.
	State string `yaml:"state"`
	// Shipments counts the shipments of all of them.
	Shipments *Count `yaml:"shipments"`
	// Units is the units ordered at the warehouse per SKU (live orders).
	Units map[string]int `yaml:"units"`
}

// HubOrderExpect checks the hub's record of an order.
type HubOrderExpect struct {
	Order string `yaml:"order"`
	State string `yaml:"state"`
}

// TimelineExpect checks that an order's timeline explains something.
type TimelineExpect struct {
	Order string `yaml:"order"`
	// Says is a text some entry contains (case-insensitive).
	Says string `yaml:"says"`
	// Count bounds the number of entries saying it (default ≥ 1).
	Count *Count `yaml:"count"`
}

// StockExpect checks stock figures for a SKU at a warehouse.
type StockExpect struct {
	SKU       string `yaml:"sku"`
	Warehouse string `yaml:"warehouse"`
	// ShopifyAvailable is "available" at the warehouse's Shopify location.
	ShopifyAvailable *Count `yaml:"shopify_available"`
	// WMSOnHand and WMSAvailable are the warehouse's own figures.
	WMSOnHand    *Count `yaml:"wms_on_hand"`
	WMSAvailable *Count `yaml:"wms_available"`
	// LedgerSays is a text an entry of the hub's stock ledger for the SKU
	// at the warehouse's location contains (case-insensitive): what the
	// hub decided about the figure and why.
	LedgerSays string `yaml:"ledger_says"`
}

// DiscrepancyExpect checks the hub's discrepancies.
type DiscrepancyExpect struct {
	Kind string `yaml:"kind"`
	// Order or SKU narrow it to one entity.
	Order string `yaml:"order"`
	SKU   string `yaml:"sku"`
	// Open is how many are open now; Opened how many were ever opened.
	Open   *Count `yaml:"open"`
	Opened *Count `yaml:"opened"`
}

// AlertExpect checks the alert notices sent to the operator.
type AlertExpect struct {
	Kind   string `yaml:"kind"`
	Notice string `yaml:"notice"` // firing (default) or resolved
	Count  *Count `yaml:"count"`  // default ≥ 1
}

// WebhooksExpect checks the hub's inbox of Shopify webhooks.
type WebhooksExpect struct {
	Topic string `yaml:"topic"`
	// Stored counts deliveries stored (duplicates are not stored twice).
	Stored *Count `yaml:"stored"`
	// Delivered counts deliveries Shopify made (duplicates included).
	Delivered *Count `yaml:"delivered"`
}

// ReturnExpect checks a return in Shopify.
type ReturnExpect struct {
	ID string `yaml:"id"`
	// Restocked and NotRestocked are disposed quantities.
	Restocked    *Count `yaml:"restocked"`
	NotRestocked *Count `yaml:"not_restocked"`
}

// ShopifyCallsExpect checks what the Shopify simulator answered the hub:
// proof that a fault scenario did inject its faults.
type ShopifyCallsExpect struct {
	Throttled *Count `yaml:"throttled"` // GraphQL THROTTLED answers
	HTTP429   *Count `yaml:"http429"`   // injected HTTP 429
	HTTP5xx   *Count `yaml:"http5xx"`   // injected HTTP 503
}

// Count is an expected number: "3", ">= 1", "< 2", "0".
type Count struct {
	Op string
	N  int
}

var countRE = regexp.MustCompile(`^\s*(>=|<=|>|<|==|=)?\s*(-?\d+)\s*$`)

// UnmarshalYAML parses a count.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	m := countRE.FindStringSubmatch(n.Value)
	if n.Kind != yaml.ScalarNode || m == nil {
		return fmt.Errorf("line %d: %q is not a count (3, \">= 1\", \"< 2\")", n.Line, n.Value)
	}
	c.Op = m[1]
	if c.Op == "" || c.Op == "=" {
		c.Op = "=="
	}
	c.N, _ = strconv.Atoi(m[2])
	return nil
}

// Holds reports whether v satisfies c.
func (c Count) Holds(v int) bool {
	switch c.Op {
	case ">=":
		return v >= c.N
	case "<=":
		return v <= c.N
	case ">":
		return v > c.N
	case "<":
		return v < c.N
	}
	return v == c.N
}

// String writes c as it is written in a scenario.
func (c Count) String() string {
	if c.Op == "==" {
		return strconv.Itoa(c.N)
	}
	return c.Op + " " + strconv.Itoa(c.N)
}

// Lines are quantities per SKU, in the order written.
type Lines []Line

// Line is a quantity of a SKU.
type Line struct {
	SKU      string
	Quantity int
}

// UnmarshalYAML reads a mapping SKU: quantity, keeping its order.
func (l *Lines) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: lines are a mapping of SKU to quantity, e.g. {TEE-M: 2}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		q, err := strconv.Atoi(v.Value)
		if err != nil || v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: quantity of %s must be a whole number, got %q", v.Line, k.Value, v.Value)
		}
		*l = append(*l, Line{SKU: k.Value, Quantity: q})
	}
	return nil
}

// AddressSpec is a preset name or an explicit address.
type AddressSpec struct {
	Preset                        string
	Name, Address1, City          string
	Province, PostalCode, Country string
	Line                          int
}

// UnmarshalYAML reads a preset name or a mapping.
func (a *AddressSpec) UnmarshalYAML(n *yaml.Node) error {
	a.Line = n.Line
	if n.Kind == yaml.ScalarNode {
		a.Preset = n.Value
		return nil
	}
	var m struct {
		Name       string `yaml:"name"`
		Address1   string `yaml:"address1"`
		City       string `yaml:"city"`
		Province   string `yaml:"province"`
		PostalCode string `yaml:"postal_code"`
		Country    string `yaml:"country"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	a.Name, a.Address1, a.City, a.Province, a.PostalCode, a.Country = m.Name, m.Address1, m.City, m.Province, m.PostalCode, m.Country
	return nil
}

// Error is a problem in a scenario file, at a line and field.
type Error struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// Errors are every problem found in a file.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// Parse reads and validates a scenario. Problems come back as Errors, each
// with its line and field.
func Parse(name string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErrors(name, data, err)
	}
	if root.Kind == 0 {
		return nil, Errors{{File: name, Line: 1, Msg: "empty file"}}
	}
	if len(root.Content) == 1 && root.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Line: root.Content[0].Line, Msg: "a scenario is a mapping (name, description, setup, steps)"}}
	}
	// Unknown fields everywhere (with their paths), then type errors, then
	// what only makes sense once decoded: every problem in one pass.
	es := unknownFields(name, &root, reflect.TypeFor[Scenario](), "")
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Line: 1, Msg: "empty file"}}
		}
		return nil, append(es, yamlErrors(name, data, err)...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		es = append(es, Error{File: name, Line: extra.Line, Msg: "one scenario per file (found a second YAML document)"})
	}
	s.File = name
	es = append(es, s.Validate()...)
	if len(es) > 0 {
		return nil, es
	}
	return &s, nil
}

// yamlErrors turns the decoder's error into Errors with lines and fields.
func yamlErrors(name string, data []byte, err error) Errors {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out Errors
	for _, m := range msgs {
		// A syntax error the parser reports without a line is placed on
		// the first line, or on the last for an unexpected end.
		e := Error{File: name, Msg: m, Line: 1}
		if strings.Contains(m, "end of stream") {
			e.Line = bytes.Count(data, []byte("\n")) + 1
		}
		if sub := yamlLineRE.FindStringSubmatch(m); sub != nil {
			e.Line, _ = strconv.Atoi(sub[1])
			e.Msg = sub[2]
			// Nested "line N:" from our own UnmarshalYAML errors.
			for {
				inner := yamlLineRE.FindStringSubmatch(e.Msg)
				if inner == nil {
					break
				}
				e.Line, _ = strconv.Atoi(inner[1])
				e.Msg = inner[2]
			}
		}
		out = append(out, e)
	}
	return out
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks what the YAML decoder cannot: required fields, references
// between steps (orders, SKUs, warehouses), one action per step.
func (s *Scenario) Validate() Errors {
	var es Errors
	add := func(line int, field, format string, args ...any) {
		if line < 1 {
			line = 1 // a section that is missing entirely: the top of the file (found by FuzzParse)
		}
		es = append(es, Error{File: s.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(s.Name) {
		add(1, "name", "required: lower-case words joined by dashes, got %q", s.Name)
	}
	if strings.TrimSpace(s.Description) == "" {
		add(1, "description", "required: tell the operator what happens and what the hub must do")
	}
	if s.Incident != "" && !slices.Contains(Incidents, s.Incident) {
		add(1, "incident", "%q is not in the incident catalogue (%s)", s.Incident, strings.Join(Incidents, "; "))
	}
	skus := map[string]bool{}
	for _, k := range s.Setup.SKUs {
		if k == "" || skus[k] {
			add(s.Setup.Line, "setup.skus", "SKU %q is empty or repeated", k)
		}
		skus[k] = true
	}
	if len(s.Setup.SKUs) == 0 {
		add(s.Setup.Line, "setup.skus", "required: at least one SKU")
	}
	whs := map[string]bool{}
	for i, w := range s.Setup.Warehouses {
		f := fmt.Sprintf("setup.warehouses[%d]", i)
		if !nameRE.MatchString(w.ID) || whs[w.ID] {
			add(w.Line, f+".id", "required, unique, lower-case: got %q", w.ID)
		}
		whs[w.ID] = true
		for sku, q := range w.Stock {
			if !skus[sku] {
				add(w.Line, f+".stock", "SKU %q is not in setup.skus", sku)
			}
			if q < 0 {
				add(w.Line, f+".stock", "quantity of %s is negative", sku)
			}
		}
		for sku := range w.Codes {
			if !skus[sku] {
				add(w.Line, f+".codes", "SKU %q is not in setup.skus", sku)
			}
		}
		if w.Packages < 0 || w.Packages > 3 {
			add(w.Line, f+".packages", "between 0 and 3, got %d", w.Packages)
		}
	}
	if len(s.Setup.Warehouses) == 0 {
		add(s.Setup.Line, "setup.warehouses", "required: at least one warehouse")
	}
	checkFaults := func(line int, field string, f ShopifyFaults) {
		for n, v := range map[string]float64{"http429_rate": f.HTTP429Rate, "http5xx_rate": f.HTTP5xxRate,
			"webhook_duplicate_rate": f.WebhookDuplicateRate, "webhook_reorder_rate": f.WebhookReorderRate, "webhook_drop_rate": f.WebhookDropRate} {
			if v < 0 || v > 1 || v != v {
				add(line, field+"."+n, "a rate between 0 and 1, got %v", v)
			}
		}
		if f.Throttle < 0 {
			add(line, field+".throttle_bucket", "points, not negative")
		}
	}
	checkFaults(s.Setup.Line, "setup.shopify.faults", s.Setup.Shopify.Faults)

	orders, returns := map[string]bool{}, map[string]bool{}
	sku := func(line int, field, k string) {
		if !skus[k] {
			add(line, field, "SKU %q is not in setup.skus", k)
		}
	}
	knownSKU := func(line int, field string, ls Lines, allowUnknown bool) {
		if len(ls) == 0 {
			add(line, field, "required: at least one SKU: quantity")
		}
		for _, l := range ls {
			if !allowUnknown {
				sku(line, field, l.SKU)
			}
			if l.Quantity < 0 || (l.Quantity == 0 && !allowUnknown) {
				add(line, field, "quantity of %s must be positive, got %d", l.SKU, l.Quantity)
			}
		}
	}
	order := func(line int, field, id string) {
		if !orders[id] {
			add(line, field, "order %q is not created by an earlier step", id)
		}
	}
	warehouse := func(line int, field, id string, optional bool) {
		if id == "" && optional {
			return
		}
		if !whs[id] {
			add(line, field, "warehouse %q is not in setup.warehouses", id)
		}
	}
	if len(s.Steps) == 0 {
		add(1, "steps", "required: at least one step")
	}
	hasExpect := false
	for i, st := range s.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		var set []string
		for name, on := range map[string]bool{"order": st.Order != nil, "edit": st.Edit != nil, "cancel": st.Cancel != nil,
			"return": st.Return != nil, "shopify": st.Shopify != nil, "warehouse": st.Warehouse != nil, "advance": st.Advance != nil,
			"wait": st.Wait != nil, "hub": st.Hub != nil, "expect": st.Expect != nil} {
			if on {
				set = append(set, name)
			}
		}
		slices.Sort(set)
		if len(set) != 1 {
			add(st.Line, f, "a step has exactly one of order, edit, cancel, return, shopify, warehouse, advance, wait, hub, expect; found %v", set)
			continue
		}
		switch {
		case st.Order != nil:
			o := st.Order
			if o.ID == "" || orders[o.ID] {
				add(st.Line, f+".order.id", "required and unique, got %q", o.ID)
			}
			orders[o.ID] = true
			// Unknown SKUs are allowed in orders: that is an incident.
			knownSKU(st.Line, f+".order.lines", o.Lines, true)
			if o.Address.Preset != "" {
				if _, ok := presets[o.Address.Preset]; !ok {
					add(o.Address.Line, f+".order.address", "unknown preset %q (known: %s)", o.Address.Preset, strings.Join(presetNames(), ", "))
				}
			}
		case st.Edit != nil:
			order(st.Line, f+".edit.order", st.Edit.Order)
			if len(st.Edit.Quantities)+len(st.Edit.Add) == 0 && st.Edit.Address == nil {
				add(st.Line, f+".edit", "nothing to edit: give quantities, add or address")
			}
			for _, l := range st.Edit.Add {
				sku(st.Line, f+".edit.add", l.SKU)
			}
			for _, l := range st.Edit.Quantities {
				if l.Quantity < 0 {
					add(st.Line, f+".edit.quantities", "quantity of %s is negative", l.SKU)
				}
			}
		case st.Cancel != nil:
			order(st.Line, f+".cancel.order", st.Cancel.Order)
		case st.Return != nil:
			r := st.Return
			order(st.Line, f+".return.order", r.Order)
			if r.ID == "" || returns[r.ID] {
				add(st.Line, f+".return.id", "required and unique, got %q", r.ID)
			}
			returns[r.ID] = true
			knownSKU(st.Line, f+".return.lines", r.Lines, false)
			for j, rl := range r.Receive {
				sku(st.Line, fmt.Sprintf("%s.return.receive[%d].sku", f, j), rl.SKU)
				if rl.Condition != "restockable" && rl.Condition != "damaged" {
					add(st.Line, fmt.Sprintf("%s.return.receive[%d].condition", f, j), "restockable or damaged, got %q", rl.Condition)
				}
				if rl.Quantity <= 0 {
					add(st.Line, fmt.Sprintf("%s.return.receive[%d].quantity", f, j), "must be positive")
				}
			}
		case st.Shopify != nil:
			a := st.Shopify
			n := 0
			if a.Faults != nil {
				n++
				checkFaults(st.Line, f+".shopify.faults", *a.Faults)
			}
			if a.SetAvailable != nil {
				n++
				sku(st.Line, f+".shopify.set_available.sku", a.SetAvailable.SKU)
				warehouse(st.Line, f+".shopify.set_available.warehouse", a.SetAvailable.Warehouse, false)
			}
			if a.RenameSKU != nil {
				n++
				sku(st.Line, f+".shopify.rename_sku.from", a.RenameSKU.From)
				if a.RenameSKU.To == "" {
					add(st.Line, f+".shopify.rename_sku.to", "required")
				}
			}
			if n == 0 {
				add(st.Line, f+".shopify", "nothing to do: give faults, set_available or rename_sku")
			}
		case st.Warehouse != nil:
			a := st.Warehouse
			warehouse(st.Line, f+".warehouse.id", a.ID, false)
			for _, k := range a.Short {
				sku(st.Line, f+".warehouse.short", k)
			}
			for k := range a.Restock {
				sku(st.Line, f+".warehouse.restock", k)
			}
			for k := range a.SetStock {
				sku(st.Line, f+".warehouse.set_stock", k)
			}
			if a.RenameSKU != nil {
				sku(st.Line, f+".warehouse.rename_sku.from", a.RenameSKU.From)
				if a.RenameSKU.To == "" {
					add(st.Line, f+".warehouse.rename_sku.to", "required")
				}
			}
			if a.DuplicateEvents < 0 || a.DuplicateEvents > 2 {
				add(st.Line, f+".warehouse.duplicate_events", "1 (none) or 2 (each event twice), got %d", a.DuplicateEvents)
			}
		case st.Advance != nil:
			if *st.Advance <= 0 {
				add(st.Line, f+".advance", "a positive duration")
			}
		case st.Wait != nil:
			if time.Duration(*st.Wait) > 2*time.Minute {
				add(st.Line, f+".wait", "at most 2m of real time; use advance for warehouse time")
			}
		case st.Hub != nil:
			h := st.Hub
			n := 0
			for _, on := range []bool{h.Crash, h.Reconcile, h.SyncStock, h.MapSKU != nil} {
				if on {
					n++
				}
			}
			if n != 1 {
				add(st.Line, f+".hub", "exactly one of crash, reconcile, sync_stock, map_sku")
			}
			if h.MapSKU != nil {
				warehouse(st.Line, f+".hub.map_sku.warehouse", h.MapSKU.Warehouse, false)
				if h.MapSKU.SKU == "" || h.MapSKU.Code == "" {
					add(st.Line, f+".hub.map_sku", "sku and code are required")
				}
			}
		case st.Expect != nil:
			hasExpect = true
			if len(st.Expect) == 0 {
				add(st.Line, f+".expect", "at least one expectation")
			}
			for j, e := range st.Expect {
				es = append(es, s.validateExpect(e, fmt.Sprintf("%s.expect[%d]", f, j), orders, returns, whs)...)
			}
		}
	}
	if len(s.Steps) > 0 && !hasExpect {
		add(1, "steps", "no expect step: a scenario must check something")
	}
	return es
}

func (s *Scenario) validateExpect(e Expectation, f string, orders, returns, whs map[string]bool) Errors {
	var es Errors
	add := func(field, format string, args ...any) {
		es = append(es, Error{File: s.File, Line: e.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	order := func(field, id string) {
		if !orders[id] {
			add(field, "order %q is not created by an earlier step", id)
		}
	}
	wh := func(field, id string, optional bool) {
		if (id != "" || !optional) && !whs[id] {
			add(field, "warehouse %q is not in setup.warehouses", id)
		}
	}
	n := 0
	switch {
	case e.ShopifyOrder != nil:
		n++
		x := e.ShopifyOrder
		order(f+".shopify_order.order", x.Order)
		if x.FulfillmentStatus != "" && !slices.Contains([]string{"FULFILLED", "PARTIALLY_FULFILLED", "UNFULFILLED"}, x.FulfillmentStatus) {
			add(f+".shopify_order.fulfillment_status", "FULFILLED, PARTIALLY_FULFILLED or UNFULFILLED, got %q", x.FulfillmentStatus)
		}
	}
	if e.WMSOrder != nil {
		n++
		order(f+".wms_order.order", e.WMSOrder.Order)
		wh(f+".wms_order.warehouse", e.WMSOrder.Warehouse, true)
		if st := e.WMSOrder.State; st != "" && !slices.Contains([]string{"received", "acknowledged", "picking", "packed", "partially_shipped", "shipped", "cancelled"}, st) {
			add(f+".wms_order.state", "unknown state %q", st)
		}
	}
	if e.HubOrder != nil {
		n++
		order(f+".hub_order.order", e.HubOrder.Order)
		if e.HubOrder.State == "" {
			add(f+".hub_order.state", "required")
		}
	}
	if e.Timeline != nil {
		n++
		order(f+".timeline.order", e.Timeline.Order)
		if strings.TrimSpace(e.Timeline.Says) == "" {
			add(f+".timeline.says", "required: a text an entry contains")
		}
	}
	if e.Stock != nil {
		n++
		wh(f+".stock.warehouse", e.Stock.Warehouse, false)
		if e.Stock.SKU == "" {
			add(f+".stock.sku", "required")
		}
		if e.Stock.ShopifyAvailable == nil && e.Stock.WMSOnHand == nil && e.Stock.WMSAvailable == nil && e.Stock.LedgerSays == "" {
			add(f+".stock", "give shopify_available, wms_on_hand, wms_available or ledger_says")
		}
	}
	if e.Discrepancy != nil {
		n++
		if e.Discrepancy.Kind == "" {
			add(f+".discrepancy.kind", "required")
		}
		if e.Discrepancy.Order != "" {
			order(f+".discrepancy.order", e.Discrepancy.Order)
		}
		if e.Discrepancy.Open == nil && e.Discrepancy.Opened == nil {
			add(f+".discrepancy", "give open or opened")
		}
	}
	if e.Alert != nil {
		n++
		if e.Alert.Kind == "" {
			add(f+".alert.kind", "required")
		}
		if e.Alert.Notice != "" && e.Alert.Notice != "firing" && e.Alert.Notice != "resolved" {
			add(f+".alert.notice", "firing or resolved, got %q", e.Alert.Notice)
		}
	}
	if e.Webhooks != nil {
		n++
		if e.Webhooks.Topic == "" {
			add(f+".webhooks.topic", "required, e.g. orders/create")
		}
		if e.Webhooks.Stored == nil && e.Webhooks.Delivered == nil {
			add(f+".webhooks", "give stored or delivered")
		}
	}
	if e.Return != nil {
		n++
		if !returns[e.Return.ID] {
			add(f+".return.id", "return %q is not created by an earlier step", e.Return.ID)
		}
	}
	if e.ShopifyCalls != nil {
		n++
		if e.ShopifyCalls.Throttled == nil && e.ShopifyCalls.HTTP429 == nil && e.ShopifyCalls.HTTP5xx == nil {
			add(f+".shopify_calls", "give throttled, http429 or http5xx")
		}
	}
	if n != 1 {
		add(f, "an expectation has exactly one of shopify_order, wms_order, hub_order, timeline, stock, discrepancy, alert, webhooks, return, shopify_calls")
	}
	return es
}

// Incidents is the catalogue of incidents of the product brief (§7) that
// the built-in scenarios cover; a scenario's incident is one of them.
var Incidents = []string{
	"duplicate webhook deliveries",
	"webhooks out of order",
	"a lost webhook",
	"order with an unknown SKU",
	"incomplete or invalid address",
	"order edited after transmission",
	"order cancelled before picking",
	"order cancelled after picking",
	"order cancelled after shipping",
	"partial shipment and backorder",
	"one order split across two warehouses",
	"several packages with several tracking numbers",
	"WMS unreachable for a while",
	"WMS acknowledges twice or ships twice",
	"stock drift between WMS and Shopify",
	"a stock edit made by hand in Shopify at a WMS-owned location",
	"Shopify throttling and 5xx",
	"a hub crash in the middle of a flow",
	"a return received damaged",
	"a SKU renamed in one system only",
	"normal flow",
	"warehouse silent past its SLA",
}
