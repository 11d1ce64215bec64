package buildcheck

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is where the Dockerfile and Makefile live, seen from this
// package's directory (go test runs in the package directory).
const repoRoot = "../.."

func readRepoFiles(t *testing.T) (Dockerfile, Makefile) {
	t.Helper()
	df, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	d, err := ParseDockerfile(df)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	m, err := ParseMakefile(mf)
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

// versionPlaceholder stands for the build version, which the Makefile takes
// from git and the Dockerfile from a build ARG.
const versionPlaceholder = "VERSION"

// makeBuild returns the Makefile's `go build` of ./cmd/web.
func makeBuild(t *testing.T, m Makefile) GoBuild {
	t.Helper()
	m.Vars["VERSION"] = versionPlaceholder
	recipe := m.Recipes["build"]
	if len(recipe) == 0 {
		t.Fatal("Makefile has no build target")
	}
	for _, line := range recipe {
		builds, err := FindGoBuilds(strings.TrimLeft(m.Expand(line), "@-"))
		if err != nil {
			t.Fatalf("Makefile build: %v", err)
		}
		for _, b := range builds {
			if slices.Contains(b.Packages, "./cmd/web") {
				return b
			}
		}
	}
	t.Fatalf("the Makefile's build target does not build ./cmd/web:\n%s", strings.Join(recipe, "\n"))
	return GoBuild{}
}

// dockerBuild returns the Dockerfile's `go build` of ./cmd/web and the stage
// that runs it.
func dockerBuild(t *testing.T, d Dockerfile) (GoBuild, Stage) {
	t.Helper()
	for _, st := range d.Stages {
		for _, in := range st.All("RUN") {
			cmd := strings.NewReplacer("${VERSION}", versionPlaceholder, "$VERSION", versionPlaceholder).Replace(in.Args)
			builds, err := FindGoBuilds(cmd)
			if err != nil {
				t.Fatalf("Dockerfile line %d: %v", in.Line, err)
			}
			for _, b := range builds {
				if slices.Contains(b.Packages, "./cmd/web") {
					return b, st
				}
			}
		}
	}
	t.Fatal("the Dockerfile has no RUN go build ... ./cmd/web")
	return GoBuild{}, Stage{}
}

func TestDockerfileBuildsWhatMakeBuilds(t *testing.T) {
	d, m := readRepoFiles(t)
	mk := makeBuild(t, m)
	dk, _ := dockerBuild(t, d)

	if mk.Env["CGO_ENABLED"] != "0" {
		t.Errorf("Makefile build: CGO_ENABLED=%q, want 0 (the image is distroless/static)", mk.Env["CGO_ENABLED"])
	}
	if dk.Env["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile build: CGO_ENABLED=%q, want 0 (the image is distroless/static)", dk.Env["CGO_ENABLED"])
	}
	if !mk.Trimpath || !dk.Trimpath {
		t.Errorf("-trimpath: Makefile %v, Dockerfile %v; want both", mk.Trimpath, dk.Trimpath)
	}
	// Everything but the output path must match: same package, ldflags
	// (version stamp included), tags and other flags.
	type cmpBuild struct {
		CGO      string
		Trimpath bool
		LDFlags  []string
		Tags     string
		Packages []string
		Other    []string
	}
	norm := func(b GoBuild) cmpBuild {
		return cmpBuild{b.Env["CGO_ENABLED"], b.Trimpath, strings.Fields(b.LDFlags), b.Tags, b.Packages, b.Other}
	}
	if diff := cmp.Diff(norm(mk), norm(dk)); diff != "" {
		t.Errorf("the Dockerfile's go build drifted from `make build` (-make +docker):\n%s", diff)
	}
	if !strings.Contains(mk.LDFlags, "-X main.version="+versionPlaceholder) {
		t.Errorf("Makefile build does not stamp main.version from $(VERSION): ldflags %q", mk.LDFlags)
	}
}

