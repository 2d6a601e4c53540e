package events

import (
	"errors"
	"fmt"
	"mime"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// NATS headers carrying the CloudEvents 1.0 attributes (binary content mode
// of the CloudEvents NATS binding) and the dedupe id.
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderID          = "ce-id"
	HeaderSource      = "ce-source"
	HeaderType        = "ce-type"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderContentType = "content-type"
	HeaderMsgID       = nats.MsgIdHdr

	SpecVersion      = "1.0"
	ContentTypeJSON  = "application/json"
	ContentTypeProto = "application/protobuf"
)

// Event is one idsync event: the CloudEvents attributes and a typed payload.
type Event struct {
	// ID is the CloudEvents id and the Nats-Msg-Id (dedupe key).
	ID string
	// Type is the catalog entry; its Name is the CloudEvents type.
	Type *Type
	// Source is the CloudEvents source (a URI reference).
	Source string
	// Subject is the affected user or project id (never an email).
	Subject string
	// Time is when it happened at the source.
	Time time.Time
	// Payload is a message of Type.Payload.
	Payload proto.Message
}

// ErrInvalid wraps every decoding failure: the message does not follow the
// documented format and retrying will not change that.
var ErrInvalid = errors.New("invalid event")

var jsonOut = protojson.MarshalOptions{}
var jsonIn = protojson.UnmarshalOptions{DiscardUnknown: true}

// protoIn drops unknown fields like jsonIn does, so that an event reads the
// same whichever encoding carried it, and re-encoding it loses nothing.
var protoIn = proto.UnmarshalOptions{DiscardUnknown: true}

// timeWritable reports whether t survives the ce-time header: time.Format
// writes a UTC year outside 0000–9999 in a form RFC 3339 (and time.Parse)
// refuses, so such a time would make the message undecodable.
func timeWritable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// encodeBufs are scratch buffers for marshalJSON, kept up to encodeBufMax.
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

const encodeBufMax = 256 << 10

// marshalJSON is jsonOut.Marshal into one allocation of the exact size:
// protojson appends to a buffer that starts empty, so an event of a few KiB
// (the raw payload is in it, base64) grew through several copies, which the
// gateway's allocation profile showed; the scratch buffer is reused instead.
func marshalJSON(m proto.Message) ([]byte, error) {
	bp := encodeBufs.Get().(*[]byte)
	buf, err := jsonOut.MarshalAppend((*bp)[:0], m)
	var data []byte
	if err == nil {
		data = append(make([]byte, 0, len(buf)), buf...)
	}
	if cap(buf) <= encodeBufMax {
		*bp = buf[:0]
		encodeBufs.Put(bp)
	}
	return data, err
}

