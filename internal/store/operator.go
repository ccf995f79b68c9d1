package store

import (
	"context"
	"fmt"
	"time"
)

// Action is something an operator did, with who and why.
type Action struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// RecordAction stores an operator action.
func RecordAction(ctx context.Context, q Querier, a Action) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO operator_action (at, actor, action, target, reason) VALUES ($1,$2,$3,$4,$5)`,
		a.At.UTC(), a.Actor, a.Action, a.Target, a.Reason)
	if err != nil {
		return fmt.Errorf("store: record action: %w", err)
	}
	return nil
}

// Actions lists the actions on a target ("" = all), newest first.
func Actions(ctx context.Context, q Querier, target string, limit int) ([]Action, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor, action, target, reason FROM operator_action
		WHERE ($1 = '' OR target = $1) ORDER BY id DESC LIMIT $2`, target, limit)
	if err != nil {
		return nil, fmt.Errorf("store: actions: %w", err)
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		if err := rows.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.Target, &a.Reason); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// EditDeadJobArgs replaces the payload of a dead job (discarded or
// cancelled) before an operator retries it. It refuses a job in any other
// state: a job that may still run must not change under its worker.
func EditDeadJobArgs(ctx context.Context, q Querier, jobID int64, args []byte) error {
	res, err := q.ExecContext(ctx, `UPDATE river_job SET args = $1 WHERE id = $2 AND state IN ('discarded', 'cancelled')`, args, jobID)
	if err != nil {
		return fmt.Errorf("store: edit job %d payload: %w", jobID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: job %d is not a dead letter; its payload was not changed", jobID)
	}
	return nil
}
