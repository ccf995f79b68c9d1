// Package readiness is crossdock's go-live checklist (`crossdock
// readiness`). It reads the configuration, Shopify and every warehouse, and
// lists what stands between the configuration and a safe go-live, one line
// per finding: a status (blocker, warning, ok), the check, what was found
// and what to do.
//
// Blockers: a data domain with no declared owner; a warehouse whose
// connector cannot be built or does not answer a stock read; Shopify
// unreachable; a hub webhook subscription or a warehouse's
// fulfillment-service location missing in Shopify; active SKUs (Shopify
// variants with a SKU) that no warehouse knows; no unknown_sku or
// cancel_after_pick policy; no SLA timer at all. Everything else that
// deserves a look (a policy or timer left undeclared among others, a
// legal but unusual owner, variants without SKU, SKU coverage checked
// from stock snapshots because no connector lists an item master) is a
// warning.
//
// Readiness only reads. Registering what the hub registers itself at
// start (fulfillment services, webhook subscriptions) is `crossdock
// readiness --fix`, which runs the hub's own hub.PrepareShops first.
package readiness

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/governance"
	"github.com/crossdock/crossdock/internal/hub"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/store"
)

// Status is the verdict of one check.
type Status string

// The statuses.
const (
	Blocker Status = "blocker"
	Warning Status = "warning"
	OK      Status = "ok"
)

// Check is one line of the checklist.
type Check struct {
	Status Status `json:"status"`
	// Check names what was checked, e.g. "connector".
	Check string `json:"check"`
	// Shop and Warehouse say where, when it applies.
	Shop      string `json:"shop,omitempty"`
	Warehouse string `json:"warehouse,omitempty"`
	// Detail is what was found.
	Detail string `json:"detail"`
	// Fix is what to do (empty for ok).
	Fix string `json:"fix"`
}

// Report is the whole checklist.
type Report struct {
	// Ready is true when no check is a blocker.
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks"`
}

// Counts returns the number of checks per status.
func (r *Report) Counts() map[Status]int {
	n := map[Status]int{}
	for _, c := range r.Checks {
		n[c.Status]++
	}
	return n
}

// Add appends checks made outside Run (the database, --fix) and updates
// Ready.
func (r *Report) Add(cs ...Check) {
	for _, c := range cs {
		r.Checks = append(r.Checks, c)
		if c.Status == Blocker {
			r.Ready = false
		}
	}
}

// Options tune a run.
type Options struct {
	// HTTPClient is used for Shopify; nil is a default client. Warehouse
	// connectors are built from their configuration as the hub builds them.
	HTTPClient *http.Client
	// Timeout bounds each remote read (Shopify, one warehouse). Default
	// 15s.
	Timeout time.Duration
	// Store is the hub's database: the fulfillment-service locations the
	// hub registered and the SKU mapping tables. Nil: no database yet (no
	// location registered, SKUs compared as they are).
	Store *store.Store
	// Logger receives the clients' retries; nil discards them.
	Logger *slog.Logger
}

// Run checks every shop of cfg. The error is for a failure of the check
// itself (a cancelled context); what it finds is in the report.
func Run(ctx context.Context, cfg *config.Config, opt Options) (*Report, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &run{opt: opt, cfg: cfg}
	for i := range cfg.Shops {
		r.shop(ctx, i)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("readiness: %w", err)
		}
	}
	rep := &Report{Ready: true, Checks: r.checks}
	for _, c := range rep.Checks {
		if c.Status == Blocker {
			rep.Ready = false
		}
	}
	return rep, nil
}

type run struct {
	opt    Options
	cfg    *config.Config
	checks []Check
}

func (r *run) add(c Check) { r.checks = append(r.checks, c) }

// warehouseState is what the connector check learned about a warehouse,
// for the SKU coverage check.
type warehouseState struct {
	id        string
	reachable bool
	// known are the item codes the warehouse knows: its active items when
	// it lists an item master, else the codes in its stock snapshot.
	known      map[string]bool
	itemMaster bool
}

