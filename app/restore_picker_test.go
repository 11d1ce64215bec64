package app

import (
	"strings"
	"testing"
)

// render draws a tree as indented "name path [sources]" lines.
func render(ns []*PathNode, depth int, b *strings.Builder) {
	for _, n := range ns {
		b.WriteString(strings.Repeat("  ", depth) + n.Name + " " + n.Path)
		if n.Known {
			b.WriteString(" [" + strings.Join(n.Sources, ",") + "]")
		}
		b.WriteByte('\n')
		render(n.Children, depth+1, b)
	}
}

func TestPickerTree(t *testing.T) {
	tb := newTreeBuilder()
	tb.add("/var/www/", PathIncluded, 0)
	tb.add("/var/www/cache/", PathExcluded, 0)
	tb.add("/var/www/html/index.php", PathReported, 41)
	tb.add("/var/www/html/index.php", PathRestored, 0)
	tb.add("/etc/nginx/nginx.conf", PathRestored, 0)
	tb.add(`C:\Data\report.xlsx`, PathReported, 42)
	tb.add("relative/path", PathRestored, 0) // not a path a restore takes
	var b strings.Builder
	render(tb.roots(), 0, &b)
	want := `/ /
  etc/nginx /etc/nginx/
    nginx.conf /etc/nginx/nginx.conf [restored]
  var/www /var/www/ [included]
    cache /var/www/cache/ [excluded]
    html /var/www/html/
      index.php /var/www/html/index.php [reported,restored]
C:\Data C:\Data\
  report.xlsx C:\Data\report.xlsx [reported]
`
	if b.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", b.String(), want)
	}
	if tb.known != 5 {
		t.Errorf("%d known paths, want 5", tb.known)
	}
}

func TestPickerOutside(t *testing.T) {
	tree := PathTree{Inclusions: []string{"/var/www/", "/etc/hosts"}, Exclusions: []string{"/var/www/cache/"}}
	for p, want := range map[string]string{
		"/var/www/html/index.php": "",
		"/var/www":                "",
		"/var/":                   "", // holds an inclusion
		"/etc/hosts":              "",
		"/var/www/cache/x":        "excluded",
		"/home/me/.bashrc":        "outside",
		"/etc/hostsfile":          "outside",
	} {
		got := tree.Outside(p)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("Outside(%q) = %q, want it to say %q", p, got, want)
		}
	}
}
