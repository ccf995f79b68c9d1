// Package ediwms is the connector for third-party logistics partners that
// exchange ANSI X12 warehouse documents (WMS.md §2) through a file drop: a
// local directory or an SFTP account (internal/filedrop). It registers the
// connector kind "edi". Its file handling follows csvwms.
//
// Configuration keys (strict; any other key is an error):
//
//	transport                 required: "local" or "sftp"
//	dir                       local: the drop root (must exist)
//	address, user             sftp: host:port and login
//	password, private_key     sftp: at least one
//	host_key                  sftp: the server's key, "ssh-ed25519 AAAA…"
//	insecure_ignore_host_key  sftp: true skips host key checks (tests only)
//	out                       folder for our 940s and 997s, default "to_wms"
//	in                        folder the partner writes to, default "from_wms"
//	archive                   processed inbound files, default "archive"
//	error                     rejected inbound files + reasons, default "error"
//	stable_after              as in csvwms, default "1m"
//	profile                   required, strict (see Profile):
//	    sender_qualifier, sender_id       ISA05/06 (us)
//	    receiver_qualifier, receiver_id   ISA07/08 (the partner)
//	    gs_sender, gs_receiver            GS02/03 (default: the ISA ids)
//	    version, usage                    GS08 (004010), ISA15 (P)
//	    tracking_in                       "MAN" (default) or "N9"
//	    tracking_qualifier                N901 of tracking numbers (2I)
//	    uom                               W01-02 (EA)
//	    max_name, max_address, max_city   N1-02 60, N3 55, N4-01 30
//
// Free text (names, addresses, item names) is transliterated to ASCII
// (é→e, ç→c, œ→oe…), stripped of delimiter characters and cut to the
// element limits (see Clean). SKUs and references are never altered: one
// that contains a delimiter is a permanent error.
//
// Files:
//
//   - out/940_<external_ref>.edi: one 940 (W05 N) per order, written
//     atomically with control numbers from Config.Numbers; its group is
//     recorded in Config.Pending until the partner's 997 arrives.
//     Resubmitting (the file, or its copy in archive/, has the same
//     reference and lines) answers Created false; different lines under the
//     same reference are a permanent error.
//   - out/940F_<external_ref>.edi: a cancel, the order's 940 repeated with
//     W05 F and NTE*SPH*CANCELLED - DO NOT SHIP. The partner confirms (or
//     not) by file: CancelOrder answers Cancelled false with CancelReason.
//   - in/945*: shipping advices. Each 945 set is one "shipped" event, id
//     "<file>#<GS06>-<ST02>"; cursor, archiving and error/ handling are
//     csvwms's (the cursor is the last file name returned; a file is
//     archived when a later call's cursor is at or past it; a file that does
//     not parse or map goes to error/ with "<name>.reason.txt"). Parser
//     warnings (count mismatches, line breaks…) and mapping warnings go into
//     the event's Reason. A 997 for every group received is written to
//     out/997_<file stem>.edi the first time the file is read.
//   - in/997*: the partner's acknowledgements of our 940s
//     (Pending997s.Acknowledge), read by Events and archived.
//   - in/846*: stock. Stock reads the newest stable one (LIN/QTY; QTY 17 on
//     hand, 33 available), Full, AsOf its mtime, 997s it, and archives older ones.
package ediwms

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/x12"
)

// Kind is the connector kind registered by this package.
const Kind = "edi"

// CancelReason is the reason CancelOrder returns.
const CancelReason = "cancel 940 (W05 F) sent; the warehouse confirms by file"

// File name prefixes.
const (
	orderPrefix  = "940_"
	cancelPrefix = "940F_"
	shipPrefix   = "945"
	stockPrefix  = "846"
	ackPrefix    = "997"
	ediExt       = ".edi"
)

