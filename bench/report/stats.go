package report

import (
	"math"
	"slices"
)

// Summary is the median and range of one figure over the runs.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the median (of an even count, the mean of the middle
// two), min and max of vs, leaving out NaNs.
func Summarize(vs []float64) Summary {
	s := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return Summary{}
	}
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// Of summarises f over samples.
func Of(samples []Sample, f func(Sample) float64) Summary {
	vs := make([]float64, len(samples))
	for i, s := range samples {
		vs[i] = f(s)
	}
	return Summarize(vs)
}

// Ratio pairs num and den by run and returns, per run present in both,
// f(num)/f(den); a run whose denominator is 0 is left out. Ratios are taken
// within a run because runs differ (the machine's other load, the file
// store's state) more than the scenarios of one run do.
func Ratio(num, den []Sample, f func(Sample) float64) []float64 {
	byRun := map[int]float64{}
	for _, d := range den {
		byRun[d.Run] = f(d)
	}
	var out []float64
	for _, n := range num {
		if d, ok := byRun[n.Run]; ok && d != 0 {
			out = append(out, f(n)/d)
		}
	}
	return out
}

// Figures of a sample, for Of and Ratio.
func rate(s Sample) float64     { return s.Rate }
func events(s Sample) float64   { return s.Rate * float64(max(s.Events, 1)) }
func p50(s Sample) float64      { return nonzero(ms(s.P50)) }
func p90(s Sample) float64      { return nonzero(ms(s.P90)) }
func p99(s Sample) float64      { return nonzero(ms(s.P99)) }
func maxLat(s Sample) float64   { return nonzero(ms(s.Max)) }
func allocs(s Sample) float64   { return nonzero(s.Allocs) }
func allocKiB(s Sample) float64 { return nonzero(s.AllocBytes / 1024) }

func cpu(proc string) func(Sample) float64 {
	return func(s Sample) float64 {
		d, ok := s.CPU[proc]
		if !ok {
			return math.NaN()
		}
		return float64(d.Nanoseconds()) / 1e3 // µs
	}
}

func rss(proc string) func(Sample) float64 {
	return func(s Sample) float64 {
		b, ok := s.PeakRSS[proc]
		if !ok || b <= 0 {
			return math.NaN()
		}
		return float64(b) / (1 << 20) // MiB
	}
}

func nonzero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}
