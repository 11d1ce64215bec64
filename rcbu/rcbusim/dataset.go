package rcbusim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// seedFile is the JSON seed format documented in the package doc.
type seedFile struct {
	HistoryDays int `json:"historyDays"`
	Agents      []struct {
		AgentSeed
		Tenant         string              `json:"tenant"`
		Configurations []ConfigurationSeed `json:"configurations"`
	} `json:"agents"`
}

// loadData builds the initial state: the dataset, then the seed file, then
// the scale knobs, then history.
func (s *Server) loadData() error {
	now := s.clock.Now()
	var errs []error
	days := 0
	var live *configuration // a demo configuration to show running
	switch strings.ToLower(s.cfg.dataset) {
	case "", "empty":
		s.otherTenantSeed(now)
	case "demo":
		live = s.demoSeed(now)
		days = 60
	default:
		errs = append(errs, fmt.Errorf("rcbusim: unknown dataset %q (want demo or empty)", s.cfg.dataset))
		s.otherTenantSeed(now)
	}
	data := s.cfg.seedJSON
	if s.cfg.seedPath != "" {
		b, err := os.ReadFile(s.cfg.seedPath)
		if err != nil {
			errs = append(errs, fmt.Errorf("rcbusim: seed file: %w", err))
		}
		data = b
	}
	if len(data) > 0 {
		d, err := s.loadSeed(data, now)
		if err != nil {
			errs = append(errs, err)
		}
		days = max(days, d)
	}
	s.scale(now)
	if s.cfg.scaleDays > 0 {
		days = s.cfg.scaleDays
	}
	if days > 0 {
		s.generateHistory(now, days)
	}
	if live != nil && live.agent.online && live.running == nil {
		// Something to watch: a manual backup that started a few seconds ago.
		s.startBackup(live, now.Add(-3*time.Second), bsStartRequested)
		s.advanceLocked(now)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// loadSeed adds the agents and configurations of a seed file.
func (s *Server) loadSeed(data []byte, now time.Time) (int, error) {
	var sf seedFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return 0, fmt.Errorf("rcbusim: seed file: %w", err)
	}
	for i, sa := range sf.Agents {
		ten := cmp.Or(sa.Tenant, DemoTenant)
		if !isDigits(ten) {
			return 0, fmt.Errorf("rcbusim: seed file: agents[%d]: tenant %q is not numeric", i, ten)
		}
		a := s.addAgent(ten, sa.AgentSeed)
		for j, c := range sa.Configurations {
			if _, err := s.addConfiguration(a, c, now); err != nil {
				return 0, fmt.Errorf("rcbusim: seed file: agents[%d].configurations[%d]: %w", i, j, err)
			}
		}
	}
	return max(sf.HistoryDays, 0), nil
}

// otherTenantSeed gives user "other" an agent and a configuration so that
// tenant isolation is testable with every dataset.
func (s *Server) otherTenantSeed(now time.Time) {
	a := s.addAgent(OtherTenant, AgentSeed{Name: "other-web-01", Datacenter: "DFW", OS: "Ubuntu", OSVersion: "22.04", Online: true})
	s.mustConfig(a, ConfigurationSeed{Name: "other-nightly", Frequency: "Daily", Hour: 1, Minute: 30, AmPm: "AM", TimeZone: "Central Standard Time", Inclusions: []string{"/var/www"}, VersionRetention: 30}, now)
}

func (s *Server) mustConfig(a *agent, c ConfigurationSeed, now time.Time) *configuration {
	cfg, err := s.addConfiguration(a, c, now)
	if err != nil {
		// Built-in seeds are constants; a failure here is a programming error.
		panic(err)
	}
	return cfg
}

type demoAgent struct {
	seed    AgentSeed
	configs []ConfigurationSeed
}

// demoSeed builds tenant 123456's demo estate and a second agent for
// "other". It returns the configuration to show running at start.
func (s *Server) demoSeed(now time.Time) *configuration {
	lin := func(name, dc, os, ver string) AgentSeed {
		return AgentSeed{Name: name, Datacenter: dc, OS: os, OSVersion: ver, Online: true, UseServiceNet: true}
	}
	win := func(name, dc, ver string) AgentSeed {
		return AgentSeed{Name: name, Datacenter: dc, OS: "Windows Server " + ver, OSVersion: "", Online: true}
	}
	daily := func(name, tz string, h, m int, ampm string, inc ...string) ConfigurationSeed {
		return ConfigurationSeed{Name: name, Frequency: "Daily", Hour: h, Minute: m, AmPm: ampm, TimeZone: tz, Inclusions: inc, VersionRetention: 30, NotifyRecipients: "ops@example.com", NotifyFailure: true}
	}
	weekly := func(name, tz string, dow, h, m int, ampm string, inc ...string) ConfigurationSeed {
		return ConfigurationSeed{Name: name, Frequency: "Weekly", DayOfWeek: dow, Hour: h, Minute: m, AmPm: ampm, TimeZone: tz, Inclusions: inc, VersionRetention: 60, NotifyRecipients: "ops@example.com", NotifyFailure: true, NotifySuccess: true}
	}
	hourly := func(name string, iv int, inc ...string) ConfigurationSeed {
		return ConfigurationSeed{Name: name, Frequency: "Hourly", HourInterval: iv, TimeZone: "UTC", Inclusions: inc, VersionRetention: 30, NotifyRecipients: "dba@example.com", NotifyFailure: true}
	}
	manual := func(name, tz string, inc ...string) ConfigurationSeed {
		return ConfigurationSeed{Name: name, Frequency: "Manually", TimeZone: tz, Inclusions: inc, VersionRetention: 0}
	}
	const cst, est, gmt = "Central Standard Time", "Eastern Standard Time", "GMT Standard Time"
	offline := lin("build-iad-01", "IAD", "Ubuntu", "24.04")
	offline.Online = false
	disabled := win("erp-lon-01", "LON", "2012 R2")
	disabled.Disabled = true
	encrypted := win("sql-ord-01", "ORD", "2016")
	encrypted.Encrypted = true
	agents := []demoAgent{
		{lin("web-dfw-01", "DFW", "Ubuntu", "22.04"), []ConfigurationSeed{
			daily("www nightly", cst, 2, 15, "AM", "/var/www", "/etc/nginx"),
			manual("www before-deploy", cst, "/var/www"),
		}},
		{lin("web-dfw-02", "DFW", "Ubuntu", "22.04"), []ConfigurationSeed{
			daily("www nightly", cst, 2, 45, "AM", "/var/www", "/etc/nginx"),
			weekly("home weekly", cst, 0, 4, 0, "AM", "/home"),
		}},
		{lin("db-dfw-01", "DFW", "Red Hat Enterprise Linux", "8.9"), []ConfigurationSeed{
			hourly("mysql dumps", 6, "/var/backups/mysql"),
			daily("db etc", cst, 11, 30, "PM", "/etc"),
			weekly("db full", cst, 6, 1, 0, "AM", "/var/lib/mysql"),
		}},
		{lin("app-ord-01", "ORD", "Debian", "12"), []ConfigurationSeed{
			daily("app data", cst, 3, 0, "AM", "/srv/app", "/etc"),
			manual("app adhoc", "UTC", "/srv/app/uploads"),
		}},
		{win("files-ord-01", "ORD", "2019"), []ConfigurationSeed{
			daily("shares nightly", cst, 10, 0, "PM", `D:\Shares`),
			weekly("users weekly", cst, 5, 9, 30, "PM", `C:\Users`),
		}},
		{encrypted, []ConfigurationSeed{
			daily("sql backups", cst, 1, 0, "AM", `E:\SQLBackups`),
			hourly("sql logs", 4, `E:\SQLLogs`),
		}},
		{lin("mail-iad-01", "IAD", "Ubuntu", "20.04"), []ConfigurationSeed{
			daily("mail spool", est, 12, 30, "AM", "/var/mail", "/etc/postfix"),
			weekly("mail archive", est, 3, 5, 0, "AM", "/srv/archive"),
		}},
		{offline, []ConfigurationSeed{
			daily("build artifacts", est, 4, 0, "AM", "/srv/artifacts"),
			manual("build cache", est, "/var/cache/build"),
		}},
		{win("ad-iad-01", "IAD", "2022"), []ConfigurationSeed{
			daily("system state", est, 7, 0, "PM", `C:\Windows\NTDS`, `C:\Windows\SYSVOL`),
			weekly("profiles", est, 2, 11, 0, "PM", `C:\Users`),
		}},
		{lin("web-lon-01", "LON", "Debian", "11"), []ConfigurationSeed{
			daily("www nightly", gmt, 1, 0, "AM", "/var/www"),
			hourly("uploads", 2, "/var/www/uploads"),
		}},
		{disabled, []ConfigurationSeed{
			daily("erp nightly", gmt, 2, 0, "AM", `D:\ERP`),
		}},
		{lin("legacy-lon-01", "LON", "CentOS", "7.9"), []ConfigurationSeed{
			weekly("legacy full", gmt, 1, 3, 30, "AM", "/opt/legacy", "/etc"),
			manual("legacy adhoc", gmt, "/opt/legacy/data"),
		}},
	}
	var live *configuration
	for i, da := range agents {
		a := s.addAgent(DemoTenant, da.seed)
		for j, c := range da.configs {
			if strings.HasPrefix(c.Inclusions[0], "/var/www") {
				c.Exclusions = []string{c.Inclusions[0] + "/cache"}
			}
			cfg := s.mustConfig(a, c, now)
			if i == 0 && j == 0 {
				live = cfg
			}
		}
	}
	s.otherTenantSeed(now)
	b := s.addAgent(OtherTenant, AgentSeed{Name: "other-db-01", Datacenter: "ORD", OS: "Debian", OSVersion: "12", Online: true})
	s.mustConfig(b, ConfigurationSeed{Name: "other-db", Frequency: "Hourly", HourInterval: 12, Inclusions: []string{"/var/backups/postgres"}, VersionRetention: 30}, now)
	s.mustConfig(b, manual("other-adhoc", "UTC", "/srv"), now)
	return live
}

// scale adds the WithScale agents and configurations to the demo tenant.
func (s *Server) scale(now time.Time) {
	regions := []string{"DFW", "ORD", "IAD", "LON"}
	for i := range s.cfg.scaleAgents {
		seed := AgentSeed{Name: fmt.Sprintf("scale-%04d", i+1), Datacenter: regions[i%len(regions)], Online: true}
		if i%5 == 4 {
			seed.OS, seed.OSVersion = "Windows Server 2019", ""
		}
		a := s.addAgent(DemoTenant, seed)
		for j := range s.cfg.scaleCPA {
			c := ConfigurationSeed{
				Name: fmt.Sprintf("scale-%04d-%d", i+1, j+1), Frequency: "Daily",
				Hour: 1 + s.rng.IntN(12), Minute: s.rng.IntN(60), AmPm: []string{"AM", "PM"}[s.rng.IntN(2)],
				TimeZone: "UTC", Inclusions: []string{fmt.Sprintf("/srv/data%d", j+1)}, VersionRetention: 30,
			}
			if j%4 == 3 {
				c.Frequency, c.DayOfWeek = "Weekly", s.rng.IntN(7)
			}
			s.mustConfig(a, c, now)
		}
	}
}

type histRun struct {
	cfg   *configuration
	at    time.Time
	state backupState
}

// generateHistory fills days of finished backups before now, for every
// configuration, in one pass: runs are collected per schedule, sorted by
// time so ids grow with time, and finished with seeded outcomes. Offline
// agents missed their last 5 days; disabled agents stopped 10 days ago.
func (s *Server) generateHistory(now time.Time, days int) {
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	var runs []histRun
	for _, id := range s.sortedTenants() {
		t := s.tenants[id]
		for _, cfg := range t.configs {
			if cfg.deleted || cfg.agent.deleted {
				continue
			}
			a := cfg.agent
			end := now
			if a.disabled {
				end = now.Add(-10 * 24 * time.Hour)
			}
			if cfg.frequency == "Hourly" {
				cfg.anchor = from.Truncate(time.Hour)
			}
			if cfg.frequency == "Manually" {
				for at := from.Add(time.Duration(s.rng.Int64N(int64(7 * 24 * time.Hour)))); at.Before(end); at = at.Add(time.Duration(3+s.rng.IntN(8)) * 24 * time.Hour) {
					runs = append(runs, histRun{cfg, at, bsStartRequested})
				}
				continue
			}
			for at := cfg.nextAfter(from); !at.IsZero() && at.Before(end); at = cfg.nextAfter(at) {
				st := bsStartScheduled
				switch {
				case !a.online && now.Sub(at) < 5*24*time.Hour:
					st = bsMissed
				case s.rng.IntN(100) == 0:
					st = bsSkipped
				case s.rng.IntN(120) == 0:
					st = bsMissed
				}
				runs = append(runs, histRun{cfg, at, st})
			}
			s.rearm(cfg, now)
		}
	}
	slices.SortStableFunc(runs, func(x, y histRun) int { return x.at.Compare(y.at) })
	for _, r := range runs {
		cfg := r.cfg
		b := s.newBackup(cfg, r.at, r.state)
		st := r.state
		end := r.at
		if st == bsStartScheduled || st == bsStartRequested {
			st = s.outcome(cfg)
			if s.rng.IntN(200) == 0 {
				st = bsStopped
			}
			d := s.startDelay() + queuedDelay + prepareDelay + s.runDuration(cfg.dataBytes)
			end = r.at.Add(d)
			if end.After(now) {
				end = now
			}
		}
		s.finalize(b, st, end)
	}
	s.historyExtras(now, from)
}

// historyExtras adds a few finished restores and weekly vault cleanups.
func (s *Server) historyExtras(now, from time.Time) {
	for _, id := range s.sortedTenants() {
		t := s.tenants[id]
		made := 0
		for _, cfg := range t.configs {
			if made >= 4 || len(cfg.backups) < 5 || s.rng.IntN(3) != 0 {
				continue
			}
			var src *backup
			for _, b := range cfg.backups[len(cfg.backups)/2:] {
				if b.state.canRestore() {
					src = b
					break
				}
			}
			if src == nil || !cfg.agent.online {
				continue
			}
			s.nextID.restore++
			start := src.end.Add(time.Duration(1+s.rng.IntN(48)) * time.Hour)
			if start.After(now) {
				continue
			}
			r := &restore{
				id: s.nextID.restore, tenant: t, backup: src, dest: cfg.agent,
				destPath: "/tmp/restore-" + start.Format("2006-01-02"), backupDC: cfg.agent.datacenter,
				start: start, errSeed: s.rng.Uint64(),
			}
			if strings.HasPrefix(cfg.agent.os, "Windows") {
				r.destPath = `C:\Restore\` + start.Format("2006-01-02")
			}
			end := start.Add(s.startDelay() + queuedDelay + prepareDelay + s.runDuration(src.bytesSearch))
			st := restoreCompleted
			if made == 2 {
				st = restoreCompletedWithErrors
			}
			s.finishRestore(r, st, end)
			s.restores[r.id] = r
			t.restores = append(t.restores, r)
			made++
		}
		for _, a := range t.agents {
			for at := from.Add(time.Duration(s.rng.Int64N(int64(7 * 24 * time.Hour)))); at.Before(now.Add(-time.Hour)); at = at.Add(7 * 24 * time.Hour) {
				s.nextID.cleanup++
				cl := &cleanup{id: s.nextID.cleanup, agent: a, state: "Completed", start: at,
					end: at.Add(time.Duration(30+s.rng.IntN(600)) * time.Second), deleted: s.rng.Int64N(5000), freed: s.rng.Int64N(2 << 30)}
				if s.rng.IntN(25) == 0 {
					cl.state = "Failed"
				}
				s.cleanups[cl.id] = cl
				t.cleanups = append(t.cleanups, cl)
			}
		}
	}
}

func (s *Server) sortedTenants() []string {
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, cmp.Compare)
	return ids
}
