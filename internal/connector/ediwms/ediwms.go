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
//	state_dir                 directory for the partner's state files (see below); default none
//	cancel_recheck            how often an unanswered cancel is asked again, default "5m"
//	cancel_answer_within      how long the partner has to answer a cancel, default "72h"
//	profile                   required, strict (see Profile):
//	    sender_qualifier, sender_id       ISA05/06 (us)
//	    receiver_qualifier, receiver_id   ISA07/08 (the partner)
//	    gs_sender, gs_receiver            GS02/03 (default: the ISA ids)
//	    version, usage                    GS08 (004010), ISA15 (P)
//	    tracking_in                       "MAN" (default) or "N9"
//	    tracking_qualifier                N901 of tracking numbers (2I)
//	    uom                               W01-02 (EA); W01 quantities are in it
//	    uom_factors                       units per UOM, e.g. {CS: 12}: inbound
//	                                      quantities become units, outbound
//	                                      ones are divided by uom's factor
//	    stock_scope                       846s are "full" (default) or "partial"
//	    charset                           "extended" (default) or "basic" (upper case)
//	    max_name, max_address, max_city   N1-02 60, N3 55, N4-01 30
//
// Free text (names, addresses, item names) is transliterated to ASCII
// (é→e, ç→c, œ→oe…: "Rémi Lefèvre, Hôtel-Dieu" becomes "Remi Lefevre,
// Hotel-Dieu"), upper-cased for the basic character set, stripped of
// delimiter characters and cut to the element limits (see Clean). SKUs and
// references are never altered: one that contains a delimiter is a
// permanent error.
//
// State: with state_dir, the partner's control numbers and the groups we
// sent that await a 997 are kept in "<state_dir>/<partner>.x12state.json"
// (x12.FileState), and the cancels awaiting an answer in
// "<state_dir>/<partner>.cancels.json"; both are replaced atomically
// (temporary name, then rename) on every change, so a restart neither reuses
// a control number nor forgets a missing 997. Without state_dir they are in
// memory only: control numbers restart at 1 with the process, which a
// partner that checks duplicates will refuse. One process per partner and
// state_dir.
//
// Files we write (out/):
//
//   - 940_<external_ref>.edi: one 940 (W05 N) per order, written atomically
//     with fresh control numbers; its group is tracked until the partner's
//     997 arrives (Overdue997 lists the late ones). Resubmitting (the file,
//     or its copy in archive/, has the same reference and lines, as first
//     sent or as last amended) answers Created false; other lines under the
//     same reference are a permanent error.
//   - 940R_<external_ref>.<n>.edi: AmendOrder, the whole order again with
//     W05 R (change); n counts the amendments.
//   - 940F_<external_ref>.edi: CancelOrder, the order's last 940 repeated
//     with W05 F and NTE*SPH*CANCELLED - DO NOT SHIP. The answer comes back
//     by file: see CancelOrder for what it returns meanwhile.
//   - 997_<inbound file stem>.edi: the acknowledgement of every functional
//     group of an inbound file (except 997s), rejected ones included, with
//     AK3/AK4/AK5/AK9 codes (x12.Ack997; a set other than 945, 846, 944,
//     947 or 997 is rejected with AK5 code 1), written once per file name.
//
// Files we read (in/), by name prefix; any other stable file goes to
// error/ with a reason file:
//
//   - 945*: shipping advices → Events. Each 945 set is one event, id
//     "945:<ISA09><ISA10>:<ISA13>:<GS06>:<ST02>" (a file resent unchanged
//     repeats its ids, so the hub's dedupe absorbs it): "shipped" with lines (from LX/W12, quantities
//     in units per uom_factors), packages and tracking (MAN or N9, per
//     profile) and carrier (W27); or "cancelled" when every W12 ships 0 (the
//     warehouse closed the order unshipped). The cursor is the last file
//     name returned; a file is archived when a later call's cursor is at or
//     past it; a file that does not parse or map goes to error/ with
//     "<name>.reason.txt". Parser and mapping warnings go into the event's
//     Reason.
//   - 997*: the partner's acknowledgements of our groups, read by Events and
//     archived.
//   - 846*: stock → Stock (full or partial per profile). A LIN the hub
//     cannot trust (no item id, no usable QTY 17/33, a quantity not a whole
//     number, negative or in an unconvertible unit, a SKU on LIN that
//     disagree) is a rejected line of the snapshot, quarantined by the hub,
//     not a reason to refuse the file or to read the SKU as zero.
//   - 944* and 947*: receipts and inventory adjustments → Movements
//     (connector.StockMovements), with their own cursor and the same file
//     rules as Events.
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

// ErrCancelPending is wrapped (in a connector.RetryAfter) by CancelOrder
// while the warehouse has not yet answered the cancel 940.
var ErrCancelPending = errors.New("cancel 940 (W05 F) sent; waiting for the warehouse's answer by file")

// Defaults for Config.CancelRecheck and Config.CancelAnswerWithin.
const (
	DefaultCancelRecheck      = 5 * time.Minute
	DefaultCancelAnswerWithin = 72 * time.Hour
)

