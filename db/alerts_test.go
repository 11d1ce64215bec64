package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// alertStore opens a store with one account and one webhook channel.
func alertStore(t *testing.T) (*db.Store, app.AccountID, app.Channel) {
	t.Helper()
	ctx := context.Background()
	s, _ := openStore(t)
	a, err := s.CreateAccount(ctx, app.Account{Name: "Prod", Username: "p", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
		IdentityURL: "https://id.example/v2.0/tokens", Source: app.SourceAdmin, Created: t0, Updated: t0})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateChannel(ctx, app.Channel{AccountID: a.ID, Name: "hook", Kind: app.ChannelWebhook, Enabled: true, URL: "https://h/x",
		SecretSealed: []byte("sealed"), Rules: []app.RuleKind{app.RuleBackupFailed, app.RuleGrowth}, Created: t0, Updated: t0})
	if err != nil {
		t.Fatal(err)
	}
	return s, a.ID, c
}

func TestChannelStore(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, acct, c := alertStore(t)
		got, err := s.Channel(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if _, err := s.CreateChannel(ctx, app.Channel{AccountID: acct, Name: "hook", Kind: app.ChannelSlack, Created: t0, Updated: t0}); !errors.Is(err, app.ErrConflict) {
			t.Errorf("duplicate name: %v", err)
		}
		c.SMTP = app.SMTPSettings{To: []string{"a@example.com", "b@example.com"}}
		c.Name, c.Rules = "renamed", nil
		if err := s.UpdateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Channel(ctx, c.ID)
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("after update (-want +got):\n%s", diff)
		}
		if err := s.DeleteChannel(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Channel(ctx, c.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("deleted: %v", err)
		}
		if err := s.DeleteChannel(ctx, c.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
	})
}

func TestIncidentStore(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, acct, c := alertStore(t)
		f := app.Finding{Rule: app.RuleBackupFailed, Object: "backup:1", Group: "configuration:9", Title: "failed", At: t0, Once: true}
		open := func(f app.Finding, at time.Time) (app.Incident, bool) {
			t.Helper()
			inc, ok, err := s.OpenIncident(ctx, app.NewIncident{AccountID: acct, Finding: f, Opened: at, Payload: []byte(`{}`), Channels: []app.ChannelID{c.ID}})
			if err != nil {
				t.Fatal(err)
			}
			return inc, ok
		}
		inc, ok := open(f, t0)
		if !ok || inc.ID == 0 {
			t.Fatalf("not opened: %+v", inc)
		}
		if _, ok := open(f, t0.Add(time.Minute)); ok {
			t.Error("opened twice while open")
		}
		due, err := s.DueDeliveries(ctx, t0, 10)
		if err != nil || len(due) != 1 || due[0].IncidentID != inc.ID || due[0].Event != app.EventOpened {
			t.Fatalf("due %+v, %v", due, err)
		}

		t.Run("resolving before the alert went out drops it and sends no resolution", func(t *testing.T) {
			done, err := s.ResolveIncident(ctx, app.IncidentResolution{ID: inc.ID, Resolved: t0.Add(time.Hour), Title: "Resolved", Payload: []byte(`{}`)})
			if err != nil || !done {
				t.Fatalf("resolve: %v, %v", done, err)
			}
			log, _ := s.ListDeliveries(ctx, c.ID, 0, 10)
			if len(log) != 1 || log[0].Status != app.DeliveryFailed || log[0].LastError == "" {
				t.Errorf("log %+v", log)
			}
			if done, _ := s.ResolveIncident(ctx, app.IncidentResolution{ID: inc.ID, Resolved: t0.Add(2 * time.Hour)}); done {
				t.Error("resolved twice")
			}
		})
		t.Run("a once finding is never reopened; others are", func(t *testing.T) {
			if _, ok := open(f, t0.Add(3*time.Hour)); ok {
				t.Error("a resolved once incident reopened")
			}
			g := app.Finding{Rule: app.RuleOverdue, Object: "configuration:9", Title: "overdue", At: t0}
			first, ok := open(g, t0)
			if !ok {
				t.Fatal("not opened")
			}
			sent := mustDue(t, s, t0, first.ID)
			sent.Status, sent.Attempts, sent.Sent = app.DeliverySent, 1, t0
			if err := s.SaveAttempt(ctx, sent); err != nil {
				t.Fatal(err)
			}
			if done, err := s.ResolveIncident(ctx, app.IncidentResolution{ID: first.ID, Resolved: t0.Add(time.Hour), Title: "Resolved: overdue", Payload: []byte(`{}`)}); err != nil || !done {
				t.Fatal(err)
			}
			res := mustDue(t, s, t0.Add(time.Hour), first.ID)
			if res.Event != app.EventResolved || res.Title != "Resolved: overdue" {
				t.Errorf("resolution %+v", res)
			}
			again, ok := open(g, t0.Add(2*time.Hour))
			if !ok || again.ID == first.ID {
				t.Errorf("not reopened as a new incident: %+v", again)
			}
			list, err := s.ListIncidents(ctx, []app.AccountID{acct}, 10)
			if err != nil || len(list) != 3 || list[0].ID != again.ID || list[0].State != app.IncidentOpen {
				t.Errorf("list %+v, %v", list, err)
			}
		})
	})
}

