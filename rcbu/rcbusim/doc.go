// Package rcbusim is an in-memory simulator of Rackspace Cloud Backup
// (RCBU) API v1.0 and of the Identity v2.0 token call in front of it,
// written against the API contract in docs/rcbu-api.md (cited
// below by section, "§"). It is the demo backend of the console, the server
// every client and web test talks to over real HTTP, and (as cmd/rcbusim) a
// standalone server any RCBU client can use by changing its identity URL.
//
// # Use
//
//	srv := rcbusim.New(rcbusim.WithDataset("demo"))     // an http.Handler
//	ts := rcbusimtest.NewTestServer(t)                  // (package rcbusimtest) httptest + FakeClock, closed by t.Cleanup
//	ts.Advance(30 * time.Second)                        // move simulated time, run due events
//
// Authenticate with POST {URL}/v2.0/tokens; the service catalog's
// cloudBackup (type rax:backup) entry lists one endpoint per region,
// {URL}/{region}/v1.0/{tenant}, plus the region-less {URL}/v1.0/{tenant},
// all built from the request's Host header. A regional endpoint serves the
// agents whose Datacenter is that region and their configurations, backups,
// restores and activity; the region-less one serves all of them.
//
// With WithRegionListeners (cmd/rcbusim -region-ports) each region is also
// served on its own listener and listed as http://HOST:PORT/v1.0/{tenant},
// the path shape of the real service, whose regions are separate hosts
// (https://dfw.backup.api.rackspacecloud.com/v1.0/{tenant}); a client that
// parses the endpoint as scheme://host/v1.0/{tenant} can then be scoped to
// one region. ListenRegions opens the listeners; Close stops them.
//
// Fixed users (constants DemoUser etc.): demo / demo-api-key /
// demo-password (tenant 123456, admin), observer (observer-api-key,
// cloudbackup:observer), creator (creator-api-key, cloudbackup:creator) and
// other (other-api-key, tenant 654321, admin; it always owns at least one
// agent and configuration so isolation can be tested).
//
// # Time and determinism
//
// All state is behind one mutex and moves lazily: at the top of every
// request (and in the inspect helpers) the events due by Clock.Now() —
// job transitions, schedule firings, agent wake-ups — run in time order from
// a min-heap. No background goroutine changes state (those of
// WithRegionListeners only serve requests). Random choices (ids' gaps, data
// sizes, outcomes, error lists) come from one math/rand/v2 PCG seeded by
// WithRandSeed, so equal seeds and equal request sequences give equal
// results. Fault injection uses a separate source.
//
// Job timing on the simulated clock: StartRequested (or StartScheduled)
// → 2–5 s → Queued → 3 s → Preparing → 5 s → InProgress → 8 s + 1 s per
// 300 MiB of the configuration's data (capped at 72 s) → final, so a demo
// backup takes 20–90 s at speed 1. Final states: mostly Completed, about
// 11% CompletedWithErrors (1–5 ErrorList entries: permission denied, file
// locked, path too long, under the configuration's inclusions), about 4%
// Failed; SetNextOutcome forces one. StopManual: StopRequested → 2 s →
// Stopped. Restores follow §11.2 the same way: 6 → 1 → 9 → 2 → 3|8|5, and
// 7 → 4 on stop.
//
// # Choices for points the contract marks [inferred]
//
// Routing and encoding
//   - Paths are matched case-insensitively, with or without the tenant
//     segment, with a trailing slash and with a ".json" suffix (§1.1).
//     Literal segments win over ids (§13 routing hazard).
//   - A tenant segment that differs from the token's tenant answers 403
//     (§15.3).
//   - Errors are {"Message": "..."} with Content-Type application/json
//     (§1.4). Unknown paths are 404, a known path with the wrong method is
//     405 with an Allow header, bodies over 1 MiB are 413.
//   - Content-Type is not checked: bodies are parsed as JSON (A9 also as a
//     form), so clients that omit the header work.
//   - Booleans are accepted as true/"true", integers as numbers or digit
//     strings; keys are matched case-insensitively (ASP.NET binding), so
//     BackupDataCenter and BackupDatacenter are the same key, and
//     LoggingLevelid works (§1.3, §3.7, §3.9). Unknown keys are ignored
//     (§5.6).
//   - ExponentHex and PublicKeyHex are emitted as the number 10001 (§1.3).
//   - Agent records spell BackupDatacenter (§3); backup details and reports
//     also carry Datacenter and BackupDatacenter (§6.2, §6.4).
//   - NextScheduledRunTime of a Manually configuration is null, never the
//     .NET MinValue date (§1.3, §5.1).
//   - Time-of-day fields of a schedule without a time of day (Manually,
//     Hourly): StartTimeAmPm is "" in every response, the only spelling the
//     contract's evidence shows (§5.1: "" for Manually in list responses
//     [docs]; §5.2 table: "" in responses, Hourly [inferred]).
//     StartTimeHour and StartTimeMinute stay null (§5.1 and §5.2 type them
//     int | null and no example shows ""), and so does the agent document's
//     Schedules[].TimeOfDay (§3.13 has no example). Requests may send null
//     or "" for any of them (§5.2: "send them, with null where not
//     applicable").
//   - GET / (and /{region}/, /v1.0/) lists one version, v1.0 CURRENT
//     (§1.1; the body is undocumented).
//   - Region listeners (WithRegionListeners): a request on a region's
//     listener is in that region, with the same answers as its path prefix
//     on the main listener, so another region's id is 404 there as well
//     (§15.5). A region's listener takes no prefix (/dfw/… is 404) and does
//     not serve Identity (404), because the real regional hosts are Cloud
//     Backup only and Identity has a host of its own (§1.1, §2.1); GET /
//     there lists the version at http://HOST:PORT/v1.0/. Evidence for the
//     mode: §1.1 (the region is in the host) and §15.1 (a real client
//     parses publicURL as scheme://host/v1.0/{tenant}).
//
// Identity
//   - Error bodies are {"badRequest"|"unauthorized": {"code", "message"}}
//     (§2.4). Malformed or credential-less bodies and tenantId together with
//     tenantName are 400; wrong credentials, a foreign tenantId or an
//     unknown/expired token in the re-scope form are 401.
//   - Every tenant's catalog lists all regions (DFW ORD IAD LON HKG SYD) plus
//     the region-less endpoint (§2.3), and a cloudFiles entry for realism.
//   - Token lifetime is WithTokenTTL (default 24h, §2.3); an expired token
//     is 401 on every Cloud Backup call; ExpireTokens expires all.
//
// RBAC and isolation
//   - Observer: 403 on every mutating call. Creator: 403 on A4, A5, A6 and
//     C7. A9 (log level) and X2 (request log) need creator (§1.5, §13).
//   - Another tenant's id anywhere (path or body) is 403; lists never show
//     another tenant's objects (§15.6). An unknown id in the path is 404; an
//     unknown id in the body is 400 for A2/A3/A4/A5/A6/A9 and 404 for B1,
//     R1, R2, R3 and R7 (§15.5).
//
// Agents
//   - The user-agents list reports Status "Unknown"; details report the live
//     Online/Offline (§4.1). BackupVaultSize is null until the first backup.
//   - Every agent has a vault with a stable GUID-like id: its BackupContainer
//     (§3) ends in z_DO_NOT_DELETE_CloudBackup_v2_0_{id}, and the agent
//     document's Volumes[].BackupVaultId is that id as a JSON string (§3.13:
//     "a string, GUID-like, as in the vault container's name"; [py-new]
//     joins it into a path as a string). Volumes[].Uri and the
//     configurations' VolumeUri are the container URL.
//   - Wake-up (U2) answers 200 at once and brings offline, enabled agents of
//     the endpoint's region Online after WithWakeDelay (default 15 s;
//     rcbusimtest.NewTestServer uses 0) (§15.8). Agents never fall asleep by themselves.
//   - Encrypt takes effect immediately; a second encrypt, or changeencryption
//     of an unencrypted vault, is 400; the answer is a quoted GUID (§3.3,
//     §15.10).
//   - Delete (A5) is 204 with no body; the agent and its vault disappear and
//     its configurations become deleted; running jobs finish (§3.5, §15.11).
//   - Migrate vault (A6, PUT or POST) requires two different unencrypted
//     agents of the tenant, a destination without configurations and no
//     running backup on the source, else 400; it moves the source's
//     configurations (with their history), vault size and vault (id and
//     container) to the destination, and the source starts a new, empty
//     vault with a new id; 200, empty (§3.6, §15.12; the vault ids are
//     [inferred]: the contract only says the vault moves).
//   - Update behavior (A7): UseServiceNet is required; BackupDataCenter must
//     be a datacenter where the tenant has an agent, else 400 (§3.7).
//   - Log level (A9): JSON or form body, level 1–7 or a name (Fatal … All)
//     per [py-new]; 204 (§3.9). X1 returns the name as a JSON string.
//   - X2 returns a GUID string; X3 lists three daily log files; X4 returns a
//     bare array with one Heartbeat (age < 20 s) while the agent is Online,
//     else []; X5 returns the agent configuration document of §3.13.
//
// Configurations
//   - The schedule matrix of §5.2 is enforced exactly: fields that do not
//     apply must be null (StartTimeAmPm "" counts as null), those that apply
//     are required and range-checked; Monthly is 400 (§5.2).
//   - VersionRetention (0|30|60), Frequency and TimeZoneId are required;
//     MissedBackupActionId defaults to 1, IsActive to true, notifications to
//     false/"" when absent. Unknown time zones are 400. A path both included
//     and excluded is 400; exclusions outside inclusions are accepted.
//   - The submitted StartTimeHour/StartTimeAmPm/TimeZoneId are echoed
//     unchanged (the real service converts hour and AM/PM to UTC, §5.2);
//     NextScheduledRunTime is the UTC instant of the next run in the
//     configuration's zone. Windows zone ids are mapped to IANA zones (IANA
//     names are accepted too). Zone data comes from the system or from a
//     main that imports time/tzdata (cmd/rcbusim and cmd/web do).
//   - A daily/weekly time that falls in a daylight-saving gap runs an hour
//     later (when the clock resumes). Hourly schedules run every
//     HourInterval hours from the top of the hour after the configuration
//     was saved.
//   - Duplicate name on one agent (case-insensitive, deleted ones excluded)
//     is 409, also on update (§5.6).
//   - Update (C2) is a full replacement, 200 with an empty body (§5.7);
//     BackupConfigurationScheduleId in the body is ignored.
//   - Delete (C7) is 200, empty; a deleted configuration stays readable by id
//     with IsDeleted true, is left out of lists, does not run, and cannot be
//     updated, enabled or started (404) (§5.8, §15.16).
//   - Enable (C6) needs Enable (bool or "true"); Enabled is not accepted
//     (400) (§5.9). An inactive configuration does not run on schedule
//     (NextScheduledRunTime null) but can be started manually (§15.19).
//   - BackupState (list tables only) is emitted everywhere: Queued while a
//     run is StartRequested/StartScheduled/Queued, InProgress while it
//     prepares or runs, Skipped when the last run was skipped, else
//     "Not Available" (§5.1).
//
// Backups
//   - StartManual answers 200 with the new id as a bare JSON number. An
//     offline agent is 403 "agent is offline; wake it up"; a disabled agent
//     is 403; a deleted configuration 404 (§15.18, §15.9).
//   - A second start of a configuration whose backup is still busy creates a
//     new backup that ends Skipped at once (§15.19). Different
//     configurations of one agent may run at the same time.
//   - StopManual of a finished backup is 400; of an unknown id 404 (§15.20).
//   - Reports exist only for finished backups (404 before, §6.4); Skipped
//     and Missed runs have reports too (CanRestore false, zero counters).
//     Reason/Diagnostics: Success/"No errors", Success/"Completed With
//     Errors", UnableToBackup, StoppedByUser, PreviousRunActive,
//     AgentOffline. SnapshotId is -1 unless restorable.
//   - On completion LastRunTime (the run's start), LastRunBackupReportId,
//     agent TimeOfLastSuccessfulBackup and BackupVaultSize (successful runs)
//     update (§15.21).
//   - Completed backups (B3) lists restorable runs (Completed,
//     CompletedWithErrors) newest first, within VersionRetention days (0 =
//     forever); the newest restorable run is always listed (§6.3).
//     Available-for-restore (R6) lists non-deleted configurations with at
//     least one restorable run (§7.6).
//   - A running job is not affected when its agent goes offline, is
//     disabled or deleted afterwards: it runs to its end.
//   - Scheduled runs start in StartScheduled; Missed when the agent is
//     offline; Skipped when a run of the same configuration is busy;
//     nothing when the agent is disabled (§15.22).
//
// Restores
//   - Create (PUT) validates the backup (restorable, owned by
//     BackupMachineId) and the destination agent, which must be served by
//     the endpoint; the backup may be in any region (cross-datacenter).
//     BackupDataCenter, when given, must be a known region; it defaults to
//     the source agent's datacenter (§7.1, §15.23).
//   - A restore belongs to its destination agent's region. Its object also
//     carries MachineAgentId (the destination) and Inclusions/Exclusions as
//     restore-file items (§7.0). PublicKey is the destination agent's key.
//   - Update (POST) needs RestoreId; other fields are optional and change
//     the restore; RestoreStateId and BackupConfigurationId are ignored;
//     only in state Creating, else 400 (§7.2, §15.24).
//   - Restore files (PUT /restore/files) accept ints, digit strings or names
//     for Filter (1 Include, 2 Exclude) and FileItemType (0 File, 1 Folder,
//     2 Database); the same FilePath replaces its entry; the answer is 200
//     with the updated list, items carrying FileId (§7.3, §7.4).
//   - DELETE /restore/files/{id} removes that file entry; if no entry has
//     that id but a restore in Creating does, its file list is cleared
//     (§7.5). 204.
//   - StartManual only from Creating (else 400); the destination agent must
//     be Online (403) and enabled (403); a restore from an encrypted vault
//     needs EncryptedPassword (400) (§7.7, §15.10). StopManual of a restore
//     that is not running is 400.
//   - The report (404 until done) has RestoreDestination = destination
//     machine name, BackupReportId = the backup id, NumFilesRestored and
//     NumErrors as digit strings, Reason Success/UnableToProcessSomeFiles/
//     UnableToRestore/StoppedByUser and an ErrorList like backup reports
//     (§7.9, §15.26). A restore that includes only files (no folder)
//     restores those files at most, each of the backup's average size;
//     with folders, a share of the backup.
//
// Activity and cleanups
//   - Activity lists hold every backup, restore (including Creating ones)
//     and cleanup of the agents served, newest first by TimeOfActivity (the
//     last state change). Backups have DestinationMachineAgentId 0 and "" for
//     the destination names; cleanups have ParentId 0, DisplayName "Cleanup"
//     and BackupId 0 (§9). An agent's activity (V1) includes restores from or
//     to it.
//   - Cleanups exist only in generated history (weekly per agent); there is
//     no public start operation (§10). The cleanup report (X6, shape
//     undocumented) is {CleanupId, MachineAgentId, MachineName, State,
//     StartTime, CompletedTime, Duration, NumFilesDeleted (digits),
//     BytesFreed (size), Reason, Diagnostics}.
//
// # Fault injection
//
// WithLatency (fixed + uniform jitter), WithErrorRate and WithOpErrorRate
// (500/503 by default), WithHangRate (no answer until the request context is
// done) and FailNext(op, status) act before authentication, per Op; start
// and stop of the action-requested endpoints are separate Ops.
//
// # Datasets
//
// "empty" (the default of New): only the other tenant's agent and
// configuration. "demo" (the default of cmd/rcbusim): tenant 123456 with 12
// agents across DFW, ORD, IAD and LON (Linux and Windows; build-iad-01 is
// offline, erp-lon-01 disabled, sql-ord-01 encrypted), 25 configurations
// with Manually, Hourly, Daily and Weekly schedules in several zones, and 60
// days of history (about 2,000 finished backups including
// CompletedWithErrors, Failed, Stopped, Skipped and Missed runs; the offline
// agent missed its last five days), a few restores and weekly cleanups, plus
// one backup running at start; tenant 654321 gets two agents and three
// configurations. Times are relative to the clock's now at construction.
//
// WithScale(agents, configsPerAgent, historyDays) adds generated agents
// (scale-0001 …, round robin over DFW/ORD/IAD/LON, every fifth Windows) with
// daily (every fourth weekly) configurations to tenant 123456, and when
// historyDays > 0 regenerates history of that length for every
// configuration: 1,000 agents × 2 configurations × 50 days is 100,000
// backups, built in about a second.
//
// # Seed file format
//
// WithSeedFile (cmd: -seed-file) adds agents and configurations on top of
// the dataset (cmd/rcbusim uses the empty dataset with -seed-file unless
// -seed is given). See testdata/seed-example.json:
//
//	{
//	  "historyDays": 7,                       // optional: generate history
//	  "agents": [{
//	    "tenant": "123456",                   // default 123456; digits only
//	    "name": "web-01", "os": "Ubuntu", "osVersion": "22.04",
//	    "architecture": "64-bit", "agentVersion": "1.36.004512",
//	    "datacenter": "DFW", "backupDatacenter": "DFW",
//	    "online": true, "disabled": false, "encrypted": false,
//	    "useServiceNet": true, "hostServerId": "<uuid>", "ip": "203.0.113.5",
//	    "vaultBytes": 0,
//	    "configurations": [{
//	      "name": "nightly",
//	      "frequency": "Daily",               // Manually (default) | Hourly | Daily | Weekly
//	      "hour": 2, "minute": 15, "amPm": "AM",  // Daily and Weekly
//	      "dayOfWeek": 0,                     // Weekly: 0 Sunday … 6 Saturday
//	      "hourInterval": 6,                  // Hourly: 1–23
//	      "timeZone": "Eastern Standard Time",// Windows id or IANA name; default UTC
//	      "inclusions": ["/var/www"], "exclusions": ["/var/www/cache"], // folders
//	      "versionRetention": 30,             // 0 | 30 | 60
//	      "inactive": false,
//	      "notifyRecipients": "ops@example.com", "notifySuccess": false, "notifyFailure": true,
//	      "dataBytes": 2147483648             // data size; drives durations
//	    }]
//	  }]
//	}
//
// Omitted agent fields get plausible generated values. Configurations are
// validated like create requests; an invalid seed makes Err report it.
//
// # Simplifications
//
// Agent registration, heartbeats, browsing (§8), the internal endpoints
// (§12), MFA and vault-encryption callbacks are not simulated. Data sizes
// and file counts are synthetic; a restore brings back a fraction of the
// backup when file entries were chosen, the whole backup otherwise.
package rcbusim
