package db

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every migration has a twin of the same version in the other dialect's
// set: a database of either kind then walks the same schema history, and a
// migration added for one only fails here.
func TestMigrationsMatchAcrossDialects(t *testing.T) {
	versions := func(dir string) []string {
		t.Helper()
		entries, err := fs.ReadDir(migrations, "migrations/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		num := regexp.MustCompile(`^(\d+)_.*\.sql$`)
		for _, e := range entries {
			m := num.FindStringSubmatch(e.Name())
			if m == nil {
				t.Errorf("migrations/%s/%s: not a numbered .sql migration", dir, e.Name())
				continue
			}
			out = append(out, m[1])
		}
		if len(out) == 0 {
			t.Fatalf("migrations/%s: empty", dir)
		}
		return out
	}
	if diff := cmp.Diff(versions("sqlite"), versions("postgres")); diff != "" {
		t.Errorf("migration versions differ (-sqlite +postgres); add the missing twin:\n%s", diff)
	}
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b IN (?, ?)`, `a = $1 AND b IN ($2, $3)`},
		{`a = ?2 AND b = ?1`, `a = $2 AND b = $1`},
		{`x LIKE ? ESCAPE '\' AND y = '?' AND "q?" = ?`, `x LIKE $1 ESCAPE '\' AND y = '?' AND "q?" = $2`},
		{`a = 'it''s ?' AND b = ?`, `a = 'it''s ?' AND b = $1`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`data/rcbu-web.db`, `data/rcbu-web.db`},
		{`postgres://app:s3cret@db.example.com:5432/rcbu?sslmode=require`, `postgres://app:xxxxx@db.example.com:5432/rcbu?sslmode=require`},
		{`postgresql://app@db/rcbu?password=s3cret`, `postgresql://app@db/rcbu?password=xxxxx`},
	} {
		if got := RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
