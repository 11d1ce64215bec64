package buildcheck

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// adapterImports are the packages that belong to the adapters around app
// (metrics, notify, openid, upstream, db), never to app itself.
var adapterImports = []string{
	"net/http", "net/smtp", "crypto/tls", "database/sql",
	"github.com/prometheus/", "github.com/coreos/go-oidc/", "golang.org/x/oauth2",
	"github.com/labstack/echo/", "github.com/jackc/pgx/", "modernc.org/sqlite",
}

// TestAppImportsNoAdapter: the domain package speaks to the world through
// its own interfaces (Store, Sender, Connector, OIDCProvider…) and imports
// none of the adapters' packages.
func TestAppImportsNoAdapter(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "app", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("app's files: %v, %d", err, len(files))
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, a := range adapterImports {
				if path == a || strings.HasSuffix(a, "/") && strings.HasPrefix(path, a) {
					t.Errorf("%s imports %s: that belongs in an adapter package beside app", filepath.Base(f), path)
				}
			}
		}
	}
}

// TestAppLinksNoAdapter: nor does anything app imports, however indirectly.
// The rcbu binding reaches Cloud Backup through an rcbu.Transport that its
// caller supplies (rcbuhttp's, built in upstream), so app holds an
// rcbu.Client without linking an HTTP stack.
func TestAppLinksNoAdapter(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./app")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./app: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "github.com/rcbu-console/rcbu-console/rcbu") {
		t.Fatalf("go list -deps ./app listed %d packages, without rcbu: %q", len(deps), out)
	}
	for _, path := range deps {
		for _, a := range adapterImports {
			if path == a || strings.HasSuffix(a, "/") && strings.HasPrefix(path, a) {
				t.Errorf("app depends on %s (go list -deps ./app)", path)
			}
		}
	}
}
