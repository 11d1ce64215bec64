package rcbusim

import "slices"

// Op names one API operation of the simulator. Fault injection (FailNext,
// WithOpErrorRate) and logging refer to operations by Op. The comment on each
// constant gives its row in the contract's operation index (§13).
type Op string

// The operations, one per §13 row, plus identity.
const (
	OpAuth                    Op = "Auth"                    // I1 POST /v2.0/tokens
	OpGetAgent                Op = "GetAgent"                // A1 GET /agent/{id}
	OpEnableAgent             Op = "EnableAgent"             // A2 POST /agent/enable
	OpEncryptAgent            Op = "EncryptAgent"            // A3 POST /agent/encrypt
	OpChangeEncryption        Op = "ChangeEncryption"        // A4 POST /agent/changeencryption
	OpDeleteAgent             Op = "DeleteAgent"             // A5 POST /agent/delete
	OpMigrateVault            Op = "MigrateVault"            // A6 PUT /agent/migratevault
	OpUpdateAgentBehavior     Op = "UpdateAgentBehavior"     // A7 POST /agent/{id}
	OpGetAgentByHostServer    Op = "GetAgentByHostServer"    // A8 GET /agent/server/{uuid}
	OpSetLogLevel             Op = "SetLogLevel"             // A9 PUT /agent/logging
	OpListAgents              Op = "ListAgents"              // U1 GET /user/agents
	OpWakeAgents              Op = "WakeAgents"              // U2 POST /user/wakeupagents
	OpCreateConfiguration     Op = "CreateConfiguration"     // C1 POST /backup-configuration
	OpUpdateConfiguration     Op = "UpdateConfiguration"     // C2 PUT /backup-configuration/{id}
	OpGetConfiguration        Op = "GetConfiguration"        // C3 GET /backup-configuration/{id}
	OpListConfigurations      Op = "ListConfigurations"      // C4 GET /backup-configuration
	OpListAgentConfigurations Op = "ListAgentConfigurations" // C5 GET /backup-configuration/system/{id}
	OpEnableConfiguration     Op = "EnableConfiguration"     // C6 POST /backup-configuration/enable/{id}
	OpDeleteConfiguration     Op = "DeleteConfiguration"     // C7 DELETE /backup-configuration/{id}
	OpStartBackup             Op = "StartBackup"             // B1 POST /backup/action-requested, StartManual
	OpStopBackup              Op = "StopBackup"              // B1 POST /backup/action-requested, StopManual
	OpGetBackup               Op = "GetBackup"               // B2 GET /backup/{id}
	OpListCompletedBackups    Op = "ListCompletedBackups"    // B3 GET /backup/completed/{configId}
	OpGetBackupReport         Op = "GetBackupReport"         // B4 GET /backup/report/{id}
	OpCreateRestore           Op = "CreateRestore"           // R1 PUT /restore
	OpUpdateRestore           Op = "UpdateRestore"           // R2 POST /restore
	OpAddRestoreFile          Op = "AddRestoreFile"          // R3 PUT /restore/files
	OpListRestoreFiles        Op = "ListRestoreFiles"        // R4 GET /restore/files/{restoreId}
	OpDeleteRestoreFile       Op = "DeleteRestoreFile"       // R5 DELETE /restore/files/{id}
	OpListAvailableForRestore Op = "ListAvailableForRestore" // R6 GET /backup/availableforrestore
	OpStartRestore            Op = "StartRestore"            // R7 POST /restore/action-requested, StartManual
	OpStopRestore             Op = "StopRestore"             // R7 POST /restore/action-requested, StopManual
	OpGetRestore              Op = "GetRestore"              // R8 GET /restore/{id}
	OpGetRestoreReport        Op = "GetRestoreReport"        // R9 GET /restore/report/{id}
	OpListAgentActivity       Op = "ListAgentActivity"       // V1 GET /system/activity/{agentId}
	OpListActivity            Op = "ListActivity"            // V2 GET /activity
	OpGetLogLevel             Op = "GetLogLevel"             // X1 GET /agent/logging/{id}
	OpRequestLog              Op = "RequestLog"              // X2 POST /agent/requestlog/{id}
	OpListLogFiles            Op = "ListLogFiles"            // X3 GET /agent/logfiles/{id}
	OpListAgentEvents         Op = "ListAgentEvents"         // X4 GET /agent/events/{id}
	OpGetAgentConfiguration   Op = "GetAgentConfiguration"   // X5 GET /agent/configuration/{id}
	OpGetCleanupReport        Op = "GetCleanupReport"        // X6 GET /cleanup/report/{id}
	OpListVersions            Op = "ListVersions"            // GET / (API versions)
)

// role is an RBAC level; a higher level includes the lower ones (§1.5).
type role int

const (
	roleNone role = iota
	roleObserver
	roleCreator
	roleAdmin
)

// route is one entry of the routing table. pattern segments are literals,
// "#" (a decimal id) or "*" (any single segment).
type route struct {
	method  string
	pattern []string
	op      Op
	min     role
	handle  func(*Server, *call) reply
}

// routeTable lists literal patterns before id patterns (§13 routing
// hazard); matching is exact per segment so order only matters for
// readability.
type routeTable []route

