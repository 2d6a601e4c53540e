package harness

import (
	"io"
	"reflect"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	c, err := parse(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runs != 5 || c.Duration != 3*time.Second || c.GoCount != 5 || !reflect.DeepEqual(c.Concurrency, []int{1, 16, 64, 256}) ||
		!reflect.DeepEqual(c.Sizes, []int{1 << 10, 16 << 10, 256 << 10}) || len(c.Only) != len(groups) {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parse([]string{"-runs", "1", "-only", "gateway, raw", "-sizes", "2MiB", "-concurrency", "8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Only[GroupGateway] || !c.Only[GroupRaw] || c.Only[GroupConsumers] || c.Sizes[0] != 2<<20 || c.Concurrency[0] != 8 || c.GoCount != 1 {
		t.Errorf("flags: %+v", c)
	}
	for _, bad := range [][]string{
		{"-only", "gateway,bogus"}, {"-runs", "0"}, {"-concurrency", "1,x"}, {"-sizes", "big"}, {"-duration", "0s"}, {"extra"},
	} {
		if _, err := parse(bad, io.Discard); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestListening(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, want string
		ok         bool
	}{
		{"listening 127.0.0.1:4567", "127.0.0.1:4567", true},
		{"listening nats://127.0.0.1:4222", "nats://127.0.0.1:4222", true},
		{`{"time":"2026-11-23T10:00:00Z","level":"INFO","msg":"listening","addr":"127.0.0.1:38211"}`, "127.0.0.1:38211", true},
		{`{"level":"INFO","msg":"starting","http_addr":"127.0.0.1:0"}`, "", false},
		{"some other line", "", false},
	} {
		if got, ok := listening(tc.line); got != tc.want || ok != tc.ok {
			t.Errorf("listening(%q) = %q, %v", tc.line, got, ok)
		}
	}
}

func TestID(t *testing.T) {
	t.Parallel()
	if got := id("b000042-", 7); got != "b000042-00000007" {
		t.Errorf("id = %q", got)
	}
}
