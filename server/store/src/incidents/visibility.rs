//! Who may see and act on which incident: the incident's scope is the set of units it
//! affects, and the reader's grants must cover that scope and clear its confidentiality.
//! The rule itself is the domain's access policy; this module applies it to one loaded
//! incident and, for listings, writes the same rule as a query.

use crate::entities::{incident_units, incidents};
use crate::per_key::PerKey;
use crate::subtree::Subtrees;
use reserv_domain::access::{Action, Principal, Scope, UnitPath};
use reserv_domain::classification::Confidentiality;
use reserv_domain::ids::{IncidentId, UnitId};
use reserv_domain::incidents::Incident;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition};
use std::collections::HashMap;

/// An incident together with the paths of the units it affects, which decide who may
/// see and change it.
pub(crate) struct Located {
    pub row: incidents::Model,
    pub incident: Incident,
    pub paths: Vec<UnitPath>,
}

impl Located {
    pub fn scope(&self) -> Scope<'_> {
        scope_of(&self.paths)
    }

    /// Allows `action` on this incident, including reading it at its confidentiality.
    pub fn authorize(&self, who: &Principal, action: Action) -> reserv_domain::Result<()> {
        who.authorize_read(
            action,
            self.scope(),
            self.incident.classification.confidentiality,
        )
    }
}

/// For each readable incident, the highest level of its log entries and tasks that
/// `who` may see: normally all of them, but an entry written before the incident was
/// lowered keeps its own level.
pub(super) fn part_clearances(
    who: &Principal,
    readable: &PerKey<IncidentId, Located>,
) -> HashMap<IncidentId, Confidentiality> {
    readable
        .iter()
        .filter_map(|(id, answer)| answer.as_ref().ok().map(|located| (*id, located)))
        .map(|(id, located)| (id, who.clearance_in(Action::ReadIncidents, located.scope())))
        .collect()
}

pub(super) fn scope_of(paths: &[UnitPath]) -> Scope<'_> {
    if paths.is_empty() {
        Scope::Organisation
    } else {
        Scope::AnyOf(paths)
    }
}

/// The same rule as [`Principal::authorize_read`], written as a query: an incident is
/// readable when one of the reader's grants covers it and clears its confidentiality. An
/// organisation-wide grant covers every incident; a unit grant covers the incidents that
/// affect its unit or a unit below it. `subtrees` must know the grants' units.
pub(super) fn readable_by(who: &Principal, subtrees: &Subtrees) -> Condition {
    let mut readable = Condition::any();
    for grant in &who.grants {
        if !grant.role.permits(Action::ReadIncidents) {
            continue;
        }
        let cleared = incidents::Column::Confidentiality.lte(i16::from(grant.clearance().level()));
        readable = readable.add(match grant.unit {
            None => Condition::all().add(cleared),
            Some(unit) => Condition::all()
                .add(cleared)
                .add(incidents::Column::Id.in_subquery(affecting_subtree(subtrees, unit))),
        });
    }
    // With no grant at all the empty `any` would match nothing, which is what we want.
    readable
}

/// The incidents `who` may read at some level, whatever their own: those affecting the
/// units of her grants that permit reading incidents, or all for an organisation-wide
/// grant. Briefings start from these; everything else uses [`readable_by`].
pub(super) fn in_reach(who: &Principal, subtrees: &Subtrees) -> Condition {
    let grants = who
        .grants
        .iter()
        .filter(|grant| grant.role.permits(Action::ReadIncidents));
    let mut reach = Condition::any();
    for grant in grants {
        match grant.unit {
            // An empty `all` filters nothing: every incident is in reach.
            None => return Condition::all(),
            Some(unit) => {
                reach =
                    reach.add(incidents::Column::Id.in_subquery(affecting_subtree(subtrees, unit)));
            }
        }
    }
    reach
}

/// The units whose subtrees decide what `who` may read, plus any the listing filters on.
pub(super) fn units_to_look_up(who: &Principal, filter: Option<UnitId>) -> Vec<UnitId> {
    who.grants
        .iter()
        .filter_map(|grant| grant.unit)
        .chain(filter)
        .collect()
}

/// The ids of incidents affecting `unit` or any unit below it.
pub(super) fn affecting_subtree(subtrees: &Subtrees, unit: UnitId) -> SelectStatement {
    Query::select()
        .column(incident_units::Column::IncidentId)
        .from(incident_units::Entity)
        .and_where(incident_units::Column::UnitId.in_subquery(subtrees.units_covered_by(&[unit])))
        .to_owned()
}
