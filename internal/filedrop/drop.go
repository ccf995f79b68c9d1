// Package filedrop is the file-exchange transport used by file-based
// warehouse connectors (CSV, X12 over SFTP; see WMS.md §3).
//
// A Drop is a partner's file area addressed with slash-separated paths
// relative to its root ("in/ord_1.csv"). Local serves a directory on disk,
// SFTP serves a remote account over SSH. A Poller watches an inbox folder and
// hands each stable file to a handler exactly once per name + content hash,
// then moves it to archive/ or error/.
package filedrop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotConnected marks transport failures (dial, handshake, lost
// connection, I/O timeout). Callers should back off and retry; the SFTP
// implementation reconnects on the next call.
var ErrNotConnected = errors.New("filedrop: not connected")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("filedrop: drop closed")

// ErrInvalidPath is returned for absolute paths, paths escaping the root
// with "..", and invalid file names.
var ErrInvalidPath = errors.New("filedrop: invalid path")

// FileInfo describes one directory entry.
type FileInfo struct {
	Name    string    // base name
	Path    string    // slash path relative to the drop root, e.g. "in/a.csv"
	Size    int64     // bytes
	ModTime time.Time // SFTP servers report whole seconds
	IsDir   bool
}

// Drop is a file exchange with one partner. Paths are slash-separated and
// relative to the drop root. Missing files yield errors matching
// fs.ErrNotExist; Move onto an existing file yields fs.ErrExist.
// Implementations are safe for concurrent use.
type Drop interface {
	// List returns the entries of dir (files and directories), unsorted.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Read returns the whole content of the file at p.
	Read(ctx context.Context, p string) ([]byte, error)
	// WriteAtomic writes data to dir/".tmp-<name>-<random>" and renames it
	// to dir/name, so readers never see a partial dir/name. An existing
	// dir/name is replaced when the transport supports it (local, SFTP with
	// posix-rename@openssh.com).
	WriteAtomic(ctx context.Context, dir, name string, data []byte) error
	// Move renames from to to; it refuses to overwrite (fs.ErrExist).
	Move(ctx context.Context, from, to string) error
	// MkdirAll creates dir and its parents.
	MkdirAll(ctx context.Context, dir string) error
	// Close releases the connection (SFTP: further calls return ErrClosed).
	Close() error
}

// IsRetryable reports whether err is a transport failure worth retrying
// after a back-off.
func IsRetryable(err error) bool { return errors.Is(err, ErrNotConnected) }

// cleanPath normalises a drop-relative path and rejects escapes.
func cleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	c := path.Clean(p)
	if strings.ContainsRune(c, 0) || !filepath.IsLocal(filepath.FromSlash(c)) && c != "." {
		return "", fmt.Errorf("%w: %q", ErrInvalidPath, p)
	}
	return c, nil
}

func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("%w: file name %q", ErrInvalidPath, name)
	}
	return nil
}

// TempPrefix starts the name of every temporary file written by WriteAtomic.
// Pollers ignore names starting with ".".
const TempPrefix = ".tmp-"

func tempName(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return TempPrefix + name + "-" + hex.EncodeToString(b[:])
}

func ctxErr(ctx context.Context, op, p string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filedrop: %s %q: %w", op, p, err)
	}
	return nil
}
