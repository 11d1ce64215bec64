package app

import (
	"testing"
	"time"
)

func TestEstimateIsTheMedianOfRecentRuns(t *testing.T) {
	runs := []RunPoint{
		{Duration: 4 * time.Minute, Bytes: 100, Files: 10},
		{Duration: 40 * time.Minute, Bytes: 900, Files: 90}, // one odd run does not move it
		{Duration: 5 * time.Minute, Bytes: 120, Files: 12},
		{Duration: 3 * time.Minute, Bytes: 80, Files: 8},
	}
	e := estimateOf(runs)
	if e.Runs != 4 || e.Duration != 4*time.Minute || e.Bytes != 100 || e.Files != 10 {
		t.Errorf("estimate %+v", e)
	}
	if e := estimateOf(nil); e.Runs != 0 || e.Duration != 0 {
		t.Errorf("no runs: %+v", e)
	}
}

func TestJobTrailsKeepFirstSightings(t *testing.T) {
	tr := newJobTrails()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := trailKey{account: 1, kind: KindBackup, id: 7}
	tr.started(k, "StartRequested", t0)
	tr.observe(k, "Queued", t0.Add(time.Second))
	tr.observe(k, "queued", t0.Add(3*time.Second)) // same state, other spelling: no new step
	got := tr.observe(k, "InProgress", t0.Add(5*time.Second))
	if len(got) != 3 || got[1].At != t0.Add(time.Second) || got[2].State != "InProgress" {
		t.Errorf("trail %+v", got)
	}
	for i := range maxTrails + 5 {
		tr.observe(trailKey{account: 1, kind: KindRestore, id: int64(100 + i)}, "Queued", t0.Add(time.Duration(i+10)*time.Second))
	}
	if n := len(tr.m); n != maxTrails {
		t.Errorf("%d trails kept, want at most %d", n, maxTrails)
	}
	if _, ok := tr.m[k]; ok {
		t.Error("the trail first seen longest ago was kept")
	}
}
