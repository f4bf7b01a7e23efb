// Package live fans messages out to the subscribers of a topic. It knows
// nothing of tickets or HTTP: a topic is a string, a message is bytes with a
// sequence number. A subscriber that cannot keep up is dropped, never waited
// for, so one slow connection cannot delay the others.
package live

import "sync"

// Message is one item of a topic's feed.
type Message struct {
	Seq  int64
	Data []byte
	// Encoded optionally carries Data already encoded for the transport
	// (e.g. a WebSocket frame), made once for all subscribers.
	Encoded any
}

// Hub holds the subscribers of every topic.
type Hub struct {
	buffer int

	mu     sync.RWMutex
	topics map[string]map[*Subscription]struct{}
}

// DefaultBuffer is how many messages a subscriber may fall behind before it
// is dropped.
const DefaultBuffer = 64

// New makes a hub whose subscribers buffer up to buffer messages (0 means
// DefaultBuffer).
func New(buffer int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Hub{buffer: buffer, topics: map[string]map[*Subscription]struct{}{}}
}

// Subscription receives a topic's messages on C until it is closed, by its
// owner (Close) or by the hub because it fell too far behind (then Dropped
// reports true). C is closed in both cases.
type Subscription struct {
	C <-chan Message

	c       chan Message
	hub     *Hub
	topic   string
	dropped bool // guarded by hub.mu
	closed  bool // guarded by hub.mu
}

// Subscribe starts receiving the messages published to topic from now on.
func (h *Hub) Subscribe(topic string) *Subscription {
	c := make(chan Message, h.buffer)
	s := &Subscription{C: c, c: c, hub: h, topic: topic}
	h.mu.Lock()
	subs := h.topics[topic]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.topics[topic] = subs
	}
	subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription and closes C. It is safe to call twice.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	s.hub.remove(s)
	s.hub.mu.Unlock()
}

// remove must be called with h.mu held for writing.
func (h *Hub) remove(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	subs := h.topics[s.topic]
	delete(subs, s)
	if len(subs) == 0 {
		delete(h.topics, s.topic)
	}
}

// Publish delivers m to every subscriber of topic without blocking; those
// whose buffer is full are dropped. It reports how many received it and how
// many were dropped.
func (h *Hub) Publish(topic string, m Message) (delivered, dropped int) {
	var slow []*Subscription
	h.mu.RLock()
	for s := range h.topics[topic] {
		select {
		case s.c <- m:
			delivered++
		default:
			slow = append(slow, s)
		}
	}
	h.mu.RUnlock()
	if len(slow) > 0 {
		h.mu.Lock()
		for _, s := range slow {
			if !s.closed {
				s.dropped = true
				h.remove(s)
				dropped++
			}
		}
		h.mu.Unlock()
	}
	return delivered, dropped
}

// Subscribers counts the current subscribers of topic.
func (h *Hub) Subscribers(topic string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics[topic])
}