func init() {
	connector.Register(connector.Info{
		Kind:    Kind,
		Summary: "X12 940/945/846/997 files over a local folder or SFTP (WMS.md §2)",
		New: func(cfg map[string]any) (connector.WMS, error) {
			c, err := NewFromMap(cfg)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}

// Config configures a Conn built in code.
type Config struct {
	Drop    filedrop.Drop
	Out     string
	In      string
	Archive string
	Error   string
	Profile Profile
	// StableAfter / NoStableWait: see csvwms.
	StableAfter  time.Duration
	NoStableWait bool
	// Numbers hands out control numbers; default an in-memory one.
	Numbers x12.ControlNumbers
	// Pending tracks our groups awaiting a 997; default a new one.
	Pending *x12.Pending997s
	// Now defaults to time.Now.
	Now func() time.Time

	stableSet bool
}

// Conn is the X12 connector. It is safe for concurrent use.
type Conn struct {
	feed    *filefeed.Feed
	drop    filedrop.Drop
	out     string
	profile Profile
	partner string
	delims  x12.Delimiters
	numbers x12.ControlNumbers
	pending *x12.Pending997s

	mu    sync.Mutex
	acked map[string]bool // inbound files whose 997 is written
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
		Name: "ediwms", Drop: cfg.Drop,
		Out: cfg.Out, In: cfg.In, Archive: cfg.Archive, Error: cfg.Error,
		StableAfter: cfg.StableAfter, StableSet: cfg.stableSet, NoStableWait: cfg.NoStableWait,
		Now: cfg.Now, FeedFile: func(name string) bool { return isKind(name, shipPrefix) },
	})
	if err != nil {
		return nil, err
	}
	c := &Conn{feed: feed, drop: cfg.Drop, out: feed.Out(),
		acked: map[string]bool{}, numbers: cfg.Numbers, pending: cfg.Pending, delims: x12.DefaultDelimiters}
	if c.profile, err = cfg.Profile.withDefaults(); err != nil {
		return nil, err
	}
	c.partner = c.profile.ReceiverQualifier + ":" + c.profile.ReceiverID
	if c.numbers == nil {
		c.numbers = &x12.MemoryControlNumbers{}
	}
	if c.pending == nil {
		c.pending = &x12.Pending997s{}
	}
	return c, nil
}

// Pending returns the tracker of our groups awaiting the partner's 997.
func (c *Conn) Pending() *x12.Pending997s { return c.pending }

// Partner is the key used for control numbers and Pending997s
// ("<receiver_qualifier>:<receiver_id>").
func (c *Conn) Partner() string { return c.partner }

// Close closes the drop.
func (c *Conn) Close() error { return c.feed.Close() }

func (c *Conn) ensureDirs(ctx context.Context) error { return c.feed.EnsureDirs(ctx) }

func (c *Conn) fail(err error) error { return c.feed.Fail(err) }

func (c *Conn) now() time.Time { return c.feed.Now() }

func refName(prefix, ref string) (string, error) {
	if ref == "" || strings.HasPrefix(ref, ".") || strings.ContainsFunc(ref, func(r rune) bool {
		return r == '/' || r == '\\' || r < 0x20 || r == 0x7f
	}) {
		return "", fmt.Errorf("ediwms: external reference %q cannot be used in a file name", ref)
	}
	return prefix + ref + ediExt, nil
}

// envelope wraps one set in an ISA/GS for the partner; control numbers are
// left to the writer.
func (c *Conn) envelope(fid string, set *x12.TransactionSet) *x12.Interchange {
	p := c.profile
	now := c.now().UTC()
	isa := x12.NewSegment("ISA", "00", "", "00", "", p.SenderQualifier, p.SenderID, p.ReceiverQualifier, p.ReceiverID,
		now.Format("060102"), now.Format("1504"), "U", p.isaVersion(), "", "0", p.Usage, string(c.delims.Component))
	gs := x12.NewSegment("GS", fid, p.GSSender, p.GSReceiver, now.Format("20060102"), now.Format("1504"), "", "X", p.Version)
	return &x12.Interchange{ISA: isa, Groups: []*x12.FunctionalGroup{{GS: gs, Sets: []*x12.TransactionSet{set}}}}
}

// build940 maps o to a 940 set body (W05 N).
func (c *Conn) build940(o *order.WarehouseOrder) *x12.TransactionSet {
	p, d := c.profile, c.delims
	cl := func(s string, n int) string { return Clean(s, d, n) }
	t := &x12.TransactionSet{ST: x12.NewSegment("ST", "940", "")}
	add := func(id string, vs ...string) {
		for len(vs) > 0 && vs[len(vs)-1] == "" {
			vs = vs[:len(vs)-1]
		}
		t.Segments = append(t.Segments, x12.NewSegment(id, vs...))
	}
	add("W05", "N", o.ExternalRef, cl(o.OrderName, 22))
	a := o.ShipTo
	add("N1", "ST", cl(a.Name, p.MaxName))
	if a.Company != "" {
		add("N2", cl(a.Company, p.MaxName))
	}
	add("N3", cl(a.Address1, p.MaxAddress), cl(a.Address2, p.MaxAddress))
	add("N4", cl(a.City, p.MaxCity), cl(a.ProvinceCode, 2), cl(a.PostalCode, 15), cl(a.CountryCode, 3))
	if a.Phone != "" || a.Email != "" {
		per := []string{"IC", cl(a.Name, p.MaxName)}
		if a.Phone != "" {
			per = append(per, "TE", cl(a.Phone, 80))
		}
		if a.Email != "" {
			per = append(per, "EM", cl(a.Email, 80))
		}
		add("PER", per...)
	}
	if !o.PlacedAt.IsZero() {
		add("G62", "04", o.PlacedAt.UTC().Format("20060102")) // 04 = purchase order date
	}
	if m := cl(o.ShippingMethod, 35); m != "" {
		add("W66", "PP", "ZZ", "", "", m) // routing = the shop's shipping method
	}
	total := 0
	for _, l := range o.Lines {
		add("LX", strconv.Itoa(l.LineNo))
		add("W01", strconv.Itoa(l.Quantity), p.UOM, "", "SK", l.SKU)
		if n := cl(l.Name, 45); n != "" {
			add("G69", n)
		}
		total += l.Quantity
	}
	add("W76", strconv.Itoa(total))
	return t
}

// write encodes ic with fresh control numbers, writes it atomically and
// records its groups as awaiting a 997.
func (c *Conn) write(ctx context.Context, name string, ic *x12.Interchange) error {
	data, written, err := x12.Encode(ctx, ic, x12.WriterOptions{Delimiters: c.delims, Newline: "\n", Numbers: c.numbers, Partner: c.partner})
	if err != nil {
		var ve *x12.ValueError
		if errors.As(err, &ve) {
			return connector.Permanent(fmt.Errorf("ediwms: %s: %w", name, err))
		}
		return fmt.Errorf("ediwms: %s: %w", name, err)
	}
	if err := c.drop.WriteAtomic(ctx, c.out, name, data); err != nil {
		return c.fail(err)
	}
	c.pending.SentInterchange(c.partner, written, c.now())
	return nil
}

// readSent reads our earlier file name from out/ or archive/ (nil if none).
func (c *Conn) readSent(ctx context.Context, name string) (string, []byte, error) {
	for _, dir := range []string{c.out, c.feed.Archive()} {
		data, err := c.drop.Read(ctx, path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, c.fail(err)
		}
		return dir, data, nil
	}
	return "", nil, nil
}

// SubmitOrder writes out/940_<external_ref>.edi. WMSOrderID is the file name.
func (c *Conn) SubmitOrder(ctx context.Context, o *order.WarehouseOrder) (connector.SubmitResult, error) {
	if err := o.Validate(); err != nil {
		return connector.SubmitResult{}, connector.Permanent(err)
	}
	name, err := refName(orderPrefix, o.ExternalRef)
	if err != nil {
		return connector.SubmitResult{}, connector.Permanent(err)
	}
	set := c.build940(o)
	if err := c.ensureDirs(ctx); err != nil {
		return connector.SubmitResult{}, err
	}
	res := connector.SubmitResult{WMSOrderID: name}
	dir, old, err := c.readSent(ctx, name)
	if err != nil {
		return res, err
	}
	if old != nil {
		if err := sameOrder(set, old); err != nil {
			return res, connector.Permanent(fmt.Errorf("ediwms: %s/%s: order %s: %w", dir, name, o.ExternalRef, err))
		}
		return res, nil
	}
	if err := c.write(ctx, name, c.envelope("OW", set)); err != nil {
		return res, err
	}
	res.Created = true
	return res, nil
}

// lineKey lists a 940's (W05-02, LX, W01 quantity, W01 item) in order.
func lineKey(t *x12.TransactionSet) []string {
	var out []string
	lx := ""
	for _, s := range t.Segments {
		switch s.ID {
		case "W05":
			out = append(out, "W05 "+strings.TrimSpace(s.Value(2)))
		case "LX":
			lx = strings.TrimSpace(s.Value(1))
		case "W01":
			out = append(out, fmt.Sprintf("%s\x00%s\x00%s", lx, strings.TrimSpace(s.Value(1)), strings.TrimSpace(s.Value(5))))
		}
	}
	slices.Sort(out)
	return out
}

// sameOrder reports (as an error) whether the 940 file old holds other lines than set.
func sameOrder(set *x12.TransactionSet, old []byte) error {
	ics, _, err := x12.Parse(bytes.NewReader(old))
	if err != nil || len(ics) != 1 || len(ics[0].Groups) != 1 || len(ics[0].Groups[0].Sets) != 1 {
		return errors.New("already sent with different content (the existing file does not read back as one 940)")
	}
	if !slices.Equal(lineKey(set), lineKey(ics[0].Groups[0].Sets[0])) {
		return errors.New("already sent with different lines")
	}
	return nil
}

// CancelOrder writes out/940F_<external_ref>.edi: the order's 940 repeated
// with W05 F. The partner confirms asynchronously, so the answer is always
// Cancelled false with CancelReason. A cancel already written is not
// written again. Cancelling an order never sent is a permanent error.
func (c *Conn) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	name, err := refName(cancelPrefix, externalRef)
	if err != nil {
		return connector.CancelResult{}, connector.Permanent(err)
	}
	orderName, _ := refName(orderPrefix, externalRef)
	if err := c.ensureDirs(ctx); err != nil {
		return connector.CancelResult{}, err
	}
	res := connector.CancelResult{Cancelled: false, Reason: CancelReason}
	if _, done, err := c.readSent(ctx, name); err != nil || done != nil {
		return res, err
	}
	_, old, err := c.readSent(ctx, orderName)
	if err != nil {
		return connector.CancelResult{}, err
	}
	if old == nil {
		return connector.CancelResult{}, connector.Permanent(fmt.Errorf("ediwms: cancel %s: no 940 was sent for this reference", externalRef))
	}
	ics, _, err := x12.Parse(bytes.NewReader(old))
	if err != nil || len(ics) != 1 || len(ics[0].Groups) != 1 || len(ics[0].Groups[0].Sets) != 1 {
		return connector.CancelResult{}, connector.Permanent(fmt.Errorf("ediwms: cancel %s: the sent 940 does not read back: %v", externalRef, err))
	}
	sent := ics[0].Groups[0].Sets[0]
	set := &x12.TransactionSet{ST: x12.NewSegment("ST", "940", "")}
	nte := false
	for _, s := range sent.Segments {
		if s.ID == "W05" {
			s.Elements[0] = x12.Simple("F")
		}
		if !nte && (s.ID == "W66" || s.ID == "LX") {
			set.Segments = append(set.Segments, x12.NewSegment("NTE", "SPH", "CANCELLED - DO NOT SHIP"))
			nte = true
		}
		set.Segments = append(set.Segments, s)
	}
	if err := c.write(ctx, name, c.envelope("OW", set)); err != nil {
		return connector.CancelResult{}, err
	}
	return res, nil
}

