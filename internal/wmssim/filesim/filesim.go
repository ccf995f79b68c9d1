// Package filesim makes a simulated warehouse (a wmssim.Server) act as a
// third-party logistics partner that exchanges files with the hub, the way
// the csvwms ("csv") and ediwms ("edi") connectors expect (WMS.md §2–3).
// The warehouse logic — allocation, backorders, picking, partial shipments,
// several packages, stock — stays wmssim's; a Partner only translates:
//
//   - it polls the folder the hub writes to (Config.Inbox, the connectors'
//     "out", default "to_wms") and reads each completed file once, in name
//     order. A file it cannot read goes to Config.Rejected ("rejected")
//     beside a "<name>.reason.txt". A file it read stays where it is and
//     is remembered (name, size, mtime), unless Config.Done names a folder
//     to move it to. Leaving it is what the connectors need: ediwms builds
//     a cancel (W05 F) from the 940 it sent and both connectors answer a
//     resubmission from the file they wrote, reading it back from their
//     outbound folder (or archive/), so a partner that clears its inbox
//     makes an EDI cancel fail ("no 940 was sent");
//   - CSV: ord_*.csv orders (csvfile.ReadOrders) are created in the
//     simulator, cancel_*.csv ask it to cancel;
//   - EDI: 940s (ediwms.Read940) create (W05 N, R) or cancel (W05 F)
//     orders, every functional group received is acknowledged with a 997
//     (x12.AckInterchange) in 997_<stem>.edi, and the hub's 997s are read
//     and counted;
//   - it follows the simulator's event feed and writes every shipment to
//     the folder the hub reads (Config.Outbox, the connectors' "in",
//     default "from_wms"): shp_*.csv (one row per package and line, with
//     carrier, tracking number and URL) or 945_*.edi (W06, W27, and per
//     package and line LX, MAN GM/CP, W12); an order the simulator
//     cancelled is answered, in EDI, by a 945 that ships nothing;
//   - every Config.StockInterval it writes a full stock snapshot, inv_*.csv
//     or 846_*.edi (LIN SK, QTY 17 on hand and 33 available).
//
// Files are written atomically (filedrop.Drop.WriteAtomic: temporary name,
// then rename), one at a time, with names that sort in the order they are
// written ("<prefix>_<start time>_<sequence>"), as the connectors' name
// cursors require. CSV files are UTF-8 with the profile's header names and
// delimiter (default ","); a profile without a header row is not supported.
//
// The simulator is driven through its own protocol (wmssim's http.Handler,
// called in process), so a Partner sees exactly what a REST client sees.
// A Partner is driven by Step (tests) or Start (a goroutine calling Step
// every Config.PollInterval).
package filesim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/wmssim"
	"github.com/crossdock/crossdock/internal/x12"
)

// Protocols a Partner speaks (the connector kinds on the hub's side).
const (
	ProtocolCSV = "csv"
	ProtocolEDI = "edi"
)

// Default folders and intervals.
const (
	DefaultInbox         = "to_wms"
	DefaultOutbox        = "from_wms"
	DefaultRejected      = "rejected"
	DefaultPollInterval  = 100 * time.Millisecond
	DefaultStockInterval = time.Second
)

// EDIProfile identifies the two trading partners in the envelopes the
// Partner writes. It must mirror the hub's ediwms profile: our ID is the
// hub's receiver_id, HubID its sender_id.
type EDIProfile struct {
	// Qualifier and ID are the partner's ISA05/06 and GS02 (default "ZZ",
	// "DEMO3PL").
	Qualifier, ID string
	// HubQualifier and HubID are the hub's ISA07/08 and GS03 (default
	// "ZZ", "CROSSDOCK").
	HubQualifier, HubID string
}