func (r *run) shop(ctx context.Context, i int) {
	s := r.cfg.Shops[i]
	path := fmt.Sprintf("shops[%d]", i)
	rules := governance.New(s)
	r.sources(s, path, rules)
	r.policies(s, path)
	r.sla(s, path)

	var whs []*warehouseState
	for j := range s.Warehouses {
		whs = append(whs, r.connector(ctx, s, j))
	}
	client := shopify.NewClient(shopify.ClientConfig{BaseURL: s.APIURL, AccessToken: s.AccessToken, HTTPClient: r.opt.HTTPClient, Logger: r.opt.Logger, MaxRetries: 2})
	if !r.webhooks(ctx, s, client) {
		return // Shopify unreachable: one blocker says so
	}
	r.locations(ctx, s, path, client)
	r.skuCoverage(ctx, s, client, whs)
}

// sources: every domain must have an owner for every warehouse.
func (r *run) sources(s config.Shop, path string, rules *governance.Rules) {
	undeclared := rules.Undeclared()
	missing := 0
	for _, d := range config.Domains() {
		var where []string
		for _, w := range s.Warehouses {
			if slices.Contains(undeclared[w.ID], d) {
				where = append(where, w.ID)
			}
		}
		if len(where) == 0 {
			continue
		}
		missing++
		owners := config.AllowedOwners(d)
		r.add(Check{Status: Blocker, Check: "sources_of_truth", Shop: s.Domain,
			Detail: fmt.Sprintf("no owner declared for %s (warehouses: %s)", d, strings.Join(where, ", ")),
			Fix:    fmt.Sprintf("declare `%s: %s` under %s.sources_of_truth (allowed: %s), or under each warehouse's sources_of_truth", d, governance.DefaultOwner(d), path, ownerList(owners))})
	}
	if missing == 0 {
		r.add(Check{Status: OK, Check: "sources_of_truth", Shop: s.Domain, Detail: "every data domain has a declared owner for every warehouse"})
	}
	// Legal but unusual choices.
	for _, w := range s.Warehouses {
		if o, ok := rules.Owner(w.ID, config.DomainStock); ok && o == config.OwnerShopify {
			r.add(Check{Status: Warning, Check: "sources_of_truth", Shop: s.Domain, Warehouse: w.ID,
				Detail: "Shopify owns the stock at this warehouse: the hub will not push the warehouse's quantities to its location",
				Fix:    "keep it only if quantities there are maintained in Shopify; otherwise declare `stock: wms`"})
		}
		if o, ok := rules.Owner(w.ID, config.DomainTracking); ok && o == config.OwnerShopify {
			r.add(Check{Status: Warning, Check: "sources_of_truth", Shop: s.Domain, Warehouse: w.ID,
				Detail: "Shopify owns tracking at this warehouse: tracking numbers must be entered in Shopify by someone else",
				Fix:    "keep it only if a carrier app or the merchant adds tracking; otherwise declare `tracking: wms`"})
		}
	}
	if o, ok := rules.Owner("", config.DomainCatalog); ok && o == config.OwnerHub {
		r.add(Check{Status: Warning, Check: "sources_of_truth", Shop: s.Domain,
			Detail: "the hub owns the catalogue: Shopify and the warehouses must follow the hub's mapping tables",
			Fix:    "make sure the mapping tables are loaded before go-live (`crossdock catalog audit`)"})
	}
}

// policies: unknown_sku and cancel_after_pick are required; manual
// stock edit is a warning.
func (r *run) policies(s config.Shop, path string) {
	p := s.Policies
	req := func(key, val, choices, what string) {
		if val == "" {
			r.add(Check{Status: Blocker, Check: "policies." + key, Shop: s.Domain,
				Detail: "no policy for " + what,
				Fix:    fmt.Sprintf("declare %s.policies.%s: %s", path, key, choices)})
			return
		}
		r.add(Check{Status: OK, Check: "policies." + key, Shop: s.Domain, Detail: key + ": " + val})
	}
	req("unknown_sku", string(p.UnknownSKU), "hold | reject", "an order line whose SKU no warehouse knows")
	req("cancel_after_pick", string(p.CancelAfterPick), "reject | ask_wms", "a cancellation requested after picking started")
	if p.ManualStockEdit == "" {
		r.add(Check{Status: Warning, Check: "policies.manual_stock_edit", Shop: s.Domain,
			Detail: "no policy for a quantity edited by hand in Shopify at a warehouse location; the hub corrects it",
			Fix:    fmt.Sprintf("declare %s.policies.manual_stock_edit: correct | flag", path)})
	} else {
		r.add(Check{Status: OK, Check: "policies.manual_stock_edit", Shop: s.Domain, Detail: "manual_stock_edit: " + string(p.ManualStockEdit)})
	}
}

