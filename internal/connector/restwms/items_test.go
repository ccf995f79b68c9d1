package restwms_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/restwms"
)

// TestItemsReadsEveryPage loads more items than one page holds (codes kept
// exactly, implicit items for stocked SKUs included) and reads them back.
func TestItemsReadsEveryPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var want []connector.Item
	for i := range 5100 { // more than one page of 5,000
		want = append(want, connector.Item{Code: fmt.Sprintf("IT-%05d", i), Description: "item", Barcodes: []string{fmt.Sprintf("%013d", i)},
			UOM: "EA", PackSize: 1, Active: i%7 != 0})
	}
	want = append(want, connector.Item{Code: " it-00001 ", UOM: "CS", PackSize: 6, Active: true})
	if err := e.sim.SetItems(want); err != nil {
		t.Fatal(err)
	}
	e.sim.SetStock(map[string]int{"STOCK-ONLY": 3})
	want = append(want, connector.Item{Code: "STOCK-ONLY", UOM: "EA", PackSize: 1, Active: true})
	got, err := e.client.Items(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byCode := func(items []connector.Item) map[string]connector.Item {
		m := map[string]connector.Item{}
		for _, it := range items {
			if _, dup := m[it.Code]; dup {
				t.Errorf("code %q read twice", it.Code)
			}
			m[it.Code] = it
		}
		return m
	}
	if diff := cmp.Diff(byCode(want), byCode(got)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// TestItemsErrors: a warehouse without the endpoint is a permanent error, a
// nameless item and a cursor that does not move are reported.
func TestItemsErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		body      string
		status    int
		permanent bool
	}{
		"no item master":    {`{"error":{"code":"not_found","message":"no"}}`, http.StatusNotFound, true},
		"item without code": {`{"items":[{"code":"","active":true}],"next_cursor":""}`, http.StatusOK, false},
		"cursor stuck":      {`{"items":[{"code":"A","active":true}],"next_cursor":""}`, http.StatusOK, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				body := tc.body
				if name == "cursor stuck" {
					body = `{"items":[{"code":"A","active":true}],"next_cursor":"A"}`
					if r.URL.Query().Get("after") == "A" {
						body = `{"items":[],"next_cursor":"A"}`
					}
				}
				fmt.Fprint(w, body)
			}))
			t.Cleanup(srv.Close)
			c, err := restwms.New(restwms.Config{BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			items, err := c.Items(context.Background())
			if err == nil {
				t.Fatalf("Items = %v, want an error", items)
			}
			if got := connector.IsPermanent(err); got != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tc.permanent, err)
			}
			var he *restwms.HTTPError
			if tc.status != http.StatusOK && !errors.As(err, &he) {
				t.Errorf("error %v does not wrap *HTTPError", err)
			}
		})
	}
}
