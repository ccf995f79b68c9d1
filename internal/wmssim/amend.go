package wmssim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/order"
)

// amendResponse is the answer to PUT /v1/orders/{external_ref}.
type amendResponse struct {
	Amended     bool   `json:"amended"`
	ExternalRef string `json:"external_ref"`
	Status      State  `json:"status"`
}

// tooLate is the reason an order in state st can no longer be amended, or
// "" while it can (received, acknowledged).
func tooLate(st State) string {
	switch st {
	case StateReceived, StateAcknowledged:
		return ""
	case StateCancelled:
		return "cancelled"
	}
	return "already " + strings.ReplaceAll(string(st), "_", " ")
}

// Amend replaces the lines and ship-to of the order wo.ExternalRef, as PUT
// /v1/orders/{external_ref} does: allowed while the order is received or
// acknowledged (its allocation is released and the new lines allocated; an
// order that can no longer be filled waits as backordered), refused with
// the reason once picking started or the order was cancelled. Content the
// warehouse already holds is accepted and changes nothing. found is false
// when no order has this reference.
func (s *Server) Amend(wo order.WarehouseOrder) (amended bool, reason string, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[wo.ExternalRef]
	if !ok {
		return false, "", false
	}
	amended, reason = s.amend(o, wo, s.clock())
	return amended, reason, true
}

// amend applies wo to o. s.mu is held.
func (s *Server) amend(o *simOrder, wo order.WarehouseOrder, now time.Time) (bool, string) {
	if sameLines(o.wo.Lines, wo.Lines) && o.wo.ShipTo == wo.ShipTo {
		return true, "" // already so: a replay
	}
	if r := tooLate(o.state); r != "" {
		return false, r
	}
	s.release(o)
	o.wo.Lines = slices.Clone(wo.Lines)
	o.wo.ShipTo = wo.ShipTo
	if wo.ShippingMethod != "" {
		o.wo.ShippingMethod = wo.ShippingMethod
	}
	if o.state != StateAcknowledged {
		return true, "" // allocated when acknowledged
	}
	if s.allocate(o) {
		if o.backordered {
			// It waited for stock and no longer has to.
			o.backordered = false
			s.backorders = slices.DeleteFunc(s.backorders, func(b *simOrder) bool { return b == o })
			s.schedule(o, now.Add(s.cfg.PickDelay))
		}
		return true, ""
	}
	if !o.backordered {
		o.backordered = true
		o.times.BackorderedAt = now
		s.stats.Backordered++
		s.backorders = append(s.backorders, o)
		s.publishBackorder(o, now)
	}
	// A pick step already scheduled finds the order backordered and waits.
	return true, ""
}

func (s *Server) handleAmend(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("external_ref")
	var wo order.WarehouseOrder
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&wo); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error(), "")
		return
	}
	if wo.ExternalRef == "" {
		wo.ExternalRef = ref
	}
	if wo.ExternalRef != ref {
		writeError(w, http.StatusConflict, "conflict", "external_ref "+wo.ExternalRef+" differs from the path's "+ref, "external_ref")
		return
	}
	if e := validate(&wo); e != nil {
		writeError(w, http.StatusUnprocessableEntity, e.Code, e.Message, e.Field)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[ref]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no order with external_ref "+ref, "external_ref")
		return
	}
	amended, reason := s.amend(o, wo, s.clock())
	if !amended {
		writeError(w, http.StatusConflict, "too_late", reason, "")
		return
	}
	writeJSON(w, http.StatusOK, amendResponse{Amended: true, ExternalRef: ref, Status: wireState(o.state)})
}
