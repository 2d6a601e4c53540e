// Package faults is idsync's fault suite (`make faults`; a short form runs
// in `make test`): every scenario runs the real services as processes on
// loopback — nats-server, the gateway, the four sync consumers and the
// event log — against stateful provider fakes served by the test, injects
// a fault under load (a signal, a crash, an outage, a full store), and then
// checks the ledger: every request answered 2xx is in the events stream
// exactly once, every event has its effect at every provider it should
// exactly once, and nothing is dropped without a dead letter saying why.
// RELIABILITY.md at the repository root publishes the figures of a long
// run and the commands that reproduce them.
package faults
