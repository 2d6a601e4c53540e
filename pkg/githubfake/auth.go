package githubfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AddApp registers a GitHub App (its JWTs are checked against pub) and one
// of its installations.
func (f *Fake) AddApp(appID, installationID int64, pub *rsa.PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[appID] = pub
	f.installs[installationID] = appID
}

// SetTokenTTL sets the lifetime of installation tokens (default 1h, as GitHub).
func (f *Fake) SetTokenTTL(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenTTL = d
}

// TokensMinted counts the installation tokens issued so far.
func (f *Fake) TokensMinted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.minted
}

// authenticate lets through requests carrying a known, unexpired token as
// "Authorization: Bearer <t>" or "Authorization: token <t>".
func (f *Fake) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(h, " ")
		if h == "" {
			fail(w, http.StatusUnauthorized, "Requires authentication")
			return
		}
		f.mu.Lock()
		exp, ok := f.tokens[tok]
		now := f.now()
		f.mu.Unlock()
		if (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) || !ok || (!exp.IsZero() && !now.Before(exp)) {
			fail(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// mintToken is POST /app/installations/{id}/access_tokens: a JWT signed
// with the app's key buys a one-hour installation token.
func (f *Fake) mintToken(w http.ResponseWriter, r *http.Request) {
	scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	inst, ok := parseID(r.PathValue("id"))
	f.mu.Lock()
	defer f.mu.Unlock()
	appID, known := f.installs[inst]
	if !ok || !known {
		notFound(w)
		return
	}
	if !strings.EqualFold(scheme, "bearer") || !f.validJWT(jwt, appID) {
		fail(w, http.StatusUnauthorized, "A JSON web token could not be decoded")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "ghs_" + hex.EncodeToString(b)
	exp := f.now().Add(f.tokenTTL)
	f.tokens[tok] = exp
	f.minted++
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": timestamp(exp),
		"permissions": map[string]string{"members": "write"}, "repository_selection": "all",
	})
}

// validJWT checks an RS256 JWT: signature by the app's key, issuer = the
// app id, not expired, issued at most 10 minutes before it expires.
func (f *Fake) validJWT(token string, appID int64) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss string `json:"iss"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}
	if !decodeSegment(parts[0], &header) || !decodeSegment(parts[1], &claims) || header.Alg != "RS256" {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	pub := f.apps[appID]
	if err != nil || pub == nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	now := f.now().Unix()
	return claims.Iss == strconv.FormatInt(appID, 10) && claims.Exp > now && claims.Exp-claims.Iat <= 600 && claims.Iat <= now+60
}

func decodeSegment(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(b, v) == nil
}
