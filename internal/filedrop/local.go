package filedrop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Local is a Drop backed by a directory on disk (a mounted share, a local
// SFTP chroot, tests).
type Local struct {
	root string

	// beforeRename, when set (tests), runs after the temporary file is
	// complete and before it is renamed to its final name.
	beforeRename func(tmpPath string)
}

var _ Drop = (*Local)(nil)

// NewLocal returns a Drop rooted at dir, which must exist.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filedrop: local root %q: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("filedrop: local root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("filedrop: local root %q is not a directory", dir)
	}
	return &Local{root: abs}, nil
}

func (l *Local) abs(p string) (string, string, error) {
	c, err := cleanPath(p)
	if err != nil {
		return "", "", err
	}
	return c, filepath.Join(l.root, filepath.FromSlash(c)), nil
}

func (l *Local) List(ctx context.Context, dir string) ([]FileInfo, error) {
	if err := ctxErr(ctx, "list", dir); err != nil {
		return nil, err
	}
	rel, full, err := l.abs(dir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(full)
	if err != nil {
		return nil, fmt.Errorf("filedrop: list %q: %w", dir, err)
	}
	out := make([]FileInfo, 0, len(ents))
	for _, e := range ents {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("filedrop: list %q: %w", dir, err)
		}
		out = append(out, FileInfo{Name: e.Name(), Path: path.Join(rel, e.Name()), Size: fi.Size(), ModTime: fi.ModTime(), IsDir: fi.IsDir()})
	}
	return out, nil
}

func (l *Local) Read(ctx context.Context, p string) ([]byte, error) {
	if err := ctxErr(ctx, "read", p); err != nil {
		return nil, err
	}
	_, full, err := l.abs(p)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("filedrop: read %q: %w", p, err)
	}
	return b, nil
}

func (l *Local) WriteAtomic(ctx context.Context, dir, name string, data []byte) (err error) {
	if err := ctxErr(ctx, "write", name); err != nil {
		return err
	}
	if err := validName(name); err != nil {
		return err
	}
	_, full, err := l.abs(dir)
	if err != nil {
		return err
	}
	tmp := filepath.Join(full, tempName(name))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("filedrop: write %q: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("filedrop: write %q: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("filedrop: write %q: sync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("filedrop: write %q: close: %w", name, err)
	}
	if l.beforeRename != nil {
		l.beforeRename(tmp)
	}
	if err := os.Rename(tmp, filepath.Join(full, name)); err != nil {
		return fmt.Errorf("filedrop: write %q: rename: %w", name, err)
	}
	return nil
}

func (l *Local) Move(ctx context.Context, from, to string) error {
	if err := ctxErr(ctx, "move", from); err != nil {
		return err
	}
	_, src, err := l.abs(from)
	if err != nil {
		return err
	}
	_, dst, err := l.abs(to)
	if err != nil {
		return err
	}
	// Best effort no-overwrite: os.Rename replaces silently on Unix.
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("filedrop: move %q to %q: %w", from, to, fs.ErrExist)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("filedrop: move %q to %q: %w", from, to, err)
	}
	return nil
}

func (l *Local) MkdirAll(ctx context.Context, dir string) error {
	if err := ctxErr(ctx, "mkdir", dir); err != nil {
		return err
	}
	_, full, err := l.abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(full, 0o755); err != nil {
		return fmt.Errorf("filedrop: mkdir %q: %w", dir, err)
	}
	return nil
}

// Close is a no-op for Local.
func (l *Local) Close() error { return nil }
