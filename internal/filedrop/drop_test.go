package filedrop

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"github.com/crossdock/crossdock/internal/filedrop/filedroptest"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// env is one backend under test. open returns another, independent Drop on
// the same storage (a second reader / connection).
type env struct {
	name   string
	root   string // directory on disk behind the drop
	drop   Drop
	open   func(t *testing.T) Drop
	server *filedroptest.Server // nil for Local
	hook   func(fn func(tmpPath string))
}

func setupLocal(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	open := func(t *testing.T) Drop {
		t.Helper()
		l, err := NewLocal(root)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open(t).(*Local)
	return &env{name: "local", root: root, drop: l, open: open, hook: func(fn func(string)) { l.beforeRename = fn }}
}

func setupSFTP(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	srv := filedroptest.NewServer(t, root, nil)
	open := func(t *testing.T) Drop {
		t.Helper()
		d, err := NewSFTP(SFTPConfig{Addr: srv.Addr(), User: filedroptest.User, Password: filedroptest.Password, HostKey: srv.HostKey(),
			DialTimeout: 5 * time.Second, OpTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
	d := open(t).(*SFTP)
	return &env{name: "sftp", root: root, drop: d, open: open, server: srv, hook: func(fn func(string)) { d.beforeRename = fn }}
}

var backends = []struct {
	name  string
	setup func(t *testing.T) *env
}{{"local", setupLocal}, {"sftp", setupSFTP}, {"openssh", setupOpenSSH}}

// eachBackend runs f as a parallel subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.setup(t))
		})
	}
}

func names(infos []FileInfo) []string {
	var out []string
	for _, fi := range infos {
		out = append(out, fi.Name)
	}
	slices.Sort(out)
	return out
}

func mustList(t *testing.T, d Drop, dir string) []string {
	t.Helper()
	infos, err := d.List(t.Context(), dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return names(infos)
}

func TestDropListReadMove(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		d := e.drop
		for _, dir := range []string{"in", "archive/2026"} {
			if err := d.MkdirAll(ctx, dir); err != nil {
				t.Fatalf("MkdirAll(%q): %v", dir, err)
			}
		}
		if err := d.MkdirAll(ctx, "in"); err != nil {
			t.Fatalf("MkdirAll existing: %v", err)
		}
		want := []byte("order_id;sku\n1001;00042\n")
		if err := d.WriteAtomic(ctx, "in", "ord_1001.csv", want); err != nil {
			t.Fatalf("WriteAtomic: %v", err)
		}
		infos, err := d.List(ctx, "in")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(infos) != 1 || infos[0].Name != "ord_1001.csv" || infos[0].Path != "in/ord_1001.csv" ||
			infos[0].Size != int64(len(want)) || infos[0].IsDir || infos[0].ModTime.IsZero() {
			t.Fatalf("List(in) = %+v", infos)
		}
		if got := mustList(t, d, "."); !slices.Equal(got, []string{"archive", "in"}) {
			t.Fatalf("List(.) = %v", got)
		}
		got, err := d.Read(ctx, "in/ord_1001.csv")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Read = %q, %v; want %q", got, err, want)
		}
		// Replace in place.
		if err := d.WriteAtomic(ctx, "in", "ord_1001.csv", []byte("v2")); err != nil {
			t.Fatalf("WriteAtomic replace: %v", err)
		}
		if got, _ := d.Read(ctx, "in/ord_1001.csv"); string(got) != "v2" {
			t.Fatalf("after replace Read = %q", got)
		}
		if err := d.Move(ctx, "in/ord_1001.csv", "archive/2026/ord_1001.csv"); err != nil {
			t.Fatalf("Move: %v", err)
		}
		if got := mustList(t, d, "in"); len(got) != 0 {
			t.Fatalf("in after move = %v", got)
		}
		if b, err := os.ReadFile(filepath.Join(e.root, "archive", "2026", "ord_1001.csv")); err != nil || string(b) != "v2" {
			t.Fatalf("archived file on disk = %q, %v", b, err)
		}
		// Move refuses to overwrite.
		if err := d.WriteAtomic(ctx, "in", "ord_1001.csv", []byte("v3")); err != nil {
			t.Fatal(err)
		}
		if err := d.Move(ctx, "in/ord_1001.csv", "archive/2026/ord_1001.csv"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Move onto existing: err = %v, want fs.ErrExist", err)
		}
		// Missing files and bad paths.
		if _, err := d.Read(ctx, "in/nope.csv"); !errors.Is(err, fs.ErrNotExist) || IsRetryable(err) {
			t.Fatalf("Read missing: err = %v, want fs.ErrNotExist and not retryable", err)
		}
		if _, err := d.List(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("List missing: err = %v, want fs.ErrNotExist", err)
		}
		for _, p := range []string{"../x", "/etc/passwd", "in/../../x"} {
			if _, err := d.Read(ctx, p); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Read(%q): err = %v, want ErrInvalidPath", p, err)
			}
		}
		if err := d.WriteAtomic(ctx, "in", "a/b", nil); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("WriteAtomic name a/b: err = %v, want ErrInvalidPath", err)
		}
	})
}

