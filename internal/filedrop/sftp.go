package filedrop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTPConfig configures an SFTP drop.
type SFTPConfig struct {
	Addr     string // host:port
	User     string
	Password string // password and/or keyboard-interactive auth

	PrivateKey           []byte // PEM/OpenSSH private key for public-key auth
	PrivateKeyPassphrase []byte

	// Host key verification: HostKeyCallback (e.g. knownhosts.New) wins,
	// then HostKey (pinned key); InsecureIgnoreHostKey must be set
	// explicitly to skip verification (tests only).
	HostKeyCallback       ssh.HostKeyCallback
	HostKey               ssh.PublicKey
	InsecureIgnoreHostKey bool

	// Root is the remote directory all paths are relative to; empty means
	// the login directory.
	Root string

	DialTimeout time.Duration // TCP connect + SSH/SFTP handshake; default 15s
	OpTimeout   time.Duration // per call; default 2m
}

// SFTP is a Drop on a remote SFTP account. It connects lazily, serialises
// calls on one connection, and drops the connection on any transport
// failure (returned wrapped in ErrNotConnected) so that the next call
// reconnects.
type SFTP struct {
	cfg    SFTPConfig
	sshCfg *ssh.ClientConfig

	mu     sync.Mutex
	closed bool
	conn   net.Conn
	ssh    *ssh.Client
	client *sftp.Client
	dead   chan struct{} // closed when the SSH connection ends

	beforeRename func(tmpPath string) // tests
}

var _ Drop = (*SFTP)(nil)

// NewSFTP validates cfg; it does not connect (see Connect).
func NewSFTP(cfg SFTPConfig) (*SFTP, error) {
	if cfg.Addr == "" || cfg.User == "" {
		return nil, errors.New("filedrop: sftp: Addr and User are required")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 15 * time.Second
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 2 * time.Minute
	}
	var auth []ssh.AuthMethod
	if len(cfg.PrivateKey) > 0 {
		var signer ssh.Signer
		var err error
		if len(cfg.PrivateKeyPassphrase) > 0 {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(cfg.PrivateKey, cfg.PrivateKeyPassphrase)
		} else {
			signer, err = ssh.ParsePrivateKey(cfg.PrivateKey)
		}
		if err != nil {
			return nil, fmt.Errorf("filedrop: sftp: private key: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			ans := make([]string, len(qs))
			for i := range ans {
				ans[i] = pw
			}
			return ans, nil
		}))
	}
	if len(auth) == 0 {
		return nil, errors.New("filedrop: sftp: Password or PrivateKey is required")
	}
	var hk ssh.HostKeyCallback
	switch {
	case cfg.HostKeyCallback != nil:
		hk = cfg.HostKeyCallback
	case cfg.HostKey != nil:
		hk = ssh.FixedHostKey(cfg.HostKey)
	case cfg.InsecureIgnoreHostKey:
		hk = ssh.InsecureIgnoreHostKey() //nolint:gosec // explicit opt-in
	default:
		return nil, errors.New("filedrop: sftp: HostKey, HostKeyCallback or InsecureIgnoreHostKey is required")
	}
	return &SFTP{cfg: cfg, sshCfg: &ssh.ClientConfig{
		User:            cfg.User,
		Auth:            auth,
		HostKeyCallback: hk,
		Timeout:         cfg.DialTimeout,
	}}, nil
}

// Connect establishes the connection now (it is otherwise made by the first
// call). It is a no-op when already connected.
func (s *SFTP) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.client != nil && !s.isDeadLocked() {
		return nil
	}
	s.resetLocked()
	return s.connectLocked(ctx)
}

