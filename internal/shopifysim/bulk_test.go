package shopifysim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

const runBulk = `mutation($q: String!) {
  bulkOperationRunQuery(query: $q) {
    bulkOperation { id status type query }
    userErrors { field message code }
  }
}`

const readBulk = `query($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt }
}`

// levelsBulk is the location levels shape the hub uses.
func levelsBulk(loc string) string {
	return fmt.Sprintf(`{ location(id: %q) { inventoryLevels { edges { node { item { id sku } quantities(names: ["available"]) { name quantity } } } } } }`, loc)
}

const variantsBulk = `{ productVariants { edges { node { id sku barcode inventoryItem { id tracked } } } } }`

// bulkSetup is setup plus a fulfillment-service location and a generous
// bucket (the fake clock never restores points).
func bulkSetup(t interface {
	tb
	Cleanup(func())
}) (*testBundle, string) {
	t.Helper()
	b := setup(t, func(c *Config) { c.BucketSize = 1e9 })
	return b, b.addFS(t, "WMS")
}

// startBulk runs bulkOperationRunQuery and returns the operation's GID.
func (b *testBundle) startBulk(t tb, query string) string {
	t.Helper()
	p := noUserErrors(t, b.mustGQL(t, runBulk, map[string]any{"q": query}), "bulkOperationRunQuery")
	id := str(p, "bulkOperation", "id")
	if id == "" || str(p, "bulkOperation", "status") != "CREATED" || str(p, "bulkOperation", "query") != query {
		t.Fatalf("bulkOperationRunQuery = %v", p)
	}
	return id
}

// finishBulk waits for every bulk query and returns the operation.
func (b *testBundle) finishBulk(t tb, id string) map[string]any {
	t.Helper()
	b.srv.WaitBulkQueries()
	op, _ := b.mustGQL(t, readBulk, map[string]any{"id": id})["bulkOperation"].(map[string]any)
	if op == nil {
		t.Fatalf("bulkOperation(%s) = null", id)
	}
	return op
}

// download fetches a result URL through the handler and splits its lines.
func (b *testBundle) download(t tb, rawURL string) (lines []map[string]any, size int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	w := b.do(t, http.MethodGet, u.Path, "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", rawURL, w.Code, w.Body.String())
	}
	body := w.Body.String()
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines, len(body)
}

// runToLines runs a bulk query to completion and returns its lines.
func (b *testBundle) runToLines(t tb, query string) ([]map[string]any, map[string]any) {
	t.Helper()
	op := b.finishBulk(t, b.startBulk(t, query))
	if op["status"] != "COMPLETED" {
		t.Fatalf("bulk operation = %v, want COMPLETED", op)
	}
	if op["url"] == nil {
		return nil, op
	}
	lines, size := b.download(t, op["url"].(string))
	if got := str(op, "fileSize"); got != strconv.Itoa(size) {
		t.Fatalf("fileSize = %s, downloaded %d bytes", got, size)
	}
	if got := str(op, "objectCount"); got != strconv.Itoa(len(lines)) {
		t.Fatalf("objectCount = %s, file has %d lines", got, len(lines))
	}
	return lines, op
}

type levelRow struct {
	Item, SKU string
	Available int64
}

