package scenario

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/shopify"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/mapping"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/shopifysim"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// Options configure a run.
type Options struct {
	// Config is the user's configuration to rehearse against (--config):
	// its first shop's policies, stock rules, sources of truth and
	// warehouses (in rank order, standing in for the scenario's) are used,
	// with the simulators in place of Shopify and the warehouses. Nil
	// builds a configuration from each scenario's setup.
	Config *config.Config
	// Logger receives the hub's logs (default: discarded).
	Logger *slog.Logger
	// Within is the default real-time bound of an expect step (30s).
	Within time.Duration
	// Dir holds the scratch databases (default: the system's temp dir).
	Dir string

	// partnerCSV, when set, alters the CSV profile of the file partners
	// (tests: a partner that does not speak the hub's dialect).
	partnerCSV func(*csvfile.Profile)
}

// Report is the outcome of a run.
type Report struct {
	Passed    bool     `json:"passed"`
	Scenarios []Result `json:"scenarios"`
	Total     int      `json:"total"`
	Failed    int      `json:"failed"`
	Skipped   int      `json:"skipped"`
	ElapsedMS int64    `json:"elapsed_ms"`
}

// Result is the outcome of one scenario.
type Result struct {
	Name        string `json:"name"`
	Incident    string `json:"incident,omitempty"`
	Description string `json:"description"`
	File        string `json:"file"`
	Passed      bool   `json:"passed"`
	// Skipped says why the scenario did not run (it then neither passes
	// nor fails).
	Skipped string `json:"skipped,omitempty"`
	// Error is what stopped the scenario (a failed action), if anything.
	Error     string `json:"error,omitempty"`
	ErrorLine int    `json:"error_line,omitempty"`
	ElapsedMS int64  `json:"elapsed_ms"`
	// Warehouses maps the scenario's warehouses to the configuration's
	// (with --config).
	Warehouses map[string]string `json:"warehouses,omitempty"`
	// Transports says how each scenario warehouse was rehearsed (with
	// --config): "rest", or "csv" / "edi" over SFTP with the user's
	// profile.
	Transports map[string]string `json:"transports,omitempty"`
	// Files are the file partners' counters, per scenario warehouse
	// rehearsed over files.
	Files        map[string]filesim.Stats `json:"files,omitempty"`
	Expectations []Check                  `json:"expectations"`
}