func (s *SFTP) connectLocked(ctx context.Context) error {
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("%w: dial %s: %w", ErrNotConnected, s.cfg.Addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(what string, err error) error {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("%w: %s %s: %w", ErrNotConnected, what, s.cfg.Addr, err)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, s.cfg.Addr, s.sshCfg)
	if err != nil {
		return fail("ssh handshake", err)
	}
	sc := ssh.NewClient(c, chans, reqs)
	cl, err := sftp.NewClient(sc)
	if err != nil {
		_ = sc.Close()
		return fail("sftp subsystem", err)
	}
	if !stop() {
		_ = cl.Close()
		_ = sc.Close()
		return fail("connect", errors.New("cancelled"))
	}
	_ = conn.SetDeadline(time.Time{})
	dead := make(chan struct{})
	go func() { _ = sc.Wait(); close(dead) }()
	s.conn, s.ssh, s.client, s.dead = conn, sc, cl, dead
	return nil
}

func (s *SFTP) isDeadLocked() bool {
	if s.dead == nil {
		return true
	}
	select {
	case <-s.dead:
		return true
	default:
		return false
	}
}

func (s *SFTP) resetLocked() {
	if s.client != nil {
		_ = s.client.Close()
	}
	if s.ssh != nil {
		_ = s.ssh.Close()
	}
	s.conn, s.ssh, s.client, s.dead = nil, nil, nil, nil
}

// isTransport reports whether err came from the connection rather than
// from the server's answer (which is a *sftp.StatusError).
func isTransport(err error) bool {
	var st *sftp.StatusError
	if errors.As(err, &st) {
		return false
	}
	var ne net.Error
	return errors.Is(err, sftp.ErrSSHFxConnectionLost) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// do runs fn on a live client under the per-call timeout and context.
func (s *SFTP) do(ctx context.Context, op, p string, fn func(c *sftp.Client) error) error {
	if err := ctxErr(ctx, "sftp "+op, p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("filedrop: sftp %s %q: %w", op, p, ErrClosed)
	}
	if s.client == nil || s.isDeadLocked() {
		s.resetLocked()
		if err := s.connectLocked(ctx); err != nil {
			return fmt.Errorf("filedrop: sftp %s %q: %w", op, p, err)
		}
	}
	conn := s.conn
	deadline := time.Now().Add(s.cfg.OpTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	err := fn(s.client)
	if !stop() {
		// ctx fired; the deadline may be (re)set to the past at any time:
		// this connection is no longer usable.
		s.resetLocked()
		if err != nil {
			return fmt.Errorf("filedrop: sftp %s %q: %w (%w)", op, p, ctx.Err(), err)
		}
		return nil
	}
	if err == nil {
		_ = conn.SetDeadline(time.Time{})
		return nil
	}
	if isTransport(err) || s.isDeadLocked() {
		s.resetLocked()
		return fmt.Errorf("filedrop: sftp %s %q: %w: %w", op, p, ErrNotConnected, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return fmt.Errorf("filedrop: sftp %s %q: %w", op, p, err)
}

func (s *SFTP) remote(p string) (string, string, error) {
	c, err := cleanPath(p)
	if err != nil {
		return "", "", err
	}
	if s.cfg.Root == "" {
		return c, c, nil
	}
	return c, path.Join(s.cfg.Root, c), nil
}

func (s *SFTP) List(ctx context.Context, dir string) ([]FileInfo, error) {
	rel, full, err := s.remote(dir)
	if err != nil {
		return nil, err
	}
	var out []FileInfo
	err = s.do(ctx, "list", dir, func(c *sftp.Client) error {
		ents, err := c.ReadDir(full)
		if err != nil {
			return err
		}
		out = make([]FileInfo, 0, len(ents))
		for _, e := range ents {
			out = append(out, FileInfo{Name: e.Name(), Path: path.Join(rel, e.Name()), Size: e.Size(), ModTime: e.ModTime(), IsDir: e.IsDir()})
		}
		return nil
	})
	return out, err
}

func (s *SFTP) Read(ctx context.Context, p string) ([]byte, error) {
	_, full, err := s.remote(p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = s.do(ctx, "read", p, func(c *sftp.Client) error {
		f, err := c.Open(full)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteTo(&buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *SFTP) WriteAtomic(ctx context.Context, dir, name string, data []byte) error {
	if err := validName(name); err != nil {
		return err
	}
	_, full, err := s.remote(dir)
	if err != nil {
		return err
	}
	tmp := path.Join(full, tempName(name))
	final := path.Join(full, name)
	return s.do(ctx, "write", path.Join(dir, name), func(c *sftp.Client) (err error) {
		f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		defer func() {
			if err != nil && !isTransport(err) {
				_ = c.Remove(tmp)
			}
		}()
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if s.beforeRename != nil {
			s.beforeRename(tmp)
		}
		if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
			return c.PosixRename(tmp, final)
		}
		return c.Rename(tmp, final)
	})
}

func (s *SFTP) Move(ctx context.Context, from, to string) error {
	_, src, err := s.remote(from)
	if err != nil {
		return err
	}
	_, dst, err := s.remote(to)
	if err != nil {
		return err
	}
	return s.do(ctx, "move", from, func(c *sftp.Client) error {
		// SSH_FXP_RENAME refuses to overwrite on OpenSSH but not on every
		// server (pkg/sftp uses os.Rename): check first.
		if _, err := c.Lstat(dst); err == nil {
			return fmt.Errorf("%q: %w", to, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return c.Rename(src, dst)
	})
}

func (s *SFTP) MkdirAll(ctx context.Context, dir string) error {
	_, full, err := s.remote(dir)
	if err != nil {
		return err
	}
	return s.do(ctx, "mkdir", dir, func(c *sftp.Client) error { return c.MkdirAll(full) })
}

// Close closes the connection; further calls return ErrClosed.
func (s *SFTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.resetLocked()
	return nil
}
