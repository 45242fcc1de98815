//go:build unix && !linux

package redisstore_test

import "os/exec"

// setPdeathsig does nothing where the kernel cannot kill a child with its
// parent; the tests kill their servers when they end.
func setPdeathsig(*exec.Cmd) {}
