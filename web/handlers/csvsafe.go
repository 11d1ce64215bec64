package handlers

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// csvSafe defuses the formulas a spreadsheet would run from a text cell
// (names and messages come from the API and are untrusted). Spreadsheets
// split a CSV line on ',', ';' or tab depending on the locale, so a trigger
// (= + - @) is marked with a leading ' not only at the start of the cell but
// after every one of those separators (and the spaces after it). A cell that
// is a plain number is left alone.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	start := true
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if start && ch != ' ' {
			triggers := "=+-@"
			if i == 0 {
				triggers = "=+-@\t\r"
			}
			if strings.IndexByte(triggers, ch) >= 0 {
				b.WriteByte('\'')
			}
			start = false
		}
		b.WriteByte(ch)
		if ch == ',' || ch == ';' || ch == '\t' {
			start = true
		}
	}
	return b.String()
}

// csvWriter writes RFC 4180 records like encoding/csv, but also quotes every
// field that holds a ';', a tab or a ' mark: encoding/csv quotes only its own
// separator, and a spreadsheet in a ';' locale would split such a field.
type csvWriter struct {
	w   *bufio.Writer
	err error
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: bufio.NewWriter(w)} }

// Write writes one record.
func (c *csvWriter) Write(record []string) error {
	if c.err != nil {
		return c.err
	}
	for i, f := range record {
		if i > 0 {
			c.w.WriteByte(',')
		}
		if f == "" || !strings.ContainsAny(f, ",;\t\"'\r\n") && f[0] != ' ' && f[len(f)-1] != ' ' {
			c.w.WriteString(f)
			continue
		}
		c.w.WriteByte('"')
		c.w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		c.w.WriteByte('"')
	}
	_, c.err = c.w.WriteString("\r\n")
	return c.err
}

// Flush writes any buffered data out.
func (c *csvWriter) Flush() {
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = err
	}
}

// Error reports any error from a Write or Flush.
func (c *csvWriter) Error() error { return c.err }
