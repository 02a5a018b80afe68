package bot

import "time"

// evictIdle makes room in a bounded map of per-user state: it drops every
// entry idle says is finished with, and if the map still holds max or more,
// the one used longest ago. The caller holds the map's lock.
func evictIdle[V any](m map[string]V, max int, idle func(V) bool, usedAt func(V) time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, v := range m {
		if idle(v) {
			delete(m, k)
			continue
		}
		if at := usedAt(v); oldest == "" || at.Before(oldestAt) {
			oldest, oldestAt = k, at
		}
	}
	if len(m) >= max {
		delete(m, oldest)
	}
}
