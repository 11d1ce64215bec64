// Package netguard decides which addresses the console may connect to on a
// user's behalf (alert webhooks, Slack, SMTP). Link-local and cloud metadata
// addresses are always refused; loopback and private ranges only when the
// policy allows them (demo mode, tests, an on-premises mail relay).
//
// The check runs in a net.Dialer's Control hook, after name resolution and
// right before connect(2), on the address actually dialled. A name that
// resolves to a public address when checked and to 169.254.169.254 when
// dialled (DNS rebinding) is therefore still refused, and so is every
// address a redirect leads to.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal.
var ErrRefused = errors.New("destination not allowed")

// Policy says which destinations are allowed.
type Policy struct {
	// AllowPrivate allows loopback, private (RFC 1918, RFC 4193) and
	// shared (RFC 6598) addresses. Link-local and metadata addresses stay
	// refused either way.
	AllowPrivate bool
}

// metadata are cloud instance-metadata endpoints outside the link-local
// ranges (which are refused whole): Alibaba's and AWS's IPv6 one.
var metadata = []netip.Addr{
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("fd00:ec2::254"),
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	shared      = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT
	broadcast   = netip.MustParseAddr("255.255.255.255")
)

// Check returns nil when the policy allows connecting to ip, else an error
// wrapping ErrRefused that says which kind of address it is.
func (p Policy) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	refuse := func(kind string) error { return fmt.Errorf("%s is a %s address: %w", ip, kind, ErrRefused) }
	switch {
	case !ip.IsValid():
		return fmt.Errorf("no address: %w", ErrRefused)
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return refuse("link-local")
	case containsAddr(metadata, ip):
		return refuse("cloud metadata")
	case ip.IsUnspecified() || thisNetwork.Contains(ip) || ip == broadcast:
		return refuse("unspecified")
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return refuse("multicast")
	case p.AllowPrivate:
		return nil
	case ip.IsLoopback():
		return refuse("loopback")
	case ip.IsPrivate() || shared.Contains(ip):
		return refuse("private")
	}
	return nil
}

func containsAddr(list []netip.Addr, ip netip.Addr) bool {
	for _, a := range list {
		if a == ip {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control func that applies the policy to the
// address about to be connected to.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s %s: %w", network, address, ErrRefused)
	}
	if err := p.Check(ap.Addr()); err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	return nil
}

// Dialer returns a dialer with the given timeout whose every connection
// passes the policy.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// DialContext is net.Dialer.DialContext through the policy.
func (p Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return p.Dialer(30*time.Second).DialContext(ctx, network, address)
}

// HTTPClient returns an HTTP client whose connections pass the policy. It
// uses no proxy from the environment (a proxy would make the dialled
// address the proxy's) and follows no redirects: a webhook answers, it
// does not send the console elsewhere.
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.Dialer(10 * time.Second).DialContext
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// IsRefused reports whether err is (or wraps) a refusal by a policy.
func IsRefused(err error) bool { return errors.Is(err, ErrRefused) }
