package idsync

import (
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/events"
)

// samplePayload builds a payload of t for `idsync send`: every field set,
// from the type where the catalog says (event type, provider, action) and
// with recognisable sample values elsewhere (example.com addresses,
// "sample-" ids), so it can never name a real person.
func samplePayload(t *events.Type, id string, now time.Time) proto.Message {
	s := sampler{t: t, id: id, now: now}
	m := t.Payload.New()
	s.fill(m, 0)
	return m.Interface()
}

type sampler struct {
	t   *events.Type
	id  string
	now time.Time
}

const sampleDepth = 4

func (s sampler) fill(m protoreflect.Message, depth int) {
	if m.Descriptor().FullName() == "google.protobuf.Timestamp" {
		ts := timestamppb.New(s.now)
		m.Set(m.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(ts.Seconds))
		m.Set(m.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(ts.Nanos))
		return
	}
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) != fd {
			continue // one member of each oneof
		}
		switch {
		case fd.IsMap():
			continue // no payload has maps; an empty one is valid
		case fd.IsList():
			l := m.Mutable(fd).List()
			if fd.Kind() == protoreflect.MessageKind {
				if depth < sampleDepth {
					e := l.NewElement()
					s.fill(e.Message(), depth+1)
					l.Append(e)
				}
				continue
			}
			l.Append(s.scalar(fd))
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			if depth < sampleDepth {
				s.fill(m.Mutable(fd).Message(), depth+1)
			}
		default:
			m.Set(fd, s.scalar(fd))
		}
	}
}

func (s sampler) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	name := string(fd.Name())
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s.text(fd, name))
	case protoreflect.BoolKind:
		// A sample outcome is a plan; nothing else is asserted true.
		return protoreflect.ValueOfBool(name == "dry_run")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(`{"sample":true}`))
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		for i := range vals.Len() {
			// A plan, where the enum says so (outcome results); otherwise
			// the first value that is not the zero "unspecified".
			if strings.HasSuffix(string(vals.Get(i).Name()), "_PLANNED") {
				return protoreflect.ValueOfEnum(vals.Get(i).Number())
			}
		}
		if vals.Len() > 1 {
			return protoreflect.ValueOfEnum(vals.Get(1).Number())
		}
		return protoreflect.ValueOfEnum(0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(1)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if strings.HasSuffix(name, "_ms") {
			return protoreflect.ValueOfInt64(s.now.UnixMilli())
		}
		if strings.HasSuffix(name, "_seconds") {
			return protoreflect.ValueOfInt64(3600)
		}
		return protoreflect.ValueOfInt64(1)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1)
	}
	return fd.Default()
}

// text is a string field's sample value, by its name.
func (s sampler) text(fd protoreflect.FieldDescriptor, name string) string {
	t := s.t
	provider := ""
	if len(t.Providers) > 0 {
		provider = t.Providers[0]
	}
	switch {
	case name == "event_type" || name == "source_event_type":
		if len(t.SourceEventTypes) > 0 {
			return t.SourceEventTypes[0]
		}
		return t.Name
	case name == "provider" && provider != "":
		return provider
	case name == "consumer" && provider != "":
		return provider + "-sync"
	case name == "action":
		for _, a := range events.Actions {
			if a.Provider == provider || a.Provider == "" {
				return a.Name
			}
		}
	case name == "uuid" || name == "event_id" || name == "delivery_id" || name == "hook_event_id":
		return s.id
	case name == "channel":
		return "cli"
	case strings.Contains(name, "email") || name == "login" || name == "alternate_id":
		return "sample.user@example.com"
	case name == "domain":
		return "example.com"
	case name == "ip_address":
		return "192.0.2.1" // TEST-NET-1
	case name == "user_agent":
		return "idsync-cli"
	case name == "reason" || strings.Contains(name, "message"):
		return "sample sent by idsync send"
	case name == "id" || strings.HasSuffix(name, "_id"):
		return "sample-" + strings.TrimSuffix(strings.ReplaceAll(string(fd.ContainingMessage().Name())+"-"+name, "_", "-"), "-id")
	}
	return "sample-" + strings.ReplaceAll(name, "_", "-")
}
