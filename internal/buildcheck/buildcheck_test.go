package buildcheck

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"plain", "go build ./x", []string{"go", "build", "./x"}, false},
		{"double quotes keep spaces", `-ldflags "-s -w"`, []string{"-ldflags", "-s -w"}, false},
		{"single quotes keep everything", `'a "b" \c'`, []string{`a "b" \c`}, false},
		{"escaped space", `a\ b c`, []string{"a b", "c"}, false},
		{"empty quotes are a word", `x "" y`, []string{"x", "", "y"}, false},
		{"unterminated quote is an error", `"abc`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitWords(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindGoBuilds(t *testing.T) {
	got, err := FindGoBuilds(`cd /src && CGO_ENABLED=0 GOOS=linux go build -trimpath -tags netgo -ldflags "-s -w -X main.version=1" -o /out/app ./cmd/web; go vet ./...`)
	if err != nil {
		t.Fatal(err)
	}
	want := []GoBuild{{
		Env:      map[string]string{"CGO_ENABLED": "0", "GOOS": "linux"},
		Trimpath: true, LDFlags: "-s -w -X main.version=1", Tags: "netgo", Output: "/out/app",
		Packages: []string{"./cmd/web"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err = FindGoBuilds(`/usr/local/go/bin/go build -ldflags=-w -race -o=x .`)
	if err != nil {
		t.Fatal(err)
	}
	want = []GoBuild{{Env: map[string]string{}, LDFlags: "-w", Output: "x", Packages: []string{"."}, Other: []string{"-race"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flag=value forms (-want +got):\n%s", diff)
	}
	if got, _ := FindGoBuilds("go test ./... && gofmt -l ."); len(got) != 0 {
		t.Errorf("found builds in a command without one: %+v", got)
	}
}

func TestParseDockerfile(t *testing.T) {
	src := `# syntax note
ARG BASE=golang:1.26
FROM golang:1.26 AS build
RUN CGO_ENABLED=0 \
    # a comment inside a continuation
    go build -o /out/x ./cmd/x

FROM --platform=linux/amd64 gcr.io/distroless/static:nonroot
COPY --from=build /out/x /x
USER nonroot
`
	d, err := ParseDockerfile(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Dockerfile{Stages: []Stage{
		{Instructions: []Instruction{{Cmd: "ARG", Args: "BASE=golang:1.26", Line: 2}}},
		{Image: "golang:1.26", Name: "build", Instructions: []Instruction{
			{Cmd: "RUN", Args: "CGO_ENABLED=0 go build -o /out/x ./cmd/x", Line: 4},
		}},
		{Image: "gcr.io/distroless/static:nonroot", Instructions: []Instruction{
			{Cmd: "COPY", Args: "--from=build /out/x /x", Line: 9},
			{Cmd: "USER", Args: "nonroot", Line: 10},
		}},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := d.Final().Image; got != "gcr.io/distroless/static:nonroot" {
		t.Errorf("Final().Image = %q", got)
	}
}

func TestParseMakefileAndExpand(t *testing.T) {
	src := "GO ?= go\nGO ?= other\nFLAGS := -trimpath\nLD = -X main.version=$(VERSION)\nVERSION ?= $(shell git describe)\n\n.PHONY: build\n## build: doc\nbuild: generate\n\tCGO_ENABLED=0 $(GO) build $(FLAGS) \\\n\t  -ldflags \"$(LD)\" ./cmd/web\n\t@echo $${HOME}\n\nother:\n\ttrue\n"
	m, err := ParseMakefile(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if m.Vars["GO"] != "go" {
		t.Errorf("?= must keep the first value, got GO=%q", m.Vars["GO"])
	}
	recipe := m.Recipes["build"]
	if len(recipe) != 2 {
		t.Fatalf("build recipe %q, want 2 lines", recipe)
	}
	m.Vars["VERSION"] = "V"
	if got, want := m.Expand(recipe[0]), `CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=V" ./cmd/web`; got != want {
		t.Errorf("Expand:\n got %q\nwant %q", got, want)
	}
	if got := m.Expand(recipe[1]); got != "@echo ${HOME}" {
		t.Errorf("$$ not unescaped: %q", got)
	}
	if diff := cmp.Diff([]string{"true"}, m.Recipes["other"]); diff != "" {
		t.Errorf("other recipe (-want +got):\n%s", diff)
	}
}
