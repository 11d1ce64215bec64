package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/internal/loadgen"
)

func TestParseCounts(t *testing.T) {
	got, err := parseCounts("1, 2,1,2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 1, 2}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "0", "two", "1,,2", "17", "-1"} {
		if _, err := parseCounts(bad); err == nil || !strings.Contains(err.Error(), "replica counts") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Flags that cannot make a run are refused in words before anything
// starts (no console binary is needed to get there).
func TestRunRefusesBadFlags(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"replicas on SQLite":   {[]string{"-replicas", "1,2"}, "needs -db postgres://"},
		"a file as -db":        {[]string{"-db", "data/x.db"}, "want a postgres:// URL"},
		"negative budget":      {[]string{"-cpus-per-replica", "-1"}, "want a number of cores"},
		"url with replicas":    {[]string{"-url", "http://127.0.0.1:1", "-db", "postgres://u:secret@h/d", "-replicas", "2"}, "-url loads one running console"},
		"a count out of range": {[]string{"-replicas", "0"}, "replica counts"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), c.args, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	phase := func(n, requests int) phaseResult {
		return phaseResult{replicas: n, res: loadgen.Result{Requests: requests, Elapsed: 10 * time.Second}}
	}
	got := compare([]phaseResult{phase(1, 1000), phase(2, 1900), phase(1, 1200), phase(2, 1500), phase(1, 900), phase(2, 1800)})
	for _, want := range []string{
		"1 replica(s): 100.0 req/s (100.0, 120.0, 90.0)",
		"2 replica(s): 180.0 req/s (190.0, 150.0, 180.0)",
		"ratio 2 replicas ÷ 1: 1.80×",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if got := compare([]phaseResult{phase(1, 10)}); got != "" {
		t.Errorf("one replica count has nothing to compare: %q", got)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %g", m)
	}
}