func isKind(name, prefix string) bool {
	return !filedrop.Ignored(name) && strings.HasPrefix(name, prefix)
}

// Events reads the partner's 997s, then returns shipped events from 945
// files after cursor (a file name), whole files at a time.
func (c *Conn) Events(ctx context.Context, cursor string, limit int) ([]connector.Event, string, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return nil, cursor, err
	}
	all, stable, err := c.feed.ListIn(ctx, func(name string) bool { return isKind(name, shipPrefix) || isKind(name, ackPrefix) })
	if err != nil {
		return nil, cursor, err
	}
	slices.SortFunc(all, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	var inbox []filedrop.FileInfo
	for _, fi := range all {
		if isKind(fi.Name, ackPrefix) {
			if stable[fi.Name] {
				if err := c.readAcks(ctx, fi); err != nil {
					return nil, cursor, err
				}
			}
			continue
		}
		inbox = append(inbox, fi)
	}
	return c.feed.Events(ctx, cursor, limit, inbox, stable, func(fi filedrop.FileInfo, data []byte) filefeed.Decoded {
		ics, evs, reason := c.shipmentEvents(fi, data)
		// Groups that parsed are acknowledged even when they do not map.
		return filefeed.Decoded{Events: evs, Reason: reason, Take: func(ctx context.Context) error { return c.ack(ctx, fi, ics) }}
	})
}

