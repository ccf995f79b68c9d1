package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file holds the governance blocks of a shop: who owns each data
// domain (sources_of_truth, with a per-warehouse override), the policies
// for the cases integrations disagree on (policies), and the SLA timers
// (sla). They are decoded strictly by hand so that every error names its
// line; all errors of a file are reported together. An absent block is
// valid (older configurations still start) and `crossdock readiness`
// reports it as a blocker.

// DataDomain is a kind of data whose owner the configuration declares.
type DataDomain string

// The data domains.
const (
	// DomainCatalog is products, variants and SKUs.
	DomainCatalog DataDomain = "catalog"
	// DomainOrders is orders and their fulfillment orders.
	DomainOrders DataDomain = "orders"
	// DomainStock is the sellable quantity per SKU and location.
	DomainStock DataDomain = "stock"
	// DomainExecutionStatus is the progress of a warehouse order
	// (acknowledged, picking, packed, shipped).
	DomainExecutionStatus DataDomain = "execution_status"
	// DomainTracking is carriers and tracking numbers of shipments.
	DomainTracking DataDomain = "tracking"
	// DomainReturns is return authorisations and their receipt.
	DomainReturns DataDomain = "returns"
)

// Owner is the system whose value wins for a data domain.
type Owner string

// The owners.
const (
	OwnerShopify Owner = "shopify"
	OwnerWMS     Owner = "wms"
	OwnerHub     Owner = "hub"
)

// Domains lists every data domain, in a stable order.
func Domains() []DataDomain {
	return []DataDomain{DomainCatalog, DomainOrders, DomainStock, DomainExecutionStatus, DomainTracking, DomainReturns}
}

// AllowedOwners returns the owners a domain may declare:
//
//	catalog           shopify | wms | hub   (hub: the hub's mapping tables are the master)
//	orders            shopify               (orders are taken in Shopify only)
//	stock             wms | shopify         (shopify: the hub never pushes quantities)
//	execution_status  wms                   (only the warehouse knows what it picked)
//	tracking          wms | shopify         (shopify: tracking is entered in Shopify)
//	returns           shopify | wms
//
// Anything else is refused when the configuration is loaded.
func AllowedOwners(d DataDomain) []Owner {
	switch d {
	case DomainCatalog:
		return []Owner{OwnerShopify, OwnerWMS, OwnerHub}
	case DomainOrders:
		return []Owner{OwnerShopify}
	case DomainStock:
		return []Owner{OwnerWMS, OwnerShopify}
	case DomainExecutionStatus:
		return []Owner{OwnerWMS}
	case DomainTracking:
		return []Owner{OwnerWMS, OwnerShopify}
	case DomainReturns:
		return []Owner{OwnerShopify, OwnerWMS}
	}
	return nil
}

// SourcesOfTruth maps data domains to their owner. A shop declares it for
// all its warehouses; a warehouse's own block overrides single domains.
type SourcesOfTruth map[DataDomain]Owner

