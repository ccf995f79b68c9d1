package ediwms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/filedrop"
)

// Default folder names, relative to the drop root.
const (
	DefaultOut     = "to_wms"
	DefaultIn      = "from_wms"
	DefaultArchive = "archive"
	DefaultError   = "error"
)

// DefaultStableAfter is how old (by mtime) a file must be before it is read
// when it has not yet been seen unchanged in two listings.
const DefaultStableAfter = time.Minute

// Tracking locations for Profile.TrackingIn.
const (
	TrackingMAN = "MAN"
	TrackingN9  = "N9"
)

// Profile is the trading-partner profile: envelope identifiers, where the
// partner puts tracking numbers, the unit of measure and element limits.
// Zero fields take the defaults listed on each field.
type Profile struct {
	// ISA05/ISA06: our qualifier and id (qualifier default "ZZ"; id required).
	SenderQualifier string `json:"sender_qualifier"`
	SenderID        string `json:"sender_id"`
	// ISA07/ISA08: the partner's qualifier and id (qualifier default "ZZ"; id required).
	ReceiverQualifier string `json:"receiver_qualifier"`
	ReceiverID        string `json:"receiver_id"`
	// GS02/GS03; default to SenderID / ReceiverID.
	GSSender   string `json:"gs_sender"`
	GSReceiver string `json:"gs_receiver"`
	// Version is GS08, default "004010" (ISA12 00401).
	Version string `json:"version"`
	// Usage is ISA15, "P" (default) or "T".
	Usage string `json:"usage"`
	// TrackingIn: "MAN" (default; MAN*CP, or MAN04/05 qualified CP, or MAN02)
	// or "N9" (N9 segments with TrackingQualifier).
	TrackingIn string `json:"tracking_in"`
	// TrackingQualifier is the N901 that marks a tracking number when
	// TrackingIn is "N9", default "2I".
	TrackingQualifier string `json:"tracking_qualifier"`
	// UOM is the W01-02 unit of measure, default "EA".
	UOM string `json:"uom"`
	// Element maximum lengths: N1-02 name (60), N3 address lines (55), N4-01 city (30).
	MaxName    int `json:"max_name"`
	MaxAddress int `json:"max_address"`
	MaxCity    int `json:"max_city"`
}

// withDefaults fills the zero fields and validates.
func (p Profile) withDefaults() (Profile, error) {
	def := func(s *string, v string) {
		if strings.TrimSpace(*s) == "" {
			*s = v
		}
	}
	def(&p.SenderQualifier, "ZZ")
	def(&p.ReceiverQualifier, "ZZ")
	def(&p.GSSender, p.SenderID)
	def(&p.GSReceiver, p.ReceiverID)
	def(&p.Version, "004010")
	def(&p.Usage, "P")
	def(&p.TrackingIn, TrackingMAN)
	def(&p.TrackingQualifier, "2I")
	def(&p.UOM, "EA")
	if p.MaxName == 0 {
		p.MaxName = 60
	}
	if p.MaxAddress == 0 {
		p.MaxAddress = 55
	}
	if p.MaxCity == 0 {
		p.MaxCity = 30
	}
	var probs []string
	if p.SenderID == "" || len(p.SenderID) > 15 {
		probs = append(probs, "sender_id is required (at most 15 characters)")
	}
	if p.ReceiverID == "" || len(p.ReceiverID) > 15 {
		probs = append(probs, "receiver_id is required (at most 15 characters)")
	}
	if len(p.SenderQualifier) != 2 || len(p.ReceiverQualifier) != 2 {
		probs = append(probs, "sender_qualifier and receiver_qualifier must be 2 characters")
	}
	if p.Usage != "P" && p.Usage != "T" {
		probs = append(probs, `usage must be "P" or "T"`)
	}
	p.TrackingIn = strings.ToUpper(p.TrackingIn)
	if p.TrackingIn != TrackingMAN && p.TrackingIn != TrackingN9 {
		probs = append(probs, `tracking_in must be "MAN" or "N9"`)
	}
	if p.MaxName < 0 || p.MaxAddress < 0 || p.MaxCity < 0 {
		probs = append(probs, "max_name, max_address and max_city must be positive")
	}
	if len(probs) > 0 {
		return p, fmt.Errorf("ediwms: profile: %s", strings.Join(probs, "; "))
	}
	return p, nil
}

// isaVersion is ISA12 for the profile's GS08.
func (p Profile) isaVersion() string {
	if len(p.Version) >= 5 {
		return p.Version[1:6]
	}
	return "00401"
}

var transportKeys = map[string][]string{
	"local": {"dir"},
	"sftp":  {"address", "user", "password", "private_key", "host_key", "insecure_ignore_host_key"},
}

