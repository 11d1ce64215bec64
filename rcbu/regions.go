package rcbu

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"
)

// kind names the object types whose owning region the client remembers.
type kind uint8

const (
	kindAgent kind = iota
	kindConfiguration
	kindBackup
	kindRestore
)

type routeKey struct {
	k  kind
	id int64
}

// Regions lists the regions of the endpoints in use, in catalog order
// ("" for an unnamed endpoint).
func (c *Client) Regions() []string {
	out := make([]string, len(c.endpoints))
	for i, e := range c.endpoints {
		out[i] = e.Region
	}
	return out
}

// Endpoints returns the Cloud Backup endpoints in use.
func (c *Client) Endpoints() []Endpoint {
	out := make([]Endpoint, len(c.endpoints))
	for i, e := range c.endpoints {
		u := *e.URL
		out[i] = Endpoint{Region: e.Region, URL: &u}
	}
	return out
}

func (c *Client) remember(k kind, id int64, ep int) {
	if len(c.endpoints) < 2 || id == 0 {
		return
	}
	c.routeMu.Lock()
	c.routes[routeKey{k, id}] = ep
	c.routeMu.Unlock()
}

func (c *Client) known(k kind, id int64) (int, bool) {
	if len(c.endpoints) == 1 {
		return 0, true
	}
	c.routeMu.Lock()
	defer c.routeMu.Unlock()
	ep, ok := c.routes[routeKey{k, id}]
	return ep, ok
}

// probePath is the GET that tells whether a region owns an object.
func probePath(k kind, id int64) string {
	switch k {
	case kindAgent:
		return fmt.Sprintf("agent/%d", id)
	case kindConfiguration:
		return fmt.Sprintf("backup-configuration/%d", id)
	case kindBackup:
		return fmt.Sprintf("backup/%d", id)
	default:
		return fmt.Sprintf("restore/%d", id)
	}
}

// getOne GETs path in the region owning (k, id) and decodes the body.
func getOne[T any](ctx context.Context, c *Client, op string, k kind, id int64, path string) (*T, int, error) {
	raw, ep, err := fetchOne(ctx, c, op, k, id, path)
	if err != nil {
		return nil, ep, err
	}
	return decode[T](op, raw, ep)
}

// getAny GETs path in every region and decodes the first success.
func getAny[T any](ctx context.Context, c *Client, op, path string, found func(ep int)) (*T, int, error) {
	raw, ep, err := fetchAny(ctx, c, op, path, found)
	if err != nil {
		return nil, ep, err
	}
	return decode[T](op, raw, ep)
}

func decode[T any](op string, raw []byte, ep int) (*T, int, error) {
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, ep, fmt.Errorf("rcbu: %s: decode response: %w", op, err)
	}
	return out, ep, nil
}

// fetchOne GETs path in the region owning (k, id) — the remembered one,
// else every region at once, keeping the answer that is not a 404 — and
// returns the non-empty body as received.
func fetchOne(ctx context.Context, c *Client, op string, k kind, id int64, path string) ([]byte, int, error) {
	if ep, ok := c.known(k, id); ok {
		raw, err := c.fetch(ctx, ep, op, path)
		if err == nil || len(c.endpoints) == 1 || !errors.Is(err, ErrNotFound) {
			if err == nil {
				c.remember(k, id, ep)
			}
			return raw, ep, err
		}
		// The object may have moved (vault migration): search all regions.
	}
	return fetchAny(ctx, c, op, path, func(ep int) { c.remember(k, id, ep) })
}

// fetch GETs path from endpoint ep; an empty body is an error.
func (c *Client) fetch(ctx context.Context, ep int, op, path string) ([]byte, error) {
	var raw []byte
	if err := c.do(ctx, c.endpoints[ep], request{op: op, method: "GET", path: path, raw: &raw}); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("rcbu: %s: %w: empty body", op, errScalar)
	}
	return raw, nil
}

// fetchAny GETs path in every region concurrently and returns the first
// success; when none succeeds, a non-404 error wins over a 404.
func fetchAny(ctx context.Context, c *Client, op, path string, found func(ep int)) ([]byte, int, error) {
	if len(c.endpoints) == 1 {
		raw, err := c.fetch(ctx, 0, op, path)
		if err == nil {
			found(0)
		}
		return raw, 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		raw []byte
		ep  int
		err error
	}
	ch := make(chan result, len(c.endpoints))
	for i := range c.endpoints {
		go func() {
			raw, err := c.fetch(ctx, i, op, path)
			ch <- result{raw, i, err}
		}()
	}
	var notFound, other error
	for range c.endpoints {
		r := <-ch
		switch {
		case r.err == nil:
			found(r.ep)
			return r.raw, r.ep, nil
		case errors.Is(r.err, ErrNotFound):
			if notFound == nil {
				notFound = r.err
			}
		case other == nil && ctx.Err() == nil:
			other = r.err
		}
	}
	if other != nil {
		return nil, -1, other
	}
	return nil, -1, notFound
}

// locate returns the endpoint owning (k, id), probing when unknown.
func (c *Client) locate(ctx context.Context, op string, k kind, id int64) (Endpoint, error) {
	if ep, ok := c.known(k, id); ok {
		return c.endpoints[ep], nil
	}
	_, ep, err := fetchOne(ctx, c, op, k, id, probePath(k, id))
	if err != nil {
		return Endpoint{}, err
	}
	return c.endpoints[ep], nil
}

// doOn sends r to the endpoint of the region owning (k, id).
func (c *Client) doOn(ctx context.Context, k kind, id int64, r request) error {
	ep, err := c.locate(ctx, r.op, k, id)
	if err != nil {
		return err
	}
	return c.do(ctx, ep, r)
}

// listAll GETs path in every region (bounded by WithConcurrency), calls
// post on each item with its endpoint index, and merges the lists sorted
// by key.
func listAll[T any](ctx context.Context, c *Client, op, path string, key func(*T) int64, post func(*T, int)) ([]T, error) {
	out, err := fetchAll(ctx, c, op, path, post)
	if err != nil {
		return nil, err
	}
	sortStableByKey(out, key, cmp.Compare[int64])
	return out, nil
}

// fetchAll is listAll without the sort: the regions' lists concatenated in
// endpoint order (never nil).
func fetchAll[T any](ctx context.Context, c *Client, op, path string, post func(*T, int)) ([]T, error) {
	parts := make([][]T, len(c.endpoints))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.concurrency)
	for i := range c.endpoints {
		g.Go(func() error {
			var list []T
			if err := c.do(gctx, c.endpoints[i], request{op: op, method: "GET", path: path, out: &list}); err != nil {
				return err
			}
			for j := range list {
				post(&list[j], i)
			}
			parts[i] = list
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := parts[0]
	if len(parts) > 1 {
		out = slices.Concat(parts...)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// doAll sends the same request to every region (bounded); used for
// account-wide actions such as waking all agents.
func (c *Client) doAll(ctx context.Context, r request) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.concurrency)
	for i := range c.endpoints {
		g.Go(func() error { return c.do(gctx, c.endpoints[i], r) })
	}
	return g.Wait()
}
