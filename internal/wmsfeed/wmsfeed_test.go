package wmsfeed_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

const (
	shop      = "a.myshopify.com"
	warehouse = "paris"
	ref       = "CD-2001"
	orderID   = "gid://shopify/Order/2001"
	cursorKey = "wms:paris:events"
)

// page is one scripted answer of the feed: the events after a cursor and
// the cursor that follows them.
type page struct {
	events []connector.Event
	next   string
}

// feed is a connector.WMS whose Events answers from a script keyed by
// cursor ("" is the start) and records the cursors it was asked for.
type feed struct {
	connector.WMS // nil: only Events is called

	mu    sync.Mutex
	pages map[string]page
	asked []string
}

func (f *feed) Events(_ context.Context, cursor string, _ int) ([]connector.Event, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, cursor)
	p, ok := f.pages[cursor]
	if !ok {
		return nil, cursor, nil // nothing new
	}
	return slices.Clone(p.events), p.next, nil
}

func (f *feed) script(pages map[string]page) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages = pages
}

func (f *feed) askedFor() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// jobs inserts through the real River client unless fail is set.
type jobs struct {
	next queue.InsertTx
	mu   sync.Mutex
	fail bool
}

func (j *jobs) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	j.mu.Lock()
	fail := j.fail
	j.mu.Unlock()
	if fail {
		return nil, errors.New("insert refused by the test")
	}
	return j.next.InsertTx(ctx, tx, args, opts)
}

func (j *jobs) setFail(v bool) {
	j.mu.Lock()
	j.fail = v
	j.mu.Unlock()
}

type bundle struct {
	st   *store.Store
	feed *feed
	jobs *jobs
	p    *wmsfeed.Poller
}

// setup stores warehouse order CD-2001 (2 × SKU-1), transmitted to paris,
// and returns a poller of paris's scripted feed.
func setup(t *testing.T, d store.Dialect) *bundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, d)
	client, err := queue.NewClient(queue.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	wo := &order.WarehouseOrder{ExternalRef: ref, Shop: shop, Warehouse: warehouse, OrderID: orderID, OrderName: "#2001",
		FulfillmentOrderID: "gid://shopify/FulfillmentOrder/2001",
		Lines:              []order.Line{{LineNo: 1, SKU: "SKU-1", Quantity: 2, FulfillmentOrderLineItemID: "gid://shopify/FulfillmentOrderLineItem/1"}}}
	if ins, err := store.InsertWarehouseOrder(ctx, st.Write, wo, order.ProgressSent); err != nil || !ins {
		t.Fatalf("insert warehouse order: %v %v", ins, err)
	}
	b := &bundle{st: st, feed: &feed{}, jobs: &jobs{next: client}}
	b.p = &wmsfeed.Poller{Store: st, Jobs: b.jobs, Shop: shop, Warehouse: warehouse, WMS: b.feed, PageSize: 10,
		Logger: slog.New(slog.DiscardHandler)}
	return b
}

var t0 = time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)

func ev(id string, typ connector.EventType, minute int) connector.Event {
	return connector.Event{ID: id, Type: typ, ExternalRef: ref, At: t0.Add(time.Duration(minute) * time.Minute)}
}

func shippedEv(id, shipmentID string, minute int) connector.Event {
	e := ev(id, connector.EventShipped, minute)
	e.Shipment = &order.Shipment{ID: shipmentID, ExternalRef: ref, ShippedAt: e.At,
		Lines:    []order.ShipmentLine{{LineNo: 1, SKU: "SKU-1", Quantity: 2}},
		Packages: []order.Package{{ID: "PK1", Carrier: "UPS", TrackingNumber: "1Z999", Lines: []order.ShipmentLine{{LineNo: 1, SKU: "SKU-1", Quantity: 2}}}}}
	return e
}

