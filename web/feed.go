package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/tickets"
)

// Feed carries ticket changes from the database to the live hub. The
// database is the only source: changes made by this process and by others
// (the command line today, more portal replicas later) are read back in
// commit order, so every watcher sees the same sequence.
type Feed struct {
	store  *tickets.Store
	hub    *live.Hub
	log    *slog.Logger
	kick   chan struct{}
	cursor int64
}

// NewFeed starts reading after the newest change already committed.
func NewFeed(ctx context.Context, store *tickets.Store, hub *live.Hub, log *slog.Logger) (*Feed, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Feed{store: store, hub: hub, log: log, kick: make(chan struct{}, 1)}
	for { // skip history: watchers get it from the snapshot
		evs, err := store.EventsSince(ctx, f.cursor, 1000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return f, nil
		}
		f.cursor = evs[len(evs)-1].Seq
	}
}

// Kick asks for a read now: this process has just committed a change.
func (f *Feed) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run publishes new changes until ctx ends, reading when kicked and at
// least every interval (for changes made by other processes).
func (f *Feed) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
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
		evs, err := f.store.EventsSince(ctx, f.cursor, 1000)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			data, err := json.Marshal(struct {
				Type  string           `json:"type"`
				Seq   int64            `json:"seq"`
				Event httpkit.APIEvent `json:"event"`
			}{"event", ev.Seq, httpkit.NewAPIEvent(ev)})
			if err != nil {
				return err
			}
			// Framed once here, not once per watcher: with 10,000 watchers
			// of one ticket the per-connection work is what adds up.
			frame, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
			if err != nil {
				return err
			}
			if !ev.Internal { // notes, assignments and call flags stay with the team
				f.hub.Publish(ticketTopic(ev.Number), live.Message{Seq: ev.Seq, Data: data, Encoded: frame})
			}
			if err := f.publishToAgents(ev); err != nil {
				return err
			}
			f.cursor = ev.Seq
		}
		if len(evs) < 1000 {
			return nil
		}
	}
}

// agentsTopic carries every change of every ticket to the console: the
// queue and open ticket views refresh themselves from it.
const agentsTopic = "agents"

func (f *Feed) publishToAgents(ev tickets.Event) error {
	data, err := json.Marshal(struct {
		Type   string `json:"type"`
		Seq    int64  `json:"seq"`
		Number int    `json:"number"`
		Kind   string `json:"kind"`
	}{"event", ev.Seq, ev.Number, ev.Kind})
	if err != nil {
		return err
	}
	f.hub.Publish(agentsTopic, live.Message{Seq: ev.Seq, Data: data})
	return nil
}
