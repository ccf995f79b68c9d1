//go:build !crossdock_break_dedupe

package ingest

// dedupeKeys returns the keys the inbox deduplicates deliveries on: the
// delivery's webhook id and its event id. A build with the
// crossdock_break_dedupe tag replaces it (dedupe_broken.go) to prove that
// the scenario catalogue catches a hub that stores duplicates.
func dedupeKeys(webhookID, eventID string) (string, string) { return webhookID, eventID }
