package rcbusim

import (
	"container/heap"
	"time"
)

// Backup states (§11.1).
const (
	StateStartRequested      = "StartRequested"
	StateStartScheduled      = "StartScheduled"
	StateQueued              = "Queued"
	StatePreparing           = "Preparing"
	StateInProgress          = "InProgress"
	StateStopRequested       = "StopRequested"
	StateCompleted           = "Completed"
	StateCompletedWithErrors = "CompletedWithErrors"
	StateFailed              = "Failed"
	StateStopped             = "Stopped"
	StateSkipped             = "Skipped"
	StateMissed              = "Missed"
)

// Restore state ids (§11.2).
const (
	restoreCreating            = 0
	restoreQueued              = 1
	restoreInProgress          = 2
	restoreCompleted           = 3
	restoreStopped             = 4
	restoreFailed              = 5
	restoreStartRequested      = 6
	restoreStopRequested       = 7
	restoreCompletedWithErrors = 8
	restorePreparing           = 9
)

// restoreStateNames are the names reports and activity items use, by
// RestoreStateId.
var restoreStateNames = [...]string{"Creating", "Queued", "InProgress", "Completed", "Stopped", "Failed",
	"StartRequested", "StopRequested", "CompletedWithErrors", "Preparing"}

// restoreStateName maps a RestoreStateId to its name ("Unknown" if none).
func restoreStateName(id int) string {
	if id >= 0 && id < len(restoreStateNames) {
		return restoreStateNames[id]
	}
	return "Unknown"
}

func restoreDone(id int) bool {
	return id == restoreCompleted || id == restoreStopped || id == restoreFailed || id == restoreCompletedWithErrors
}

// backupState is a compact backup state code; the names are the wire values.
type backupState uint8

const (
	bsStartRequested backupState = iota
	bsStartScheduled
	bsQueued
	bsPreparing
	bsInProgress
	bsStopRequested
	bsCompleted
	bsCompletedWithErrors
	bsFailed
	bsStopped
	bsSkipped
	bsMissed
)

// numBackupStates bounds the backupState codes.
const numBackupStates = bsMissed + 1

// backupStateNames are the wire names, by code.
var backupStateNames = [numBackupStates]string{
	bsStartRequested: StateStartRequested, bsStartScheduled: StateStartScheduled, bsQueued: StateQueued,
	bsPreparing: StatePreparing, bsInProgress: StateInProgress, bsStopRequested: StateStopRequested,
	bsCompleted: StateCompleted, bsCompletedWithErrors: StateCompletedWithErrors, bsFailed: StateFailed,
	bsStopped: StateStopped, bsSkipped: StateSkipped, bsMissed: StateMissed,
}

func (s backupState) String() string {
	if s < numBackupStates {
		return backupStateNames[s]
	}
	return "Unknown"
}

func (s backupState) busy() bool { return s <= bsStopRequested }

// canRestore reports whether a finished backup can be restored from.
func (s backupState) canRestore() bool { return s == bsCompleted || s == bsCompletedWithErrors }

func parseBackupState(name string) (backupState, bool) {
	for st := range numBackupStates {
		if st.String() == name {
			return st, true
		}
	}
	return 0, false
}

type tenant struct {
	id       string
	agents   []*agent         // by id, excluding deleted
	configs  []*configuration // by id, including soft-deleted
	restores []*restore
	cleanups []*cleanup
}

type agent struct {
	id           int64
	tenant       *tenant
	name         string
	os           string
	osVersion    string
	arch         string
	version      string
	datacenter   string
	backupDC     string
	ip           string
	hostServerID string
	container    string // the vault's Cloud Files container URL, ending in vaultID
	vaultID      string // the vault's GUID-like id (BackupVaultId, §3.13)
	modulus      string
	online       bool
	disabled     bool
	encrypted    bool
	serviceNet   bool
	failover     bool
	cleanup      bool
	deleted      bool
	logLevel     int
	vaultBytes   int64
	lastSuccess  time.Time
	wakePending  bool
	configs      []*configuration
}

type pathItem struct {
	id       int64
	path     string
	itemType string // File | Folder
}

// configSettings is the part of a configuration that create and update
// requests set (§5.6, §5.7).
type configSettings struct {
	name         string
	active       bool
	retention    int
	missedAction int
	frequency    string
	hour         *int // 1-12, with ampm
	minute       *int
	ampm         *string
	dayOfWeek    *int
	interval     *int
	tzName       string
	loc          *time.Location
	recipients   string
	notifyOK     bool
	notifyFail   bool
	inclusions   []pathItem
	exclusions   []pathItem
}

type configuration struct {
	id         int64
	scheduleID int64
	agent      *agent
	configSettings
	deleted      bool
	anchor       time.Time // hourly schedules count from here
	prescript    string
	postscript   string
	lastRun      time.Time
	lastBackupID int64
	lastState    backupState
	hasRun       bool
	hasSuccess   bool
	nextRun      time.Time
	schedGen     uint32
	dataBytes    int64
	dataFiles    int64
	forced       string
	backups      []*backup // by id
	running      *backup   // the busy backup, if any
}

// backup is kept compact because history can hold 100,000 of them: the
// ErrorList is regenerated on demand from errSeed.
type backup struct {
	id          int64
	config      *configuration
	state       backupState
	gen         uint32
	start       time.Time
	changed     time.Time
	end         time.Time
	filesSearch int64
	bytesSearch int64
	filesBacked int64
	bytesBacked int64
	numErrors   int32
	errSeed     uint64
}

type restoreFile struct {
	id       int64
	path     string
	filter   int // 1 include, 2 exclude
	itemType int // 0 file, 1 folder, 2 database
}

type restore struct {
	id        int64
	tenant    *tenant
	backup    *backup
	dest      *agent
	destPath  string
	overwrite bool
	backupDC  string
	state     int
	gen       uint32
	start     time.Time
	changed   time.Time
	end       time.Time
	files     []restoreFile
	numFiles  int64
	numBytes  int64
	numErrors int32
	errSeed   uint64
}

type cleanup struct {
	id      int64
	agent   *agent
	state   string
	start   time.Time
	end     time.Time
	deleted int64
	freed   int64
}

// eventKind says what a scheduled event does when it falls due.
type eventKind uint8

const (
	evBackupStep eventKind = iota
	evRestoreStep
	evScheduleFire
	evAgentWake
)

type event struct {
	at   time.Time
	seq  uint64
	kind eventKind
	id   int64
	gen  uint32
}

// eventHeap is a min-heap by (at, seq), so equal times run in insertion order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

var _ heap.Interface = (*eventHeap)(nil)