// readAcks applies a partner 997 file to Pending997s and archives it; a file
// that does not parse goes to error/.
func (c *Conn) readAcks(ctx context.Context, fi filedrop.FileInfo) error {
	data, err := c.drop.Read(ctx, fi.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return c.fail(err)
	}
	ics, _, err := x12.Parse(bytes.NewReader(data))
	if err != nil {
		return c.feed.Quarantine(ctx, fi, "997 file does not parse: "+err.Error()+"\n")
	}
	c.applyAcks(ics)
	_, err = c.feed.MoveUnique(ctx, fi, c.feed.Archive())
	return err
}

func (c *Conn) applyAcks(ics []*x12.Interchange) {
	for _, ic := range ics {
		for _, g := range ic.Groups {
			for _, t := range g.Sets {
				if t.Code() == "997" {
					_, _ = c.pending.Acknowledge(c.partner, t, c.now())
				}
			}
		}
	}
}

// ack writes out/997_<stem>.edi acknowledging every non-FA group of ics,
// once per inbound file name.
func (c *Conn) ack(ctx context.Context, fi filedrop.FileInfo, ics []*x12.Interchange) error {
	name := ackPrefix + "_" + strings.TrimSuffix(fi.Name, path.Ext(fi.Name)) + ediExt
	c.mu.Lock()
	done := c.acked[name]
	c.mu.Unlock()
	if done {
		return nil
	}
	if _, old, err := c.readSent(ctx, name); err != nil {
		return err
	} else if old != nil {
		c.mu.Lock()
		c.acked[name] = true
		c.mu.Unlock()
		return nil
	}
	var buf bytes.Buffer
	for _, ic := range ics {
		recv := *ic
		recv.Groups = slices.DeleteFunc(slices.Clone(ic.Groups), func(g *x12.FunctionalGroup) bool { return g.FunctionalID() == "FA" })
		if len(recv.Groups) == 0 {
			continue
		}
		reply := x12.AckInterchange(&recv, x12.AckOptions{}, c.now().UTC())
		data, _, err := x12.Encode(ctx, reply, x12.WriterOptions{Delimiters: c.delims, Newline: "\n", Numbers: c.numbers, Partner: c.partner})
		if err != nil {
			return fmt.Errorf("ediwms: 997 for %s: %w", fi.Name, err)
		}
		buf.Write(data)
	}
	if buf.Len() > 0 {
		if err := c.drop.WriteAtomic(ctx, c.out, name, buf.Bytes()); err != nil {
			return c.fail(err)
		}
	}
	c.mu.Lock()
	c.acked[name] = true
	c.mu.Unlock()
	return nil
}