// File name prefixes.
const (
	orderPrefix    = "940_"
	amendPrefix    = "940R_"
	cancelPrefix   = "940F_"
	shipPrefix     = "945"
	stockPrefix    = "846"
	ackPrefix      = "997"
	receiptPrefix  = "944"
	adjustPrefix   = "947"
	ediExt         = ".edi"
	statePerm      = 0o644
	cancelsSuffix  = ".cancels.json"
	x12StateSuffix = ".x12state.json"
)

// supportedSets are the transaction sets we read; the 997s we send reject
// any other set with AK5 code 1.
var supportedSets = []string{"945", "846", "944", "947", "997"}

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
	// StateDir, when set, keeps the partner's X12 state (control numbers,
	// groups awaiting a 997) and the cancels awaiting an answer in files
	// there, so they survive restarts (see x12.FileState). Without it they
	// live in memory: control numbers restart at 1 with the process.
	StateDir string
	// Numbers hands out control numbers; default an in-memory one. Not
	// with StateDir.
	Numbers x12.ControlNumbers
	// Pending tracks our groups awaiting a 997; default a new one. Not
	// with StateDir.
	Pending *x12.Pending997s
	// CancelRecheck is the delay CancelOrder asks for (connector.RetryAfter)
	// while a cancel is unanswered; default DefaultCancelRecheck.
	CancelRecheck time.Duration
	// CancelAnswerWithin is how long the warehouse has to answer a cancel
	// before CancelOrder gives up with a permanent error; default
	// DefaultCancelAnswerWithin.
	CancelAnswerWithin time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	stableSet bool
}

// Conn is the X12 connector. It is safe for concurrent use.
type Conn struct {
	feed    *filefeed.Feed
	mfeed   *filefeed.Feed // 944/947 movements: its own cursor
	drop    filedrop.Drop
	out     string
	profile Profile
	partner string
	delims  x12.Delimiters
	numbers x12.ControlNumbers
	pending *x12.Pending997s
	state   *x12.FileState // nil without StateDir
	cancels *cancelBook

	cancelRecheck, cancelWithin time.Duration

	mu            sync.Mutex
	acked         map[string]bool     // inbound files whose 997 is written
	stockReturned []filedrop.FileInfo // partial 846 files the last Stock call returned
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
	mfeed, err := filefeed.New(filefeed.Options{
		Name: "ediwms", Drop: cfg.Drop,
		Out: cfg.Out, In: cfg.In, Archive: cfg.Archive, Error: cfg.Error,
		StableAfter: cfg.StableAfter, StableSet: cfg.stableSet, NoStableWait: cfg.NoStableWait,
		Now: cfg.Now, FeedFile: isMovementFile,
	})
	if err != nil {
		return nil, err
	}
	c := &Conn{feed: feed, mfeed: mfeed, drop: cfg.Drop, out: feed.Out(),
		acked: map[string]bool{}, numbers: cfg.Numbers, pending: cfg.Pending, delims: x12.DefaultDelimiters,
		cancelRecheck: cmp.Or(cfg.CancelRecheck, DefaultCancelRecheck), cancelWithin: cmp.Or(cfg.CancelAnswerWithin, DefaultCancelAnswerWithin)}
	if c.profile, err = cfg.Profile.withDefaults(); err != nil {
		return nil, err
	}
	c.partner = c.profile.ReceiverQualifier + ":" + c.profile.ReceiverID
	c.cancels = &cancelBook{byRef: map[string]*cancelRecord{}}
	if cfg.StateDir != "" {
		if cfg.Numbers != nil || cfg.Pending != nil {
			return nil, errors.New("ediwms: state_dir keeps control numbers and pending 997s itself: do not set Numbers or Pending with it")
		}
		if c.state, err = x12.OpenFileState(cfg.StateDir, c.partner); err != nil {
			return nil, fmt.Errorf("ediwms: %w", err)
		}
		c.numbers, c.pending = c.state, c.state.Pending()
		c.cancels.path = strings.TrimSuffix(c.state.Path(), x12StateSuffix) + cancelsSuffix
		if err := c.cancels.load(); err != nil {
			return nil, err
		}
	}
	if c.numbers == nil {
		c.numbers = &x12.MemoryControlNumbers{}
	}
	if c.pending == nil {
		c.pending = &x12.Pending997s{}
	}
	return c, nil
}

// saveState writes the X12 state file after a change to the pending 997s
// (no-op without StateDir).
func (c *Conn) saveState() error {
	if c.state == nil {
		return nil
	}
	if err := c.state.Save(); err != nil {
		return fmt.Errorf("ediwms: %w", err)
	}
	return nil
}

// Overdue997 lists the groups we sent to the partner (940s, amendments,
// cancels) whose 997 has not arrived more than after after they were sent,
// oldest first. The hub can poll it (e.g. with the partner's SLA, often a
// few hours) and show the result to the operator; with StateDir the list
// survives restarts.
func (c *Conn) Overdue997(now time.Time, after time.Duration) []x12.SentGroup {
	return c.pending.Overdue(now, after)
}

