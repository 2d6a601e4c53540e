package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// Num formats a count or rate: thousands separated from 100 up, with
// decimals below.
func Num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100:
		return grouped(int64(math.Round(v)))
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// Millis formats milliseconds with three significant digits (0.412, 4.12,
// 41.2, 412, 4,120).
func Millis(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100:
		return grouped(int64(math.Round(v)))
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// Ratio2 formats a ratio with two decimals.
func Ratio2(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func grouped(n int64) string {
	s := strconv.FormatInt(max(n, -n), 10)
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Cell formats a summary as "median (min–max)", or just the median when
// there was one run or no spread; "—" when nothing was measured.
func Cell(s Summary, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	m := f(s.Median)
	if s.N == 1 || f(s.Min) == f(s.Max) {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, f(s.Min), f(s.Max))
}

// Bytes formats a size in the units the gateway's configuration uses.
func Bytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
