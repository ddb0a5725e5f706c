package server

import (
	"github.com/gofiber/fiber/v2"
)

// securityHeaders are set on every response, error pages included: no
// framing, no MIME sniffing, the Content-Security-Policy, a referrer
// policy, no camera, microphone or geolocation, and cross-origin
// isolation. They are the values helmet sent with this site's settings;
// tests/tools/loadbench checks the floor sends the same. No
// Strict-Transport-Security: TLS ends at the proxy, which sets it.
var securityHeaders = [...][2]string{
	{"X-Xss-Protection", "0"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Origin-Agent-Cluster", "?1"},
	{"Referrer-Policy", "strict-origin-when-cross-origin"},
	{"X-Dns-Prefetch-Control", "off"},
	{"X-Download-Options", "noopen"},
	{"X-Permitted-Cross-Domain-Policies", "none"},
	{fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), geolocation=()"},
}

// SecurityHeaders returns the security headers every response carries
// besides the Content-Security-Policy, as canonical name and value pairs
// (the benchmarks' floor sends the same).
func SecurityHeaders() [][2]string { return append([][2]string(nil), securityHeaders[:]...) }

// secureHeaders sets securityHeaders and the Content-Security-Policy
// csp on every response. The block is
// made once: its keys are already canonical, so normalising is switched
// off while it is appended (and back on after: the app normalises header
// names, Fiber's default), and the response holds none of them yet, so
// each is appended (fasthttp's Add) rather than set (Set, which scans
// the headers already there). A handler that sets one later still
// replaces its value.
func secureHeaders(csp string) fiber.Handler {
	type kv struct{ k, v []byte }
	var block []kv
	for _, h := range securityHeaders {
		block = append(block, kv{[]byte(h[0]), []byte(h[1])})
	}
	block = append(block, kv{[]byte(fiber.HeaderContentSecurityPolicy), []byte(csp)})
	return func(c *fiber.Ctx) error {
		h := &c.Response().Header
		h.DisableNormalizing()
		for i := range block {
			h.AddBytesKV(block[i].k, block[i].v)
		}
		h.EnableNormalizing()
		return c.Next()
	}
}
