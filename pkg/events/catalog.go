// Package events is idsync's event contract in code: the catalog of every
// event type (subject, canonical name, the source events that raise it,
// description, payload, tags, versions), the subjects built from it, and the
// CloudEvents-over-NATS encoding. The gateway's mapping, the consumers'
// filters and the /api/event-types endpoint all read this one catalog.
package events

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Kind is what an event type is for.
type Kind string

const (
	// KindSync is a row of the rule matrix: sync consumers act on it.
	KindSync Kind = "sync"
	// KindPassthrough is validated and published for other systems; no sync acts on it by default.
	KindPassthrough Kind = "passthrough"
	// KindOutcome is published by a sync consumer for every decision it takes.
	KindOutcome Kind = "outcome"
)

// Sources of events.
const (
	SourceOkta    = "okta"
	SourceConsole = "console"
	SourceIdsync  = "idsync"
)

// Providers that sync consumers act on.
const (
	ProviderOkta    = "okta"
	ProviderGitLab  = "gitlab"
	ProviderGitHub  = "github"
	ProviderConsole = "console"
)

// Providers lists every provider, in the matrix's column order.
var Providers = []string{ProviderConsole, ProviderOkta, ProviderGitLab, ProviderGitHub}

// Canonical names of the rule-matrix events (design §2).
const (
	ConsoleUpdateUserPermission = "console.update.user.permission"
	ConsoleCreateProject        = "console.create.project"
	OktaCreateUser              = "okta.create.user"
	OktaDeleteUser              = "okta.delete.user"
	OktaVerifyEmail             = "okta.verify.email"
)

// Version is the idsync contract version new types are tagged with.
const Version = "0.1.0"

// Type is one entry of the catalog.
type Type struct {
	// Name is the canonical name and the CloudEvents type, e.g. okta.delete.user.
	Name string
	// Kind says whether consumers act on it.
	Kind Kind
	// Subject is the subject below the namespace, e.g. events.okta.delete.user.
	Subject string
	// Source is okta, console or idsync; Module groups types within a source
	// (the Okta catalog's category, e.g. ud-core).
	Source, Module string
	// SourceEventTypes are the source's event types that raise this one.
	SourceEventTypes []string
	// DisplayName is human-readable ("Okta User Deleted"); TypeName is in the
	// style of the events API (okta.UserDeletedEvent).
	DisplayName, TypeName string
	Description           string
	// Payload is the proto message carried as data.
	Payload protoreflect.MessageType
	// Tags, e.g. sync-eligible, okta-event-hook-eligible, outcome.
	Tags []string
	// Since is the source's version that introduced the source event (Okta
	// release, Console version); AddedIn is the idsync version of this entry.
	Since, AddedIn string
	// Providers are the providers whose consumers act on a sync type, or the
	// provider that publishes an outcome type.
	Providers []string
}

// HasTag reports whether t carries tag.
func (t *Type) HasTag(tag string) bool { return slices.Contains(t.Tags, tag) }

// Field is one payload field, for documentation (/api/event-types).
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Fields lists the payload's top-level fields by their JSON names with a
// type in the style of the taxonomy (String, Integer, List<OktaTarget>, …).
func (t *Type) Fields() []Field {
	fds := t.Payload.Descriptor().Fields()
	out := make([]Field, 0, fds.Len())
	for i := range fds.Len() {
		fd := fds.Get(i)
		out = append(out, Field{Name: fd.JSONName(), Type: fieldType(fd)})
	}
	return out
}

func fieldType(fd protoreflect.FieldDescriptor) string {
	var base string
	switch fd.Kind() {
	case protoreflect.StringKind:
		base = "String"
	case protoreflect.BoolKind:
		base = "Boolean"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind:
		base = "Integer"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		base = "Long"
	case protoreflect.BytesKind:
		base = "Bytes"
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		base = "Number"
	case protoreflect.EnumKind:
		base = string(fd.Enum().Name())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if fd.Message().FullName() == "google.protobuf.Timestamp" {
			base = "OffsetDateTime"
		} else {
			base = string(fd.Message().Name())
		}
	default:
		base = fd.Kind().String()
	}
	if fd.IsList() {
		return "List<" + base + ">"
	}
	return base
}

// Catalog is the set of known event types, indexed.
type Catalog struct {
	types     []*Type
	byName    map[string]*Type
	bySubject map[string]*Type
	// oktaSync maps an Okta event type to the sync type it raises.
	oktaSync map[string]*Type
	// console maps a Console eventName (both spellings) to its type.
	console map[string]*Type
}