// Check is one expectation and what was observed.
type Check struct {
	Line     int    `json:"line"`
	Kind     string `json:"kind"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Passed   bool   `json:"passed"`
}

// RunAll runs every scenario, one after the other; progress, when not nil,
// is called with each result as it comes.
func RunAll(ctx context.Context, ss []*Scenario, opt Options, progress func(Result)) Report {
	start := time.Now()
	rep := Report{Passed: true}
	for _, s := range ss {
		r := Run(ctx, s, opt)
		rep.Scenarios = append(rep.Scenarios, r)
		if progress != nil {
			progress(r)
		}
		rep.Total++
		switch {
		case r.Skipped != "":
			rep.Skipped++
		case !r.Passed:
			rep.Failed++
			rep.Passed = false
		}
	}
	rep.ElapsedMS = time.Since(start).Milliseconds()
	return rep
}

// Run runs one scenario against fresh simulators and a fresh hub.
func Run(ctx context.Context, s *Scenario, opt Options) (r Result) {
	start := time.Now()
	r = Result{Name: s.Name, Incident: s.Incident, Description: strings.TrimSpace(s.Description), File: s.File, Expectations: []Check{}}
	defer func() { r.ElapsedMS = time.Since(start).Milliseconds() }()
	e, err := newEnv(ctx, s, opt)
	if err != nil {
		var skip *skipError
		if errors.As(err, &skip) {
			r.Skipped = skip.why
			return r
		}
		r.Error = "setup: " + err.Error()
		return r
	}
	defer e.close()
	if opt.Config != nil {
		r.Warehouses, r.Transports = map[string]string{}, map[string]string{}
		for _, w := range e.whs {
			r.Warehouses[w.id] = w.hubID
			r.Transports[w.id] = w.transport()
		}
		defer func() {
			for _, w := range e.whs {
				if w.file == nil {
					continue
				}
				if r.Files == nil {
					r.Files = map[string]filesim.Stats{}
				}
				r.Files[w.id] = w.file.partner.Stats()
			}
		}()
	}
	for _, st := range s.Steps {
		if st.Expect != nil {
			within := st.Within.Std(opt.Within)
			if within <= 0 {
				within = 30 * time.Second
			}
			e.quiet(ctx, within)
			r.Expectations = append(r.Expectations, e.expect(ctx, st.Expect, within)...)
			continue
		}
		if err := e.act(ctx, st); err != nil {
			r.Error = fmt.Sprintf("line %d: %v", st.Line, err)
			r.ErrorLine = st.Line
			return r
		}
	}
	r.Passed = true
	for _, c := range r.Expectations {
		if !c.Passed {
			r.Passed = false
		}
	}
	return r
}

// act performs one action step.
func (e *env) act(ctx context.Context, st Step) error {
	switch {
	case st.Order != nil:
		return e.createOrder(ctx, st.Order)
	case st.Edit != nil:
		return e.edit(ctx, st.Edit)
	case st.Cancel != nil:
		return e.cancel(ctx, st.Cancel)
	case st.Return != nil:
		return e.returnOrder(ctx, st.Return)
	case st.Shopify != nil:
		return e.shopifyAction(ctx, st.Shopify)
	case st.Warehouse != nil:
		return e.warehouseAction(st.Warehouse)
	case st.Advance != nil:
		e.quiet(ctx, 10*time.Second)
		e.advance(time.Duration(*st.Advance))
		return nil
	case st.Wait != nil:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(*st.Wait)):
		}
		return nil
	case st.Hub != nil:
		return e.hubAction(ctx, st.Hub)
	}
	return fmt.Errorf("empty step")
}

// variant returns the variant GID of sku, creating a product for a SKU the
// catalogue lacks (an order may carry a SKU no warehouse knows).
func (e *env) variant(sku string) (string, error) {
	for _, p := range e.shopify.Products() {
		for _, v := range p.Variants {
			if v.SKU == sku {
				return v.ID, nil
			}
		}
	}
	ps, err := e.shopify.AddProducts([]shopifysim.ProductInput{{Title: "Article " + sku, Variants: []shopifysim.VariantInput{{SKU: sku, Price: "9.90"}}}})
	if err != nil {
		return "", err
	}
	return ps[0].Variants[0].ID, nil
}

func (a AddressSpec) address() order.Address {
	if a.Preset != "" {
		return presets[a.Preset]
	}
	if a.Name == "" && a.Address1 == "" && a.City == "" {
		return presets["paris"]
	}
	return order.Address{Name: a.Name, Address1: a.Address1, City: a.City, ProvinceCode: a.Province, PostalCode: a.PostalCode, CountryCode: a.Country}
}

func (e *env) createOrder(ctx context.Context, o *OrderAction) error {
	in := shopify.OrderInput{Email: "customer-" + o.ID + "@example.com", ShippingAddress: o.Address.address()}
	for _, l := range o.Lines {
		v, err := e.variant(l.SKU)
		if err != nil {
			return err
		}
		in.Lines = append(in.Lines, shopify.OrderLineInput{VariantID: v, Quantity: l.Quantity})
	}
	// The simulator's injected 429/5xx answer before doing anything, so
	// retrying the merchant's order creation cannot create it twice.
	var id string
	var err error
	for attempt := 0; attempt < 30; attempt++ {
		if id, _, err = e.client.CreateOrder(ctx, in); err == nil || connector.IsPermanent(err) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("create order %s in Shopify: %w", o.ID, err)
	}
	e.orders[o.ID] = id
	return nil
}

func (e *env) shopifyOrder(id string) (shopifysim.OrderState, error) {
	o, ok := e.shopify.Order(e.orders[id])
	if !ok {
		return o, fmt.Errorf("order %s is not in Shopify", id)
	}
	return o, nil
}

func (e *env) edit(ctx context.Context, a *EditAction) error {
	o, err := e.shopifyOrder(a.Order)
	if err != nil {
		return err
	}
	ed := shopifysim.OrderEdit{Quantities: map[string]int{}}
	for _, l := range a.Quantities {
		found := false
		for _, li := range o.LineItems {
			if li.SKU == l.SKU {
				ed.Quantities[li.ID], found = l.Quantity, true
			}
		}
		if !found {
			return fmt.Errorf("order %s has no line of %s", a.Order, l.SKU)
		}
	}
	for _, l := range a.Add {
		if _, err := e.variant(l.SKU); err != nil {
			return err
		}
		ed.Add = append(ed.Add, shopifysim.EditLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	if a.Address != nil {
		ad := a.Address.address()
		first, last, _ := strings.Cut(ad.Name, " ")
		ed.ShippingAddress = &shopifysim.AddressState{FirstName: first, LastName: last, Address1: ad.Address1, City: ad.City,
			ProvinceCode: ad.ProvinceCode, Zip: ad.PostalCode, CountryCode: ad.CountryCode}
	}
	_, err = e.shopify.EditOrder(o.ID, ed)
	return err
}

// cancel cancels as the merchant would: a cancellation request on every
// fulfillment order the warehouse accepted, otherwise outright.
func (e *env) cancel(ctx context.Context, a *CancelAction) error {
	o, err := e.shopifyOrder(a.Order)
	if err != nil {
		return err
	}
	reason := a.Reason
	if reason == "" {
		reason = "customer changed their mind"
	}
	requested := false
	for _, fo := range o.FulfillmentOrders {
		if fo.RequestStatus == "ACCEPTED" && fo.Status == "IN_PROGRESS" {
			if _, err := e.client.SubmitCancellationRequest(ctx, fo.ID, reason); err != nil {
				return fmt.Errorf("cancellation request for %s: %w", fo.ID, err)
			}
			requested = true
		}
	}
	if requested {
		return nil
	}
	var out struct {
		OrderCancel struct {
			OrderCancelUserErrors []struct{ Message string } `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	err = e.graphql(ctx, `mutation Cancel($id: ID!, $note: String) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, notifyCustomer: false, staffNote: $note) { orderCancelUserErrors { field message code } } }`,
		map[string]any{"id": o.ID, "note": reason}, &out)
	if err != nil {
		return fmt.Errorf("cancel order %s: %w", a.Order, err)
	}
	if errs := out.OrderCancel.OrderCancelUserErrors; len(errs) > 0 {
		return fmt.Errorf("cancel order %s: %s", a.Order, errs[0].Message)
	}
	return nil
}