// Rejected997 lists the groups we sent that the partner's 997 rejected in
// whole or in part (AK9 R or P), oldest first; each needs the operator (a
// 940 the 3PL did not take will not ship). Kept, with StateDir, for
// x12.StateKeepAcked.
func (c *Conn) Rejected997() []x12.SentGroup { return c.pending.Rejected() }

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

// W05-01 purpose codes of our 940s.
const (
	purposeNew    = "N"
	purposeChange = "R"
	purposeCancel = "F"
)

// Element maximum lengths of identifiers we never cut (X12 4010).
const (
	maxRef = 22 // W05-02 depositor order number
	maxSKU = 48 // W01-05 product/service id
)

// build940 maps o to a 940 set body with W05-01 purpose. Quantities are
// in the profile's UOM: divided by its uom_factors entry when it has one
// (a quantity that is not a whole number of that unit is a permanent
// error: the warehouse would ship more or less than ordered).
func (c *Conn) build940(o *order.WarehouseOrder, purpose string) (*x12.TransactionSet, error) {
	p, d := c.profile, c.delims
	cl := func(s string, n int) string { return cleanFor(p, s, d, n) }
	t := &x12.TransactionSet{ST: x12.NewSegment("ST", "940", "")}
	add := func(id string, vs ...string) {
		for len(vs) > 0 && vs[len(vs)-1] == "" {
			vs = vs[:len(vs)-1]
		}
		t.Segments = append(t.Segments, x12.NewSegment(id, vs...))
	}
	add("W05", purpose, o.ExternalRef, cl(o.OrderName, 22))
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
	f := max(p.UOMFactors[strings.ToUpper(p.UOM)], 1)
	if len(o.ExternalRef) > maxRef {
		return nil, connector.Permanent(fmt.Errorf("ediwms: external reference %q is longer than W05-02 allows (%d characters)", o.ExternalRef, maxRef))
	}
	for _, l := range o.Lines {
		if len(l.SKU) > maxSKU {
			return nil, connector.Permanent(fmt.Errorf("ediwms: order %s line %d: SKU %q is longer than W01-05 allows (%d characters); SKUs are never cut",
				o.ExternalRef, l.LineNo, l.SKU, maxSKU))
		}
		if l.Quantity%f != 0 {
			return nil, connector.Permanent(fmt.Errorf("ediwms: order %s line %d (%s): %d units is not a whole number of %s (%d units each)",
				o.ExternalRef, l.LineNo, l.SKU, l.Quantity, p.UOM, f))
		}
		q := l.Quantity / f
		add("LX", strconv.Itoa(l.LineNo))
		add("W01", strconv.Itoa(q), p.UOM, "", "SK", l.SKU)
		if n := cl(l.Name, 45); n != "" {
			add("G69", n)
		}
		total += q
	}
	add("W76", strconv.Itoa(total))
	return t, nil
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
	return c.saveState()
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
	set, err := c.build940(o, purposeNew)
	if err != nil {
		return connector.SubmitResult{}, err
	}
	if err := c.ensureDirs(ctx); err != nil {
		return connector.SubmitResult{}, err
	}
	res := connector.SubmitResult{WMSOrderID: name}
	dir, old, err := c.readSent(ctx, name)
	if err != nil {
		return res, err
	}
	if old != nil {
		// The same order again, as first sent or as last amended.
		if err := sameOrder(set, old); err != nil {
			_, lastName, last, lerr := c.latestAmendment(ctx, o.ExternalRef)
			if lerr != nil {
				return res, lerr
			}
			if last == nil || sameOrder(set, last) != nil {
				return res, connector.Permanent(fmt.Errorf("ediwms: %s/%s: order %s: %w", dir, cmp.Or(lastName, name), o.ExternalRef, err))
			}
		}
		return res, nil
	}
	if err := c.write(ctx, name, c.envelope("OW", set)); err != nil {
		return res, err
	}
	res.Created = true
	return res, nil
}

// amendName is the file of the n-th amendment (n >= 1) of ref.
func amendName(ref string, n int) string {
	return fmt.Sprintf("%s%s.%d%s", amendPrefix, ref, n, ediExt)
}

// latestAmendment finds the last amendment written for ref: its number
// (0: none), name and content.
func (c *Conn) latestAmendment(ctx context.Context, ref string) (int, string, []byte, error) {
	n, name := 0, ""
	var last []byte
	for {
		nm := amendName(ref, n+1)
		_, data, err := c.readSent(ctx, nm)
		if err != nil {
			return 0, "", nil, err
		}
		if data == nil {
			return n, name, last, nil
		}
		n, name, last = n+1, nm, data
	}
}

