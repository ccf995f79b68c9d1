package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/crossdock/crossdock/internal/queue"
	"github.com/crossdock/crossdock/internal/store"
	"github.com/crossdock/crossdock/internal/store/storetest"
)

type probeArgs struct{}

func (probeArgs) Kind() string { return "test.probe" }

// TestRecoverOrphans: on the embedded store a job the dead process left
// running is available again and the dead process's leadership is gone; on
// PostgreSQL nothing is touched (other instances may own running jobs).
func TestRecoverOrphans(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storetest.Open(t, d)
			jobs, err := queue.NewClient(queue.Config{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			res, err := jobs.Insert(ctx, probeArgs{}, &river.InsertOpts{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 3 WHERE id = $1`, res.Job.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write.ExecContext(ctx, `INSERT INTO river_leader (elected_at, expires_at, leader_id) VALUES ($1, $2, 'dead-process')`,
				time.Now().UTC(), time.Now().Add(time.Hour).UTC()); err != nil {
				t.Fatal(err)
			}
			n, err := st.RecoverOrphans(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var state string
			var attempt int
			if err := st.Read.QueryRowContext(ctx, `SELECT state, attempt FROM river_job WHERE id = $1`, res.Job.ID).Scan(&state, &attempt); err != nil {
				t.Fatal(err)
			}
			// The interrupted attempt stays counted (workers read it).
			want, wantN, wantAttempt := "available", int64(1), 3
			if d == store.Postgres {
				want, wantN, wantAttempt = "running", 0, 3
			}
			if state != want || n != wantN || attempt != wantAttempt {
				t.Fatalf("after RecoverOrphans: state %q, recovered %d, attempt %d; want %q, %d, %d", state, n, attempt, want, wantN, wantAttempt)
			}
			var leaders int
			if err := st.Read.QueryRowContext(ctx, `SELECT count(*) FROM river_leader`).Scan(&leaders); err != nil {
				t.Fatal(err)
			}
			if wantLeaders := map[store.Dialect]int{store.SQLite: 0, store.Postgres: 1}[d]; leaders != wantLeaders {
				t.Fatalf("leaders = %d, want %d", leaders, wantLeaders)
			}
		})
	}
}
