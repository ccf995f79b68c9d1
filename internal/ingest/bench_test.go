package ingest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/crossdock/crossdock/internal/store"
)

// BenchmarkWebhookIngest compares the webhook endpoint on a real SQLite
// store with a handler that only reads the body, both over loopback HTTP
// with the same parallel clients, so the ratio is the endpoint's cost.
func BenchmarkWebhookIngest(b *testing.B) {
	body := orderFixture(b)
	b.Run("noop", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		drive(b, srv.URL, body)
	})
	b.Run("ingest", func(b *testing.B) {
		st := openStore(b, store.SQLite, filepath.Join(b.TempDir(), "crossdock.db"))
		h := newHandler(b, st, 1<<20)
		startRun(b, h)
		srv := httptest.NewServer(h)
		defer srv.Close()
		drive(b, srv.URL, body)
		b.StopTimer()
		if s := h.Stats(); s.Accepted != int64(b.N) {
			b.Errorf("stats = %+v, want Accepted %d", s, b.N)
		}
	})
}

// drive posts signed orders/create deliveries with unique webhook and
// event ids from 16×GOMAXPROCS goroutines.
func drive(b *testing.B, url string, body []byte) {
	sig := newDelivery(body, "").header().Get("X-Shopify-Hmac-Sha256")
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024, // one kept-alive connection per client goroutine
	}}
	defer client.CloseIdleConnections()
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := strconv.FormatInt(seq.Add(1), 10)
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header = http.Header{
				"Content-Type":           {"application/json"},
				"X-Shopify-Topic":        {"orders/create"},
				"X-Shopify-Shop-Domain":  {testShop},
				"X-Shopify-Api-Version":  {"2026-07"},
				"X-Shopify-Webhook-Id":   {"wh-" + id},
				"X-Shopify-Event-Id":     {"ev-" + id},
				"X-Shopify-Triggered-At": {"2026-11-20T10:00:00.000Z"},
				"X-Shopify-Hmac-Sha256":  {sig},
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