// inSet reports whether parser warning w is about set t.
func inSet(w x12.Warning, t *x12.TransactionSet) bool {
	end := t.SE.Pos.Index
	if t.SE.ID == "" {
		end = t.ST.Pos.Index + len(t.Segments)
	}
	return w.Pos.Index >= t.ST.Pos.Index && w.Pos.Index <= end
}

// shipmentEvents parses a 945 file; a non-empty reason rejects it (ics is
// then set when the file parsed but did not map).
func (c *Conn) shipmentEvents(fi filedrop.FileInfo, data []byte) ([]*x12.Interchange, []connector.Event, string) {
	ics, warns, err := x12.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, "does not parse as X12: " + err.Error() + "\n"
	}
	type found struct {
		g *x12.FunctionalGroup
		t *x12.TransactionSet
	}
	var sets []found
	var other []string
	for _, ic := range ics {
		for _, g := range ic.Groups {
			if g.FunctionalID() == "FA" {
				c.applyAcks([]*x12.Interchange{{Groups: []*x12.FunctionalGroup{g}}})
				continue
			}
			for _, t := range g.Sets {
				if t.Code() == "945" {
					sets = append(sets, found{g, t})
				} else {
					other = append(other, fmt.Sprintf("set %s %s ignored (not a 945)", t.Code(), t.ControlNumber()))
				}
			}
		}
	}
	if len(sets) == 0 {
		return ics, nil, "no 945 transaction set in the file\n"
	}
	var fileWarns []string
	for _, w := range warns {
		if !slices.ContainsFunc(sets, func(f found) bool { return inSet(w, f.t) }) {
			fileWarns = append(fileWarns, w.String())
		}
	}
	fileWarns = append(fileWarns, other...)
	var evs []connector.Event
	var bad []string
	for _, f := range sets {
		sh, mw, err := Read945(f.t, c.profile)
		if err != nil {
			bad = append(bad, fmt.Sprintf("945 %s: %v", f.t.ControlNumber(), err))
			continue
		}
		id := fi.Name + "#" + f.g.ControlNumber() + "-" + f.t.ControlNumber()
		if sh.ID == "" {
			sh.ID = id
		}
		if sh.ShippedAt.IsZero() {
			sh.ShippedAt = fi.ModTime.UTC()
		}
		var ws []string
		for _, w := range warns {
			if inSet(w, f.t) {
				ws = append(ws, w.String())
			}
		}
		ws = append(append(ws, mw...), fileWarns...)
		ev := connector.Event{ID: id, Type: connector.EventShipped, ExternalRef: sh.ExternalRef, At: sh.ShippedAt, Shipment: &sh}
		if len(ws) > 0 {
			ev.Reason = "x12 warnings: " + strings.Join(ws, "; ")
		}
		evs = append(evs, ev)
	}
	if len(bad) > 0 {
		return ics, nil, strings.Join(bad, "\n") + "\n"
	}
	return ics, evs, ""
}

