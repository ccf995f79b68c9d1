package tryton

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// Kind is the connector kind registered by this package.
const Kind = "tryton"

// Defaults of the optional configuration keys.
const (
	DefaultWarehouse     = "WH"
	DefaultCustomerParty = "Shopify customers"
	DefaultTimeout       = 30 * time.Second
	// DefaultPageSize is the page size of Events when the caller passes no
	// limit.
	DefaultPageSize = 200
	// DefaultFeedOverlap is how far before the feed's cursor Events looks
	// again for shipments it has not reported: Tryton stamps write_date
	// when a transaction starts (PostgreSQL's CURRENT_TIMESTAMP, trytond's
	// NOW() on SQLite), so a long transaction can commit a shipment dated
	// before one the feed has already passed.
	DefaultFeedOverlap = 2 * time.Minute
)

// readBatch bounds the ids read in one call.
const readBatch = 500

func init() {
	connector.Register(connector.Info{
		Kind:    Kind,
		Summary: "Tryton ERP (stock.shipment.out over JSON-RPC); a real stateful peer for end-to-end tests",
		New: func(cfg map[string]any) (connector.WMS, error) {
			c, err := NewFromMap(cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}

// Config configures a Connector.
type Config struct {
	// URL is trytond's root, e.g. http://127.0.0.1:8000.
	URL string
	// Database is the Tryton database name.
	Database string
	// User and Password log in with common.db.login.
	User     string
	Password string
	// Warehouse is the code of the stock.location of type warehouse the
	// connector ships from and reports stock of; default "WH".
	Warehouse string
	// CustomerParty is the name of the party every shipment is addressed
	// to (one delivery address per distinct ship-to); created if missing.
	// Default "Shopify customers".
	CustomerParty string
	// Timeout bounds each JSON-RPC call; zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new client.
	HTTPClient *http.Client
	// FeedOverlap is how far before the cursor Events looks again for
	// late-committed shipments; zero means DefaultFeedOverlap.
	FeedOverlap time.Duration
}

// Connector implements connector.WMS and connector.ItemMaster on a Tryton
// database.
type Connector struct {
	cfg Config
	rpc *rpcClient

	mu  sync.Mutex
	env *environment // resolved on first use
	// reported holds the events Events returned (id → the shipment's
	// write_date) while they are within the overlap before the cursor, so
	// that a late look returns only what it had not reported.
	reported map[string]time.Time
}

var (
	_ connector.WMS        = (*Connector)(nil)
	_ connector.ItemMaster = (*Connector)(nil)
)

// environment is what the connector looks up once in Tryton.
type environment struct {
	warehouse   int64 // stock.location (warehouse)
	storage     int64 // the warehouse's storage location
	output      int64 // the warehouse's output location
	customerLoc int64 // the customer party's customer location
	party       int64 // the customer party
	currency    int64 // the company's currency (unit price of outgoing moves)
}

// New returns a connector for cfg. It does not contact Tryton.
func New(cfg Config) (*Connector, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("tryton: url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("tryton: url %q must be an http or https URL without query", cfg.URL)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"database", cfg.Database}, {"user", cfg.User}, {"password", cfg.Password}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tryton: %s required", strings.Join(missing, ", "))
	}
	if strings.ContainsAny(cfg.Database, "/?#") {
		return nil, fmt.Errorf("tryton: database %q contains a URL separator", cfg.Database)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("tryton: negative timeout %s", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.FeedOverlap < 0 {
		return nil, fmt.Errorf("tryton: negative feed overlap %s", cfg.FeedOverlap)
	}
	if cfg.FeedOverlap == 0 {
		cfg.FeedOverlap = DefaultFeedOverlap
	}
	if cfg.Warehouse == "" {
		cfg.Warehouse = DefaultWarehouse
	}
	if cfg.CustomerParty == "" {
		cfg.CustomerParty = DefaultCustomerParty
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Connector{cfg: cfg, reported: map[string]time.Time{}, rpc: newRPCClient(strings.TrimRight(u.String(), "/"), cfg.Database, cfg.User, cfg.Password, cfg.Timeout, hc)}, nil
}

// NewFromMap returns a connector from a decoded configuration block with
// the keys url, database, user, password, warehouse, customer_party and
// timeout. Any other key is an error.
func NewFromMap(m map[string]any) (*Connector, error) {
	var cfg Config
	var unknown []string
	for k, v := range m {
		switch k {
		case "url", "database", "user", "password", "warehouse", "customer_party":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("tryton: %s must be a string, not %T", k, v)
			}
			switch k {
			case "url":
				cfg.URL = s
			case "database":
				cfg.Database = s
			case "user":
				cfg.User = s
			case "password":
				cfg.Password = s
			case "warehouse":
				cfg.Warehouse = s
			case "customer_party":
				cfg.CustomerParty = s
			}
		case "timeout":
			d, err := connector.SettingDuration("tryton", k, v)
			if err != nil {
				return nil, err
			}
			cfg.Timeout = d
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("tryton: unknown configuration keys: %s", strings.Join(unknown, ", "))
	}
	if cfg.URL == "" {
		return nil, errors.New("tryton: url is required")
	}
	return New(cfg)
}

// call calls model.<model>.<method> with args and the user's context.
func (c *Connector) call(ctx context.Context, model, method string, out any, args ...any) error {
	return c.rpc.model(ctx, model, method, nil, out, args...)
}

// callCtx is call with extra context keys.
func (c *Connector) callCtx(ctx context.Context, extra map[string]any, model, method string, out any, args ...any) error {
	return c.rpc.model(ctx, model, method, extra, out, args...)
}

// search returns the ids matching domain, ordered, at most limit (≤ 0: all).
func (c *Connector) search(ctx context.Context, model string, domain []any, order [][2]string, limit int) ([]int64, error) {
	var lim any
	if limit > 0 {
		lim = limit
	}
	var ord any
	if len(order) > 0 {
		o := make([][]string, len(order))
		for i, p := range order {
			o[i] = []string{p[0], p[1]}
		}
		ord = o
	}
	var ids []int64
	if err := c.call(ctx, model, "search", &ids, domain, 0, lim, ord); err != nil {
		return nil, err
	}
	return ids, nil
}

// read reads fields of ids in batches of readBatch, with extra context keys.
func read[T any](ctx context.Context, c *Connector, extra map[string]any, model string, ids []int64, fields ...string) ([]T, error) {
	var all []T
	for start := 0; start < len(ids); start += readBatch {
		batch := ids[start:min(start+readBatch, len(ids))]
		var rows []T
		if err := c.callCtx(ctx, extra, model, "read", &rows, batch, fields); err != nil {
			return nil, err
		}
		all = append(all, rows...)
	}
	return all, nil
}

// cond is one Tryton domain clause.
func cond(field, op string, v any) []any { return []any{field, op, v} }

// environment resolves the warehouse, the customer party and the currency
// once.
func (c *Connector) environment(ctx context.Context) (*environment, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.env != nil {
		return c.env, nil
	}
	whs, err := c.search(ctx, "stock.location", []any{cond("code", "=", c.cfg.Warehouse), cond("type", "=", "warehouse")}, nil, 1)
	if err != nil {
		return nil, fmt.Errorf("tryton: find warehouse %q: %w", c.cfg.Warehouse, err)
	}
	if len(whs) == 0 {
		return nil, connector.Permanent(fmt.Errorf("tryton: no warehouse with code %q (stock.location of type warehouse)", c.cfg.Warehouse))
	}
	type whRow struct {
		ID      int64    `json:"id"`
		Storage many2one `json:"storage_location"`
		Output  many2one `json:"output_location"`
	}
	rows, err := read[whRow](ctx, c, nil, "stock.location", whs, "storage_location", "output_location")
	if err != nil || len(rows) != 1 {
		return nil, fmt.Errorf("tryton: read warehouse %q: %w", c.cfg.Warehouse, errors.Join(err, errors.New("no row")))
	}
	env := &environment{warehouse: whs[0], storage: int64(rows[0].Storage), output: int64(rows[0].Output)}

	parties, err := c.search(ctx, "party.party", []any{cond("name", "=", c.cfg.CustomerParty)}, [][2]string{{"id", "ASC"}}, 1)
	if err != nil {
		return nil, fmt.Errorf("tryton: find party %q: %w", c.cfg.CustomerParty, err)
	}
	if len(parties) == 0 {
		var ids []int64
		if err := c.call(ctx, "party.party", "create", &ids, []any{map[string]any{"name": c.cfg.CustomerParty}}); err != nil {
			return nil, fmt.Errorf("tryton: create party %q: %w", c.cfg.CustomerParty, err)
		}
		parties = ids
	}
	env.party = parties[0]
	type partyRow struct {
		CustomerLocation many2one `json:"customer_location"`
	}
	prow, err := read[partyRow](ctx, c, nil, "party.party", parties[:1], "customer_location")
	if err != nil || len(prow) != 1 || prow[0].CustomerLocation == 0 {
		return nil, fmt.Errorf("tryton: customer location of party %q: %w", c.cfg.CustomerParty, errors.Join(err, errors.New("none set")))
	}
	env.customerLoc = int64(prow[0].CustomerLocation)

	_, uctx, err := c.rpc.session(ctx, "")
	if err != nil {
		return nil, err
	}
	company, ok := uctx["company"].(float64)
	if !ok || company <= 0 {
		return nil, connector.Permanent(fmt.Errorf("tryton: user %q has no current company", c.cfg.User))
	}
	type companyRow struct {
		Currency many2one `json:"currency"`
	}
	crow, err := read[companyRow](ctx, c, nil, "company.company", []int64{int64(company)}, "currency")
	if err != nil || len(crow) != 1 {
		return nil, fmt.Errorf("tryton: company currency: %w", errors.Join(err, errors.New("no row")))
	}
	env.currency = int64(crow[0].Currency)
	c.env = env
	return env, nil
}

// shipmentRow is what the connector reads of a stock.shipment.out.
type shipmentRow struct {
	ID            int64    `json:"id"`
	Reference     text     `json:"reference"`
	State         string   `json:"state"`
	WriteDate     dateTime `json:"write_date"`
	EffectiveDate dateTime `json:"effective_date"`
	OutgoingMoves []int64  `json:"outgoing_moves"`
	Packages      []int64  `json:"packages"`
}

var shipmentFields = []string{"reference", "state", "write_date", "effective_date", "outgoing_moves", "packages"}

// moveRow is what the connector reads of a stock.move.
type moveRow struct {
	ID       int64    `json:"id"`
	Product  many2one `json:"product"`
	Quantity float64  `json:"quantity"`
	State    string   `json:"state"`
	Package  many2one `json:"package"`
}

// findShipment returns the shipment of the warehouse with reference ref, or
// nil.
func (c *Connector) findShipment(ctx context.Context, env *environment, ref string) (*shipmentRow, error) {
	ids, err := c.search(ctx, "stock.shipment.out", []any{cond("reference", "=", ref), cond("warehouse", "=", env.warehouse)}, [][2]string{{"id", "ASC"}}, 1)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := read[shipmentRow](ctx, c, nil, "stock.shipment.out", ids, shipmentFields...)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("read shipment %d: %d rows", ids[0], len(rows))
	}
	return &rows[0], nil
}

// productsByCode returns the product id of each code, and the codes Tryton
// does not know.
func (c *Connector) productsByCode(ctx context.Context, codes []string) (map[string]int64, []string, error) {
	ids, err := c.search(ctx, "product.product", []any{cond("code", "in", codes)}, [][2]string{{"id", "ASC"}}, 0)
	if err != nil {
		return nil, nil, err
	}
	type row struct {
		ID   int64 `json:"id"`
		Code text  `json:"code"`
	}
	rows, err := read[row](ctx, c, nil, "product.product", ids, "code")
	if err != nil {
		return nil, nil, err
	}
	byCode := map[string]int64{}
	for _, r := range rows {
		if _, dup := byCode[string(r.Code)]; !dup {
			byCode[string(r.Code)] = r.ID
		}
	}
	var unknown []string
	for _, code := range codes {
		if _, ok := byCode[code]; !ok && !slices.Contains(unknown, code) {
			unknown = append(unknown, code)
		}
	}
	return byCode, unknown, nil
}

// SubmitOrder creates a customer shipment (stock.shipment.out) whose
// reference is the order's ExternalRef, with one outgoing move per line,
// records the line numbers in a note on the shipment, and moves it to
// waiting (Tryton's "wait" button: the warehouse has the order). A shipment
// with the same reference in the warehouse is returned with Created false;
// if it has other SKUs or quantities while still unpicked, the error is
// permanent. An unknown SKU is a permanent error naming it.
func (c *Connector) SubmitOrder(ctx context.Context, o *order.WarehouseOrder) (connector.SubmitResult, error) {
	if o == nil {
		return connector.SubmitResult{}, connector.Permanent(errors.New("tryton: submit order: nil order"))
	}
	if err := o.Validate(); err != nil {
		return connector.SubmitResult{}, connector.Permanent(fmt.Errorf("tryton: submit order: %w", err))
	}
	wrap := func(err error) error { return fmt.Errorf("tryton: submit order %s: %w", o.ExternalRef, err) }
	env, err := c.environment(ctx)
	if err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	existing, err := c.findShipment(ctx, env, o.ExternalRef)
	if err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	if existing != nil {
		if err := c.checkSame(ctx, existing, o); err != nil {
			return connector.SubmitResult{}, wrap(err)
		}
		if err := c.finishSubmit(ctx, existing, o); err != nil {
			return connector.SubmitResult{}, wrap(err)
		}
		return connector.SubmitResult{WMSOrderID: strconv.FormatInt(existing.ID, 10), Created: false}, nil
	}

	var codes []string
	for _, l := range o.Lines {
		codes = append(codes, l.SKU)
	}
	products, unknown, err := c.productsByCode(ctx, codes)
	if err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	if len(unknown) > 0 {
		return connector.SubmitResult{}, wrap(connector.Permanent(fmt.Errorf("unknown SKU %s: no Tryton product with that code", strings.Join(unknown, ", "))))
	}
	type uomRow struct {
		ID  int64    `json:"id"`
		UOM many2one `json:"default_uom"`
	}
	var pids []int64
	for _, id := range products {
		pids = append(pids, id)
	}
	uoms, err := read[uomRow](ctx, c, nil, "product.product", pids, "default_uom")
	if err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	uomOf := map[int64]int64{}
	for _, r := range uoms {
		uomOf[r.ID] = int64(r.UOM)
	}
	addr, err := c.address(ctx, env, o.ShipTo)
	if err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	var moves []any
	for _, l := range o.Lines {
		pid := products[l.SKU]
		moves = append(moves, map[string]any{
			"product": pid, "uom": uomOf[pid], "quantity": l.Quantity,
			"from_location": env.output, "to_location": env.customerLoc,
			"unit_price": decimal("0"), "currency": env.currency,
		})
	}
	var ids []int64
	err = c.call(ctx, "stock.shipment.out", "create", &ids, []any{map[string]any{
		"reference": o.ExternalRef, "customer": env.party, "delivery_address": addr, "warehouse": env.warehouse,
		"moves": []any{[]any{"create", moves}},
	}})
	if err != nil {
		return connector.SubmitResult{}, wrap(fmt.Errorf("create shipment: %w", err))
	}
	if len(ids) != 1 {
		return connector.SubmitResult{}, wrap(fmt.Errorf("create shipment: %d ids", len(ids)))
	}
	rows, err := read[shipmentRow](ctx, c, nil, "stock.shipment.out", ids, shipmentFields...)
	if err != nil || len(rows) != 1 {
		return connector.SubmitResult{}, wrap(fmt.Errorf("read shipment %d: %w", ids[0], errors.Join(err, errors.New("no row"))))
	}
	if err := c.finishSubmit(ctx, &rows[0], o); err != nil {
		return connector.SubmitResult{}, wrap(err)
	}
	return connector.SubmitResult{WMSOrderID: strconv.FormatInt(ids[0], 10), Created: true}, nil
}

// finishSubmit writes the line note if it is missing and moves a draft
// shipment to waiting; both steps are repeated by a replay after a crash.
func (c *Connector) finishSubmit(ctx context.Context, s *shipmentRow, o *order.WarehouseOrder) error {
	if s.State != "draft" {
		return nil
	}
	lines, err := c.lineNotes(ctx, []int64{s.ID})
	if err != nil {
		return err
	}
	if len(lines[s.ID]) == 0 {
		moves := slices.Clone(s.OutgoingMoves)
		slices.Sort(moves) // created in the order of the lines
		if len(moves) != len(o.Lines) {
			return connector.Permanent(fmt.Errorf("shipment %d has %d outgoing moves for %d lines", s.ID, len(moves), len(o.Lines)))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", noteHeader, o.ExternalRef)
		for i, l := range o.Lines {
			fmt.Fprintf(&b, "move %d line %d sku %s\n", moves[i], l.LineNo, l.SKU)
		}
		var ids []int64
		if err := c.call(ctx, "ir.note", "create", &ids, []any{map[string]any{
			"resource": fmt.Sprintf("stock.shipment.out,%d", s.ID), "message": b.String(),
		}}); err != nil {
			return fmt.Errorf("note the line numbers: %w", err)
		}
	}
	if err := c.call(ctx, "stock.shipment.out", "wait", nil, []int64{s.ID}); err != nil {
		return fmt.Errorf("wait shipment %d: %w", s.ID, err)
	}
	return nil
}

// checkSame fails permanently when an unpicked shipment's moves differ
// from the order's lines (the same reference with other contents).
func (c *Connector) checkSame(ctx context.Context, s *shipmentRow, o *order.WarehouseOrder) error {
	if s.State != "draft" && s.State != "waiting" && s.State != "assigned" {
		return nil // the warehouse may have changed quantities while picking
	}
	moves, err := read[moveRow](ctx, c, nil, "stock.move", s.OutgoingMoves, "product", "quantity", "state", "package")
	if err != nil {
		return err
	}
	codes, err := c.productCodes(ctx, moves)
	if err != nil {
		return err
	}
	got, want := map[string]int{}, map[string]int{}
	for _, m := range moves {
		got[codes[int64(m.Product)]] += int(math.Round(m.Quantity))
	}
	for _, l := range o.Lines {
		want[l.SKU] += l.Quantity
	}
	if !maps.Equal(got, want) {
		return connector.Permanent(fmt.Errorf("shipment %d already has reference %s with other lines (%s, submitted %s)", s.ID, o.ExternalRef, fmtQty(got), fmtQty(want)))
	}
	return nil
}

func fmtQty(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d×%s", m[k], k)
	}
	return strings.Join(parts, " ")
}

// productCodes returns the code of every product of moves.
func (c *Connector) productCodes(ctx context.Context, moves []moveRow) (map[int64]string, error) {
	var ids []int64
	for _, m := range moves {
		if !slices.Contains(ids, int64(m.Product)) {
			ids = append(ids, int64(m.Product))
		}
	}
	type row struct {
		ID   int64 `json:"id"`
		Code text  `json:"code"`
	}
	rows, err := read[row](ctx, c, map[string]any{"active_test": false}, "product.product", ids, "code")
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = string(r.Code)
	}
	return out, nil
}

// address returns a delivery address of the customer party equal to a,
// creating it if needed. Tryton's address has no phone or e-mail field; the
// recipient's name goes to party_name, the company to the first street
// line. A country Tryton does not know is left empty.
func (c *Connector) address(ctx context.Context, env *environment, a order.Address) (int64, error) {
	var street []string
	for _, s := range []string{a.Company, a.Address1, a.Address2} {
		if s = strings.TrimSpace(s); s != "" {
			street = append(street, s)
		}
	}
	var country any
	if a.CountryCode != "" {
		ids, err := c.search(ctx, "country.country", []any{cond("code", "=", strings.ToUpper(a.CountryCode))}, nil, 1)
		if err != nil {
			return 0, fmt.Errorf("find country %s: %w", a.CountryCode, err)
		}
		if len(ids) == 1 {
			country = ids[0]
		}
	}
	vals := map[string]any{
		"party": env.party, "party_name": a.Name, "street": strings.Join(street, "\n"),
		"postal_code": a.PostalCode, "city": a.City, "country": country,
	}
	var domain []any
	for _, k := range []string{"party", "party_name", "street", "postal_code", "city", "country"} {
		domain = append(domain, cond(k, "=", vals[k]))
	}
	ids, err := c.search(ctx, "party.address", domain, [][2]string{{"id", "ASC"}}, 1)
	if err != nil {
		return 0, fmt.Errorf("find address: %w", err)
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if err := c.call(ctx, "party.address", "create", &ids, []any{vals}); err != nil {
		return 0, fmt.Errorf("create address: %w", err)
	}
	if len(ids) != 1 {
		return 0, fmt.Errorf("create address: %d ids", len(ids))
	}
	return ids[0], nil
}

// noteHeader starts the ir.note in which SubmitOrder records which outgoing
// move carries which order line (stock.move has no field for it).
const noteHeader = "crossdock order lines"

// lineRef is one order line as recorded in the note.
type lineRef struct {
	LineNo int
	SKU    string
}

// lineNotes reads the line notes of shipments: move id → order line.
func (c *Connector) lineNotes(ctx context.Context, shipments []int64) (map[int64]map[int64]lineRef, error) {
	out := map[int64]map[int64]lineRef{}
	if len(shipments) == 0 {
		return out, nil
	}
	var res []any
	for _, id := range shipments {
		res = append(res, fmt.Sprintf("stock.shipment.out,%d", id))
	}
	ids, err := c.search(ctx, "ir.note", []any{cond("resource", "in", res)}, [][2]string{{"id", "ASC"}}, 0)
	if err != nil {
		return nil, fmt.Errorf("read line notes: %w", err)
	}
	type row struct {
		Resource text `json:"resource"`
		Message  text `json:"message"`
	}
	rows, err := read[row](ctx, c, nil, "ir.note", ids, "resource", "message")
	if err != nil {
		return nil, fmt.Errorf("read line notes: %w", err)
	}
	for _, r := range rows {
		_, idStr, _ := strings.Cut(string(r.Resource), ",")
		sid, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			continue
		}
		lines, ok := parseLineNote(string(r.Message))
		if !ok {
			continue // another note a user wrote on the shipment
		}
		out[sid] = lines
	}
	return out, nil
}

// parseLineNote parses a note written by finishSubmit.
func parseLineNote(msg string) (map[int64]lineRef, bool) {
	rows := strings.Split(strings.TrimSpace(msg), "\n")
	if len(rows) == 0 || !strings.HasPrefix(rows[0], noteHeader) {
		return nil, false
	}
	out := map[int64]lineRef{}
	for _, row := range rows[1:] {
		f := strings.Fields(row)
		if len(f) != 6 || f[0] != "move" || f[2] != "line" || f[4] != "sku" {
			return nil, false
		}
		move, err1 := strconv.ParseInt(f[1], 10, 64)
		line, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out[move] = lineRef{LineNo: line, SKU: f[5]}
	}
	return out, true
}

// CancelOrder cancels the shipment while it is draft, waiting or assigned
// (nothing has left the shelves). Once picked, packed or done the cancel is
// refused with the reason; an already cancelled shipment answers Cancelled
// true. An unknown reference is a permanent error.
func (c *Connector) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	wrap := func(err error) error { return fmt.Errorf("tryton: cancel order %s: %w", externalRef, err) }
	env, err := c.environment(ctx)
	if err != nil {
		return connector.CancelResult{}, wrap(err)
	}
	s, err := c.findShipment(ctx, env, externalRef)
	if err != nil {
		return connector.CancelResult{}, wrap(err)
	}
	if s == nil {
		return connector.CancelResult{}, wrap(connector.Permanent(fmt.Errorf("no shipment with reference %q in warehouse %s", externalRef, c.cfg.Warehouse)))
	}
	switch s.State {
	case "cancelled":
		return connector.CancelResult{Cancelled: true}, nil
	case "picked":
		return connector.CancelResult{Reason: "already picked in Tryton"}, nil
	case "packed":
		return connector.CancelResult{Reason: "already packed in Tryton"}, nil
	case "done":
		return connector.CancelResult{Reason: "already shipped (Tryton shipment done)"}, nil
	}
	if err := c.call(ctx, "stock.shipment.out", "cancel", nil, []int64{s.ID}); err != nil {
		return connector.CancelResult{}, wrap(err)
	}
	after, err := c.findShipment(ctx, env, externalRef)
	if err != nil {
		return connector.CancelResult{}, wrap(err)
	}
	if after == nil || after.State != "cancelled" {
		state := "gone"
		if after != nil {
			state = after.State
		}
		return connector.CancelResult{Reason: "Tryton did not cancel the shipment (state " + state + ")"}, nil
	}
	return connector.CancelResult{Cancelled: true}, nil
}

// eventType maps a shipment state to the event the hub sees.
func eventType(state string) (connector.EventType, bool) {
	switch state {
	case "waiting", "assigned":
		return connector.EventAcknowledged, true
	case "picked":
		return connector.EventPicking, true
	case "packed":
		return connector.EventPacked, true
	case "done":
		return connector.EventShipped, true
	case "cancelled":
		return connector.EventCancelled, true
	}
	return "", false
}

// cursor is a position in the feed: the write_date and id of the last
// shipment returned.
type cursor struct {
	at time.Time
	id int64
}

func (cu cursor) String() string {
	return cu.at.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(cu.id, 10)
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	at, idStr, ok := strings.Cut(s, "|")
	if !ok {
		return cursor{}, fmt.Errorf("cursor %q is not <write_date>|<id>", s)
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return cursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	return cursor{at: t, id: id}, nil
}

// Events returns one event per shipment written after the cursor, in
// (write_date, id) order: the event of the shipment's current state. Event
// IDs are "<shipment id>:<event type>", so reading again gives the same IDs.
// Shipments without a reference (not sent by the hub) are not reported.
//
// Tryton dates a write when its transaction starts, so a shipment can
// commit after the feed passed its write_date. Each call therefore also
// looks at the shipments dated up to FeedOverlap before the cursor and
// returns, after the page and within limit, the events it has not
// returned yet (in this process: after a restart the hub deduplicates the
// few it sees again by event ID). The cursor moves with the page only.
func (c *Connector) Events(ctx context.Context, cur string, limit int) ([]connector.Event, string, error) {
	wrap := func(err error) error { return fmt.Errorf("tryton: events: %w", err) }
	pos, err := parseCursor(cur)
	if err != nil {
		return nil, cur, connector.Permanent(wrap(err))
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	env, err := c.environment(ctx)
	if err != nil {
		return nil, cur, wrap(err)
	}
	base := []any{
		cond("warehouse", "=", env.warehouse),
		cond("reference", "!=", nil),
		cond("reference", "!=", ""),
		cond("write_date", "!=", nil),
		cond("state", "in", []string{"waiting", "assigned", "picked", "packed", "done", "cancelled"}),
	}
	order := [][2]string{{"write_date", "ASC"}, {"id", "ASC"}}
	domain := base
	if cur != "" {
		at := dateTime{pos.at}
		domain = append(slices.Clone(base), []any{"OR",
			[]any{cond("write_date", ">", at)},
			[]any{cond("write_date", "=", at), cond("id", ">", pos.id)},
		})
	}
	ids, err := c.search(ctx, "stock.shipment.out", domain, order, limit)
	if err != nil {
		return nil, cur, wrap(err)
	}
	var late []int64
	if cur != "" && len(ids) < limit {
		// At or before the cursor, within the overlap.
		lateDomain := append(slices.Clone(base),
			cond("write_date", ">=", dateTime{pos.at.Add(-c.cfg.FeedOverlap)}),
			[]any{"OR",
				[]any{cond("write_date", "<", dateTime{pos.at})},
				[]any{cond("write_date", "=", dateTime{pos.at}), cond("id", "<=", pos.id)},
			})
		if late, err = c.search(ctx, "stock.shipment.out", lateDomain, order, limit); err != nil {
			return nil, cur, wrap(err)
		}
	}
	if len(ids) == 0 && len(late) == 0 {
		return nil, cur, nil
	}
	c.mu.Lock()
	reported := maps.Clone(c.reported)
	c.mu.Unlock()
	// The late shipments are read in full only when they have an event
	// not reported yet (usually none): first their state alone.
	if len(late) > 0 {
		brief, err := read[shipmentRow](ctx, c, nil, "stock.shipment.out", late, "state", "write_date")
		if err != nil {
			return nil, cur, wrap(err)
		}
		state := make(map[int64]string, len(brief))
		for _, r := range brief {
			state[r.ID] = r.State
		}
		var unreported []int64
		for _, id := range late { // search order
			if typ, ok := eventType(state[id]); ok && reported[fmt.Sprintf("%d:%s", id, typ)].IsZero() {
				unreported = append(unreported, id)
			}
		}
		late = unreported
	}
	rows, err := read[shipmentRow](ctx, c, nil, "stock.shipment.out", append(slices.Clone(ids), late...), shipmentFields...)
	if err != nil {
		return nil, cur, wrap(err)
	}
	byID := map[int64]shipmentRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	// The page, then the late shipments not reported yet, within limit.
	type pick struct {
		row shipmentRow
		typ connector.EventType
	}
	var picks []pick
	next := pos
	for _, id := range ids { // search order, not read order
		r, ok := byID[id]
		if !ok {
			return nil, cur, wrap(fmt.Errorf("shipment %d vanished between search and read", id))
		}
		next = cursor{at: r.WriteDate.Time, id: r.ID}
		if typ, ok := eventType(r.State); ok {
			picks = append(picks, pick{r, typ})
		}
	}
	for _, id := range late {
		r, ok := byID[id]
		if !ok || len(picks) >= limit {
			continue // gone since the search, or no room left: next call
		}
		if typ, ok := eventType(r.State); ok && reported[fmt.Sprintf("%d:%s", r.ID, typ)].IsZero() {
			picks = append(picks, pick{r, typ})
		}
	}
	var need []shipmentRow
	for _, p := range picks {
		need = append(need, p.row)
	}
	shipments, err := c.shipments(ctx, need)
	if err != nil {
		return nil, cur, wrap(err)
	}
	evs := make([]connector.Event, 0, len(picks))
	for _, p := range picks {
		r := p.row
		evs = append(evs, connector.Event{
			ID: fmt.Sprintf("%d:%s", r.ID, p.typ), Type: p.typ, ExternalRef: string(r.Reference),
			At: r.WriteDate.Time, Shipment: shipments[r.ID],
		})
	}
	c.mu.Lock()
	for _, e := range evs {
		c.reported[e.ID] = e.At
	}
	for id, at := range c.reported { // keep only what a later late look can meet
		if at.Before(next.at.Add(-c.cfg.FeedOverlap)) {
			delete(c.reported, id)
		}
	}
	c.mu.Unlock()
	return evs, next.String(), nil
}

// shipments builds the order.Shipment of every done shipment among rows:
// lines from the done outgoing moves (line numbers from the note; a move
// the note does not know is matched on its SKU, else reported as line 0 for
// the hub to flag), packages from stock.package with shipping_reference as
// tracking number.
func (c *Connector) shipments(ctx context.Context, rows []shipmentRow) (map[int64]*order.Shipment, error) {
	out := map[int64]*order.Shipment{}
	var done []int64
	var moveIDs, pkgIDs []int64
	for _, r := range rows {
		if r.State == "done" {
			done = append(done, r.ID)
			moveIDs = append(moveIDs, r.OutgoingMoves...)
			pkgIDs = append(pkgIDs, r.Packages...)
		}
	}
	if len(done) == 0 {
		return out, nil
	}
	notes, err := c.lineNotes(ctx, done)
	if err != nil {
		return nil, err
	}
	moves, err := read[moveRow](ctx, c, nil, "stock.move", moveIDs, "product", "quantity", "state", "package")
	if err != nil {
		return nil, fmt.Errorf("read moves: %w", err)
	}
	codes, err := c.productCodes(ctx, moves)
	if err != nil {
		return nil, fmt.Errorf("read product codes: %w", err)
	}
	moveByID := map[int64]moveRow{}
	for _, m := range moves {
		moveByID[m.ID] = m
	}
	type pkgRow struct {
		ID          int64   `json:"id"`
		Code        text    `json:"code"`
		Reference   text    `json:"shipping_reference"`
		TrackingURL text    `json:"shipping_tracking_url"`
		Moves       []int64 `json:"moves"`
	}
	pkgs, err := read[pkgRow](ctx, c, nil, "stock.package", pkgIDs, "code", "shipping_reference", "shipping_tracking_url", "moves")
	if err != nil {
		return nil, fmt.Errorf("read packages: %w", err)
	}
	pkgByID := map[int64]pkgRow{}
	for _, p := range pkgs {
		pkgByID[p.ID] = p
	}
	for _, r := range rows {
		if r.State != "done" {
			continue
		}
		note := notes[r.ID]
		lineOf := func(m moveRow) order.ShipmentLine {
			sku := codes[int64(m.Product)]
			sl := order.ShipmentLine{SKU: sku, Quantity: int(math.Round(m.Quantity))}
			if lr, ok := note[m.ID]; ok {
				sl.LineNo = lr.LineNo
				return sl
			}
			n, no := 0, 0
			for _, lr := range note {
				if lr.SKU == sku {
					n, no = n+1, lr.LineNo
				}
			}
			if n == 1 {
				sl.LineNo = no
			}
			return sl
		}
		sh := &order.Shipment{ID: strconv.FormatInt(r.ID, 10), ExternalRef: string(r.Reference), ShippedAt: r.WriteDate.Time}
		for _, id := range r.OutgoingMoves {
			m, ok := moveByID[id]
			if !ok || m.State != "done" || m.Quantity <= 0 {
				continue
			}
			sh.Lines = append(sh.Lines, lineOf(m))
		}
		sort.SliceStable(sh.Lines, func(i, j int) bool { return sh.Lines[i].LineNo < sh.Lines[j].LineNo })
		for _, pid := range r.Packages {
			p, ok := pkgByID[pid]
			if !ok {
				continue
			}
			pk := order.Package{ID: string(p.Code), TrackingNumber: string(p.Reference), TrackingURL: string(p.TrackingURL)}
			for _, id := range p.Moves {
				if m, ok := moveByID[id]; ok && m.State == "done" && m.Quantity > 0 {
					pk.Lines = append(pk.Lines, lineOf(m))
				}
			}
			sh.Packages = append(sh.Packages, pk)
		}
		out[r.ID] = sh
	}
	return out, nil
}

// Stock reports, for every goods product with a code, the quantity at the
// warehouse's storage location (and its children): OnHand is Tryton's
// quantity (done moves: what is on the shelves), Available is the lower of
// quantity and forecast_quantity, so units reserved by shipments waiting or
// assigned (their inventory moves are planned) are not offered again, and
// planned receipts are not offered before they arrive. Full is true.
func (c *Connector) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	wrap := func(err error) error { return fmt.Errorf("tryton: stock: %w", err) }
	env, err := c.environment(ctx)
	if err != nil {
		return connector.StockSnapshot{}, wrap(err)
	}
	asOf := time.Now().UTC() // before the read: orders sent after it are not in it
	ids, err := c.search(ctx, "product.product", []any{cond("type", "=", "goods"), cond("code", "!=", nil)}, [][2]string{{"id", "ASC"}}, 0)
	if err != nil {
		return connector.StockSnapshot{}, wrap(err)
	}
	type row struct {
		ID       int64   `json:"id"`
		Code     text    `json:"code"`
		Quantity float64 `json:"quantity"`
		Forecast float64 `json:"forecast_quantity"`
	}
	extra := map[string]any{"locations": []int64{env.storage}, "with_childs": true}
	rows, err := read[row](ctx, c, extra, "product.product", ids, "code", "quantity", "forecast_quantity")
	if err != nil {
		return connector.StockSnapshot{}, wrap(err)
	}
	snap := connector.StockSnapshot{AsOf: asOf, Full: true}
	seen := map[string]int{}
	for _, r := range rows {
		code := string(r.Code)
		if code == "" {
			continue
		}
		onHand := max(int(math.Floor(r.Quantity+1e-9)), 0)
		avail := min(onHand, max(int(math.Floor(r.Forecast+1e-9)), 0))
		if i, dup := seen[code]; dup { // two products with one code: one SKU
			snap.Items[i].OnHand += onHand
			snap.Items[i].Available += avail
			continue
		}
		seen[code] = len(snap.Items)
		snap.Items = append(snap.Items, connector.StockItem{SKU: code, OnHand: onHand, Available: avail})
	}
	return snap, nil
}

// Items lists every product with a code, active or not: code, name, the
// EAN/UPC identifiers as barcodes, and the active flag. Tryton counts in
// its own units; a product in Tryton's "Unit" (symbol u) is reported as
// "EA" with pack size 1, any other unit by its symbol.
func (c *Connector) Items(ctx context.Context) ([]connector.Item, error) {
	wrap := func(err error) error { return fmt.Errorf("tryton: items: %w", err) }
	all := map[string]any{"active_test": false}
	var ids []int64
	if err := c.callCtx(ctx, all, "product.product", "search", &ids, []any{cond("code", "!=", nil)}, 0, nil, [][]string{{"id", "ASC"}}); err != nil {
		return nil, wrap(err)
	}
	type row struct {
		ID          int64    `json:"id"`
		Code        text     `json:"code"`
		Name        text     `json:"name"`
		Active      boolean  `json:"active"`
		UOM         many2one `json:"default_uom"`
		Identifiers []int64  `json:"identifiers"`
	}
	rows, err := read[row](ctx, c, all, "product.product", ids, "code", "name", "active", "default_uom", "identifiers")
	if err != nil {
		return nil, wrap(err)
	}
	var identIDs, uomIDs []int64
	for _, r := range rows {
		identIDs = append(identIDs, r.Identifiers...)
		if !slices.Contains(uomIDs, int64(r.UOM)) {
			uomIDs = append(uomIDs, int64(r.UOM))
		}
	}
	type identRow struct {
		ID   int64 `json:"id"`
		Type text  `json:"type"`
		Code text  `json:"code"`
	}
	idents, err := read[identRow](ctx, c, nil, "product.identifier", identIDs, "type", "code")
	if err != nil {
		return nil, wrap(err)
	}
	identByID := map[int64]identRow{}
	for _, r := range idents {
		identByID[r.ID] = r
	}
	type uomRow struct {
		ID     int64 `json:"id"`
		Symbol text  `json:"symbol"`
	}
	uoms, err := read[uomRow](ctx, c, nil, "product.uom", uomIDs, "symbol")
	if err != nil {
		return nil, wrap(err)
	}
	symbol := map[int64]string{}
	for _, u := range uoms {
		symbol[u.ID] = string(u.Symbol)
	}
	var items []connector.Item
	for _, r := range rows {
		it := connector.Item{Code: string(r.Code), Description: string(r.Name), Active: bool(r.Active), UOM: symbol[int64(r.UOM)]}
		if it.UOM == "u" {
			it.UOM, it.PackSize = "EA", 1
		}
		for _, id := range r.Identifiers {
			if ir, ok := identByID[id]; ok && (ir.Type == "ean" || ir.Type == "upc") {
				it.Barcodes = append(it.Barcodes, string(ir.Code))
			}
		}
		items = append(items, it)
	}
	return items, nil
}
