package wmssim

// Returns: the hub announces an expected return (POST /v1/returns,
// idempotent on return_id); when the parcel arrives, ReceiveReturn (the
// warehouse's receiving desk) records what came back and in which
// condition, publishes a return_received event and moves the stock:
// restockable units back on hand (and available), damaged units kept aside
// as damaged, never available.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// ReturnReceiptLine is units of one SKU received back in one condition.
type ReturnReceiptLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	// Condition is "restockable" or "damaged".
	Condition string `json:"condition"`
}

// ReturnState is the simulator's view of one expected return.
type ReturnState struct {
	ReturnID    string `json:"return_id"`
	Name        string `json:"name,omitempty"`
	ExternalRef string `json:"external_ref"`
	OrderID     string `json:"order_id,omitempty"`
	// Expected are the lines announced by the hub.
	Expected []connector.ReturnLine `json:"expected"`
	// Received are the lines received so far, in receipt order.
	Received   []ReturnReceiptLine `json:"received,omitempty"`
	ExpectedAt time.Time           `json:"expected_at"`
	ReceivedAt time.Time           `json:"received_at,omitzero"`
}

// returnBook holds the expected returns (a field of Server).
type returnBook struct {
	byID    map[string]*ReturnState
	list    []*ReturnState
	damaged map[string]int // SKU → damaged units kept aside
}

// returnResponse is the answer to POST /v1/returns.
type returnResponse struct {
	ReturnID string `json:"return_id"`
	Created  bool   `json:"created"`
}

// expectReturn records n. s.mu is held. It returns created=false for a
// replay of the same content and an error for a different content under
// the same id.
func (s *Server) expectReturn(n connector.ReturnNotice) (created bool, status int, e *apiError) {
	switch {
	case strings.TrimSpace(n.ReturnID) == "":
		return false, http.StatusUnprocessableEntity, &apiError{"invalid", "return_id is required", "return_id"}
	case strings.TrimSpace(n.ExternalRef) == "":
		return false, http.StatusUnprocessableEntity, &apiError{"invalid", "external_ref is required", "external_ref"}
	case len(n.Lines) == 0:
		return false, http.StatusUnprocessableEntity, &apiError{"invalid", "lines must not be empty", "lines"}
	}
	for i, l := range n.Lines {
		if strings.TrimSpace(l.SKU) == "" || l.Quantity <= 0 {
			return false, http.StatusUnprocessableEntity, &apiError{"invalid", fmt.Sprintf("line %d needs a sku and a quantity above 0", i), fmt.Sprintf("lines[%d]", i)}
		}
	}
	if _, ok := s.orders[n.ExternalRef]; !ok {
		return false, http.StatusUnprocessableEntity, &apiError{"unknown_order", "no order with external_ref " + n.ExternalRef, "external_ref"}
	}
	if s.rets.byID == nil {
		s.rets.byID = map[string]*ReturnState{}
		s.rets.damaged = map[string]int{}
	}
	if r, ok := s.rets.byID[n.ReturnID]; ok {
		if r.ExternalRef != n.ExternalRef || !slices.Equal(r.Expected, n.Lines) {
			return false, http.StatusConflict, &apiError{"conflict", "return " + n.ReturnID + " already exists with different content", "return_id"}
		}
		return false, http.StatusOK, nil
	}
	r := &ReturnState{ReturnID: n.ReturnID, Name: n.Name, ExternalRef: n.ExternalRef, OrderID: n.OrderID,
		Expected: slices.Clone(n.Lines), ExpectedAt: s.clock()}
	s.rets.byID[r.ReturnID] = r
	s.rets.list = append(s.rets.list, r)
	return true, http.StatusCreated, nil
}

// ExpectReturn records an expected return as POST /v1/returns does.
func (s *Server) ExpectReturn(n connector.ReturnNotice) (created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	created, _, e := s.expectReturn(n)
	if e != nil {
		return false, errors.New(e.Message)
	}
	return created, nil
}

func (s *Server) handleReturn(w http.ResponseWriter, r *http.Request) {
	var n connector.ReturnNotice
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&n); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error(), "")
		return
	}
	s.mu.Lock()
	created, status, e := s.expectReturn(n)
	s.mu.Unlock()
	if e != nil {
		writeError(w, status, e.Code, e.Message, e.Field)
		return
	}
	writeJSON(w, status, returnResponse{ReturnID: n.ReturnID, Created: created})
}

// ReceiveReturn records the receipt of units of the expected return
// returnID: each line's units and condition ("restockable" or "damaged").
// Restockable units go back on hand (available, and backordered orders are
// retried); damaged units are kept aside as damaged (Damaged) and never
// become available. A return_received event with the lines is published
// for the order the return names. It fails, changing nothing, for a return
// never announced, an empty receipt, a quantity ≤ 0 or an unknown
// condition. Receiving more units than announced is allowed: the
// warehouse reports what it found.
func (s *Server) ReceiveReturn(returnID string, lines []ReturnReceiptLine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rets.byID[returnID]
	if !ok {
		return fmt.Errorf("wmssim: receive return: no expected return %s", returnID)
	}
	if len(lines) == 0 {
		return fmt.Errorf("wmssim: receive return %s: no lines", returnID)
	}
	for _, l := range lines {
		if strings.TrimSpace(l.SKU) == "" || l.Quantity <= 0 {
			return fmt.Errorf("wmssim: receive return %s: line %+v needs a sku and a quantity above 0", returnID, l)
		}
		if l.Condition != connector.ConditionRestockable && l.Condition != connector.ConditionDamaged {
			return fmt.Errorf("wmssim: receive return %s: condition %q is neither %q nor %q", returnID, l.Condition,
				connector.ConditionRestockable, connector.ConditionDamaged)
		}
	}
	now := s.clock()
	restocked := false
	wire := make([]connector.ReturnReceiptLine, 0, len(lines))
	for _, l := range lines {
		if l.Condition == connector.ConditionDamaged {
			s.rets.damaged[l.SKU] += l.Quantity
		} else {
			rec := s.stock[l.SKU]
			if rec == nil {
				rec = &stockRec{}
				s.stock[l.SKU] = rec
			}
			rec.onHand += l.Quantity
			restocked = true
		}
		wire = append(wire, connector.ReturnReceiptLine(l))
	}
	r.Received = append(r.Received, lines...)
	r.ReceivedAt = now
	s.publish(connector.Event{Type: connector.EventReturnReceived, ExternalRef: r.ExternalRef, At: now,
		Return: &connector.ReturnReceipt{ReturnID: returnID, Lines: wire}})
	if restocked {
		s.retryBackorders(now)
		s.poke()
	}
	return nil
}

// Returns lists the expected returns in the order they were announced,
// with what was received.
func (s *Server) Returns() []ReturnState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ReturnState, 0, len(s.rets.list))
	for _, r := range s.rets.list {
		c := *r
		c.Expected = slices.Clone(r.Expected)
		c.Received = slices.Clone(r.Received)
		out = append(out, c)
	}
	return out
}

// Damaged returns the damaged units kept aside per SKU (returns received
// damaged).
func (s *Server) Damaged() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.rets.damaged))
	for k, v := range s.rets.damaged {
		out[k] = v
	}
	return out
}
