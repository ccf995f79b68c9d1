// Package governance applies a shop's declared sources of truth and
// policies (configuration blocks `sources_of_truth` and `policies`): it
// resolves the owner of a data domain for a shop × warehouse and decides
// whether a write is allowed, with the reason to record.
//
// A write against the declared owner is refused; the caller records the
// Decision's Reason (timeline, discrepancy) rather than dropping it.
//
// Where each domain is enforced:
//
//   - orders (owner always shopify): by construction — the hub reads orders
//     and never writes one.
//   - execution_status (owner always wms): by construction — progress only
//     moves on warehouse events (wmsfeed, order.Advance).
//   - stock: Rules.StockPush is the check for the stock push before it
//     writes Shopify quantities at a warehouse's location (refused when
//     Shopify owns the stock there), and Rules.ManualStockEdit says whether
//     a change made in Shopify by someone else is corrected or flagged.
//     The stock push (internal/stock) is being rewritten and calls them
//     there; until then it pushes as before.
//   - tracking: Rules.Check(warehouse, DomainTracking, OwnerWMS) is the
//     check for internal/fulfil; not wired yet (fulfil always sends the
//     warehouse's tracking, which matches the default owner, wms).
//   - catalog, returns: not written by the hub; `crossdock readiness` (and
//     the catalogue audit) report against the declared owner.
//   - policies: unknown_sku drives internal/dispatch (Rules.UnknownSKU:
//     hold the fulfillment order, or reject the fulfillment request);
//     cancel_after_pick (Rules.CancelAfterPick) is for internal/cancel and
//     not wired yet (it asks the warehouse, i.e. ask_wms).
//
// An undeclared domain or policy falls back to the hub's historical
// behaviour (see the Default functions) so that an older configuration
// still runs; `crossdock readiness` reports every undeclared one as a
// blocker.
package governance

import (
	"fmt"

	"github.com/crossdock/crossdock/internal/config"
)

// Rules are one shop's sources of truth and policies.
type Rules struct {
	shop config.Shop
}

// New returns the rules of a shop's configuration.
func New(shop config.Shop) *Rules { return &Rules{shop: shop} }

// Owner returns the declared owner of domain d for warehouse (the
// warehouse's override first, then the shop's), and whether one is
// declared. An empty warehouse asks for the shop's own declaration.
func (r *Rules) Owner(warehouse string, d config.DataDomain) (config.Owner, bool) {
	if warehouse != "" {
		for _, w := range r.shop.Warehouses {
			if w.ID == warehouse {
				if o, ok := w.SourcesOfTruth[d]; ok && o != "" {
					return o, true
				}
				break
			}
		}
	}
	o, ok := r.shop.SourcesOfTruth[d]
	return o, ok && o != ""
}

// DefaultOwner is the owner the hub behaves as if declared when a domain
// is not: Shopify for catalogue, orders and returns; the warehouse for
// stock, execution status and tracking.
func DefaultOwner(d config.DataDomain) config.Owner {
	switch d {
	case config.DomainStock, config.DomainExecutionStatus, config.DomainTracking:
		return config.OwnerWMS
	default:
		return config.OwnerShopify
	}
}

// Effective returns the owner in force: the declared one, else
// DefaultOwner.
func (r *Rules) Effective(warehouse string, d config.DataDomain) config.Owner {
	if o, ok := r.Owner(warehouse, d); ok {
		return o
	}
	return DefaultOwner(d)
}

// Decision is the answer to "may writer change domain here?".
type Decision struct {
	// Allowed is true when writer is the owner in force.
	Allowed bool
	// Owner is the owner in force; Declared is false when it is the
	// default because the configuration declares none.
	Owner    config.Owner
	Declared bool
	// Reason says why, in words fit for a timeline or a discrepancy.
	Reason string
}

// Check decides whether writer may write domain d for warehouse: only the
// owner in force may.
func (r *Rules) Check(warehouse string, d config.DataDomain, writer config.Owner) Decision {
	o, declared := r.Owner(warehouse, d)
	if !declared {
		o = DefaultOwner(d)
	}
	where := "shop " + r.shop.Domain
	if warehouse != "" {
		where = fmt.Sprintf("warehouse %s of shop %s", warehouse, r.shop.Domain)
	}
	src := "declared"
	if !declared {
		src = "default, none declared"
	}
	if writer == o {
		return Decision{Allowed: true, Owner: o, Declared: declared, Reason: fmt.Sprintf("%s owns %s for %s (%s)", o, d, where, src)}
	}
	return Decision{Owner: o, Declared: declared,
		Reason: fmt.Sprintf("write to %s by %s refused: %s owns %s for %s (%s)", d, writer, o, d, where, src)}
}

// StockPush decides whether the hub may push the warehouse's stock to
// Shopify at the warehouse's location: only when the WMS owns the stock
// there.
func (r *Rules) StockPush(warehouse string) Decision {
	return r.Check(warehouse, config.DomainStock, config.OwnerWMS)
}

// StockEditAction is what to do with a quantity changed in Shopify by
// someone other than the hub.
type StockEditAction string

// The stock-edit actions.
const (
	// StockEditAccept: Shopify owns the stock there; the change stands.
	StockEditAccept StockEditAction = "accept"
	// StockEditCorrect: overwrite with the warehouse's figure, recording
	// the correction.
	StockEditCorrect StockEditAction = "correct"
	// StockEditFlag: leave the change and record a discrepancy.
	StockEditFlag StockEditAction = "flag"
)

// ManualStockEdit decides what to do with a quantity at warehouse's
// location that someone other than the hub changed in Shopify, with the
// reason to record. When the WMS owns the stock, the manual_stock_edit
// policy decides (correct when undeclared: the hub's historical
// behaviour).
func (r *Rules) ManualStockEdit(warehouse string) (StockEditAction, string) {
	d := r.Check(warehouse, config.DomainStock, config.OwnerShopify)
	if d.Allowed {
		return StockEditAccept, d.Reason
	}
	switch r.shop.Policies.ManualStockEdit {
	case config.ManualStockEditFlag:
		return StockEditFlag, d.Reason + "; policy manual_stock_edit: flag"
	case config.ManualStockEditCorrect:
		return StockEditCorrect, d.Reason + "; policy manual_stock_edit: correct"
	default:
		return StockEditCorrect, d.Reason + "; no manual_stock_edit policy declared: corrected"
	}
}

// UnknownSKU returns the shop's unknown-SKU policy, hold when undeclared.
func (r *Rules) UnknownSKU() config.UnknownSKUPolicy {
	if r.shop.Policies.UnknownSKU == "" {
		return config.UnknownSKUHold
	}
	return r.shop.Policies.UnknownSKU
}

// CancelAfterPick returns the shop's cancel-after-pick policy, ask_wms
// (the hub's historical behaviour) when undeclared.
func (r *Rules) CancelAfterPick() config.CancelAfterPickPolicy {
	if r.shop.Policies.CancelAfterPick == "" {
		return config.CancelAfterPickAskWMS
	}
	return r.shop.Policies.CancelAfterPick
}

// Undeclared lists, per warehouse (in configuration order), the domains
// that have no declared owner there.
func (r *Rules) Undeclared() map[string][]config.DataDomain {
	out := map[string][]config.DataDomain{}
	for _, w := range r.shop.Warehouses {
		for _, d := range config.Domains() {
			if _, ok := r.Owner(w.ID, d); !ok {
				out[w.ID] = append(out[w.ID], d)
			}
		}
	}
	return out
}
