package rcbu

import (
	"context"
	"strings"
)

// APIVersion is the Cloud Backup API version this package speaks.
const APIVersion = "v1.0"

// Tenant returns the account number (tenant id) the client works on.
func (c *Client) Tenant() string { return c.tenant }

// Endpoint returns the URL of the first endpoint in use, e.g.
// "https://dfw.backup.api.rackspacecloud.com/v1.0/123456".
func (c *Client) Endpoint() string { return c.endpoints[0].URL.String() }

// APIVersion returns the API version in the endpoint URL ("v1.0").
func (c *Client) APIVersion() string {
	for _, p := range strings.Split(c.endpoints[0].URL.Path, "/") {
		if strings.HasPrefix(strings.ToLower(p), "v") && strings.Contains(p, ".") {
			return p
		}
	}
	return APIVersion
}

// ActiveBackups returns the backups that are queued or running across the
// account, newest first. It makes one call per region.
//
// API: GET /v1.0/{tenant}/activity
func (c *Client) ActiveBackups(ctx context.Context) ([]Activity, error) {
	return c.activeOf(ctx, ActivityBackup)
}

// ActiveRestores returns the restores that are queued or running across
// the account, newest first. It makes one call per region.
//
// API: GET /v1.0/{tenant}/activity
func (c *Client) ActiveRestores(ctx context.Context) ([]Activity, error) {
	return c.activeOf(ctx, ActivityRestore)
}

func (c *Client) activeOf(ctx context.Context, t ActivityType) ([]Activity, error) {
	all, err := c.Activity.List(ctx)
	if err != nil {
		return nil, err
	}
	out := []Activity{}
	for _, a := range all {
		if a.Type == t && a.Busy() {
			out = append(out, a)
		}
	}
	return out, nil
}
