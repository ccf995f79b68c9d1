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
//
// Files:
//
//   - out/ord_<external_ref>.csv: one order, one row per line (csvfile.WriteOrders),
//     written atomically. Resubmitting the same order (the file, or its copy
//     in archive/, has the same content) returns Created false; different
//     lines under the same reference are a permanent error.
//   - out/cancel_<external_ref>.csv: a cancel request (one column,
//     external_ref). CSV partners confirm cancels asynchronously, if at all:
//     CancelOrder always answers Cancelled false with the reason
//     "requested; the warehouse confirms by file".
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
//     archives older ones.
//
// Errors: transport failures are transient (filedrop.IsRetryable); bad
// configuration, invalid orders and conflicting resubmissions are
// connector.Permanent.
package csvwms

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
)

// Kind is the connector kind registered by this package.
const Kind = "csv"

// CancelReason is the reason CancelOrder returns: the request is written,
// the partner confirms (or not) later.
const CancelReason = "requested; the warehouse confirms by file"

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

	stableSet bool // stable_after given in a map config (may be 0)
}

// Conn is the CSV connector. It is safe for concurrent use.
type Conn struct {
	drop                     filedrop.Drop
	out, in, archive, errDir string
	profile                  csvfile.Profile
	stableAfter              time.Duration
	now                      func() time.Time

	mu        sync.Mutex
	dirsReady bool
	prev      map[string]stamp // in/ listing of the previous call
	delivered map[string]bool  // shipment files whose events this process returned
	// archiveMax is the greatest shipment file name in archive/ (known once
	// archiveKnown); archive/ is listed only when a cursor is before it.
	archiveKnown bool
	archiveMax   string
}

