package handlers

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCSVSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nightly", "nightly"},
		{"", ""},
		{"=1+1", "'=1+1"},
		{"@SUM(2)", "'@SUM(2)"},
		{"-2+3", "'-2+3"},
		{"+1", "+1"}, // a number, not a formula
		{"\t=1", "'\t'=1"},
		{"x;=1+1;@SUM(2)", "x;'=1+1;'@SUM(2)"}, // formulas after the separator of ; locales
		{"a,@cmd", "a,'@cmd"},
		{"a\t+1", "a\t'+1"},
		{"a; =1", "a; '=1"},  // spaces after the separator do not hide it
		{"web-01", "web-01"}, // a dash inside a name is no trigger
		{"a;b", "a;b"},
		{"-5", "-5"}, // a plain number is no formula
	}
	for _, tt := range tests {
		if got := csvSafe(tt.in); got != tt.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVWriterQuotesSeparatorsOfEveryLocale(t *testing.T) {
	var buf bytes.Buffer
	w := newCSVWriter(&buf)
	row := exportRow{Account: "Demo", Kind: "backup", ConfigName: "x;=1+1;@SUM(2)", AgentName: "web;01", State: "Completed", Reason: "a\tb", Diagnostics: `say "hi", twice`}
	if err := w.Write(row.record()); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	for _, want := range []string{`,"x;'=1+1;'@SUM(2)",`, `,"web;01",`, "\"a\tb\"", `"say ""hi"", twice"`} {
		if !strings.Contains(line, want) {
			t.Errorf("row %q lacks %q", line, want)
		}
	}
	// Read back with ';' as the separator, as a spreadsheet in a ';' locale
	// would: no cell starts with a formula trigger.
	r := csv.NewReader(strings.NewReader(line))
	r.Comma = ';'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+@", rune(cell[0])) {
				t.Errorf("cell %q starts a formula in a ';' locale (row %q)", cell, line)
			}
		}
	}
	// And the standard reader gets the original names back (marked).
	recs, err = csv.NewReader(strings.NewReader(line)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0][7]; got != "x;'=1+1;'@SUM(2)" {
		t.Errorf("configuration cell read back as %q", got)
	}
}