// Config configures a Partner.
type Config struct {
	// Sim is the warehouse. Required.
	Sim *wmssim.Server
	// Token is Sim's bearer token (wmssim.Config.Token).
	Token string
	// Drop is the partner's side of the exchange: its own directory (a
	// filedrop.Local on the SFTP server's root) or an SFTP account. Required.
	Drop filedrop.Drop
	// Protocol is ProtocolCSV or ProtocolEDI.
	Protocol string
	// Inbox is the folder the hub writes to; Outbox the one it reads.
	Inbox, Outbox string
	// Done, when set, receives the files read from Inbox (a partner that
	// clears its inbox); by default they stay there. Rejected receives
	// the files that could not be read, each with a reason file.
	Done, Rejected string
	// CSV is the CSV dialect and mapping; zero means
	// csvwms.DefaultProfile(). Kinds it leaves unmapped take the default
	// mapping.
	CSV csvfile.Profile
	// EDI identifies the partners in X12 envelopes.
	EDI EDIProfile
	// PollInterval is the delay between two Steps under Start.
	PollInterval time.Duration
	// StockInterval is how often a stock snapshot is written.
	StockInterval time.Duration
	// ShipmentsPerFile caps the shipments (945 sets) per file; zero puts
	// everything a Step found in one file, as partners that batch do.
	ShipmentsPerFile int
	// ResendRate is the probability, in [0, 1], that a shipment file is
	// sent a second time, unchanged, under the next file name (a common
	// partner retry); see SetResendRate.
	ResendRate float64
	// Seed seeds the choice of the files resent.
	Seed uint64
	// Annotate, when set, is called on every order read before it is
	// created in Sim. A real partner only knows what its files carry (a
	// 940 has no Shopify ids); the demo uses it to add the Shopify order
	// and fulfillment order ids so that its summary can join the
	// simulators' states.
	Annotate func(*order.WarehouseOrder)
	// Now is the clock (default time.Now); use Sim's clock.
	Now func() time.Time
	// Logger receives problems (default: discarded).
	Logger *slog.Logger
}

// Stats are a Partner's counters.
type Stats struct {
	FilesRead      int `json:"files_read"`
	FilesRejected  int `json:"files_rejected"`
	OrdersCreated  int `json:"orders_created"`
	OrdersReplayed int `json:"orders_replayed"` // an order sent again
	OrdersRefused  int `json:"orders_refused"`  // refused by the warehouse (conflict, invalid)
	CancelRequests int `json:"cancel_requests"`
	Shipments      int `json:"shipments"`
	Cancellations  int `json:"cancellations"` // 945s shipping nothing
	ShipmentFiles  int `json:"shipment_files"`
	StockFiles     int `json:"stock_files"`
	AcksSent       int `json:"acks_sent"`     // 997 sets written
	AcksReceived   int `json:"acks_received"` // 997 sets read from the hub
	StepErrors     int `json:"step_errors"`
	FilesResent    int `json:"files_resent"` // shipment files sent twice (ResendRate)
}

// Partner is a file-exchanging 3PL backed by a wmssim.Server. Its methods
// are safe for concurrent use; Steps are serialised.
type Partner struct {
	cfg     Config
	csv     csvfile.Profile
	numbers x12.MemoryControlNumbers
	stamp   string // start time, first part of every file name
	log     *slog.Logger

	step      sync.Mutex // one Step at a time
	dirsMade  bool
	cursor    string
	seenEvent map[string]bool
	seenFile  map[string]string // inbox name → size/mtime when read
	seq       int
	lastStock time.Time

	mu     sync.Mutex
	stats  Stats
	resend float64
	rng    *rand.Rand

	cancel context.CancelFunc
	done   chan struct{}
}

