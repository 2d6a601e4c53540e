package idsync

import (
	"slices"
	"testing"
)

func TestReconcileWavesApplyTheConsoleFirst(t *testing.T) {
	all := []string{"console", "okta", "gitlab", "github"}
	cases := []struct {
		name      string
		providers []string
		apply     bool
		want      [][]int
	}{
		{"reports all at once", all, false, [][]int{{0, 1, 2, 3}}},
		{"an apply converges the Console first", all, true, [][]int{{0}, {1, 2, 3}}},
		{"wherever it is listed", []string{"gitlab", "console", "github"}, true, [][]int{{1}, {0, 2}}},
		{"the Console alone", []string{"console"}, true, [][]int{{0}}},
		{"without the Console", []string{"okta", "github"}, true, [][]int{{0, 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := reconcileWaves(tc.providers, tc.apply)
			if !slices.EqualFunc(got, tc.want, slices.Equal[[]int]) {
				t.Fatalf("reconcileWaves(%v, %v) = %v, want %v", tc.providers, tc.apply, got, tc.want)
			}
		})
	}
}