func atoi(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && s != "" && f == float64(int(f)) {
		return int(f), true
	}
	return 0, false
}

// Read945 maps one 945 set to a shipment. It fails only when the set has no
// W06 depositor order number or no shipped W12 line; everything else it
// tolerates and reports as warnings. Lines take their number from the
// enclosing LX; packages and tracking come from MAN (or N9, per profile),
// the carrier from W27-02 (SCAC) and the service from W27-03.
func Read945(t *x12.TransactionSet, p Profile) (order.Shipment, []string, error) {
	p, _ = p.withDefaults()
	var sh order.Shipment
	var warns []string
	warn := func(f string, a ...any) { warns = append(warns, fmt.Sprintf(f, a...)) }
	var carrier, service string
	type pkgAcc struct {
		pkg   order.Package
		lines map[[2]string]int
	}
	var pkgs []*pkgAcc
	pkgByID := map[string]*pkgAcc{}
	addPkg := func(id, tracking string) *pkgAcc {
		if pa := pkgByID[id]; pa != nil {
			return pa
		}
		pa := &pkgAcc{pkg: order.Package{ID: id, TrackingNumber: tracking}, lines: map[[2]string]int{}}
		pkgByID[id] = pa
		pkgs = append(pkgs, pa)
		return pa
	}
	lineQty := map[[2]string]int{}
	var lineOrder [][2]string
	line := 0
	haveLX := false
	var curPkg *pkgAcc
	for _, s := range t.Segments {
		v := func(n int) string { return strings.TrimSpace(s.Value(n)) }
		switch s.ID {
		case "W06":
			sh.ExternalRef = v(2)
			if d := v(3); d != "" {
				if at, err := time.Parse("20060102", d); err == nil {
					sh.ShippedAt = at.UTC()
				} else {
					warn("W06-03 ship date %q is not CCYYMMDD", d)
				}
			}
			sh.ID = v(4)
		case "G62":
			if v(1) == "11" && sh.ShippedAt.IsZero() { // 11 = shipped on
				if at, err := time.Parse("20060102", v(2)); err == nil {
					sh.ShippedAt = at.UTC()
				}
			}
		case "W27":
			carrier, service = v(2), v(3)
		case "LX":
			n, ok := atoi(v(1))
			if !ok {
				warn("LX %q is not a line number", v(1))
			}
			line, haveLX, curPkg = n, true, nil
		case "MAN":
			if p.TrackingIn != TrackingMAN {
				continue
			}
			nums := map[string]string{}
			for _, i := range []int{1, 4} {
				if q := v(i); q != "" && v(i+1) != "" {
					if _, dup := nums[q]; !dup {
						nums[q] = v(i + 1)
					}
				}
			}
			tracking := nums["CP"]
			if tracking == "" && v(1) != "GM" {
				tracking = v(2)
			}
			id := cmp.Or(nums["GM"], tracking, v(2))
			if id == "" {
				warn("MAN without a package number at %s", s.Pos)
				continue
			}
			curPkg = addPkg(id, tracking)
		case "N9":
			if p.TrackingIn == TrackingN9 && v(1) == p.TrackingQualifier && v(2) != "" {
				addPkg(v(2), v(2))
			}
		case "W12":
			if !haveLX {
				warn("W12 outside an LX loop at %s: line number unknown", s.Pos)
			}
			q, ok := atoi(v(3))
			if !ok {
				if q2, ok2 := atoi(v(2)); ok2 && v(3) == "" {
					warn("line %d: W12-03 shipped quantity missing, W12-02 %d used", line, q2)
					q, ok = q2, true
				}
			}
			if !ok {
				warn("line %d: W12-03 shipped quantity %q is not a number", line, v(3))
				continue
			}
			sku := cmp.Or(v(7), v(9), v(6))
			if st := v(1); st != "CC" {
				warn("line %d (%s): status %q, shipped %d of %s ordered", line, sku, st, q, v(2))
			}
			if q <= 0 {
				continue
			}
			k := [2]string{strconv.Itoa(line), sku}
			if _, seen := lineQty[k]; !seen {
				lineOrder = append(lineOrder, k)
			}
			lineQty[k] += q
			if curPkg != nil {
				if _, seen := curPkg.lines[k]; !seen {
					curPkg.pkg.Lines = append(curPkg.pkg.Lines, order.ShipmentLine{LineNo: line, SKU: sku})
				}
				curPkg.lines[k] += q
			}
		}
	}
	if sh.ExternalRef == "" {
		return sh, warns, errors.New("no W06-02 depositor order number")
	}
	for _, k := range lineOrder {
		n, _ := strconv.Atoi(k[0])
		sh.Lines = append(sh.Lines, order.ShipmentLine{LineNo: n, SKU: k[1], Quantity: lineQty[k]})
	}
	if len(sh.Lines) == 0 {
		return sh, warns, errors.New("no shipped W12 line")
	}
	if len(pkgs) == 0 {
		warn("no tracking number (%s)", p.TrackingIn)
		addPkg(cmp.Or(sh.ID, sh.ExternalRef), "")
	}
	for _, pa := range pkgs {
		for i := range pa.pkg.Lines {
			l := &pa.pkg.Lines[i]
			l.Quantity = pa.lines[[2]string{strconv.Itoa(l.LineNo), l.SKU}]
		}
		pa.pkg.Carrier, pa.pkg.Service = carrier, service
		sh.Packages = append(sh.Packages, pa.pkg)
	}
	return sh, warns, nil
}