// mustDue returns the pending delivery of incident id due at now.
func mustDue(t *testing.T, s *db.Store, now time.Time, id app.IncidentID) app.Delivery {
	t.Helper()
	due, err := s.DueDeliveries(context.Background(), now, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		if d.IncidentID == id {
			return d
		}
	}
	t.Fatalf("no delivery due for incident %d in %+v", id, due)
	return app.Delivery{}
}

func TestDeliveryLogPaging(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _, c := alertStore(t)
		for i := range 7 {
			if _, err := s.EnqueueDelivery(ctx, app.Delivery{ChannelID: c.ID, Event: app.EventTest, Title: "t", Payload: []byte(`{}`),
				NextAttempt: t0.Add(time.Duration(i) * time.Minute), Created: t0}); err != nil {
				t.Fatal(err)
			}
		}
		next, ok, err := s.NextDeliveryAt(ctx)
		if err != nil || !ok || !next.Equal(t0) {
			t.Errorf("next %v %v %v", next, ok, err)
		}
		var seen []app.DeliveryID
		var before app.DeliveryID
		for range 10 {
			page, err := s.ListDeliveries(ctx, c.ID, before, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, d := range page {
				seen = append(seen, d.ID)
			}
			before = page[len(page)-1].ID
		}
		if len(seen) != 7 {
			t.Fatalf("paged %d of 7", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Errorf("not newest first: %v", seen)
			}
		}
	})
}

func TestTrackOffline(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, acct, _ := alertStore(t)
		got, err := s.TrackOffline(ctx, acct, []rcbu.AgentID{1, 2}, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[rcbu.AgentID]time.Time{1: t0, 2: t0}, got); diff != "" {
			t.Errorf("first sightings (-want +got):\n%s", diff)
		}
		got, err = s.TrackOffline(ctx, acct, []rcbu.AgentID{1}, []rcbu.AgentID{2}, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[rcbu.AgentID]time.Time{1: t0}, got); diff != "" {
			t.Errorf("the first sighting is kept, the agent back online forgotten (-want +got):\n%s", diff)
		}
	})
}

func TestAlertSettingsStore(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, acct, c := alertStore(t)
		st, err := s.EnsureAlertSettings(ctx, acct, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := app.AlertSettings{AccountID: acct, WatchSince: t0, OfflineHours: 24, GrowthFactor: 5, DigestFrequency: app.DigestOff, DigestHour: 8, DigestWeekday: time.Monday}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("defaults (-want +got):\n%s", diff)
		}
		st.DigestFrequency, st.DigestChannel, st.DigestLast = app.DigestWeekly, c.ID, t0.Add(time.Hour)
		if err := s.SaveAlertSettings(ctx, st); err != nil {
			t.Fatal(err)
		}
		again, _ := s.EnsureAlertSettings(ctx, acct, t0.Add(48*time.Hour))
		if diff := cmp.Diff(st, again); diff != "" {
			t.Errorf("a later ensure changed the settings (-want +got):\n%s", diff)
		}
		if err := s.DeleteChannel(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		again, _ = s.EnsureAlertSettings(ctx, acct, t0)
		if again.DigestChannel != 0 {
			t.Errorf("the digest still points at a deleted channel: %d", again.DigestChannel)
		}
	})
}

