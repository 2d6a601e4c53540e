// Package natsconf holds no code: deploy/nats is the NATS server
// configuration of idsync (accounts.conf, cluster/nats-N.conf), and its test
// boots a server with it and proves each service's user may do what the
// service does and nothing else.
package natsconf
