// Package metrics is the product's Prometheus instrumentation: HTTP requests by route and status
// with latency, the database pools' use, River's queue, and the product events a province operator
// watches (exam starts and saves, verifications, logins, throttled requests). It is plumbing: it
// knows no domain and no HTTP framework; the server feeds it and `shanyu serve` exposes it on
// SHANYU_METRICS_ADDR (off by default).
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one process.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	events   *prometheus.CounterVec
	sql      *prometheus.CounterVec
}

// Pools are the database pools whose use is reported, by name ("main", "public").
type Pools map[string]*pgxpool.Pool

// Reads is where the reads that may be slightly stale went (pg.Reads): how many to the standby and
// to the primary, and the standby's last measured staleness.
type Reads interface {
	Counts() (standby, primary int64)
	Lag() (time.Duration, bool)
}

// New registers the collectors. The River queue depth is read from river_job through pools["main"]
// at each scrape (one grouped count, bounded by a short timeout). reads may be nil.
func New(pools Pools, reads Reads) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shanyu_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "shanyu_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern and method.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shanyu_events_total", Help: "Product events (exam_start, exam_save, verification, login, throttled) by outcome (ok, refused, error).",
	}, []string{"event", "outcome"})
	m.sql = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shanyu_db_statements_total", Help: "SQL statements (BEGIN and COMMIT included) sent while answering HTTP requests, by route pattern and method: divided by shanyu_http_requests_total, the statements per request.",
	}, []string{"route", "method"})
	m.reg.MustRegister(m.requests, m.latency, m.events, m.sql,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		poolCollector{pools: pools}, riverCollector{pool: pools["main"]})
	if reads != nil {
		m.reg.MustRegister(readsCollector{reads})
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one answered request and the SQL statements it sent.
func (m *Metrics) Request(route, method string, status int, took time.Duration, statements int) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
	m.sql.WithLabelValues(route, method).Add(float64(statements))
}

// Event records a product event with its outcome, from the status it was answered with.
func (m *Metrics) Event(event string, status int) {
	outcome := "ok"
	switch {
	case status >= 500:
		outcome = "error"
	case status >= 400:
		outcome = "refused"
	}
	m.events.WithLabelValues(event, outcome).Inc()
}

var (
	poolTotal    = prometheus.NewDesc("shanyu_db_pool_connections", "Connections of a database pool, by state (idle, acquired, constructing) and the pool's maximum (max).", []string{"pool", "state"}, nil)
	poolAcquires = prometheus.NewDesc("shanyu_db_pool_acquires_total", "Connections acquired from a pool.", []string{"pool"}, nil)
	poolWaits    = prometheus.NewDesc("shanyu_db_pool_empty_acquires_total", "Acquires that had to wait because the pool was empty.", []string{"pool"}, nil)
	poolWaitTime = prometheus.NewDesc("shanyu_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", []string{"pool"}, nil)
	riverJobs    = prometheus.NewDesc("shanyu_jobs", "Background jobs in River's table, by state (available, running, retryable, discarded, …).", []string{"state"}, nil)
	riverFailed  = prometheus.NewDesc("shanyu_jobs_scrape_errors", "1 when the job counts could not be read at this scrape.", nil, nil)
)

var (
	readsTotal = prometheus.NewDesc("shanyu_db_reads_total", "Reads of public verification and the dashboards, by the pool that answered (standby, primary).", []string{"pool"}, nil)
	readsLag   = prometheus.NewDesc("shanyu_db_standby_lag_seconds", "The standby's last measured staleness bound; -1 when unknown (down, promoted, too far behind, not measured yet).", nil, nil)
)

type readsCollector struct{ reads Reads }

func (r readsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readsTotal
	ch <- readsLag
}

func (r readsCollector) Collect(ch chan<- prometheus.Metric) {
	standby, primary := r.reads.Counts()
	ch <- prometheus.MustNewConstMetric(readsTotal, prometheus.CounterValue, float64(standby), "standby")
	ch <- prometheus.MustNewConstMetric(readsTotal, prometheus.CounterValue, float64(primary), "primary")
	lag, ok := r.reads.Lag()
	v := lag.Seconds()
	if !ok {
		v = -1
	}
	ch <- prometheus.MustNewConstMetric(readsLag, prometheus.GaugeValue, v)
}

type poolCollector struct{ pools Pools }

func (p poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolTotal
	ch <- poolAcquires
	ch <- poolWaits
	ch <- poolWaitTime
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, pool := range p.pools {
		if pool == nil {
			continue
		}
		s := pool.Stat()
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.IdleConns()), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.AcquiredConns()), name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.ConstructingConns()), name, "constructing")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.MaxConns()), name, "max")
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.AcquireDuration().Seconds(), name)
	}
}

type riverCollector struct{ pool *pgxpool.Pool }

func (r riverCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- riverJobs
	ch <- riverFailed
}

func (r riverCollector) Collect(ch chan<- prometheus.Metric) {
	if r.pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	failed := 0.0
	rows, err := r.pool.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	if err == nil {
		for rows.Next() {
			var state string
			var n int64
			if err = rows.Scan(&state, &n); err != nil {
				break
			}
			ch <- prometheus.MustNewConstMetric(riverJobs, prometheus.GaugeValue, float64(n), state)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(riverFailed, prometheus.GaugeValue, failed)
}
