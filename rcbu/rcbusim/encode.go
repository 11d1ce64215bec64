package rcbusim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// msDate is a timestamp encoded as a Microsoft JSON date, "/Date(ms)/".
type msDate time.Time

// MarshalJSON emits "/Date(<ms since the epoch, UTC>)/".
func (d msDate) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, `"/Date(`...)
	b = strconv.AppendInt(b, time.Time(d).UnixMilli(), 10)
	b = append(b, `)/"`...)
	return b, nil
}

// dateOrNil returns nil (JSON null) for the zero time.
func dateOrNil(t time.Time) *msDate {
	if t.IsZero() {
		return nil
	}
	d := msDate(t)
	return &d
}

// humanSize formats n bytes the way RCBU does: binary multiples with at most
// one decimal ("35.3 MB", "18 MB", "0 bytes").
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"KB", "MB", "GB", "TB", "PB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i]
}

// hms formats a duration as "HH:MM:SS" (hours may exceed 23).
func hms(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, (s/60)%60, s%60)
}

// publicKey is the {ModulusHex, ExponentHex} object of agents and configs.
type publicKey struct {
	ModulusHex  string `json:"ModulusHex"`
	ExponentHex int    `json:"ExponentHex"`
}

// badRequest is a client mistake; its message is returned with status 400
// (or code when set).
type badRequest struct {
	code int
	msg  string
}

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) *badRequest {
	return &badRequest{code: 400, msg: fmt.Sprintf(format, args...)}
}

// fields is a decoded request body: top-level keys lower-cased (ASP.NET model
// binding is case-insensitive) mapped to their raw JSON values.
type fields map[string]json.RawMessage

// decodeFields parses a JSON object body. Form-encoded bodies (the A9 docs
// example) are accepted when form is true; their values become JSON strings.
func decodeFields(body []byte, form bool) (fields, error) {
	body = bytes.TrimSpace(body)
	f := fields{}
	if len(body) == 0 {
		return f, nil
	}
	if form && body[0] != '{' {
		for _, pair := range strings.Split(string(body), "&") {
			k, v, _ := strings.Cut(pair, "=")
			if k == "" {
				continue
			}
			raw, _ := json.Marshal(v)
			f[strings.ToLower(k)] = raw
		}
		return f, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, badf("malformed JSON body: %v", err)
	}
	if m == nil {
		return nil, badf("malformed JSON body: expected an object")
	}
	for k, v := range m {
		f[strings.ToLower(k)] = v
	}
	return f, nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// has reports whether key is present and not null.
func (f fields) has(key string) bool {
	raw, ok := f[strings.ToLower(key)]
	return ok && !isNull(raw)
}

// int64Field reads an integer given as a JSON number or a digit string.
// ok is false when the field is absent or null.
func (f fields) int64Field(key string) (v int64, ok bool, err error) {
	raw, present := f[strings.ToLower(key)]
	if !present || isNull(raw) {
		return 0, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, false, badf("%s must be an integer", key)
		}
		s = strings.TrimSpace(str)
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		return 0, false, badf("%s must be an integer, got %s", key, clip(string(raw)))
	}
	return n, true, nil
}

// requiredInt64 is int64Field for a required field.
func (f fields) requiredInt64(key string) (int64, error) {
	v, ok, err := f.int64Field(key)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, badf("%s is required", key)
	}
	return v, nil
}

// optionalInt reads a nullable int into a pointer.
func (f fields) optionalInt(key string) (*int, error) {
	v, ok, err := f.int64Field(key)
	if err != nil || !ok {
		return nil, err
	}
	if v < -1<<31 || v > 1<<31-1 {
		return nil, badf("%s is out of range", key)
	}
	n := int(v)
	return &n, nil
}

// boolField reads true/false or "true"/"false".
func (f fields) boolField(key string) (v bool, ok bool, err error) {
	raw, present := f[strings.ToLower(key)]
	if !present || isNull(raw) {
		return false, false, nil
	}
	switch strings.ToLower(strings.Trim(string(raw), `"`)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, badf("%s must be a boolean, got %s", key, clip(string(raw)))
}

func (f fields) requiredBool(key string) (bool, error) {
	v, ok, err := f.boolField(key)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, badf("%s is required", key)
	}
	return v, nil
}

// stringField reads a JSON string. ok is false when absent or null.
func (f fields) stringField(key string) (v string, ok bool, err error) {
	raw, present := f[strings.ToLower(key)]
	if !present || isNull(raw) {
		return "", false, nil
	}
	if json.Unmarshal(raw, &v) != nil {
		return "", false, badf("%s must be a string, got %s", key, clip(string(raw)))
	}
	return v, true, nil
}

func (f fields) requiredString(key string) (string, error) {
	v, ok, err := f.stringField(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", badf("%s is required", key)
	}
	return v, nil
}

// clip shortens a raw value for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
