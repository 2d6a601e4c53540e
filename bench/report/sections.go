package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idsync/idsync/bench/payload"
)

func writeLimit(b *strings.Builder, r *Results) {
	type row struct {
		label, ref string
		key        Key
	}
	var rs []row
	for _, c := range r.Concurrency {
		ref := map[int]string{1: "≈ 6,000", 64: "≈ 43,000"}[c]
		rs = append(rs, row{fmt.Sprintf("sync publish, %d publisher%s", c, plural(c)), ref, CurveKey(RawSync, c)})
	}
	rs = append(rs,
		row{fmt.Sprintf("async publish, window %d", r.AsyncWindow), "≈ 60,000", Key{Target: RawAsync, Body: SingleBody, Size: 1 << 10, Senders: r.AsyncWindow}},
		row{"pull consume with explicit acks", "≈ 85,000", Key{Target: RawConsume, Body: SingleBody, Size: 1 << 10, Senders: 1}})
	var rows [][]string
	for _, x := range rs {
		s := r.Samples[x.key]
		if len(s) == 0 {
			continue
		}
		rows = append(rows, []string{x.label, Cell(Of(s, rate), Num), Cell(Of(s, p50), Millis), Cell(Of(s, p99), Millis),
			Cell(Of(s, cpu(ProcNATS)), Num), Cell(Of(s, cpu(ProcMachine)), Num), failures(s), x.ref})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## 1. The limit: raw JetStream\n\nThe harness's own JetStream client (github.com/nats-io/nats.go/jetstream, one connection) publishing the 1 KiB single-event Okta delivery, each message with a unique `Nats-Msg-Id` as the gateway does, into a copy of the gateway's events stream on the same server; the consumer reads what the async publish stored. Latency is per publish (sync) — the async and consume rows have none.\n\n")
	table(b, []string{"probe", "msg/s", "p50 ms", "p99 ms", "nats CPU µs/msg", "machine CPU µs/msg", "failed", "reference (issue)"}, rows)
	writeFailures(b, r, func(k Key) bool { return k.Target == RawAsync || k.Target == RawConsume })
}

func writeCurve(b *strings.Builder, r *Results) {
	var rows, res [][]string
	for _, c := range r.Concurrency {
		raw, relay, gw := r.Samples[CurveKey(RawSync, c)], r.Samples[CurveKey(Relay, c)], r.Samples[CurveKey(Gateway, c)]
		if len(raw)+len(relay)+len(gw) == 0 {
			continue
		}
		rows = append(rows, []string{fmt.Sprint(c),
			Cell(Of(raw, rate), Num), Cell(Of(relay, rate), Num), Cell(Of(gw, rate), Num),
			Cell(Summarize(Ratio(relay, raw, rate)), Ratio2), Cell(Summarize(Ratio(gw, raw, rate)), Ratio2), Cell(Summarize(Ratio(gw, relay, rate)), Ratio2),
			Cell(Of(raw, p99), Millis), Cell(Of(relay, p99), Millis), Cell(Of(gw, p50), Millis), Cell(Of(gw, p99), Millis)})
		res = append(res, []string{fmt.Sprint(c),
			Cell(Of(gw, cpu(ProcGateway)), Num), Cell(Of(gw, cpu(ProcNATS)), Num), Cell(Of(gw, cpu(ProcMachine)), Num),
			Cell(Of(relay, cpu(ProcRelay)), Num), Cell(Of(relay, cpu(ProcNATS)), Num), Cell(Of(relay, cpu(ProcMachine)), Num),
			Cell(Of(gw, allocs), Num), Cell(Of(gw, allocKiB), Num),
			Cell(Of(gw, rss(ProcGateway)), Num), Cell(Of(relay, rss(ProcRelay)), Num)})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## 2. Cost curve: concurrent senders (1 KiB single-event Okta delivery)\n\nClosed loop: each sender sends its next request (or publish) as soon as the previous one is answered, on its own keep-alive connection. `raw` publishes synchronously from that many goroutines; the naive relay (`idsync-bench relay`: read the body, `js.Publish`, 200) and the gateway (auth, bounded read, strict JSON, schema, mapping, publish with dedupe id, ack) are separate processes on loopback.\n\n")
	table(b, []string{"senders", "raw msg/s", "relay req/s", "gateway req/s", "relay/raw", "gateway/raw", "gateway/relay", "raw p99 ms", "relay p99 ms", "gateway p50 ms", "gateway p99 ms"}, rows)
	b.WriteString("CPU per request (µs) and memory of the same runs:\n\n")
	table(b, []string{"senders", "gateway CPU", "nats CPU (gw)", "machine CPU (gw)", "relay CPU", "nats CPU (relay)", "machine CPU (relay)", "gateway allocs/req", "gateway KiB alloc/req", "gateway peak RSS MiB", "relay peak RSS MiB"}, res)
	writeFailures(b, r, func(k Key) bool {
		return !k.Open && k.Size == 1<<10 && k.Body == SingleBody && (k.Target == Gateway || k.Target == Relay || k.Target == RawSync)
	})
}

func writeDeliveries(b *strings.Builder, r *Results) {
	var keys []Key
	for k := range r.Samples {
		if k.Target == Gateway && !k.Open && k.Senders == r.Curve && (k.Body != SingleBody || k.Size == 1<<10) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.SortFunc(keys, func(a, b Key) int {
		oa, ob := strings.HasPrefix(a.Body, "okta"), strings.HasPrefix(b.Body, "okta")
		if oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Body, b.Body)
	})
	var rows [][]string
	for _, k := range keys {
		s := r.Samples[k]
		rows = append(rows, []string{"`" + k.Body + "`", Cell(Of(s, rate), Num), Cell(Of(s, events), Num), Cell(Of(s, p50), Millis), Cell(Of(s, p90), Millis), Cell(Of(s, p99), Millis), Cell(Of(s, maxLat), Millis),
			Cell(Of(s, cpu(ProcGateway)), Num), Cell(Of(s, allocs), Num), Cell(Of(s, rss(ProcGateway)), Num), failures(s)})
	}
	fmt.Fprintf(b, "## 3. Gateway, full path, by delivery (%d senders)\n\n`okta-1`: one `user.lifecycle.create` event built from Okta's public sample, trimmed to 1 KiB; `okta-20`: twenty such events in one delivery (each published on its own, all or nothing); `console/*`: every Console webhook type from the repository's samples, signed with `X-Mia-Signature`, a fresh `eventTimestamp` each time. Every event id is new, so deduplication never short-circuits a publish.\n\n", r.Curve)
	table(b, []string{"delivery", "req/s", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "gateway CPU µs/req", "allocs/req", "peak RSS MiB", "failed"}, rows)
	writeFailures(b, r, func(k Key) bool {
		return k.Target == Gateway && !k.Open && k.Senders == r.Curve && k.Body != SingleBody
	})
}

func writeSizes(b *strings.Builder, r *Results) {
	var rows [][]string
	for _, size := range r.Sizes {
		if r.MaxBody > 0 && size > r.MaxBody {
			rows = append(rows, []string{payload.Size(size), "", "", fmt.Sprintf("refused by design: above the gateway's body limit (IDSYNC_MAX_BODY_BYTES = %s)", Bytes(r.MaxBody)), "", "", "", "", "", "", ""})
			continue
		}
		raw, relay, gw := r.Samples[SizeKey(RawSync, r.Curve, size)], r.Samples[SizeKey(Relay, r.Curve, size)], r.Samples[SizeKey(Gateway, r.Curve, size)]
		if len(raw)+len(relay)+len(gw) == 0 {
			continue
		}
		rows = append(rows, []string{payload.Size(size), Cell(Of(raw, rate), Num), Cell(Of(relay, rate), Num), Cell(Of(gw, rate), Num),
			Cell(Summarize(Ratio(gw, raw, rate)), Ratio2), Cell(Summarize(Ratio(gw, relay, rate)), Ratio2),
			Cell(Of(relay, p99), Millis), Cell(Of(gw, p99), Millis), Cell(Of(gw, cpu(ProcGateway)), Num),
			Cell(Of(relay, rss(ProcRelay)), Num), Cell(Of(gw, rss(ProcGateway)), Num)})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "## 4. Cost curve: body size (%d senders)\n\nThe single-event delivery padded with a `debugContext.debugData` string (free-form in Okta's schema and left open by idsync's). The gateway keeps at most `IDSYNC_RAW_PAYLOAD_MAX_BYTES` (64 KiB) of the source payload in the event it publishes; the relay and the raw probe publish the whole body.\n\n", r.Curve)
	table(b, []string{"body", "raw msg/s", "relay req/s", "gateway req/s", "gateway/raw", "gateway/relay", "relay p99 ms", "gateway p99 ms", "gateway CPU µs/req", "relay peak RSS MiB", "gateway peak RSS MiB"}, rows)
	writeFailures(b, r, func(k Key) bool { return !k.Open && k.Body == SingleBody && k.Size != 1<<10 })
}

func writeOpen(b *strings.Builder, r *Results) {
	var rows [][]string
	for k, s := range r.Samples {
		if !k.Open {
			continue
		}
		rows = append(rows, []string{Cell(Of(s, func(s Sample) float64 { return s.Offered }), Num), Cell(Of(s, rate), Num),
			Cell(Of(s, p50), Millis), Cell(Of(s, p90), Millis), Cell(Of(s, p99), Millis), Cell(Of(s, maxLat), Millis),
			Cell(Of(s, cpu(ProcGateway)), Num), Cell(Of(s, rss(ProcGateway)), Num), failures(s)})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## 5. Gateway, open loop at half its maximum rate\n\nRequests (1 KiB single-event deliveries) are scheduled at a fixed rate — half the highest gateway rate of the concurrency curve in the same run — over a pool of keep-alive connections; each latency runs from the request's scheduled time, so queueing in the generator or the gateway counts (no coordinated omission).\n\n")
	table(b, []string{"offered req/s", "achieved req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "gateway CPU µs/req", "peak RSS MiB", "failed"}, rows)
	writeFailures(b, r, func(k Key) bool { return k.Open })
}
