package csvwms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
	"github.com/crossdock/crossdock/internal/csvfile"
)

// Default folder names, relative to the drop root.
const (
	DefaultOut     = filefeed.DefaultOut
	DefaultIn      = filefeed.DefaultIn
	DefaultArchive = filefeed.DefaultArchive
	DefaultError   = filefeed.DefaultError
)

// DefaultStableAfter is how old (by mtime) a file must be before it is read
// when it has not yet been seen unchanged in two listings.
const DefaultStableAfter = filefeed.DefaultStableAfter

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
	mc, err := filefeed.ParseMap("csvwms", m, "profile", "cancel_recheck", "cancel_answer_within")
	if err != nil {
		return nil, err
	}
	cfg := Config{Out: mc.Out, In: mc.In, Archive: mc.Archive, Error: mc.Error, StableAfter: mc.StableAfter, stableSet: mc.StableSet}
	for key, dst := range map[string]*time.Duration{"cancel_recheck": &cfg.CancelRecheck, "cancel_answer_within": &cfg.CancelAnswerWithin} {
		if v, ok := m[key]; ok {
			if *dst, err = filefeed.Duration("csvwms", key, v); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := m["profile"]; ok {
		p, err := DecodeProfile(v)
		if err != nil {
			return nil, err
		}
		cfg.Profile = p
	}
	if cfg.Drop, err = mc.OpenDrop(); err != nil {
		return nil, err
	}
	c, err := newConn(cfg)
	if err != nil {
		_ = cfg.Drop.Close()
		return nil, err
	}
	return c, nil
}

// DecodeProfile decodes a profile block strictly (unknown keys are errors)
// through its JSON form.
func DecodeProfile(v any) (csvfile.Profile, error) {
	var p csvfile.Profile
	if _, ok := v.(map[string]any); !ok {
		return p, fmt.Errorf("csvwms: profile must be a mapping, not %T", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return p, fmt.Errorf("csvwms: profile: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("csvwms: profile: %w", err)
	}
	return p, nil
}

// DefaultProfile is the profile used when none is configured, and supplies
// the mapping of any file kind a configured profile leaves empty: a header
// row whose column names are the canonical field names, "," on output
// (auto-detected on input), UTF-8 on output (UTF-8 or Windows-1252 on
// input). csvfile requires every mapped column in an input header, so a
// partner on the default profile sends all of ShipmentFields / StockFields
// (empty cells allowed); a partner with fewer columns needs a profile.
// A configured profile with "header: false" needs column numbers for every
// kind, since the defaults are header names.
func DefaultProfile() csvfile.Profile {
	return csvfile.Profile{
		Header:    true,
		Orders:    identity(csvfile.OrderFields),
		Shipments: identity(csvfile.ShipmentFields),
		Stock:     identity(csvfile.StockFields),
	}
}

func identity(fields []string) csvfile.Columns {
	c := make(csvfile.Columns, len(fields))
	for _, f := range fields {
		c[f] = f
	}
	return c
}
