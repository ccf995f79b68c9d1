// Package csvwms is the connector for third-party logistics partners that
// exchange CSV files (WMS.md §3) through a file drop: a local directory or
// an SFTP account (internal/filedrop). It registers the connector kind
// "csv".
//
// Configuration keys (strict; any other key is an error):
//
//	transport                 required: "local" or "sftp"
//	dir                       local: the drop root (must exist)
//	address, user             sftp: host:port and login
//	password, private_key     sftp: at least one (private_key in PEM/OpenSSH form)
//	host_key                  sftp: the server's key, "ssh-ed25519 AAAA…"
//	insecure_ignore_host_key  sftp: true skips host key checks (tests only)
//	out                       folder for order and cancel files, default "to_wms"
//	in                        folder the partner writes to, default "from_wms"
//	archive                   processed inbound files, default "archive"
//	error                     rejected inbound files + reasons, default "error"
//	profile                   csvfile.Profile (delimiter, encoding, header,
//	                          orders/shipments/stock mappings); a kind left
//	                          unmapped uses DefaultProfile's mapping
//	stable_after              an inbound file is read once it is this old or
//	                          was seen unchanged in two listings, default "1m";
//	                          "0s" for partners that write tmp-then-rename
//	cancel_recheck            how often an unanswered cancel is asked again,
//	                          default "5m"
//	cancel_answer_within      how long the partner has to answer a cancel,
//	                          default "72h"
//
// Files:
//
//   - out/ord_<external_ref>.csv: one order, one row per line (csvfile.WriteOrders),
//     written atomically. Resubmitting the same order (the file, or its copy
//     in archive/, has the same content) returns Created false; different
//     lines under the same reference are a permanent error.
//   - out/cancel_<external_ref>.csv: a cancel request (one column,
//     external_ref). The partner answers in its shipment files: a shipment
//     of the reference whose every line ships 0 closes the order unshipped
//     (Events reports it as "cancelled", CancelOrder answers Cancelled
//     true); a shipment that ships units means it was too late (Cancelled
//     false, "already shipped"). Until one arrives CancelOrder asks to be
//     called again (connector.RetryAfter with ErrCancelPending): the hub
//     never accepts or refuses the merchant's cancel on a guess.
//   - in/shp_*.csv: shipment confirmations (csvfile.ReadShipments). Events
//     returns one "shipped" event per shipment, id "<file name>#<shipment id>",
//     reading files in name order, so partners must name them in the order
//     they are written (timestamped names). The cursor is the name of the last
//     file whose events were all returned; a file's events are never split
//     across pages. A file is moved to archive/ only when a later call comes
//     with a cursor at or past it, i.e. after the hub committed that cursor,
//     so a crash before the commit re-reads it. Archived files stay part of
//     the feed: a call with an older cursor reads them again.
//     A file with a whole-file error or any bad row is moved to error/ with
//     "<name>.reason.txt" and skipped. A file found in in/ whose name is at or
//     before the cursor but that this process never returned (a file written
//     out of name order, or one left over from before a restart) cannot be
//     delivered under a name cursor: it goes to error/ with a reason saying
//     so, never silently to archive/.
//   - in/inv_*.csv: full stock snapshots (csvfile.ReadStock). Stock reads
//     the newest stable one (by mtime, then name), AsOf its mtime, and
//     archives older ones. A bad row does not reject the file: it is a
//     rejected line of the snapshot (the hub quarantines it and keeps that
//     SKU's last figure); only a file that cannot be read as a whole goes
//     to error/ with "<name>.reason.txt".
//
// Errors: transport failures are transient (filedrop.IsRetryable); bad
// configuration, invalid orders and conflicting resubmissions are
// connector.Permanent.
package csvwms

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
)

// Kind is the connector kind registered by this package.
const Kind = "csv"

// ErrCancelPending is wrapped (in a connector.RetryAfter) by CancelOrder
// while the partner has not answered the cancel file.
var ErrCancelPending = errors.New("cancel file sent; waiting for the warehouse's answer in a shipment file")

// Defaults for Config.CancelRecheck and Config.CancelAnswerWithin.
const (
	DefaultCancelRecheck      = 5 * time.Minute
	DefaultCancelAnswerWithin = 72 * time.Hour
)

// File name prefixes.
const (
	orderPrefix     = "ord_"
	cancelPrefix    = "cancel_"
	shipmentPrefix  = "shp_"
	inventoryPrefix = "inv_"
	csvExt          = ".csv"
)

