package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/rcbu-console/rcbu-console/app"
)

// Full-text search over report errors, per dialect. Both databases see the
// same words: runs of letters and digits, case folded (SQLite's FTS5
// unicode61 tokenizer; on PostgreSQL a tsvector of the text cut at every
// other character, db/migrations/postgres/00010_reports.sql). What a person
// types becomes words the same way, every word must match, and the last
// one may match as a prefix (searchPlan), so one search finds the same
// errors on both. SQLite folds diacritics as well (é matches e);
// PostgreSQL's 'simple' configuration does not.

// searchWords splits what a person typed into the words a search matches,
// at most 16.
func searchWords(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	return words[:min(len(words), 16)]
}

// ftsQuery turns what a person typed into the dialect's full-text query:
// every word must match (with prefix set, the last one as a prefix), and no
// query syntax gets through. It returns "" when nothing searchable is left.
func (d dialect) ftsQuery(q string, prefix bool) string {
	words := searchWords(q)
	parts := make([]string, len(words))
	for i, w := range words {
		if d == postgresDialect {
			parts[i] = w // letters and digits only: no tsquery syntax
			if prefix && i == len(words)-1 {
				parts[i] += ":*"
			}
			continue
		}
		parts[i] = `"` + w + `"`
		if prefix && i == len(words)-1 {
			parts[i] += "*"
		}
	}
	if d == postgresDialect {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " AND ")
}

// countMatches counts the errors the full-text query q matches, up to
// the drive limit + 1 (counting stops there). PostgreSQL's planner needs no
// count to choose a plan, so there it only says whether any matches (0 or
// 1): counting a common word's thousands of matches would cost more than
// the page.
func (s *Store) countMatches(ctx context.Context, q string) (int, error) {
	query, limit := `SELECT COUNT(*) FROM (SELECT rowid FROM report_errors_fts WHERE report_errors_fts MATCH ? LIMIT ?)`, s.driveLimit+1
	if s.dialect == postgresDialect {
		query, limit = `SELECT COUNT(*) FROM (SELECT 1 FROM report_errors WHERE search @@ search_query(?) LIMIT ?) m`, 1
	}
	var n int
	if err := s.db.QueryRowContext(ctx, query, q, limit).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count matches: %w", err)
	}
	return n, nil
}

// pgReportMatches is true for the report r with an error matching the
// tsquery given as its one parameter (the GIN index finds the errors; the
// planner chooses whether to probe per report or to join).
const pgReportMatches = `EXISTS (SELECT 1 FROM report_errors e WHERE e.report_id = r.id AND e.search @@ search_query(?))`

// pgSnippets is ReportSnippets on PostgreSQL: the first matching error of
// each report, marked up by markSnippet as FTS5's snippet() does on SQLite.
func (s *Store) pgSnippets(ctx context.Context, ids []app.SnapshotID, q, fts string) (map[app.SnapshotID]string, error) {
	out := map[app.SnapshotID]string{}
	words := searchWords(q)
	prefix := strings.HasSuffix(fts, ":*")
	for _, id := range ids {
		var cols [3]string
		err := s.db.QueryRowContext(ctx, `SELECT path, description, exception FROM report_errors
			WHERE report_id = ? AND search @@ search_query(?) ORDER BY id LIMIT 1`, int64(id), fts).Scan(&cols[0], &cols[1], &cols[2])
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("db: report snippets: %w", err)
		default:
			out[id] = markSnippet(cols[:], words, prefix)
		}
	}
	return out, nil
}

// snippetTokens is how many words a snippet shows, as FTS5's snippet() is
// asked for on SQLite.
const snippetTokens = 16

// markSnippet returns the part of the column with the most matching words
// (the first on a tie) around its first match, at most snippetTokens words,
// each match between app.SnippetOpen and app.SnippetClose, and … where text
// was cut.
func markSnippet(cols []string, words []string, prefix bool) string {
	type token struct{ start, end int }
	tokenize := func(text string) []token {
		var out []token
		start := -1
		for i, r := range text {
			alnum := unicode.IsLetter(r) || unicode.IsNumber(r)
			switch {
			case alnum && start < 0:
				start = i
			case !alnum && start >= 0:
				out = append(out, token{start, i})
				start = -1
			}
		}
		if start >= 0 {
			out = append(out, token{start, len(text)})
		}
		return out
	}
	matches := func(tok string) bool {
		tok = foldWord(tok)
		for i, w := range words {
			w = foldWord(w)
			if tok == w || prefix && i == len(words)-1 && strings.HasPrefix(tok, w) {
				return true
			}
		}
		return false
	}
	best, bestN := 0, -1
	for i, c := range cols {
		n := 0
		for _, t := range tokenize(c) {
			if matches(c[t.start:t.end]) {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	text := cols[best]
	toks := tokenize(text)
	first := 0
	for i, t := range toks {
		if matches(text[t.start:t.end]) {
			first = i
			break
		}
	}
	from := max(0, min(first, len(toks)-snippetTokens))
	to := min(len(toks), from+snippetTokens)
	var b strings.Builder
	pos := 0
	if from > 0 {
		b.WriteString("…")
		pos = toks[from].start
	}
	for _, t := range toks[from:to] {
		b.WriteString(text[pos:t.start])
		if word := text[t.start:t.end]; matches(word) {
			b.WriteString(app.SnippetOpen + word + app.SnippetClose)
		} else {
			b.WriteString(word)
		}
		pos = t.end
	}
	if to < len(toks) {
		b.WriteString("…")
	} else {
		b.WriteString(text[pos:])
	}
	if !utf8.ValidString(b.String()) {
		return strings.ToValidUTF8(b.String(), "")
	}
	return b.String()
}

// foldWord is w in lower case without diacritics, as the full-text search
// compares words.
func foldWord(w string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(w)))
}
