package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/idsync/idsync/bench/payload"
)

// Write renders r as markdown.
func Write(w io.Writer, r *Results) error {
	var b strings.Builder
	writeHeader(&b, r)
	writeTargets(&b, r)
	writeLimit(&b, r)
	writeCurve(&b, r)
	writeDeliveries(&b, r)
	writeSizes(&b, r)
	writeOpen(&b, r)
	writeGoBench(&b, r)
	writeNotes(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// SingleBody is the delivery of the concurrency curve and the size curve.
const SingleBody = "okta-1"

// CurveKey is the closed-loop scenario of target at senders with the 1 KiB
// single-event delivery.
func CurveKey(target string, senders int) Key {
	return Key{Target: target, Body: SingleBody, Size: 1 << 10, Senders: senders}
}

// SizeKey is the closed-loop scenario of target at senders with the
// single-event delivery padded to size.
func SizeKey(target string, senders, size int) Key {
	return Key{Target: target, Body: SingleBody, Size: size, Senders: senders}
}

// OpenKey is the open-loop gateway scenario with pool connections.
func OpenKey(pool int) Key {
	return Key{Target: Gateway, Body: SingleBody, Size: 1 << 10, Senders: pool, Open: true}
}

// Describe names a scenario in prose, for progress lines and notes.
func Describe(k Key) string {
	body := k.Body
	if k.Size > 0 {
		body += " " + payload.Size(k.Size)
	}
	switch {
	case k.Open:
		return fmt.Sprintf("%s %s open-loop (%d connections)", k.Target, body, k.Senders)
	case k.Target == RawAsync:
		return fmt.Sprintf("%s %s window %d", k.Target, body, k.Senders)
	case k.Target == RawConsume:
		return fmt.Sprintf("%s %s", k.Target, body)
	}
	return fmt.Sprintf("%s %s ×%d", k.Target, body, k.Senders)
}

// table writes a markdown table, its first column (the first two when the
// second holds names, as benchmarks do) left-aligned and the figures right.
func table(b *strings.Builder, header []string, rows [][]string) {
	left := 1
	if len(header) > 1 && header[1] == "benchmark" {
		left = 2
	}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i < left {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
