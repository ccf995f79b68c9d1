package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
)

// JobLatency holds the job latency histograms: time waiting in the queue
// and time running, by job kind and outcome. Observe feeds them from the
// job client's events.
type JobLatency struct {
	wait, run *prometheus.HistogramVec
}

// NewJobLatency returns empty histograms.
func NewJobLatency() *JobLatency {
	buckets := []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}
	return &JobLatency{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "crossdock_job_queue_wait_seconds",
			Help: "Time jobs waited in the queue before running, by kind.", Buckets: buckets}, []string{"kind"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "crossdock_job_run_seconds",
			Help: "Time jobs ran, by kind and outcome (completed, failed, snoozed, cancelled).", Buckets: buckets}, []string{"kind", "outcome"}),
	}
}

// Observe records the latencies of the jobs the client works until ctx
// ends. It returns at once; the subscription runs in a goroutine.
func (j *JobLatency) Observe(ctx context.Context, c interface {
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}) {
	events, cancel := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobSnoozed, river.EventKindJobCancelled)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				if e.Job == nil || e.JobStats == nil {
					continue
				}
				outcome := map[river.EventKind]string{river.EventKindJobCompleted: "completed", river.EventKindJobFailed: "failed",
					river.EventKindJobSnoozed: "snoozed", river.EventKindJobCancelled: "cancelled"}[e.Kind]
				j.wait.WithLabelValues(e.Job.Kind).Observe(e.JobStats.QueueWaitDuration.Seconds())
				j.run.WithLabelValues(e.Job.Kind, outcome).Observe(e.JobStats.RunDuration.Seconds())
			}
		}
	}()
}

// collectors returns the histograms to register.
func (j *JobLatency) collectors() []prometheus.Collector {
	if j == nil {
		return nil
	}
	return []prometheus.Collector{j.wait, j.run}
}
