package shopify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/shopifyschema"
	"github.com/crossdock/crossdock/internal/shopifysim"
)

// bulkSim is the simulator (no products, unlimited bucket) behind
// httptest, a client whose Sleep lets running bulk queries finish instead
// of waiting, and a fulfillment-service location.
type bulkSim struct {
	sim    *shopifysim.Server
	client *Client
	loc    string // the service's location
	shop   string // the shop's location
	srv    *httptest.Server

	mu     sync.Mutex
	sleeps []time.Duration
	onWait func() // called by Sleep before waiting for bulk queries
}

func setupBulk(t interface {
	Helper()
	Fatal(...any)
	Cleanup(func())
}) *bulkSim {
	t.Helper()
	sim := shopifysim.New(shopifysim.Config{AccessToken: "shpat_sim", BucketSize: 1e9, RestoreRate: 1e9, Seed: 3})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	b := &bulkSim{sim: sim, srv: srv}
	b.client = NewClient(ClientConfig{BaseURL: srv.URL, AccessToken: "shpat_sim", HTTPClient: srv.Client(), Sleep: b.sleep})
	_, loc, err := b.client.CreateFulfillmentService(ctxT, "crossdock-bulk", "")
	if err != nil {
		t.Fatal(err)
	}
	b.loc, b.shop = loc, sim.Locations()[0].ID
	return b
}

// sleep records d and, instead of waiting, lets bulk queries finish.
func (b *bulkSim) sleep(ctx context.Context, d time.Duration) error {
	b.mu.Lock()
	b.sleeps = append(b.sleeps, d)
	f := b.onWait
	b.mu.Unlock()
	if f != nil {
		f()
	}
	b.sim.WaitBulkQueries()
	return ctx.Err()
}

func (b *bulkSim) seed(t interface{ Fatal(...any) }, n int, qty func(i, loc int) int) {
	items := make([]shopifysim.InventorySeedItem, n)
	for i := range items {
		items[i] = shopifysim.InventorySeedItem{SKU: fmt.Sprintf("BULK-%06d", i), Available: []int{qty(i, 0), qty(i, 1)}}
	}
	if _, err := b.sim.SeedInventory([]string{b.shop, b.loc}, items); err != nil {
		t.Fatal(err)
	}
}

// TestBulkInventoryLevelsMatchesPaged checks on random stock that the bulk
// read returns exactly what the paged read does, at both locations.
func TestBulkInventoryLevelsMatchesPaged(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		b := setupBulk(rt)
		n := rapid.IntRange(0, 300).Draw(rt, "items")
		qs := rapid.SliceOfN(rapid.IntRange(0, 1_000_000_000), 2*n, 2*n).Draw(rt, "quantities")
		b.seed(rt, n, func(i, loc int) int { return qs[2*i+loc] })
		for _, loc := range []string{b.shop, b.loc} {
			paged, err := b.client.AllInventoryLevels(ctxT, loc)
			if err != nil {
				rt.Fatal(err)
			}
			bulk, err := b.client.BulkInventoryLevels(ctxT, loc)
			if err != nil {
				rt.Fatal(err)
			}
			if diff := cmp.Diff(paged, bulk); diff != "" {
				rt.Fatalf("levels at %s (-paged +bulk):\n%s", loc, diff)
			}
		}
	})
}

