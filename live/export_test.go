package live

// Accessors only the tests use.

// Dropped reports whether the hub ended the subscription because its
// reader fell behind.
func (s *Subscription) Dropped() bool {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	return s.dropped
}
