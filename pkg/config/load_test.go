package config_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
)

// env returns a getenv over a fixed map, so that tests never read the
// process environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

type precedenceConfig struct {
	Addr string `env:"IDSYNC_HTTP_ADDR" default:"127.0.0.1:8080" help:"listen address"`
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "127.0.0.1:8080"},
		{"env over default", nil, map[string]string{"IDSYNC_HTTP_ADDR": ":9000"}, ":9000"},
		// An exported-but-empty variable is how shells and compose files say
		// "unset"; it must not blank the default.
		{"empty env keeps default", nil, map[string]string{"IDSYNC_HTTP_ADDR": ""}, "127.0.0.1:8080"},
		{"flag over env", []string{"-http-addr", ":7000"}, map[string]string{"IDSYNC_HTTP_ADDR": ":9000"}, ":7000"},
		{"flag over default", []string{"-http-addr=:7000"}, nil, ":7000"},
		// A flag given explicitly wins even when empty: the operator asked for it.
		{"empty flag wins", []string{"-http-addr="}, map[string]string{"IDSYNC_HTTP_ADDR": ":9000"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg precedenceConfig
			rest, err := config.Load(&cfg, "test", tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Errorf("rest = %q", rest)
			}
			if cfg.Addr != tt.want {
				t.Errorf("Addr = %q, want %q", cfg.Addr, tt.want)
			}
		})
	}
}

func TestLoadReturnsPositionalArguments(t *testing.T) {
	t.Parallel()
	var cfg precedenceConfig
	rest, err := config.Load(&cfg, "test", []string{"-http-addr", ":1", "serve", "now"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rest, []string{"serve", "now"}) {
		t.Errorf("rest = %q", rest)
	}
}

type kindsConfig struct {
	S   string          `env:"IDSYNC_S"`
	B   bool            `env:"IDSYNC_B"`
	I   int             `env:"IDSYNC_I"`
	I64 int64           `env:"IDSYNC_I64"`
	D   time.Duration   `env:"IDSYNC_D"`
	L   []string        `env:"IDSYNC_L"`
	Sec config.Secret   `env:"IDSYNC_SEC"`
	Ss  config.Secrets  `env:"IDSYNC_SS"`
	Sz  config.ByteSize `env:"IDSYNC_SZ"`
}

func TestLoadEveryKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want kindsConfig
	}{
		{"zero values", nil, kindsConfig{}},
		{
			"set",
			map[string]string{
				"IDSYNC_S": "x", "IDSYNC_B": "true", "IDSYNC_I": "-3", "IDSYNC_I64": "9000000000",
				"IDSYNC_D": "1m30s", "IDSYNC_L": " a, b ,,c ", "IDSYNC_SEC": "hunter2",
				"IDSYNC_SS": "new,old", "IDSYNC_SZ": "64KiB",
			},
			kindsConfig{
				S: "x", B: true, I: -3, I64: 9000000000, D: 90 * time.Second,
				L: []string{"a", "b", "c"}, Sec: "hunter2", Ss: config.Secrets{"new", "old"}, Sz: 64 << 10,
			},
		},
		{"bool spellings", map[string]string{"IDSYNC_B": "1"}, kindsConfig{B: true}},
		{"plain byte count", map[string]string{"IDSYNC_SZ": "1048576"}, kindsConfig{Sz: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got kindsConfig
			if _, err := config.Load(&got, "test", nil, env(tt.env), io.Discard); err != nil {
				t.Fatal(err)
			}
			// Secrets redact themselves in %v, so compare revealed values.
			if got.Sec.Reveal() != tt.want.Sec.Reveal() {
				t.Errorf("Sec = %q, want %q", got.Sec.Reveal(), tt.want.Sec.Reveal())
			}
			// An unset list loads as empty, not nil; either reads the same.
			if len(got.L) == 0 {
				got.L = nil
			}
			if len(got.Ss) == 0 {
				got.Ss = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	var cfg kindsConfig
	_, err := config.Load(&cfg, "test", []string{"-sz", "1XB"}, env(map[string]string{
		"IDSYNC_B":   "yes please",
		"IDSYNC_I":   "1.5",
		"IDSYNC_I64": "99999999999999999999",
		"IDSYNC_D":   "5",
		"IDSYNC_S":   "fine",
	}), io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error is not joined: %T", err)
	}
	// One error per problem, each naming its variable (and where it came from),
	// so an operator fixes them all in one go.
	wantVars := []string{"IDSYNC_B", "IDSYNC_I", "IDSYNC_I64", "IDSYNC_D", "IDSYNC_SZ"}
	errs := joined.Unwrap()
	if len(errs) != len(wantVars) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(wantVars), err)
	}
	for i, v := range wantVars {
		if !strings.HasPrefix(errs[i].Error(), v+" ") {
			t.Errorf("error %d = %q, want it to name %s", i, errs[i], v)
		}
	}
	if !strings.Contains(errs[4].Error(), "flag -sz") {
		t.Errorf("flag error does not say it came from the flag: %q", errs[4])
	}
	if !strings.Contains(errs[0].Error(), "environment") {
		t.Errorf("env error does not say it came from the environment: %q", errs[0])
	}
}

type badKindConfig struct {
	F float64 `env:"IDSYNC_F" default:"1.5"`
}

func TestLoadRejectsUnsupportedKinds(t *testing.T) {
	t.Parallel()
	var cfg badKindConfig
	_, err := config.Load(&cfg, "test", nil, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "IDSYNC_F") {
		t.Errorf("err = %v, want an error naming IDSYNC_F", err)
	}
}

type helpConfig struct {
	Addr   string        `env:"IDSYNC_HTTP_ADDR" default:"127.0.0.1:8080" help:"listen address"`
	Secret config.Secret `env:"IDSYNC_TOKEN" default:"dev-token-do-not-show" help:"API token"`
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			var cfg helpConfig
			_, err := config.Load(&cfg, "test", []string{arg}, env(nil), &out)
			if !errors.Is(err, config.ErrHelp) {
				t.Fatalf("err = %v, want ErrHelp", err)
			}
			usage := out.String()
			for _, want := range []string{"-http-addr", "IDSYNC_HTTP_ADDR", `"127.0.0.1:8080"`, "-token", "IDSYNC_TOKEN"} {
				if !strings.Contains(usage, want) {
					t.Errorf("usage lacks %q:\n%s", want, usage)
				}
			}
			// A secret's default is still a secret.
			if strings.Contains(usage, "dev-token-do-not-show") {
				t.Errorf("usage shows a secret default:\n%s", usage)
			}
		})
	}
}

