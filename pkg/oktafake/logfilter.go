package oktafake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// logFilter is a compiled System Log filter expression: the SCIM-style
// subset Okta documents for GET /api/v1/logs — attribute comparisons with
// eq, ne, sw, co and pr, joined by and / or, grouped with parentheses.
// Okta refuses what it cannot read with a 400; so does the fake, rather than
// ignore a clause and return events the client did not ask for.
type logFilter func(*LogEvent) bool

// Limits that keep a hostile expression from costing more than a request.
const (
	maxFilterLen   = 16 << 10
	maxFilterDepth = 32
)

// errFilter is wrapped by every filter refusal (Okta answers them with
// E0000031 "Invalid search criteria.").
var errFilter = errors.New("invalid search criteria")

// parseLogFilter compiles expr; the empty expression matches everything.
func parseLogFilter(expr string) (logFilter, error) {
	if strings.TrimSpace(expr) == "" {
		return func(*LogEvent) bool { return true }, nil
	}
	if len(expr) > maxFilterLen {
		return nil, fmt.Errorf("%w: the filter is longer than %d bytes", errFilter, maxFilterLen)
	}
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	f, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errFilter, p.toks[p.pos].text)
	}
	return f, nil
}

type token struct {
	text   string
	quoted bool
}

// tokenize splits on blanks and parentheses; a double-quoted string is one
// token with JSON-style escapes (\" and \\).
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, token{text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("%w: unterminated string", errFilter)
			}
			v, err := strconv.Unquote(s[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("%w: bad string %s", errFilter, s[i:j+1])
			}
			out = append(out, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()\"", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type filterParser struct {
	toks []token
	pos  int
}

func (p *filterParser) keyword(kw string) bool {
	if p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, kw) {
		p.pos++
		return true
	}
	return false
}

func (p *filterParser) or(depth int) (logFilter, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(e *LogEvent) bool { return l(e) || right(e) }
	}
	return left, nil
}

func (p *filterParser) and(depth int) (logFilter, error) {
	left, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.primary(depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(e *LogEvent) bool { return l(e) && right(e) }
	}
	return left, nil
}

func (p *filterParser) primary(depth int) (logFilter, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errFilter, maxFilterDepth)
	}
	if p.keyword("(") {
		f, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.keyword(")") {
			return nil, fmt.Errorf("%w: missing )", errFilter)
		}
		return f, nil
	}
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%w: the expression ends early", errFilter)
	}
	attr := p.toks[p.pos]
	p.pos++
	get, ok := logAttributes[attr.text]
	if attr.quoted || !ok {
		return nil, fmt.Errorf("%w: unsupported attribute %q", errFilter, attr.text)
	}
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%w: %s has no operator", errFilter, attr.text)
	}
	op := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	if op == "pr" {
		return func(e *LogEvent) bool { return anyOf(get(e), func(v string) bool { return v != "" }) }, nil
	}
	if p.pos >= len(p.toks) || !p.toks[p.pos].quoted {
		return nil, fmt.Errorf("%w: %s %s needs a quoted value", errFilter, attr.text, op)
	}
	val := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	// SCIM compares strings case-insensitively unless an attribute says
	// otherwise; Okta's System Log does too.
	var match func(string) bool
	switch op {
	case "eq":
		match = func(v string) bool { return strings.ToLower(v) == val }
	case "ne":
		return func(e *LogEvent) bool {
			return !anyOf(get(e), func(v string) bool { return strings.ToLower(v) == val })
		}, nil
	case "sw":
		match = func(v string) bool { return strings.HasPrefix(strings.ToLower(v), val) }
	case "co":
		match = func(v string) bool { return strings.Contains(strings.ToLower(v), val) }
	default:
		return nil, fmt.Errorf("%w: unsupported operator %q", errFilter, op)
	}
	return func(e *LogEvent) bool { return anyOf(get(e), match) }, nil
}

func anyOf(vs []string, f func(string) bool) bool {
	for _, v := range vs {
		if f(v) {
			return true
		}
	}
	return false
}

// logAttributes are the attributes a filter may name. target is a list:
// a comparison on target.x holds when it holds for any target.
var logAttributes = map[string]func(*LogEvent) []string{
	"uuid":               func(e *LogEvent) []string { return []string{e.UUID} },
	"eventType":          func(e *LogEvent) []string { return []string{e.EventType} },
	"severity":           func(e *LogEvent) []string { return []string{e.Severity} },
	"displayMessage":     func(e *LogEvent) []string { return []string{e.DisplayMessage} },
	"outcome.result":     func(e *LogEvent) []string { return []string{e.Outcome} },
	"transaction.id":     func(e *LogEvent) []string { return []string{e.TransactionID} },
	"actor.id":           func(e *LogEvent) []string { return []string{e.Actor.ID} },
	"actor.type":         func(e *LogEvent) []string { return []string{e.Actor.Type} },
	"actor.alternateId":  func(e *LogEvent) []string { return []string{e.Actor.AlternateID} },
	"actor.displayName":  func(e *LogEvent) []string { return []string{e.Actor.DisplayName} },
	"target.id":          targets(func(t LogEntity) string { return t.ID }),
	"target.type":        targets(func(t LogEntity) string { return t.Type }),
	"target.alternateId": targets(func(t LogEntity) string { return t.AlternateID }),
	"target.displayName": targets(func(t LogEntity) string { return t.DisplayName }),
}

func targets(f func(LogEntity) string) func(*LogEvent) []string {
	return func(e *LogEvent) []string {
		out := make([]string, len(e.Target))
		for i, t := range e.Target {
			out[i] = f(t)
		}
		return out
	}
}