type stamp struct {
	size int64
	mod  time.Time
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
	if cfg.Drop == nil {
		return nil, errors.New("csvwms: a drop is required")
	}
	c := &Conn{drop: cfg.Drop, now: cfg.Now, prev: map[string]stamp{}, delivered: map[string]bool{}}
	var err error
	for _, f := range []struct {
		name, v, def string
		dst          *string
	}{
		{"out", cfg.Out, DefaultOut, &c.out}, {"in", cfg.In, DefaultIn, &c.in},
		{"archive", cfg.Archive, DefaultArchive, &c.archive}, {"error", cfg.Error, DefaultError, &c.errDir},
	} {
		if *f.dst, err = checkFolder(f.name, cmp.Or(f.v, f.def)); err != nil {
			return nil, err
		}
	}
	folders := []string{c.out, c.in, c.archive, c.errDir}
	for i, a := range folders {
		if slices.Contains(folders[i+1:], a) {
			return nil, fmt.Errorf("csvwms: folders out, in, archive and error must differ (%q used twice)", a)
		}
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
	switch {
	case cfg.NoStableWait:
		c.stableAfter = 0
	case cfg.stableSet:
		c.stableAfter = cfg.StableAfter
	default:
		c.stableAfter = cmp.Or(cfg.StableAfter, DefaultStableAfter)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Close closes the drop.
func (c *Conn) Close() error { return c.drop.Close() }

func (c *Conn) ensureDirs(ctx context.Context) error {
	c.mu.Lock()
	ready := c.dirsReady
	c.mu.Unlock()
	if ready {
		return nil
	}
	for _, d := range []string{c.out, c.in, c.archive, c.errDir} {
		if err := c.drop.MkdirAll(ctx, d); err != nil {
			return fmt.Errorf("csvwms: %w", err)
		}
	}
	c.mu.Lock()
	c.dirsReady = true
	c.mu.Unlock()
	return nil
}

// fail wraps a drop error; a failure makes the next call re-create folders.
func (c *Conn) fail(err error) error {
	if filedrop.IsRetryable(err) {
		c.mu.Lock()
		c.dirsReady = false
		c.mu.Unlock()
	}
	return fmt.Errorf("csvwms: %w", err)
}

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
	for _, dir := range []string{c.out, c.archive} {
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

// CancelOrder writes out/cancel_<external_ref>.csv. The partner confirms
// asynchronously, so the answer is always Cancelled false with
// CancelReason; writing the request again is harmless.
func (c *Conn) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	name, err := refName(cancelPrefix, externalRef)
	if err != nil {
		return connector.CancelResult{}, connector.Permanent(err)
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
	return connector.CancelResult{Cancelled: false, Reason: CancelReason}, nil
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

// listIn lists in/, records the stamps for the stability check and returns
// the files of the given kind with whether each is stable.
func (c *Conn) listIn(ctx context.Context, prefix string) ([]filedrop.FileInfo, map[string]bool, error) {
	ents, err := c.drop.List(ctx, c.in)
	if err != nil {
		return nil, nil, c.fail(err)
	}
	now := c.now()
	stable := map[string]bool{}
	var files []filedrop.FileInfo
	c.mu.Lock()
	cur := make(map[string]stamp, len(ents))
	for _, e := range ents {
		if e.IsDir || filedrop.Ignored(e.Name) {
			continue
		}
		st := stamp{e.Size, e.ModTime}
		cur[e.Name] = st
		if !isKind(e.Name, prefix) {
			continue
		}
		old, seen := c.prev[e.Name]
		stable[e.Name] = c.stableAfter == 0 || now.Sub(e.ModTime) >= c.stableAfter ||
			seen && old.size == st.size && old.mod.Equal(st.mod)
		files = append(files, e)
	}
	c.prev = cur
	c.mu.Unlock()
	return files, stable, nil
}

type source struct {
	fi       filedrop.FileInfo
	archived bool
}

// Events returns shipped events from shipment files after cursor (a file
// name), whole files at a time; see the package documentation.
func (c *Conn) Events(ctx context.Context, cursor string, limit int) ([]connector.Event, string, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return nil, cursor, err
	}
	inbox, stable, err := c.listIn(ctx, shipmentPrefix)
	if err != nil {
		return nil, cursor, err
	}
	slices.SortFunc(inbox, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })

	// The hub committed cursor: files at or before it are done.
	byName := map[string]source{}
	for _, fi := range inbox {
		if cursor == "" || fi.Name > cursor {
			byName[fi.Name] = source{fi: fi}
			continue
		}
		c.mu.Lock()
		known := c.delivered[fi.Name] || fi.Name == cursor
		c.mu.Unlock()
		if known {
			if _, err := c.moveUnique(ctx, fi, c.archive); err != nil {
				return nil, cursor, err
			}
			c.mu.Lock()
			delete(c.delivered, fi.Name)
			c.mu.Unlock()
			continue
		}
		if !stable[fi.Name] {
			continue
		}
		reason := fmt.Sprintf("the file name sorts at or before the committed event cursor %q, so its events cannot be delivered after the cursor; "+
			"either it was written out of name order, or it was delivered just before a restart. "+
			"If its shipments are missing in the hub, put it back in %s/ under a name that sorts after the cursor.\n", cursor, c.in)
		if err := c.quarantine(ctx, fi, reason); err != nil {
			return nil, cursor, err
		}
	}

	// Replays from an older cursor also read archive/.
	c.mu.Lock()
	needArchive := !c.archiveKnown || cursor < c.archiveMax
	c.mu.Unlock()
	if needArchive {
		ents, err := c.drop.List(ctx, c.archive)
		if err != nil {
			return nil, cursor, c.fail(err)
		}
		maxName := ""
		for _, e := range ents {
			if e.IsDir || !isKind(e.Name, shipmentPrefix) {
				continue
			}
			maxName = max(maxName, e.Name)
			if _, inInbox := byName[e.Name]; !inInbox && (cursor == "" || e.Name > cursor) {
				byName[e.Name] = source{fi: e, archived: true}
			}
		}
		c.mu.Lock()
		c.archiveKnown = true
		c.archiveMax = max(c.archiveMax, maxName)
		c.mu.Unlock()
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)

	var evs []connector.Event
	next := cursor
	for _, n := range names {
		src := byName[n]
		if !src.archived && !stable[n] {
			break // a cursor is a name: nothing after an incomplete file
		}
		data, err := c.drop.Read(ctx, src.fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			break // moved by someone since the listing: look again next call
		}
		if err != nil {
			return nil, cursor, c.fail(err)
		}
		if !src.archived && int64(len(data)) != src.fi.Size {
			c.mu.Lock()
			delete(c.prev, n)
			c.mu.Unlock()
			break // still being written
		}
		fileEvs, reason := c.shipmentEvents(src.fi, data)
		if reason != "" {
			if src.archived {
				// Delivered once already; a replay skips what no longer reads.
				next = n
				continue
			}
			if err := c.quarantine(ctx, src.fi, reason); err != nil {
				return nil, cursor, err
			}
			next = n
			continue
		}
		if limit > 0 && len(evs) > 0 && len(evs)+len(fileEvs) > limit {
			break
		}
		evs = append(evs, fileEvs...)
		next = n
		if !src.archived {
			c.mu.Lock()
			c.delivered[n] = true
			c.mu.Unlock()
		}
		if limit > 0 && len(evs) >= limit {
			break
		}
	}
	return evs, next, nil
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

// Stock reads the newest stable inventory file in in/ and archives older
// ones. A newest file that does not read is moved to error/ and the next
// one is tried.
func (c *Conn) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return connector.StockSnapshot{}, err
	}
	files, stable, err := c.listIn(ctx, inventoryPrefix)
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	files = slices.DeleteFunc(files, func(f filedrop.FileInfo) bool { return !stable[f.Name] })
	slices.SortFunc(files, func(a, b filedrop.FileInfo) int { // newest first
		return cmp.Or(b.ModTime.Compare(a.ModTime), strings.Compare(b.Name, a.Name))
	})
	for i, fi := range files {
		data, err := c.drop.Read(ctx, fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return connector.StockSnapshot{}, c.fail(err)
		}
		snap, rowErrs, err := csvfile.ReadStock(bytes.NewReader(data), c.profile)
		reason := ""
		switch {
		case err != nil:
			reason = err.Error() + "\n"
		case len(rowErrs) > 0:
			reason = csvfile.FormatRowErrors(rowErrs)
		}
		if reason != "" {
			if err := c.quarantine(ctx, fi, reason); err != nil {
				return connector.StockSnapshot{}, err
			}
			continue
		}
		for _, old := range files[i+1:] {
			if _, err := c.moveUnique(ctx, old, c.archive); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return connector.StockSnapshot{}, err
			}
		}
		snap.AsOf = fi.ModTime.UTC()
		snap.Full = true
		return snap, nil
	}
	return connector.StockSnapshot{}, fmt.Errorf("csvwms: no readable %s*.csv stock file in %s/ yet", inventoryPrefix, c.in)
}

// quarantine moves fi to error/ and writes "<name>.reason.txt" next to it.
func (c *Conn) quarantine(ctx context.Context, fi filedrop.FileInfo, reason string) error {
	data, _ := c.drop.Read(ctx, fi.Path)
	sum := sha256.Sum256(data)
	dst, err := c.moveUnique(ctx, fi, c.errDir)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("file: %s\nsha256: %s\nfailed_at: %s\nerrors:\n%s",
		fi.Path, hex.EncodeToString(sum[:]), c.now().UTC().Format(time.RFC3339), reason)
	if err := c.drop.WriteAtomic(ctx, c.errDir, path.Base(dst)+".reason.txt", []byte(text)); err != nil {
		return c.fail(err)
	}
	return nil
}

// moveUnique moves fi into dir under its name or, when taken, as
// "<stem>.<UTC time><ext>".
func (c *Conn) moveUnique(ctx context.Context, fi filedrop.FileInfo, dir string) (string, error) {
	dst := path.Join(dir, fi.Name)
	err := c.drop.Move(ctx, fi.Path, dst)
	if errors.Is(err, fs.ErrExist) {
		ext := path.Ext(fi.Name)
		dst = path.Join(dir, fmt.Sprintf("%s.%s%s", strings.TrimSuffix(fi.Name, ext), c.now().UTC().Format("20060102T150405.000000000Z"), ext))
		err = c.drop.Move(ctx, fi.Path, dst)
	}
	if err != nil {
		return "", c.fail(err)
	}
	if dir == c.archive && isKind(path.Base(dst), shipmentPrefix) {
		c.mu.Lock()
		c.archiveMax = max(c.archiveMax, path.Base(dst))
		c.mu.Unlock()
	}
	return dst, nil
}