// pagedLevels reads a location's levels page by page (pages of 7).
func (b *testBundle) pagedLevels(t tb, loc string) []levelRow {
	t.Helper()
	var out []levelRow
	after := any(nil)
	for {
		data := b.mustGQL(t, `query($id: ID!, $after: String) { location(id: $id) { inventoryLevels(first: 7, after: $after) {
		  nodes { item { id sku } quantities(names: ["available"]) { name quantity } } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"id": loc, "after": after})
		conn := dig(data, "location", "inventoryLevels")
		for _, n := range dig(conn, "nodes").([]any) {
			out = append(out, levelRow{Item: str(n, "item", "id"), SKU: str(n, "item", "sku"), Available: num(n, "quantities", 0, "quantity")})
		}
		if dig(conn, "pageInfo", "hasNextPage") != true {
			return out
		}
		after = str(conn, "pageInfo", "endCursor")
	}
}

// TestBulkQueryMatchesPagedReads checks, on random catalogues, that the
// bulk result of the hub's two shapes equals the paged reads.
func TestBulkQueryMatchesPagedReads(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		b, fs := bulkSetup(rt)
		n := rapid.IntRange(0, 40).Draw(rt, "items")
		items := make([]InventorySeedItem, n)
		for i := range items {
			items[i] = InventorySeedItem{
				SKU:       fmt.Sprintf("SEED-%03d", i),
				Barcode:   rapid.SampledFrom([]string{"", "0123456789012"}).Draw(rt, "barcode"),
				Available: []int{rapid.IntRange(0, 50).Draw(rt, "shop"), rapid.IntRange(0, 1_000_000_000).Draw(rt, "fs")},
			}
		}
		if _, err := b.srv.SeedInventory([]string{b.shopLoc, fs}, items); err != nil {
			rt.Fatal(err)
		}
		for _, loc := range []string{b.shopLoc, fs} {
			lines, _ := b.runToLines(rt, levelsBulk(loc))
			var got []levelRow
			for _, l := range lines {
				if l["__parentId"] != loc {
					rt.Fatalf("line %v: __parentId is not the location %s", l, loc)
				}
				got = append(got, levelRow{Item: str(l, "item", "id"), SKU: str(l, "item", "sku"), Available: num(l, "quantities", 0, "quantity")})
			}
			if diff := cmp.Diff(b.pagedLevels(rt, loc), got); diff != "" {
				rt.Fatalf("bulk levels at %s differ from paged reads (-paged +bulk):\n%s", loc, diff)
			}
		}

		lines, _ := b.runToLines(rt, variantsBulk)
		var paged []map[string]any
		after := any(nil)
		for {
			data := b.mustGQL(rt, `query($after: String) { productVariants(first: 9, after: $after) {
			  edges { node { id sku barcode inventoryItem { id tracked } } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
			for _, e := range dig(data, "productVariants", "edges").([]any) {
				paged = append(paged, dig(e, "node").(map[string]any))
			}
			if dig(data, "productVariants", "pageInfo", "hasNextPage") != true {
				break
			}
			after = str(data, "productVariants", "pageInfo", "endCursor")
		}
		if diff := cmp.Diff(paged, lines); diff != "" {
			rt.Fatalf("bulk variants differ from paged reads (-paged +bulk):\n%s", diff)
		}
	})
}

// TestBulkJSONLShape checks the flattening: one line per connection node,
// nested connection nodes after their parent with its id as __parentId,
// and the operation's counters.
func TestBulkJSONLShape(t *testing.T) {
	t.Parallel()
	b, _ := bulkSetup(t)
	if _, err := b.srv.AddProducts([]ProductInput{{Title: "Mug", Variants: []VariantInput{{SKU: "MUG-1"}}}}); err != nil {
		t.Fatal(err)
	}
	lines, op := b.runToLines(t, `{ products { edges { node { id title variants { edges { node { id sku } } } } } } }`)
	var want []map[string]any
	for _, p := range b.srv.Products() {
		want = append(want, map[string]any{"id": p.ID, "title": p.Title})
		for _, v := range p.Variants {
			want = append(want, map[string]any{"id": v.ID, "sku": v.SKU, "__parentId": p.ID})
		}
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if got, want := str(op, "rootObjectCount"), strconv.Itoa(len(b.srv.Products())); got != want {
		t.Errorf("rootObjectCount = %s, want %s (products only)", got, want)
	}
	if op["completedAt"] == nil || op["errorCode"] != nil || op["partialDataUrl"] != nil {
		t.Errorf("completed operation = %v", op)
	}

	// nodes {…} works like edges { node {…} }, and first is ignored.
	viaNodes, _ := b.runToLines(t, `{ productVariants(first: 1) { nodes { id sku barcode inventoryItem { id tracked } } } }`)
	viaEdges, _ := b.runToLines(t, variantsBulk)
	if len(viaNodes) != 3 {
		t.Errorf("productVariants(first: 1) in bulk = %d lines, want all 3", len(viaNodes))
	}
	if diff := cmp.Diff(viaEdges, viaNodes); diff != "" {
		t.Errorf("nodes and edges differ (-edges +nodes):\n%s", diff)
	}

	// A query with nothing to return completes with no file.
	_, empty := b.runToLines(t, `{ orders { edges { node { id } } } }`)
	if empty["url"] != nil || str(empty, "objectCount") != "0" {
		t.Errorf("empty bulk operation = %v, want url null and objectCount 0", empty)
	}
}

// TestBulkOperationQueries covers node(id:), currentBulkOperation and the
// cost of starting a bulk query.
func TestBulkOperationQueries(t *testing.T) {
	t.Parallel()
	b, _ := bulkSetup(t)
	res := b.gql(t, runBulk, map[string]any{"q": variantsBulk})
	if res.Extensions.Cost.RequestedQueryCost != 10 || res.Extensions.Cost.ActualQueryCost == nil || *res.Extensions.Cost.ActualQueryCost != 10 {
		t.Errorf("bulkOperationRunQuery cost = %+v, want requested and actual 10", res.Extensions.Cost)
	}
	id := str(res.Data, "bulkOperationRunQuery", "bulkOperation", "id")
	b.srv.WaitBulkQueries()
	data := b.mustGQL(t, `query($id: ID!) {
	  node(id: $id) { __typename ... on BulkOperation { id status } }
	  currentBulkOperation { id status type }
	}`, map[string]any{"id": id})
	want := map[string]any{
		"node":                 map[string]any{"__typename": "BulkOperation", "id": id, "status": "COMPLETED"},
		"currentBulkOperation": map[string]any{"id": id, "status": "COMPLETED", "type": "QUERY"},
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := b.mustGQL(t, readBulk, map[string]any{"id": "gid://shopify/BulkOperation/1"})["bulkOperation"]; got != nil {
		t.Errorf("unknown bulk operation = %v, want null", got)
	}

	// bulkOperations: newest first, filters, reverse.
	if err := b.srv.FailNextBulkQuery("TIMEOUT"); err != nil {
		t.Fatal(err)
	}
	failed := b.startBulk(t, variantsBulk)
	b.srv.WaitBulkQueries()
	const list = `query($q: String, $r: Boolean) { bulkOperations(first: 5, query: $q, reverse: $r) { nodes { id status } } }`
	for _, tc := range []struct {
		query   any
		reverse bool
		want    []any
	}{
		{nil, false, []any{map[string]any{"id": failed, "status": "FAILED"}, map[string]any{"id": id, "status": "COMPLETED"}}},
		{nil, true, []any{map[string]any{"id": id, "status": "COMPLETED"}, map[string]any{"id": failed, "status": "FAILED"}}},
		{"status:completed operation_type:query", false, []any{map[string]any{"id": id, "status": "COMPLETED"}}},
		{"operation_type:mutation", false, []any{}},
	} {
		got := dig(b.mustGQL(t, list, map[string]any{"q": tc.query, "r": tc.reverse}), "bulkOperations", "nodes")
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("bulkOperations(query: %v, reverse: %v) (-want +got):\n%s", tc.query, tc.reverse, diff)
		}
	}
	if res := b.gql(t, list, map[string]any{"q": "created_at:>2026"}); len(res.Errors) == 0 {
		t.Errorf("unsupported filter: %s, want an error", res.Raw)
	}
}

// TestBulkConcurrencyLimit checks the limit on bulk queries in progress:
// OPERATION_IN_PROGRESS with a limit of 1, LIMIT_REACHED above it, and a
// new operation once one finished.
func TestBulkConcurrencyLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit int
		code  string
	}{{1, "OPERATION_IN_PROGRESS"}, {DefaultBulkQueryLimit, "LIMIT_REACHED"}} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			b, _ := bulkSetup(t)
			if tc.limit != DefaultBulkQueryLimit {
				b.srv.SetBulkQueryLimit(tc.limit)
			}
			release := b.srv.HoldBulkQueries()
			defer release()
			var ids []string
			for range tc.limit {
				ids = append(ids, b.startBulk(t, variantsBulk))
			}
			op := b.mustGQL(t, readBulk, map[string]any{"id": ids[0]})
			if str(op, "bulkOperation", "status") != "CREATED" {
				t.Errorf("held operation = %v, want CREATED", op)
			}
			data := b.mustGQL(t, runBulk, map[string]any{"q": variantsBulk})
			if dig(data, "bulkOperationRunQuery", "bulkOperation") != nil || str(data, "bulkOperationRunQuery", "userErrors", 0, "code") != tc.code {
				t.Fatalf("bulk query over the limit = %v, want userError %s", data, tc.code)
			}
			release()
			for _, id := range ids {
				if op := b.finishBulk(t, id); op["status"] != "COMPLETED" {
					t.Errorf("operation %s = %v", id, op)
				}
			}
			b.finishBulk(t, b.startBulk(t, variantsBulk))
		})
	}
}