// Encode builds the NATS message for ev in namespace ns: headers carry the
// attributes, the data is the payload in the proto3 JSON mapping.
func Encode(ns Namespace, ev Event) (*nats.Msg, error) {
	if ev.Type == nil || ev.ID == "" || ev.Payload == nil {
		return nil, fmt.Errorf("events.Encode: type, id and payload are required")
	}
	if ev.Payload.ProtoReflect().Descriptor() != ev.Type.Payload.Descriptor() {
		return nil, fmt.Errorf("events.Encode: %s carries %s, not %s", ev.Type.Name,
			ev.Type.Payload.Descriptor().FullName(), ev.Payload.ProtoReflect().Descriptor().FullName())
	}
	if err := CheckAttributes(ev); err != nil {
		return nil, fmt.Errorf("events.Encode %s: %w", ev.Type.Name, err)
	}
	if !ev.Time.IsZero() && !timeWritable(ev.Time) {
		return nil, fmt.Errorf("events.Encode %s: time %s is outside the years 0000-9999 (UTC)", ev.Type.Name, ev.Time)
	}
	data, err := marshalJSON(ev.Payload)
	if err != nil {
		return nil, fmt.Errorf("events.Encode %s: %w", ev.Type.Name, err)
	}
	// The header map is sized for these headers and the few the publisher
	// adds (the expected stream, the trace context), and the values share
	// one array (each capped to its own element, so that an Add copies):
	// header by header, they were a dozen allocations per event.
	h := make(nats.Header, 12)
	vals := make([]string, 0, 8)
	set := func(k, v string) {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	set(HeaderSpecVersion, SpecVersion)
	set(HeaderID, ev.ID)
	set(HeaderSource, ev.Source)
	set(HeaderType, ev.Type.Name)
	if !ev.Time.IsZero() {
		set(HeaderTime, ev.Time.UTC().Format(time.RFC3339Nano))
	}
	if ev.Subject != "" {
		set(HeaderSubject, ev.Subject)
	}
	set(HeaderContentType, ContentTypeJSON)
	set(HeaderMsgID, ev.ID)
	return &nats.Msg{Subject: ns.Subject(ev.Type), Header: h, Data: data}, nil
}

// Decode reads an event published by idsync or by any system that follows the
// documented format. The type comes from ce-type, or from the subject when
// ce-type is absent; the two must agree. Every failure wraps ErrInvalid.
func (c *Catalog) Decode(ns Namespace, subject string, h nats.Header, data []byte) (Event, error) {
	rel, ok := ns.Relative(subject)
	if !ok {
		return Event{}, fmt.Errorf("%w: subject %q is outside namespace %q", ErrInvalid, subject, string(ns))
	}
	t, ok := c.BySubject(rel)
	if !ok {
		return Event{}, fmt.Errorf("%w: subject %q is not in the catalog", ErrInvalid, subject)
	}
	if ct := h.Get(HeaderType); ct != "" && ct != t.Name {
		return Event{}, fmt.Errorf("%w: ce-type %q does not match subject %q", ErrInvalid, ct, subject)
	}
	if v := h.Get(HeaderSpecVersion); v != SpecVersion {
		return Event{}, fmt.Errorf("%w: ce-specversion %q, want %q", ErrInvalid, v, SpecVersion)
	}
	ev := Event{
		ID:      h.Get(HeaderID),
		Type:    t,
		Source:  h.Get(HeaderSource),
		Subject: h.Get(HeaderSubject),
	}
	if ev.ID == "" {
		return Event{}, fmt.Errorf("%w: ce-id is missing", ErrInvalid)
	}
	if ts := h.Get(HeaderTime); ts != "" {
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return Event{}, fmt.Errorf("%w: ce-time %q is not RFC 3339", ErrInvalid, ts)
		}
		if !timeWritable(tm) {
			return Event{}, fmt.Errorf("%w: ce-time %q is outside the years 0000-9999 in UTC", ErrInvalid, ts)
		}
		ev.Time = tm
	}
	payload := t.Payload.New().Interface()
	mt, _, err := mime.ParseMediaType(h.Get(HeaderContentType))
	if err != nil && h.Get(HeaderContentType) != "" {
		return Event{}, fmt.Errorf("%w: content-type %q", ErrInvalid, h.Get(HeaderContentType))
	}
	switch mt {
	case "", ContentTypeJSON:
		err = jsonIn.Unmarshal(data, payload)
	case ContentTypeProto, "application/x-protobuf":
		err = protoIn.Unmarshal(data, payload)
		if err == nil {
			// The binary form can hold what the JSON mapping refuses (a
			// Timestamp out of range). idsync re-encodes events as JSON (DLQ
			// copies, the event log), so refuse such a payload here, where
			// the cause is known, rather than fail there.
			_, err = jsonOut.Marshal(payload)
		}
	default:
		return Event{}, fmt.Errorf("%w: content-type %q (want %s or %s)", ErrInvalid, mt, ContentTypeJSON, ContentTypeProto)
	}
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s data: %v", ErrInvalid, t.Name, err)
	}
	ev.Payload = payload
	return ev, nil
}
