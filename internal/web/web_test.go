package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/web"
)

const shop = "a.myshopify.com"

const (
	heldID     = "gid://shopify/Order/1001"
	progressID = "gid://shopify/Order/1002"
)

// timelines are what each order's page must show, in this order.
var timelines = map[string][]string{
	heldID:     {"order received", "no warehouse has SKU-9", `address says <script>alert("x")</script> & more`},
	progressID: {"order received", "routed to paris", "acknowledged by paris"},
}

type bundle struct {
	srv *httptest.Server
	st  *store.Store
}

// setup serves web.Mount on a store holding two orders: #1001 held and
// #1002 in progress at paris, each with a timeline.
func setup(t *testing.T, d store.Dialect) *bundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, d)
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for _, o := range []struct{ id, name, state, reason string }{
			{heldID, "#1001", store.OrderHeld, "no stock anywhere"},
			{progressID, "#1002", store.OrderInProgress, ""},
		} {
			if _, err := store.UpsertOrder(ctx, tx, &store.Order{Shop: shop, OrderID: o.id, Name: o.name}); err != nil {
				return err
			}
			if err := store.SetOrderState(ctx, tx, shop, o.id, o.state, o.reason); err != nil {
				return err
			}
			for i, msg := range timelines[o.id] {
				if err := store.AddTimeline(ctx, tx, store.Entry{Shop: shop, Subject: o.id, At: at.Add(time.Duration(i) * time.Second),
					Source: store.SourceHub, Kind: "note", Message: msg}); err != nil {
					return err
				}
			}
		}
		wo := &order.WarehouseOrder{ExternalRef: "CD-2002", Shop: shop, Warehouse: "paris", OrderID: progressID,
			FulfillmentOrderID: "gid://shopify/FulfillmentOrder/2002", Lines: []order.Line{{LineNo: 1, SKU: "SKU-1", Quantity: 2}}}
		_, err := store.InsertWarehouseOrder(ctx, tx, wo, order.ProgressAcknowledged)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	web.Mount(mux, web.Deps{Store: st})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &bundle{srv: srv, st: st}
}

func (b *bundle) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(b.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func orderPath(id string) string {
	return "/order?" + url.Values{"shop": {shop}, "id": {id}}.Encode()
}

func TestOrdersPage(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			b := setup(t, d)
			code, ctype, body := b.get(t, "/")
			if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
				t.Fatalf("GET / = %d %s:\n%s", code, ctype, body)
			}
			// Each order's row names it and shows its state.
			rows := regexp.MustCompile(`(?s)<tr>\s*<td><a href="([^"]*)">([^<]*)</a></td>.*?</tr>`).FindAllStringSubmatch(body, -1)
			got := map[string]string{}
			links := map[string]string{}
			for _, r := range rows {
				got[r[2]] = r[0]
				links[r[2]] = html.UnescapeString(r[1])
			}
			for name, state := range map[string]string{"#1001": "held", "#1002": "in_progress"} {
				row, ok := got[name]
				if !ok {
					t.Errorf("no row for %s in:\n%s", name, body)
					continue
				}
				if !strings.Contains(row, `<span class="state `+state+`">`+state+`</span>`) {
					t.Errorf("row of %s does not show state %s:\n%s", name, state, row)
				}
			}
			if !strings.Contains(got["#1002"], "CD-2002 → paris: <b>acknowledged</b>") {
				t.Errorf("row of #1002 does not show its warehouse order:\n%s", got["#1002"])
			}
			if !strings.Contains(body, "<b>2 orders</b>") {
				t.Errorf("page does not count 2 orders:\n%s", body)
			}
			// The row's link opens the order's page.
			if code, _, page := b.get(t, links["#1001"]); code != http.StatusOK || !strings.Contains(page, "no warehouse has SKU-9") {
				t.Errorf("link %q of #1001 = %d:\n%s", links["#1001"], code, page)
			}
		})
	}
}

func TestOrderPageTimeline(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	for id, msgs := range timelines {
		code, ctype, body := b.get(t, orderPath(id))
		if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
			t.Fatalf("GET order %s = %d %s:\n%s", id, code, ctype, body)
		}
		last := -1
		for _, m := range msgs {
			i := strings.Index(body, html.EscapeString(m))
			if i < 0 {
				t.Errorf("%s: timeline entry %q missing (escaped) from:\n%s", id, m, body)
				continue
			}
			if i < last {
				t.Errorf("%s: timeline entry %q out of order", id, m)
			}
			last = i
		}
	}
	_, _, body := b.get(t, orderPath(heldID))
	if strings.Contains(body, "<script>") {
		t.Errorf("order page contains an unescaped <script>:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more") {
		t.Errorf("order page does not show the escaped message:\n%s", body)
	}
	// Another order's entries are not on the page.
	if strings.Contains(body, "routed to paris") {
		t.Errorf("order page of %s shows another order's timeline", heldID)
	}
}

func TestOrderPageUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	for _, p := range []string{
		orderPath("gid://shopify/Order/404"),
		"/order?" + url.Values{"shop": {"other.myshopify.com"}, "id": {heldID}}.Encode(), // right id, wrong shop
		"/order",
	} {
		if code, _, body := b.get(t, p); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404:\n%s", p, code, body)
		}
	}
}

func TestOrdersJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	type answer struct {
		Orders []store.Order  `json:"orders"`
		Counts map[string]int `json:"counts"`
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?state=held", []string{heldID}},
		{"?state=in_progress", []string{progressID}},
		{"?state=fulfilled", nil},
		{"", []string{heldID, progressID}},
		{"?shop=other.myshopify.com", nil},
	} {
		code, ctype, body := b.get(t, "/api/v1/orders"+tc.query)
		if code != http.StatusOK || ctype != "application/json" {
			t.Fatalf("GET %s = %d %s", tc.query, code, ctype)
		}
		var a answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("%s: %v in %s", tc.query, err, body)
		}
		got := map[string]store.Order{}
		for _, o := range a.Orders {
			got[o.OrderID] = o
		}
		if len(got) != len(tc.want) || len(a.Orders) != len(tc.want) {
			t.Errorf("%s: orders %v, want %v", tc.query, a.Orders, tc.want)
		}
		for _, id := range tc.want {
			o, ok := got[id]
			if !ok {
				t.Errorf("%s: order %s missing", tc.query, id)
				continue
			}
			if o.Shop != shop || (id == heldID) != (o.State == store.OrderHeld) {
				t.Errorf("%s: order %+v", tc.query, o)
			}
		}
		wantCounts := map[string]int{"held": 1, "in_progress": 1}
		if tc.query == "?shop=other.myshopify.com" {
			wantCounts = map[string]int{}
		}
		if !maps.Equal(a.Counts, wantCounts) {
			t.Errorf("%s: counts %v, want %v (all states, whatever the filter)", tc.query, a.Counts, wantCounts)
		}
	}
}