// TestBulkFailures covers refused queries and failed operations.
func TestBulkFailures(t *testing.T) {
	t.Parallel()
	t.Run("invalid queries", func(t *testing.T) {
		t.Parallel()
		b, _ := bulkSetup(t)
		for _, q := range []string{
			`{ productVariants { edges { node { id nope } } } }`,
			`{ shop { name } }`,
			`{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node { id location { inventoryLevels { edges { node { id } } } } } } } } } } } } } } }`,
			`mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { deletedWebhookSubscriptionId } }`,
			`query($n: Int) { products(first: $n) { edges { node { id } } } }`,
			`{ shop { name } products { edges { node { id } } } }`,
			`{ products {`,
		} {
			data := b.mustGQL(t, runBulk, map[string]any{"q": q})
			if dig(data, "bulkOperationRunQuery", "bulkOperation") != nil || str(data, "bulkOperationRunQuery", "userErrors", 0, "code") != "INVALID" ||
				!strings.HasPrefix(str(data, "bulkOperationRunQuery", "userErrors", 0, "message"), "Invalid bulk query: ") {
				t.Errorf("bulkOperationRunQuery(%s) = %v, want an INVALID userError", q, data)
			}
		}
	})
	t.Run("failed operation", func(t *testing.T) {
		t.Parallel()
		b, fs := bulkSetup(t)
		items := make([]InventorySeedItem, 10)
		for i := range items {
			items[i] = InventorySeedItem{SKU: fmt.Sprintf("F-%d", i), Available: []int{i}}
		}
		if _, err := b.srv.SeedInventory([]string{fs}, items); err != nil {
			t.Fatal(err)
		}
		if err := b.srv.FailNextBulkQuery("TIMEOUT"); err != nil {
			t.Fatal(err)
		}
		op := b.finishBulk(t, b.startBulk(t, levelsBulk(fs)))
		if op["status"] != "FAILED" || op["errorCode"] != "TIMEOUT" || op["url"] != nil || op["completedAt"] != nil || op["partialDataUrl"] == nil {
			t.Fatalf("failed operation = %v", op)
		}
		lines, _ := b.download(t, op["partialDataUrl"].(string))
		if len(lines) == 0 || len(lines) >= 12 {
			t.Errorf("partial data has %d lines, want some of the 12 levels", len(lines))
		}
		if err := b.srv.FailNextBulkQuery("NOPE"); err == nil {
			t.Error("FailNextBulkQuery(NOPE) = nil, want an error")
		}
		// The failure was for one operation only.
		if _, op := b.runToLines(t, levelsBulk(fs)); str(op, "objectCount") != "12" {
			t.Errorf("next operation = %v, want 12 objects", op)
		}
	})
	t.Run("not implemented field", func(t *testing.T) {
		t.Parallel()
		b, _ := bulkSetup(t)
		op := b.finishBulk(t, b.startBulk(t, `{ products { edges { node { id giftCardTemplateSuffix } } } }`))
		if op["status"] != "FAILED" || op["errorCode"] != "INTERNAL_SERVER_ERROR" {
			t.Errorf("operation with an unimplemented field = %v, want FAILED INTERNAL_SERVER_ERROR", op)
		}
	})
}

