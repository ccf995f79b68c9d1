package csvfile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// cp1252High maps bytes 0x80–0x9F of Windows-1252. The five bytes the code
// page leaves undefined map to the C1 control of the same value, as the
// WHATWG Encoding Standard does, so every byte decodes and re-encodes.
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

var cp1252Encode = func() map[rune]byte {
	m := make(map[rune]byte, 32)
	for i, r := range cp1252High {
		m[r] = byte(0x80 + i)
	}
	return m
}()

// decodeWindows1252 converts Windows-1252 bytes to a UTF-8 string.
func decodeWindows1252(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		switch {
		case c < 0x80 || c >= 0xA0:
			sb.WriteRune(rune(c))
		default:
			sb.WriteRune(cp1252High[c-0x80])
		}
	}
	return sb.String()
}

// encodeRune1252 returns the Windows-1252 byte for r.
func encodeRune1252(r rune) (byte, bool) {
	if r < 0x80 || (r >= 0xA0 && r <= 0xFF) {
		return byte(r), true
	}
	b, ok := cp1252Encode[r]
	return b, ok
}

// translit holds ASCII approximations for characters outside Windows-1252,
// mostly Latin Extended-A (Polish, Czech, Hungarian, Romanian, Turkish…).
var translit = func() map[rune]string {
	const src = "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĸĹĺĻļĽľĿŀŁłŃńŅņŇňŉŊŋŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŹźŻżſȘșȚț"
	const dst = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoRrRrRrSsSsSsTtTtTtUuUuUuUuUuUuWwYyZzZzsSsTt"
	if utf8.RuneCountInString(src) != len(dst) {
		panic(fmt.Sprintf("csvfile: transliteration table mismatch: %d source runes, %d targets", utf8.RuneCountInString(src), len(dst)))
	}
	m := map[rune]string{
		'Ĳ': "IJ", 'ĳ': "ij",
		'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2212': "-",
		'\u2032': "'", '\u2033': `"`,
		'\u2007': " ", '\u2009': " ", '\u202F': " ", '\u200A': " ",
		'\u200B': "", '\uFEFF': "",
	}
	i := 0
	for _, r := range src {
		m[r] = dst[i : i+1]
		i++
	}
	return m
}()

// unencodableError reports a character Windows-1252 cannot represent.
type unencodableError struct {
	r   rune
	pos int // rune index in the value
}

func (e *unencodableError) Error() string {
	return fmt.Sprintf("character %q (U+%04X) at position %d cannot be encoded in Windows-1252", e.r, e.r, e.pos+1)
}

// appendWindows1252 appends s encoded in Windows-1252 to dst. Without
// translit, the first character outside the code page is an error.
func appendWindows1252(dst []byte, s string, translitOK bool) ([]byte, error) {
	i := 0
	for _, r := range s {
		if b, ok := encodeRune1252(r); ok {
			dst = append(dst, b)
		} else if !translitOK {
			return dst, &unencodableError{r: r, pos: i}
		} else if t, ok := translit[r]; ok {
			dst = append(dst, t...)
		} else {
			dst = append(dst, '?')
		}
		i++
	}
	return dst, nil
}

// decodeInput turns file bytes into text according to the profile
// encoding. A UTF-8 BOM always means UTF-8. It returns the encoding used.
func decodeInput(b []byte, enc string) (string, string, error) {
	if bytes.HasPrefix(b, utf8BOM) {
		b = b[len(utf8BOM):]
		if !utf8.Valid(b) {
			return "", "", invalidUTF8(b, "the file has a UTF-8 byte-order mark but")
		}
		return string(b), EncodingUTF8BOM, nil
	}
	switch enc {
	case EncodingUTF8, EncodingUTF8BOM:
		if !utf8.Valid(b) {
			return "", "", invalidUTF8(b, "profile pins "+enc+" but")
		}
		return string(b), EncodingUTF8, nil
	case EncodingWindows1252:
		return decodeWindows1252(b), EncodingWindows1252, nil
	default:
		if utf8.Valid(b) {
			return string(b), EncodingUTF8, nil
		}
		return decodeWindows1252(b), EncodingWindows1252, nil
	}
}

func invalidUTF8(b []byte, prefix string) error {
	line := 1
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("csvfile: %s line %d is not valid UTF-8 (byte 0x%02X)", prefix, line, b[0])
		}
		if r == '\n' {
			line++
		}
		b = b[n:]
	}
	return fmt.Errorf("csvfile: %s the file is not valid UTF-8", prefix)
}