func TestDropWriteAtomicNoPartialFile(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		if err := e.drop.MkdirAll(ctx, "out"); err != nil {
			t.Fatal(err)
		}
		reader := e.open(t)                                     // an independent reader (second connection)
		data := bytes.Repeat([]byte("shp;1001;1Z999\n"), 20000) // ~300 KB: many SFTP packets
		checked := false
		e.hook(func(tmpPath string) {
			checked = true
			infos, err := reader.List(ctx, "out")
			if err != nil {
				t.Errorf("reader List during write: %v", err)
				return
			}
			if len(infos) != 1 || !strings.HasPrefix(infos[0].Name, TempPrefix+"shp_1.csv-") {
				t.Errorf("during write, out/ = %+v; want only the temp file", infos)
				return
			}
			if filepath.Base(tmpPath) != infos[0].Name || infos[0].Size != int64(len(data)) {
				t.Errorf("temp file %q size %d, want %q size %d", infos[0].Name, infos[0].Size, filepath.Base(tmpPath), len(data))
			}
			if !Ignored(infos[0].Name) {
				t.Errorf("poller would not ignore temp name %q", infos[0].Name)
			}
			if _, err := reader.Read(ctx, "out/shp_1.csv"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("final name readable before rename: err = %v", err)
			}
		})
		if err := e.drop.WriteAtomic(ctx, "out", "shp_1.csv", data); err != nil {
			t.Fatalf("WriteAtomic: %v", err)
		}
		if !checked {
			t.Fatal("beforeRename hook not called")
		}
		if got := mustList(t, reader, "out"); !slices.Equal(got, []string{"shp_1.csv"}) {
			t.Fatalf("after write out/ = %v; want only shp_1.csv (temp renamed)", got)
		}
		got, err := reader.Read(ctx, "out/shp_1.csv")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Read after write: %d bytes, %v; want %d bytes", len(got), err, len(data))
		}
	})
}

func TestSFTPServerGoneIsRetryableAndReconnects(t *testing.T) {
	t.Parallel()
	e := setupSFTP(t)
	ctx := t.Context()
	if err := e.drop.MkdirAll(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	e.server.Stop()
	_, err := e.drop.List(ctx, "in")
	if !errors.Is(err, ErrNotConnected) || !IsRetryable(err) {
		t.Fatalf("List with server gone: err = %v, want ErrNotConnected", err)
	}
	// Still down: the reconnect attempt itself fails as retryable.
	if err := e.drop.WriteAtomic(ctx, "in", "a.csv", []byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("WriteAtomic with server down: err = %v, want ErrNotConnected", err)
	}
	e.server.Start()
	if got := mustList(t, e.drop, "in"); len(got) != 0 {
		t.Fatalf("after restart in/ = %v", got)
	}
}

func TestSFTPAuthAndHostKey(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := filedroptest.NewServer(t, t.TempDir(), sshPub)
	ctx := t.Context()

	keyDrop, err := NewSFTP(SFTPConfig{Addr: srv.Addr(), User: filedroptest.User, PrivateKey: pem.EncodeToMemory(block), HostKey: srv.HostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer keyDrop.Close()
	if err := keyDrop.Connect(ctx); err != nil {
		t.Fatalf("key auth + pinned host key: %v", err)
	}

	wrongPub, _, _ := ed25519.GenerateKey(rand.Reader)
	wrongHost, _ := ssh.NewPublicKey(wrongPub)
	bad, err := NewSFTP(SFTPConfig{Addr: srv.Addr(), User: filedroptest.User, Password: filedroptest.Password, HostKey: wrongHost})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Connect(ctx); !errors.Is(err, ErrNotConnected) || !strings.Contains(err.Error(), "host key") {
		t.Fatalf("wrong host key: err = %v, want ErrNotConnected mentioning host key", err)
	}

	wrongPw, err := NewSFTP(SFTPConfig{Addr: srv.Addr(), User: filedroptest.User, Password: "nope", InsecureIgnoreHostKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wrongPw.Close()
	if err := wrongPw.Connect(ctx); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong password: err = %v", err)
	}

	if _, err := NewSFTP(SFTPConfig{Addr: srv.Addr(), User: filedroptest.User, Password: filedroptest.Password}); err == nil {
		t.Fatal("NewSFTP without any host key policy: want error")
	}
	if err := keyDrop.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := keyDrop.List(ctx, "."); !errors.Is(err, ErrClosed) {
		t.Fatalf("List after Close: err = %v, want ErrClosed", err)
	}
}

func TestSFTPContextCancelDuringCall(t *testing.T) {
	t.Parallel()
	e := setupSFTP(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.drop.List(ctx, "."); !errors.Is(err, context.Canceled) {
		t.Fatalf("List with cancelled ctx: err = %v, want context.Canceled", err)
	}
	if got := mustList(t, e.drop, "."); len(got) != 0 {
		t.Fatalf("List after cancel = %v", got)
	}
}

// A peer that accepts TCP but never speaks SSH must not hang the caller:
// the handshake is bounded by DialTimeout and reported as retryable.
func TestSFTPHandshakeTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	defer func() {
		_ = ln.Close()
		for c := range accepted {
			_ = c.Close()
		}
	}()
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	d, err := NewSFTP(SFTPConfig{Addr: ln.Addr().String(), User: filedroptest.User, Password: filedroptest.Password,
		InsecureIgnoreHostKey: true, DialTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	_, err = d.List(t.Context(), ".")
	if !errors.Is(err, ErrNotConnected) {
		t.Fatalf("List against a silent peer: err = %v, want ErrNotConnected", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v, want about DialTimeout", el)
	}
}
