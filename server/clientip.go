package server

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the address every throttle and log line counts: the direct peer, unless the peer is
// one of SHANYU_TRUSTED_PROXIES; then X-Forwarded-For is read from the right, skipping trusted
// proxies, and the first address that is not one is the client. Reading from the right matters: a
// proxy appends what it saw, so everything left of that is whatever the client chose to send. With
// no readable hop the peer (a trusted proxy) is the client.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, err := netip.ParseAddr(c.Context().RemoteIP().String())
	if err != nil {
		return c.IP()
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	// Every X-Forwarded-For line, in order: a proxy such as HAProxy (option forwardfor) adds a line
	// of its own rather than appending to the client's, and reading only the first line would
	// believe whatever the client sent.
	var hops []string
	for _, line := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(line), ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop we cannot read: stop at the last one we could
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
