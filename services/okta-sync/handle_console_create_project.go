package oktasync

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/rules"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

const actionCreateGroup = "group.create"

// consoleCreateProject creates the Okta groups the rules name for a new
// Console project; existing groups are left as they are.
func (s *service) consoleCreateProject(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.ConsoleProjectCreated)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("okta-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	c := rules.Context{CompanyID: p.GetTenantId(), ProjectID: p.GetProjectId()}
	name := p.GetProject().GetName()
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.ConsoleCreateProject) {
		if r.Actions.Okta == nil {
			continue
		}
		if len(r.Scope.CompanyIDs) > 0 && !contains(r.Scope.CompanyIDs, c.CompanyID) && !r.Scope.Always {
			continue
		}
		for _, g := range r.Actions.Okta.Groups {
			group := c.Expand(g)
			rec := outcome.Record{RuleID: r.ID, Action: actionCreateGroup, Target: outcome.Target{Type: "group", Name: group}}
			if s.dir == nil {
				rec.Result, rec.Reason = outcome.Planned, "create the group (current state unknown: no Okta credentials)"
				recs = append(recs, rec)
				continue
			}
			id, found, err := s.dir.GroupID(ctx, group)
			if err != nil {
				return s.d.Failed(ctx, ev, rec, err)
			}
			switch {
			case found:
				rec.Target.ID, rec.Result, rec.Reason = id, outcome.Unchanged, "the group exists"
			case s.d.DryRun:
				rec.Result, rec.Reason = outcome.Planned, "create the group"
			default:
				id, err := s.dir.CreateGroup(ctx, group, fmt.Sprintf("Console project %s (%s), managed by idsync", name, c.ProjectID))
				if err != nil {
					return s.d.Failed(ctx, ev, rec, err)
				}
				rec.Target.ID, rec.Result, rec.Reason = id, outcome.Granted, "group created"
			}
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: actionCreateGroup, Result: outcome.Skipped, Reason: "no rule creates Okta groups for new projects"})
	}
	return s.d.Outcomes.Publish(ctx, ev, recs...)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
