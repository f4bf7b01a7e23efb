// Package ticketfeed carries ticket changes from the database to the live
// hub, bridging two packages that know nothing of each other: tickets (which
// imports neither live nor HTTP) and live (which knows nothing of tickets).
//
// The database is the only source: the feed reads the changes back in
// commit order (tickets.Store.EventsSince), those made by this process and
// by others alike (the command line today, more portal replicas later), so
// every watcher sees the same sequence. The store tells the feed when this
// process has committed a change (tickets.Config.OnEvent = Feed.Committed),
// so that it reads at once rather than at its next tick.
//
// What a watcher receives is the HTTP layer's business: the customer side
// and the console supply their encoders as plain function fields
// (Encoders). The feed calls each once per event and publishes the message
// to all of that audience's watchers, so an encoder is where a message is
// framed for its transport once (live.Message.Encoded), not once per
// watcher: with 10,000 watchers of one ticket, the per-connection work is
// what adds up.
package ticketfeed

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/tickets"
)

// Encoder makes the message an audience receives for a committed event.
type Encoder func(tickets.Event) (live.Message, error)

// Encoders are the feed's audiences; a nil encoder leaves its audience out.
type Encoders struct {
	// Customers watch one ticket's page: each event of the ticket goes to
	// TicketTopic(number), except internal ones (notes, assignments, call
	// flags), which stay with the team.
	Customers Encoder
	// Agents watch the console: every change of every ticket goes to
	// AgentsTopic.
	Agents Encoder
}

// AgentsTopic carries every change of every ticket to the console: the
// queue and open ticket views refresh themselves from it.
const AgentsTopic = "agents"

// TicketTopic carries the changes of one ticket that its customer may see.
func TicketTopic(number int) string { return "ticket:" + strconv.Itoa(number) }

// Config configures a Feed.
type Config struct {
	Hub      *live.Hub
	Encoders Encoders
	// Interval bounds how long a change made by another process takes to
	// reach the watchers: the feed reads at least this often.
	Interval time.Duration
	Logger   *slog.Logger // nil discards
}

// batch is how many events one read takes.
const batch = 1000

// Feed publishes committed ticket events to the live hub.
type Feed struct {
	hub  *live.Hub
	enc  Encoders
	log  *slog.Logger
	tick time.Duration
	kick chan struct{}

	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned; nil before Start

	// Owned by Start, then by the goroutine it starts.
	store  *tickets.Store
	cursor int64
}

// New makes a feed that publishes nothing until Start. It exists before the
// tickets store, so that the store can be given f.Committed.
func New(cfg Config) *Feed {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := cfg.Interval
	if tick <= 0 {
		tick = time.Second
	}
	return &Feed{hub: cfg.Hub, enc: cfg.Encoders, log: log, tick: tick, kick: make(chan struct{}, 1)}
}

// Committed tells the feed that this process has just committed a change,
// so that it reads now. It never blocks; its signature is that of
// tickets.Config.OnEvent.
func (f *Feed) Committed(tickets.Event) {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Start reads store from after the newest change already committed
// (watchers get the history from their snapshot) and publishes every later
// change, in a goroutine of its own, until Stop.
func (f *Feed) Start(store *tickets.Store) error {
	ctx, cancel := context.WithCancel(context.Background())
	f.store = store
	for { // skip history
		evs, err := store.EventsSince(ctx, f.cursor, batch)
		if err != nil {
			cancel()
			return err
		}
		if len(evs) == 0 {
			break
		}
		f.cursor = evs[len(evs)-1].Seq
	}
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(ctx)
	return nil
}

// Stop ends the feed and waits for it; a feed never started just stops.
func (f *Feed) Stop() {
	if f.done == nil {
		return
	}
	f.cancel()
	<-f.done
}

// run publishes new changes until ctx ends, reading when kicked and at
// least every tick (for changes made by other processes).
func (f *Feed) run(ctx context.Context) {
	defer close(f.done)
	t := time.NewTicker(f.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
		if err := f.publishNew(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("live feed", "error", err)
		}
	}
}

func (f *Feed) publishNew(ctx context.Context) error {
	for {
		evs, err := f.store.EventsSince(ctx, f.cursor, batch)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := f.publish(ev); err != nil {
				return err
			}
			f.cursor = ev.Seq
		}
		if len(evs) < batch {
			return nil
		}
	}
}

// publish sends ev to each audience, encoded once for all its watchers.
func (f *Feed) publish(ev tickets.Event) error {
	if f.enc.Customers != nil && !ev.Internal { // notes, assignments and call flags stay with the team
		m, err := f.enc.Customers(ev)
		if err != nil {
			return err
		}
		f.hub.Publish(TicketTopic(ev.Number), m)
	}
	if f.enc.Agents != nil {
		m, err := f.enc.Agents(ev)
		if err != nil {
			return err
		}
		f.hub.Publish(AgentsTopic, m)
	}
	return nil
}