func init() {
	connector.Register(connector.Info{
		Kind:    Kind,
		Summary: "CSV files over a local folder or SFTP (3PL file exchange, WMS.md §3)",
		New: func(cfg map[string]any) (connector.WMS, error) {
			c, err := NewFromMap(cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}

// Config configures a Conn built in code (tests, or a hub that owns the
// Drop). Empty folders take their defaults; a zero Profile is
// DefaultProfile.
type Config struct {
	Drop    filedrop.Drop
	Out     string
	In      string
	Archive string
	Error   string
	Profile csvfile.Profile
	// StableAfter: see the stable_after key. Zero means DefaultStableAfter
	// unless NoStableWait is set.
	StableAfter time.Duration
	// NoStableWait reads every completed (not ".tmp"/dot) file at once: for
	// partners that write tmp-then-rename.
	NoStableWait bool
	// Now defaults to time.Now.
	Now func() time.Time
	// CancelRecheck is the delay CancelOrder asks for while a cancel is
	// unanswered; default DefaultCancelRecheck.
	CancelRecheck time.Duration
	// CancelAnswerWithin is how long the partner has to answer a cancel
	// before CancelOrder returns a permanent error for the operator;
	// default DefaultCancelAnswerWithin.
	CancelAnswerWithin time.Duration

	stableSet bool // stable_after given in a map config (may be 0)
}

// Conn is the CSV connector. It is safe for concurrent use.
type Conn struct {
	feed    *filefeed.Feed
	drop    filedrop.Drop
	out     string
	profile csvfile.Profile
	now     func() time.Time

	cancelRecheck, cancelWithin time.Duration
	mu                          sync.Mutex
	// cancelSent holds when each unanswered cancel was first asked in
	// this process; cancelAnswer the partner's answers to them, read from
	// the shipment files. Both forget a reference once answered. After a
	// restart the hub's own record (the order shipped, or cancelled by the
	// warehouse) answers the cancels whose shipment files were read before.
	cancelSent   map[string]time.Time
	cancelAnswer map[string]connector.CancelResult
}

var _ connector.WMS = (*Conn)(nil)

// New returns a connector for cfg; its errors are connector.Permanent.
func New(cfg Config) (*Conn, error) {
	c, err := newConn(cfg)
	if err != nil {
		return nil, connector.Permanent(err)
	}
	return c, nil
}

func newConn(cfg Config) (*Conn, error) {
	feed, err := filefeed.New(filefeed.Options{
		Name: "csvwms", Drop: cfg.Drop,
		Out: cfg.Out, In: cfg.In, Archive: cfg.Archive, Error: cfg.Error,
		StableAfter: cfg.StableAfter, StableSet: cfg.stableSet, NoStableWait: cfg.NoStableWait,
		Now: cfg.Now, FeedFile: func(name string) bool { return isKind(name, shipmentPrefix) },
	})
	if err != nil {
		return nil, err
	}
	c := &Conn{feed: feed, drop: cfg.Drop, out: feed.Out(), now: cfg.Now,
		cancelRecheck: cmp.Or(cfg.CancelRecheck, DefaultCancelRecheck), cancelWithin: cmp.Or(cfg.CancelAnswerWithin, DefaultCancelAnswerWithin),
		cancelSent: map[string]time.Time{}, cancelAnswer: map[string]connector.CancelResult{}}
	if c.now == nil {
		c.now = time.Now
	}
	c.profile = cfg.Profile
	def := DefaultProfile()
	if len(c.profile.Orders) == 0 {
		c.profile.Orders = def.Orders
	}
	if len(c.profile.Shipments) == 0 {
		c.profile.Shipments = def.Shipments
	}
	if len(c.profile.Stock) == 0 {
		c.profile.Stock = def.Stock
	}
	if cfg.Profile.Orders == nil && cfg.Profile.Shipments == nil && cfg.Profile.Stock == nil &&
		cfg.Profile.Delimiter == "" && cfg.Profile.Encoding == "" {
		c.profile.Header = true // zero profile: the default one
	}
	for _, k := range []csvfile.Kind{csvfile.KindOrders, csvfile.KindShipments, csvfile.KindStock} {
		if err := c.profile.Validate(k); err != nil {
			return nil, fmt.Errorf("csvwms: profile: %w", err)
		}
	}
	return c, nil
}

// Close closes the drop.
func (c *Conn) Close() error { return c.feed.Close() }

func (c *Conn) ensureDirs(ctx context.Context) error { return c.feed.EnsureDirs(ctx) }

// fail wraps a drop error; a failure makes the next call re-create folders.
func (c *Conn) fail(err error) error { return c.feed.Fail(err) }

func refName(prefix, ref string) (string, error) {
	if ref == "" || strings.HasPrefix(ref, ".") || strings.ContainsFunc(ref, func(r rune) bool {
		return r == '/' || r == '\\' || r < 0x20 || r == 0x7f
	}) {
		return "", fmt.Errorf("csvwms: external reference %q cannot be used in a file name", ref)
	}
	return prefix + ref + csvExt, nil
}

// SubmitOrder writes out/ord_<external_ref>.csv. WMSOrderID is the file
// name (CSV partners have no synchronous id).
func (c *Conn) SubmitOrder(ctx context.Context, o *order.WarehouseOrder) (connector.SubmitResult, error) {
	if err := o.Validate(); err != nil {
		return connector.SubmitResult{}, connector.Permanent(err)
	}
	name, err := refName(orderPrefix, o.ExternalRef)
	if err != nil {
		return connector.SubmitResult{}, connector.Permanent(err)
	}
	var buf bytes.Buffer
	if err := csvfile.WriteOrders(&buf, c.profile, []order.WarehouseOrder{*o}); err != nil {
		return connector.SubmitResult{}, connector.Permanent(fmt.Errorf("csvwms: order %s: %w", o.ExternalRef, err))
	}
	if err := c.ensureDirs(ctx); err != nil {
		return connector.SubmitResult{}, err
	}
	res := connector.SubmitResult{WMSOrderID: name}
	for _, dir := range []string{c.out, c.feed.Archive()} {
		old, err := c.drop.Read(ctx, path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return res, c.fail(err)
		}
		if err := c.sameOrder(o, buf.Bytes(), old); err != nil {
			return res, connector.Permanent(fmt.Errorf("csvwms: %s/%s: %w", dir, name, err))
		}
		return res, nil
	}
	if err := c.drop.WriteAtomic(ctx, c.out, name, buf.Bytes()); err != nil {
		return res, c.fail(err)
	}
	res.Created = true
	return res, nil
}

// sameOrder reports (as an error) whether an existing order file old holds
// a different order than o, whose encoding is cur. Equal bytes are the same
// order; otherwise the lines are compared, so a profile change alone is not
// a conflict.
func (c *Conn) sameOrder(o *order.WarehouseOrder, cur, old []byte) error {
	if bytes.Equal(cur, old) {
		return nil
	}
	orders, rowErrs, err := csvfile.ReadOrders(bytes.NewReader(old), c.profile)
	if err != nil || len(rowErrs) > 0 || len(orders) != 1 || orders[0].ExternalRef != o.ExternalRef {
		return fmt.Errorf("order %s already sent with different content (the existing file does not read back as one order)", o.ExternalRef)
	}
	key := func(ls []order.Line) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = fmt.Sprintf("%d\x00%s\x00%d", l.LineNo, l.SKU, l.Quantity)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(key(o.Lines), key(orders[0].Lines)) {
		return fmt.Errorf("order %s already sent with different lines", o.ExternalRef)
	}
	return nil
}

// CancelOrder writes out/cancel_<external_ref>.csv the first time it is
// asked (in this process; writing it again is harmless) and answers once
// the partner's answer was read from the shipment files (see the package
// documentation); until then it returns connector.RetryAfter(CancelRecheck,
// ErrCancelPending), and with no answer CancelAnswerWithin after the first
// request a permanent error for the operator to settle with the 3PL.
func (c *Conn) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	name, err := refName(cancelPrefix, externalRef)
	if err != nil {
		return connector.CancelResult{}, connector.Permanent(err)
	}
	c.mu.Lock()
	res, answered := c.cancelAnswer[externalRef]
	sent, asked := c.cancelSent[externalRef]
	if answered {
		delete(c.cancelAnswer, externalRef)
		delete(c.cancelSent, externalRef)
	}
	c.mu.Unlock()
	switch {
	case answered:
		return res, nil
	case asked && c.now().Sub(sent) > c.cancelWithin:
		return connector.CancelResult{}, connector.Permanent(fmt.Errorf("csvwms: cancel %s: no answer from the warehouse %s after the request: settle it with the 3PL",
			externalRef, c.cancelWithin))
	case asked:
		return connector.CancelResult{}, connector.RetryAfter(c.cancelRecheck, ErrCancelPending)
	}
	if err := c.ensureDirs(ctx); err != nil {
		return connector.CancelResult{}, err
	}
	var b strings.Builder
	if c.profile.Header {
		b.WriteString(csvQuote(cmp.Or(c.profile.Orders["external_ref"], "external_ref")))
		b.WriteString("\r\n")
	}
	b.WriteString(csvQuote(externalRef))
	b.WriteString("\r\n")
	if err := c.drop.WriteAtomic(ctx, c.out, name, []byte(b.String())); err != nil {
		return connector.CancelResult{}, c.fail(err)
	}
	c.mu.Lock()
	if _, ok := c.cancelSent[externalRef]; !ok {
		c.cancelSent[externalRef] = c.now()
	}
	c.mu.Unlock()
	return connector.CancelResult{}, connector.RetryAfter(c.cancelRecheck, ErrCancelPending)
}

// answerCancel records what a shipment of ref tells a pending cancel.
func (c *Conn) answerCancel(ref string, res connector.CancelResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cancelSent[ref]; ok {
		c.cancelAnswer[ref] = res
	}
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, "\",;\t|\r\n") || strings.TrimSpace(s) != s {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func isKind(name, prefix string) bool {
	return !filedrop.Ignored(name) && strings.HasPrefix(name, prefix) && strings.HasSuffix(strings.ToLower(name), csvExt)
}

// Events returns shipped events from shipment files after cursor (a file
// name), whole files at a time; see the package documentation.
func (c *Conn) Events(ctx context.Context, cursor string, limit int) ([]connector.Event, string, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return nil, cursor, err
	}
	inbox, stable, err := c.feed.ListIn(ctx, func(name string) bool { return isKind(name, shipmentPrefix) })
	if err != nil {
		return nil, cursor, err
	}
	return c.feed.Events(ctx, cursor, limit, inbox, stable, func(fi filedrop.FileInfo, data []byte) filefeed.Decoded {
		evs, reason := c.shipmentEvents(fi, data)
		return filefeed.Decoded{Events: evs, Reason: reason}
	})
}

// shipmentEvents parses a shipment file; a non-empty reason rejects it.
func (c *Conn) shipmentEvents(fi filedrop.FileInfo, data []byte) ([]connector.Event, string) {
	ships, rowErrs, err := csvfile.ReadShipments(bytes.NewReader(data), c.profile)
	if err != nil {
		return nil, err.Error() + "\n"
	}
	if len(rowErrs) > 0 {
		return nil, csvfile.FormatRowErrors(rowErrs)
	}
	evs := make([]connector.Event, 0, len(ships))
	for i := range ships {
		s := ships[i]
		if s.ShippedAt.IsZero() {
			s.ShippedAt = fi.ModTime.UTC()
		}
		if closedUnshipped(&s) {
			c.answerCancel(s.ExternalRef, connector.CancelResult{Cancelled: true})
			evs = append(evs, connector.Event{ID: fi.Name + "#" + s.ID, Type: connector.EventCancelled, ExternalRef: s.ExternalRef,
				At: s.ShippedAt, Reason: "closed unshipped by the warehouse (every line ships 0)"})
			continue
		}
		c.answerCancel(s.ExternalRef, connector.CancelResult{Reason: "already shipped"})
		evs = append(evs, connector.Event{
			ID:          fi.Name + "#" + s.ID,
			Type:        connector.EventShipped,
			ExternalRef: s.ExternalRef,
			At:          s.ShippedAt,
			Shipment:    &s,
		})
	}
	return evs, ""
}

// closedUnshipped reports whether s ships nothing (lines, all with
// quantity 0): the partner's answer to a cancel. Otherwise it removes the
// lines that ship 0, from the shipment and its packages.
func closedUnshipped(s *order.Shipment) bool {
	if len(s.Lines) > 0 && !slices.ContainsFunc(s.Lines, func(l order.ShipmentLine) bool { return l.Quantity > 0 }) {
		return true
	}
	none := func(l order.ShipmentLine) bool { return l.Quantity == 0 }
	s.Lines = slices.DeleteFunc(s.Lines, none)
	for i := range s.Packages {
		s.Packages[i].Lines = slices.DeleteFunc(s.Packages[i].Lines, none)
	}
	return false
}

// Stock reads the newest stable inventory file in in/ and archives older
// ones. A newest file that does not read as a whole (no usable header,
// undecodable, CSV syntax: see csvfile.ReadStock) is moved to error/ with
// a reason and the next one is tried. A file that reads is used even with
// bad rows: each bad row (bad quantity, no SKU, wrong number of fields,
// a SKU listed on several rows) is in the snapshot's Rejected (Index the
// data row's index from 0, Reason its line, column, value and problem),
// so the hub quarantines it and keeps that SKU's last figure while the
// good rows apply; the file is archived as usual.
func (c *Conn) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return connector.StockSnapshot{}, err
	}
	files, stable, err := c.feed.ListIn(ctx, func(name string) bool { return isKind(name, inventoryPrefix) })
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	var snap connector.StockSnapshot
	fi, ok, err := c.feed.Latest(ctx, files, stable, func(_ filedrop.FileInfo, data []byte) (string, error) {
		s, _, err := csvfile.ReadStock(bytes.NewReader(data), c.profile)
		if err != nil {
			return err.Error() + "\n", nil
		}
		snap = s
		return "", nil
	})
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	if !ok {
		return connector.StockSnapshot{}, fmt.Errorf("csvwms: no readable %s*.csv stock file in %s/ yet", inventoryPrefix, c.feed.In())
	}
	snap.AsOf = fi.ModTime.UTC()
	snap.Full = true
	return snap, nil
}
