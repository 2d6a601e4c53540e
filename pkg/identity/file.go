package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Mapping is one line of a mapping file.
type Mapping struct {
	Email string `yaml:"email"`
	Login string `yaml:"login"`
}

// LoadResult counts what LoadFile did.
type LoadResult struct{ Added, Updated, Unchanged int }

// LoadFile reads a mapping file and upserts every line (source "file").
// Entries already mapping an email to the same login are left as they are;
// entries missing from the file are kept (remove them with Delete).
func (m *Map) LoadFile(ctx context.Context, path string) (LoadResult, error) {
	ms, err := ParseFile(path)
	if err != nil {
		return LoadResult{}, err
	}
	var res LoadResult
	for _, x := range ms {
		cur, found, err := m.Get(ctx, x.Email)
		if err != nil {
			return res, err
		}
		switch {
		case found && strings.EqualFold(cur.Login, x.Login):
			res.Unchanged++
			continue
		case found:
			res.Updated++
		default:
			res.Added++
		}
		if err := m.Set(ctx, x.Email, x.Login, SourceFile); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ParseFile reads a mapping file: CSV (.csv: "email,login" lines, an
// optional header line) or YAML (.yaml, .yml: a list of {email, login}).
// Every problem is reported, one error each, naming the file and line.
func ParseFile(path string) ([]Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return parseCSV(path, data)
	case ".yaml", ".yml":
		return parseYAML(path, data)
	}
	return nil, fmt.Errorf("identity file %s: want a .csv, .yaml or .yml file", path)
}

type located struct {
	Mapping
	line int
}

func parseCSV(path string, data []byte) ([]Mapping, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	var rows []located
	var errs []lineError
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos panics when the failed read has no fields (a bare
			// quote on the first line): take the line from the error.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, lineError{line, fmt.Errorf("identity file %s: %w", path, err)})
			break
		}
		line, _ := r.FieldPos(0)
		if first && len(rec) == 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "email") && strings.EqualFold(strings.TrimSpace(rec[1]), "login") {
			continue
		}
		if len(rec) != 2 {
			errs = append(errs, lineError{line, fmt.Errorf("identity file %s:%d: want 2 fields (email,login), got %d", path, line, len(rec))})
			continue
		}
		rows = append(rows, located{Mapping{Email: rec[0], Login: rec[1]}, line})
	}
	out, verrs := validate(path, rows)
	return out, joinByLine(append(errs, verrs...))
}

func parseYAML(path string, data []byte) ([]Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("identity file %s:%d: want a list of {email, login}", path, list.Line)
	}
	var rows []located
	var errs []lineError
	for _, n := range list.Content {
		var x Mapping
		if err := n.Decode(&x); err != nil {
			errs = append(errs, lineError{n.Line, fmt.Errorf("identity file %s:%d: want {email, login}", path, n.Line)})
			continue
		}
		rows = append(rows, located{x, n.Line})
	}
	out, verrs := validate(path, rows)
	return out, joinByLine(append(errs, verrs...))
}

// validate checks every row and that no email is mapped to two logins.
func validate(path string, rows []located) ([]Mapping, []lineError) {
	var errs []lineError
	seen := map[string]located{}
	var out []Mapping
	for _, r := range rows {
		email, login := normalize(r.Email), strings.TrimSpace(r.Login)
		bad := false
		if !ValidEmail(email) {
			errs = append(errs, lineError{r.line, fmt.Errorf("identity file %s:%d: the email is not an email address", path, r.line)})
			bad = true
		}
		if !ValidLogin(login) {
			errs = append(errs, lineError{r.line, fmt.Errorf("identity file %s:%d: %q is not a GitHub login", path, r.line, r.Login)})
			bad = true
		}
		if bad {
			continue
		}
		if prev, ok := seen[email]; ok {
			if !strings.EqualFold(prev.Login, login) {
				errs = append(errs, lineError{r.line, fmt.Errorf("identity file %s:%d: the same email is mapped to %s on line %d", path, r.line, prev.Login, prev.line)})
			}
			continue
		}
		seen[email] = located{Mapping{email, login}, r.line}
		out = append(out, Mapping{Email: email, Login: login})
	}
	return out, errs
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Email < es[j].Email })
}

// lineError is a problem on one line of a file.
type lineError struct {
	line int
	err  error
}

// joinByLine joins errors in line order (nil when there are none).
func joinByLine(es []lineError) error {
	sort.SliceStable(es, func(i, j int) bool { return es[i].line < es[j].line })
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e.err
	}
	return errors.Join(errs...)
}