func (e *env) shopifyAction(ctx context.Context, a *ShopifyAction) error {
	if a.Faults != nil {
		if err := e.shopify.SetFaults(toSimFaults(*a.Faults)); err != nil {
			return err
		}
		if a.Faults.Throttle > 0 {
			e.shopify.SetBucket(a.Faults.Throttle, a.Faults.Throttle/10)
		} else {
			e.shopify.SetBucket(40000, 20000)
		}
	}
	if s := a.SetAvailable; s != nil {
		loc, err := e.location(ctx, e.byID[s.Warehouse])
		if err != nil || loc == "" {
			return fmt.Errorf("warehouse %s has no Shopify location: %v", s.Warehouse, err)
		}
		q, _ := e.shopify.InventoryLevel(s.SKU, loc)
		q.Available = s.Quantity
		if err := e.shopify.SetInventory(s.SKU, loc, q); err != nil {
			return err
		}
	}
	if r := a.RenameSKU; r != nil {
		if err := e.shopify.SetVariantSKU(r.From, r.To); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) warehouseAction(a *WarehouseAction) error {
	w := e.byID[a.ID]
	code := func(sku string) string {
		if c, ok := w.codes[sku]; ok {
			return c
		}
		return sku
	}
	if a.Down != nil {
		w.sim.SetDown(*a.Down)
		if w.file != nil {
			if err := w.file.setDown(*a.Down); err != nil {
				return err
			}
		}
	}
	if a.DuplicateEvents > 0 {
		if w.file != nil {
			// Files have no event feed to repeat: the file-world repeat is
			// every shipment file sent twice.
			w.file.partner.SetResendRate(min(1, float64(a.DuplicateEvents-1)))
		} else {
			w.sim.SetDuplicateEventRate(float64(a.DuplicateEvents - 1))
		}
	}
	if w.file != nil && (len(a.Restock) > 0 || len(a.SetStock) > 0 || a.RenameSKU != nil || len(a.Short) > 0) {
		// A 3PL reports a stock change with its next stock file.
		defer w.file.partner.SendStock()
	}
	if len(a.Short) > 0 {
		var codes []string
		for _, s := range a.Short {
			codes = append(codes, code(s))
		}
		w.sim.SetShortOnShelf(codes...)
	}
	if len(a.Restock) > 0 {
		m := map[string]int{}
		for s, q := range a.Restock {
			m[code(s)] = q
		}
		w.sim.Restock(m)
	}
	if len(a.SetStock) > 0 {
		m := map[string]int{}
		for s, q := range a.SetStock {
			m[code(s)] = q
		}
		w.sim.SetStock(m)
	}
	if r := a.RenameSKU; r != nil {
		old := code(r.From)
		onHand := w.sim.Stock()[old].OnHand
		var items []connector.Item
		for _, it := range w.sim.Items() {
			if it.Code == old {
				it.Code = r.To
			}
			items = append(items, it)
		}
		if err := w.sim.SetItems(items); err != nil {
			return err
		}
		w.sim.SetStock(map[string]int{old: 0, r.To: onHand})
		w.codes[r.From] = r.To
	}
	if a.Packages != nil {
		rate := 0.0
		if *a.Packages > 1 {
			rate = 1
		}
		w.sim.SetMultiPackageRate(rate)
	}
	if a.PartialShip != nil {
		rate := 0.0
		if *a.PartialShip {
			rate = 1
		}
		w.sim.SetPartialShipRate(rate)
	}
	return nil
}

func (e *env) hubAction(ctx context.Context, a *HubAction) error {
	e.mu.Lock()
	h := e.hub
	e.mu.Unlock()
	switch {
	case a.Crash:
		return e.crash(ctx)
	case a.Reconcile:
		if h.Reconcile == nil {
			return fmt.Errorf("reconciliation is not configured")
		}
		_, err := h.Reconcile.Run(ctx, e.shop)
		return err
	case a.SyncStock:
		_, err := h.Stock.Sync(ctx, e.shop)
		return err
	case a.MapSKU != nil:
		m := a.MapSKU
		_, err := mapping.New(h.Store).Set(ctx, e.shop, mapping.Mapping{Warehouse: e.byID[m.Warehouse].hubID, SKU: m.SKU, ItemCode: m.Code, UOM: "EA", PackSize: 1,
			EffectiveFrom: time.Now().Add(-24 * time.Hour)}, mapping.Author{Actor: "scenario operator", Reason: "rehearsal: map " + m.SKU + " to " + m.Code})
		return err
	}
	return nil
}

// wmsOrders are the warehouse orders of a Shopify order.
func (e *env) wmsOrders(orderGID, warehouse string) []wmssim.OrderState {
	var out []wmssim.OrderState
	for _, w := range e.whs {
		if warehouse != "" && w.id != warehouse {
			continue
		}
		for _, o := range w.sim.Orders() {
			if o.OrderID == orderGID {
				out = append(out, o)
			}
		}
	}
	return out
}
