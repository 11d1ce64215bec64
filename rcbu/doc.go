// Package rcbu is a Go binding for the Rackspace Cloud Backup (RCBU) API
// v1.0 and the Identity v2.0 token service, in go-github's shape.
//
// # Network calls are explicit
//
// Every method that talks to the network takes a context.Context and says
// so in its doc comment ("It makes a call"), next to the API route it uses.
// Everything else — Schedule arithmetic, Size and MSDate parsing, report
// accessors such as BackupReport.OK, ConfigurationRequest.Validate — is
// local and cheap.
//
// # Connecting
//
//	client, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: "alice", APIKey: key})
//
// authenticates with Identity (DefaultIdentityURL unless WithIdentityURL),
// and picks the rax:backup endpoint of WithRegion, of every region
// (WithAllRegions), or by default of the user's RAX-AUTH:defaultRegion. The
// token is refreshed five minutes before it expires and, once, after the
// service answers 401; a request is then replayed once (it never reached
// the service logic). NewClient takes a ready endpoint and token instead
// (WithBaseURL, WithToken). A Client is safe for concurrent use. Endpoints
// are used as the catalog lists them, whether the region is in the host
// (https://dfw.backup.api.rackspacecloud.com/v1.0/{tenant}, the real
// service) or in the path (http://127.0.0.1:8900/dfw/v1.0/{tenant}, the
// simulator's single-port mode).
//
// # Services
//
// Client.Agents, Client.Configurations, Client.Backups, Client.Restores and
// Client.Activity group the operations of §3–§10 of the contract; the
// Client itself offers the account-wide view (Tenant, Endpoint, Regions,
// ActiveBackups, ActiveRestores). Backups.Start and Restores.Start return
// handles (*Backup, *Restore) with Refresh, State, Running, Stop, Wait and
// Report — Report returns ErrNotDone until the job is done.
//
// With several regions, list calls fan out concurrently (WithConcurrency
// bounds them, default 64: DefaultConcurrency explains the choice) and merge sorted by id; a call on one object
// goes to the region that owns it, remembered from earlier answers or found
// by asking every region and keeping the one that does not answer 404.
//
// # Errors and retries
//
// A non-2xx answer is an *Error carrying the operation, method, path, status
// and the service's message; errors.Is matches ErrBadRequest,
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict and
// ErrUnavailable. Requests rejected locally (Validate) are a
// *ValidationError with a message per API field; it matches ErrBadRequest.
//
// GETs are retried on 429, 502, 503, 504 and connection errors, at most four
// tries with capped exponential backoff and full jitter (WithRetry),
// honouring Retry-After and the context. POST, PUT and DELETE are never
// retried, except that starting a backup or restore retries a 403 while an
// agent wakes up, within the WithStartRetry bound (default 20 tries, 1 s
// apart). Error bodies are read up to 1 MiB, others up to 64 MiB; rcbuhttp's
// default HTTP client times out after 30 s.
//
// # Wire tolerance
//
// Decoding accepts the variations the contract documents: ids and counters
// as numbers or digit strings, booleans as true or "true", ExponentHex as a
// number or a string, dates as "/Date(ms)/" (null, negative, with an
// offset), sizes as "35.3 MB" (binary multiples; Size keeps the raw string
// and the bytes), durations as "HH:MM:SS", vault ids (VaultID) as
// GUID-like strings or numbers, StartTimeAmPm as "" or null for schedules
// without a time of day, scalar bodies bare or quoted,
// and 200 or 204 wherever the sources disagree. Requests send every key the
// API lists as required, with null where it does not apply.
//
// The list call reports a placeholder agent Status (AgentStatusUnknown);
// Agent.Online is true only for a live "Online" from Get or GetMany.
package rcbu