// sla: no timer at all is a blocker, some missing a warning.
func (r *run) sla(s config.Shop, path string) {
	timers := s.SLA.Timers()
	var set, unset []string
	for _, k := range config.TimerNames() {
		if *timers[k] > 0 {
			set = append(set, k)
		} else {
			unset = append(unset, k)
		}
	}
	switch {
	case len(set) == 0:
		r.add(Check{Status: Blocker, Check: "sla", Shop: s.Domain, Detail: "no SLA timers: a stuck order or a stale stock would go unnoticed",
			Fix: fmt.Sprintf("declare %s.sla with %s (durations such as 15m)", path, strings.Join(config.TimerNames(), ", "))})
	case len(unset) > 0:
		r.add(Check{Status: Warning, Check: "sla", Shop: s.Domain, Detail: "SLA timers not set: " + strings.Join(unset, ", "),
			Fix: fmt.Sprintf("declare them under %s.sla", path)})
	default:
		r.add(Check{Status: OK, Check: "sla", Shop: s.Domain, Detail: "every SLA timer is set"})
	}
	if w := s.SLA.StockRefreshWithin.Std(0); w > 0 && w < s.StockInterval.Std(30*time.Second) {
		r.add(Check{Status: Warning, Check: "sla", Shop: s.Domain,
			Detail: fmt.Sprintf("stock_refresh_within %s is shorter than stock_interval %s: it would fire between every two syncs", w, s.StockInterval.Std(30*time.Second)),
			Fix:    "raise sla.stock_refresh_within above stock_interval"})
	}
}

// connector builds warehouse j's connector and reads its stock (and its
// item master when it lists one) within the timeout.
func (r *run) connector(ctx context.Context, s config.Shop, j int) *warehouseState {
	w := s.Warehouses[j]
	st := &warehouseState{id: w.ID, known: map[string]bool{}}
	fail := func(detail, fix string) *warehouseState {
		r.add(Check{Status: Blocker, Check: "connector", Shop: s.Domain, Warehouse: w.ID, Detail: detail, Fix: fix})
		return st
	}
	info, ok := connector.Lookup(w.Connector.Kind)
	if !ok {
		return fail(fmt.Sprintf("unknown connector kind %q", w.Connector.Kind), "use one of: "+strings.Join(connector.Kinds(), ", "))
	}
	wms, err := info.New(w.Connector.Settings)
	if err != nil {
		return fail("connector configuration: "+err.Error(), "correct the warehouse's connector block")
	}
	cctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	snap, err := wms.Stock(cctx)
	if err != nil {
		return fail(fmt.Sprintf("stock read failed within %s: %v", r.opt.Timeout, err),
			"check the warehouse's address, credentials and network path from the hub")
	}
	st.reachable = true
	detail := fmt.Sprintf("%s connector answers: %d SKUs in its stock snapshot", w.Connector.Kind, len(snap.Items))
	if im, ok := wms.(connector.ItemMaster); ok {
		items, err := im.Items(cctx)
		if err != nil {
			r.add(Check{Status: Warning, Check: "connector", Shop: s.Domain, Warehouse: w.ID,
				Detail: "item master read failed: " + err.Error(), Fix: "SKU coverage falls back to the stock snapshot; check the WMS's item endpoint"})
		} else {
			st.itemMaster = true
			for _, it := range items {
				if it.Active {
					st.known[it.Code] = true
				}
			}
			detail += fmt.Sprintf(", %d active items in its item master", len(st.known))
		}
	}
	if !st.itemMaster {
		for _, it := range snap.Items {
			st.known[it.SKU] = true
		}
	}
	r.add(Check{Status: OK, Check: "connector", Shop: s.Domain, Warehouse: w.ID, Detail: detail})
	return st
}

