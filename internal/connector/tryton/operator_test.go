package tryton

// The test peer and the warehouse operator: what the tests (in this package
// and in tryton_test) use to drive a real trytond over JSON-RPC the way a
// warehouse worker would with Tryton's own buttons.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Peer is the Tryton server the tests run against (scripts/tryton-up.sh
// prints its settings).
type Peer struct {
	URL, Database, User, Password string
}

var (
	peerOnce sync.Once
	peer     Peer
	peerErr  error
)

// RequirePeer returns the Tryton server named by CROSSDOCK_TEST_TRYTON_URL,
// _DB, _USER and _PASSWORD. Without them, or if it does not answer, the test
// is skipped — or fails when CROSSDOCK_REQUIRE_TRYTON=1 (CI).
func RequirePeer(t testing.TB) Peer {
	t.Helper()
	peerOnce.Do(func() {
		peer = Peer{
			URL: os.Getenv("CROSSDOCK_TEST_TRYTON_URL"), Database: os.Getenv("CROSSDOCK_TEST_TRYTON_DB"),
			User: os.Getenv("CROSSDOCK_TEST_TRYTON_USER"), Password: os.Getenv("CROSSDOCK_TEST_TRYTON_PASSWORD"),
		}
		if peer.URL == "" || peer.Database == "" || peer.User == "" || peer.Password == "" {
			peerErr = errors.New("CROSSDOCK_TEST_TRYTON_URL, _DB, _USER and _PASSWORD are not all set; run: eval \"$(scripts/tryton-up.sh)\"")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := newRPCClient(peer.URL, peer.Database, peer.User, peer.Password, 10*time.Second, &http.Client{})
		if _, _, err := c.session(ctx, ""); err != nil {
			peerErr = fmt.Errorf("Tryton at %s (database %s) does not answer: %w", peer.URL, peer.Database, err)
		}
	})
	if peerErr != nil {
		if os.Getenv("CROSSDOCK_REQUIRE_TRYTON") == "1" {
			t.Fatalf("CROSSDOCK_REQUIRE_TRYTON=1 but %v", peerErr)
		}
		t.Skipf("no Tryton peer: %v", peerErr)
	}
	return peer
}

// Settings returns the connector configuration block for warehouse code wh
// reached at url (the peer's own URL when empty).
func (p Peer) Settings(url, wh string) map[string]any {
	if url == "" {
		url = p.URL
	}
	return map[string]any{"url": url, "database": p.Database, "user": p.User, "password": p.Password, "warehouse": wh, "timeout": "60s"}
}

// runTag keeps warehouse codes and tracking numbers unique across runs
// against the persistent peer.
var (
	runTag = strconv.FormatInt(time.Now().UnixNano()%1e10, 36)
	seq    atomic.Int64
)

// Operator works in Tryton as the warehouse staff would.
type Operator struct {
	rpc *rpcClient

	mu       sync.Mutex
	tracking map[int64][]string // shipment → tracking numbers it packed
}

// Shipped is a shipment the operator shipped.
type Shipped struct {
	ID        int64
	Reference string
	Tracking  []string
}

// NewOperator logs in to the peer with its own session.
func NewOperator(p Peer) *Operator {
	return &Operator{rpc: newRPCClient(p.URL, p.Database, p.User, p.Password, 60*time.Second, &http.Client{}),
		tracking: map[int64][]string{}}
}

func (o *Operator) call(t testing.TB, model, method string, extra map[string]any, out any, args ...any) {
	t.Helper()
	if err := o.rpc.model(context.Background(), model, method, extra, out, args...); err != nil {
		t.Fatalf("operator: %s.%s: %v", model, method, err)
	}
}

func (o *Operator) search(t testing.TB, model string, domain ...any) []int64 {
	t.Helper()
	var ids []int64
	o.call(t, model, "search", nil, &ids, domain, 0, nil, [][]string{{"id", "ASC"}})
	return ids
}

func (o *Operator) create(t testing.TB, model string, vals ...map[string]any) []int64 {
	t.Helper()
	var ids []int64
	in := make([]any, len(vals))
	for i, v := range vals {
		in[i] = v
	}
	o.call(t, model, "create", nil, &ids, in)
	return ids
}

// Warehouse is a warehouse location the operator created for one test.
type Warehouse struct {
	ID, Storage int64
	Code        string
}

// NewWarehouse creates a warehouse of its own (input, output, storage and
// lost-and-found locations) so that tests running at once never share
// shipments or stock.
func (o *Operator) NewWarehouse(t testing.TB) Warehouse {
	t.Helper()
	code := fmt.Sprintf("X%s-%d", runTag, seq.Add(1))
	locs := o.create(t, "stock.location",
		map[string]any{"name": code + " input", "type": "storage"},
		map[string]any{"name": code + " output", "type": "storage"},
		map[string]any{"name": code + " storage", "type": "storage"},
		map[string]any{"name": code + " lost and found", "type": "lost_found"})
	wh := o.create(t, "stock.location", map[string]any{"name": "Warehouse " + code, "code": code, "type": "warehouse",
		"input_location": locs[0], "output_location": locs[1], "storage_location": locs[2], "lost_found_location": locs[3]})
	o.call(t, "stock.location", "write", nil, nil, locs[:3], map[string]any{"parent": wh[0]})
	return Warehouse{ID: wh[0], Storage: locs[2], Code: code}
}

var productsMu sync.Mutex

// EnsureProducts creates the goods products with these codes that Tryton
// does not have yet.
func (o *Operator) EnsureProducts(t testing.TB, codes ...string) map[string]int64 {
	t.Helper()
	productsMu.Lock()
	defer productsMu.Unlock()
	var ids []int64
	o.call(t, "product.product", "search", map[string]any{"active_test": false}, &ids, []any{cond("code", "in", codes)}, 0, nil, nil)
	type row struct {
		ID   int64 `json:"id"`
		Code text  `json:"code"`
	}
	var rows []row
	o.call(t, "product.product", "read", nil, &rows, ids, []string{"code"})
	out := map[string]int64{}
	for _, r := range rows {
		out[string(r.Code)] = r.ID
	}
	unit := o.search(t, "product.uom", cond("symbol", "=", "u"))
	if len(unit) == 0 {
		t.Fatal("operator: Tryton has no unit of measure \"u\"")
	}
	for _, code := range codes {
		if _, ok := out[code]; ok {
			continue
		}
		tpl := o.create(t, "product.template", map[string]any{"name": "Test product " + code, "type": "goods",
			"default_uom": unit[0], "list_price": decimal("10"),
			"products": []any{[]any{"create", []any{map[string]any{"suffix_code": code}}}}})
		var p []int64
		o.call(t, "product.product", "search", nil, &p, []any{cond("template", "=", tpl[0])}, 0, nil, nil)
		out[code] = p[0]
	}
	return out
}

// SetStock sets the on-hand quantity of products at the warehouse's storage
// location with a confirmed inventory, creating missing products.
func (o *Operator) SetStock(t testing.TB, wh Warehouse, onHand map[string]int) {
	t.Helper()
	var codes []string
	for c := range onHand {
		codes = append(codes, c)
	}
	products := o.EnsureProducts(t, codes...)
	var lines []any
	for code, q := range onHand {
		lines = append(lines, map[string]any{"product": products[code], "quantity": q})
	}
	inv := o.create(t, "stock.inventory", map[string]any{"location": wh.Storage, "lines": []any{[]any{"create", lines}}})
	o.call(t, "stock.inventory", "confirm", nil, nil, inv)
}

// button presses a shipment button, answering Tryton's warnings ("no
// carrier", "moves without origin") the way a user clicking "Yes" does.
func (o *Operator) button(t testing.TB, id int64, method string) {
	t.Helper()
	for range 5 {
		err := o.rpc.model(context.Background(), "stock.shipment.out", method, nil, nil, []int64{id})
		var re *RPCError
		if errors.As(err, &re) && re.Kind == "UserWarning" {
			uid, err := o.rpc.userID(context.Background())
			if err != nil {
				t.Fatalf("operator: user id: %v", err)
			}
			o.create(t, "res.user.warning", map[string]any{"user": uid, "name": re.Name, "always": true})
			continue
		}
		if err != nil {
			t.Fatalf("operator: shipment %d %s: %v", id, method, err)
		}
		return
	}
	t.Fatalf("operator: shipment %d %s: still warning after 5 answers", id, method)
}

// SettleOptions say how the operator ships.
type SettleOptions struct {
	// MultiPackage packs each outgoing move of a shipment with several in
	// its own package.
	MultiPackage bool
	// StopAt leaves shipments in this state ("assigned", "picked",
	// "packed") instead of moving them on.
	StopAt string
}

// Tracking returns the tracking number the operator gives package i of a
// shipment.
func Tracking(shipment int64, i int) string {
	return fmt.Sprintf("TRY%s%d%02d", runTag, shipment, i+1)
}

// Settle works every shipment of the warehouse as far as it goes (draft
// ones are the connector's, which moves them to waiting): assign (stays waiting without stock), pick, pack in packages with a
// tracking number (shipping_reference), done. It returns the shipments it
// shipped.
func (o *Operator) Settle(t testing.TB, wh Warehouse, opt SettleOptions) []Shipped {
	t.Helper()
	var shipped []Shipped
	boxes := o.search(t, "stock.package.type", cond("name", "=", "Box"))
	if len(boxes) == 0 {
		boxes = o.create(t, "stock.package.type", map[string]any{"name": "Box"})
	}
	type row struct {
		ID            int64   `json:"id"`
		Reference     text    `json:"reference"`
		State         string  `json:"state"`
		OutgoingMoves []int64 `json:"outgoing_moves"`
		Packages      []int64 `json:"packages"`
	}
	for range 10 {
		ids := o.search(t, "stock.shipment.out", cond("warehouse", "=", wh.ID),
			cond("state", "in", []string{"waiting", "assigned", "picked", "packed"}))
		var rows []row
		o.call(t, "stock.shipment.out", "read", nil, &rows, ids, []string{"reference", "state", "outgoing_moves", "packages"})
		progress := false
		for _, r := range rows {
			if r.State == opt.StopAt {
				continue
			}
			switch r.State {
			case "waiting":
				var ok bool
				o.call(t, "stock.shipment.out", "assign_try", nil, &ok, []int64{r.ID})
				if !ok {
					continue // waiting for stock
				}
			case "assigned":
				o.button(t, r.ID, "pick")
			case "picked":
				if len(r.Packages) == 0 {
					o.pack(t, r.ID, r.OutgoingMoves, boxes[0], opt.MultiPackage)
				}
				o.button(t, r.ID, "pack")
			case "packed":
				o.button(t, r.ID, "done")
				o.mu.Lock()
				shipped = append(shipped, Shipped{ID: r.ID, Reference: string(r.Reference), Tracking: o.tracking[r.ID]})
				o.mu.Unlock()
			}
			progress = true
		}
		if !progress {
			return shipped
		}
	}
	t.Fatalf("operator: warehouse %s does not settle after 10 passes", wh.Code)
	return nil
}

// pack puts a picked shipment's outgoing moves in packages.
func (o *Operator) pack(t testing.TB, shipment int64, moves []int64, box int64, multi bool) {
	t.Helper()
	var live []int64
	type mv struct {
		ID       int64   `json:"id"`
		State    string  `json:"state"`
		Quantity float64 `json:"quantity"`
	}
	var rows []mv
	o.call(t, "stock.move", "read", nil, &rows, moves, []string{"state", "quantity"})
	for _, m := range rows {
		if m.State != "cancelled" && m.Quantity > 0 {
			live = append(live, m.ID)
		}
	}
	groups := [][]int64{live}
	if multi && len(live) > 1 {
		groups = nil
		for _, id := range live {
			groups = append(groups, []int64{id})
		}
	}
	var numbers []string
	for i, g := range groups {
		o.create(t, "stock.package", map[string]any{"shipment": fmt.Sprintf("stock.shipment.out,%d", shipment), "type": box,
			"shipping_reference": Tracking(shipment, i), "moves": []any{[]any{"add", g}}})
		numbers = append(numbers, Tracking(shipment, i))
	}
	o.mu.Lock()
	o.tracking[shipment] = numbers
	o.mu.Unlock()
}

// Proxy is a reverse proxy in front of trytond that a test can take down
// (it then answers 502 Bad Gateway, as a real front proxy does).
type Proxy struct {
	URL  string
	down atomic.Bool
}

// NewProxy starts a proxy to the peer, closed with the test.
func NewProxy(t testing.TB, p Peer) *Proxy {
	t.Helper()
	target, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	px := &Proxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if px.down.Load() {
			http.Error(w, "upstream down", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	px.URL = srv.URL
	return px
}

// SetDown starts or ends an outage.
func (px *Proxy) SetDown(down bool) { px.down.Store(down) }

// Touch writes a shipment without changing its state, as a user editing
// the record does (its write_date moves).
func (o *Operator) Touch(t testing.TB, shipment int64) {
	t.Helper()
	o.call(t, "stock.shipment.out", "write", nil, nil, []int64{shipment}, map[string]any{"effective_date": map[string]any{
		"__class__": "date", "year": 2026, "month": 1, "day": 2}})
}

// ShipmentOf returns the id and delivery address of the shipment with
// reference ref in the warehouse.
func (o *Operator) ShipmentOf(t testing.TB, wh Warehouse, ref string) (id, address int64) {
	t.Helper()
	ids := o.search(t, "stock.shipment.out", cond("warehouse", "=", wh.ID), cond("reference", "=", ref))
	if len(ids) != 1 {
		t.Fatalf("operator: %d shipments with reference %s", len(ids), ref)
	}
	var rows []struct {
		Address many2one `json:"delivery_address"`
	}
	o.call(t, "stock.shipment.out", "read", nil, &rows, ids, []string{"delivery_address"})
	return ids[0], int64(rows[0].Address)
}

// AddBarcode gives a product an EAN identifier.
func (o *Operator) AddBarcode(t testing.TB, product int64, ean string) {
	t.Helper()
	o.create(t, "product.identifier", map[string]any{"product": product, "type": "ean", "code": ean})
}

// Deactivate retires a product.
func (o *Operator) Deactivate(t testing.TB, product int64) {
	t.Helper()
	o.call(t, "product.product", "write", nil, nil, []int64{product}, map[string]any{"active": false})
}

// Shipments lists the warehouse's customer shipments (id, reference,
// state, write_date) for a failing test's report.
func (o *Operator) Shipments(t testing.TB, wh Warehouse) string {
	var rows []struct {
		ID        int64  `json:"id"`
		Reference text   `json:"reference"`
		State     string `json:"state"`
		WriteDate any    `json:"write_date"`
	}
	ids := o.search(t, "stock.shipment.out", cond("warehouse", "=", wh.ID))
	o.call(t, "stock.shipment.out", "read", nil, &rows, ids, []string{"reference", "state", "write_date"})
	return fmt.Sprintf("%+v", rows)
}
