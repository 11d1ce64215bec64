package buildcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
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
// none of the adapters' packages. (It reaches Cloud Backup through the rcbu
// binding, which is an HTTP client, so net/http is among its dependencies,
// but not among its own imports.)
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