func TestLoadUnknownFlag(t *testing.T) {
	t.Parallel()
	var cfg helpConfig
	_, err := config.Load(&cfg, "test", []string{"-nope"}, env(nil), io.Discard)
	if err == nil || errors.Is(err, config.ErrHelp) {
		t.Errorf("err = %v, want a flag error", err)
	}
}

type nestedConfig struct {
	Name string `env:"IDSYNC_NAME" default:"idsync" help:"instance name"`
	HTTP struct {
		Addr string        `env:"IDSYNC_HTTP_ADDR" default:":8080"`
		Read time.Duration `env:"IDSYNC_HTTP_READ_TIMEOUT" default:"5s"`
	}
	Bus struct {
		URL   string         `env:"IDSYNC_NATS_URL"`
		Creds config.Secrets `env:"IDSYNC_NATS_TOKENS"`
		Inner struct {
			Max config.ByteSize `env:"IDSYNC_MAX_BODY_BYTES" default:"1MiB"`
		}
	}
	//lint:ignore U1000 present only to show that Fields skips unexported fields.
	unexported string `env:"IDSYNC_IGNORED"`
	Untagged   int
}

func TestFieldsWalksNestedStructs(t *testing.T) {
	t.Parallel()
	fields, err := config.Fields(&nestedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Env, Flag, Default string
		Secret             bool
	}
	var got []row
	for _, f := range fields {
		got = append(got, row{f.Env, f.Flag, f.Default, f.Secret})
	}
	want := []row{
		{"IDSYNC_NAME", "name", "idsync", false},
		{"IDSYNC_HTTP_ADDR", "http-addr", ":8080", false},
		{"IDSYNC_HTTP_READ_TIMEOUT", "http-read-timeout", "5s", false},
		{"IDSYNC_NATS_URL", "nats-url", "", false},
		{"IDSYNC_NATS_TOKENS", "nats-tokens", "", true},
		{"IDSYNC_MAX_BODY_BYTES", "max-body-bytes", "1MiB", false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields =\n%+v\nwant\n%+v", got, want)
	}

	// And Load fills the nested fields through the same walk.
	var cfg nestedConfig
	if _, err := config.Load(&cfg, "test", []string{"-http-read-timeout", "2s"}, env(map[string]string{"IDSYNC_NATS_URL": "nats://x"}), io.Discard); err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":8080" || cfg.HTTP.Read != 2*time.Second || cfg.Bus.URL != "nats://x" || cfg.Bus.Inner.Max != 1<<20 {
		t.Errorf("nested values not loaded: %+v", cfg)
	}
}

func TestFieldsRejectsNonStructPointers(t *testing.T) {
	t.Parallel()
	for _, v := range []any{nestedConfig{}, new(int), nil, "x"} {
		if _, err := config.Fields(v); err == nil {
			t.Errorf("Fields(%T) accepted it", v)
		}
	}
}
