package buildcheck

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// contractPath is the Cloud Backup API contract that comments cite as §N.
const contractPath = "docs/rcbu-api.md"

var (
	// contractHeading is a numbered heading: "## 5. Backup configurations",
	// "### 5.2 Schedule semantics".
	contractHeading = regexp.MustCompile(`^(#+)\s+(\d+(?:\.\d+)*)\.?\s`)
	// contractItem is a numbered list item of a section: §15.5 is item 5 of
	// section 15.
	contractItem = regexp.MustCompile(`^(\d+)\.\s`)
	// citation is a §N reference in a comment or document.
	citation = regexp.MustCompile(`§\s?(\d+(?:\.\d+)*)`)
)

// contractSections returns the section numbers the contract defines.
func contractSections(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, contractPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := contractHeading.FindStringSubmatch(line); m != nil {
			out[m[2]] = true
			if len(m[1]) == 2 {
				section = m[2]
			}
			continue
		}
		if m := contractItem.FindStringSubmatch(line); m != nil && section != "" {
			out[section+"."+m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestContractCitationsResolve: every §N in the code and documents names a
// section (or a numbered item of one) of docs/rcbu-api.md, so a reader can
// follow it without anything outside the repository.
func TestContractCitationsResolve(t *testing.T) {
	sections := contractSections(t)
	if len(sections) < 50 {
		t.Fatalf("%s defines only %d sections; is it the contract?", contractPath, len(sections))
	}
	cited := 0
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			switch name {
			case ".git", "node_modules", "vendor", "bin", "data", "e2e-artifacts", "docs":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".templ", ".md", ".sql", ".sh":
		default:
			return nil
		}
		if strings.HasSuffix(name, "_templ.go") {
			return nil // generated from a .templ file, which is checked
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range citation.FindAllStringSubmatch(line, -1) {
				cited++
				if !sections[m[1]] {
					rel, _ := filepath.Rel(repoRoot, path)
					t.Errorf("%s:%d cites §%s, which %s does not have", rel, i+1, m[1], contractPath)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Fatal("no §N citations found: is repoRoot right?")
	}
}

// outsideReference is a note a reader of the repository cannot follow: a
// tracker issue by number, a team owner by name, or an absolute path on a
// development machine.
var outsideReference = regexp.MustCompile(`\b[Ii]ssues? #?\d+\b|\(owner [a-z]+[;),]|\bowner (ops|cfg|history|api|alerts)\b|/wor[k]/`)

// TestNoReferencesOutsideTheRepository: comments give the reason itself, not
// a pointer to a tracker, a team member or a file elsewhere. Shipped
// migrations are left as they are (they are append-only).
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "vendor", "bin", "data", "e2e-artifacts", "migrations":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(d.Name()) {
		case ".go", ".templ", ".md", ".sh", ".css", ".js":
		default:
			if d.Name() != "Makefile" && d.Name() != "Dockerfile" {
				return nil
			}
		}
		if strings.HasSuffix(d.Name(), "_templ.go") || strings.HasSuffix(d.Name(), ".min.js") || strings.HasSuffix(d.Name(), ".min.css") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outsideReference.FindString(line); m != "" {
				rel, _ := filepath.Rel(repoRoot, path)
				t.Errorf("%s:%d refers to %q, which the repository does not hold", rel, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
