// Package config loads a service's configuration struct from environment
// variables, with command-line flags overriding them. Fields declare their
// variable, default and help text in struct tags:
//
//	Addr string `env:"IDSYNC_HTTP_ADDR" default:"127.0.0.1:8080" help:"listen address"`
//
// The flag name is derived from the variable (IDSYNC_HTTP_ADDR → -http-addr).
// Values are read only through the injected getenv, so tests and the
// all-in-one program control them completely. Every problem is reported,
// one error each, naming the variable.
package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Field describes one configuration variable.
type Field struct {
	Env     string
	Flag    string
	Default string
	Help    string
	Secret  bool
	value   reflect.Value
}

// ErrHelp is returned by Load when -h or -help was given; usage has been
// written to the flag output.
var ErrHelp = flag.ErrHelp

// Fields lists the configuration variables of cfg, which must be a pointer to
// a struct. Nested structs are walked; their fields are listed in order.
func Fields(cfg any) ([]Field, error) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config.Fields: want a pointer to a struct, got %T", cfg)
	}
	var out []Field
	walk(v.Elem(), &out)
	return out, nil
}

func walk(v reflect.Value, out *[]Field) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		env, ok := sf.Tag.Lookup("env")
		if !ok {
			if fv.Kind() == reflect.Struct {
				walk(fv, out)
			}
			continue
		}
		*out = append(*out, Field{
			Env:     env,
			Flag:    flagName(env),
			Default: sf.Tag.Get("default"),
			Help:    sf.Tag.Get("help"),
			Secret:  isSecret(fv.Type()),
			value:   fv,
		})
	}
}

func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "IDSYNC_")), "_", "-")
}

func isSecret(t reflect.Type) bool {
	return t == reflect.TypeFor[Secret]() || t == reflect.TypeFor[Secrets]()
}

// Load fills cfg from args and getenv: a flag given on the command line wins,
// then a non-empty environment variable, then the field's default. It returns
// the remaining positional arguments. Errors name the variable and are joined.
func Load(cfg any, name string, args []string, getenv func(string) string, output io.Writer) ([]string, error) {
	fields, err := Fields(cfg)
	if err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	given := make(map[string]*string, len(fields))
	for _, f := range fields {
		s := new(string)
		given[f.Flag] = s
		help := f.Help + " (env " + f.Env
		if f.Default != "" && !f.Secret {
			help += ", default " + strconv.Quote(f.Default)
		}
		fs.StringVar(s, f.Flag, "", help+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })

	var errs []error
	for _, f := range fields {
		raw, source := f.Default, "default"
		if env := getenv(f.Env); env != "" {
			raw, source = env, "environment"
		}
		if set[f.Flag] {
			raw, source = *given[f.Flag], "flag -"+f.Flag
		}
		if err := assign(f.value, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", f.Env, source, err))
		}
	}
	return fs.Args(), errors.Join(errs...)
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func assign(v reflect.Value, raw string) error {
	if v.Addr().Type().Implements(textUnmarshalerType) {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw))
	}
	if v.Type() == durationType {
		if raw == "" {
			v.SetInt(0)
			return nil
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 5s, 2m, 24h)", raw)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		if raw == "" {
			v.SetBool(false)
			return nil
		}
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		if raw == "" {
			v.SetInt(0)
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		v.SetInt(n)
	case reflect.Slice:
		parts := splitList(raw)
		s := reflect.MakeSlice(v.Type(), 0, len(parts))
		for _, p := range parts {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := assign(elem, p); err != nil {
				return err
			}
			s = reflect.Append(s, elem)
		}
		v.Set(s)
	default:
		return fmt.Errorf("unsupported configuration type %s", v.Type())
	}
	return nil
}

// splitList splits a comma-separated list, trimming blanks and dropping empty items.
func splitList(raw string) []string {
	var out []string
	for p := range strings.SplitSeq(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
