package eventlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/services/eventlog/store"
)

// ErasureRequest asks to forget a person (an erasure request under data
// protection law).
type ErasureRequest struct {
	// UserID is any identifier of the person: the source id, email or login.
	UserID string
	// By is the operator carrying it out; Reason their reference (a ticket).
	By, Reason string
}

// Erasure is what forgetting a person did.
type Erasure struct {
	// Pseudonym replaced the person's identifiers in their records.
	Pseudonym string `json:"pseudonym"`
	// Identifiers is how many identifiers of the person were found (the
	// given one, and the ids, emails and logins of their records).
	Identifiers int `json:"identifiers"`
	// Records were pseudonymised in the event log, reports naming the
	// person included (their payloads dropped).
	Records int `json:"records"`
	// BusDeleted messages were erased from the streams; BusGone had already
	// left them (stream retention).
	BusDeleted int `json:"busDeleted"`
	BusGone    int `json:"busGone"`
	// RecordID is the erasure's own record in the event log.
	RecordID string `json:"recordId"`
}

// Forget erases a person: it deletes their messages from the streams
// (overwriting them on disk), pseudonymises their records in the store,
// does both for the reconciliation reports naming them (the report
// messages go, the records keep all but their payload) and records the
// erasure itself — who asked, when, how much — without the
// identifiers it erased. The bus goes first: should it fail, the records
// still say where the messages are, and running Forget again finishes the
// job. js may be nil when the bus is not reachable; the erasure then
// refuses rather than leave copies behind.
func Forget(ctx context.Context, st store.Store, js jetstream.JetStream, req ErasureRequest, now time.Time) (Erasure, error) {
	req.UserID, req.By = strings.TrimSpace(req.UserID), strings.TrimSpace(req.By)
	if req.UserID == "" || req.By == "" {
		return Erasure{}, errors.New("eventlog.Forget: the person (--user) and the operator (--by) are required")
	}
	if js == nil {
		return Erasure{}, errors.New("eventlog.Forget: the bus is required, to erase the copies of the messages it keeps")
	}
	plan, err := PlanErasure(ctx, st, req.UserID)
	if err != nil {
		return Erasure{}, err
	}
	ids := plan.Identifiers
	e := Erasure{Identifiers: len(ids)}
	if e.BusDeleted, e.BusGone, err = eraseMessages(ctx, js, plan.erase); err != nil {
		return e, err
	}
	if e.Pseudonym, err = pseudonym(); err != nil {
		return e, err
	}
	for _, id := range ids {
		n, err := st.Forget(ctx, id, e.Pseudonym)
		if err != nil {
			return e, fmt.Errorf("eventlog.Forget: %w", err)
		}
		e.Records += n
	}
	rec, err := erasureRecord(req, e, now)
	if err != nil {
		return e, err
	}
	if _, err := st.Insert(ctx, []store.Record{rec}); err != nil {
		return e, fmt.Errorf("eventlog.Forget: recording the erasure: %w", err)
	}
	e.RecordID = rec.ID
	return e, nil
}

// ErasurePlan is what forgetting a person would touch, for the operator to
// check before erasing: every identifier must be the same person's.
type ErasurePlan struct {
	Identifiers []string `json:"identifiers"`
	// About are the records about the person; Acted those where they only
	// acted (an admin's actions on others), whose actor is pseudonymised.
	About int `json:"about"`
	Acted int `json:"acted"`
	// Reports are the reconciliation reports whose items name the person
	// (store.IsReport, store.Mentions): about no one, they lose their
	// payload and keep their counts.
	Reports int `json:"reports"`
	// Messages are the bus messages of the records about the person and of
	// the reports naming them (some may have left the streams already).
	Messages int `json:"messages"`
	// erase are the records whose messages are erased: About's and
	// Reports'.
	erase []store.Record
}

// maxIdentifiers bounds the identifiers one person can have (Okta id,
// email, login, Console id, …): more means records link unrelated people,
// and erasing them all would erase others.
const maxIdentifiers = 20

