// Package sftpd is a small in-process SSH server on a local address serving
// the SFTP subsystem from a directory: what a 3PL hosts for its customers,
// for the demo's file-based warehouses and for the tests of anything that
// talks SFTP. It can be stopped (listener and every connection closed) and
// started again on the same address to rehearse an outage.
//
// It is a simulator, not a production server: a session is not confined to
// the directory (absolute paths reach the file system as the process's
// user). Keep it on 127.0.0.1 with a random password.
package sftpd

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Config configures a Server.
type Config struct {
	// Addr is where to listen, e.g. "127.0.0.1:0".
	Addr string
	// Root is the directory served (the account's login directory, so
	// relative paths land in it).
	Root string
	// User and Password are the account.
	User, Password string
	// ClientKey, when set, is also accepted for User.
	ClientKey ssh.PublicKey
	// OnError, when set, is told of SFTP sessions that ended with an error
	// other than the client going away.
	OnError func(error)
}

// Server is a running SFTP server.
type Server struct {
	cfg     Config
	ssh     *ssh.ServerConfig
	hostKey ssh.PublicKey

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start generates a host key and starts serving.
func Start(cfg Config) (*Server, error) {
	if cfg.User == "" || (cfg.Password == "" && cfg.ClientKey == nil) {
		return nil, errors.New("sftpd: a user and a password or client key are required")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	s := &Server{cfg: cfg, hostKey: signer.PublicKey(), addr: cfg.Addr, conns: map[net.Conn]struct{}{}}
	if s.addr == "" {
		s.addr = "127.0.0.1:0"
	}
	s.ssh = &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			okUser := subtle.ConstantTimeCompare([]byte(c.User()), []byte(cfg.User)) == 1
			okPw := cfg.Password != "" && subtle.ConstantTimeCompare(pw, []byte(cfg.Password)) == 1
			if okUser && okPw {
				return nil, nil
			}
			return nil, errors.New("sftpd: access denied")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if cfg.ClientKey != nil && c.User() == cfg.User && subtle.ConstantTimeCompare(k.Marshal(), cfg.ClientKey.Marshal()) == 1 {
				return nil, nil
			}
			return nil, errors.New("sftpd: access denied")
		},
	}
	s.ssh.AddHostKey(signer)
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// Restart (re)starts listening on the server's address (the same port
// after a Stop).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("sftpd: listen on %s: %w", s.addr, err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Stop closes the listener and every live connection and waits for them.
// Idempotent.
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

// Addr is the server's host:port (stable across Stop and Restart).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// HostKey is the server's host key, for pinning.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey }

// AuthorizedHostKey is the host key in authorized_keys form
// ("ssh-ed25519 AAAA…"), as the connectors' host_key setting takes it.
func (s *Server) AuthorizedHostKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey)))
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ln != ln {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.ssh)
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
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.cfg.Root))
				if err != nil {
					return
				}
				if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) && s.cfg.OnError != nil {
					s.cfg.OnError(err)
				}
				_ = srv.Close()
				return
			}
		}()
	}
}