// webhooks checks the hub's subscriptions; false when Shopify cannot be
// read at all.
func (r *run) webhooks(ctx context.Context, s config.Shop, c *shopify.Client) bool {
	cctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	subs, err := c.WebhookSubscriptions(cctx)
	if err != nil {
		r.add(Check{Status: Blocker, Check: "shopify", Shop: s.Domain, Detail: fmt.Sprintf("Admin API at %s not readable: %v", s.APIURL, err),
			Fix: "check api_url, the access token and its scopes (read_webhooks, read_locations, read_products)"})
		return false
	}
	uri := strings.TrimRight(r.cfg.PublicURL, "/") + hub.WebhookPath
	have, elsewhere := map[string]bool{}, map[string]bool{}
	for _, sub := range subs {
		if sub.URI == uri {
			have[sub.Topic] = true
		} else {
			elsewhere[sub.Topic] = true
		}
	}
	var missing []string
	for _, t := range shopify.HubTopics() {
		if e := shopify.TopicEnum(t); !have[e] && !(!s.RegisterWebhooksEnabled() && elsewhere[e]) {
			missing = append(missing, t)
		}
	}
	switch {
	case len(missing) == 0:
		r.add(Check{Status: OK, Check: "webhooks", Shop: s.Domain, Detail: fmt.Sprintf("%d hub topics subscribed to %s", len(shopify.HubTopics()), uri)})
	case s.RegisterWebhooksEnabled():
		r.add(Check{Status: Blocker, Check: "webhooks", Shop: s.Domain,
			Detail: fmt.Sprintf("no subscription to %s for %s", uri, strings.Join(missing, ", ")),
			Fix:    "run `crossdock readiness --fix` (or start the hub once): it subscribes the missing topics; check public_url is where Shopify reaches the hub"})
	default:
		// Subscriptions declared in the app's configuration file are not
		// listed by the Admin API.
		r.add(Check{Status: Warning, Check: "webhooks", Shop: s.Domain,
			Detail: fmt.Sprintf("register_webhooks is off and the Admin API lists no subscription for %s", strings.Join(missing, ", ")),
			Fix:    fmt.Sprintf("make sure the app's configuration subscribes them to %s", uri)})
	}
	return true
}

// locations checks each warehouse's fulfillment-service location.
func (r *run) locations(ctx context.Context, s config.Shop, path string, c *shopify.Client) {
	cctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	locs, err := c.Locations(cctx)
	if err != nil {
		r.add(Check{Status: Blocker, Check: "locations", Shop: s.Domain, Detail: "locations not readable: " + err.Error(), Fix: "grant the read_locations scope"})
		return
	}
	byID := map[string]shopify.Location{}
	for _, l := range locs {
		byID[l.ID] = l
	}
	for j, w := range s.Warehouses {
		id, from := w.LocationID, "location_id"
		if id == "" {
			from = "the hub's database"
			if r.opt.Store != nil {
				id, err = store.WarehouseLocation(ctx, r.opt.Store.Read, s.Domain, w.ID)
				if err != nil {
					id = ""
					from = "the hub's database (not readable: " + err.Error() + ")"
				}
			}
		}
		if id == "" {
			r.add(Check{Status: Blocker, Check: "locations", Shop: s.Domain, Warehouse: w.ID,
				Detail: fmt.Sprintf("no fulfillment-service location registered (none in %s)", from),
				Fix:    fmt.Sprintf("run `crossdock readiness --fix` (or start the hub once): it registers the fulfillment service %q; or set %s.warehouses[%d].location_id", w.Name, path, j)})
			continue
		}
		l, ok := byID[id]
		switch {
		case !ok:
			r.add(Check{Status: Blocker, Check: "locations", Shop: s.Domain, Warehouse: w.ID,
				Detail: fmt.Sprintf("location %s (from %s) is not an active location of the shop", id, from),
				Fix:    "reactivate it in Shopify, or correct location_id"})
		case !l.IsFulfillmentService:
			r.add(Check{Status: Warning, Check: "locations", Shop: s.Domain, Warehouse: w.ID,
				Detail: fmt.Sprintf("location %s (%s) is not a fulfillment-service location: fulfillment requests cannot be sent to it", id, l.Name),
				Fix:    "remove location_id so that the hub registers a fulfillment service, or point it at one"})
		default:
			r.add(Check{Status: OK, Check: "locations", Shop: s.Domain, Warehouse: w.ID, Detail: fmt.Sprintf("fulfillment-service location %s (%s)", id, l.Name)})
		}
	}
}

// maxListed bounds the SKUs named in one line.
const maxListed = 10

