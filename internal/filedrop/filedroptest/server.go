// Package filedroptest runs an in-process SSH server on 127.0.0.1 serving
// the SFTP subsystem from a directory, for the tests of anything that talks
// SFTP. It can be stopped and started again on the same port to rehearse an
// outage.
package filedroptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Server is an in-process SSH server on 127.0.0.1 serving the SFTP
// subsystem from a directory (sftp.NewServer). It can be stopped (listener
// and all connections closed) and started again on the same port.
type Server struct {
	t       testing.TB
	root    string
	cfg     *ssh.ServerConfig
	hostKey ssh.PublicKey
	addr    string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// User and Password are the credentials the server accepts.
const User, Password = "partner", "s3cret"

// NewServer starts a server rooted at root; clientKey, when set, is also
// accepted for User. It stops at the end of the test.
func NewServer(t testing.TB, root string, clientKey ssh.PublicKey) *Server {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == User && string(pw) == Password {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if clientKey != nil && c.User() == User && string(k.Marshal()) == string(clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
	}
	cfg.AddHostKey(signer)
	s := &Server{t: t, root: root, cfg: cfg, hostKey: signer.PublicKey(), addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its address.
func (s *Server) Start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
}

// Stop closes the listener and every live connection and waits for the
// server goroutines. Idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ch.Close()
			for req := range creqs {
				ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
				_ = req.Reply(ok, nil)
				if !ok {
					continue
				}
				go ssh.DiscardRequests(creqs)
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.root))
				if err != nil {
					return
				}
				if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
					s.t.Logf("sftp server: %v", err)
				}
				_ = srv.Close()
				return
			}
		}()
	}
}

// Addr is the server's address (stable across Stop and Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// HostKey is the server's host key, for pinning.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey }
