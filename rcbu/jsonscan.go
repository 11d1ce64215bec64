package rcbu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A small JSON scanner for the lists that are big enough for encoding/json's
// reflection to dominate (the account-wide activity list is about 10 MB and
// 26,000 items at 200 agents). It validates exactly what encoding/json
// validates, finds value boundaries in one pass, and leaves the decoding of
// each field's value to the same UnmarshalJSON methods encoding/json would
// call, so tolerant decoding (§16) is unchanged.

// maxNesting is encoding/json's nesting limit.
const maxNesting = 10000

var errNesting = errors.New("exceeded max depth")

// syntaxError reports malformed JSON at byte offset off.
func syntaxError(msg string, off int) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", off, msg)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString returns the end (one past the closing quote) of the string
// starting at b[i] == '"', and whether it needs unescaping or UTF-8
// repair.
func scanString(b []byte, i int) (end int, slow bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, slow, nil
		case c == '\\':
			slow = true
			j++
			if j >= len(b) {
				return 0, false, syntaxError("unexpected end of string", j)
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return 0, false, syntaxError("unexpected end of string", len(b))
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHexByte(b[k]) {
						return 0, false, syntaxError("invalid character in \\u escape", k)
					}
				}
				j += 4
			default:
				return 0, false, syntaxError("invalid escape in string", j)
			}
		case c < 0x20:
			return 0, false, syntaxError("control character in string", j)
		case c >= utf8.RuneSelf:
			slow = true
		}
	}
	return 0, false, syntaxError("unexpected end of string", len(b))
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the end of the number starting at b[i].
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return 0, syntaxError("invalid number", j)
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return 0, syntaxError("invalid number", j)
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return 0, syntaxError("invalid number", j)
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

// scanValue returns the end of the JSON value starting at b[i] (no leading
// space), checking its syntax.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxError("unexpected end of input", i)
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '{':
		if depth >= maxNesting {
			return 0, errNesting
		}
		return scanObject(b, i, depth+1, nil)
	case c == '[':
		if depth >= maxNesting {
			return 0, errNesting
		}
		return scanArray(b, i, depth+1, nil)
	}
	return 0, syntaxError(fmt.Sprintf("invalid character %q looking for a value", b[i]), i)
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, syntaxError("invalid literal", i)
	}
	return i + len(lit), nil
}

// scanObject checks the object at b[i] == '{' and returns its end; field,
// when not nil, is called with each member's raw key (quotes included) and
// its value's bytes.
func scanObject(b []byte, i, depth int, field func(key []byte, keySlow bool, val []byte) error) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError("looking for the beginning of an object key", i)
		}
		kend, kslow, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i:kend]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError("after object key", i)
		}
		i = skipSpace(b, i+1)
		vstart := i
		if i, err = scanValue(b, i, depth); err != nil {
			return 0, err
		}
		if field != nil {
			if err := field(key, kslow, b[vstart:i]); err != nil {
				return 0, err
			}
		}
		var done bool
		if i, done, err = scanSeparator(b, i, '}', "object", "after object key:value pair"); err != nil || done {
			return i, err
		}
	}
}

// scanArray checks the array at b[i] == '[' and returns its end; elem,
// when not nil, is called with each element's bytes.
func scanArray(b []byte, i, depth int, elem func(val []byte) error) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		start := i
		var err error
		if i, err = scanValue(b, i, depth); err != nil {
			return 0, err
		}
		if elem != nil {
			if err := elem(b[start:i]); err != nil {
				return 0, err
			}
		}
		var done bool
		if i, done, err = scanSeparator(b, i, ']', "array", "after array element"); err != nil || done {
			return i, err
		}
	}
}

// scanSeparator reads what follows a member or element at b[i], spaces
// allowed: a ',' returns the start of the next one, the closing byte
// returns the container's end with done set. what names the container and
// after describes the position, for the error.
func scanSeparator(b []byte, i int, closing byte, what, after string) (next int, done bool, err error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, false, syntaxError("unexpected end of input in "+what, i)
	}
	switch b[i] {
	case ',':
		return skipSpace(b, i+1), false, nil
	case closing:
		return i + 1, true, nil
	default:
		return 0, false, syntaxError(after, i)
	}
}

// decodeKey returns an object key's text; raw includes the quotes.
func decodeKey(raw []byte, slow bool) (string, error) {
	if !slow {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// keyIs reports whether an object key matches a field name as
// encoding/json matches it: exactly, or else ignoring case.
func keyIs(key []byte, name string) bool {
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

// interner shares the strings of one decoded list: machine names, states
// and configuration names repeat across thousands of items. Its zero value
// (nil) interns nothing.
type interner map[string]string

// maxInterned bounds an interner, so a list of unique strings costs no
// more than plain decoding.
const maxInterned = 4096

func (in interner) get(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// stringValue decodes a string field as encoding/json does into a string:
// null leaves dst unchanged, any other non-string is an error.
func stringValue(val []byte, dst *string, field string, in interner) error {
	switch val[0] {
	case 'n':
		return nil
	case '"':
	default:
		return fmt.Errorf("json: cannot unmarshal %s into field %s of type string", jsonKind(val[0]), field)
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		*dst = in.get(inner)
		return nil
	}
	return json.Unmarshal(val, dst)
}

// jsonKind names the JSON type of a value by its first byte, in
// encoding/json's words.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case '"':
		return "string"
	}
	return "number"
}
