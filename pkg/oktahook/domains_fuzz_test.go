package oktahook_test

import (
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/oktahook"
)

// FuzzDomains: a configured list that validates allows exactly its domains
// and, for *.example.com, the names made of one or more DNS labels in front
// of .example.com: never the apex, never an empty label, never a lookalike
// such as example.com.attacker.net or a name with blanks or NULs. Decide
// agrees with Allows on the email's domain.
func FuzzDomains(f *testing.F) {
	f.Add("example.com", "*.mia-platform.eu", "example.com")
	f.Add("example.com", "*.example.org", "dev.example.org")
	f.Add("example.com", "*.example.org", ".example.org")
	f.Add("example.com", "*.example.org", "a..example.org")
	f.Add("example.com", "*.example.org", "evil .example.org")
	f.Add("example.com", "*.example.org", "-x.example.org")
	f.Add("example.com", "*.example.org", "example.com.attacker.net")
	f.Add("*.com", "x.y", "a\x00.com")
	f.Fuzz(func(t *testing.T, e1, e2, domain string) {
		d := oktahook.Domains{e1, e2}
		got := d.Allows(domain)
		if d.Validate() != nil {
			return // refused at start: never consulted
		}
		want := false
		for _, e := range d {
			if wild, ok := strings.CutPrefix(e, "*."); ok {
				sub, ok := strings.CutSuffix(domain, "."+wild)
				want = want || (ok && dnsName(sub))
			} else {
				want = want || domain == e
			}
		}
		if got != want {
			t.Fatalf("%q.Allows(%q) = %v, want %v", d, domain, got, want)
		}
		reg := &oktahook.Registration{Email: "ann@" + domain}
		dec := oktahook.Decide(reg, d)
		norm := strings.ToLower(strings.TrimSpace(domain))
		if dec.Allowed != (d.Allows(norm) && norm != "" && !strings.Contains(domain, "@")) {
			t.Fatalf("Decide(ann@%s) = %+v, but Allows(%q) = %v", domain, dec, norm, d.Allows(norm))
		}
	})
}

// dnsName reports whether s is one or more DNS labels: 1 to 63 of a-z, 0-9
// and inner hyphens each, separated by dots.
func dnsName(s string) bool {
	if s == "" {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}
