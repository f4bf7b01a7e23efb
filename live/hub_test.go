package live

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestFanOutToEverySubscriberOfTheTopic(t *testing.T) {
	h := New(4)
	a, b := h.Subscribe("ticket:1"), h.Subscribe("ticket:1")
	other := h.Subscribe("ticket:2")
	if n, d := h.Publish("ticket:1", Message{Seq: 7, Data: []byte("x")}); n != 2 || d != 0 {
		t.Fatalf("delivered %d dropped %d, want 2, 0", n, d)
	}
	for _, s := range []*Subscription{a, b} {
		if m := <-s.C; m.Seq != 7 || string(m.Data) != "x" {
			t.Errorf("got %+v", m)
		}
	}
	select {
	case m := <-other.C:
		t.Errorf("other topic received %+v", m)
	default:
	}
}

func TestSlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	h := New(2)
	slow := h.Subscribe("t")
	fast := h.Subscribe("t")
	var got []int64
	done := make(chan struct{})
	go func() {
		for m := range fast.C {
			got = append(got, m.Seq)
			if m.Seq == 100 {
				close(done)
				return
			}
		}
	}()
	start := time.Now()
	for i := int64(1); i <= 100; i++ {
		h.Publish("t", Message{Seq: i})
		time.Sleep(50 * time.Microsecond) // the fast reader keeps up
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("fast subscriber did not receive everything")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("publishing took %v: a slow subscriber delayed it", time.Since(start))
	}
	if !slow.Dropped() {
		t.Error("slow subscriber was not dropped")
	}
	n := 0
	for range slow.C { // closed after its buffer drains
		n++
	}
	if n != 2 {
		t.Errorf("slow subscriber drained %d messages, want its buffer of 2", n)
	}
	if len(got) != 100 || fast.Dropped() {
		t.Errorf("fast subscriber got %d messages, dropped=%v", len(got), fast.Dropped())
	}
	if h.Subscribers("t") != 1 {
		t.Errorf("subscribers = %d, want 1", h.Subscribers("t"))
	}
}

func TestCloseUnsubscribesAndIsIdempotent(t *testing.T) {
	h := New(1)
	s := h.Subscribe("t")
	s.Close()
	s.Close()
	if _, ok := <-s.C; ok {
		t.Error("C not closed")
	}
	if n, _ := h.Publish("t", Message{Seq: 1}); n != 0 || h.Subscribers("t") != 0 {
		t.Error("closed subscription still receives")
	}
	if s.Dropped() {
		t.Error("a closed subscription is not a dropped one")
	}
}

func TestConcurrentUse(t *testing.T) {
	h := New(8)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := h.Subscribe(fmt.Sprint("t", i%5))
			for j := 0; j < 20; j++ {
				h.Publish(fmt.Sprint("t", j%5), Message{Seq: int64(j)})
			}
			s.Close()
		}(i)
	}
	wg.Wait()
	for i := 0; i < 5; i++ {
		if n := h.Subscribers(fmt.Sprint("t", i)); n != 0 {
			t.Errorf("topic t%d has %d subscribers left", i, n)
		}
	}
}

func BenchmarkPublishTo10kSubscribers(b *testing.B) {
	h := New(DefaultBuffer)
	subs := make([]*Subscription, 10000)
	for i := range subs {
		subs[i] = h.Subscribe("ticket")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Publish("ticket", Message{Seq: int64(i)})
		for _, s := range subs {
			<-s.C
		}
	}
}
