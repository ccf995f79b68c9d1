package ediwms

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

// cancelRecord is what the connector knows about the cancel of one order.
type cancelRecord struct {
	// RequestedAt is when our 940 W05 F was first known to be sent.
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// Answer is "" (none yet), "cancelled" or "shipped".
	Answer string `json:"answer,omitempty"`
	// Detail says where the answer came from (file and 945).
	Detail     string    `json:"detail,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
}

// Answers of a cancelRecord.
const (
	answerCancelled = "cancelled"
	answerShipped   = "shipped"
)

// cancelBook holds the cancel requests and the warehouse's answers per
// external reference; with a path it is kept in a JSON file written
// atomically (temporary name, then rename). Records older than cancelKeep
// are dropped on save.
type cancelBook struct {
	path string // "" = memory only

	mu    sync.Mutex
	byRef map[string]*cancelRecord
}

// cancelKeep is how long a cancel record is kept in the file.
const cancelKeep = 90 * 24 * time.Hour

func (b *cancelBook) load() error {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ediwms: cancels: %w", err)
	}
	if err := json.Unmarshal(data, &b.byRef); err != nil {
		return fmt.Errorf("ediwms: cancels file %s is damaged: %w", b.path, err)
	}
	if b.byRef == nil {
		b.byRef = map[string]*cancelRecord{}
	}
	return nil
}

// answer returns the CancelResult for ref once the warehouse answered.
func (b *cancelBook) answer(ref string) (connector.CancelResult, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byRef[ref]
	switch {
	case r == nil:
		return connector.CancelResult{}, false
	case r.Answer == answerCancelled:
		return connector.CancelResult{Cancelled: true, Reason: r.Detail}, true
	case r.Answer == answerShipped:
		return connector.CancelResult{Cancelled: false, Reason: "already shipped (" + r.Detail + ")"}, true
	}
	return connector.CancelResult{}, false
}

// requested records that a cancel was sent for ref (first time: now) and
// returns when.
func (b *cancelBook) requested(ref string, now time.Time) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byRef[ref]
	if r == nil {
		r = &cancelRecord{}
		b.byRef[ref] = r
	}
	if !r.RequestedAt.IsZero() {
		return r.RequestedAt, nil
	}
	r.RequestedAt = now.UTC()
	return r.RequestedAt, b.saveLocked(now)
}

// answered records the warehouse's answer for ref; the first answer wins
// (a shipment after "cancelled" cannot happen in a sane feed and is kept
// out of the cancel's answer). A shipment is recorded only for a reference
// with a cancel requested: the hub knows shipped orders from its own
// database and does not ask to cancel them, and a replayed 945 answers a
// cancel requested later.
func (b *cancelBook) answered(ref, answer, detail string, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byRef[ref]
	if answer == answerShipped && (r == nil || r.RequestedAt.IsZero()) {
		return nil
	}
	if r == nil {
		r = &cancelRecord{}
		b.byRef[ref] = r
	}
	if r.Answer != "" {
		return nil
	}
	r.Answer, r.Detail, r.AnsweredAt = answer, detail, now.UTC()
	return b.saveLocked(now)
}

func (b *cancelBook) saveLocked(now time.Time) error {
	if b.path == "" {
		return nil
	}
	for ref, r := range b.byRef {
		t := r.RequestedAt
		if r.AnsweredAt.After(t) {
			t = r.AnsweredAt
		}
		if t.Before(now.Add(-cancelKeep)) {
			delete(b.byRef, ref)
		}
	}
	data, err := json.MarshalIndent(b.byRef, "", "  ")
	if err != nil {
		return fmt.Errorf("ediwms: cancels: %w", err)
	}
	if err := writeFileAtomic(b.path, append(data, '\n')); err != nil {
		return fmt.Errorf("ediwms: save cancels %s: %w", b.path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, statePerm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
