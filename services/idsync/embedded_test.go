package idsync

import (
	"net"
	"strings"
	"testing"
)

func TestListenPlan(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	tests := []struct {
		name     string
		addr     string
		explicit bool
		wantPort bool
		wantNote string
		wantErr  string
	}{
		{name: "off", addr: "off"},
		{name: "free random port", addr: "127.0.0.1:0", explicit: true, wantPort: true},
		{name: "default taken runs in-process with a note", addr: busy, wantNote: "IDSYNC_NATS_LISTEN"},
		{name: "explicit taken refuses", addr: busy, explicit: true, wantErr: "not available"},
		{name: "not host:port", addr: "4222", explicit: true, wantErr: "not host:port"},
		{name: "bad port", addr: "127.0.0.1:99999", explicit: true, wantErr: "no valid port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, port, note, err := listenPlan(tc.addr, tc.explicit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (port != 0) != tc.wantPort {
				t.Errorf("port = %d", port)
			}
			if !strings.Contains(note, tc.wantNote) || (tc.wantNote == "" && note != "") {
				t.Errorf("note = %q, want one mentioning %q", note, tc.wantNote)
			}
		})
	}
}
