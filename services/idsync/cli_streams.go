package idsync

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
)

// runStreams is `idsync streams [NAME]`: the configuration and state of
// idsync's streams, as a table, one described in full, or (--json) in the
// JetStream API's own shape (as `nats stream info --json`).
func runStreams(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idsync streams", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env, rest, err := connectCLI(ctx, "idsync streams", args, getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	name, err := oneName("stream", rest)
	if err != nil {
		return err
	}
	infos, err := streamInfos(ctx, env.conn.JS, env.ns, name)
	if err != nil {
		return err
	}
	if env.json {
		return env.print(infos, nil, nil)
	}
	if name == "" {
		rows := make([][]string, 0, len(infos))
		for _, si := range infos {
			s := newStreamStatus(si)
			rows = append(rows, []string{si.Config.Name, strings.Join(si.Config.Subjects, ","), strconv.FormatUint(si.State.Msgs, 10),
				humanBytes(si.State.Bytes), percent(s.BytesUsedPct), age(si.Config.MaxAge), strconv.Itoa(si.State.Consumers)})
		}
		return env.print(nil, []string{"STREAM", "SUBJECTS", "MESSAGES", "BYTES", "BYTES USED", "MAX AGE", "CONSUMERS"}, rows)
	}
	si := infos[0]
	c, st := si.Config, si.State
	s := newStreamStatus(si)
	return describe(stdout, [][2]string{
		{"stream", c.Name}, {"description", c.Description}, {"subjects", strings.Join(c.Subjects, ", ")},
		{"created", when(si.Created)},
		{"storage", c.Storage.String()}, {"replicas", strconv.Itoa(c.Replicas)}, {"retention", c.Retention.String()},
		{"discard", c.Discard.String()},
		{"max age", age(c.MaxAge)}, {"max bytes", limit(c.MaxBytes, true)}, {"max messages", limit(c.MaxMsgs, false)},
		{"duplicate window", c.Duplicates.String()}, {"allow direct", strconv.FormatBool(c.AllowDirect)},
		{"messages", strconv.FormatUint(st.Msgs, 10) + " (" + percent(s.MsgsUsedPct) + ")"},
		{"bytes", humanBytes(st.Bytes) + " (" + percent(s.BytesUsedPct) + ")"},
		{"first", fmt.Sprintf("#%d %s", st.FirstSeq, when(s.FirstTime))}, {"last", fmt.Sprintf("#%d %s", st.LastSeq, when(s.LastTime))},
		{"deleted", strconv.Itoa(st.NumDeleted)}, {"subjects stored", strconv.FormatUint(st.NumSubjects, 10)},
		{"consumers", strconv.Itoa(st.Consumers)},
	})
}

// runConsumers is `idsync consumers [NAME]`: the durable consumers on
// idsync's streams (eventlog has one per stream), as a table, described in
// full by name, or (--json) in the JetStream API's own shape.
func runConsumers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idsync consumers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env, rest, err := connectCLI(ctx, "idsync consumers", args, getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	name, err := oneName("consumer", rest)
	if err != nil {
		return err
	}
	infos, err := consumerInfos(ctx, env.conn.JS, env.ns, name)
	if err != nil {
		return err
	}
	if env.json {
		return env.print(infos, nil, nil)
	}
	if name == "" {
		rows := make([][]string, 0, len(infos))
		for _, ci := range infos {
			rows = append(rows, []string{ci.Name, ci.Stream, filters(ci.Config), strconv.FormatUint(ci.NumPending, 10), strconv.Itoa(ci.NumAckPending),
				strconv.Itoa(ci.NumRedelivered), strconv.Itoa(ci.NumWaiting), when(lastActive(ci))})
		}
		return env.print(nil, []string{"CONSUMER", "STREAM", "FILTER", "PENDING", "ACK PENDING", "REDELIVERED", "WAITING PULLS", "LAST ACTIVE"}, rows)
	}
	for i, ci := range infos {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		c := ci.Config
		if err := describe(stdout, [][2]string{
			{"consumer", ci.Name}, {"stream", ci.Stream}, {"description", c.Description}, {"created", when(ci.Created)},
			{"filter", filters(c)}, {"deliver policy", c.DeliverPolicy.String()}, {"ack policy", c.AckPolicy.String()},
			{"ack wait", c.AckWait.String()}, {"max deliver", strconv.Itoa(c.MaxDeliver)}, {"max ack pending", strconv.Itoa(c.MaxAckPending)},
			{"pending", strconv.FormatUint(ci.NumPending, 10)}, {"ack pending", strconv.Itoa(ci.NumAckPending)},
			{"redelivered", strconv.Itoa(ci.NumRedelivered)}, {"waiting pulls", strconv.Itoa(ci.NumWaiting)},
			{"delivered", fmt.Sprintf("stream #%d %s", ci.Delivered.Stream, whenPtr(ci.Delivered.Last))},
			{"ack floor", fmt.Sprintf("stream #%d %s", ci.AckFloor.Stream, whenPtr(ci.AckFloor.Last))},
		}); err != nil {
			return err
		}
	}
	return nil
}

