// Package consolehook authenticates, validates and maps Mia-Platform Console
// webhooks to idsync events.
package consolehook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/idsync/idsync/pkg/config"
)

// HeaderSignature carries the Console's body signature.
const HeaderSignature = "X-Mia-Signature"

// Sign returns the Console signature of body: the lowercase hex SHA-256 of
// the body with the secret appended. It is not an HMAC.
func Sign(body []byte, secret string) string {
	sum := digest(body, secret)
	return hex.EncodeToString(sum[:])
}

func digest(body []byte, secret string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte(secret))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Verify reports whether signature (the header value, optionally prefixed
// "sha256=") is the signature of body under one of the secrets. Every secret
// is tried, in constant time each, so that neither the value nor which secret
// matched leaks through timing. No secrets means no match.
func Verify(body []byte, signature string, secrets config.Secrets) bool {
	sig := strings.TrimSpace(signature)
	if len(sig) >= 7 && strings.EqualFold(sig[:7], "sha256=") {
		sig = sig[7:]
	}
	var got [sha256.Size]byte
	if len(sig) != hex.EncodedLen(sha256.Size) {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(sig)); err != nil {
		return false
	}
	matched := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		want := digest(body, s.Reveal())
		matched |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return matched == 1
}
