package config_test

import (
	"testing"

	"github.com/idsync/idsync/pkg/config"
)

func TestByteSizeUnmarshalText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    config.ByteSize
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"64KiB", 64 << 10, false},
		{"1MiB", 1 << 20, false},
		{"10GiB", 10 << 30, false},
		{"2TiB", 2 << 40, false},
		{"512B", 512, false},
		{" 1 MiB ", 1 << 20, false},
		{"0", 0, false},
		{"", 0, false},
		{"-1", 0, true},
		{"-1KiB", 0, true},
		{"1.5MiB", 0, true},
		{"1XB", 0, true},
		{"1MB", 0, true}, // decimal units are not binary ones: refuse rather than guess
		{"1mib", 0, true},
		{"KiB", 0, true},
		{"1e6", 0, true},
		{"9223372036854775807", 0, true}, // above the 2^62 bound
		{"4194304TiB", 1 << 62, false},   // the largest size accepted
		{"4194305TiB", 0, true},          // one TiB more would be near overflow
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			b := config.ByteSize(7) // an error must not half-write it
			err := b.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if b != 7 {
					t.Errorf("failed parse changed the value to %d", b)
				}
				return
			}
			if b != tt.want {
				t.Errorf("= %d, want %d", b, tt.want)
			}
		})
	}
}

func TestByteSizeStringRoundTrips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   config.ByteSize
		want string
	}{
		{0, "0"},
		{1, "1"}, // plain bytes print without a unit, as operators write them
		{1023, "1023"},
		{1024, "1KiB"},
		{1536, "1536"},
		{64 << 10, "64KiB"},
		{1 << 20, "1MiB"},
		{3 << 19, "1536KiB"},
		{10 << 30, "10GiB"},
		{5 << 40, "5TiB"},
		{1 << 50, "1024TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			var back config.ByteSize
			if err := back.UnmarshalText([]byte(tt.in.String())); err != nil || back != tt.in {
				t.Errorf("UnmarshalText(%q) = %d, %v; want %d", tt.in.String(), back, err, tt.in)
			}
		})
	}
}
