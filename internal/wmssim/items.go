package wmssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// Page sizes of GET /v1/items.
const (
	DefaultItemLimit = 1000
	MaxItemLimit     = 5000
)

// SetItems replaces the explicit item master. Codes are kept exactly as
// given (case and spaces included, as a real WMS may hold them); an empty
// code or a code listed twice is refused and nothing changes. A stocked
// SKU missing from the item master is still listed by Items, as an active
// "EA" item of its own code.
func (s *Server) SetItems(items []connector.Item) error {
	m := make(map[string]connector.Item, len(items))
	for i, it := range items {
		if it.Code == "" {
			return fmt.Errorf("item %d: empty code", i)
		}
		if _, dup := m[it.Code]; dup {
			return fmt.Errorf("item %d: code %q listed twice", i, it.Code)
		}
		it.Barcodes = slices.Clone(it.Barcodes)
		m[it.Code] = it
	}
	s.mu.Lock()
	s.items, s.itemList = m, nil
	s.mu.Unlock()
	return nil
}

// Items returns the item master sorted by code: the explicit items and an
// implicit active "EA" item for every stocked SKU not among them.
func (s *Server) Items() []connector.Item {
	list := s.sortedItems()
	out := make([]connector.Item, len(list))
	for i, it := range list {
		it.Barcodes = slices.Clone(it.Barcodes)
		out[i] = it
	}
	return out
}

// sortedItems returns the item master sorted by code, built once per
// change (GET /v1/items pages through it). The result must not be
// modified.
func (s *Server) sortedItems() []connector.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.itemList != nil {
		return s.itemList
	}
	out := make([]connector.Item, 0, len(s.items)+len(s.stock))
	for _, it := range s.items {
		out = append(out, it)
	}
	for sku := range s.stock {
		if _, ok := s.items[sku]; !ok {
			out = append(out, connector.Item{Code: sku, UOM: "EA", PackSize: 1, Active: true})
		}
	}
	slices.SortFunc(out, func(a, b connector.Item) int { return strings.Compare(a.Code, b.Code) })
	s.itemList = out
	return out
}

// itemsResponse is the answer to GET /v1/items.
type itemsResponse struct {
	Items      []connector.Item `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// handleItems serves GET /v1/items?after=&limit=: items sorted by code,
// after the code given as cursor. next_cursor is empty on the last page.
func (s *Server) handleItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultItemLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be a positive integer", "limit")
			return
		}
		limit = min(n, MaxItemLimit)
	}
	all := s.sortedItems()
	start := 0
	if after := q.Get("after"); after != "" {
		start, _ = slices.BinarySearchFunc(all, after, func(it connector.Item, code string) int { return strings.Compare(it.Code, code) })
		if start < len(all) && all[start].Code == after {
			start++
		}
	}
	end := min(start+limit, len(all))
	out := itemsResponse{Items: all[start:end]}
	if end < len(all) {
		out.NextCursor = all[end-1].Code
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSimItems replaces the item master with the posted JSON array.
func (s *Server) handleSimItems(w http.ResponseWriter, r *http.Request) {
	var items []connector.Item
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64*maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&items); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), "")
		return
	}
	if err := s.SetItems(items); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid", err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"items": len(items)})
}
