package wmsfeed_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/order"
	"github.com/crossdock/crossdock/internal/store"
)

func TestBackorderedOnTimeline(t *testing.T) {
	t.Parallel()
	b := setup(t, store.SQLite)
	bo := ev("E2", connector.EventBackordered, 1)
	bo.Shortages = []connector.Shortage{{SKU: "SKU-1", Needed: 2, Available: 0}}
	b.feed.script(map[string]page{"": {events: []connector.Event{ev("E1", connector.EventAcknowledged, 0), bo}, next: "2"}})
	b.poll(t, 1)

	if got := b.progress(t); got != order.ProgressAcknowledged {
		t.Errorf("progress %s after a backorder, want %s", got, order.ProgressAcknowledged)
	}
	if got := b.outcome(t, "E2"); got != "recorded" {
		t.Errorf("outcome %q", got)
	}
	tl, err := store.Timeline(context.Background(), b.st.Read, shop, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	for _, e := range tl {
		if e.Kind == "backordered" {
			msg = e.Message
		}
	}
	for _, want := range []string{ref, warehouse, "SKU-1 (needs 2, has 0)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("backordered entry %q lacks %q", msg, want)
		}
	}
}
