// Package actions holds the demo site's actions, one file each; every
// file registers its action from init (see package action). The events
// they announce are the ones the demo's islands and pages listen for.
package actions

// Events the demo's actions announce.
const (
	SessionChanged = "session-changed"
	CartUpdated    = "cart-updated"
	Refresh        = "islands-refresh"
)
