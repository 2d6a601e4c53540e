package oktahook

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// The event hook's envelope and events are read from the document
// schema.Decode built, not by decoding the body a second time with
// encoding/json (which the gateway's profile showed at an eighth of its
// CPU). The reading follows encoding/json's rules exactly, so the fields
// are the ones json.Unmarshal into the former structs gave:
//
//   - a field takes the member of its name, or else the one member whose
//     name equals it but for case (schema.Decode refuses two such members,
//     so there is never a choice to make);
//   - null leaves a field empty; a value of another JSON type than the field's
//     is an error (a schema_violation for the caller).

// errType is a member whose JSON type does not fit the field it is read into.
var errType = errors.New("a member has the wrong JSON type")

// member returns the member of m named name as encoding/json would find it.
func member(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// str reads a string field.
func str(m map[string]any, name string, dst *string) error {
	v, ok := member(m, name)
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s: %w", name, errType)
	}
	*dst = s
	return nil
}

// object reads an object field: nil when absent or null.
func object(m map[string]any, name string) (map[string]any, error) {
	v, ok := member(m, name)
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, errType)
	}
	return o, nil
}

// array reads an array field: nil when absent or null.
func array(m map[string]any, name string) ([]any, bool, error) {
	v, ok := member(m, name)
	if !ok || v == nil {
		return nil, false, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("%s: %w", name, errType)
	}
	return a, true, nil
}

// fromDoc fills le (a zero LogEvent) from a decoded System Log event: the
// value json.Unmarshal of the event gives.
func (le *LogEvent) fromDoc(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errType
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"uuid", &le.UUID}, {"published", &le.Published}, {"eventType", &le.EventType}, {"severity", &le.Severity}, {"displayMessage", &le.DisplayMessage}} {
		if err := str(m, f.name, f.dst); err != nil {
			return err
		}
	}
	if o, err := object(m, "actor"); err != nil {
		return err
	} else if o != nil {
		le.Actor = &Entity{}
		if err := le.Actor.fromDoc(o); err != nil {
			return err
		}
	}
	if o, err := object(m, "client"); err != nil {
		return err
	} else if o != nil {
		le.Client = &Client{}
		if err := str(o, "ipAddress", &le.Client.IPAddress); err != nil {
			return err
		}
		ua, err := object(o, "userAgent")
		if err != nil {
			return err
		}
		if ua != nil {
			le.Client.UserAgent = &struct {
				RawUserAgent string `json:"rawUserAgent"`
			}{}
			if err := str(ua, "rawUserAgent", &le.Client.UserAgent.RawUserAgent); err != nil {
				return err
			}
		}
	}
	if o, err := object(m, "outcome"); err != nil {
		return err
	} else if o != nil {
		le.Outcome = &Outcome{}
		if err := str(o, "result", &le.Outcome.Result); err != nil {
			return err
		}
		if err := str(o, "reason", &le.Outcome.Reason); err != nil {
			return err
		}
	}
	targets, ok, err := array(m, "target")
	if err != nil {
		return err
	}
	if ok {
		le.Target = make([]Entity, len(targets))
		for i, t := range targets {
			if err := le.Target[i].fromDoc(t); err != nil {
				return err
			}
		}
	}
	if o, err := object(m, "transaction"); err != nil {
		return err
	} else if o != nil {
		le.Transaction = &struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}{}
		if err := str(o, "type", &le.Transaction.Type); err != nil {
			return err
		}
		if err := str(o, "id", &le.Transaction.ID); err != nil {
			return err
		}
	}
	return nil
}

// fromDoc fills e from an actor or target: null leaves it empty.
func (e *Entity) fromDoc(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errType
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"id", &e.ID}, {"type", &e.Type}, {"alternateId", &e.AlternateID}, {"displayName", &e.DisplayName}} {
		if err := str(m, f.name, f.dst); err != nil {
			return err
		}
	}
	return nil
}

// skimmers are reusable decoders for eventSpans.
var skimmers = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewBuffer(nil)) }}

// eventSpans returns the bytes of each element of data.events in body (a
// body schema.Decode accepted), exactly as received: the raw events kept for
// audit. Members are matched as member matches them.
func eventSpans(body []byte) ([][]byte, error) {
	dec := skimmers.Get().(*jsontext.Decoder)
	dec.Reset(bytes.NewBuffer(body))
	defer func() {
		dec.Reset(bytes.NewBuffer(nil))
		skimmers.Put(dec)
	}()
	if err := enter(dec, '{', "data"); err != nil {
		return nil, err
	}
	if err := enter(dec, '{', "events"); err != nil {
		return nil, err
	}
	if tok, err := dec.ReadToken(); err != nil {
		return nil, err
	} else if tok.Kind() != '[' {
		return nil, errType
	}
	var spans [][]byte
	for dec.PeekKind() != ']' {
		start := dec.InputOffset()
		if err := dec.SkipValue(); err != nil {
			return nil, err
		}
		end := dec.InputOffset()
		spans = append(spans, bytes.TrimLeft(body[start:end], " \t\r\n,"))
	}
	return spans, nil
}

// enter reads the next value, an object, up to the value of its member name
// (matched as member does).
func enter(dec *jsontext.Decoder, kind jsontext.Kind, name string) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != kind {
		return errType
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if strings.EqualFold(tok.String(), name) {
			return nil
		}
		if err := dec.SkipValue(); err != nil {
			return err
		}
	}
	return fmt.Errorf("no member %s", name)
}