// Read846 maps 846 sets to stock items: LIN (SK, VN, else the first id) and
// QTY (17 on hand, 33 available; one of them alone is both).
func Read846(sets []*x12.TransactionSet) ([]connector.StockItem, []string) {
	var warns []string
	type acc struct {
		onHand, avail       int
		hasOnHand, hasAvail bool
	}
	var skus []string
	by := map[string]*acc{}
	var cur *acc
	for _, t := range sets {
		for _, s := range t.Segments {
			v := func(n int) string { return strings.TrimSpace(s.Value(n)) }
			switch s.ID {
			case "LIN":
				ids := map[string]string{}
				first := ""
				for i := 2; i+1 <= len(s.Elements); i += 2 {
					if v(i+1) != "" {
						ids[v(i)] = v(i + 1)
						first = cmp.Or(first, v(i+1))
					}
				}
				sku := cmp.Or(ids["SK"], ids["VN"], first)
				if sku == "" {
					warns = append(warns, fmt.Sprintf("LIN without an item id at %s", s.Pos))
					cur = nil
					continue
				}
				if by[sku] == nil {
					by[sku] = &acc{}
					skus = append(skus, sku)
				}
				cur = by[sku]
			case "QTY":
				if cur == nil {
					continue
				}
				q, ok := atoi(v(2))
				if !ok {
					warns = append(warns, fmt.Sprintf("QTY %q is not a number at %s", v(2), s.Pos))
					continue
				}
				switch v(1) {
				case "17":
					cur.onHand, cur.hasOnHand = q, true
				case "33":
					cur.avail, cur.hasAvail = q, true
				}
			}
		}
	}
	items := make([]connector.StockItem, 0, len(skus))
	for _, sku := range skus {
		a := by[sku]
		it := connector.StockItem{SKU: sku, OnHand: a.onHand, Available: a.avail}
		switch {
		case a.hasOnHand && !a.hasAvail:
			it.Available = it.OnHand
		case a.hasAvail && !a.hasOnHand:
			it.OnHand = it.Available
		case !a.hasAvail && !a.hasOnHand:
			warns = append(warns, fmt.Sprintf("%s has no QTY 17 or 33", sku))
		}
		it.OnHand, it.Available = max(it.OnHand, 0), max(it.Available, 0)
		it.Available = min(it.Available, it.OnHand)
		items = append(items, it)
	}
	return items, warns
}

