// Package rcbu is a Go binding for the Rackspace Cloud Backup (RCBU) API
// v1.0 and the Identity v2.0 token service.
//
// Every method that talks to the network takes a context.Context and says
// so in its doc comment ("makes a call" / "makes calls"); everything else
// (schedules, sizes, dates, report accessors, validation) is local.
package rcbu
