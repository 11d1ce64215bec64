package app

import (
	"context"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// RestoreRequest is what a restore started through the console was asked to
// do. It is stored when the restore starts, so the restore's page and its
// report repeat the request, and the picker offers its paths again.
type RestoreRequest struct {
	AccountID   AccountID
	RestoreID   rcbu.RestoreID
	ConfigID    rcbu.ConfigurationID
	BackupID    rcbu.BackupID
	DestAgentID rcbu.AgentID
	DestName    string
	DestPath    string // the folder on the destination ("/" for the original location on Linux)
	Original    bool   // every file goes back to the path it was backed up from
	Overwrite   bool
	Include     []string // none: everything in the backup
	Exclude     []string
	Created     time.Time
}

// Plan returns the wizard plan that asks for the same restore again.
func (r RestoreRequest) Plan() RestorePlan {
	p := RestorePlan{ConfigurationID: r.ConfigID, BackupID: r.BackupID, DestinationID: r.DestAgentID, PathMode: PathOriginal,
		Overwrite: r.Overwrite, Include: r.Include, Exclude: r.Exclude}
	if !r.Original {
		p.PathMode, p.Path = PathOther, r.DestPath
	}
	return p
}

// RestoreRequestStore keeps restore requests and answers the picker's
// questions about earlier runs of a configuration.
type RestoreRequestStore interface {
	// SaveRestoreRequest stores a request (a second save of the same
	// restore replaces the first).
	SaveRestoreRequest(ctx context.Context, r RestoreRequest) error
	// RestoreRequest returns the request of one restore; a restore not
	// started through the console wraps ErrNotFound.
	RestoreRequest(ctx context.Context, account AccountID, id rcbu.RestoreID) (RestoreRequest, error)
	// RestoredPaths returns the distinct paths earlier restores of a
	// configuration asked for, most recent first, at most limit.
	RestoredPaths(ctx context.Context, account AccountID, config rcbu.ConfigurationID, limit int) ([]string, error)
	// ReportedPaths returns the distinct paths named in the stored reports
	// of a configuration's backups (their error lists), newest report
	// first, at most limit.
	ReportedPaths(ctx context.Context, account AccountID, config rcbu.ConfigurationID, limit int) ([]ReportedPath, error)
}

// ReportedPath is a path a backup report named, with the backup.
type ReportedPath struct {
	Path     string
	BackupID rcbu.BackupID
}

// Request returns what a restore started through the console was asked to
// do; ErrNotFound for one started elsewhere (the control panel, the API).
func (s *Restores) Request(ctx context.Context, account AccountID, id rcbu.RestoreID) (RestoreRequest, error) {
	r, err := s.requests.RestoreRequest(ctx, account, id)
	if err != nil {
		return RestoreRequest{}, fmt.Errorf("restore request: %w", err)
	}
	return r, nil
}
