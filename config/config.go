// Package config holds the server's settings: defaults first, then the
// environment on top, then Validate, which names the variable at fault.
package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/seal"
)

// Config is everything the server reads from its environment.
type Config struct {
	// Addr is the TCP address to listen on (ATOLL_ADDR, or -addr).
	Addr string
	// PageMaxAge is the max-age of static pages (ATOLL_PAGE_MAX_AGE).
	PageMaxAge time.Duration
	// IslandTimeout is the default deadline of one island render
	// (ATOLL_ISLAND_TIMEOUT).
	IslandTimeout time.Duration
	// ActionTimeout is the default deadline of one action, its store
	// transaction included (ATOLL_ACTION_TIMEOUT); an action may declare
	// its own (action.Action.Timeout).
	ActionTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish after SIGINT or SIGTERM (ATOLL_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// LogLevel is the zerolog level name (ATOLL_LOG_LEVEL).
	LogLevel string
	// Dev re-reads templates from Root on every request, stops pages
	// from being cached and writes human-readable logs (ATOLL_DEV=1).
	Dev bool
	// Root is the directory dev mode reads pages, layouts and public
	// files from (ATOLL_ROOT). Outside dev mode the embedded copy is used.
	Root string
	// Keys seal island props (ATOLL_KEYS: comma-separated base64 32-byte
	// keys). The first seals; every one opens, so a new key can be put
	// first while the old one still opens what caches hold. Required with
	// a PostgreSQL DB; with a SQLite one, when empty, server.App makes a
	// key once and keeps it beside the database file (atoll.key).
	Keys [][]byte
	// BasePath mounts the site under a path prefix such as /shop
	// (ATOLL_BASE_PATH); empty for the root.
	BasePath string
	// DB is the store holding users, sessions and the site's own tables
	// (ATOLL_DB): a SQLite file path, or a postgres:// URL for a
	// PostgreSQL database that several replicas share.
	DB string
	// DrainDelay is how long, after SIGTERM, the server keeps serving
	// with /readyz at 503 and Connection: close on every response, so a
	// load balancer sees it leave before its listener closes
	// (ATOLL_DRAIN_DELAY; 0 in dev mode unless set).
	DrainDelay time.Duration
	// MetricsAddr is the address of the Prometheus /metrics listener,
	// apart from the public one (ATOLL_METRICS_ADDR); empty for none.
	MetricsAddr string
	// Origin is the site's public origin, such as https://shop.example
	// (ATOLL_ORIGIN): the cross-site check accepts forms posted from it
	// when a proxy in front rewrites the Host header.
	Origin string
	// TrustedProxies are the addresses (IPs or CIDR ranges) whose
	// X-Forwarded-Proto is believed (ATOLL_TRUSTED_PROXIES, comma-separated);
	// a session cookie is marked Secure when the request came over TLS.
	TrustedProxies []string
}

// DefaultDrainDelay suits a Kubernetes readiness probe that fails after
// a few seconds and nginx, whose keep-alive connections to the server
// should time out sooner (keepalive_timeout 4s in the configuration atoll nginx prints).
const DefaultDrainDelay = 5 * time.Second

// DefaultActionTimeout is an action's deadline when none is set: long
// enough for a store under load, short enough that a visitor whose
// action cannot finish is told so while they still wait for it.
const DefaultActionTimeout = 5 * time.Second

// IsPostgres reports whether db (ATOLL_DB) names PostgreSQL: a store that
// several replicas share, where every replica must seal with the same keys.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// DefaultDB is where the database lives when ATOLL_DB is not set.
const DefaultDB = "data/atoll.db"

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		PageMaxAge:      24 * time.Hour,
		IslandTimeout:   2 * time.Second,
		ActionTimeout:   DefaultActionTimeout,
		ShutdownTimeout: 10 * time.Second,
		LogLevel:        "info",
		Root:            ".",
		DB:              DefaultDB,
		DrainDelay:      DefaultDrainDelay,
	}
}

// Error reports one bad setting: the variable, the value found and what
// was expected.
type Error struct {
	Var, Value, Want string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q is invalid: want %s", e.Var, e.Value, e.Want)
}

// FromEnv returns Default with every variable that lookup finds applied
// on top. lookup is os.LookupEnv in production and a map in tests.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration, want string) error {
		v, ok := lookup(name)
		if !ok {
			return nil
		}
		d, err := parseDuration(v)
		if err != nil {
			return &Error{Var: name, Value: v, Want: want}
		}
		*dst = d
		return nil
	}
	str("ATOLL_ADDR", &c.Addr)
	str("ATOLL_LOG_LEVEL", &c.LogLevel)
	str("ATOLL_ROOT", &c.Root)
	if err := dur("ATOLL_PAGE_MAX_AGE", &c.PageMaxAge, "a duration such as 24h or a number of seconds"); err != nil {
		return c, err
	}
	if err := dur("ATOLL_ISLAND_TIMEOUT", &c.IslandTimeout, "a duration such as 2s"); err != nil {
		return c, err
	}
	if err := dur("ATOLL_ACTION_TIMEOUT", &c.ActionTimeout, "a duration such as 5s"); err != nil {
		return c, err
	}
	if err := dur("ATOLL_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout, "a duration such as 10s"); err != nil {
		return c, err
	}
	if v, ok := lookup("ATOLL_KEYS"); ok && strings.TrimSpace(v) != "" {
		keys, err := seal.ParseKeys(v)
		if err != nil {
			return c, &Error{Var: "ATOLL_KEYS", Value: redact(v), Want: "comma-separated base64 32-byte keys (" + err.Error() + "; make one with `atoll genkey` or your server's -genkey flag)"}
		}
		c.Keys = keys
	}
	str("ATOLL_BASE_PATH", &c.BasePath)
	str("ATOLL_DB", &c.DB)
	str("ATOLL_METRICS_ADDR", &c.MetricsAddr)
	str("ATOLL_ORIGIN", &c.Origin)
	c.Origin = strings.TrimSuffix(c.Origin, "/")
	_, drainSet := lookup("ATOLL_DRAIN_DELAY")
	if err := dur("ATOLL_DRAIN_DELAY", &c.DrainDelay, "a duration such as 5s"); err != nil {
		return c, err
	}
	if v, ok := lookup("ATOLL_TRUSTED_PROXIES"); ok {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if v, ok := lookup("ATOLL_DEV"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, &Error{Var: "ATOLL_DEV", Value: v, Want: "1, 0, true or false"}
		}
		c.Dev = b
	}
	if c.Dev && !drainSet {
		c.DrainDelay = 0
	}
	return c, c.Validate()
}

