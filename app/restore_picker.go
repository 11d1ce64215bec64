package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// The public API cannot list what a backup holds (§8), so the restore
// picker offers the paths the console knows of: the configuration's
// inclusions and exclusions, the paths its backups' reports named, and the
// paths earlier restores of it asked for. Free text stays for the rest.

// Where a picker path comes from.
const (
	PathIncluded = "included" // an inclusion of the configuration
	PathExcluded = "excluded" // an exclusion: not in the backup
	PathReported = "reported" // named in a backup report's error list
	PathRestored = "restored" // asked for by an earlier restore
)

// Picker limits: enough for a person to scan, bounded for the page.
const (
	pickerReportedPaths = 200
	pickerRestoredPaths = 100
)

// PathNode is one node of the picker's tree: a folder or a file the
// console knows of, or a folder on the way to one (Known false).
type PathNode struct {
	Name     string // the segment(s) shown: "www", "C:", "/"
	Path     string // the full path as a restore takes it; folders end with a separator
	Folder   bool
	Known    bool     // the path itself was named by a source (not only a step on the way)
	Sources  []string // PathIncluded, PathReported, ...
	BackupID rcbu.BackupID
	Children []*PathNode
}

// PathTree is the picker's tree with its roots, and the configuration's
// inclusions and exclusions for the outside-the-backup warnings.
type PathTree struct {
	Roots      []*PathNode
	Inclusions []string
	Exclusions []string
	Count      int // how many known paths the tree holds
}

// PickerPaths builds the picker's tree for the plan's configuration. A
// store that cannot answer leaves its paths out; the inclusions come from
// the configuration Load read.
func (s *Restores) PickerPaths(ctx context.Context, rc RestoreContext) (PathTree, error) {
	cfg := rc.Source.Configuration
	t := newTreeBuilder()
	var tree PathTree
	for _, p := range cfg.Inclusions {
		path := folderPath(p.FilePath, p.FileItemType == rcbu.ItemFolder)
		tree.Inclusions = append(tree.Inclusions, path)
		t.add(path, PathIncluded, 0)
	}
	for _, p := range cfg.Exclusions {
		path := folderPath(p.FilePath, p.FileItemType == rcbu.ItemFolder)
		tree.Exclusions = append(tree.Exclusions, path)
		t.add(path, PathExcluded, 0)
	}
	reported, err := s.requests.ReportedPaths(ctx, rc.Source.AccountID, cfg.ID, pickerReportedPaths)
	if err != nil {
		return tree, fmt.Errorf("picker paths: %w", err)
	}
	for _, p := range reported {
		t.add(p.Path, PathReported, p.BackupID)
	}
	restored, err := s.requests.RestoredPaths(ctx, rc.Source.AccountID, cfg.ID, pickerRestoredPaths)
	if err != nil {
		return tree, fmt.Errorf("picker paths: %w", err)
	}
	for _, p := range restored {
		t.add(p, PathRestored, 0)
	}
	tree.Roots, tree.Count = t.roots(), t.known
	return tree, nil
}

// folderPath ends a folder's path with its separator, as the wizard takes
// folders.
func folderPath(p string, folder bool) string {
	if !folder || strings.HasSuffix(p, "/") || strings.HasSuffix(p, `\`) {
		return p
	}
	if strings.Contains(p, `\`) && !strings.Contains(p, "/") {
		return p + `\`
	}
	return p + "/"
}

// isSep reports a path separator (either family).
func isSep(r byte) bool { return r == '/' || r == '\\' }

// segments splits a path into its prefixes, one per segment, each with the
// separator that follows it when it is a folder on the way: "/var/www/x"
// gives "/", "/var/", "/var/www/", "/var/www/x".
func segments(p string) []string {
	var out []string
	start := 0
	if p != "" && isSep(p[0]) {
		out = append(out, p[:1])
		start = 1
	}
	for i := start; i < len(p); i++ {
		if isSep(p[i]) {
			if i > start {
				out = append(out, p[:i+1])
			}
			start = i + 1
		}
	}
	if start < len(p) {
		out = append(out, p)
	}
	return out
}

type treeBuilder struct {
	root  *PathNode
	index map[string]*PathNode // by path folded to lower case and one separator family
	known int
}

func newTreeBuilder() *treeBuilder {
	return &treeBuilder{root: &PathNode{}, index: map[string]*PathNode{}}
}

func treeKey(p string) string {
	return strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
}

// add places a path (and the folders on the way to it) in the tree.
func (t *treeBuilder) add(p, source string, backup rcbu.BackupID) {
	if !absPath(p) {
		return
	}
	parent := t.root
	segs := segments(p)
	for i, prefix := range segs {
		n, ok := t.index[treeKey(prefix)]
		if !ok {
			name := prefix
			if parent != t.root {
				name = prefix[len(parent.Path):]
			}
			if name = strings.TrimRight(name, `/\`); name == "" {
				name = prefix // the root, "/"
			}
			n = &PathNode{Name: name, Path: prefix, Folder: i < len(segs)-1 || isSep(prefix[len(prefix)-1])}
			t.index[treeKey(prefix)] = n
			parent.Children = append(parent.Children, n)
		}
		if i == len(segs)-1 {
			if !n.Known {
				t.known++
			}
			n.Known = true
			if !slices.Contains(n.Sources, source) {
				n.Sources = append(n.Sources, source)
			}
			if backup != 0 && n.BackupID == 0 {
				n.BackupID = backup
			}
		}
		parent = n
	}
}

// roots returns the tree sorted by name, with runs of folders that only
// lead to one other folder joined ("/var/www/" rather than "/" › "var" ›
// "www"), so the picker opens where the known paths are.
func (t *treeBuilder) roots() []*PathNode {
	var walk func(ns []*PathNode) []*PathNode
	walk = func(ns []*PathNode) []*PathNode {
		slices.SortFunc(ns, func(a, b *PathNode) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		for i, n := range ns {
			for !n.Known && len(n.Children) == 1 && n.Children[0].Folder {
				c := n.Children[0]
				name := n.Name
				if !strings.HasSuffix(name, "/") && !strings.HasSuffix(name, `\`) {
					name += string(c.Path[len(n.Path)-1])
				}
				c.Name = name + c.Name
				n = c
			}
			n.Children = walk(n.Children)
			ns[i] = n
		}
		return ns
	}
	return walk(t.root.Children)
}

// Outside reports whether a path lies outside what the configuration backs
// up: under none of its inclusions, or under one of its exclusions. It
// returns the words to show, or "".
func (tree PathTree) Outside(p string) string {
	under := func(p, dir string) bool {
		k, d := treeKey(p), treeKey(dir)
		if !strings.HasSuffix(d, "/") {
			return k == d
		}
		return strings.HasPrefix(k, d) || k+"/" == d || k == strings.TrimSuffix(d, "/")
	}
	for _, ex := range tree.Exclusions {
		if under(p, ex) {
			return fmt.Sprintf("%s is excluded from this configuration's backups (%s), so the backup does not hold it.", p, ex)
		}
	}
	if len(tree.Inclusions) == 0 {
		return ""
	}
	for _, in := range tree.Inclusions {
		if under(p, in) || under(in, folderPath(p, true)) {
			return ""
		}
	}
	return fmt.Sprintf("%s is outside what this configuration backs up (%s), so the backup may not hold it.", p, strings.Join(tree.Inclusions, ", "))
}