// PlanErasure finds every identifier of the person: the one given, then the
// ids, emails and logins on the records about them (an email finds the Okta
// record naming the Okta id, which finds the records carrying only the id).
// Records where the person only acted do not widen the search: they are
// about someone else. Nor do the reports naming them, which name others too.
func PlanErasure(ctx context.Context, st store.Store, userID string) (ErasurePlan, error) {
	seen := map[string]bool{}
	about := map[string]store.Record{}
	reports := map[string]store.Record{}
	acted := map[string]bool{}
	queue := []string{strings.TrimSpace(userID)}
	var p ErasurePlan
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		key := strings.ToLower(id)
		if id == "" || seen[key] {
			continue
		}
		seen[key] = true
		p.Identifiers = append(p.Identifiers, id)
		if len(p.Identifiers) > maxIdentifiers {
			return ErasurePlan{}, fmt.Errorf("eventlog.Forget: %q links more than %d identifiers (%s, …); refusing to guess who to erase",
				userID, maxIdentifiers, strings.Join(p.Identifiers[:5], ", "))
		}
		recs, err := st.Person(ctx, id)
		if err != nil {
			return ErasurePlan{}, fmt.Errorf("eventlog.Forget: %w", err)
		}
		for _, r := range recs {
			switch {
			case r.Kind == store.KindErasure:
			case isAbout(r, id):
				about[r.ID] = r
				queue = append(queue, r.PersonID, r.PersonEmail, r.PersonLogin)
			case store.IsReport(r) && store.Mentions(r.Payload, id):
				reports[r.ID] = r
			default:
				acted[r.ID] = true
			}
		}
	}
	for _, recs := range []map[string]store.Record{about, reports} {
		for _, r := range recs {
			delete(acted, r.ID)
			p.erase = append(p.erase, r)
			if r.Stream != "" && r.StreamSeq != 0 {
				p.Messages++
			}
		}
	}
	p.About, p.Reports, p.Acted = len(about), len(reports), len(acted)
	return p, nil
}

// isAbout reports whether r is about the person id names (as the store's
// Person matches: ids exactly, emails and logins regardless of case).
func isAbout(r store.Record, id string) bool {
	return r.PersonID == id || r.PersonEmail != "" && strings.EqualFold(r.PersonEmail, id) || r.PersonLogin != "" && strings.EqualFold(r.PersonLogin, id)
}

// eraseMessages securely deletes the records' messages from their streams.
// A message a consumer has not processed yet is not erased — that would
// skip the deprovisioning it may carry — and the erasure stops with an
// error saying which consumer to wait for, before erasing anything: every
// message is checked first.
func eraseMessages(ctx context.Context, js jetstream.JetStream, recs []store.Record) (deleted, gone int, err error) {
	type located struct {
		key string
		seq uint64
		ss  *streamState
	}
	streams := map[string]*streamState{}
	done := map[string]bool{}
	var todo []located
	for _, r := range recs {
		if r.Stream == "" || r.StreamSeq == 0 {
			continue
		}
		key := fmt.Sprintf("%s/%d", r.Stream, r.StreamSeq)
		if done[key] {
			continue
		}
		done[key] = true
		ss, ok := streams[r.Stream]
		if !ok {
			ss, err = loadStream(ctx, js, r.Stream)
			if err != nil {
				return 0, 0, err
			}
			streams[r.Stream] = ss
		}
		if ss.stream == nil {
			gone++
			continue
		}
		if c := ss.pendingFor(r.Subject, r.StreamSeq); c != "" {
			return 0, 0, fmt.Errorf("eventlog.Forget: %s is not yet processed by consumer %s; run the erasure again once it is", key, c)
		}
		todo = append(todo, located{key, r.StreamSeq, ss})
	}
	for _, m := range todo {
		switch err := m.ss.stream.SecureDeleteMsg(ctx, m.seq); {
		case err == nil:
			deleted++
		case isMsgGone(err):
			gone++
		default:
			return deleted, gone, fmt.Errorf("eventlog.Forget: erasing %s: %w", m.key, err)
		}
	}
	return deleted, gone, nil
}