// AmendOrder sends a change to an order already submitted: its full 940
// again with W05-01 R (change/replace), in out/940R_<external_ref>.<n>.edi
// (n = 1, 2, … per amendment). The warehouse replaces the order's lines and
// address with the new ones; the external reference never changes.
// Amending with exactly the content last sent (the original or the latest
// amendment) writes nothing, so a retry is harmless. An order never
// submitted, or already cancelled (a W05 F was sent), cannot be amended: a
// permanent error. The warehouse confirms by its 997 (see Overdue997) and
// later ships what the amended order says; a 945 already in flight for the
// old lines is reported as it comes.
//
// The hub calls it through a type assertion, as for the other optional
// capabilities:
//
//	if a, ok := wms.(interface {
//		AmendOrder(context.Context, *order.WarehouseOrder) error
//	}); ok { err = a.AmendOrder(ctx, wo) }
func (c *Conn) AmendOrder(ctx context.Context, o *order.WarehouseOrder) error {
	if err := o.Validate(); err != nil {
		return connector.Permanent(err)
	}
	orderName, err := refName(orderPrefix, o.ExternalRef)
	if err != nil {
		return connector.Permanent(err)
	}
	cancelName, _ := refName(cancelPrefix, o.ExternalRef)
	if err := c.ensureDirs(ctx); err != nil {
		return err
	}
	if _, done, err := c.readSent(ctx, cancelName); err != nil {
		return err
	} else if done != nil {
		return connector.Permanent(fmt.Errorf("ediwms: amend %s: the order was cancelled (W05 F sent)", o.ExternalRef))
	}
	_, orig, err := c.readSent(ctx, orderName)
	if err != nil {
		return err
	}
	if orig == nil {
		return connector.Permanent(fmt.Errorf("ediwms: amend %s: no 940 was sent for this reference (submit it first)", o.ExternalRef))
	}
	n, _, last, err := c.latestAmendment(ctx, o.ExternalRef)
	if err != nil {
		return err
	}
	if last == nil {
		last = orig
	}
	set, err := c.build940(o, purposeChange)
	if err != nil {
		return err
	}
	if same, err := sameBody(set, last); err != nil {
		return connector.Permanent(fmt.Errorf("ediwms: amend %s: %w", o.ExternalRef, err))
	} else if same {
		return nil
	}
	return c.write(ctx, amendName(o.ExternalRef, n+1), c.envelope("OW", set))
}

var _ connector.Amender = (*Conn)(nil)

// Amend is connector.Amender over AmendOrder: the 940 W05 R is written and
// the answer is Amended true. X12 has no synchronous answer: the partner
// acknowledges the file with its 997 and ships what the amended order says;
// a 945 already in flight for the old lines is reported as it comes.
func (c *Conn) Amend(ctx context.Context, o *order.WarehouseOrder) (connector.AmendResult, error) {
	if err := c.AmendOrder(ctx, o); err != nil {
		return connector.AmendResult{}, err
	}
	return connector.AmendResult{Amended: true}, nil
}