// skuCoverage: every SKU of a Shopify variant must be known to at least
// one warehouse, under the item code the mapping tables give it there.
func (r *run) skuCoverage(ctx context.Context, s config.Shop, c *shopify.Client, whs []*warehouseState) {
	cctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	variants, err := c.AllVariants(cctx)
	if err != nil {
		r.add(Check{Status: Blocker, Check: "sku_coverage", Shop: s.Domain, Detail: "variants not readable: " + err.Error(), Fix: "grant the read_products scope"})
		return
	}
	codeOf := r.itemCodes(ctx, s)
	var reachable []*warehouseState
	var unreachable, fromStock []string
	masters := 0
	for _, w := range whs {
		if !w.reachable {
			unreachable = append(unreachable, w.id)
			continue
		}
		reachable = append(reachable, w)
		if w.itemMaster {
			masters++
		} else {
			fromStock = append(fromStock, w.id)
		}
	}
	known := func(sku string) bool {
		for _, w := range reachable {
			if w.known[codeOf(w.id, sku)] {
				return true
			}
		}
		return false
	}
	var noSKU int
	uncovered := map[string]bool{}
	skus := map[string]bool{}
	for _, v := range variants {
		sku := strings.TrimSpace(v.SKU)
		if sku == "" {
			noSKU++
			continue
		}
		skus[sku] = true
		if !known(sku) {
			uncovered[sku] = true
		}
	}
	if masters == 0 && len(fromStock) > 0 {
		r.add(Check{Status: Warning, Check: "sku_coverage", Shop: s.Domain,
			Detail: "no warehouse connector lists an item master: SKUs are checked against stock snapshots, where a SKU out of stock may be missing",
			Fix:    "use connectors with an item master where the WMS offers one"})
	}
	if noSKU > 0 {
		r.add(Check{Status: Warning, Check: "sku_coverage", Shop: s.Domain,
			Detail: fmt.Sprintf("%d variants have no SKU: their lines are held by dispatch", noSKU),
			Fix:    "give every sellable variant a SKU (`crossdock catalog audit` lists them)"})
	}
	switch {
	case len(uncovered) > 0:
		list := make([]string, 0, len(uncovered))
		for k := range uncovered {
			list = append(list, k)
		}
		sort.Strings(list)
		more := ""
		if len(list) > maxListed {
			more = fmt.Sprintf(" and %d more", len(list)-maxListed)
			list = list[:maxListed]
		}
		detail := fmt.Sprintf("%d of %d SKUs are known to no warehouse: %s%s", len(uncovered), len(skus), strings.Join(list, ", "), more)
		if len(unreachable) > 0 {
			detail += fmt.Sprintf(" (unreachable, not counted: %s)", strings.Join(unreachable, ", "))
		}
		r.add(Check{Status: Blocker, Check: "sku_coverage", Shop: s.Domain, Detail: detail,
			Fix: "create these items in a warehouse's item master, or correct the SKUs in Shopify"})
	default:
		r.add(Check{Status: OK, Check: "sku_coverage", Shop: s.Domain, Detail: fmt.Sprintf("all %d SKUs are known to at least one warehouse", len(skus))})
	}
}

// itemCodes returns how a warehouse knows a SKU: by the mapping tables in
// force now (the warehouse's entry, else the entry for every warehouse),
// else as the SKU itself.
func (r *run) itemCodes(ctx context.Context, s config.Shop) func(warehouse, sku string) string {
	identity := func(_, sku string) string { return sku }
	if r.opt.Store == nil {
		return identity
	}
	ms, err := mapping.New(r.opt.Store).List(ctx, s.Domain, time.Time{})
	if err != nil {
		r.add(Check{Status: Warning, Check: "sku_coverage", Shop: s.Domain,
			Detail: "mapping tables not readable (" + err.Error() + "): SKUs compared to item codes as they are",
			Fix:    "run `crossdock migrate` or `crossdock readiness --fix`"})
		return identity
	}
	type key struct{ warehouse, sku string }
	codes := map[key]string{}
	for _, m := range ms {
		code := m.ItemCode
		if code == "" {
			code = m.SKU
		}
		codes[key{m.Warehouse, m.SKU}] = code
	}
	return func(warehouse, sku string) string {
		if c, ok := codes[key{warehouse, sku}]; ok {
			return c
		}
		if c, ok := codes[key{"", sku}]; ok {
			return c
		}
		return sku
	}
}

func ownerList(os []config.Owner) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}
