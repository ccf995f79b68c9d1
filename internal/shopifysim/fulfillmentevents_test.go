package shopifysim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const reportProgress = `mutation($id: ID!, $notes: String) {
  fulfillmentOrderReportProgress(id: $id, progressReport: {reasonNotes: $notes}) {
    fulfillmentOrder { id status requestStatus }
    userErrors { field message code }
  }
}`

const createEvent = `mutation($e: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $e) {
    fulfillmentEvent { id status happenedAt createdAt message city country estimatedDeliveryAt }
    userErrors { field message }
  }
}`

const fulfillmentEvents = `query($id: ID!, $first: Int, $after: String, $reverse: Boolean, $sortKey: FulfillmentEventSortKeys) {
  order(id: $id) {
    fulfillments(first: 5) {
      id displayStatus inTransitAt deliveredAt estimatedDeliveryAt
      events(first: $first, after: $after, reverse: $reverse, sortKey: $sortKey) {
        nodes { id status happenedAt message }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`

// acceptedFO creates an order routed to a fulfillment service and returns
// the order and fulfillment order GIDs; accept submits and accepts it.
func (b *testBundle) serviceFO(t *testing.T, accept bool) (orderID, foID string) {
	t.Helper()
	loc := b.addFS(t, "WMS")
	b.setStock(t, "SKU-A", loc, 10)
	o := b.order(t, map[string]int{"SKU-A": 2})
	foID = str(o, "fulfillmentOrders", "nodes", 0, "id")
	if accept {
		noUserErrors(t, b.mustGQL(t, submitFO, map[string]any{"id": foID}), "fulfillmentOrderSubmitFulfillmentRequest")
		noUserErrors(t, b.mustGQL(t, acceptFO, map[string]any{"id": foID}), "fulfillmentOrderAcceptFulfillmentRequest")
	}
	return str(o, "id"), foID
}

// shipped returns an order with one fulfillment of everything.
func (b *testBundle) shipped(t *testing.T) (orderID, fulfillmentID string) {
	t.Helper()
	orderID, foID := b.serviceFO(t, true)
	p := noUserErrors(t, b.mustGQL(t, createFulfillment, map[string]any{"f": map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": foID}},
		"trackingInfo":                map[string]any{"company": "UPS", "number": "1Z001"},
	}}), "fulfillmentCreate")
	return orderID, str(p, "fulfillment", "id")
}

func (b *testBundle) foState(t *testing.T, orderID, foID string) FulfillmentOrderState {
	t.Helper()
	o, ok := b.srv.Order(orderID)
	if !ok {
		t.Fatalf("order %s not found", orderID)
	}
	for _, fo := range o.FulfillmentOrders {
		if fo.ID == foID {
			return fo
		}
	}
	t.Fatalf("fulfillment order %s not in %+v", foID, o.FulfillmentOrders)
	return FulfillmentOrderState{}
}

func TestReportProgressNeedsAcceptedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, foID := b.serviceFO(t, false)

	res := b.mustGQL(t, reportProgress, map[string]any{"id": foID, "notes": "picking"})
	if code := str(res, "fulfillmentOrderReportProgress", "userErrors", 0, "code"); code != "FULFILLMENT_ORDER_STATUS_INVALID" {
		t.Fatalf("progress on an unsubmitted fulfillment order: %v", res)
	}
	if fo := b.foState(t, orderID, foID); fo.Status != "OPEN" || len(fo.ProgressReports) != 0 {
		t.Errorf("refused report changed the fulfillment order: %+v", fo)
	}
	res = b.mustGQL(t, reportProgress, map[string]any{"id": "gid://shopify/FulfillmentOrder/999999"})
	if code := str(res, "fulfillmentOrderReportProgress", "userErrors", 0, "code"); code != "FULFILLMENT_ORDER_NOT_FOUND" {
		t.Errorf("progress on an unknown fulfillment order: %v", res)
	}
}

func TestReportProgressRecordsReports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, foID := b.serviceFO(t, true)

	notes := []string{"picking", "", "packed, 2 parcels"}
	var want []ProgressReportState
	for _, n := range notes {
		b.clock.Advance(time.Minute)
		vars := map[string]any{"id": foID}
		if n != "" {
			vars["notes"] = n
		}
		p := noUserErrors(t, b.mustGQL(t, reportProgress, vars), "fulfillmentOrderReportProgress")
		if str(p, "fulfillmentOrder", "status") != "IN_PROGRESS" || str(p, "fulfillmentOrder", "requestStatus") != "ACCEPTED" {
			t.Fatalf("after report %q: %v", n, p)
		}
		want = append(want, ProgressReportState{Notes: n, At: b.clock.Now()})
	}
	if diff := cmp.Diff(want, b.foState(t, orderID, foID).ProgressReports); diff != "" {
		t.Errorf("ProgressReports (-want +got):\n%s", diff)
	}
}

func TestFulfillmentEventsDriveDisplayStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	recv := newReceiver(t, ok200)
	b.subscribe(t, "FULFILLMENT_EVENTS_CREATE", recv.url)
	orderID, fID := b.shipped(t)

	read := func() map[string]any {
		t.Helper()
		return dig(b.mustGQL(t, fulfillmentEvents, map[string]any{"id": orderID, "first": 50}), "order", "fulfillments", 0).(map[string]any)
	}
	if f := read(); str(f, "displayStatus") != "FULFILLED" || dig(f, "inTransitAt") != nil || dig(f, "deliveredAt") != nil {
		t.Fatalf("before any event: %v", f)
	}

	base := b.clock.Now()
	eta := base.Add(48 * time.Hour)
	steps := []struct {
		status string
		at     time.Time
		eta    *time.Time
	}{
		{"IN_TRANSIT", base.Add(1 * time.Hour), &eta},
		{"IN_TRANSIT", base.Add(5 * time.Hour), nil},
		{"CARRIER_PICKED_UP", base.Add(30 * time.Minute), nil}, // late report of an earlier event
		{"OUT_FOR_DELIVERY", base.Add(20 * time.Hour), nil},
		{"ATTEMPTED_DELIVERY", base.Add(22 * time.Hour), nil},
		{"DELIVERED", base.Add(26 * time.Hour), nil},
	}
	var created []FulfillmentEventState
	latest := steps[0]
	for i, s := range steps {
		in := map[string]any{"fulfillmentId": fID, "status": s.status, "happenedAt": s.at.Format(time.RFC3339),
			"message": s.status + " message", "city": "Louisville", "country": "US"}
		if s.eta != nil {
			in["estimatedDeliveryAt"] = s.eta.Format(time.RFC3339)
		}
		ev := noUserErrors(t, b.mustGQL(t, createEvent, map[string]any{"e": in}), "fulfillmentEventCreate")
		if str(ev, "fulfillmentEvent", "status") != s.status || str(ev, "fulfillmentEvent", "happenedAt") != dt(s.at) ||
			str(ev, "fulfillmentEvent", "city") != "Louisville" {
			t.Fatalf("step %d: event = %v", i, ev)
		}
		created = append(created, FulfillmentEventState{ID: str(ev, "fulfillmentEvent", "id"), Status: s.status, HappenedAt: s.at, Message: s.status + " message"})
		if !s.at.Before(latest.at) {
			latest = s
		}
		f := read()
		if got := str(f, "displayStatus"); got != latest.status {
			t.Errorf("step %d (%s): displayStatus = %s, want the latest event's %s", i, s.status, got, latest.status)
		}
		if got := str(f, "inTransitAt"); got != dt(steps[0].at) {
			t.Errorf("step %d: inTransitAt = %s, want the first IN_TRANSIT %s", i, got, dt(steps[0].at))
		}
		if got := str(f, "estimatedDeliveryAt"); got != dt(eta) {
			t.Errorf("step %d: estimatedDeliveryAt = %s, want %s", i, got, dt(eta))
		}
		if delivered := s.status == "DELIVERED"; delivered != (dig(f, "deliveredAt") != nil) {
			t.Errorf("step %d: deliveredAt = %v", i, dig(f, "deliveredAt"))
		}
	}
	f := read()
	if str(f, "deliveredAt") != dt(steps[len(steps)-1].at) {
		t.Errorf("deliveredAt = %v, want %s", dig(f, "deliveredAt"), dt(steps[len(steps)-1].at))
	}

	o, _ := b.srv.Order(orderID)
	fs := o.Fulfillments[0]
	if diff := cmp.Diff(created, fs.Events); diff != "" {
		t.Errorf("readback Events (-want +got):\n%s", diff)
	}
	if fs.DisplayStatus != "DELIVERED" {
		t.Errorf("readback DisplayStatus = %s", fs.DisplayStatus)
	}

	b.waitHooks(t)
	hooks := recv.topic("fulfillment_events/create")
	if len(hooks) != len(steps) {
		t.Fatalf("%d fulfillment_events/create webhooks, want %d", len(hooks), len(steps))
	}
	// Deliveries run concurrently: compare as a set keyed by event GID.
	got := map[string]string{}
	for _, h := range hooks {
		var body struct {
			ID     string `json:"admin_graphql_api_id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(h.body, &body); err != nil {
			t.Fatal(err)
		}
		got[body.ID] = body.Status
	}
	want := map[string]string{}
	for _, e := range created {
		want[e.ID] = strings.ToLower(e.Status)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook event statuses (-want +got):\n%s", diff)
	}
}

func TestFulfillmentEventCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, fID := b.shipped(t)
	cases := map[string]map[string]any{
		"unknown fulfillment": {"fulfillmentId": "gid://shopify/Fulfillment/999999", "status": "IN_TRANSIT"},
		"bad happenedAt":      {"fulfillmentId": fID, "status": "IN_TRANSIT", "happenedAt": "yesterday"},
	}
	for name, in := range cases {
		res := b.mustGQL(t, createEvent, map[string]any{"e": in})
		if str(res, "fulfillmentEventCreate", "userErrors", 0, "message") == "" || dig(res, "fulfillmentEventCreate", "fulfillmentEvent") != nil {
			t.Errorf("%s: %v", name, res)
		}
	}
	if res := b.gql(t, createEvent, map[string]any{"e": map[string]any{"fulfillmentId": fID, "status": "LOST"}}); len(res.Errors) == 0 {
		t.Errorf("unknown status enum accepted: %s", res.Raw)
	}
	if o, _ := b.srv.Order(orderID); len(o.Fulfillments[0].Events) != 0 {
		t.Errorf("refused events recorded: %+v", o.Fulfillments[0].Events)
	}
}

func TestFulfillmentEventsPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, fID := b.shipped(t)
	base := b.clock.Now()
	// Created out of happenedAt order, so HAPPENED_AT and ID orders differ.
	offsets := []int{3, 1, 4, 0, 2, 6, 5}
	for _, h := range offsets {
		in := map[string]any{"fulfillmentId": fID, "status": "IN_TRANSIT", "happenedAt": base.Add(time.Duration(h) * time.Hour).Format(time.RFC3339)}
		noUserErrors(t, b.mustGQL(t, createEvent, map[string]any{"e": in}), "fulfillmentEventCreate")
	}
	o, _ := b.srv.Order(orderID)
	byCreation := o.Fulfillments[0].Events
	var wantIDs, byHappened []string
	for _, e := range byCreation {
		wantIDs = append(wantIDs, e.ID)
	}
	sorted := slices.Clone(byCreation)
	slices.SortStableFunc(sorted, func(a, c FulfillmentEventState) int { return a.HappenedAt.Compare(c.HappenedAt) })
	for _, e := range sorted {
		byHappened = append(byHappened, e.ID)
	}
	reversed := slices.Clone(byHappened)
	slices.Reverse(reversed)

	walk := func(vars map[string]any) []string {
		var ids []string
		after := ""
		for page := 0; page < 10; page++ {
			v := map[string]any{"id": orderID, "first": 3}
			for k, x := range vars {
				v[k] = x
			}
			if after != "" {
				v["after"] = after
			}
			conn := dig(b.mustGQL(t, fulfillmentEvents, v), "order", "fulfillments", 0, "events")
			nodes, _ := dig(conn, "nodes").([]any)
			for _, n := range nodes {
				ids = append(ids, str(n, "id"))
			}
			if dig(conn, "pageInfo", "hasNextPage") != true {
				return ids
			}
			after = str(conn, "pageInfo", "endCursor")
		}
		t.Fatalf("events paging did not end: %v", ids)
		return nil
	}
	if diff := cmp.Diff(byHappened, walk(nil)); diff != "" {
		t.Errorf("default HAPPENED_AT order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(reversed, walk(map[string]any{"reverse": true})); diff != "" {
		t.Errorf("reverse (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs, walk(map[string]any{"sortKey": "ID"})); diff != "" {
		t.Errorf("sortKey ID (-want +got):\n%s", diff)
	}
}

func TestTrackingUpdateReplacesAndCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orderID, fID := b.shipped(t)
	before := b.srv.Stats().TrackingUpdates
	p := noUserErrors(t, b.mustGQL(t, `mutation($id: ID!, $t: FulfillmentTrackingInput!) {
	  fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $t, notifyCustomer: false) {
	    fulfillment { id } userErrors { field message } } }`,
		map[string]any{"id": fID, "t": map[string]any{"company": "DHL Express", "numbers": []any{"JD1", "JD2"}, "urls": []any{"https://t.example/JD1", "https://t.example/JD2"}}}),
		"fulfillmentTrackingInfoUpdate")
	if str(p, "fulfillment", "id") != fID {
		t.Fatalf("payload = %v", p)
	}
	o, _ := b.srv.Order(orderID)
	want := []TrackingState{{Company: "DHL Express", Number: "JD1", URL: "https://t.example/JD1"}, {Company: "DHL Express", Number: "JD2", URL: "https://t.example/JD2"}}
	if diff := cmp.Diff(want, o.Fulfillments[0].Tracking); diff != "" {
		t.Errorf("tracking (-want +got):\n%s", diff)
	}
	if got := b.srv.Stats().TrackingUpdates; got != before+1 {
		t.Errorf("TrackingUpdates = %d, want %d", got, before+1)
	}
}
