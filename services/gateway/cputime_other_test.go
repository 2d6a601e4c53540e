//go:build !unix

package gateway_test

func processCPU() (int64, bool) { return 0, false }