// BenchmarkAlertRuns reads the growth window (31 newest runs per
// configuration) of an account with 1,000 configurations × 60 runs.
func BenchmarkAlertRuns(b *testing.B) {
	ctx := context.Background()
	s, err := db.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a, err := s.CreateAccount(ctx, app.Account{Name: "bench", Username: "bench", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
		IdentityURL: "https://id.example/v2.0/tokens", Source: app.SourceAdmin, Created: t0, Updated: t0})
	if err != nil {
		b.Fatal(err)
	}
	var batch []app.Report
	for c := range 1000 {
		for i := range 60 {
			batch = append(batch, app.Report{AccountID: a.ID, Kind: app.KindBackup, JobID: int64(c*1000 + i), ConfigID: rcbu.ConfigurationID(c + 1),
				State: "Completed", Finished: t0.Add(time.Duration(i) * time.Hour), BytesBackedUp: 1000, Raw: []byte(`{}`), Fetched: t0})
		}
		if len(batch) >= 6000 {
			if _, err := s.InsertReports(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	for b.Loop() {
		runs, err := s.AlertRuns(ctx, a.ID, 31)
		if err != nil || len(runs) != 31000 {
			b.Fatalf("%d runs, %v", len(runs), err)
		}
	}
}

// A digest's figures over a day of runs: counts by state, bytes against
// the day before, the failures newest first, and the configurations that
// grew, most first (one that shrank is not growth).
func TestDigestStats(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, acct, _ := alertStore(t)
		from, to := t0, t0.Add(24*time.Hour)
		run := func(job int64, cfg int, state string, at time.Time, bytes int64) app.Report {
			return app.Report{AccountID: acct, Kind: app.KindBackup, JobID: job, ConfigID: rcbu.ConfigurationID(cfg),
				ConfigName: fmt.Sprintf("cfg-%d", cfg), AgentName: "web-01", State: state, Finished: at, BytesBackedUp: bytes,
				Raw: []byte(`{}`), Fetched: to}
		}
		if _, err := s.InsertReports(ctx, []app.Report{
			run(1, 1, "Completed", from.Add(-12*time.Hour), 100), // the day before
			run(2, 2, "Completed", from.Add(-12*time.Hour), 500),
			run(3, 3, "Completed", from.Add(-12*time.Hour), 100),
			run(4, 1, "Completed", from.Add(time.Hour), 400),
			run(5, 2, "Completed", from.Add(2*time.Hour), 200),
			run(6, 3, "Failed", from.Add(3*time.Hour), 0),
			run(7, 3, "CompletedWithErrors", from.Add(4*time.Hour), 150),
			run(8, 1, "Missed", from.Add(5*time.Hour), 0),
			run(9, 1, "Completed", to, 999), // the next day
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.DigestStats(ctx, acct, from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := app.DigestStats{Runs: 5, Completed: 2, WithErrors: 1, Failed: 1, Missed: 1, Bytes: 750, PrevBytes: 700,
			Failures: []app.DigestRun{
				{JobID: 8, Config: "cfg-1", Agent: "web-01", State: "Missed", Finished: from.Add(5 * time.Hour)},
				{JobID: 6, Config: "cfg-3", Agent: "web-01", State: "Failed", Finished: from.Add(3 * time.Hour)},
			},
			Growth: []app.ConfigGrowth{
				{ConfigID: 1, Config: "cfg-1", Agent: "web-01", Bytes: 400, PrevBytes: 100},
				{ConfigID: 3, Config: "cfg-3", Agent: "web-01", Bytes: 150, PrevBytes: 100},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("digest stats (-want +got):\n%s", diff)
		}
	})
}

// A claim hands each due delivery to one dispatcher: claimed, it is not due
// again until the claim runs out (or the attempt's outcome is saved); many
// dispatchers claiming at once each get different deliveries.
func TestClaimDueDeliveries(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _, c := alertStore(t)
		const n = 30
		for i := range n {
			if _, err := s.EnqueueDelivery(ctx, app.Delivery{ChannelID: c.ID, Event: app.EventTest, Title: fmt.Sprint("test ", i), Payload: []byte(`{}`),
				NextAttempt: t0, Created: t0}); err != nil {
				t.Fatal(err)
			}
		}
		until := t0.Add(2 * time.Minute)
		var mu sync.Mutex
		seen := map[app.DeliveryID]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				got, err := s.ClaimDueDeliveries(ctx, t0, until, 4)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(seen) != 24 {
			t.Errorf("6 claims of 4 got %d deliveries; want 24", len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("delivery %d claimed %d times", id, k)
			}
		}
		rest, err := s.ClaimDueDeliveries(ctx, t0, until, 100)
		if err != nil || len(rest) != n-24 {
			t.Fatalf("the rest: %d, %v; want %d", len(rest), err, n-24)
		}
		if again, _ := s.ClaimDueDeliveries(ctx, until.Add(-time.Second), until, 100); len(again) != 0 {
			t.Errorf("%d claimed deliveries were due again before the claim ran out", len(again))
		}
		if again, _ := s.ClaimDueDeliveries(ctx, until, until.Add(time.Minute), 100); len(again) != n {
			t.Errorf("after the claim ran out %d were due; want %d", len(again), n)
		}
	})
}

// Giving deliveries back makes them due again when they were, but only
// those still under the claim given: not one whose outcome was saved, nor
// one claimed again after the claim ran out.
func TestGiveBackDeliveries(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _, c := alertStore(t)
		var queued []app.Delivery
		for i := range 4 {
			d, err := s.EnqueueDelivery(ctx, app.Delivery{ChannelID: c.ID, Event: app.EventTest, Title: fmt.Sprint("test ", i), Payload: []byte(`{}`),
				NextAttempt: t0.Add(time.Duration(i) * time.Second), Created: t0})
			if err != nil {
				t.Fatal(err)
			}
			queued = append(queued, d)
		}
		now, until := t0.Add(time.Minute), t0.Add(3*time.Minute)
		claimed, err := s.ClaimDueDeliveries(ctx, now, until, 100)
		if err != nil || len(claimed) != 4 {
			t.Fatalf("claim: %d, %v; want 4", len(claimed), err)
		}
		sent := claimed[0]
		sent.Status, sent.Attempts, sent.Sent = app.DeliverySent, 1, now
		if err := s.SaveAttempt(ctx, sent); err != nil {
			t.Fatal(err)
		}
		n, err := s.GiveBackDeliveries(ctx, until, claimed)
		if err != nil || n != 3 {
			t.Fatalf("give back: %d, %v; want 3 (not the sent one)", n, err)
		}
		again, err := s.ClaimDueDeliveries(ctx, now, until.Add(time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, d := range again {
			got = append(got, fmt.Sprint(d.ID, " due ", d.NextAttempt.Unix()))
		}
		for _, d := range queued[1:] {
			want = append(want, fmt.Sprint(d.ID, " due ", d.NextAttempt.Unix()))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claimed again after the give-back (-want +got):\n%s", diff)
		}
		// The first claim is no longer theirs: giving it back changes nothing.
		if n, err := s.GiveBackDeliveries(ctx, until, again); err != nil || n != 0 {
			t.Errorf("give back under a claim that ran out: %d, %v; want 0", n, err)
		}
		if due, _ := s.ClaimDueDeliveries(ctx, now, until, 100); len(due) != 0 {
			t.Errorf("%d deliveries due again while claimed", len(due))
		}
	})
}
