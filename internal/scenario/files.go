package scenario

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/connector/csvwms"
	"github.com/crossdock/crossdock/internal/connector/ediwms"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/csvfile"
	"github.com/crossdock/crossdock/internal/demo"
	"github.com/crossdock/crossdock/internal/filedrop"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/sftpd"
	"github.com/crossdock/crossdock/internal/wmssim/filesim"
)

// Transports a warehouse is rehearsed through.
const (
	transportREST = "rest"
	transportCSV  = filesim.ProtocolCSV
	transportEDI  = filesim.ProtocolEDI
)

// The rehearsal's file partners poll and publish as fast as the demo's.
const (
	filePollInterval  = 100 * time.Millisecond
	fileStockInterval = time.Second
	sftpUser          = "crossdock"
)

// fileWarehouse is the file side of a csv or edi warehouse: an SFTP
// server on a scratch directory and the simulated 3PL working on it.
type fileWarehouse struct {
	kind     string
	dir      string
	sftp     *sftpd.Server
	password string
	partner  *filesim.Partner
	settings map[string]any // the hub's connector settings

	mu     sync.Mutex
	down   bool
	cancel context.CancelFunc
	done   chan struct{}
}

// describe says what kind of warehouse id is ("lyon is a CSV warehouse").
func (fw *fileWarehouse) describe(id string) string {
	if fw.kind == transportEDI {
		return id + " is an EDI warehouse"
	}
	return id + " is a CSV warehouse"
}

// isFileKind says whether a connector kind exchanges files.
func isFileKind(kind string) bool { return kind == transportCSV || kind == transportEDI }

// partnerDialect returns the partner's CSV profile or X12 identifiers from
// the user's connector settings, so that the simulated 3PL speaks the
// user's dialect. A profile option the partner simulator cannot speak is
// a skipError.
func partnerDialect(c config.Connector, whID string) (csvfile.Profile, filesim.EDIProfile, error) {
	var cp csvfile.Profile
	var ep filesim.EDIProfile
	raw, ok := c.Settings["profile"]
	switch c.Kind {
	case transportCSV:
		if !ok {
			return cp, ep, nil // csvwms.DefaultProfile on both sides
		}
		var err error
		if cp, err = csvwms.DecodeProfile(raw); err != nil {
			return cp, ep, fmt.Errorf("warehouse %s: %w", whID, err)
		}
		if !cp.Header && (cp.Orders != nil || cp.Shipments != nil || cp.Stock != nil || cp.Delimiter != "" || cp.Encoding != "") {
			return cp, ep, &skipError{fmt.Sprintf("warehouse %s: its csv profile has no header row; the file partner simulator only writes files with one", whID)}
		}
		return cp, ep, nil
	case transportEDI:
		if !ok {
			return cp, ep, fmt.Errorf("warehouse %s: edi profile is required (sender_id, receiver_id)", whID)
		}
		p, err := ediwms.DecodeProfile(raw)
		if err != nil {
			return cp, ep, fmt.Errorf("warehouse %s: %w", whID, err)
		}
		var unsupported []string
		if p.TrackingIn != "" && !strings.EqualFold(p.TrackingIn, ediwms.TrackingMAN) {
			unsupported = append(unsupported, "tracking_in "+p.TrackingIn+" (it sends tracking in MAN*CP)")
		}
		if p.UOM != "" && !strings.EqualFold(p.UOM, "EA") || len(p.UOMFactors) > 0 {
			unsupported = append(unsupported, "units of measure other than EA (uom, uom_factors)")
		}
		if len(unsupported) > 0 {
			return cp, ep, &skipError{fmt.Sprintf("warehouse %s: the file partner simulator does not speak %s", whID, strings.Join(unsupported, ", "))}
		}
		// The partner is the hub's receiver; the hub its partner.
		ep = filesim.EDIProfile{Qualifier: p.ReceiverQualifier, ID: p.ReceiverID, HubQualifier: p.SenderQualifier, HubID: p.SenderID}
		return cp, ep, nil
	}
	return cp, ep, fmt.Errorf("warehouse %s: %q is not a file connector", whID, c.Kind)
}

