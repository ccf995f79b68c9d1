package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crossdock/crossdock/internal/config"
	"github.com/crossdock/crossdock/internal/store"
)

// configCursor keeps the effective configuration (secrets masked) the hub
// last started with, to tell what changed.
const configCursor = "config:effective"

// AuditConfig records a configuration change: when the effective
// configuration (secrets masked, so a rotated secret shows only as its
// masked form) differs from the one the hub last started with, an
// operator action "config_changed" on target "config" says which lines
// changed, by whom (the process's user) and when. The first start records
// "config_loaded".
func AuditConfig(ctx context.Context, st *store.Store, cfg *config.Config) (changed bool, err error) {
	b, err := yaml.Marshal(cfg.Masked())
	if err != nil {
		return false, fmt.Errorf("hub: audit config: %w", err)
	}
	cur := string(b)
	prev, err := store.Cursor(ctx, st.Read, "", configCursor)
	if err != nil {
		return false, err
	}
	if prev == cur {
		return false, nil
	}
	actor := os.Getenv("USER")
	if actor == "" {
		actor = "crossdock"
	}
	action, reason := "config_loaded", fmt.Sprintf("first start with this configuration (sha256 %s)", digest(cur))
	if prev != "" {
		action, reason = "config_changed", "changed lines: "+lineDiff(prev, cur)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := store.RecordAction(ctx, tx, store.Action{At: time.Now(), Actor: actor, Action: action, Target: "config", Reason: reason}); err != nil {
			return err
		}
		return store.SetCursor(ctx, tx, "", configCursor, cur)
	})
	return err == nil, err
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// lineDiff lists the lines removed (−) and added (+), at most 20.
func lineDiff(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[strings.TrimRight(l, " ")]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if ca[l] > cb[l] {
			out = append(out, "− "+strings.TrimSpace(l))
			ca[l]--
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if cb[l] > count(a)[l] {
			out = append(out, "+ "+strings.TrimSpace(l))
			cb[l]--
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… %d more", len(out)-20))
	}
	return strings.Join(out, "; ")
}
