package connectortest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/crossdock/crossdock/internal/filedrop"
)

// FlakyDrop wraps a filedrop.Drop and fails every call with a transport error
// (filedrop.ErrNotConnected) while it is down, to rehearse an outage.
type FlakyDrop struct {
	filedrop.Drop
	down atomic.Bool
}

// SetDown starts or ends the outage.
func (f *FlakyDrop) SetDown(down bool) { f.down.Store(down) }

func (f *FlakyDrop) err() error {
	if f.down.Load() {
		return fmt.Errorf("%w: simulated outage", filedrop.ErrNotConnected)
	}
	return nil
}

// List lists dir unless down.
func (f *FlakyDrop) List(ctx context.Context, dir string) ([]filedrop.FileInfo, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Drop.List(ctx, dir)
}

// Read reads p unless down.
func (f *FlakyDrop) Read(ctx context.Context, p string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Drop.Read(ctx, p)
}

// WriteAtomic writes unless down.
func (f *FlakyDrop) WriteAtomic(ctx context.Context, dir, name string, data []byte) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Drop.WriteAtomic(ctx, dir, name, data)
}

// Move moves unless down.
func (f *FlakyDrop) Move(ctx context.Context, from, to string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Drop.Move(ctx, from, to)
}

// MkdirAll creates dir unless down.
func (f *FlakyDrop) MkdirAll(ctx context.Context, dir string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Drop.MkdirAll(ctx, dir)
}
