package devloop

import "syscall"

// procAttr asks Linux to send the server SIGTERM if the tool dies without
// stopping it (killed, or crashed), so that no server is left holding the
// port.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
