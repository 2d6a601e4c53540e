// Package schemas holds the JSON Schemas of the webhooks idsync accepts: the
// Mia-Platform Console events (seed 001, made lenient where the published
// schemas reject their own examples) and the Okta event hook and registration
// inline hook requests. The gateway compiles them at start.
package schemas

import "embed"

// FS holds console/*.json, okta/*.json and rules/*.json (the requirement schemas of seed 000). Schemas refer to each other by
// relative $ref; their $id base is https://idsync.invalid/schemas/.
//
//go:embed console/*.json okta/*.json rules/*.json
var FS embed.FS

// BaseURL is the common prefix of every schema's $id.
const BaseURL = "https://idsync.invalid/schemas/"