// poll runs PollOnce n times and fails on an error.
func (b *bundle) poll(t *testing.T, n int) {
	t.Helper()
	for range n {
		if _, err := b.p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func (b *bundle) progress(t *testing.T) order.Progress {
	t.Helper()
	wo, err := store.GetWarehouseOrderByRef(context.Background(), b.st.Read, shop, ref)
	if err != nil {
		t.Fatal(err)
	}
	return wo.Progress
}

func (b *bundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.st.Read.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (b *bundle) outcome(t *testing.T, eventID string) string {
	t.Helper()
	var o string
	err := b.st.Read.QueryRowContext(context.Background(), `SELECT outcome FROM wms_event WHERE shop = $1 AND warehouse = $2 AND event_id = $3`,
		shop, warehouse, eventID).Scan(&o)
	if err != nil {
		t.Fatalf("outcome of %s: %v", eventID, err)
	}
	return o
}

// kinds lists the kinds of the order's timeline entries.
func (b *bundle) kinds(t *testing.T) []string {
	t.Helper()
	tl, err := store.Timeline(context.Background(), b.st.Read, shop, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, e := range tl {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (b *bundle) cursor(t *testing.T) string {
	t.Helper()
	c, err := store.Cursor(context.Background(), b.st.Read, shop, cursorKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDuplicateEventsAppliedOnce(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			b := setup(t, d)
			b.feed.script(map[string]page{
				// e1 twice in one page; e2 again on the next page.
				"":  {[]connector.Event{ev("e1", connector.EventAcknowledged, 1), ev("e1", connector.EventAcknowledged, 1), ev("e2", connector.EventPicking, 2)}, "3"},
				"3": {[]connector.Event{ev("e2", connector.EventPicking, 2), ev("e3", connector.EventPacked, 3)}, "5"},
				"5": {[]connector.Event{ev("e3", connector.EventPacked, 3)}, "6"},
				"6": {nil, "6"},
			})
			b.poll(t, 4)
			if got := b.progress(t); got != order.ProgressPacked {
				t.Errorf("progress %s, want packed", got)
			}
			if n := b.count(t, `SELECT COUNT(*) FROM wms_event WHERE shop = $1`, shop); n != 3 {
				t.Errorf("%d events stored, want 3", n)
			}
			if got, want := b.kinds(t), []string{"acknowledged", "picking", "packed"}; !slices.Equal(got, want) {
				t.Errorf("timeline kinds %v, want %v (each event once)", got, want)
			}
			for _, id := range []string{"e1", "e2", "e3"} {
				if o := b.outcome(t, id); o != "applied" {
					t.Errorf("outcome of %s = %q, want applied", id, o)
				}
			}
			h := b.p.Health()
			if h.Events != 3 || h.Duplicates != 3 {
				t.Errorf("health counts %d events and %d duplicates, want 3 and 3", h.Events, h.Duplicates)
			}
			if h.LastError != "" || h.LastSuccess.IsZero() {
				t.Errorf("health %+v after successful polls", h)
			}
			if c := b.cursor(t); c != "6" {
				t.Errorf("cursor %q, want 6", c)
			}
		})
	}
}

func TestLateAcknowledgementIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	b.feed.script(map[string]page{
		"":  {[]connector.Event{shippedEv("e5", "SH1", 5)}, "1"},
		"1": {[]connector.Event{ev("e1", connector.EventAcknowledged, 1), ev("e2", connector.EventPacked, 2)}, "3"},
	})
	b.poll(t, 2)
	if got := b.progress(t); got != order.ProgressShipped {
		t.Fatalf("progress %s, want shipped", got)
	}
	for id, typ := range map[string]string{"e1": "acknowledged", "e2": "packed"} {
		o := b.outcome(t, id)
		if !strings.HasPrefix(o, "ignored: ") || !strings.Contains(o, typ) || !strings.Contains(o, "shipped") {
			t.Errorf("outcome of late %s = %q, want ignored: %s arrived after shipped", id, o, typ)
		}
	}
	if got, want := b.kinds(t), []string{"shipped"}; !slices.Equal(got, want) {
		t.Errorf("timeline kinds %v, want %v", got, want)
	}
}

func TestShipmentStoredOnceAndFulfilEnqueuedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		pages map[string]page
	}{
		{"two pages", map[string]page{
			"":  {[]connector.Event{ev("e1", connector.EventAcknowledged, 1), shippedEv("e4", "SH1", 4)}, "2"},
			"2": {[]connector.Event{shippedEv("e4", "SH1", 4), shippedEv("e9", "SH1", 9)}, "4"}, // same event again, then same shipment under a new id
		}},
		{"one page", map[string]page{
			"": {[]connector.Event{shippedEv("e4", "SH1", 4), shippedEv("e9", "SH1", 9)}, "2"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, store.SQLite)
			b.feed.script(tc.pages)
			b.poll(t, len(tc.pages))
			ships, err := store.ShipmentsOf(context.Background(), b.st.Read, shop, ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(ships) != 1 || ships[0].Shipment.ID != "SH1" || ships[0].Warehouse != warehouse {
				t.Fatalf("shipments %+v, want SH1 once", ships)
			}
			if n := b.count(t, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, wmsfeed.FulfilArgs{}.Kind()); n != 1 {
				t.Errorf("%d shipment.fulfil jobs, want 1", n)
			}
			var args string
			if err := b.st.Read.QueryRow(`SELECT json(args) FROM river_job WHERE kind = 'shipment.fulfil'` /* SQLite stores JSONB */).Scan(&args); err != nil {
				t.Fatal(err)
			}
			if want := `"shipment_id":` + strconv.FormatInt(ships[0].ID, 10); !strings.Contains(strings.ReplaceAll(args, " ", ""), want) {
				t.Errorf("job args %s do not name shipment %d", args, ships[0].ID)
			}
			if got := b.progress(t); got != order.ProgressShipped {
				t.Errorf("progress %s, want shipped", got)
			}
			if o := b.outcome(t, "e9"); o != "duplicate shipment" {
				t.Errorf("outcome of e9 = %q, want duplicate shipment", o)
			}
			if n := b.count(t, `SELECT COUNT(*) FROM timeline WHERE subject = $1 AND kind = 'shipped'`, orderID); n != 1 {
				t.Errorf("%d shipped entries on the timeline, want 1", n)
			}
		})
	}
}

func TestCursorCommitsWithPage(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	ctx := context.Background()
	b.feed.script(map[string]page{
		"":   {[]connector.Event{ev("e1", connector.EventAcknowledged, 1)}, "c1"},
		"c1": {[]connector.Event{ev("e2", connector.EventPacked, 2), shippedEv("e3", "SH1", 3)}, "c2"},
	})
	b.poll(t, 1)
	if c := b.cursor(t); c != "c1" {
		t.Fatalf("cursor %q after the first page, want c1", c)
	}

	// The second page's transaction fails (the job insert is refused).
	b.jobs.setFail(true)
	if _, err := b.p.PollOnce(ctx); err == nil {
		t.Fatal("PollOnce succeeded although the transaction failed")
	}
	if c := b.cursor(t); c != "c1" {
		t.Errorf("cursor %q after a failed page, want c1 (unchanged)", c)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM wms_event WHERE shop = $1`, shop); n != 1 {
		t.Errorf("%d events stored after a failed page, want 1 (the page rolled back)", n)
	}
	if got := b.progress(t); got != order.ProgressAcknowledged {
		t.Errorf("progress %s after a failed page, want acknowledged", got)
	}
	if h := b.p.Health(); h.LastError == "" || h.Events != 1 {
		t.Errorf("health %+v after a failed page, want an error and 1 event", h)
	}

	// The page is read again and applied.
	b.jobs.setFail(false)
	b.poll(t, 1)
	if got, want := b.feed.askedFor(), []string{"", "c1", "c1"}; !slices.Equal(got, want) {
		t.Errorf("cursors asked %q, want %q", got, want)
	}
	if c := b.cursor(t); c != "c2" {
		t.Errorf("cursor %q, want c2", c)
	}
	if got := b.progress(t); got != order.ProgressShipped {
		t.Errorf("progress %s, want shipped", got)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM river_job WHERE kind = 'shipment.fulfil'`); n != 1 {
		t.Errorf("%d shipment.fulfil jobs, want 1", n)
	}
	if h := b.p.Health(); h.LastError != "" || h.Events != 3 || h.Duplicates != 0 {
		t.Errorf("health %+v, want no error, 3 events, 0 duplicates", h)
	}
}

func TestUnknownReferenceQuarantined(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	stray := ev("e7", connector.EventShipped, 7)
	stray.ExternalRef = "CD-404"
	noDetail := ev("e8", connector.EventShipped, 8) // known order, no shipment
	b.feed.script(map[string]page{"": {[]connector.Event{stray, noDetail}, "2"}})
	b.poll(t, 1)
	if o := b.outcome(t, "e7"); !strings.HasPrefix(o, "quarantined") || !strings.Contains(o, "unknown external reference") {
		t.Errorf("outcome of e7 = %q, want quarantined: unknown external reference", o)
	}
	var typ, ref string
	if err := b.st.Read.QueryRow(`SELECT type, external_ref FROM wms_event WHERE event_id = 'e7'`).Scan(&typ, &ref); err != nil || typ != "shipped" || ref != "CD-404" {
		t.Errorf("stored e7 = %q %q (%v), want shipped CD-404", typ, ref, err)
	}
	if o := b.outcome(t, "e8"); !strings.HasPrefix(o, "quarantined") {
		t.Errorf("outcome of e8 = %q, want quarantined", o)
	}
	if got := b.progress(t); got != order.ProgressSent {
		t.Errorf("progress %s, want sent (nothing applied)", got)
	}
	if n := b.count(t, `SELECT COUNT(*) FROM shipment`); n != 0 {
		t.Errorf("%d shipments stored, want 0", n)
	}
	if c := b.cursor(t); c != "2" {
		t.Errorf("cursor %q, want 2 (a quarantined event does not block the feed)", c)
	}
}

// A warehouse order shipped in two shipments: both are stored and both
// get a fulfilment job, and the second shipped event's outcome says it was
// applied, not ignored.
func TestPartialShipmentsBothApplied(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	first, second := shippedEv("e4", "SH1", 4), shippedEv("e6", "SH2", 6)
	first.Shipment.Lines[0].Quantity, second.Shipment.Lines[0].Quantity = 1, 1
	second.Shipment.Packages[0].TrackingNumber = "1Z998"
	b.feed.script(map[string]page{"": {[]connector.Event{first}, "1"}, "1": {[]connector.Event{second}, "2"}})
	b.poll(t, 2)
	ships, err := store.ShipmentsOf(context.Background(), b.st.Read, shop, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ships) != 2 {
		t.Fatalf("%d shipments stored, want 2", len(ships))
	}
	if n := b.count(t, `SELECT COUNT(*) FROM river_job WHERE kind = 'shipment.fulfil'`); n != 2 {
		t.Errorf("%d shipment.fulfil jobs, want 2", n)
	}
	if o := b.outcome(t, "e4"); o != "applied" {
		t.Errorf("outcome of e4 = %q, want applied", o)
	}
	if o := b.outcome(t, "e6"); strings.HasPrefix(o, "ignored") {
		t.Errorf("outcome of e6 = %q, but its shipment was stored and its fulfilment enqueued", o)
	}
}

// Events without a type or a time are stored and quarantined with what they
// lack, and the events after them in the page are applied: one bad event
// never stalls a warehouse's feed.
func TestIncompleteEventsQuarantinedFeedGoesOn(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	noType := ev("e1", "", 1)
	noTime := ev("e2", connector.EventAcknowledged, 2)
	noTime.At = time.Time{}
	good := ev("e3", connector.EventAcknowledged, 3)
	b.feed.script(map[string]page{"": {[]connector.Event{noType, noTime, good}, "3"}})
	b.poll(t, 1)
	if o := b.outcome(t, "e1"); o != "quarantined: no type" {
		t.Errorf("outcome of e1 = %q, want quarantined: no type", o)
	}
	if o := b.outcome(t, "e2"); o != "quarantined: no at" {
		t.Errorf("outcome of e2 = %q, want quarantined: no at", o)
	}
	if got := b.progress(t); got != order.ProgressAcknowledged {
		t.Errorf("progress %s, want acknowledged (e3 applied)", got)
	}
	if c := b.cursor(t); c != "3" {
		t.Errorf("cursor %q, want 3", c)
	}
}