// TestBulkInventoryLevelsWaitsForOperationsInProgress checks that a bulk
// query refused because another is in progress waits and succeeds.
func TestBulkInventoryLevelsWaitsForOperationsInProgress(t *testing.T) {
	t.Parallel()
	b := setupBulk(t)
	b.seed(t, 3, func(i, loc int) int { return i + loc })
	b.sim.SetBulkQueryLimit(1)
	release := b.sim.HoldBulkQueries()
	defer release()
	var other struct {
		P struct {
			Op *bulkOperation `json:"bulkOperation"`
		} `json:"bulkOperationRunQuery"`
	}
	if err := b.client.Do(ctxT, "BulkOperationRunQuery", map[string]any{"query": `{ products { edges { node { id } } } }`}, &other); err != nil || other.P.Op == nil {
		t.Fatalf("starting the other operation: %v", err)
	}
	b.mu.Lock()
	b.onWait = release // the other operation ends while the client waits
	b.mu.Unlock()
	levels, err := b.client.BulkInventoryLevels(ctxT, b.loc)
	if err != nil {
		t.Fatal(err)
	}
	want := []InventoryLevel{}
	for i, v := range b.sim.Products() {
		want = append(want, InventoryLevel{InventoryItemID: v.Variants[0].InventoryItemID, SKU: v.Variants[0].SKU, Available: i + 1})
	}
	if diff := cmp.Diff(want, levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	// One wait for the other operation (it ends meanwhile), one poll.
	if diff := cmp.Diff([]time.Duration{DefaultBulkPoll, DefaultBulkPoll}, b.sleeps); diff != "" {
		t.Errorf("sleeps (-want +got), want a wait before starting and one poll:\n%s", diff)
	}
}

// breakFirstDownload cuts the first bulk result download after 100 bytes.
type breakFirstDownload struct {
	next      http.RoundTripper
	mu        sync.Mutex
	downloads int
}

func (t *breakFirstDownload) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet {
		return resp, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.downloads++
	if t.downloads == 1 {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{failingReader{io.LimitReader(resp.Body, 100)}, resp.Body}
	}
	return resp, nil
}

// TestBulkInventoryLevelsRetriesBrokenDownload checks that a download cut
// midway is fetched again rather than failing the read.
func TestBulkInventoryLevelsRetriesBrokenDownload(t *testing.T) {
	t.Parallel()
	b := setupBulk(t)
	b.seed(t, 50, func(i, loc int) int { return i * loc })
	tr := &breakFirstDownload{next: b.srv.Client().Transport}
	c := NewClient(ClientConfig{BaseURL: b.srv.URL, AccessToken: "shpat_sim", HTTPClient: &http.Client{Transport: tr}, Sleep: b.sleep})
	got, err := c.BulkInventoryLevels(ctxT, b.loc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.AllInventoryLevels(ctxT, b.loc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("levels (-paged +bulk):\n%s", diff)
	}
	if tr.downloads != 2 {
		t.Errorf("downloads = %d, want 2 (the broken one and its retry)", tr.downloads)
	}
}

// TestBulkQueryFailures covers operations that end without a result and
// queries Shopify refuses.
func TestBulkQueryFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      string
		permanent bool
	}{{"TIMEOUT", true}, {"ACCESS_DENIED", true}, {"INTERNAL_SERVER_ERROR", false}} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			b := setupBulk(t)
			b.seed(t, 6, func(i, loc int) int { return i })
			if err := b.sim.FailNextBulkQuery(tc.code); err != nil {
				t.Fatal(err)
			}
			_, err := b.client.BulkInventoryLevels(ctxT, b.loc)
			var be *BulkOperationError
			if !errors.As(err, &be) || be.Status != "FAILED" || be.ErrorCode != tc.code || be.PartialDataURL == "" || be.ObjectCount == 0 {
				t.Fatalf("err = %v (%+v), want a FAILED %s BulkOperationError with partial data", err, be, tc.code)
			}
			if connector.IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tc.permanent, tc.permanent)
			}
		})
	}
	t.Run("refused query", func(t *testing.T) {
		t.Parallel()
		b := setupBulk(t)
		_, err := b.client.BulkQuery(ctxT, `{ shop { name } }`, time.Millisecond)
		var uerr *UserErrorsError
		if !errors.As(err, &uerr) || !uerr.HasCode("INVALID") || !connector.IsPermanent(err) {
			t.Errorf("err = %v, want a permanent INVALID user error", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		b := setupBulk(t)
		ctx, cancel := context.WithCancel(ctxT)
		b.onWait = cancel
		_, err := b.client.BulkQuery(ctx, `{ products { edges { node { id } } } }`, time.Millisecond)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

// TestBulkInventoryLevelsLocation covers location IDs that are not
// Location GIDs and a location that does not exist.
func TestBulkInventoryLevelsLocation(t *testing.T) {
	t.Parallel()
	b := setupBulk(t)
	for _, id := range []string{"", "42", "gid://shopify/Order/1", `gid://shopify/Location/1") { id } x: location(id: "1`, "gid://shopify/Location/1?x=1"} {
		if _, err := b.client.BulkInventoryLevels(ctxT, id); err == nil || !connector.IsPermanent(err) {
			t.Errorf("BulkInventoryLevels(%q) = %v, want a permanent error", id, err)
		}
	}
	if _, err := b.client.BulkInventoryLevels(ctxT, "gid://shopify/Location/1"); !errors.Is(err, ErrNotFound) || !connector.IsPermanent(err) {
		t.Errorf("unknown location: err = %v, want permanent ErrNotFound", err)
	}
	if levels, err := b.client.BulkInventoryLevels(ctxT, b.loc); err != nil || len(levels) != 0 {
		t.Errorf("empty location = %v, %v; want no levels and no error", levels, err)
	}
}

// TestBulkInventoryLevelsQueryValidates validates the inner bulk query
// against the 2026-07 schema.
func TestBulkInventoryLevelsQueryValidates(t *testing.T) {
	t.Parallel()
	if _, errs := shopifyschema.Validate(fmt.Sprintf(bulkInventoryLevelsQuery, `"gid://shopify/Location/1"`)); errs != nil {
		t.Fatal(errs)
	}
}

// TestParseBulkLevels covers the JSONL decoding: long lines, blank lines,
// and malformed lines reported with their number.
func TestParseBulkLevels(t *testing.T) {
	t.Parallel()
	const loc = "gid://shopify/Location/7"
	long := strings.Repeat("x", 200<<10)
	good := `{"item":{"id":"gid://shopify/InventoryItem/1","sku":"A"},"quantities":[{"name":"available","quantity":3}],"__parentId":"` + loc + `"}`
	got, err := parseBulkLevels(strings.NewReader(good+"\n\n"+
		`{"item":{"id":"gid://shopify/InventoryItem/2","sku":"`+long+`"},"quantities":[{"name":"available","quantity":0}]}`+"\n"+
		`{"item":{"id":"gid://shopify/InventoryItem/3","sku":null},"quantities":[{"name":"available","quantity":-2}]}`), loc)
	want := []InventoryLevel{
		{InventoryItemID: "gid://shopify/InventoryItem/1", SKU: "A", Available: 3},
		{InventoryItemID: "gid://shopify/InventoryItem/2", SKU: long, Available: 0},
		{InventoryItemID: "gid://shopify/InventoryItem/3", Available: -2},
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, bad := range map[string]string{
		"not JSON":         "{\"item\":",
		"no item":          `{"quantities":[{"name":"available","quantity":1}]}`,
		"no available":     `{"item":{"id":"gid://shopify/InventoryItem/1"},"quantities":[{"name":"on_hand","quantity":1}]}`,
		"null available":   `{"item":{"id":"gid://shopify/InventoryItem/1"},"quantities":[{"name":"available","quantity":null}]}`,
		"other parent":     `{"item":{"id":"gid://shopify/InventoryItem/1"},"quantities":[{"name":"available","quantity":1}],"__parentId":"gid://shopify/Location/8"}`,
		"quantity as text": `{"item":{"id":"gid://shopify/InventoryItem/1"},"quantities":[{"name":"available","quantity":"1"}]}`,
	} {
		_, err := parseBulkLevels(strings.NewReader(good+"\n"+bad+"\n"), loc)
		if err == nil || !connector.IsPermanent(err) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: err = %v, want a permanent error about line 2", name, err)
		}
	}
}

// failingReader fails after its content.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// TestParseBulkLevelsReadError checks that a broken download is a
// transient error.
func TestParseBulkLevelsReadError(t *testing.T) {
	t.Parallel()
	_, err := parseBulkLevels(failingReader{strings.NewReader(`{"item":{"id":"gid://shopify/InventoryItem/1"},"quantities":[{"name":"available","quantity":1}]}`)}, "gid://shopify/Location/1")
	if err == nil || connector.IsPermanent(err) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("err = %v, want a transient read error", err)
	}
}

// BenchmarkBulkInventoryLevels reads 200,000 levels (100,000 SKUs at two
// locations) per op with BulkInventoryLevels against the simulator over
// HTTP: the bulk query's execution, the JSONL download and decoding. The
// client's polling waits for the operation to finish instead of sleeping,
// so polling latency is not included.
func BenchmarkBulkInventoryLevels(b *testing.B) {
	s := setupBulk(b)
	const skus = 100_000
	s.seed(b, skus, func(i, loc int) int { return (i*7 + loc) % 1000 })
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, loc := range []string{s.shop, s.loc} {
			levels, err := s.client.BulkInventoryLevels(ctxT, loc)
			if err != nil {
				b.Fatal(err)
			}
			n += len(levels)
		}
		if n != 2*skus {
			b.Fatalf("read %d levels, want %d", n, 2*skus)
		}
	}
	b.ReportMetric(2*skus, "levels/op")
}