// streamInfos reads idsync's streams, or the one named (its full name, e.g.
// IDSYNC_EVENTS, or its base name, EVENTS).
func streamInfos(ctx context.Context, js jetstream.JetStream, ns events.Namespace, name string) ([]*jetstream.StreamInfo, error) {
	var names []string
	for _, base := range idsyncStreams {
		names = append(names, ns.Stream(base))
	}
	if name != "" {
		full := name
		if !slices.Contains(names, full) {
			full = ns.Stream(strings.ToUpper(name))
		}
		if !slices.Contains(names, full) {
			return nil, fmt.Errorf("unknown stream %q (idsync's streams: %s)", name, strings.Join(names, ", "))
		}
		names = []string{full}
	}
	var out []*jetstream.StreamInfo
	for _, n := range names {
		s, err := js.Stream(ctx, n)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("stream %s does not exist: has idsync run against this NATS (namespace %q)?", n, string(ns))
		}
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", n, err)
		}
		si, err := s.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", n, err)
		}
		out = append(out, si)
	}
	return out, nil
}

// consumerInfos lists the durable consumers of idsync's streams, sorted by
// name then stream, or only those named name (an error when there is none).
func consumerInfos(ctx context.Context, js jetstream.JetStream, ns events.Namespace, name string) ([]*jetstream.ConsumerInfo, error) {
	streams, err := streamInfos(ctx, js, ns, "")
	if err != nil {
		return nil, err
	}
	out := []*jetstream.ConsumerInfo{}
	var all []string
	for _, si := range streams {
		s, err := js.Stream(ctx, si.Config.Name)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", si.Config.Name, err)
		}
		l := s.ListConsumers(ctx)
		for ci := range l.Info() {
			if ci.Config.Durable == "" {
				continue // ephemeral: a tool's ordered consumer
			}
			all = append(all, ci.Name)
			if name == "" || ci.Name == name {
				out = append(out, ci)
			}
		}
		if err := l.Err(); err != nil {
			return nil, fmt.Errorf("consumers of %s: %w", si.Config.Name, err)
		}
	}
	if name != "" && len(out) == 0 {
		slices.Sort(all)
		return nil, fmt.Errorf("unknown consumer %q (durable consumers: %s)", name, strings.Join(slices.Compact(all), ", "))
	}
	slices.SortFunc(out, func(a, b *jetstream.ConsumerInfo) int {
		return strings.Compare(a.Name+"\x00"+a.Stream, b.Name+"\x00"+b.Stream)
	})
	return out, nil
}

func filters(c jetstream.ConsumerConfig) string {
	if c.FilterSubject != "" {
		return c.FilterSubject
	}
	if len(c.FilterSubjects) == 0 {
		return "(all)"
	}
	return strings.Join(c.FilterSubjects, ",")
}

// describe prints one object as aligned "key: value" lines.
func describe(w io.Writer, kv [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, p := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], dash(p[1]))
	}
	return tw.Flush()
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func age(d time.Duration) string {
	if d == 0 {
		return "no limit"
	}
	return d.String()
}

func limit(n int64, bytes bool) string {
	if n <= 0 {
		return "no limit"
	}
	if bytes {
		return humanBytes(uint64(n))
	}
	return strconv.FormatInt(n, 10)
}

// oneName is the optional NAME argument of `idsync streams` or `consumers`.
func oneName(what string, rest []string) (string, error) {
	switch len(rest) {
	case 0:
		return "", nil
	case 1:
		return rest[0], nil
	}
	return "", fmt.Errorf("%ss: one %s name at most, got %q", what, what, rest)
}