// parseDuration accepts Go durations ("90s", "24h") and bare seconds.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// Validate checks every field and returns an *Error naming the first
// variable whose value cannot work.
func (c Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return &Error{Var: "ATOLL_ADDR", Value: c.Addr, Want: "host:port, such as 127.0.0.1:8080"}
	}
	if c.PageMaxAge < time.Second || c.PageMaxAge > 365*24*time.Hour {
		return &Error{Var: "ATOLL_PAGE_MAX_AGE", Value: c.PageMaxAge.String(), Want: "between 1s and 8760h"}
	}
	if c.IslandTimeout < time.Millisecond || c.IslandTimeout > 5*time.Minute {
		return &Error{Var: "ATOLL_ISLAND_TIMEOUT", Value: c.IslandTimeout.String(), Want: "between 1ms and 5m"}
	}
	if c.ActionTimeout < time.Millisecond || c.ActionTimeout > 5*time.Minute {
		return &Error{Var: "ATOLL_ACTION_TIMEOUT", Value: c.ActionTimeout.String(), Want: "between 1ms and 5m"}
	}
	if c.ShutdownTimeout < 0 || c.ShutdownTimeout > 10*time.Minute {
		return &Error{Var: "ATOLL_SHUTDOWN_TIMEOUT", Value: c.ShutdownTimeout.String(), Want: "between 0s and 10m"}
	}
	if _, err := zerolog.ParseLevel(strings.ToLower(c.LogLevel)); err != nil || c.LogLevel == "" {
		return &Error{Var: "ATOLL_LOG_LEVEL", Value: c.LogLevel, Want: "one of trace, debug, info, warn, error"}
	}
	if len(c.Keys) == 0 && IsPostgres(c.DB) {
		return &Error{Var: "ATOLL_KEYS", Value: "", Want: "one or more comma-separated base64 32-byte keys, the same on every replica that shares ATOLL_DB: make one with `atoll genkey` (go run github.com/atollhq/atoll/cmd/atoll genkey) or your server's -genkey flag"}
	}
	for i, k := range c.Keys {
		if len(k) != seal.KeySize {
			return &Error{Var: "ATOLL_KEYS", Value: fmt.Sprintf("key %d of %d bytes", i+1, len(k)), Want: "32-byte keys"}
		}
	}
	if b := c.BasePath; b != "" && (!strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.Contains(b, "//") ||
		strings.Contains(b, "..") || strings.ContainsAny(b, "?#%\\ \"'<>")) {
		return &Error{Var: "ATOLL_BASE_PATH", Value: b, Want: "empty, or a path such as /shop with no trailing slash"}
	}
	if IsPostgres(c.DB) {
		if u, err := url.Parse(c.DB); err != nil || u.Host == "" {
			return &Error{Var: "ATOLL_DB", Value: Redact(c.DB), Want: "a URL such as postgres://user:password@host:5432/atoll"}
		}
	}
	if c.DB == "" {
		return &Error{Var: "ATOLL_DB", Value: c.DB, Want: "a path to the SQLite file, such as " + DefaultDB + ", or a postgres:// URL"}
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return &Error{Var: "ATOLL_TRUSTED_PROXIES", Value: p, Want: "IP addresses or CIDR ranges, comma-separated"}
			}
		}
	}
	if c.DrainDelay < 0 || c.DrainDelay > 5*time.Minute {
		return &Error{Var: "ATOLL_DRAIN_DELAY", Value: c.DrainDelay.String(), Want: "between 0s and 5m"}
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			return &Error{Var: "ATOLL_METRICS_ADDR", Value: c.MetricsAddr, Want: "empty, or host:port such as 127.0.0.1:9090"}
		}
	}
	if c.Origin != "" {
		if u, err := url.Parse(c.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return &Error{Var: "ATOLL_ORIGIN", Value: c.Origin, Want: "empty, or scheme://host[:port] such as https://shop.example"}
		}
	}
	if c.Root == "" {
		return &Error{Var: "ATOLL_ROOT", Value: c.Root, Want: "a directory holding pages/, layouts/ and public/"}
	}
	return nil
}

// redact hides key material in error messages.
func redact(v string) string {
	if len(v) <= 4 {
		return "…"
	}
	return v[:4] + "…"
}

// Level returns the parsed log level; Validate has already checked it.
func (c Config) Level() zerolog.Level {
	l, _ := zerolog.ParseLevel(strings.ToLower(c.LogLevel))
	return l
}

// Redact returns a database setting fit for a log line or an error: a
// URL's password is replaced by "xxxxx".
func Redact(db string) string {
	u, err := url.Parse(db)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(db, "@") {
			return "(a database URL that does not parse)"
		}
		return db
	}
	return u.Redacted()
}
