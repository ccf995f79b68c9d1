package wmssim

import (
	"testing"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/connectortest"
)

// TestCarrierEventsAndTrackingUpdates: after shipping, the carrier reports
// in transit, out for delivery and delivered (or a failed delivery), and a
// relabelled parcel comes back as tracking_updated with the new number —
// which the order's shipment then carries too.
func TestCarrierEventsAndTrackingUpdates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		failure float64
		want    []string
	}{
		{"delivered", 0, []string{connector.CarrierInTransit, connector.CarrierOutForDelivery, connector.CarrierDelivered}},
		{"failed", 1, []string{connector.CarrierInTransit, connector.CarrierAttemptedDelivery, connector.CarrierFailure}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(c *Config) {
				c.Stock = map[string]int{"A": 10}
				c.CarrierEventRate, c.TrackingUpdateRate, c.DeliveryFailureRate = 1, 1, tc.failure
			})
			f.create(t, connectortest.NewOrder("R1", line("A", 2)))
			f.s.Settle(f.clock)
			var shipped *connector.Event
			var statuses []string
			var update *connector.TrackingUpdate
			for _, e := range f.s.Events() {
				switch e.Type {
				case connector.EventShipped:
					shipped = &e
				case connector.EventCarrier:
					if e.Carrier == nil || shipped == nil || e.Carrier.ShipmentID != shipped.Shipment.ID || e.Carrier.HappenedAt.IsZero() {
						t.Fatalf("carrier event %+v before or without its shipment", e)
					}
					statuses = append(statuses, e.Carrier.Status)
				case connector.EventTrackingUpdated:
					if len(statuses) > 0 {
						t.Errorf("tracking updated after the parcel was in transit")
					}
					update = e.Tracking
				}
			}
			if shipped == nil || len(statuses) != 3 {
				t.Fatalf("events: shipped %v, carrier statuses %v", shipped != nil, statuses)
			}
			for i, s := range tc.want {
				if statuses[i] != s {
					t.Errorf("carrier statuses %v, want %v", statuses, tc.want)
					break
				}
			}
			if update == nil || len(update.Packages) == 0 || update.Packages[0].TrackingNumber == shipped.Shipment.Packages[0].TrackingNumber {
				t.Fatalf("tracking update %+v, want a new number for %s", update, shipped.Shipment.Packages[0].TrackingNumber)
			}
			st := f.state(t, "R1")
			if got := st.Shipments[0].Packages[0].TrackingNumber; got != update.Packages[0].TrackingNumber {
				t.Errorf("the order's shipment carries %s, want the new %s", got, update.Packages[0].TrackingNumber)
			}
			if s := f.s.Stats(); s.CarrierEvents != 3 || s.TrackingUpdates != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}
