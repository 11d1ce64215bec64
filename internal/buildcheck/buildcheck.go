// Package buildcheck reads the two places that say how the console is built,
// the Dockerfile and the Makefile, so that a test can check that they build
// the same binary the same way. No container engine runs in CI; this is
// what keeps the image honest there.
//
// The parsers understand the subset of each format the repository uses:
// Dockerfile instructions with backslash continuations and comments, and
// make variable assignments (=, :=, ?=) plus target recipes. Shell words are
// split with single and double quotes; nothing is executed.
package buildcheck

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Instruction is one Dockerfile instruction.
type Instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string // the rest of the line, continuations joined
	Line int    // 1-based line of the instruction's start
}

// Stage is one FROM section of a Dockerfile.
type Stage struct {
	Image        string // the FROM image reference
	Name         string // the AS name; "" if none
	Instructions []Instruction
}

// Dockerfile is a parsed Dockerfile: its stages in order.
type Dockerfile struct {
	Stages []Stage
}

// Final returns the last stage (the image that ships).
func (d Dockerfile) Final() Stage {
	if len(d.Stages) == 0 {
		return Stage{}
	}
	return d.Stages[len(d.Stages)-1]
}

// All returns every instruction of the stage whose Cmd is cmd.
func (s Stage) All(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// ParseDockerfile reads a Dockerfile. Instructions before the first FROM
// (ARG only, by the format's rules) are put in a stage with no image.
func ParseDockerfile(r io.Reader) (Dockerfile, error) {
	var d Dockerfile
	sc := bufio.NewScanner(r)
	var (
		cur       strings.Builder
		startLine int
		lineNo    int
	)
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: startLine}
		if in.Cmd == "FROM" {
			words, err := SplitWords(in.Args)
			if err != nil {
				return fmt.Errorf("buildcheck: dockerfile line %d: %w", in.Line, err)
			}
			st := Stage{}
			for i := 0; i < len(words); i++ {
				switch {
				case strings.HasPrefix(words[i], "--"):
				case strings.EqualFold(words[i], "AS") && i+1 < len(words):
					st.Name = words[i+1]
					i++
				case st.Image == "":
					st.Image = words[i]
				}
			}
			d.Stages = append(d.Stages, st)
			return nil
		}
		if len(d.Stages) == 0 {
			d.Stages = append(d.Stages, Stage{})
		}
		last := &d.Stages[len(d.Stages)-1]
		last.Instructions = append(last.Instructions, in)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments may sit inside a continued instruction too
		}
		if cur.Len() == 0 {
			if trimmed == "" {
				continue
			}
			startLine = lineNo
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSpace(strings.TrimSuffix(trimmed, `\`)))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return Dockerfile{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return Dockerfile{}, fmt.Errorf("buildcheck: read dockerfile: %w", err)
	}
	if err := flush(); err != nil {
		return Dockerfile{}, err
	}
	return d, nil
}

// Makefile is a parsed Makefile: its variables and each target's recipe.
type Makefile struct {
	Vars    map[string]string   // raw values, unexpanded
	Recipes map[string][]string // target → recipe lines (tab stripped)
}

var (
	assignRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|=)\s*(.*)$`)
	targetRE = regexp.MustCompile(`^([^:=\s#][^:=#]*?)\s*:([^=]|$)`)
	varRefRE = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// ParseMakefile reads a Makefile. A recipe line continued with a backslash
// is joined to the next one. For ?= the first assignment wins, for = and :=
// the last (the environment is not consulted: the file's own defaults are
// what CI uses).
func ParseMakefile(r io.Reader) (Makefile, error) {
	m := Makefile{Vars: map[string]string{}, Recipes: map[string][]string{}}
	sc := bufio.NewScanner(r)
	var targets []string
	var pending strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "\t") {
			body := strings.TrimSpace(line)
			if strings.HasSuffix(body, `\`) {
				pending.WriteString(strings.TrimSpace(strings.TrimSuffix(body, `\`)))
				pending.WriteByte(' ')
				continue
			}
			pending.WriteString(body)
			for _, t := range targets {
				m.Recipes[t] = append(m.Recipes[t], strings.TrimSpace(pending.String()))
			}
			pending.Reset()
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if a := assignRE.FindStringSubmatch(trimmed); a != nil {
			name, op, val := a[1], a[2], strings.TrimSpace(a[3])
			if _, set := m.Vars[name]; op == "?=" && set {
				continue
			}
			m.Vars[name] = val
			targets = nil
			continue
		}
		if t := targetRE.FindStringSubmatch(trimmed); t != nil {
			targets = strings.Fields(t[1])
			continue
		}
		targets = nil
	}
	if err := sc.Err(); err != nil {
		return Makefile{}, fmt.Errorf("buildcheck: read makefile: %w", err)
	}
	return m, nil
}

// Expand replaces $(NAME) and ${NAME} references to the Makefile's own
// variables, recursively (at most 10 levels). $(shell ...) and unknown
// names are left as they are; $$ becomes $.
func (m Makefile) Expand(s string) string {
	for range 10 {
		next := varRefRE.ReplaceAllStringFunc(s, func(ref string) string {
			sub := varRefRE.FindStringSubmatch(ref)
			name := sub[1] + sub[2]
			if v, ok := m.Vars[name]; ok {
				return v
			}
			return ref
		})
		if next == s {
			break
		}
		s = next
	}
	return strings.ReplaceAll(s, "$$", "$")
}

// SplitWords splits a shell command line into words, honouring single and
// double quotes and backslash escapes outside single quotes. It does not
// expand anything.
func SplitWords(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// GoBuild is one `go build` invocation found in a shell command.
type GoBuild struct {
	Env      map[string]string // VAR=value words before the go command
	Trimpath bool
	LDFlags  string
	Tags     string
	Output   string
	Packages []string
	Other    []string // any other flag, as written
}

// FindGoBuilds returns every `go build` in a shell command line, which may
// chain commands with &&, || or ;. The go command is the word "go" or a path
// ending in "/go", optionally after `env` and VAR=value words.
func FindGoBuilds(cmdline string) ([]GoBuild, error) {
	words, err := SplitWords(cmdline)
	if err != nil {
		return nil, err
	}
	var out []GoBuild
	var cmd []string
	flushCmd := func() {
		if b, ok := parseGoBuild(cmd); ok {
			out = append(out, b)
		}
		cmd = nil
	}
	for _, w := range words {
		switch w {
		case "&&", "||", ";":
			flushCmd()
			continue
		}
		if strings.HasSuffix(w, ";") && len(w) > 1 {
			cmd = append(cmd, strings.TrimSuffix(w, ";"))
			flushCmd()
			continue
		}
		cmd = append(cmd, w)
	}
	flushCmd()
	return out, nil
}

var envWordRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func parseGoBuild(words []string) (GoBuild, bool) {
	b := GoBuild{Env: map[string]string{}}
	i := 0
	if i < len(words) && words[i] == "env" {
		i++
	}
	for ; i < len(words) && envWordRE.MatchString(words[i]); i++ {
		k, v, _ := strings.Cut(words[i], "=")
		b.Env[k] = v
	}
	if i+1 >= len(words) || !(words[i] == "go" || strings.HasSuffix(words[i], "/go")) || words[i+1] != "build" {
		return GoBuild{}, false
	}
	rest := words[i+2:]
	for j := 0; j < len(rest); j++ {
		w := rest[j]
		name, val, hasVal := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !strings.HasPrefix(w, "-") {
			b.Packages = append(b.Packages, w)
			continue
		}
		takes := func() string {
			if hasVal {
				return val
			}
			if j+1 < len(rest) {
				j++
				return rest[j]
			}
			return ""
		}
		switch name {
		case "trimpath":
			b.Trimpath = !hasVal || val == "true"
		case "ldflags":
			b.LDFlags = takes()
		case "tags":
			b.Tags = takes()
		case "o":
			b.Output = takes()
		default:
			b.Other = append(b.Other, w)
		}
	}
	return b, true
}
