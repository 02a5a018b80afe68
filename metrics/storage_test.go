package metrics

import (
	"errors"
	"strings"
	"testing"

	"storybot/storage"
)

var _ storage.WriterMetrics = (*Metrics)(nil)

func TestStorageCounters(t *testing.T) {
	m := New()
	_, body := get(t, m.Handler(), "/metrics")
	for _, want := range []string{
		`storybot_storage_dropped_total{kind="question"} 0`,
		`storybot_storage_dropped_total{kind="vote"} 0`,
		`storybot_storage_write_failures_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("a fresh process does not show %s", want)
		}
	}
	m.StorageDropped("question", 3)
	m.StorageDropped("answer", 1)
	m.StorageDropped("bogus", 2)
	m.StorageWriteFailed()
	_, body = get(t, m.Handler(), "/metrics")
	for _, want := range []string{
		`storybot_storage_dropped_total{kind="question"} 3`,
		`storybot_storage_dropped_total{kind="answer"} 1`,
		`storybot_storage_dropped_total{kind="unknown"} 2`,
		`storybot_storage_write_failures_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics does not show %s", want)
		}
	}
}

func TestReadyzReportsDegradedStorageAndStaysReady(t *testing.T) {
	m := New()
	h := m.Handler()
	m.SetReady(func() error { return nil })
	var storageErr error
	m.SetDegraded(func() error { return storageErr })
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	storageErr = errors.New("storage degraded: writes failing")
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ready, degraded: storage degraded: writes failing\n" {
		t.Errorf("degraded: %d %q", code, body)
	}
	m.SetReady(func() error { return errors.New("discord is not connected") })
	if code, body := get(t, h, "/readyz"); code != 503 || strings.Contains(body, "degraded") {
		t.Errorf("not ready: %d %q", code, body)
	}
}
