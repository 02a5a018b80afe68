package metrics

import "github.com/prometheus/client_golang/prometheus"

// storageMetrics count what the storage writer could not write.
type storageMetrics struct {
	dropped      *prometheus.CounterVec
	writeFailure prometheus.Counter
}

// storageKinds are the rows the writer queues (storage.Writer).
var storageKinds = []string{"question", "answer", "vote", "follow_up"}

func newStorageMetrics(reg prometheus.Registerer) *storageMetrics {
	s := &storageMetrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storybot_storage_dropped_total",
			Help: "Rows never written to the database (it was slow or down and the queue was full, or it refused a batch), by kind: question, answer, vote, follow_up.",
		}, []string{"kind"}),
		writeFailure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storybot_storage_write_failures_total",
			Help: "Attempts to write a batch of rows to the database that failed (each is retried a few times before its rows are dropped).",
		}),
	}
	reg.MustRegister(s.dropped, s.writeFailure)
	for _, k := range storageKinds {
		s.dropped.WithLabelValues(k)
	}
	return s
}

// StorageDropped counts n rows of kind that were never written
// (storage.WriterMetrics).
func (m *Metrics) StorageDropped(kind string, n int) {
	known := false
	for _, k := range storageKinds {
		known = known || k == kind
	}
	if !known {
		kind = unknown
	}
	m.storage.dropped.WithLabelValues(kind).Add(float64(n))
}

// StorageWriteFailed counts one failed attempt to write a batch
// (storage.WriterMetrics).
func (m *Metrics) StorageWriteFailed() { m.storage.writeFailure.Inc() }

// SetDegraded sets a check for a state that loses something but not
// answers, such as storage.Writer.Healthy: while it fails, /readyz still
// answers 200 (the load balancer keeps sending questions, which are still
// answered) and says what is degraded.
func (m *Metrics) SetDegraded(check func() error) { m.degraded.Store(&check) }

func (m *Metrics) degradation() error {
	check := m.degraded.Load()
	if check == nil {
		return nil
	}
	return (*check)()
}
