package config

import (
	"crypto/subtle"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is a configuration value that must never be printed: String,
// GoString, LogValue and MarshalText all redact it. Reveal returns the value.
type Secret string

// Reveal returns the secret itself. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// String redacts the secret so that fmt and %v never leak it.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the secret for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON and YAML encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Secrets is a list of accepted secrets, so that a secret can be rotated by
// configuring the new one next to the old one for a while.
type Secrets []Secret

// String redacts every element.
func (ss Secrets) String() string {
	if len(ss) == 0 {
		return ""
	}
	return redacted
}

// LogValue redacts the list in slog output.
func (ss Secrets) LogValue() slog.Value { return slog.StringValue(ss.String()) }

// Match reports whether candidate equals one of the secrets. Every secret is
// compared in constant time, and all of them are always compared, so timing
// reveals neither the value nor which secret matched. An empty list matches
// nothing: authentication fails closed.
func (ss Secrets) Match(candidate []byte) bool {
	matched := 0
	for _, s := range ss {
		if s == "" {
			continue
		}
		matched |= subtle.ConstantTimeCompare([]byte(s), candidate)
	}
	return matched == 1
}
