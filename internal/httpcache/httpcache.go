// Package httpcache writes the caching contract's headers, one function
// per kind of response, so every handler states its policy by name.
package httpcache

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// PagePolicy is the Cache-Control value of pages rendered once:
// "public, max-age=N". Make it once, at startup, and pass it to Page.
func PagePolicy(maxAge time.Duration) string {
	return "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
}

// Page sets Cache-Control to policy (from PagePolicy) and the strong ETag
// of a page rendered once. It reports whether the request's If-None-Match
// already names that ETag, in which case the caller answers 304.
func Page(c *fiber.Ctx, policy, etag string) (notModified bool) {
	c.Set(fiber.HeaderCacheControl, policy)
	c.Set(fiber.HeaderETag, etag)
	return Matches(c.Get(fiber.HeaderIfNoneMatch), etag)
}

// Revalidated sets "Cache-Control: public, max-age=0, s-maxage=N,
// stale-while-revalidate=N" and the page's ETag, for a page regenerated
// every N: shared caches keep it N and may serve it stale while they
// fetch the next copy; browsers revalidate with the ETag. It reports
// whether the request's If-None-Match already names that ETag.
func Revalidated(c *fiber.Ctx, every time.Duration, etag string) (notModified bool) {
	n := strconv.Itoa(int(every / time.Second))
	c.Set(fiber.HeaderCacheControl, "public, max-age=0, s-maxage="+n+", stale-while-revalidate="+n)
	c.Set(fiber.HeaderETag, etag)
	return Matches(c.Get(fiber.HeaderIfNoneMatch), etag)
}

// Immutable sets "Cache-Control: public, max-age=31536000, immutable" and
// the ETag of a fingerprinted asset, whose URL changes with its content.
func Immutable(c *fiber.Ctx, etag string) (notModified bool) {
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, etag)
	return Matches(c.Get(fiber.HeaderIfNoneMatch), etag)
}

// NoStore sets "Cache-Control: no-store": for islands, errors and pages
// rendered per request, which no cache may keep.
func NoStore(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// Matches reports whether an If-None-Match header value names etag. It
// uses the weak comparison RFC 9110 prescribes for If-None-Match.
func Matches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}