// New validates cfg and returns a Partner; it touches nothing yet.
func New(cfg Config) (*Partner, error) {
	if cfg.Sim == nil || cfg.Drop == nil {
		return nil, errors.New("filesim: Sim and Drop are required")
	}
	if cfg.Protocol != ProtocolCSV && cfg.Protocol != ProtocolEDI {
		return nil, fmt.Errorf("filesim: protocol must be %q or %q, not %q", ProtocolCSV, ProtocolEDI, cfg.Protocol)
	}
	cfg.Inbox = cmp.Or(cfg.Inbox, DefaultInbox)
	cfg.Outbox = cmp.Or(cfg.Outbox, DefaultOutbox)
	cfg.Rejected = cmp.Or(cfg.Rejected, DefaultRejected)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, DefaultPollInterval)
	cfg.StockInterval = cmp.Or(cfg.StockInterval, DefaultStockInterval)
	cfg.EDI.Qualifier = cmp.Or(cfg.EDI.Qualifier, "ZZ")
	cfg.EDI.ID = cmp.Or(cfg.EDI.ID, "DEMO3PL")
	cfg.EDI.HubQualifier = cmp.Or(cfg.EDI.HubQualifier, "ZZ")
	cfg.EDI.HubID = cmp.Or(cfg.EDI.HubID, "CROSSDOCK")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Partner{cfg: cfg, log: log.With("warehouse", cfg.Sim.Name(), "protocol", cfg.Protocol),
		seenEvent: map[string]bool{}, seenFile: map[string]string{}, stamp: cfg.Now().UTC().Format("20060102T150405")}
	p.resend = cfg.ResendRate
	p.rng = rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	p.csv = cfg.CSV
	def := csvwms.DefaultProfile()
	if !p.csv.Header && p.csv.Orders == nil && p.csv.Shipments == nil && p.csv.Stock == nil {
		p.csv.Header = true
	}
	if !p.csv.Header {
		return nil, errors.New("filesim: CSV profiles without a header row are not supported")
	}
	if len(p.csv.Shipments) == 0 {
		p.csv.Shipments = def.Shipments
	}
	if len(p.csv.Stock) == 0 {
		p.csv.Stock = def.Stock
	}
	if len(p.csv.Orders) == 0 {
		p.csv.Orders = def.Orders
	}
	for _, k := range []csvfile.Kind{csvfile.KindOrders, csvfile.KindShipments, csvfile.KindStock} {
		if err := p.csv.Validate(k); err != nil {
			return nil, fmt.Errorf("filesim: CSV profile: %w", err)
		}
	}
	return p, nil
}

// SetResendRate sets Config.ResendRate.
func (p *Partner) SetResendRate(r float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resend = r
}

// SendStock makes the next Step write a stock snapshot whatever
// StockInterval says: the warehouse's stock changed and it reports it at
// once. It waits for a Step in progress to finish.
func (p *Partner) SendStock() {
	p.step.Lock()
	defer p.step.Unlock()
	p.lastStock = time.Time{}
}

// Sim returns the simulated warehouse.
func (p *Partner) Sim() *wmssim.Server { return p.cfg.Sim }

// Stats returns the counters.
func (p *Partner) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Partner) count(fn func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.stats)
}

