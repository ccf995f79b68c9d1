package queue

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
)

func TestRetryPolicyIsCappedErrorsToTheFourth(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Cap: MaxRetryDelay}
	for _, c := range []struct {
		errors int
		want   time.Duration
	}{{1, time.Second}, {2, 16 * time.Second}, {3, 81 * time.Second}, {4, 256 * time.Second}, {5, MaxRetryDelay}, {24, MaxRetryDelay}, {300, MaxRetryDelay}} {
		job := &rivertype.JobRow{Errors: make([]rivertype.AttemptError, c.errors)}
		for range 20 {
			got := time.Until(p.NextRetry(job))
			if lo, hi := c.want*9/10-time.Second, c.want*11/10+time.Second; got < lo || got > hi {
				t.Fatalf("%d errors: next retry in %v, want %v ± 10%%", c.errors, got, c.want)
			}
		}
	}
}
