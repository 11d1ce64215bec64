package app

import "strconv"

// UserID identifies a console user.
type UserID int64

// AccountID identifies a connected Rackspace account.
type AccountID int64

// AuditID identifies an audit log entry.
type AuditID int64

// String returns the id in decimal.
func (id UserID) String() string { return strconv.FormatInt(int64(id), 10) }

// String returns the id in decimal.
func (id AccountID) String() string { return strconv.FormatInt(int64(id), 10) }

// String returns the id in decimal.
func (id AuditID) String() string { return strconv.FormatInt(int64(id), 10) }
