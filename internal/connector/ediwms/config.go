package ediwms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
	"github.com/crossdock/crossdock/internal/connector/filefeed"
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

// Tracking locations for Profile.TrackingIn.
const (
	TrackingMAN = "MAN"
	TrackingN9  = "N9"
)

// Stock scopes for Profile.StockScope.
const (
	StockFull    = "full"
	StockPartial = "partial"
)

// Character sets for Profile.Charset.
const (
	// CharsetExtended allows upper- and lower-case ASCII letters (the X12
	// extended character set, without its accented letters).
	CharsetExtended = "extended"
	// CharsetBasic is the X12 basic character set: upper-case letters,
	// digits, space and ! " & ' ( ) * + , - . / : ; ? =
	CharsetBasic = "basic"
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
	// UOM is the W01-02 unit of measure, default "EA". When UOMFactors
	// lists it, W01 quantities are order units divided by its factor (an
	// order that is not a whole number of that unit is refused).
	UOM string `json:"uom"`
	// UOMFactors gives the sellable units in one unit of measure, e.g.
	// {"CS": 12}, for inbound quantities (945 W12, 846 QTY, 944 W07, 947
	// W19) and for UOM. "EA" and UOM count 1 unless listed; an inbound
	// quantity in another unit is counted as 1 per unit with a warning,
	// except in an 846, where its LIN is rejected (see Read846).
	UOMFactors map[string]int `json:"uom_factors"`
	// StockScope says what the partner's 846 lists: "full" (default; a SKU
	// missing from it has zero) or "partial" (only the SKUs it names).
	StockScope string `json:"stock_scope"`
	// Charset is the character set of free text in our 940s: "extended"
	// (default) or "basic" (upper case, X12 basic set). Accents are
	// transliterated in both.
	Charset string `json:"charset"`
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
	def(&p.StockScope, StockFull)
	def(&p.Charset, CharsetExtended)
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
	if p.StockScope != StockFull && p.StockScope != StockPartial {
		probs = append(probs, `stock_scope must be "full" or "partial"`)
	}
	if p.Charset != CharsetExtended && p.Charset != CharsetBasic {
		probs = append(probs, `charset must be "extended" or "basic"`)
	}
	factors := make(map[string]int, len(p.UOMFactors))
	for u, f := range p.UOMFactors {
		if f < 1 || strings.TrimSpace(u) == "" {
			probs = append(probs, fmt.Sprintf("uom_factors: %q must map to a positive number of units", u))
		}
		factors[strings.ToUpper(strings.TrimSpace(u))] = f
	}
	p.UOMFactors = factors
	if p.MaxName < 0 || p.MaxAddress < 0 || p.MaxCity < 0 {
		probs = append(probs, "max_name, max_address and max_city must be positive")
	}
	if len(probs) > 0 {
		return p, fmt.Errorf("ediwms: profile: %s", strings.Join(probs, "; "))
	}
	return p, nil
}

// units converts an inbound quantity q counted in uom to sellable units;
// warn is set when the unit is unknown (counted as 1).
func (p Profile) units(q int, uom string) (n int, warn string) {
	uom = strings.ToUpper(strings.TrimSpace(uom))
	if f, ok := p.UOMFactors[uom]; ok {
		return q * f, ""
	}
	if uom == "" || uom == "EA" || uom == strings.ToUpper(p.UOM) {
		return q, ""
	}
	return q, fmt.Sprintf("unit of measure %q has no factor in the profile's uom_factors: counted as 1 unit", uom)
}

// isaVersion is ISA12 for the profile's GS08: its first five characters
// ("004010" and "004010UCS" → "00401", "005010" → "00501").
func (p Profile) isaVersion() string {
	if len(p.Version) >= 5 {
		return p.Version[:5]
	}
	return "00401"
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
	mc, err := filefeed.ParseMap("ediwms", m, "profile", "state_dir", "cancel_recheck", "cancel_answer_within")
	if err != nil {
		return nil, err
	}
	cfg := Config{Out: mc.Out, In: mc.In, Archive: mc.Archive, Error: mc.Error, StableAfter: mc.StableAfter, stableSet: mc.StableSet}
	for key, dst := range map[string]*time.Duration{"cancel_recheck": &cfg.CancelRecheck, "cancel_answer_within": &cfg.CancelAnswerWithin} {
		if v, ok := m[key]; ok {
			if *dst, err = filefeed.Duration("ediwms", key, v); err != nil {
				return nil, err
			}
		}
	}
	if cfg.StateDir, err = mc.String("state_dir"); err != nil {
		return nil, err
	}
	v, ok := m["profile"]
	if !ok {
		return nil, errors.New("ediwms: profile is required (at least sender_id and receiver_id)")
	}
	if cfg.Profile, err = DecodeProfile(v); err != nil {
		return nil, err
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
func DecodeProfile(v any) (Profile, error) {
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
