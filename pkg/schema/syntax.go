package schema

import (
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

func asSyntactic(err error, target **jsontext.SyntacticError) bool { return errors.As(err, target) }

// syntaxReason names the kind of syntax error without quoting the input,
// which may hold personal data.
func syntaxReason(se *jsontext.SyntacticError) string {
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return "duplicate object member name"
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	default:
		return "syntax error (an unexpected character, invalid UTF-8 or nesting too deep)"
	}
}
