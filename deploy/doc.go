// Package deploy holds no code: it is the module whose tests load what
// runs idsync elsewhere — the compose file, the Kubernetes manifests, the
// NATS accounts, the Grafana dashboards and the Prometheus rules — and
// check them against the code they configure.
package deploy
