package config

import (
	"errors"

	"github.com/atollhq/atoll/internal/seal"
	"testing"
	"time"
)

var testKey = seal.GenerateKey()

// env looks up m, with a valid ATOLL_KEYS unless m sets its own.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := m[k]; ok {
			return v, ok
		}
		if k == "ATOLL_KEYS" {
			return testKey, true
		}
		return "", false
	}
}

func TestFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		badVar  string
		checkFn func(Config) bool
	}{
		{"nothing set gives a day-long page max-age on loopback", nil, "", func(c Config) bool {
			return c.Addr == "127.0.0.1:8080" && c.PageMaxAge >= 24*time.Hour && !c.Dev
		}},
		{"seconds are accepted for the page max-age", map[string]string{"ATOLL_PAGE_MAX_AGE": "3600"}, "", func(c Config) bool {
			return c.PageMaxAge == time.Hour
		}},
		{"dev mode switches on with 1", map[string]string{"ATOLL_DEV": "1"}, "", func(c Config) bool { return c.Dev }},
		{"a word for the max-age names the variable", map[string]string{"ATOLL_PAGE_MAX_AGE": "forever"}, "ATOLL_PAGE_MAX_AGE", nil},
		{"a zero max-age is refused", map[string]string{"ATOLL_PAGE_MAX_AGE": "0"}, "ATOLL_PAGE_MAX_AGE", nil},
		{"an address without a port is refused", map[string]string{"ATOLL_ADDR": "localhost"}, "ATOLL_ADDR", nil},
		{"an unknown log level is refused", map[string]string{"ATOLL_LOG_LEVEL": "loud"}, "ATOLL_LOG_LEVEL", nil},
		{"a bad dev flag is refused", map[string]string{"ATOLL_DEV": "yes please"}, "ATOLL_DEV", nil},
		{"no key with a shared PostgreSQL store is refused", map[string]string{"ATOLL_KEYS": "", "ATOLL_DB": "postgres://u@127.0.0.1/atoll"}, "ATOLL_KEYS", nil},
		{"no key with a SQLite store is allowed (the app keeps one)", map[string]string{"ATOLL_KEYS": ""}, "", func(c Config) bool { return len(c.Keys) == 0 }},
		{"no key in dev mode is allowed", map[string]string{"ATOLL_KEYS": "", "ATOLL_DEV": "1"}, "", func(c Config) bool { return c.Dev && len(c.Keys) == 0 }},
		{"a short key is refused", map[string]string{"ATOLL_KEYS": "c2hvcnQ="}, "ATOLL_KEYS", nil},
		{"two keys are read in order", map[string]string{"ATOLL_KEYS": testKey + "," + seal.GenerateKey()}, "", func(c Config) bool { return len(c.Keys) == 2 }},
		{"a base path is read", map[string]string{"ATOLL_BASE_PATH": "/shop"}, "", func(c Config) bool { return c.BasePath == "/shop" }},
		{"a base path with a trailing slash is refused", map[string]string{"ATOLL_BASE_PATH": "/shop/"}, "ATOLL_BASE_PATH", nil},
		{"a base path without a leading slash is refused", map[string]string{"ATOLL_BASE_PATH": "shop"}, "ATOLL_BASE_PATH", nil},
		{"trusted proxies are read", map[string]string{"ATOLL_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}, "", func(c Config) bool { return len(c.TrustedProxies) == 2 }},
		{"a trusted proxy that is not an address is refused", map[string]string{"ATOLL_TRUSTED_PROXIES": "proxy.local"}, "ATOLL_TRUSTED_PROXIES", nil},
		{"the database defaults under data/", nil, "", func(c Config) bool { return c.DB == "data/atoll.db" }},
		{"a bad island timeout is refused", map[string]string{"ATOLL_ISLAND_TIMEOUT": "soon"}, "ATOLL_ISLAND_TIMEOUT", nil},
		{"an action has a few seconds by default", nil, "", func(c Config) bool { return c.ActionTimeout == 5*time.Second }},
		{"the action timeout is read", map[string]string{"ATOLL_ACTION_TIMEOUT": "1500ms"}, "", func(c Config) bool { return c.ActionTimeout == 1500*time.Millisecond }},
		{"a zero action timeout is refused", map[string]string{"ATOLL_ACTION_TIMEOUT": "0"}, "ATOLL_ACTION_TIMEOUT", nil},
		{"a bad action timeout is refused", map[string]string{"ATOLL_ACTION_TIMEOUT": "later"}, "ATOLL_ACTION_TIMEOUT", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(env(tc.env))
			if tc.badVar != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Var != tc.badVar {
					t.Fatalf("err = %v, want an error naming %s", err, tc.badVar)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.checkFn(c) {
				t.Fatalf("config %+v does not hold", c)
			}
		})
	}
}