// UnmarshalYAML reads `domain: owner` pairs, refusing unknown domains and
// owners a domain does not allow, with their line.
func (s *SourcesOfTruth) UnmarshalYAML(n *yaml.Node) error {
	m := SourcesOfTruth{}
	var errs []string
	err := eachKey(n, "sources_of_truth", func(k, v *yaml.Node) {
		d := DataDomain(k.Value)
		allowed := AllowedOwners(d)
		if allowed == nil {
			errs = append(errs, fmt.Sprintf("line %d: sources_of_truth: unknown domain %q (domains: %s)", k.Line, k.Value, joinDomains(Domains())))
			return
		}
		if v.Kind != yaml.ScalarNode || !slices.Contains(allowed, Owner(v.Value)) {
			errs = append(errs, fmt.Sprintf("line %d: sources_of_truth.%s: %q is not an owner of %s (allowed: %s)", v.Line, d, v.Value, d, joinOwners(allowed)))
			return
		}
		m[d] = Owner(v.Value)
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*s = m
	return nil
}

// UnknownSKUPolicy says what dispatch does with a fulfillment order that
// has a SKU no warehouse of the shop knows.
type UnknownSKUPolicy string

// The unknown-SKU policies.
const (
	// UnknownSKUHold puts the fulfillment order on hold with the reason;
	// it is routed again once the SKU is known (the default behaviour).
	UnknownSKUHold UnknownSKUPolicy = "hold"
	// UnknownSKUReject submits the fulfillment request and rejects it with
	// the reason, so the merchant sees it refused in Shopify.
	UnknownSKUReject UnknownSKUPolicy = "reject"
)

// CancelAfterPickPolicy says how a cancellation request is answered once
// the warehouse has started picking the order.
type CancelAfterPickPolicy string

// The cancel-after-pick policies.
const (
	// CancelAfterPickReject rejects the request without asking the
	// warehouse.
	CancelAfterPickReject CancelAfterPickPolicy = "reject"
	// CancelAfterPickAskWMS forwards the cancel to the warehouse, which
	// decides whether it can still stop the parcel.
	CancelAfterPickAskWMS CancelAfterPickPolicy = "ask_wms"
)

// ManualStockEditPolicy says what the hub does when a quantity at a
// location whose stock the WMS owns is changed in Shopify by someone else.
type ManualStockEditPolicy string

// The manual-stock-edit policies.
const (
	// ManualStockEditCorrect overwrites the edit with the warehouse's
	// figure on the next push, and records the correction.
	ManualStockEditCorrect ManualStockEditPolicy = "correct"
	// ManualStockEditFlag leaves the edit in place and records a
	// discrepancy for an operator.
	ManualStockEditFlag ManualStockEditPolicy = "flag"
)

// Policies are a shop's answers to the situations where systems disagree.
// An empty field means "not declared".
type Policies struct {
	// UnknownSKU is hold or reject.
	UnknownSKU UnknownSKUPolicy `yaml:"unknown_sku,omitempty"`
	// CancelAfterPick is reject or ask_wms.
	CancelAfterPick CancelAfterPickPolicy `yaml:"cancel_after_pick,omitempty"`
	// ManualStockEdit is correct or flag.
	ManualStockEdit ManualStockEditPolicy `yaml:"manual_stock_edit,omitempty"`
}

// UnmarshalYAML reads the policies strictly, naming the line of any
// unknown key or value.
func (p *Policies) UnmarshalYAML(n *yaml.Node) error {
	var out Policies
	var errs []string
	enum := func(v *yaml.Node, key string, allowed ...string) string {
		if v.Kind != yaml.ScalarNode || !slices.Contains(allowed, v.Value) {
			errs = append(errs, fmt.Sprintf("line %d: policies.%s: %q is not one of %s", v.Line, key, v.Value, strings.Join(allowed, ", ")))
			return ""
		}
		return v.Value
	}
	err := eachKey(n, "policies", func(k, v *yaml.Node) {
		switch k.Value {
		case "unknown_sku":
			out.UnknownSKU = UnknownSKUPolicy(enum(v, k.Value, string(UnknownSKUHold), string(UnknownSKUReject)))
		case "cancel_after_pick":
			out.CancelAfterPick = CancelAfterPickPolicy(enum(v, k.Value, string(CancelAfterPickReject), string(CancelAfterPickAskWMS)))
		case "manual_stock_edit":
			out.ManualStockEdit = ManualStockEditPolicy(enum(v, k.Value, string(ManualStockEditCorrect), string(ManualStockEditFlag)))
		default:
			errs = append(errs, fmt.Sprintf("line %d: policies: unknown key %q (keys: unknown_sku, cancel_after_pick, manual_stock_edit)", k.Line, k.Value))
		}
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*p = out
	return nil
}

// SLA holds a shop's timers per hop (issue: detect, explain, act). A zero
// field means "not declared".
type SLA struct {
	// AckWithin: an order sent to a warehouse is acknowledged within it.
	AckWithin Duration `yaml:"ack_within,omitempty"`
	// FulfillmentRequestAnswerWithin: a fulfillment request submitted to
	// one of the hub's warehouses is accepted or rejected within it.
	FulfillmentRequestAnswerWithin Duration `yaml:"fulfillment_request_answer_within,omitempty"`
	// TrackingWithin: a shipped order has its tracking in Shopify within it.
	TrackingWithin Duration `yaml:"tracking_within,omitempty"`
	// StockRefreshWithin: each warehouse's stock is refreshed within it.
	StockRefreshWithin Duration `yaml:"stock_refresh_within,omitempty"`
	// WebhookCheckInterval: how often the webhook subscriptions are checked
	// (Shopify deletes subscriptions that keep failing).
	WebhookCheckInterval Duration `yaml:"webhook_check_interval,omitempty"`
}

// slaFields names the SLA timers in configuration order.
var slaFields = []string{"ack_within", "fulfillment_request_answer_within", "tracking_within", "stock_refresh_within", "webhook_check_interval"}

// Timers returns the SLA's timers by configuration key.
func (s *SLA) Timers() map[string]*Duration {
	return map[string]*Duration{
		"ack_within":                        &s.AckWithin,
		"fulfillment_request_answer_within": &s.FulfillmentRequestAnswerWithin,
		"tracking_within":                   &s.TrackingWithin,
		"stock_refresh_within":              &s.StockRefreshWithin,
		"webhook_check_interval":            &s.WebhookCheckInterval,
	}
}

// TimerNames lists the SLA keys in configuration order.
func TimerNames() []string { return slices.Clone(slaFields) }

// UnmarshalYAML reads the timers strictly: known keys, positive
// durations, errors with their line.
func (s *SLA) UnmarshalYAML(n *yaml.Node) error {
	var out SLA
	timers := out.Timers()
	var errs []string
	err := eachKey(n, "sla", func(k, v *yaml.Node) {
		d, ok := timers[k.Value]
		if !ok {
			errs = append(errs, fmt.Sprintf("line %d: sla: unknown key %q (keys: %s)", k.Line, k.Value, strings.Join(slaFields, ", ")))
			return
		}
		if err := d.UnmarshalYAML(v); err != nil {
			errs = append(errs, fmt.Sprintf("sla.%s: %v", k.Value, err))
			return
		}
		if *d <= 0 {
			errs = append(errs, fmt.Sprintf("line %d: sla.%s: %q must be a positive duration", v.Line, k.Value, v.Value))
		}
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*s = out
	return nil
}

// eachKey calls f for each key and value of the mapping node n.
func eachKey(n *yaml.Node, block string, f func(k, v *yaml.Node)) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s: expected a mapping", n.Line, block)}}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f(n.Content[i], n.Content[i+1])
	}
	return nil
}

func joinDomains(ds []DataDomain) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

func joinOwners(os []Owner) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

// validateGovernance checks what decoding cannot see: values set in code
// rather than read from a file. It returns one error per problem, prefixed
// with the path (p is "shops[i]").
func (s *Shop) validateGovernance(p string) []error {
	errs := validateSources(p, s.SourcesOfTruth)
	for j, w := range s.Warehouses {
		errs = append(errs, validateSources(fmt.Sprintf("%s.warehouses[%d]", p, j), w.SourcesOfTruth)...)
	}
	check := func(key, v string, allowed ...string) {
		if v != "" && !slices.Contains(allowed, v) {
			errs = append(errs, fmt.Errorf("%s.policies.%s: %q is not one of %s", p, key, v, strings.Join(allowed, ", ")))
		}
	}
	check("unknown_sku", string(s.Policies.UnknownSKU), string(UnknownSKUHold), string(UnknownSKUReject))
	check("cancel_after_pick", string(s.Policies.CancelAfterPick), string(CancelAfterPickReject), string(CancelAfterPickAskWMS))
	check("manual_stock_edit", string(s.Policies.ManualStockEdit), string(ManualStockEditCorrect), string(ManualStockEditFlag))
	timers := s.SLA.Timers()
	for _, k := range slaFields {
		if *timers[k] < 0 {
			errs = append(errs, fmt.Errorf("%s.sla.%s: must be a positive duration", p, k))
		}
	}
	return errs
}

func validateSources(p string, sot SourcesOfTruth) []error {
	var errs []error
	keys := make([]string, 0, len(sot))
	for d := range sot {
		keys = append(keys, string(d))
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := DataDomain(k)
		allowed := AllowedOwners(d)
		if allowed == nil {
			errs = append(errs, fmt.Errorf("%s.sources_of_truth: unknown domain %q", p, k))
			continue
		}
		if !slices.Contains(allowed, sot[d]) {
			errs = append(errs, fmt.Errorf("%s.sources_of_truth.%s: %q is not an owner of %s (allowed: %s)", p, d, sot[d], d, joinOwners(allowed)))
		}
	}
	return errs
}