func TestDockerImageIsDistrolessNonRootWithVolumeAndHealthcheck(t *testing.T) {
	d, _ := readRepoFiles(t)
	if len(d.Stages) < 2 {
		t.Fatalf("the Dockerfile has %d stages, want a multi-stage build", len(d.Stages))
	}
	build, buildStage := dockerBuild(t, d)
	final := d.Final()
	if final.Image == buildStage.Image {
		t.Fatalf("the final stage is the build stage (%s)", final.Image)
	}
	if !regexp.MustCompile(`^gcr\.io/distroless/static(-debian\d+)?:nonroot$`).MatchString(final.Image) {
		t.Errorf("final image %q, want gcr.io/distroless/static…:nonroot", final.Image)
	}
	if !strings.HasPrefix(buildStage.Image, "golang:") {
		t.Errorf("build stage image %q, want golang:…", buildStage.Image)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.TrimPrefix(buildStage.Image, "golang:")
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil {
		t.Error("go.mod has no go directive")
	} else if tc := regexp.MustCompile(`(?m)^toolchain go(\S+)`).FindSubmatch(gomod); tc != nil {
		// The image builds with exactly the toolchain make and CI use.
		if tag != string(tc[1]) {
			t.Errorf("build stage uses golang:%s, go.mod's toolchain is go%s", tag, tc[1])
		}
	} else if !strings.HasPrefix(tag, string(m[1])) {
		t.Errorf("build stage uses golang:%s, go.mod says go %s", tag, m[1])
	}
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^export GOTOOLCHAIN \?= go` + regexp.QuoteMeta(tag) + `$`).Match(makefile) {
		t.Errorf("the Makefile does not build with go%s, the image's toolchain", tag)
	}

	users := final.All("USER")
	if len(users) == 0 {
		t.Error("the final stage sets no USER (distroless :nonroot defaults to it, but say so)")
	} else if u := strings.Fields(users[len(users)-1].Args)[0]; u != "nonroot" && u != "nonroot:nonroot" && u != "65532" && u != "65532:65532" {
		t.Errorf("USER %q, want nonroot", u)
	}

	// The binary the build wrote is the one copied, run and health-checked.
	var binary string
	for _, in := range final.All("COPY") {
		words, err := SplitWords(in.Args)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, w := range words {
			if !strings.HasPrefix(w, "--") {
				paths = append(paths, w)
			}
		}
		if len(paths) == 2 && paths[0] == build.Output {
			binary = paths[1]
		}
	}
	if binary == "" {
		t.Fatalf("the final stage does not COPY the built %s", build.Output)
	}
	entry := final.All("ENTRYPOINT")
	if len(entry) == 0 || !strings.Contains(entry[len(entry)-1].Args, `"`+binary+`"`) {
		t.Errorf("ENTRYPOINT does not run %s: %v", binary, entry)
	}
	hc := final.All("HEALTHCHECK")
	if len(hc) == 0 {
		t.Error("no HEALTHCHECK")
	} else if args := hc[len(hc)-1].Args; !strings.Contains(args, `"`+binary+`"`) || !strings.Contains(args, `"-healthcheck"`) {
		t.Errorf("HEALTHCHECK %q, want the exec form running %s -healthcheck (no shell in distroless)", args, binary)
	}

	// A data volume, and the database lives in it.
	vols := final.All("VOLUME")
	if len(vols) == 0 {
		t.Fatal("no VOLUME for the database")
	}
	volume := strings.Trim(strings.Fields(vols[len(vols)-1].Args)[0], `["]`)
	env := map[string]string{}
	for _, in := range final.All("ENV") {
		words, err := SplitWords(in.Args)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range words {
			if k, v, ok := strings.Cut(w, "="); ok {
				env[k] = v
			}
		}
	}
	if db := env["RCBU_WEB_DB"]; !strings.HasPrefix(db, strings.TrimSuffix(volume, "/")+"/") {
		t.Errorf("RCBU_WEB_DB=%q is not inside the VOLUME %s: the database would not persist", db, volume)
	}
	// Listening on loopback would make the published port useless.
	addr := env["RCBU_WEB_ADDR"]
	if addr == "" || strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "localhost") {
		t.Errorf("RCBU_WEB_ADDR=%q: the container must listen on all interfaces", addr)
	}
	if exp := final.All("EXPOSE"); len(exp) == 0 || !strings.HasSuffix(addr, ":"+strings.Fields(exp[0].Args)[0]) {
		t.Errorf("EXPOSE %v does not match RCBU_WEB_ADDR=%q", exp, addr)
	}

	// Every variable the image sets is one the program reads.
	config, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "web", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range env {
		if !strings.Contains(string(config), `"`+k+`"`) {
			t.Errorf("the Dockerfile sets %s, which cmd/web/config.go does not read", k)
		}
	}
}
