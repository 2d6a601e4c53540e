package payload

import (
	"bytes"
	"fmt"
	"strconv"
)

// A template is a JSON document with holes, written once and filled per
// request by appending bytes: building a body costs the load generator
// next to nothing. Holes are JSON strings "@@ID@@" (the delivery id),
// "@@EV<j>@@" (the id of the j-th event: id-j) and "@@TS@@" (replaced, quotes
// included, by a number).
type template struct {
	parts [][]byte // literal text around the holes: len(holes)+1
	holes []hole
}

type hole struct {
	kind  byte // 'I' id, 'E' event id, 'T' timestamp
	event int
}

func parseTemplate(doc []byte) (template, error) {
	var t template
	for {
		i := bytes.Index(doc, []byte(`"@@`))
		if i < 0 {
			t.parts = append(t.parts, doc)
			return t, nil
		}
		j := bytes.Index(doc[i+3:], []byte(`@@"`))
		if j < 0 {
			return template{}, fmt.Errorf("payload: unterminated hole at %d", i)
		}
		name := string(doc[i+3 : i+3+j])
		var h hole
		switch {
		case name == "ID":
			h.kind = 'I'
		case name == "TS":
			h.kind = 'T'
		case len(name) > 2 && name[:2] == "EV":
			n, err := strconv.Atoi(name[2:])
			if err != nil {
				return template{}, fmt.Errorf("payload: hole %q", name)
			}
			h = hole{kind: 'E', event: n}
		default:
			return template{}, fmt.Errorf("payload: unknown hole %q", name)
		}
		t.parts = append(t.parts, doc[:i])
		t.holes = append(t.holes, h)
		doc = doc[i+3+j+3:]
	}
}

// fill appends the document with id and ts in its holes. id must not need
// JSON escaping.
func (t template) fill(dst []byte, id string, ts int64) []byte {
	for i, h := range t.holes {
		dst = append(dst, t.parts[i]...)
		switch h.kind {
		case 'I':
			dst = append(append(append(dst, '"'), id...), '"')
		case 'E':
			dst = append(append(append(dst, '"'), id...), '-')
			dst = append(strconv.AppendInt(dst, int64(h.event), 10), '"')
		case 'T':
			dst = strconv.AppendInt(dst, ts, 10)
		}
	}
	return append(dst, t.parts[len(t.parts)-1]...)
}
