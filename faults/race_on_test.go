//go:build race

package faults

// raceEnabled: the suite runs under the race detector, and so do the
// services it builds.
const raceEnabled = true
