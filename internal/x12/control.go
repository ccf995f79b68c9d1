package x12

import (
	"context"
	"fmt"
	"sync"
)

// Kind names the envelope level a control number is for.
type Kind int

// Envelope levels for [ControlNumbers].
const (
	KindInterchange Kind = iota + 1 // ISA13/IEA02
	KindGroup                       // GS06/GE02
	KindSet                         // ST02/SE02
)

// String returns "interchange", "group" or "set".
func (k Kind) String() string {
	switch k {
	case KindInterchange:
		return "interchange"
	case KindGroup:
		return "group"
	case KindSet:
		return "set"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MaxControlNumber is the largest control number that fits ISA13/GS06 (nine digits).
const MaxControlNumber = 999_999_999

// ControlNumbers hands out rising control numbers per trading partner and
// envelope level. Implementations must be safe for concurrent use; a number
// once returned must not be returned again for the same partner and kind
// (until it wraps after [MaxControlNumber]).
type ControlNumbers interface {
	Next(ctx context.Context, partner string, kind Kind) (int64, error)
}

// MemoryControlNumbers is an in-memory [ControlNumbers]; numbers start at 1
// (or after the value set with Set) and wrap from MaxControlNumber to 1.
// The zero value is ready to use.
type MemoryControlNumbers struct {
	mu   sync.Mutex
	last map[memKey]int64
}

type memKey struct {
	partner string
	kind    Kind
}

// Set makes the next number for partner and kind be last+1.
func (m *MemoryControlNumbers) Set(partner string, kind Kind, last int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[memKey]int64{}
	}
	m.last[memKey{partner, kind}] = last
}

// Next implements [ControlNumbers].
func (m *MemoryControlNumbers) Next(ctx context.Context, partner string, kind Kind) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if kind < KindInterchange || kind > KindSet {
		return 0, fmt.Errorf("x12: invalid control number kind %d", int(kind))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[memKey]int64{}
	}
	k := memKey{partner, kind}
	n := m.last[k] + 1
	if n > MaxControlNumber || n < 1 {
		n = 1
	}
	m.last[k] = n
	return n, nil
}