// NewFromMap builds a connector from a decoded configuration block (see the
// package documentation for the keys). Every configuration error is
// connector.Permanent. For SFTP it does not connect: the first call does.
func NewFromMap(m map[string]any) (*Conn, error) {
	c, err := newFromMap(m)
	if err != nil {
		return nil, connector.Permanent(err)
	}
	return c, nil
}

func newFromMap(m map[string]any) (*Conn, error) {
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("ediwms: %s must be a string, not %T", k, v)
		}
		return s, nil
	}
	transport, err := str("transport")
	if err != nil {
		return nil, err
	}
	own, ok := transportKeys[transport]
	if !ok {
		return nil, fmt.Errorf("ediwms: transport must be \"local\" or \"sftp\", not %q", transport)
	}
	common := []string{"transport", "out", "in", "archive", "error", "profile", "stable_after"}
	var unknown []string
	for k := range m {
		if !slices.Contains(common, k) && !slices.Contains(own, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("ediwms: unknown configuration keys for transport %q: %s", transport, strings.Join(unknown, ", "))
	}

	var cfg Config
	for _, f := range []struct {
		key string
		dst *string
	}{{"out", &cfg.Out}, {"in", &cfg.In}, {"archive", &cfg.Archive}, {"error", &cfg.Error}} {
		if *f.dst, err = str(f.key); err != nil {
			return nil, err
		}
	}
	if v, ok := m["stable_after"]; ok {
		switch d := v.(type) {
		case string:
			p, err := time.ParseDuration(d)
			if err != nil {
				return nil, fmt.Errorf("ediwms: stable_after: %w", err)
			}
			cfg.StableAfter = p
		case time.Duration:
			cfg.StableAfter = d
		default:
			return nil, fmt.Errorf("ediwms: stable_after must be a duration string such as \"30s\", not %T", v)
		}
		if cfg.StableAfter < 0 {
			return nil, fmt.Errorf("ediwms: stable_after must not be negative")
		}
		cfg.stableSet = true
	}
	v, ok := m["profile"]
	if !ok {
		return nil, errors.New("ediwms: profile is required (at least sender_id and receiver_id)")
	}
	if cfg.Profile, err = decodeProfile(v); err != nil {
		return nil, err
	}

	switch transport {
	case "local":
		dir, err := str("dir")
		if err != nil {
			return nil, err
		}
		if dir == "" {
			return nil, errors.New("ediwms: dir is required for transport local")
		}
		d, err := filedrop.NewLocal(dir)
		if err != nil {
			return nil, fmt.Errorf("ediwms: %w", err)
		}
		cfg.Drop = d
	case "sftp":
		var sc filedrop.SFTPConfig
		if sc.Addr, err = str("address"); err != nil {
			return nil, err
		}
		if sc.User, err = str("user"); err != nil {
			return nil, err
		}
		if sc.Password, err = str("password"); err != nil {
			return nil, err
		}
		key, err := str("private_key")
		if err != nil {
			return nil, err
		}
		sc.PrivateKey = []byte(key)
		hk, err := str("host_key")
		if err != nil {
			return nil, err
		}
		if hk != "" {
			pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
			if err != nil {
				return nil, fmt.Errorf("ediwms: host_key must be in authorized_keys form (\"ssh-ed25519 AAAA…\"): %w", err)
			}
			sc.HostKey = pk
		}
		if v, ok := m["insecure_ignore_host_key"]; ok {
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("ediwms: insecure_ignore_host_key must be a boolean, not %T", v)
			}
			if b && hk != "" {
				return nil, errors.New("ediwms: host_key and insecure_ignore_host_key are exclusive")
			}
			sc.InsecureIgnoreHostKey = b
		}
		d, err := filedrop.NewSFTP(sc)
		if err != nil {
			return nil, fmt.Errorf("ediwms: %w", err)
		}
		cfg.Drop = d
	}
	c, err := newConn(cfg)
	if err != nil {
		_ = cfg.Drop.Close()
		return nil, err
	}
	return c, nil
}

// decodeProfile decodes a profile block strictly (unknown keys are errors)
// through its JSON form.
func decodeProfile(v any) (Profile, error) {
	var p Profile
	if _, ok := v.(map[string]any); !ok {
		return p, fmt.Errorf("ediwms: profile must be a mapping, not %T", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return p, fmt.Errorf("ediwms: profile: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("ediwms: profile: %w", err)
	}
	return p, nil
}

func checkFolder(name, v string) (string, error) {
	c := path.Clean(v)
	if strings.HasPrefix(c, "/") || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("ediwms: folder %s %q must be a relative path inside the drop", name, v)
	}
	return c, nil
}
