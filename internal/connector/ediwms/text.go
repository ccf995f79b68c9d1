package ediwms

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/crossdock/crossdock/internal/x12"
)

// translit maps the accented and ligature letters met in (mostly French and
// western European) addresses to ASCII.
var translit = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A", 'Æ': "AE", 'Ç': "C",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I",
	'Ð': "D", 'Ñ': "N", 'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ý': "Y", 'Þ': "TH", 'ß': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ð': "d", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'þ': "th", 'ÿ': "y",
	'Œ': "OE", 'œ': "oe", 'Ÿ': "Y", 'Š': "S", 'š': "s", 'Ž': "Z", 'ž': "z",
	'Ł': "L", 'ł': "l", 'Č': "C", 'č': "c", 'Ř': "R", 'ř': "r", 'Ě': "E", 'ě': "e",
	'Ő': "O", 'ő': "o", 'Ű': "U", 'ű': "u", 'Ą': "A", 'ą': "a", 'Ę': "E", 'ę': "e",
	'Ś': "S", 'ś': "s", 'Ź': "Z", 'ź': "z", 'Ż': "Z", 'ż': "z", 'Ń': "N", 'ń': "n", 'Ć': "C", 'ć': "c",
	'’': "'", '‘': "'", '“': `"`, '”': `"`, '«': `"`, '»': `"`, '–': "-", '—': "-",
	'\u00a0': " ", '\u202f': " ", '…': "...", '°': "o", '€': "EUR",
}

// Clean makes free text safe for an X12 element: accents are transliterated
// to ASCII (é→e, ç→c, œ→oe…), the delimiters of d and control characters
// become spaces, other non-ASCII characters are dropped, runs of spaces are
// collapsed, and the result is cut to max bytes (max <= 0: no limit).
func Clean(s string, d x12.Delimiters, max int) string {
	var b strings.Builder
	for _, r := range s {
		if t, ok := translit[r]; ok {
			b.WriteString(t)
			continue
		}
		switch {
		case r == utf8.RuneError || r >= utf8.RuneSelf:
			continue
		case r < 0x20 || r == 0x7f || isDelim(byte(r), d):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.Join(strings.FieldsFunc(b.String(), unicode.IsSpace), " ")
	// A transliteration may itself contain a delimiter (e.g. '"' is not one
	// by default, but a partner may use it).
	out = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && isDelim(byte(r), d) {
			return -1
		}
		return r
	}, out)
	if max > 0 && len(out) > max {
		out = strings.TrimSpace(out[:max])
	}
	return out
}

func isDelim(c byte, d x12.Delimiters) bool {
	return c == d.Element || c == d.Segment || (d.Component != 0 && c == d.Component) || (d.Repetition != 0 && c == d.Repetition)
}

// basicSpecials are the special characters of the X12 basic character set
// besides space.
const basicSpecials = `!"&'()*+,-./:;?=`

// cleanFor is Clean for the profile's character set: with "basic" the text
// is upper-cased and characters outside the basic set become spaces (then
// collapsed); the length limit applies to the result.
func cleanFor(p Profile, s string, d x12.Delimiters, max int) string {
	if p.Charset != CharsetBasic {
		return Clean(s, d, max)
	}
	up := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', strings.ContainsRune(basicSpecials, r):
			return r
		case r < utf8.RuneSelf:
			return ' '
		}
		return r // non-ASCII: Clean transliterates it
	}, s)
	out := Clean(up, d, 0)
	out = strings.Map(func(r rune) rune { // transliterations may be lower case
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, out)
	if max > 0 && len(out) > max {
		out = strings.TrimSpace(out[:max])
	}
	return out
}
