package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/idsync/idsync/services/eventlog/store"
)

// BenchOpener returns an empty store for one benchmark; the benchmark
// closes it.
type BenchOpener func(b *testing.B) store.Store

// BulkLoader is a store with a faster way to load many new records than
// Insert (PostgreSQL's COPY), and a way to bring the database, after such a
// load, to the state its background upkeep reaches in time (PostgreSQL's
// VACUUM ANALYZE: visibility map, hint bits, planner statistics), so that
// queries are measured in that steady state rather than while first reads
// rewrite freshly loaded pages. The benchmarks use it when there is one.
type BulkLoader interface {
	BulkLoad(ctx context.Context, recs []store.Record) (int, error)
	Vacuum(ctx context.Context) error
}

// benchPersons is how many people the benchmark records are about.
const benchPersons = 10_000

// BenchRows is IDSYNC_BENCH_ROWS, the number of records BenchQueryByUser
// loads: 100,000 unless set.
func BenchRows() int {
	if n, err := strconv.Atoi(os.Getenv("IDSYNC_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchRecord is the i-th of a run of records about benchPersons people,
// occurring at when.
func benchRecord(prefix string, i int, when time.Time) store.Record {
	p := i % benchPersons
	return store.Record{
		ID: fmt.Sprintf("%s-%d", prefix, i), Kind: store.KindEvent, Occurred: when, Received: when.Add(time.Second),
		Type: "okta.update.user", EventType: "okta.UserUpdatedEvent", EventName: "Okta User Updated",
		PersonID: fmt.Sprintf("00u%06d", p), PersonEmail: fmt.Sprintf("User%06d@Example.com", p), PersonLogin: fmt.Sprintf("user%06d@example.com", p),
		Actor: fmt.Sprintf("admin%02d@example.com", i%50), ActorID: fmt.Sprintf("00uadmin%02d", i%50), ClientIP: "192.0.2.1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", Partition: "default",
		Subject: "idsync.events.okta.update.user", Stream: "IDSYNC_EVENTS", StreamSeq: uint64(i + 1),
		Payload: fmt.Appendf(nil, `{"user":{"id":"00u%06d","login":"user%06d@example.com","firstName":"First","lastName":"Last","department":"Engineering"},"changed":["department","title"]}`, p, p),
	}
}

// BenchIngest measures Insert of new records in batches of 1, 100 and
// 1000, reported as events/s.
func BenchIngest(b *testing.B, open BenchOpener) {
	s := open(b)
	defer s.Close()
	next := 0
	now := time.Now()
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			batch := make([]store.Record, size)
			for b.Loop() {
				for i := range batch {
					// The last 30 days, as a live ingest sees them.
					batch[i] = benchRecord("ingest", next, now.Add(-time.Duration(next%43_200)*time.Minute))
					next++
				}
				if _, err := s.Insert(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchQueryByUser loads rows records about 10,000 people over the last
// 90 days, oldest first, then measures Query{UserID, Limit: 50} for random
// people, reporting the latency's p50 and p99 in milliseconds.
func BenchQueryByUser(b *testing.B, open BenchOpener, rows int) {
	s := open(b)
	defer s.Close()
	BenchLoad(b, s, rows)
	b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
		BenchLatency(b, rows, func(user string) (int, error) {
			p, err := s.Query(context.Background(), store.Query{UserID: user, Limit: BenchPage})
			return len(p.Records), err
		})
	})
}

// BenchPage is the page size the query benchmarks ask for.
const BenchPage = 50

// BenchLatency calls query for random people of the BenchLoad records, as
// the API is asked: by id, email (in any case) or login alike. query
// returns how many records it got, which must be a full page (or all the
// person's records). It reports the latency's p50 and p99 in milliseconds.
func BenchLatency(b *testing.B, rows int, query func(user string) (int, error)) {
	rng := rand.New(rand.NewPCG(1, 2))
	var took []time.Duration
	for b.Loop() {
		r := benchRecord("", rng.IntN(benchPersons), time.Time{})
		user := []string{r.PersonID, r.PersonEmail, r.PersonLogin}[rng.IntN(3)]
		start := time.Now()
		n, err := query(user)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if want := min(rows/benchPersons, BenchPage); n < want {
			b.Fatalf("%s: %d records, want %d", user, n, want)
		}
	}
	slices.Sort(took)
	ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.50), "p50_ms")
	b.ReportMetric(ms(0.99), "p99_ms")
}

// BenchLoad writes rows records about 10,000 people over the last 90 days,
// oldest first, in big batches, through BulkLoad when the store has it, and
// logs the rate.
func BenchLoad(b *testing.B, s store.Store, rows int) {
	const chunk = 10_000
	span := 90 * 24 * time.Hour
	start, step := time.Now().Add(-span), span/time.Duration(max(rows, 1))
	began := time.Now()
	batch := make([]store.Record, 0, chunk)
	for i := 0; i < rows; i += len(batch) {
		batch = batch[:0]
		for j := i; j < min(i+chunk, rows); j++ {
			batch = append(batch, benchRecord("load", j, start.Add(time.Duration(j)*step)))
		}
		var err error
		if bl, ok := s.(BulkLoader); ok {
			_, err = bl.BulkLoad(context.Background(), batch)
		} else {
			_, err = s.Insert(context.Background(), batch)
		}
		if err != nil {
			b.Fatalf("loading: %v", err)
		}
		if done := i + len(batch); done%1_000_000 == 0 && done < rows {
			b.Logf("loaded %d records in %v", done, time.Since(began).Round(time.Second))
		}
	}
	took := time.Since(began)
	b.Logf("loaded %d records in %v (%.0f records/s)", rows, took.Round(time.Millisecond), float64(rows)/took.Seconds())
	if bl, ok := s.(BulkLoader); ok {
		began = time.Now()
		if err := bl.Vacuum(context.Background()); err != nil {
			b.Fatalf("vacuum: %v", err)
		}
		b.Logf("vacuumed in %v", time.Since(began).Round(time.Millisecond))
	}
}
