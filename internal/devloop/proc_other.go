//go:build !linux

package devloop

import "syscall"

// procAttr is nil where there is no parent-death signal: a server whose
// tool was killed keeps running until it is stopped.
func procAttr() *syscall.SysProcAttr { return nil }
