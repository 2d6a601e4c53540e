// Package store is the event log's storage: one record per event, outcome,
// dead letter and alert, written idempotently and searched by person, actor,
// type, time and outcome. Two implementations share this contract and one
// test suite (storetest): SQLite (the embedded default) and PostgreSQL.
package store

import (
	"context"
	"errors"
	"time"
)

// Kinds of records.
const (
	KindEvent      = "event"
	KindOutcome    = "outcome"
	KindDeadLetter = "dead_letter"
	KindAlert      = "alert"
	// KindErasure records that a person's records were forgotten.
	KindErasure = "erasure"
)

// Record is one stored record.
type Record struct {
	// ID is unique per record and makes writes idempotent: the CloudEvents
	// id of events and outcomes, the dead letter's own id for dead letters.
	ID   string
	Kind string
	// Seq is assigned by the store on insert (strictly increasing).
	Seq int64
	// Occurred is when it happened at its source; Received when stored.
	Occurred time.Time
	Received time.Time
	// Type is the catalog name (okta.delete.user, outcome.gitlab.okta.delete.user).
	Type string
	// EventType and EventName are the events API's type and human name
	// (okta.UserDeletedEvent, gitlab.GroupMemberRemovedEvent).
	EventType string
	EventName string
	// PersonID is the affected person's id at the source; PersonEmail and
	// PersonLogin are searchable too (lower-cased).
	PersonID    string
	PersonEmail string
	PersonLogin string
	// Actor is who did it: the Okta admin, the Console author, the idsync
	// consumer. ActorID is the actor's id when it differs.
	Actor   string
	ActorID string
	// ClientIP and UserAgent of the end user, when the source gives them.
	ClientIP  string
	UserAgent string
	// Partition groups records (the Console company, or "default").
	Partition string
	// Reason: the outcome's or dead letter's reason, the source's outcome reason.
	Reason string
	// Outcome is the result of an outcome record (granted, revoked, …) or
	// the class of a dead letter.
	Outcome  string
	Provider string
	RuleID   string
	// SourceEventID links an outcome or dead letter to the event it is about.
	SourceEventID string
	// Subject, Stream and StreamSeq locate the message on the bus (erasure
	// deletes it there too).
	Subject   string
	Stream    string
	StreamSeq uint64
	// Payload is the message data (JSON), personal data included.
	Payload []byte
}

// Query selects records; at least one of UserID and Actor is required by
// the API (the store accepts any combination).
type Query struct {
	// UserID matches PersonID, PersonEmail or PersonLogin (case-insensitive
	// for emails and logins).
	UserID string
	// Actor matches Actor or ActorID.
	Actor string
	// Type matches Type or EventType exactly.
	Type     string
	From, To time.Time
	// Outcome matches the outcome result.
	Outcome string
	Limit   int
	Offset  int
	// After continues a listing after the record with this position
	// (keyset pagination: stable under concurrent inserts).
	After *Position
}

// Position is a record's place in the listing order (newest first).
type Position struct {
	Occurred time.Time
	Seq      int64
}

// Page is one page of a query.
type Page struct {
	Records []Record
	// Total counts every record matching the query, taken in the same
	// snapshot as the page.
	Total int
}

// Store is the event log's storage.
type Store interface {
	// Insert stores records; a record whose ID is already stored, or comes
	// earlier in recs, is skipped. It reports for each record whether it
	// was new. All or nothing: on error none is stored.
	Insert(ctx context.Context, recs []Record) ([]bool, error)
	// Query returns a page of matching records, newest first (Occurred, then
	// Seq, descending).
	Query(ctx context.Context, q Query) (Page, error)
	// Person returns, for erasure, every record about a person (as UserID
	// matches), every record in which they acted (as Actor matches), and
	// every report record (IsReport) whose payload names them (Mentions;
	// not for identifiers shorter than MinMention), oldest first.
	Person(ctx context.Context, userID string) ([]Record, error)
	// Forget pseudonymises every record about a person: identifying fields
	// become pseudonym, payloads are dropped; where they acted, the actor
	// becomes pseudonym and the payload is dropped; a report record naming
	// them (as Person finds it) loses its payload and keeps the rest. It
	// returns how many changed (a record changed twice counts twice).
	Forget(ctx context.Context, userID, pseudonym string) (int, error)
	// Purge deletes records that occurred before cutoff, in small steps so
	// that writes are not blocked; it returns how many were deleted.
	Purge(ctx context.Context, cutoff time.Time) (int, error)
	// Known reports which of ids are stored (as a record's ID), for
	// publishers that must not send an event again once it has left the
	// bus's duplicate window (the Okta System Log backfill). Ids not
	// stored are absent from the map.
	Known(ctx context.Context, ids []string) (map[string]bool, error)
	// Ping checks that the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Count counts the records Insert reported new.
func Count(isNew []bool) int {
	n := 0
	for _, b := range isNew {
		if b {
			n++
		}
	}
	return n
}

// ErrClosed is returned by a closed store.
var ErrClosed = errors.New("store: closed")
