// Command server runs the Atoll demo site.
//
//	server [-addr 127.0.0.1:8080]
//	server -genkey      print a fresh key for ATOLL_KEYS
//
// Settings come from ATOLL_* environment variables (see config); -addr
// overrides ATOLL_ADDR. SIGINT or SIGTERM stops the server after the
// requests in flight finish, within ATOLL_SHUTDOWN_TIMEOUT.
package main

import (
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/server"
)

func main() { server.Main(atoll.Demo()) }
