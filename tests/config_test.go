package tests

import (
	"atoll/config"
	"atoll/internal/seal"
)

// testConfig is config.Default with a fresh key, as a deployment sets one.
func testConfig() config.Config {
	c := config.Default()
	c.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	return c
}
