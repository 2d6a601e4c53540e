module github.com/idsync/idsync/services/gateway

go 1.26

require (
	github.com/idsync/idsync/pkg v0.0.0
	github.com/idsync/idsync/proto v0.0.0
)

replace (
	github.com/idsync/idsync/pkg => ../../pkg
	github.com/idsync/idsync/proto => ../../proto
)
