package wmssim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossdock/crossdock/internal/connector"
)

// TestItemMaster checks SetItems' refusals, the implicit items of stocked
// SKUs and the paging of GET /v1/items.
func TestItemMaster(t *testing.T) {
	t.Parallel()
	s := New(Config{Token: "t", Stock: map[string]int{"B": 1}, Items: []connector.Item{{Code: "A", Active: true}}})
	for _, bad := range [][]connector.Item{{{Code: ""}}, {{Code: "X"}, {Code: "X"}}} {
		if err := s.SetItems(bad); err == nil {
			t.Errorf("SetItems(%v) accepted", bad)
		}
	}
	want := []connector.Item{{Code: "A", Active: true}, {Code: "B", UOM: "EA", PackSize: 1, Active: true}}
	if diff := cmp.Diff(want, s.Items()); diff != "" {
		t.Errorf("Items after refused SetItems (-want +got):\n%s", diff)
	}

	var got []connector.Item
	after, pages := "", 0
	for {
		r := httptest.NewRequest(http.MethodGet, "/v1/items?limit=1&after="+after, nil)
		r.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /v1/items: %d %s", w.Code, w.Body)
		}
		var page itemsResponse
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		pages++
		if page.NextCursor == "" {
			break
		}
		after = page.NextCursor
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 2 {
		t.Errorf("paged items in %d pages (-want +got):\n%s", pages, diff)
	}

	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/_sim/items", strings.NewReader(`[{"code":"Z","active":false}]`)))
	if w.Code != http.StatusOK {
		t.Fatalf("POST /_sim/items: %d %s", w.Code, w.Body)
	}
	want = []connector.Item{{Code: "B", UOM: "EA", PackSize: 1, Active: true}, {Code: "Z"}}
	if diff := cmp.Diff(want, s.Items()); diff != "" {
		t.Errorf("Items after POST (-want +got):\n%s", diff)
	}
}
