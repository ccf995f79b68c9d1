package hub

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/alert"
	"github.com/crossdock/crossdock/internal/reconcile"
)

// wireDetect adds reconciliation (one periodic reconcile.run per shop every
// reconcile.interval) and, when channels are configured, the alerts (one
// periodic alerts.evaluate). Both take a lease in the store before working,
// so with several instances one of them works each shop at a time. It runs
// after the job client exists and before it starts.
func (h *Hub) wireDetect(workers *river.Workers) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	holder := hex.EncodeToString(b)
	h.Reconcile = &reconcile.Worker{Store: h.Store, Jobs: h.Jobs, Tenants: h.Tenants, Logger: h.logger, Config: h.Config.Reconcile,
		WebhookURI: strings.TrimRight(h.Config.PublicURL, "/") + WebhookPath, Holder: holder}
	river.AddWorker(workers, h.Reconcile)
	every := h.Config.Reconcile.Interval.Std(reconcile.DefaultInterval)
	for _, s := range h.Tenants.Shops() {
		shop := s.Domain
		h.Jobs.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return reconcile.Args{Shop: shop}, nil }, nil))
	}
	if len(h.Config.Alerts.Channels) == 0 {
		return nil
	}
	n, err := alert.New(h.Store, h.Config.Alerts, nil, h.logger)
	if err != nil {
		return err
	}
	h.Alerts = n
	river.AddWorker(workers, &alert.Worker{Notifier: n, Holder: holder})
	h.Jobs.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(h.Config.Alerts.EvaluateInterval.Std(alert.EvaluateEvery)),
		func() (river.JobArgs, *river.InsertOpts) { return alert.Args{}, nil }, nil))
	return nil
}
