package gateway

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// publishEvents encodes and publishes evs, returning how many were new and
// how many JetStream already had. Failures map to the error catalog.
func (g *Gateway) publishEvents(ctx context.Context, route string, evs []events.Event) (stored, dups int, err error) {
	if len(evs) == 0 {
		return 0, 0, nil
	}
	msgs := make([]*nats.Msg, len(evs))
	for i, ev := range evs {
		m, err := events.Encode(g.ns, ev)
		if err != nil {
			return 0, 0, apierror.Wrap(apierror.Internal, "encoding the event", err)
		}
		msgs[i] = m
	}
	acks, err := g.pub.PublishAll(ctx, msgs)
	if err != nil {
		return 0, 0, publishError(err)
	}
	for i, a := range acks {
		result := "published"
		if a.Duplicate {
			result = "duplicate"
			dups++
		} else {
			stored++
		}
		g.m.eventCounter(route, evs[i].Type.Name, result).Inc()
	}
	return stored, dups, nil
}

func publishError(err error) error {
	var pe *bus.PublishError
	if !errors.As(err, &pe) {
		return apierror.Wrap(apierror.BusUnavailable, "the event bus is unavailable; nothing was stored", err)
	}
	switch pe.Failure {
	case bus.Timeout:
		return apierror.Wrap(apierror.BusTimeout, "the event bus did not acknowledge in time; retry (a retry is deduplicated)", err)
	case bus.Full:
		return apierror.Wrap(apierror.BusFull, "the event stream is full; retry later", err)
	case bus.TooLarge:
		return apierror.Wrap(apierror.BodyTooLarge, "the event is larger than the bus accepts", err)
	default:
		return apierror.Wrap(apierror.BusUnavailable, "the event bus is unavailable; nothing was stored", err)
	}
}
