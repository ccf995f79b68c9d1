//go:build crossdock_break_dedupe

package ingest

import (
	"crypto/rand"
	"encoding/hex"
)

// dedupeKeys, in a build with the crossdock_break_dedupe tag, makes every
// delivery unique: the inbox stores duplicates and processes them again.
// It exists only to show that `crossdock scenario run` fails on such a hub
// (see cmd/crossdock/scenario_test.go); never ship a build with the tag.
func dedupeKeys(webhookID, eventID string) (string, string) {
	b := make([]byte, 8)
	rand.Read(b)
	n := "#" + hex.EncodeToString(b)
	return webhookID + n, eventID + n
}
