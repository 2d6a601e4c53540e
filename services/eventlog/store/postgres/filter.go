package postgres

import (
	"fmt"
	"strings"

	"github.com/idsync/idsync/services/eventlog/store"
)

// filter is a query's conditions as SQL: the person (or actor) it asks for,
// as alternatives each served by one index, and the conditions common to
// all. The matches are the SQLite store's. The terms asking for a non-empty
// email, login or actor id change nothing (the values compared are never
// empty) but let generic plans of prepared statements use the partial
// indexes on those columns.
type filter struct {
	alts   []string
	common []string
	args   []any
}

func (f *filter) arg(v any) string {
	if s, ok := v.(string); ok {
		v = text(s)
	}
	f.args = append(f.args, v)
	return fmt.Sprintf("$%d", len(f.args))
}

// newFilter is the filter of q, with its After position if after is set.
func newFilter(q store.Query, after bool) *filter {
	f := &filter{}
	actor := func() []string {
		a := f.arg(q.Actor)
		return []string{`actor = ` + a, `(actor_id = ` + a + ` AND actor_id <> '')`}
	}
	switch {
	case q.UserID != "":
		id, low := f.arg(q.UserID), f.arg(strings.ToLower(q.UserID))
		f.alts = []string{
			`person_id = ` + id,
			`(person_email = ` + low + ` AND person_email <> '')`,
			`(person_login = ` + low + ` AND person_login <> '')`,
		}
		if q.Actor != "" {
			f.common = append(f.common, `(`+strings.Join(actor(), ` OR `)+`)`)
		}
	case q.Actor != "":
		f.alts = actor()
	}
	if q.Type != "" {
		t := f.arg(q.Type)
		f.common = append(f.common, `(type = `+t+` OR event_type = `+t+`)`)
	}
	if !q.From.IsZero() {
		f.common = append(f.common, `occurred >= `+f.arg(millis(q.From)))
	}
	if !q.To.IsZero() {
		f.common = append(f.common, `occurred < `+f.arg(millis(q.To)))
	}
	if q.Outcome != "" {
		f.common = append(f.common, `outcome = `+f.arg(q.Outcome))
	}
	if after && q.After != nil {
		f.common = append(f.common, `(occurred, seq) < (`+f.arg(millis(q.After.Occurred))+`, `+f.arg(q.After.Seq)+`)`)
	}
	return f
}

// where is the WHERE clause of the common conditions and first.
func (f *filter) where(first string) string {
	conds := f.common
	if first != "" {
		conds = append([]string{first}, conds...)
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// countSQL counts the matches, the alternatives ORed (a bitmap of their
// indexes): each record once.
func (f *filter) countSQL() string {
	var or string
	if len(f.alts) > 0 {
		or = `(` + strings.Join(f.alts, ` OR `) + `)`
	}
	return `SELECT count(*) FROM records` + f.where(or)
}

// pageSQL selects a page, newest first; a negative limit means no limit and
// a negative offset none, as in SQLite. With several alternatives, each
// takes the newest offset+limit rows from its index, in order, and the page
// is cut from their union (which drops a record matched twice): the work is
// bounded by the page's end, not by how many records the person has.
func (f *filter) pageSQL(limit, offset int) string {
	const order = ` ORDER BY occurred DESC, seq DESC`
	var lim, top any // nil: LIMIT NULL, no limit
	if limit >= 0 {
		lim, top = limit, limit+max(offset, 0)
	}
	page := ` LIMIT ` + f.arg(lim) + ` OFFSET ` + f.arg(max(offset, 0))
	if len(f.alts) < 2 {
		return `SELECT seq, ` + columns + ` FROM records` + f.where(strings.Join(f.alts, "")) + order + page
	}
	n := f.arg(top)
	var parts []string
	for _, alt := range f.alts {
		parts = append(parts, `(SELECT seq, `+columns+` FROM records`+f.where(alt)+order+` LIMIT `+n+`)`)
	}
	return `SELECT seq, ` + columns + ` FROM (` + strings.Join(parts, ` UNION `) + `) r` + order + page
}
