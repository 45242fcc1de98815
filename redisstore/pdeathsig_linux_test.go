package redisstore_test

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill cmd if the test binary dies first, so
// that no server outlives a crashed test.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
