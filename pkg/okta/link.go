package okta

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// NextAfter reads the after= cursor of the rel="next" link among a
// response's Link headers (RFC 8288: several headers, or several
// comma-separated links in one, each <uri> followed by ;-parameters).
// found is false when no next link is given. Okta's cursor is opaque: it is
// read, never built.
//
// The SDK's own reader (APIResponse.NextPage) dereferences the result of a
// url.Parse it does not check, so a malformed link would panic the caller;
// this one returns an error instead.
func NextAfter(h http.Header) (after string, found bool, err error) {
	for _, v := range h.Values("Link") {
		for rest := v; strings.TrimSpace(rest) != ""; {
			var uri string
			var rels []string
			uri, rels, rest, err = nextLink(rest)
			if err != nil {
				return "", false, err
			}
			if !hasRel(rels, "next") {
				continue
			}
			u, err := url.Parse(uri)
			if err != nil {
				return "", false, errors.New("next link: not a URL")
			}
			after := u.Query().Get("after")
			if after == "" {
				return "", false, errors.New("next link without an after cursor")
			}
			return after, true, nil
		}
	}
	return "", false, nil
}

// nextLink parses one link-value at the start of s: its URI, its rel
// values and what follows the comma after it.
func nextLink(s string) (uri string, rels []string, rest string, err error) {
	s = strings.TrimLeft(s, " \t,")
	if !strings.HasPrefix(s, "<") {
		return "", nil, "", errors.New("link: want <uri>")
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", nil, "", errors.New("link: unterminated <uri>")
	}
	uri, s = s[1:end], s[end+1:]
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return uri, rels, "", nil
		}
		switch s[0] {
		case ',':
			return uri, rels, s[1:], nil
		case ';':
			s = strings.TrimLeft(s[1:], " \t")
		default:
			return "", nil, "", errors.New("link: want ; or , after a parameter")
		}
		name, value, after, err := linkParam(s)
		if err != nil {
			return "", nil, "", err
		}
		if strings.EqualFold(name, "rel") {
			rels = append(rels, strings.Fields(value)...)
		}
		s = after
	}
}

// linkParam parses name[=value] where value is a token or a quoted string.
func linkParam(s string) (name, value, rest string, err error) {
	i := strings.IndexAny(s, "=;,")
	if i < 0 {
		return strings.TrimSpace(s), "", "", nil
	}
	name = strings.TrimSpace(s[:i])
	if name == "" {
		return "", "", "", errors.New("link: empty parameter name")
	}
	if s[i] != '=' {
		return name, "", s[i:], nil
	}
	s = strings.TrimLeft(s[i+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for j := 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				if j+1 < len(s) {
					j++
					b.WriteByte(s[j])
				}
			case '"':
				return name, b.String(), s[j+1:], nil
			default:
				b.WriteByte(s[j])
			}
		}
		return "", "", "", errors.New("link: unterminated quoted value")
	}
	j := strings.IndexAny(s, ";,")
	if j < 0 {
		return name, strings.TrimSpace(s), "", nil
	}
	return name, strings.TrimSpace(s[:j]), s[j:], nil
}

func hasRel(rels []string, want string) bool {
	for _, r := range rels {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}
