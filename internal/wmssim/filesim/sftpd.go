package filesim

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

// SFTPServer is the partner's SFTP server: SSH on 127.0.0.1 with a host key
// generated at start, one password account, and the SFTP subsystem serving
// a directory (the account's login directory, so the hub's relative paths
// "to_wms/…" land in it). It is what a 3PL hosts for its customers; the
// Partner itself works on the directory directly. It is a simulator: the
// session is not confined to the directory (absolute paths reach the
// whole file system as the process's user), so give it a random password
// and keep it on 127.0.0.1.
type SFTPServer struct {
	root, user, password string
	cfg                  *ssh.ServerConfig
	hostKey              ssh.PublicKey
	ln                   net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ServeSFTP starts an SFTP server on addr (e.g. "127.0.0.1:0") serving root
// to user with password.
func ServeSFTP(addr, root, user, password string) (*SFTPServer, error) {
	if user == "" || password == "" {
		return nil, errors.New("filesim: sftp: user and password are required")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("filesim: sftp: host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("filesim: sftp: host key: %w", err)
	}
	s := &SFTPServer{root: root, user: user, password: password, hostKey: signer.PublicKey(), conns: map[net.Conn]struct{}{}}
	s.cfg = &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			okUser := subtle.ConstantTimeCompare([]byte(c.User()), []byte(s.user)) == 1
			okPw := subtle.ConstantTimeCompare(pw, []byte(s.password)) == 1
			if okUser && okPw {
				return nil, nil
			}
			return nil, errors.New("filesim: sftp: access denied")
		},
	}
	s.cfg.AddHostKey(signer)
	s.ln, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("filesim: sftp: listen on %s: %w", addr, err)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's host:port.
func (s *SFTPServer) Addr() string { return s.ln.Addr().String() }

// User is the account's login.
func (s *SFTPServer) User() string { return s.user }

// Password is the account's password.
func (s *SFTPServer) Password() string { return s.password }

// Root is the directory served.
func (s *SFTPServer) Root() string { return s.root }

// HostKey is the server's host key in authorized_keys form
// ("ssh-ed25519 AAAA…"), as the connectors' host_key setting takes it.
func (s *SFTPServer) HostKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey)))
}

// Close stops the listener and every connection and waits for them.
func (s *SFTPServer) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *SFTPServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
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

func (s *SFTPServer) serve(c net.Conn) {
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
					_ = err // the client went away; nothing to report
				}
				_ = srv.Close()
				return
			}
		}()
	}
}