// startFileWarehouse gives w, configured by the user as a csv or edi
// warehouse (c), an SFTP server on a scratch directory and a simulated 3PL
// over w's simulator speaking the user's dialect, and keeps the hub's
// connector settings in w.file: the user's (profile, column mapping,
// folders, ids) with only where and how to connect replaced.
func (e *env) startFileWarehouse(w *simWarehouse, c config.Connector) error {
	csvProfile, ediProfile, err := partnerDialect(c, w.hubID)
	if err != nil {
		return err
	}
	fw := &fileWarehouse{kind: c.Kind, dir: filepath.Join(e.dir, "files-"+w.id)}
	w.file = fw
	if err := os.MkdirAll(fw.dir, 0o700); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	// The in-process server does not confine a session to its directory:
	// a random password, on 127.0.0.1 only.
	fw.password = rand.Text()
	if fw.sftp, err = sftpd.Start(sftpd.Config{Addr: "127.0.0.1:0", Root: fw.dir, User: sftpUser, Password: fw.password}); err != nil {
		return fmt.Errorf("scenario: sftp server for %s: %w", w.hubID, err)
	}
	str := func(k, def string) string {
		if s, ok := c.Settings[k].(string); ok && s != "" {
			return s
		}
		return def
	}
	if e.opt.partnerCSV != nil && c.Kind == transportCSV {
		e.opt.partnerCSV(&csvProfile)
	}
	local, err := filedrop.NewLocal(fw.dir)
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	drop := &clockDrop{Drop: local, root: fw.dir, now: e.clock.Now}
	fw.partner, err = filesim.New(filesim.Config{Sim: w.sim, Token: simWMSToken, Drop: drop, Protocol: c.Kind,
		Inbox: str("out", filefeed.DefaultOut), Outbox: str("in", filefeed.DefaultIn),
		CSV: csvProfile, EDI: ediProfile, PollInterval: filePollInterval, StockInterval: fileStockInterval,
		Annotate: func(o *order.WarehouseOrder) { demo.AddShopifyIDs(e.shopify, o) }, Now: e.clock.Now, Logger: e.log})
	if err != nil {
		return fmt.Errorf("scenario: file partner for %s: %w", w.hubID, err)
	}
	s := maps.Clone(c.Settings)
	if s == nil {
		s = map[string]any{}
	}
	for _, k := range filefeed.ConnectionKeys() { // the rest (profile, folders) is the user's
		delete(s, k)
	}
	s["transport"], s["address"], s["user"], s["password"] = "sftp", fw.sftp.Addr(), sftpUser, fw.password
	s["host_key"] = fw.sftp.AuthorizedHostKey()
	s["stable_after"] = "0s" // the partner writes tmp-then-rename
	// Like the hub's other timers, the re-check of a cancel awaiting the
	// 3PL's answer file is compressed (default 5 min).
	s["cancel_recheck"] = "500ms"
	if _, ok := s["state_dir"]; ok {
		s["state_dir"] = filepath.Join(e.dir, "edi-state-"+w.id) // never the user's control numbers
	}
	fw.settings = s
	fw.start()
	return nil
}

// start runs the partner's Steps every filePollInterval until close; while
// the warehouse is down it does nothing.
func (fw *fileWarehouse) start() {
	ctx, cancel := context.WithCancel(context.Background())
	fw.cancel, fw.done = cancel, make(chan struct{})
	go func() {
		defer close(fw.done)
		t := time.NewTicker(filePollInterval)
		defer t.Stop()
		for {
			fw.mu.Lock()
			down := fw.down
			fw.mu.Unlock()
			if !down {
				_ = fw.partner.Step(ctx) // a failed Step is done again at the next tick
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// setDown takes the warehouse's file side down (its SFTP server stops
// listening, its 3PL stops working files) or back up on the same port.
func (fw *fileWarehouse) setDown(down bool) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.down = down
	if down {
		fw.sftp.Stop()
		return nil
	}
	if err := fw.sftp.Restart(); err != nil {
		return fmt.Errorf("scenario: restart the sftp server: %w", err)
	}
	return nil
}

// close stops the partner and the SFTP server.
func (fw *fileWarehouse) close() {
	if fw.cancel != nil {
		fw.cancel()
		<-fw.done
	}
	if fw.sftp != nil {
		fw.sftp.Stop()
	}
}

// transport is how w is rehearsed.
func (w *simWarehouse) transport() string {
	if w.file != nil {
		return w.file.kind
	}
	return transportREST
}

// fileLimits returns a skipError when the scenario plays something a file
// warehouse cannot (see docs/scenarios.md, "File warehouses").
func (e *env) fileLimits() error {
	var files []*simWarehouse
	for _, w := range e.whs {
		if w.file != nil {
			files = append(files, w)
		}
	}
	if len(files) == 0 {
		return nil
	}
	w := files[0]
	what := w.file.describe(w.hubID)
	cancelled := false
	for _, st := range e.s.Steps {
		if st.Cancel != nil {
			cancelled = true
		}
		for _, x := range st.Expect {
			if cancelled && x.Timeline != nil && strings.Contains(strings.ToLower(x.Timeline.Says), "reject") {
				// A file partner that cannot cancel says so only by
				// shipping (a CSV shipment or 945 with units): the hub
				// rejects the request when the parcel ships, not before.
				return &skipError{"a file warehouse answers a cancel it cannot honour only with the shipment itself: the scenario expects the rejection before the parcel ships; " + what}
			}
		}
		switch {
		case st.Return != nil:
			// Returns are REST-only in the hub (a file warehouse gets a
			// return.unsupported incident); any warehouse may have shipped.
			return &skipError{"returns are rehearsed for REST warehouses only; " + what}
		case st.Warehouse != nil && st.Warehouse.RenameSKU != nil:
			if fw := e.byID[st.Warehouse.ID]; fw != nil && fw.file != nil {
				return &skipError{"a SKU renamed at the warehouse is rehearsed for REST warehouses only: the hub reads no item master from files; " + fw.file.describe(fw.hubID)}
			}
		}
		for _, x := range st.Expect {
			if why := progressExpectation(x); why != "" {
				return &skipError{"file warehouses send shipments only, no progress events: the scenario expects " + why + "; " + what}
			}
		}
	}
	return nil
}

// progressWords are the timeline entries only a warehouse's progress
// events write (acknowledgement, picking, packing, backorder).
var progressWords = []string{"acknowledged", "picking", "packed", "backorder"}

// progressExpectation says what in x needs a progress event a file
// warehouse never sends ("" when nothing does).
func progressExpectation(x Expectation) string {
	switch {
	case x.Timeline != nil:
		says := strings.ToLower(x.Timeline.Says)
		for _, w := range progressWords {
			if strings.Contains(says, w) {
				return fmt.Sprintf("a timeline entry saying %q", x.Timeline.Says)
			}
		}
	case x.Discrepancy != nil && x.Discrepancy.Kind == "sla.ack":
		return "an sla.ack discrepancy (acknowledgements are not timed without them)"
	case x.Alert != nil && x.Alert.Kind == "sla.ack":
		return "an sla.ack alert (acknowledgements are not timed without them)"
	}
	return ""
}

// clockDrop stamps the files the 3PL writes with the warehouse's
// (simulated) time: the connectors date a stock snapshot by its file's
// mtime, and it must be on the same clock as the shipments' times.
type clockDrop struct {
	filedrop.Drop
	root string
	now  func() time.Time
}

// WriteAtomic writes the file under a temporary dot name, dates it with
// the warehouse's time, then renames it: the hub never sees it undated.
func (d *clockDrop) WriteAtomic(ctx context.Context, dir, name string, data []byte) error {
	folder := filepath.Join(d.root, filepath.FromSlash(dir))
	tmp, err := os.CreateTemp(folder, ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("scenario: write %s/%s: %w", dir, name, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	t := d.now()
	if err == nil {
		err = os.Chtimes(tmp.Name(), t, t)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(folder, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scenario: write %s/%s: %w", dir, name, err)
	}
	return nil
}