func newRouteTable() routeTable {
	return routeTable{
		{"GET", []string{"agent", "server", "*"}, OpGetAgentByHostServer, roleObserver, (*Server).getAgentByHost},
		{"GET", []string{"agent", "logging", "#"}, OpGetLogLevel, roleObserver, (*Server).getLogLevel},
		{"GET", []string{"agent", "logfiles", "#"}, OpListLogFiles, roleObserver, (*Server).listLogFiles},
		{"GET", []string{"agent", "events", "#"}, OpListAgentEvents, roleObserver, (*Server).listAgentEvents},
		{"GET", []string{"agent", "configuration", "#"}, OpGetAgentConfiguration, roleObserver, (*Server).getAgentConfiguration},
		{"GET", []string{"agent", "#"}, OpGetAgent, roleObserver, (*Server).getAgent},
		{"POST", []string{"agent", "enable"}, OpEnableAgent, roleCreator, (*Server).enableAgent},
		{"POST", []string{"agent", "encrypt"}, OpEncryptAgent, roleCreator, (*Server).encryptAgent},
		{"POST", []string{"agent", "changeencryption"}, OpChangeEncryption, roleAdmin, (*Server).changeEncryption},
		{"POST", []string{"agent", "delete"}, OpDeleteAgent, roleAdmin, (*Server).deleteAgent},
		{"PUT", []string{"agent", "migratevault"}, OpMigrateVault, roleAdmin, (*Server).migrateVault},
		{"POST", []string{"agent", "migratevault"}, OpMigrateVault, roleAdmin, (*Server).migrateVault},
		{"PUT", []string{"agent", "logging"}, OpSetLogLevel, roleCreator, (*Server).setLogLevel},
		{"POST", []string{"agent", "requestlog", "#"}, OpRequestLog, roleCreator, (*Server).requestLog},
		{"POST", []string{"agent", "#"}, OpUpdateAgentBehavior, roleCreator, (*Server).updateAgentBehavior},
		{"GET", []string{"user", "agents"}, OpListAgents, roleObserver, (*Server).listAgents},
		{"POST", []string{"user", "wakeupagents"}, OpWakeAgents, roleCreator, (*Server).wakeAgents},
		{"GET", []string{"backup-configuration"}, OpListConfigurations, roleObserver, (*Server).listConfigurations},
		{"POST", []string{"backup-configuration"}, OpCreateConfiguration, roleCreator, (*Server).createConfiguration},
		{"GET", []string{"backup-configuration", "system", "#"}, OpListAgentConfigurations, roleObserver, (*Server).listAgentConfigurations},
		{"POST", []string{"backup-configuration", "enable", "#"}, OpEnableConfiguration, roleCreator, (*Server).enableConfiguration},
		{"GET", []string{"backup-configuration", "#"}, OpGetConfiguration, roleObserver, (*Server).getConfiguration},
		{"PUT", []string{"backup-configuration", "#"}, OpUpdateConfiguration, roleCreator, (*Server).updateConfiguration},
		{"DELETE", []string{"backup-configuration", "#"}, OpDeleteConfiguration, roleAdmin, (*Server).deleteConfiguration},
		{"POST", []string{"backup", "action-requested"}, OpStartBackup, roleCreator, (*Server).backupAction},
		{"GET", []string{"backup", "availableforrestore"}, OpListAvailableForRestore, roleObserver, (*Server).availableForRestore},
		{"GET", []string{"backup", "completed", "#"}, OpListCompletedBackups, roleObserver, (*Server).listCompleted},
		{"GET", []string{"backup", "report", "#"}, OpGetBackupReport, roleObserver, (*Server).getBackupReport},
		{"GET", []string{"backup", "#"}, OpGetBackup, roleObserver, (*Server).getBackup},
		{"PUT", []string{"restore"}, OpCreateRestore, roleCreator, (*Server).createRestore},
		{"POST", []string{"restore"}, OpUpdateRestore, roleCreator, (*Server).updateRestore},
		{"PUT", []string{"restore", "files"}, OpAddRestoreFile, roleCreator, (*Server).addRestoreFile},
		{"GET", []string{"restore", "files", "#"}, OpListRestoreFiles, roleObserver, (*Server).listRestoreFiles},
		{"DELETE", []string{"restore", "files", "#"}, OpDeleteRestoreFile, roleCreator, (*Server).deleteRestoreFile},
		{"POST", []string{"restore", "action-requested"}, OpStartRestore, roleCreator, (*Server).restoreAction},
		{"GET", []string{"restore", "report", "#"}, OpGetRestoreReport, roleObserver, (*Server).getRestoreReport},
		{"GET", []string{"restore", "#"}, OpGetRestore, roleObserver, (*Server).getRestore},
		{"GET", []string{"system", "activity", "#"}, OpListAgentActivity, roleObserver, (*Server).listAgentActivity},
		{"GET", []string{"activity"}, OpListActivity, roleObserver, (*Server).listActivity},
		{"GET", []string{"cleanup", "report", "#"}, OpGetCleanupReport, roleObserver, (*Server).getCleanupReport},
	}
}

// matchRoute finds the route for method and segs. When the path exists but
// not for this method, allow lists the methods that do exist.
func (t routeTable) match(method string, segs []string) (rt *route, allow []string) {
	for i := range t {
		r := &t[i]
		if !matchSegs(r.pattern, segs) {
			continue
		}
		if r.method == method {
			return r, nil
		}
		if !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
		}
	}
	return nil, allow
}

func matchSegs(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		switch p {
		case "*":
		case "#":
			if !isDigits(segs[i]) || len(segs[i]) > 18 {
				return false
			}
		default:
			if p != segs[i] {
				return false
			}
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
