package telemetry_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
	"github.com/crossdock/crossdock/internal/telemetry"
)

func TestDiscrepancyAndAlertMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	now := time.Now()
	for _, key := range []string{"order.missing:1", "order.missing:2"} {
		if _, _, err := store.OpenOrTouchDiscrepancy(ctx, st.Write, store.Discrepancy{Shop: "s", Kind: "order.missing", Key: key, Message: "m"}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, errText := range []string{"", "", "smtp down"} {
		if _, err := store.RecordAlert(ctx, st.Write, store.Alert{Shop: "s", Channel: "ops", GroupKey: "s/order.missing", Kind: "order.missing",
			Notice: store.NoticeFiring, Message: "m", At: now, Error: errText}); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	telemetry.Handler(telemetry.Sources{Store: st}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`crossdock_discrepancies_open{kind="order.missing"} 2`,
		`crossdock_discrepancies_open{kind="stock.mismatch"} 0`,
		`crossdock_discrepancies_open{kind="stock.line_rejected"} 0`,
		`crossdock_alerts_sent_total{channel="ops",notice="firing",outcome="delivered"} 2`,
		`crossdock_alerts_sent_total{channel="ops",notice="firing",outcome="failed"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
