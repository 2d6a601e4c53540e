package main

import "testing"

func TestLocal(t *testing.T) {
	tests := []struct {
		old, newPath, newVersion string
		want                     bool
	}{
		{"github.com/idsync/idsync/pkg", "../pkg", "", true},
		{"github.com/idsync/idsync/proto", "../../proto", "", true},
		{"github.com/nats-io/nats.go", "../nats.go", "", false},
		{"github.com/nats-io/nats.go", "github.com/someone/nats.go", "v1.2.3", false},
		{"github.com/idsync/idsync/pkg", "github.com/fork/pkg", "v0.1.0", false},
		{"github.com/idsync/idsync/pkg", "/abs/pkg", "", false},
	}
	for _, tt := range tests {
		if got := local(tt.old, tt.newPath, tt.newVersion); got != tt.want {
			t.Errorf("local(%q, %q, %q) = %v, want %v", tt.old, tt.newPath, tt.newVersion, got, tt.want)
		}
	}
}