// Stock reads the newest stable 846 file in in/, acknowledges it with a
// 997, and archives older ones. A newest file that does not parse is moved
// to error/ and the next one is tried.
func (c *Conn) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return connector.StockSnapshot{}, err
	}
	files, stable, err := c.feed.ListIn(ctx, func(name string) bool { return isKind(name, stockPrefix) })
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	var items []connector.StockItem
	fi, ok, err := c.feed.Latest(ctx, files, stable, func(fi filedrop.FileInfo, data []byte) (string, error) {
		ics, _, err := x12.Parse(bytes.NewReader(data))
		var sets []*x12.TransactionSet
		for _, ic := range ics {
			for _, g := range ic.Groups {
				for _, t := range g.Sets {
					if t.Code() == "846" {
						sets = append(sets, t)
					}
				}
			}
		}
		switch {
		case err != nil:
			return "does not parse as X12: " + err.Error() + "\n", nil
		case len(sets) == 0:
			return "no 846 transaction set in the file\n", nil
		}
		if err := c.ack(ctx, fi, ics); err != nil {
			return "", err
		}
		items, _ = Read846(sets)
		return "", nil
	})
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	if !ok {
		return connector.StockSnapshot{}, fmt.Errorf("ediwms: no readable %s* stock file in %s/ yet", stockPrefix, c.feed.In())
	}
	return connector.StockSnapshot{AsOf: fi.ModTime.UTC(), Full: true, Items: items}, nil
}
