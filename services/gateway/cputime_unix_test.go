//go:build unix

package gateway_test

import "syscall"

// processCPU is the process's user and system CPU time so far, in
// nanoseconds (every thread: the garbage collector's workers included).
func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
