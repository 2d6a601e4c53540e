package store

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// TypeReport is the type of a reconciliation report's records
// (events.ReconcileReport): an event, or a dead letter or undecodable
// message of that type. A report is about no one (its person fields are
// empty), but its payload's items name people, so Person and Forget look
// for the person in the payloads of these records too.
const TypeReport = "idsync.reconcile.report"

// MinMention is the length (in characters) below which an identifier is
// not looked for in report payloads: a value that short names nobody
// reliably, and erasing every report it appears in would erase others'.
const MinMention = 3

// IsReport reports whether r is a report record about no one: its payload,
// not its person fields, names the people.
func IsReport(r Record) bool {
	return r.Type == TypeReport && r.PersonID == "" && r.PersonEmail == "" && r.PersonLogin == ""
}

// Needles are what a report's payload holds, once its ASCII letters are
// lower-cased, where it names userID as a whole JSON string value: the
// identifier JSON-encoded, quotes included, ASCII letters lower-cased. A
// substring of another value does not match. Each encoder that writes
// payloads escapes differently — protojson (the bus and the event log's
// payloads) leaves <, > and & as they are, encoding/json writes \u003c and
// the like — so there is one needle per distinct encoding. Nil when
// userID is shorter than MinMention. Both stores match these bytes the
// same way (case-insensitive for ASCII letters only, as SQLite's lower()
// is), and Mentions does it in Go.
func Needles(userID string) [][]byte {
	if utf8.RuneCountInString(userID) < MinMention {
		return nil
	}
	var out [][]byte
	add := func(b []byte) {
		b = lowerASCII(b)
		for _, n := range out {
			if bytes.Equal(n, b) {
				return
			}
		}
		out = append(out, b)
	}
	// protojson refuses invalid UTF-8: no payload it wrote can hold it.
	if b, err := protojson.Marshal(structpb.NewStringValue(userID)); err == nil {
		add(b)
	}
	if b, err := json.Marshal(userID); err == nil {
		add(b)
	}
	return out
}

// Mentions reports whether payload names userID as Needles defines it.
func Mentions(payload []byte, userID string) bool {
	needles := Needles(userID)
	if len(needles) == 0 || len(payload) == 0 {
		return false
	}
	low := lowerASCII(payload)
	for _, n := range needles {
		if bytes.Contains(low, n) {
			return true
		}
	}
	return false
}

// lowerASCII is b with A–Z lower-cased and every other byte kept, as
// SQLite's lower() and PostgreSQL's under the C collation do.
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