// streamState is a stream and its consumers' progress.
type streamState struct {
	stream    jetstream.Stream // nil: the stream is gone
	consumers []*jetstream.ConsumerInfo
}

func loadStream(ctx context.Context, js jetstream.JetStream, name string) (*streamState, error) {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return &streamState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog.Forget: stream %s: %w", name, err)
	}
	ss := &streamState{stream: s}
	lister := s.ListConsumers(ctx)
	for ci := range lister.Info() {
		ss.consumers = append(ss.consumers, ci)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("eventlog.Forget: consumers of %s: %w", name, err)
	}
	return ss, nil
}

// pendingFor names a consumer whose filters match subject and that has not
// acknowledged seq yet ("" when none). Messages acknowledged out of order
// above the ack floor count as pending: the erasure is retried later
// rather than risk one.
func (ss *streamState) pendingFor(subject string, seq uint64) string {
	for _, ci := range ss.consumers {
		filters := ci.Config.FilterSubjects
		if ci.Config.FilterSubject != "" {
			filters = append(filters, ci.Config.FilterSubject)
		}
		matches := len(filters) == 0
		for _, f := range filters {
			matches = matches || subjectMatches(f, subject)
		}
		if matches && ci.AckFloor.Stream < seq {
			return ci.Name
		}
	}
	return ""
}

// subjectMatches reports whether subject matches the NATS filter (with *
// and > wildcards).
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(f) == len(s)
}

// isMsgGone reports that the message is no longer in its stream (retention
// removed it, or an earlier erasure did). Depending on the server's path,
// that is "no message found" (10037), "sequence not found" (10043) or a
// generic deletion failure (10057) whose text is the store's "no message
// found". The client folds the server's API error into the text of
// ErrMsgDeleteUnsuccessful, so the codes are matched there too.
func isMsgGone(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return msgGoneCode(apiErr.ErrorCode, apiErr.Description)
	}
	if !errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
		return false
	}
	msg := err.Error()
	for _, code := range []jetstream.ErrorCode{jetstream.JSErrCodeMessageNotFound, errCodeSequenceNotFound, errCodeDeleteFailed} {
		if strings.Contains(msg, fmt.Sprintf("err_code=%d ", code)) && msgGoneCode(code, msg) {
			return true
		}
	}
	return false
}

// Server error codes the client has no constants for.
const (
	errCodeSequenceNotFound jetstream.ErrorCode = 10043
	errCodeDeleteFailed     jetstream.ErrorCode = 10057
)

func msgGoneCode(code jetstream.ErrorCode, text string) bool {
	switch code {
	case jetstream.JSErrCodeMessageNotFound, errCodeSequenceNotFound:
		return true
	case errCodeDeleteFailed:
		return strings.Contains(text, "no message found")
	}
	return false
}

// pseudonym is random: it must not be derivable from the identifiers it
// replaces (a hash of an email can be reversed by hashing candidates).
func pseudonym() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "forgotten-" + hex.EncodeToString(b), nil
}

// erasureRecord is the audit record of an erasure: who, when, why and how
// much, under the pseudonym — never the identifiers it erased.
func erasureRecord(req ErasureRequest, e Erasure, now time.Time) (store.Record, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return store.Record{}, err
	}
	payload, _ := json.Marshal(map[string]any{
		"pseudonym": e.Pseudonym, "identifiers": e.Identifiers, "records": e.Records,
		"busDeleted": e.BusDeleted, "busGone": e.BusGone, "reason": req.Reason,
	})
	reason := fmt.Sprintf("%d records pseudonymised, %d bus messages erased", e.Records, e.BusDeleted)
	if req.Reason != "" {
		reason = req.Reason + ": " + reason
	}
	now = now.UTC()
	return store.Record{
		ID: "erasure-" + hex.EncodeToString(id), Kind: store.KindErasure, Occurred: now, Received: now,
		Type: TypeNameErasure, EventType: TypeErasure, EventName: "Person Forgotten",
		PersonID: e.Pseudonym, Actor: req.By, Partition: "default", Reason: truncate(reason, 512),
		Outcome: "forgotten", Provider: "idsync", Payload: payload,
	}, nil
}