// sameBody reports whether the one 940 in file old has the body of set,
// W05-01 (the purpose) aside.
func sameBody(set *x12.TransactionSet, old []byte) (bool, error) {
	ics, _, err := x12.Parse(bytes.NewReader(old))
	if err != nil || len(ics) != 1 || len(ics[0].Groups) != 1 || len(ics[0].Groups[0].Sets) != 1 {
		return false, fmt.Errorf("the last 940 sent does not read back as one 940: %v", err)
	}
	render := func(t *x12.TransactionSet) []string {
		var out []string
		for _, s := range t.Segments {
			vs := []string{s.ID}
			for i, e := range s.Elements {
				if s.ID == "W05" && i == 0 {
					continue
				}
				vs = append(vs, strings.Join(e.Components(), "\x00"))
			}
			out = append(out, strings.Join(vs, "\x01"))
		}
		return out
	}
	return slices.Equal(render(set), render(ics[0].Groups[0].Sets[0])), nil
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

// CancelOrder asks the warehouse to cancel with a 940 W05 F in
// out/940F_<external_ref>.edi: the order's last 940 (the original or the
// latest amendment) repeated with W05-01 F and NTE*SPH*CANCELLED - DO NOT
// SHIP. It is written once. The warehouse answers later, by file, so
// CancelOrder answers only once that answer was read from the feed:
//
//   - a 945 for the reference that ships nothing (every W12 shipped
//     quantity 0) means the warehouse closed the order unshipped: Events
//     reports it as EventCancelled and CancelOrder answers Cancelled true;
//   - a 945 that ships units means it was too late: Events reports the
//     shipment and CancelOrder answers Cancelled false, "already shipped";
//   - until then CancelOrder returns connector.RetryAfter(CancelRecheck,
//     ErrCancelPending): the hub's cancel job waits and asks again (it never
//     accepts or rejects the merchant's request on a guess);
//   - with no answer CancelAnswerWithin after the cancel was sent, it
//     returns a permanent error for the operator to settle with the 3PL.
//
// The answer is known from the Events feed of this connector (with
// StateDir also across restarts). Cancelling an order never sent is a
// permanent error.
func (c *Conn) CancelOrder(ctx context.Context, externalRef string) (connector.CancelResult, error) {
	name, err := refName(cancelPrefix, externalRef)
	if err != nil {
		return connector.CancelResult{}, connector.Permanent(err)
	}
	if res, ok := c.cancels.answer(externalRef); ok {
		return res, nil
	}
	orderName, _ := refName(orderPrefix, externalRef)
	if err := c.ensureDirs(ctx); err != nil {
		return connector.CancelResult{}, err
	}
	_, done, err := c.readSent(ctx, name)
	if err != nil {
		return connector.CancelResult{}, err
	}
	if done == nil {
		_, old, err := c.readSent(ctx, orderName)
		if err != nil {
			return connector.CancelResult{}, err
		}
		if old == nil {
			return connector.CancelResult{}, connector.Permanent(fmt.Errorf("ediwms: cancel %s: no 940 was sent for this reference", externalRef))
		}
		_, _, last, err := c.latestAmendment(ctx, externalRef)
		if err != nil {
			return connector.CancelResult{}, err
		}
		if last != nil {
			old = last
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
				s.Elements[0] = x12.Simple(purposeCancel)
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
	}
	// Re-check: the answer may have been read while we wrote.
	if res, ok := c.cancels.answer(externalRef); ok {
		return res, nil
	}
	sentAt, err := c.cancels.requested(externalRef, c.now())
	if err != nil {
		return connector.CancelResult{}, err
	}
	if wait := c.now().Sub(sentAt); wait > c.cancelWithin {
		return connector.CancelResult{}, connector.Permanent(fmt.Errorf(
			"ediwms: cancel %s: no answer from the warehouse %s after the cancel 940 (W05 F) was sent at %s (neither a 945 shipping nothing nor a shipment): settle it with the 3PL",
			externalRef, wait.Round(time.Minute), sentAt.UTC().Format(time.RFC3339)))
	}
	return connector.CancelResult{}, connector.RetryAfter(c.cancelRecheck, fmt.Errorf("ediwms: cancel %s: %w", externalRef, ErrCancelPending))
}

func isKind(name, prefix string) bool {
	return !filedrop.Ignored(name) && strings.HasPrefix(name, prefix)
}

// knownFile reports whether an inbound file name starts with a prefix this
// connector reads.
func knownFile(name string) bool {
	for _, p := range []string{shipPrefix, ackPrefix, stockPrefix, receiptPrefix, adjustPrefix} {
		if isKind(name, p) {
			return true
		}
	}
	return false
}

// unknownReason is the reason file text of an inbound file no reader takes.
const unknownReason = "the file name does not start with 945, 944, 947, 846 or 997, so no reader of this connector takes it " +
	"(the file name says what the file holds); rename it and put it back in the inbound folder if it is one of those\n"

// Events reads the partner's 997s (Overdue997, Rejected997), moves inbound
// files no reader takes to error/, then returns the shipped and cancelled
// events of the 945 files after cursor (a file name), whole files at a
// time. See the package documentation for ids, archive and error/.
func (c *Conn) Events(ctx context.Context, cursor string, limit int) ([]connector.Event, string, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return nil, cursor, err
	}
	all, stable, err := c.feed.ListIn(ctx, func(name string) bool { return !filedrop.Ignored(name) })
	if err != nil {
		return nil, cursor, err
	}
	slices.SortFunc(all, func(a, b filedrop.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	var inbox []filedrop.FileInfo
	for _, fi := range all {
		if !knownFile(fi.Name) {
			if stable[fi.Name] {
				if err := c.feed.Quarantine(ctx, fi, unknownReason); err != nil {
					return nil, cursor, err
				}
			}
			continue
		}
		if !isKind(fi.Name, shipPrefix) && !isKind(fi.Name, ackPrefix) {
			continue // 846: Stock; 944/947: Movements
		}
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
	if err := c.applyAcks(ics); err != nil {
		return err
	}
	_, err = c.feed.MoveUnique(ctx, fi, c.feed.Archive())
	return err
}

func (c *Conn) applyAcks(ics []*x12.Interchange) error {
	n := 0
	for _, ic := range ics {
		for _, g := range ic.Groups {
			for _, t := range g.Sets {
				if t.Code() == "997" {
					if sg, _ := c.pending.Acknowledge(c.partner, t, c.now()); sg != nil {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	return c.saveState()
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
		reply := x12.AckInterchange(&recv, x12.AckOptions{Supported: supportedSets}, c.now().UTC())
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

// eventID identifies a 945 set by its envelope as the partner wrote it:
// "945:<ISA09 date><ISA10 time>:<ISA13>:<GS06>:<ST02>". A file the partner
// sends again unchanged (a common EDI retry) gives the same ids, so the
// hub's event dedupe absorbs it; the date keeps partners that restart their
// control numbers (daily, say) from colliding.
func eventID(ic *x12.Interchange, g *x12.FunctionalGroup, t *x12.TransactionSet) string {
	return fmt.Sprintf("945:%s%s:%s:%s:%s", strings.TrimSpace(ic.ISA.Value(9)), strings.TrimSpace(ic.ISA.Value(10)),
		ic.ControlNumber(), g.ControlNumber(), t.ControlNumber())
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
		ic *x12.Interchange
		g  *x12.FunctionalGroup
		t  *x12.TransactionSet
	}
	var sets []found
	var other []string
	for _, ic := range ics {
		for _, g := range ic.Groups {
			if g.FunctionalID() == "FA" {
				// A failed save is retried with the next change of the state.
				_ = c.applyAcks([]*x12.Interchange{{Groups: []*x12.FunctionalGroup{g}}})
				continue
			}
			for _, t := range g.Sets {
				if t.Code() == "945" {
					sets = append(sets, found{ic, g, t})
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
	var answers []func() // cancel answers, recorded once the file is accepted
	for _, f := range sets {
		sh, mw, err := Read945(f.t, c.profile)
		id := eventID(f.ic, f.g, f.t)
		if errors.Is(err, ErrNothingShipped) {
			// The warehouse closed the order without shipping: the answer
			// to a cancel, or a cancel of its own.
			at := cmp.Or(sh.ShippedAt, fi.ModTime.UTC())
			reason := "945 ships nothing: " + strings.Join(mw, "; ")
			ref, detail := sh.ExternalRef, fmt.Sprintf("945 %s in %s ships nothing", f.t.ControlNumber(), fi.Name)
			answers = append(answers, func() { _ = c.cancels.answered(ref, answerCancelled, detail, c.now()) })
			evs = append(evs, connector.Event{ID: id, Type: connector.EventCancelled, ExternalRef: sh.ExternalRef, At: at, Reason: reason})
			continue
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("945 %s: %v", f.t.ControlNumber(), err))
			continue
		}
		ref, detail := sh.ExternalRef, fmt.Sprintf("945 %s in %s", f.t.ControlNumber(), fi.Name)
		answers = append(answers, func() { _ = c.cancels.answered(ref, answerShipped, detail, c.now()) })
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
	// A failed save of an answer is retried with the next change.
	for _, a := range answers {
		a()
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

// ErrNothingShipped is returned by Read945 for a 945 whose W12 lines all ship
// zero units: the warehouse closed the order without shipping it. The
// shipment returned with it has ExternalRef and ShippedAt set.
var ErrNothingShipped = errors.New("no W12 line ships any unit")

// Read945 maps one 945 set to a shipment. It fails when the set has no W06
// depositor order number or no W12 line, and with ErrNothingShipped when
// every W12 ships zero; everything else it tolerates and reports as
// warnings. Shipped quantities are converted to units with the profile's
// uom_factors (W12-05). Lines take their number from the
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
	haveLX, sawW12 := false, false
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
			sawW12 = true
			if st := v(1); st != "CC" {
				warn("line %d (%s): status %q, shipped %d of %s ordered", line, sku, st, q, v(2))
			}
			if q <= 0 {
				continue
			}
			if u, w := p.units(q, v(5)); w != "" {
				warn("line %d (%s): %s", line, sku, w)
			} else {
				q = u
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
	if len(sh.Lines) == 0 && sawW12 {
		return sh, warns, ErrNothingShipped
	}
	if len(sh.Lines) == 0 {
		return sh, warns, errors.New("no W12 line")
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

// maxUnits bounds a quantity Read846 accepts, so that lots can be added up
// without overflow.
const maxUnits = 1 << 40

// Read846 maps the 846 sets among sets to stock items: LIN (SK, VN, else
// the first id other than a lot number LT) and QTY (17 on hand, 33
// available; one of them alone is both), quantities converted to units with
// the profile's uom_factors (QTY-03); available is capped at on hand.
//
// Every LIN is an item or a rejected line (Index: the LIN's ordinal among
// the LIN of the sets, from 0; SKU: its item id, "" if none; Reason: the
// segment's position and the problem): a LIN without item id, without a
// QTY 17 or 33, with a QTY 17 or 33 that is not a whole number, negative,
// in a unit the profile cannot convert, or given twice with different
// figures. A SKU on several LIN is one item when each of them names a
// different lot (LT) and none is rejected (the lots add up), or when they
// all carry the same figures (a repeat); otherwise every LIN of the SKU is
// rejected, since which one is right cannot be told, so a SKU is never both
// an item and rejected. The warnings are what was ignored (a QTY outside a
// LIN).
func Read846(sets []*x12.TransactionSet, p Profile) ([]connector.StockItem, []connector.RejectedStockLine, []string) {
	p, _ = p.withDefaults()
	var warns []string
	type lin struct {
		pos, sku, lot string
		qty           map[string]int // "17", "33" → units
		qtyPos        map[string]string
		why           []string
	}
	var lines []*lin
	var cur *lin
	for _, t := range sets {
		if t.Code() != "846" {
			continue
		}
		cur = nil
		for _, s := range t.Segments {
			v := func(n int) string { return strings.TrimSpace(s.Value(n)) }
			switch s.ID {
			case "LIN":
				ids := map[string]string{}
				first := ""
				for i := 2; i+1 <= len(s.Elements); i += 2 {
					if v(i+1) != "" {
						ids[v(i)] = v(i + 1)
						if v(i) != "LT" {
							first = cmp.Or(first, v(i+1))
						}
					}
				}
				cur = &lin{pos: s.Pos.String(), sku: cmp.Or(ids["SK"], ids["VN"], first), lot: ids["LT"],
					qty: map[string]int{}, qtyPos: map[string]string{}}
				if cur.sku == "" {
					cur.why = append(cur.why, fmt.Sprintf("LIN at %s has no item id", cur.pos))
				}
				lines = append(lines, cur)
			case "QTY":
				if cur == nil {
					warns = append(warns, fmt.Sprintf("QTY at %s is not under a LIN: ignored", s.Pos))
					continue
				}
				q := v(1)
				if q != "17" && q != "33" {
					continue
				}
				n, ok := atoi(v(2))
				u, w := p.units(n, v(3))
				switch {
				case !ok:
					cur.why = append(cur.why, fmt.Sprintf("QTY %s at %s: quantity %q is not a whole number", q, s.Pos, v(2)))
					continue
				case n < 0:
					cur.why = append(cur.why, fmt.Sprintf("QTY %s at %s: negative quantity %d", q, s.Pos, n))
					continue
				case w != "":
					cur.why = append(cur.why, fmt.Sprintf("QTY %s at %s: unit of measure %q has no factor in the profile's uom_factors", q, s.Pos, v(3)))
					continue
				case n > maxUnits || u < 0 || u > maxUnits:
					cur.why = append(cur.why, fmt.Sprintf("QTY %s at %s: quantity %s %s is out of range", q, s.Pos, v(2), v(3)))
					continue
				}
				if old, seen := cur.qty[q]; seen && old != u {
					cur.why = append(cur.why, fmt.Sprintf("QTY %s at %s gives %d units, QTY %s at %s gave %d", q, s.Pos, u, q, cur.qtyPos[q], old))
					continue
				}
				cur.qty[q], cur.qtyPos[q] = u, s.Pos.String()
			}
		}
	}
	item := func(l *lin) connector.StockItem {
		on, hasOn := l.qty["17"]
		av, hasAv := l.qty["33"]
		switch {
		case !hasOn:
			on = av
		case !hasAv:
			av = on
		}
		return connector.StockItem{SKU: l.sku, OnHand: on, Available: min(av, on)}
	}
	bySKU := map[string][]*lin{}
	for _, l := range lines {
		if len(l.why) == 0 && len(l.qty) == 0 {
			l.why = append(l.why, fmt.Sprintf("LIN at %s (item %s) has no QTY 17 (on hand) or 33 (available)", l.pos, l.sku))
		}
		if l.sku != "" {
			bySKU[l.sku] = append(bySKU[l.sku], l)
		}
	}
	var items []connector.StockItem
	var rejected []connector.RejectedStockLine
	done := map[string]bool{}
	for n, l := range lines {
		same := bySKU[l.sku]
		if len(l.why) == 0 && len(same) > 1 && !done[l.sku] {
			lots := map[string]bool{}
			identical, valid := true, true
			for _, o := range same {
				valid = valid && len(o.why) == 0
				identical = identical && item(o) == item(l)
				if o.lot != "" {
					lots[o.lot] = true
				}
			}
			switch {
			case valid && len(lots) == len(same):
				sum := connector.StockItem{SKU: l.sku}
				for _, o := range same {
					it := item(o)
					sum.OnHand, sum.Available = sum.OnHand+it.OnHand, sum.Available+it.Available
				}
				items = append(items, sum)
				done[l.sku] = true
			case valid && identical:
				items = append(items, item(l))
				done[l.sku] = true
			}
		}
		switch {
		case done[l.sku] && len(same) > 1:
			continue // summed or repeated above
		case len(same) > 1:
			pos := make([]string, len(same))
			for i, o := range same {
				pos[i] = o.pos
			}
			l.why = append(l.why, fmt.Sprintf("item %s is on %d LIN (%s) whose figures cannot be combined; all of them are rejected since which one is right cannot be told",
				l.sku, len(same), strings.Join(pos, ", ")))
		case len(l.why) == 0:
			items = append(items, item(l))
			continue
		}
		rejected = append(rejected, connector.RejectedStockLine{Index: n, SKU: l.sku, Reason: strings.Join(l.why, "; ")})
	}
	return items, rejected, warns
}

// Stock reads the partner's 846 files in in/ and acknowledges each with a
// 997. With stock_scope "full" (default) it returns the newest stable file
// that reads as a Full snapshot, AsOf its modification time, and archives
// the older ones (a newer full snapshot supersedes them). With "partial" it
// merges every stable 846 file (for a SKU the newest file wins), returns
// them as one snapshot with Full false, AsOf the modification time of the
// oldest file merged (so the hub subtracts, if anything, too many units
// sent since, never too few), and archives the files the previous call
// returned. A file that does not parse or has no 846 set is moved to
// error/ with a reason. A LIN the hub cannot trust (see Read846) does not
// reject the file: it is in the snapshot's Rejected (Index its ordinal in
// the file, Reason prefixed with the file name), so the hub quarantines it
// and keeps that SKU's last figure, even in a full snapshot.
//
// In a partial merge the newest file that lists a SKU decides for it: its
// item, or its rejected lines, which then drop the SKU's figure from older
// files (the warehouse's latest word on the SKU is untrusted, so an older
// figure must not pass for it); an older file's rejected lines for a SKU a
// newer file lists validly are superseded and left out, like an older
// figure. Rejected lines without item id are all kept. Mapping warnings are
// not in the snapshot.
func (c *Conn) Stock(ctx context.Context) (connector.StockSnapshot, error) {
	if err := c.ensureDirs(ctx); err != nil {
		return connector.StockSnapshot{}, err
	}
	files, stable, err := c.feed.ListIn(ctx, func(name string) bool { return isKind(name, stockPrefix) })
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	read := func(fi filedrop.FileInfo, data []byte) (stockFile, string, error) {
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
			return stockFile{}, "does not parse as X12: " + err.Error() + "\n", nil
		case len(sets) == 0:
			if err := c.ack(ctx, fi, ics); err != nil {
				return stockFile{}, "", err
			}
			return stockFile{}, "no 846 transaction set in the file\n", nil
		}
		if err := c.ack(ctx, fi, ics); err != nil {
			return stockFile{}, "", err
		}
		var f stockFile
		f.items, f.rejected, _ = Read846(sets, c.profile)
		for i := range f.rejected {
			f.rejected[i].Reason = fi.Name + ": " + f.rejected[i].Reason
		}
		return f, "", nil
	}
	if c.profile.StockScope == StockPartial {
		return c.partialStock(ctx, files, stable, read)
	}
	var got stockFile
	fi, ok, err := c.feed.Latest(ctx, files, stable, func(fi filedrop.FileInfo, data []byte) (string, error) {
		f, reason, err := read(fi, data)
		got = f
		return reason, err
	})
	if err != nil {
		return connector.StockSnapshot{}, err
	}
	if !ok {
		return connector.StockSnapshot{}, fmt.Errorf("ediwms: no readable %s* stock file in %s/ yet", stockPrefix, c.feed.In())
	}
	return connector.StockSnapshot{AsOf: fi.ModTime.UTC(), Full: true, Items: got.items, Rejected: got.rejected}, nil
}

// stockFile is what Stock read from one 846 file.
type stockFile struct {
	items    []connector.StockItem
	rejected []connector.RejectedStockLine
}

// partialStock merges the stable partial 846 files; see Stock.
func (c *Conn) partialStock(ctx context.Context, files []filedrop.FileInfo, stable map[string]bool,
	read func(filedrop.FileInfo, []byte) (stockFile, string, error)) (connector.StockSnapshot, error) {
	c.mu.Lock()
	done := c.stockReturned
	c.stockReturned = nil
	c.mu.Unlock()
	var todo []filedrop.FileInfo
	for _, fi := range files {
		if !stable[fi.Name] {
			continue
		}
		if slices.ContainsFunc(done, func(d filedrop.FileInfo) bool {
			return d.Name == fi.Name && d.ModTime.Equal(fi.ModTime) && d.Size == fi.Size
		}) {
			if _, err := c.feed.MoveUnique(ctx, fi, c.feed.Archive()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return connector.StockSnapshot{}, err
			}
			continue
		}
		todo = append(todo, fi)
	}
	slices.SortFunc(todo, func(a, b filedrop.FileInfo) int { // oldest first: newer values overwrite
		return cmp.Or(a.ModTime.Compare(b.ModTime), strings.Compare(a.Name, b.Name))
	})
	var snap connector.StockSnapshot
	// For each SKU, the newest file listing it decides: its item or its
	// rejected lines (see Stock). Merged in file order, then flattened.
	item := map[string]connector.StockItem{}
	bad := map[string][]connector.RejectedStockLine{}
	var skus []string // first appearance order
	var noSKU []connector.RejectedStockLine
	var used []filedrop.FileInfo
	for _, fi := range todo {
		data, err := c.drop.Read(ctx, fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return connector.StockSnapshot{}, c.fail(err)
		}
		f, reason, err := read(fi, data)
		if err != nil {
			return connector.StockSnapshot{}, err
		}
		if reason != "" {
			if err := c.feed.Quarantine(ctx, fi, reason); err != nil {
				return connector.StockSnapshot{}, err
			}
			continue
		}
		if len(used) == 0 {
			snap.AsOf = fi.ModTime.UTC()
		}
		used = append(used, fi)
		seen := func(sku string) {
			_, ok := item[sku]
			if !ok && bad[sku] == nil {
				skus = append(skus, sku)
			}
		}
		for _, it := range f.items {
			seen(it.SKU)
			item[it.SKU] = it
			delete(bad, it.SKU)
		}
		// Read846 never lists a SKU as both item and rejected, so this
		// file's rejected lines only displace older files' figures.
		fresh := map[string]bool{} // SKUs this file rejects
		for _, r := range f.rejected {
			if r.SKU == "" {
				noSKU = append(noSKU, r)
				continue
			}
			seen(r.SKU)
			if !fresh[r.SKU] {
				fresh[r.SKU] = true
				bad[r.SKU] = nil // an older file's rejections are superseded
				delete(item, r.SKU)
			}
			bad[r.SKU] = append(bad[r.SKU], r)
		}
	}
	for _, sku := range skus {
		if it, ok := item[sku]; ok {
			snap.Items = append(snap.Items, it)
		}
		snap.Rejected = append(snap.Rejected, bad[sku]...)
	}
	snap.Rejected = append(snap.Rejected, noSKU...)
	if len(used) == 0 {
		return connector.StockSnapshot{}, fmt.Errorf("ediwms: no new readable %s* stock file in %s/", stockPrefix, c.feed.In())
	}
	c.mu.Lock()
	c.stockReturned = used
	c.mu.Unlock()
	return snap, nil
}