// Start runs Step every PollInterval in a goroutine until Close. Step
// errors (a transport outage, say) are logged and retried at the next
// tick.
func (p *Partner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.cfg.PollInterval)
		defer t.Stop()
		for {
			if err := p.Step(ctx); err != nil && ctx.Err() == nil {
				p.count(func(s *Stats) { s.StepErrors++ })
				p.log.Warn("file partner step failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the goroutine started by Start and waits for it. It does not
// close the Drop or the simulator.
func (p *Partner) Close() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel = nil
	}
}

// Step reads the inbox, writes the files for new shipments (and, in EDI,
// cancellations), and writes a stock snapshot when StockInterval has
// passed since the last one. It stops at the first error; what was not
// done is done by the next Step (nothing is skipped).
func (p *Partner) Step(ctx context.Context) error {
	p.step.Lock()
	defer p.step.Unlock()
	if !p.dirsMade {
		for _, d := range []string{p.cfg.Inbox, p.cfg.Outbox, p.cfg.Done, p.cfg.Rejected} {
			if d == "" {
				continue
			}
			if err := p.cfg.Drop.MkdirAll(ctx, d); err != nil {
				return fmt.Errorf("filesim: create %s: %w", d, err)
			}
		}
		p.dirsMade = true
	}
	if err := p.readInbox(ctx); err != nil {
		return err
	}
	if err := p.publish(ctx); err != nil {
		return err
	}
	if now := p.cfg.Now(); p.lastStock.IsZero() || now.Sub(p.lastStock) >= p.cfg.StockInterval {
		if err := p.writeStock(ctx); err != nil {
			return err
		}
		p.lastStock = now
	}
	return nil
}

// readInbox handles every completed file of the inbox, in name order.
func (p *Partner) readInbox(ctx context.Context) error {
	files, err := p.cfg.Drop.List(ctx, p.cfg.Inbox)
	if err != nil {
		return fmt.Errorf("filesim: list %s: %w", p.cfg.Inbox, err)
	}
	files = slices.DeleteFunc(files, func(fi filedrop.FileInfo) bool { return fi.IsDir || filedrop.Ignored(fi.Name) })
	slices.SortFunc(files, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, fi := range files {
		key := fmt.Sprintf("%d/%d", fi.Size, fi.ModTime.UnixNano())
		if p.seenFile[fi.Name] == key {
			continue
		}
		data, err := p.cfg.Drop.Read(ctx, fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("filesim: read %s: %w", fi.Path, err)
		}
		var reason string
		switch p.cfg.Protocol {
		case ProtocolCSV:
			reason, err = p.handleCSV(ctx, fi.Name, data)
		default:
			reason, err = p.handleEDI(ctx, fi.Name, data)
		}
		if err != nil {
			return err // retried whole: creates and cancels are idempotent
		}
		dest := p.cfg.Done
		if reason != "" {
			dest = p.cfg.Rejected
			p.log.Warn("file rejected", "file", fi.Path, "reason", reason)
			if err := p.cfg.Drop.WriteAtomic(ctx, dest, fi.Name+".reason.txt", []byte(reason+"\n")); err != nil {
				return fmt.Errorf("filesim: reason for %s: %w", fi.Name, err)
			}
		}
		if dest != "" {
			if err := p.moveUnique(ctx, fi, dest); err != nil {
				return err
			}
		} else {
			p.seenFile[fi.Name] = key
		}
		p.count(func(s *Stats) {
			s.FilesRead++
			if reason != "" {
				s.FilesRejected++
			}
		})
	}
	return nil
}

// moveUnique moves fi into dir under its name, or "<name>.<n>" when a file
// of that name is already there (an order sent twice).
func (p *Partner) moveUnique(ctx context.Context, fi filedrop.FileInfo, dir string) error {
	for n := 0; ; n++ {
		name := fi.Name
		if n > 0 {
			name = fmt.Sprintf("%s.%d", fi.Name, n)
		}
		err := p.cfg.Drop.Move(ctx, fi.Path, path.Join(dir, name))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("filesim: move %s to %s: %w", fi.Path, dir, err)
		}
		return nil
	}
}

// nextName returns a new file name that sorts after every earlier one.
func (p *Partner) nextName(prefix, ext string) string {
	p.seq++
	return fmt.Sprintf("%s_%s_%07d%s", prefix, p.stamp, p.seq, ext)
}

// errRefused is a permanent refusal of an order or cancel by the warehouse.
type errRefused struct{ msg string }

func (e *errRefused) Error() string { return e.msg }

// call runs one request of the simulator's protocol in process and decodes
// a 2xx answer into out. A 4xx answer is an *errRefused; anything else an
// error to retry.
func (p *Partner) call(ctx context.Context, method, target string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("filesim: %s %s: %w", method, target, err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequestWithContext(ctx, method, target, rd)
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	w := httptest.NewRecorder()
	p.cfg.Sim.ServeHTTP(w, req)
	switch {
	case w.Code >= 200 && w.Code < 300:
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			return fmt.Errorf("filesim: %s %s: decode answer: %w", method, target, err)
		}
		return nil
	case w.Code >= 400 && w.Code < 500 && w.Code != http.StatusTooManyRequests && w.Code != http.StatusUnauthorized:
		return &errRefused{msg: fmt.Sprintf("warehouse answered %d: %s", w.Code, strings.TrimSpace(w.Body.String()))}
	}
	return fmt.Errorf("filesim: %s %s: warehouse answered %d: %s", method, target, w.Code, strings.TrimSpace(w.Body.String()))
}

// createOrder creates o in the simulator; a refusal is returned as a
// reason, not an error.
func (p *Partner) createOrder(ctx context.Context, o order.WarehouseOrder) (string, error) {
	if p.cfg.Annotate != nil {
		p.cfg.Annotate(&o)
	}
	var res struct {
		Created bool `json:"created"`
	}
	err := p.call(ctx, http.MethodPost, "/v1/orders", o, &res)
	var ref *errRefused
	if errors.As(err, &ref) {
		p.count(func(s *Stats) { s.OrdersRefused++ })
		return fmt.Sprintf("order %s: %s", o.ExternalRef, ref.msg), nil
	}
	if err != nil {
		return "", err
	}
	p.count(func(s *Stats) {
		if res.Created {
			s.OrdersCreated++
		} else {
			s.OrdersReplayed++
		}
	})
	return "", nil
}

// cancelOrder asks the simulator to cancel ref; the answer comes back
// through its event feed (cancelled or cancel_rejected).
func (p *Partner) cancelOrder(ctx context.Context, ref string) (string, error) {
	p.count(func(s *Stats) { s.CancelRequests++ })
	err := p.call(ctx, http.MethodPost, "/v1/orders/"+url.PathEscape(ref)+"/cancel", nil, nil)
	var r *errRefused
	if errors.As(err, &r) {
		return fmt.Sprintf("cancel %s: %s", ref, r.msg), nil
	}
	return "", err
}

// publish writes the shipments (and cancellations) the simulator
// published since the cursor; the cursor moves once they are written.
func (p *Partner) publish(ctx context.Context) error {
	for {
		var page struct {
			Events     []connector.Event `json:"events"`
			NextCursor string            `json:"next_cursor"`
		}
		target := "/v1/events?limit=" + fmt.Sprint(wmssim.MaxEventLimit)
		if p.cursor != "" {
			target += "&after=" + url.QueryEscape(p.cursor)
		}
		if err := p.call(ctx, http.MethodGet, target, nil, &page); err != nil {
			return err
		}
		var evs []connector.Event
		inPage := map[string]bool{}
		for _, e := range page.Events {
			if p.seenEvent[e.ID] || inPage[e.ID] {
				continue // a duplicate the simulator injected
			}
			inPage[e.ID] = true
			switch {
			case e.Type == connector.EventShipped && e.Shipment != nil:
				evs = append(evs, e)
			case e.Type == connector.EventCancelled:
				evs = append(evs, e)
			}
		}
		for len(evs) > 0 {
			n := len(evs)
			if p.cfg.ShipmentsPerFile > 0 {
				n = min(n, p.cfg.ShipmentsPerFile)
			}
			var err error
			if p.cfg.Protocol == ProtocolCSV {
				err = p.writeShipmentsCSV(ctx, evs[:n])
			} else {
				err = p.write945(ctx, evs[:n])
			}
			if err != nil {
				return err // the cursor stays: the page is written again
			}
			evs = evs[n:]
		}
		for _, e := range page.Events {
			p.seenEvent[e.ID] = true
		}
		p.cursor = page.NextCursor
		if len(page.Events) < wmssim.MaxEventLimit {
			return nil
		}
	}
}

// stockItems returns the simulator's stock sorted by SKU.
func (p *Partner) stockItems() []wmssim.StockItem {
	m := p.cfg.Sim.Stock()
	items := make([]wmssim.StockItem, 0, len(m))
	for _, it := range m {
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b wmssim.StockItem) int { return strings.Compare(a.SKU, b.SKU) })
	return items
}

func (p *Partner) writeStock(ctx context.Context) error {
	if p.cfg.Protocol == ProtocolCSV {
		return p.writeStockCSV(ctx)
	}
	return p.write846(ctx)
}

// put writes one file atomically into the outbox.
func (p *Partner) put(ctx context.Context, name string, data []byte) error {
	if err := p.cfg.Drop.WriteAtomic(ctx, p.cfg.Outbox, name, data); err != nil {
		return fmt.Errorf("filesim: write %s/%s: %w", p.cfg.Outbox, name, err)
	}
	return nil
}

// putShipments writes a shipment file, and again under the next name when
// ResendRate says so.
func (p *Partner) putShipments(ctx context.Context, prefix, ext string, data []byte) error {
	if err := p.put(ctx, p.nextName(prefix, ext), data); err != nil {
		return err
	}
	p.mu.Lock()
	again := p.resend > 0 && p.rng.Float64() < p.resend
	if again {
		p.stats.FilesResent++
	}
	p.mu.Unlock()
	if !again {
		return nil
	}
	return p.put(ctx, p.nextName(prefix, ext), data)
}
