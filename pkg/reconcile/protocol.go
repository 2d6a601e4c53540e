package reconcile

// The on-demand endpoint's wire format (README "Reconciliation"). A request
// is a NATS request on <ns>.reconcile.<provider> (queue group: the
// consumer's name, so one replica answers) whose body is a Request. A 10,000
// person report is several megabytes, beyond NATS's maximum payload, so
// the answer is a stream of messages to the request's reply subject, each
// marked by HeaderPart:
//
//	started   once the run holds the provider's lock: Started (JSON)
//	progress  every Started.HeartbeatMS while it runs: Progress (JSON)
//	items     the items, as JSON lines (one Item per line), numbered by
//	          HeaderChunk from 1
//	report    last: the report (JSON, "items": null) with the number of
//	          items messages sent ("chunks")
//	error     last: {status, code, message} as pkg/apierror writes it, and
//	          the code in HeaderErrorCode; instead of started for a bad
//	          request (invalid_json, invalid_request) or a provider already
//	          being reconciled (reconcile_busy)
//
// A run that fails after it started still ends with a report, whose error
// says why.
const (
	HeaderPart      = "Idsync-Reconcile-Part"
	HeaderChunk     = "Idsync-Reconcile-Chunk"
	HeaderErrorCode = "Idsync-Error-Code"

	PartStarted  = "started"
	PartProgress = "progress"
	PartItems    = "items"
	PartReport   = "report"
	PartError    = "error"
)

// Started is the first answer to a request.
type Started struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Consumer string `json:"consumer"`
	// HeartbeatMS is the interval of progress messages: a requester that
	// hears nothing for a few of them can tell the replica is gone.
	HeartbeatMS int64 `json:"heartbeatMs"`
}

// Progress is a heartbeat: where the run is.
type Progress struct {
	// Phase is diff (listing and comparing) or apply.
	Phase string `json:"phase"`
	// Done and Total count items while applying.
	Done  int `json:"done"`
	Total int `json:"total"`
}

// final is the report message: the report without its items, and how
// many items messages came before it.
type final struct {
	Report
	Chunks int `json:"chunks"`
}
