package natsconf_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestClusterConfigs loads the three nodes' files as nats-server does and
// checks they make one cluster of three JetStream servers with every user of
// accounts.conf.
func TestClusterConfigs(t *testing.T) {
	setPasswords(t)
	for n := 1; n <= 3; n++ {
		name := fmt.Sprintf("nats-%d", n)
		opts, err := server.ProcessConfigFile("cluster/" + name + ".conf")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if opts.ServerName != name || opts.Port != 4222 || opts.HTTPPort != 8222 || !opts.JetStream || opts.StoreDir != "/data" {
			t.Errorf("%s: server_name %q, port %d, http %d, jetstream %v, store_dir %q", name, opts.ServerName, opts.Port, opts.HTTPPort, opts.JetStream, opts.StoreDir)
		}
		if opts.Cluster.Name != "idsync" || opts.Cluster.Port != 6222 || len(opts.Routes) != 3 {
			t.Errorf("%s: cluster %q on %d with %d routes", name, opts.Cluster.Name, opts.Cluster.Port, len(opts.Routes))
		}
		for i, r := range opts.Routes {
			if want := fmt.Sprintf("nats-%d:6222", i+1); r.Host != want {
				t.Errorf("%s: route %d is %s, want %s", name, i, r.Host, want)
			}
		}
		var got []string
		for _, u := range opts.Users {
			if u.Account != nil && u.Account.Name == "IDSYNC" {
				got = append(got, u.Username)
			}
		}
		want := slices.Clone(users)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: users of account IDSYNC %v, want %v", name, got, want)
		}
		if opts.SystemAccount != "SYS" {
			t.Errorf("%s: system account %q", name, opts.SystemAccount)
		}
	}
}
