// Package telemetry exposes the hub's Prometheus metrics at /metrics:
// webhook ingest counters, job queue depth by kind and state, job queue
// wait and run time by kind, stock sync lag per shop, Shopify
// throttle headroom per shop, the lag of each warehouse feed, open
// discrepancies by kind and alert notices sent.
// Values are read when Prometheus scrapes, from the components that own
// them, so nothing is counted twice.
package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crossdock/crossdock/internal/ingest"
	"github.com/crossdock/crossdock/internal/reconcile"
	"github.com/crossdock/crossdock/internal/stock"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/tenant"
	"github.com/crossdock/crossdock/internal/wmsfeed"
)

// Sources are the components the metrics are read from.
type Sources struct {
	Store   *store.Store
	Ingest  *ingest.Handler
	Tenants *tenant.Registry
	Pollers []*wmsfeed.Poller
	Logger  *slog.Logger
	// Jobs, when set, adds the job latency histograms.
	Jobs *JobLatency
}

// Handler returns the /metrics handler.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&collector{src: src})
	for _, c := range src.Jobs.collectors() {
		reg.MustRegister(c)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logHandler(src.Logger), slog.LevelError)})
}

func logHandler(l *slog.Logger) slog.Handler {
	if l == nil {
		return slog.Default().Handler()
	}
	return l.Handler()
}

var (
	webhooksDesc = prometheus.NewDesc("crossdock_webhooks_total", "Shopify webhook deliveries by outcome at the endpoint.", []string{"outcome"}, nil)
	jobsDesc     = prometheus.NewDesc("crossdock_jobs", "Jobs in the queue by kind and state.", []string{"kind", "state"}, nil)
	throttleDesc = prometheus.NewDesc("crossdock_shopify_throttle_available_points", "Shopify cost points currently available, as last reported by throttleStatus.", []string{"shop"}, nil)
	throttleMax  = prometheus.NewDesc("crossdock_shopify_throttle_maximum_points", "Shopify cost bucket size, as last reported by throttleStatus.", []string{"shop"}, nil)
	lagDesc      = prometheus.NewDesc("crossdock_wms_feed_lag_seconds", "Seconds since a warehouse's event feed was last read successfully.", []string{"shop", "warehouse"}, nil)
	eventsDesc   = prometheus.NewDesc("crossdock_wms_events_total", "Warehouse events applied and duplicates skipped.", []string{"shop", "warehouse", "kind"}, nil)
	ordersDesc   = prometheus.NewDesc("crossdock_orders", "Orders known to the hub by state.", []string{"state"}, nil)
	discrepDesc  = prometheus.NewDesc("crossdock_discrepancies_open", "Open discrepancies found by reconciliation, by kind.", []string{"kind"}, nil)
	stockAgeDesc = prometheus.NewDesc("crossdock_stock_sync_age_seconds", "Seconds since the shop's last stock sync finished without error (stock sync lag).", []string{"shop"}, nil)
	alertsDesc   = prometheus.NewDesc("crossdock_alerts_sent_total", "Alert notices sent, by channel, notice (firing, resolved) and outcome (delivered, failed).", []string{"channel", "notice", "outcome"}, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{webhooksDesc, jobsDesc, throttleDesc, throttleMax, lagDesc, eventsDesc, ordersDesc, discrepDesc, alertsDesc, stockAgeDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Ingest != nil {
		s := c.src.Ingest.Stats()
		for outcome, v := range map[string]int64{"accepted": s.Accepted, "duplicate": s.Duplicates, "quarantined": s.Quarantined,
			"ignored": s.Ignored, "unauthorized": s.Unauthorized, "too_large": s.TooLarge, "failed": s.Failed} {
			ch <- prometheus.MustNewConstMetric(webhooksDesc, prometheus.CounterValue, float64(v), outcome)
		}
	}
	if c.src.Tenants != nil {
		for _, s := range c.src.Tenants.Shops() {
			ts := s.Shopify.ThrottleStatus()
			if ts.MaximumAvailable > 0 {
				ch <- prometheus.MustNewConstMetric(throttleDesc, prometheus.GaugeValue, ts.CurrentlyAvailable, s.Domain)
				ch <- prometheus.MustNewConstMetric(throttleMax, prometheus.GaugeValue, ts.MaximumAvailable, s.Domain)
			}
		}
	}
	for _, p := range c.src.Pollers {
		h := p.Health()
		if !h.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, time.Since(h.LastSuccess).Seconds(), p.Shop, p.Warehouse)
		}
		ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(h.Events), p.Shop, p.Warehouse, "applied")
		ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(h.Duplicates), p.Shop, p.Warehouse, "duplicate")
	}
	if c.src.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.src.Store.Read.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM river_job WHERE state NOT IN ('completed') GROUP BY kind, state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n float64
		if err := rows.Scan(&kind, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(jobsDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, n, kind, state)
	}
	counts, err := store.CountOrdersByState(ctx, c.src.Store.Read, "")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(ordersDesc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(n), state)
	}
	if c.src.Tenants != nil {
		for _, s := range c.src.Tenants.Shops() {
			v, err := store.Cursor(ctx, c.src.Store.Read, s.Domain, stock.FinishedCursor)
			if err != nil || v == "" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(stockAgeDesc, prometheus.GaugeValue, time.Since(at).Seconds(), s.Domain)
		}
	}
	c.collectDetect(ctx, ch)
}

// collectDetect reports the open discrepancies by kind (every kind
// reconciliation knows and the stock engine's quarantined lines, 0 when
// none is open) and the alert notices sent.
func (c *collector) collectDetect(ctx context.Context, ch chan<- prometheus.Metric) {
	open, err := store.CountOpenDiscrepanciesByKind(ctx, c.src.Store.Read, "")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(discrepDesc, err)
		return
	}
	for _, k := range append(reconcile.Kinds(), stock.KindLineRejected) {
		if _, ok := open[k]; !ok {
			open[k] = 0
		}
	}
	for kind, n := range open {
		ch <- prometheus.MustNewConstMetric(discrepDesc, prometheus.GaugeValue, float64(n), kind)
	}
	sent, err := store.CountAlerts(ctx, c.src.Store.Read)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(alertsDesc, err)
		return
	}
	for _, a := range sent {
		outcome := "delivered"
		if !a.Delivered {
			outcome = "failed"
		}
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.CounterValue, float64(a.N), a.Channel, a.Notice, outcome)
	}
}