// TestSeedInventory checks the seeded levels and the refusal of bad seeds.
func TestSeedInventory(t *testing.T) {
	t.Parallel()
	b, fs := bulkSetup(t)
	vs, err := b.srv.SeedInventory([]string{fs, b.shopLoc}, []InventorySeedItem{{SKU: "S-1", Barcode: "123", Available: []int{7, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].SKU != "S-1" || vs[0].Barcode != "123" {
		t.Fatalf("SeedInventory = %+v", vs)
	}
	for loc, want := range map[string]int{fs: 7, b.shopLoc: 3} {
		if q, ok := b.srv.InventoryLevel("S-1", loc); !ok || q.Available != want {
			t.Errorf("level at %s = %+v, %v; want available %d", loc, q, ok, want)
		}
	}
	for name, tc := range map[string]struct {
		locs  []string
		items []InventorySeedItem
	}{
		"unknown location": {[]string{"gid://shopify/Location/1"}, []InventorySeedItem{{SKU: "X", Available: []int{1}}}},
		"no SKU":           {[]string{fs}, []InventorySeedItem{{Available: []int{1}}}},
		"count mismatch":   {[]string{fs}, []InventorySeedItem{{SKU: "X", Available: []int{1, 2}}}},
		"negative":         {[]string{fs}, []InventorySeedItem{{SKU: "X", Available: []int{-1}}}},
	} {
		before := len(b.srv.Products())
		if _, err := b.srv.SeedInventory(tc.locs, tc.items); err == nil {
			t.Errorf("%s: SeedInventory = nil error", name)
		}
		if len(b.srv.Products()) != before {
			t.Errorf("%s: a refused seed created products", name)
		}
	}
}
