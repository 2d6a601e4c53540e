package plan

import (
	"strings"

	"github.com/idsync/idsync/pkg/rules"
)

type rulesContext = rules.Context

// Key builds a target key "<kind>:<name>", the form the ledger stores.
func Key(kind, name string) string { return kind + ":" + name }

// SplitKey returns the kind and name of a target key.
func SplitKey(key string) (kind, name string) {
	kind, name, _ = strings.Cut(key, ":")
	return kind, name
}

func kindOf(key string) string {
	k, _, _ := strings.Cut(key, ":")
	return k
}

func nameOf(key string) string {
	_, n, _ := strings.Cut(key, ":")
	return n
}
