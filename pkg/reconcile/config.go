package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/rules"
)

// Config is the reconciliation's configuration, shared by every sync
// consumer (syncsvc.Settings.Reconcile; a reconciler reads it as
// syncsvc.Deps.Reconcile).
type Config struct {
	// Interval: a periodic comparison is the safety net under best-effort
	// hook deliveries; six hours bounds how long a missed change stays
	// missed at a cost of a few listings per provider.
	Interval time.Duration `env:"IDSYNC_RECONCILE_INTERVAL" default:"6h" help:"how often each sync consumer compares its provider with the rules and the sources of truth (0 = only on demand, idsync reconcile)"`
	// Apply is off by default: a scheduled run that converged a wrong
	// desired state (a broken rules file, a Console outage read as "no
	// users") would undo access at scale; reports first, apply when trusted.
	Apply bool `env:"IDSYNC_RECONCILE_APPLY" default:"false" help:"scheduled reconciliations converge what they find (default: they only report)"`
	// RemoveUnmanaged is off by default: a member no rule wants that idsync
	// did not grant was added by a person, for a reason idsync cannot see.
	RemoveUnmanaged bool `env:"IDSYNC_RECONCILE_REMOVE_UNMANAGED" default:"false" help:"scheduled reconciliations that apply also remove members of managed groups, teams, organizations and companies that idsync did not grant (added by hand)"`
	// Companies adds Console companies no rule names, e.g. where the
	// default rules apply to any company.
	Companies []string `env:"IDSYNC_RECONCILE_COMPANIES" help:"Console company ids to reconcile besides those the rules and the managed grants name (comma-separated)"`
}

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 0 || (c.Interval > 0 && c.Interval < time.Minute) {
		errs = append(errs, fmt.Errorf("IDSYNC_RECONCILE_INTERVAL: %s, want 0 (only on demand) or at least 1m", c.Interval))
	}
	seen := map[string]bool{}
	for _, id := range c.Companies {
		switch {
		case !validCompanyID(id):
			errs = append(errs, fmt.Errorf("IDSYNC_RECONCILE_COMPANIES: %q is not a Console company id (up to 128 printable characters, no blanks or commas)", id))
		case seen[id]:
			errs = append(errs, fmt.Errorf("IDSYNC_RECONCILE_COMPANIES: %q is listed twice", id))
		}
		seen[id] = true
	}
	return errors.Join(errs...)
}

func validCompanyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || r == ',' {
			return false
		}
	}
	return true
}

// CompaniesFor returns the Console companies a reconciliation covers,
// sorted and without duplicates: IDSYNC_RECONCILE_COMPANIES, the companies
// named in the scope.companyIds of rs's rules, the Console companies of the
// okta.create.user rules' console actions, and ledgerCompanies (the
// companies of the grants idsync manages, which the caller reads from its
// ledger: a company no rule names any more may still hold grants to
// revoke). A rule without company filters applies to any company, but the
// Console API has no listing of companies, so such companies must come
// from one of the other sources.
func (c Config) CompaniesFor(rs *rules.Set, ledgerCompanies []string) []string {
	set := map[string]bool{}
	add := func(id string) {
		if id = strings.TrimSpace(id); id != "" && !strings.Contains(id, "{{") {
			set[id] = true
		}
	}
	for _, id := range c.Companies {
		add(id)
	}
	if rs != nil {
		for _, r := range rs.Rules() {
			for _, id := range r.Scope.CompanyIDs {
				add(id)
			}
			if r.Scope.Event == events.OktaCreateUser && r.Actions.Console != nil {
				for _, co := range r.Actions.Console.Companies {
					add(co.ID)
				}
			}
		}
	}
	for _, id := range ledgerCompanies {
		add(id)
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
