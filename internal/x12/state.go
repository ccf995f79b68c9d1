package x12

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// StateReserve is how many control numbers [FileState] reserves per write:
// Next saves only when it leaves the reserved block, so a restart (or a
// crash) skips at most StateReserve-1 numbers and never reuses one. Gaps in
// control numbers are allowed by X12; duplicates are not.
const StateReserve = 50

// StateKeepAcked is how long [FileState] keeps a group after its 997
// arrived (a late duplicate 997 still matches it); unacknowledged groups
// are kept until acknowledged.
const StateKeepAcked = 30 * 24 * time.Hour

// FileState is the X12 state of one trading partner, kept in one small JSON
// file so that it survives restarts of a process that has no database (the
// file-based connectors):
//
//   - the last interchange, group and set control numbers handed out, so a
//     restarted process never sends an ISA13/GS06/ST02 the partner has
//     already seen;
//   - the functional groups sent to the partner and whether their 997 came
//     back (see [Pending997s]), so missing 997s are still reported after a
//     restart.
//
// The file is "<dir>/<escaped partner>.x12state.json" (see [StatePath]). It
// is replaced atomically on every change: written to a temporary file in the
// same directory, synced, then renamed over the old one, so a crash leaves
// either the old or the new state, never a torn one. The file holds, per
// envelope level, the end of the block of [StateReserve] numbers reserved
// so far; Next saves a new block before it returns its first number (a
// restart continues after the block: numbers may be skipped, never
// reused). One
// process owns a partner's file at a time; two processes sharing a state
// directory for the same partner would hand out the same numbers.
//
// FileState implements [ControlNumbers] for its partner only: Next refuses
// another partner key. It is safe for concurrent use.
type FileState struct {
	path    string
	partner string
	pending *Pending997s

	mu       sync.Mutex
	last     [3]int64 // interchange, group, set: last handed out
	reserved [3]int64 // end of the block saved in the file
}

// stateFile is the JSON form of a FileState.
type stateFile struct {
	Partner     string      `json:"partner"`
	Interchange int64       `json:"reserved_interchange_control"`
	Group       int64       `json:"reserved_group_control"`
	Set         int64       `json:"reserved_set_control"`
	Sent        []SentGroup `json:"sent_groups"`
	SavedAt     time.Time   `json:"saved_at"`
}

// StatePath returns the file [OpenFileState] uses for partner in dir:
// letters, digits, '.' and '-' are kept, every other byte is written as
// '_' and two hex digits, so distinct partners never share a file.
func StatePath(dir, partner string) string {
	var b strings.Builder
	for i := 0; i < len(partner); i++ {
		c := partner[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return filepath.Join(dir, b.String()+".x12state.json")
}

// OpenFileState loads partner's state from dir, creating dir when missing;
// a partner never seen starts with control numbers at 1 and nothing pending.
// A file that exists but does not decode, or belongs to another partner, is
// an error: guessing would risk reusing control numbers.
func OpenFileState(dir, partner string) (*FileState, error) {
	if partner == "" {
		return nil, errors.New("x12: state: empty partner")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("x12: state: %w", err)
	}
	s := &FileState{path: StatePath(dir, partner), partner: partner, pending: &Pending997s{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("x12: state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("x12: state file %s is damaged (fix or restore it; deleting it restarts control numbers at 1): %w", s.path, err)
	}
	if f.Partner != partner {
		return nil, fmt.Errorf("x12: state file %s belongs to partner %q, not %q", s.path, f.Partner, partner)
	}
	s.last = [3]int64{f.Interchange, f.Group, f.Set}
	s.reserved = s.last
	for i := range f.Sent {
		f.Sent[i].Partner = partner
	}
	s.pending.Restore(f.Sent)
	return s, nil
}

// Path returns the state file's path.
func (s *FileState) Path() string { return s.path }

// Partner returns the partner key the state belongs to.
func (s *FileState) Partner() string { return s.partner }

// Pending returns the partner's groups awaiting a 997, as loaded from the
// file. After recording a group sent or a 997 received in it, call Save.
func (s *FileState) Pending() *Pending997s { return s.pending }

// Last returns the last control number handed out for kind (0: none yet).
func (s *FileState) Last(kind Kind) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind < KindInterchange || kind > KindSet {
		return 0
	}
	return s.last[kind-1]
}

// Next implements [ControlNumbers]: it returns last+1 for kind (wrapping
// after [MaxControlNumber] to 1), saving a new reserved block first when
// last+1 is outside the current one.
func (s *FileState) Next(ctx context.Context, partner string, kind Kind) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if partner != s.partner {
		return 0, fmt.Errorf("x12: state for %q asked for a control number of partner %q", s.partner, partner)
	}
	if kind < KindInterchange || kind > KindSet {
		return 0, fmt.Errorf("x12: invalid control number kind %d", int(kind))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := kind - 1
	n := s.last[i] + 1
	if n > MaxControlNumber || n < 1 {
		n = 1
	}
	if n > s.reserved[i] || n == 1 {
		old := s.reserved[i]
		s.reserved[i] = min(n+StateReserve-1, MaxControlNumber)
		if err := s.saveLocked(); err != nil {
			s.reserved[i] = old
			return 0, err
		}
	}
	s.last[i] = n
	return n, nil
}

// Save writes the state (control numbers and the pending groups) to the
// file atomically. Acknowledged groups older than [StateKeepAcked] are
// dropped.
func (s *FileState) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *FileState) saveLocked() error {
	now := time.Now().UTC()
	s.pending.Prune(now.Add(-StateKeepAcked))
	f := stateFile{Partner: s.partner, Interchange: s.reserved[0], Group: s.reserved[1], Set: s.reserved[2], Sent: s.pending.Records(), SavedAt: now}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("x12: state: %w", err)
	}
	if err := writeFileAtomic(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("x12: save state %s: %w", s.path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it,
// renames it over path and syncs the directory.
func writeFileAtomic(path string, data []byte) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