// Types returns every type, sorted by name.
func (c *Catalog) Types() []*Type { return c.types }

// Lookup finds a type by canonical name.
func (c *Catalog) Lookup(name string) (*Type, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// BySubject finds a type by its subject below the namespace.
func (c *Catalog) BySubject(rel string) (*Type, bool) {
	t, ok := c.bySubject[rel]
	return t, ok
}

// ConsoleEvent finds the type a Console eventName raises.
func (c *Catalog) ConsoleEvent(eventName string) (*Type, bool) {
	t, ok := c.console[eventName]
	return t, ok
}

// OktaSync finds the sync type an Okta event type raises, if any. It never
// returns one for user.lifecycle.deactivate: that raises okta.delete.user
// only when the operator says so, which the caller decides.
func (c *Catalog) OktaSync(oktaEventType string) (*Type, bool) {
	t, ok := c.oktaSync[oktaEventType]
	return t, ok
}

// OktaPassthrough finds the passthrough type of an Okta System Log event type.
func (c *Catalog) OktaPassthrough(oktaEventType string) (*Type, bool) {
	t, ok := c.byName["okta."+oktaEventType]
	// okta.verify.email is a passthrough type too, but the inline hook's:
	// only a type that this System Log event type raises qualifies, or an
	// event of type "verify.email" would be published with the wrong payload.
	if !ok || t.Kind != KindPassthrough || !slices.Equal(t.SourceEventTypes, []string{oktaEventType}) {
		return nil, false
	}
	return t, true
}

// SyncTypesFor returns the sync types whose rows name provider, sorted.
func (c *Catalog) SyncTypesFor(provider string) []*Type {
	var out []*Type
	for _, t := range c.types {
		if t.Kind == KindSync && slices.Contains(t.Providers, provider) {
			out = append(out, t)
		}
	}
	return out
}

// OutcomeType returns the outcome type a provider publishes for a sync
// event, or for a report it applied (idsync.reconcile.report).
func (c *Catalog) OutcomeType(provider, syncEvent string) (*Type, bool) {
	return c.Lookup(outcomeName(provider, syncEvent))
}

func outcomeName(provider, syncEvent string) string {
	return "outcome." + provider + "." + syncEvent
}

var defaultCatalog = sync.OnceValues(build)

// Default returns the catalog built from this package's data. It panics only
// if the embedded data is corrupt, which TestCatalog rules out.
func Default() *Catalog {
	c, err := defaultCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

func build() (*Catalog, error) {
	c := &Catalog{
		byName:    map[string]*Type{},
		bySubject: map[string]*Type{},
		oktaSync:  map[string]*Type{},
		console:   map[string]*Type{},
	}
	add := func(t *Type) error {
		if t.AddedIn == "" {
			t.AddedIn = Version
		}
		if _, dup := c.byName[t.Name]; dup {
			return fmt.Errorf("events: duplicate type %q", t.Name)
		}
		if _, dup := c.bySubject[t.Subject]; dup {
			return fmt.Errorf("events: duplicate subject %q", t.Subject)
		}
		c.byName[t.Name] = t
		c.bySubject[t.Subject] = t
		c.types = append(c.types, t)
		return nil
	}
	for _, t := range idsyncTypes() {
		if err := add(t); err != nil {
			return nil, err
		}
		switch {
		case t.Source == SourceConsole:
			for _, n := range t.SourceEventTypes {
				c.console[n] = t
			}
		case t.Source == SourceOkta && t.Kind == KindSync:
			for _, n := range t.SourceEventTypes {
				// Deactivate is listed as a source of okta.delete.user for
				// the documentation, but deletes only when the operator
				// opts in (oktahook.Routing.DeactivateDeletes). Leaving it
				// out here keeps every caller of OktaSync fail-safe.
				if n == OktaUserDeactivate {
					continue
				}
				c.oktaSync[n] = t
			}
		}
	}
	for _, t := range reportTypes() {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	okta, err := oktaTypes()
	if err != nil {
		return nil, err
	}
	for _, t := range okta {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	for _, t := range append(outcomeTypes(c.types), guardTypes()...) {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	sort.Slice(c.types, func(i, j int) bool { return c.types[i].Name < c.types[j].Name })
	return c, nil
}

// payloadOf returns the message type of a generated payload.
func payloadOf(m interface{ ProtoReflect() protoreflect.Message }) protoreflect.MessageType {
	return m.ProtoReflect().Type()
}
