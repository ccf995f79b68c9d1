package wmssim

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
)

// carrierStep is a scheduled carrier event (or tracking change) of one
// shipment.
type carrierStep struct {
	due        time.Time
	seq        uint64
	o          *simOrder
	shipmentID string
	status     string // a connector.Carrier* status, or "" for a tracking change
}

// DefaultCarrierEventDelay is the time between two carrier events of a
// shipment when Config.CarrierEventDelay is zero.
const DefaultCarrierEventDelay = 400 * time.Millisecond

// scheduleCarrier plans what the carrier reports after a shipment: for a
// CarrierEventRate share of shipments, in transit, out for delivery and
// delivered (or, for a DeliveryFailureRate share of those, a failed
// attempt and a failure); for a TrackingUpdateRate share, a new tracking
// number for the first package before it is in transit. s.mu is held.
func (s *Server) scheduleCarrier(o *simOrder, sh order.Shipment, now time.Time) {
	d := s.cfg.CarrierEventDelay
	if d <= 0 {
		d = DefaultCarrierEventDelay
	}
	add := func(at time.Time, status string) {
		s.stepSeq++
		s.carrierQueue = append(s.carrierQueue, carrierStep{due: at, seq: s.stepSeq, o: o, shipmentID: sh.ID, status: status})
	}
	if s.cfg.TrackingUpdateRate > 0 && s.rng.Float64() < s.cfg.TrackingUpdateRate {
		add(now.Add(d/2), "")
		s.stats.TrackingUpdates++
	}
	if s.cfg.CarrierEventRate > 0 && s.rng.Float64() < s.cfg.CarrierEventRate {
		if s.cfg.DeliveryFailureRate > 0 && s.rng.Float64() < s.cfg.DeliveryFailureRate {
			add(now.Add(d), connector.CarrierInTransit)
			add(now.Add(2*d), connector.CarrierAttemptedDelivery)
			add(now.Add(3*d), connector.CarrierFailure)
			s.stats.DeliveryFailures++
		} else {
			add(now.Add(d), connector.CarrierInTransit)
			add(now.Add(2*d), connector.CarrierOutForDelivery)
			add(now.Add(3*d), connector.CarrierDelivered)
		}
	}
	sort.SliceStable(s.carrierQueue, func(i, j int) bool {
		if !s.carrierQueue[i].due.Equal(s.carrierQueue[j].due) {
			return s.carrierQueue[i].due.Before(s.carrierQueue[j].due)
		}
		return s.carrierQueue[i].seq < s.carrierQueue[j].seq
	})
	s.poke()
}

// runCarrierDue publishes the carrier steps due at now. s.mu is held.
func (s *Server) runCarrierDue(now time.Time) int {
	n := 0
	for len(s.carrierQueue) > 0 && !s.carrierQueue[0].due.After(now) {
		st := s.carrierQueue[0]
		s.carrierQueue = s.carrierQueue[1:]
		i := slices.IndexFunc(st.o.shipments, func(sh order.Shipment) bool { return sh.ID == st.shipmentID })
		if i < 0 {
			continue
		}
		sh := &st.o.shipments[i]
		ref := st.o.wo.ExternalRef
		if st.status == "" {
			// The parcel is relabelled: a new tracking number.
			if len(sh.Packages) == 0 {
				continue
			}
			p := &sh.Packages[0]
			carrier := s.carrierNamed(p.Carrier)
			tn := trackingNumber(carrier)
			p.TrackingNumber = tn
			p.TrackingURL = strings.ReplaceAll(carrier.TrackingURL, "{tracking}", tn)
			c := cloneShipment(*sh)
			s.publish(connector.Event{Type: connector.EventTrackingUpdated, ExternalRef: ref, At: now,
				Tracking: &connector.TrackingUpdate{ShipmentID: sh.ID, Packages: c.Packages}})
		} else {
			tn := ""
			if len(sh.Packages) > 0 {
				tn = sh.Packages[0].TrackingNumber
			}
			msg := map[string]string{
				connector.CarrierInTransit:         "Parcel in transit",
				connector.CarrierOutForDelivery:    "Out for delivery",
				connector.CarrierDelivered:         "Delivered",
				connector.CarrierAttemptedDelivery: "Delivery attempted: recipient absent",
				connector.CarrierFailure:           "Delivery failed: returned to sender",
			}[st.status]
			s.publish(connector.Event{Type: connector.EventCarrier, ExternalRef: ref, At: now,
				Carrier: &connector.CarrierUpdate{ShipmentID: sh.ID, TrackingNumber: tn, Status: st.status, HappenedAt: now, Message: msg}})
			s.stats.CarrierEvents++
		}
		n++
	}
	return n
}

// carrierNamed returns the carrier of that name (the first one otherwise).
func (s *Server) carrierNamed(name string) Carrier {
	for _, c := range s.carriers {
		if c.Name == name {
			return c
		}
	}
	return s.carriers[0]
}
