//! The generated municipality the read-path benchmark runs against, written through the
//! store's own use cases (so that every row is what the API would have written).

use anyhow::Context;
use chrono::Utc;
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::classification::Classification;
use reserv_domain::ids::{IncidentId, PersonId, SystemId, UnitId};
use reserv_domain::incidents::{IncidentKind, LogEntryKind, NewIncident, NewLogEntry, NewTask};
use reserv_domain::people::{Language, PersonRequest};
use reserv_domain::plans::{
    ActivityRequest, DependencyKind, DependencyRequest, Material, NewPlan, RoutineKey,
    RoutineRequest, RoutineStep, VersionContent,
};
use reserv_domain::systems::{Criticality, SystemRequest};
use reserv_domain::units::{NewUnit, UnitKind};
use reserv_store::{NewAccount, Store};

/// The crisis lead the load signs in as.
pub const LEAD: &str = "krisledare";
pub const PASSWORD: &str = "bänkprov-för-läsvägen";

pub struct Shape {
    pub units: usize,
    pub log_entries: usize,
    pub tasks: usize,
}

pub struct Prepared {
    pub sensitive_incident: String,
    pub internal_incident: String,
}

/// The top of a generated municipality: its administration, the care documentation
/// system every plan depends on and the crisis lead the load signs in as.
pub struct Skeleton {
    pub service: UnitId,
    pub journal: SystemId,
    pub lead: PersonId,
}

pub async fn skeleton(store: &Store, operator: &Principal) -> anyhow::Result<Skeleton> {
    let unit = |parent, name: &str, kind| NewUnit {
        parent_id: parent,
        name: name.into(),
        kind,
    };
    let root = store
        .create_unit(
            operator,
            unit(None, "Bänkby kommun", UnitKind::Municipality),
        )
        .await?;
    let administration = store
        .create_unit(
            operator,
            unit(
                Some(root.id),
                "Vård- och omsorgsförvaltningen",
                UnitKind::Administration,
            ),
        )
        .await?;
    let service = store
        .create_unit(
            operator,
            unit(Some(administration.id), "Äldreomsorg", UnitKind::Service),
        )
        .await?;
    let journal = a_system(store, operator, "Verksamhetssystemet").await?;
    let lead = a_person(store, operator, "Karin Krisledare", "Krisledare", vec![]).await?;
    store
        .create_account(
            operator,
            NewAccount {
                username: LEAD.into(),
                password: Some(PASSWORD.into()),
                person_id: Some(lead),
                grants: vec![RoleGrant {
                    role: Role::CrisisLead,
                    unit: None,
                    raised_clearance: None,
                }],
            },
        )
        .await?;
    Ok(Skeleton {
        service: service.id,
        journal,
        lead,
    })
}

pub async fn a_system(store: &Store, operator: &Principal, name: &str) -> anyhow::Result<SystemId> {
    Ok(store
        .create_system(
            operator,
            SystemRequest {
                name: name.into(),
                description: None,
                owner_id: None,
                supplier: None,
                criticality: Criticality::Critical,
                health_check_url: None,
            },
        )
        .await?
        .id)
}

pub async fn a_person(
    store: &Store,
    operator: &Principal,
    name: &str,
    title: &str,
    unit_ids: Vec<UnitId>,
) -> anyhow::Result<PersonId> {
    Ok(store
        .create_person(
            operator,
            PersonRequest {
                name: name.into(),
                title: Some(title.into()),
                phone: None,
                email: None,
                external_id: None,
                language: Language::Sv,
                external: false,
                organisation: None,
                unit_ids,
                confidentiality: None,
            },
        )
        .await?
        .id)
}

/// A care unit under the service, with an approved plan whose routines carry `keys`
/// (one routine per key; `None` for a routine without a key).
pub async fn a_planned_unit(
    store: &Store,
    operator: &Principal,
    skeleton: &Skeleton,
    number: usize,
    keys: &[Option<&str>],
) -> anyhow::Result<UnitId> {
    let care = store
        .create_unit(
            operator,
            NewUnit {
                parent_id: Some(skeleton.service),
                name: format!("Hemtjänstgrupp {number}"),
                kind: UnitKind::Unit,
            },
        )
        .await?;
    an_approved_plan(store, operator, care.id, skeleton.journal, number, keys)
        .await
        .with_context(|| format!("plan of unit {number}"))?;
    Ok(care.id)
}

pub async fn generate(store: &Store, shape: &Shape) -> anyhow::Result<Prepared> {
    let operator = Principal::operator("benchmark");
    let skeleton = skeleton(store, &operator).await?;
    let (journal, lead) = (skeleton.journal, skeleton.lead);
    let mut units = vec![];
    for number in 1..=shape.units {
        units.push(a_planned_unit(store, &operator, &skeleton, number, &[None; 4]).await?);
    }
    let sensitive = an_incident(store, &operator, shape, &units, journal, lead, 2).await?;
    let internal = an_incident(store, &operator, shape, &units, journal, lead, 1).await?;
    Ok(Prepared {
        sensitive_incident: sensitive.to_string(),
        internal_incident: internal.to_string(),
    })
}

async fn an_approved_plan(
    store: &Store,
    operator: &Principal,
    unit: UnitId,
    journal: SystemId,
    number: usize,
    keys: &[Option<&str>],
) -> anyhow::Result<()> {
    let plan = store
        .create_plan(
            operator,
            NewPlan {
                unit_id: unit,
                title: format!("Kontinuitetsplan hemtjänstgrupp {number}"),
                owner_id: None,
                review_interval_months: Some(12),
            },
        )
        .await?;
    let draft = store
        .current_version(operator, plan.id)
        .await?
        .context("a new plan has a draft")?;
    store
        .update_draft(
            operator,
            draft.id,
            VersionContent {
                summary: Some(
                    "Hemtjänstens besök, läkemedel och larm när systemen ligger nere.".into(),
                ),
                activation_criteria: Some(
                    "Verksamhetssystemet otillgängligt mer än 30 minuter.".into(),
                ),
                classification: Classification::new(2, 2, 3)?,
                lowering_reason: None,
            },
        )
        .await?;
    let mut activities = vec![];
    for index in 1..=5 {
        let activity = store
            .add_activity(
                operator,
                draft.id,
                ActivityRequest {
                    name: format!("Verksamhet {index}"),
                    description: Some("Besök enligt körlista".into()),
                    mtpd_minutes: 240,
                    rto_minutes: 120,
                    rpo_minutes: 60,
                },
            )
            .await?;
        store
            .add_dependency(
                operator,
                activity.id,
                DependencyRequest {
                    kind: DependencyKind::ItSystem,
                    system_id: Some(journal),
                    name: None,
                },
            )
            .await?;
        activities.push(activity.id);
    }
    for (index, key) in keys.iter().enumerate() {
        let step = |n: usize| RoutineStep {
            who: "Undersköterska".into(),
            what: format!("Steg {n}: för anteckning på papper och lämna till samordnaren"),
            when: Some("Vid varje besök".into()),
        };
        store
            .add_routine(
                operator,
                draft.id,
                RoutineRequest {
                    activity_id: Some(activities[index % activities.len()]),
                    key: key.map(|key| RoutineKey::parse("key", key)).transpose()?,
                    title: format!("Pappersrutin {}", index + 1),
                    trigger: "Verksamhetssystemet går inte att nå".into(),
                    classification: Classification::new(1, 2, 3)?,
                    steps: (1..=6).map(step).collect(),
                    materials: vec![Material {
                        name: "Blankett för besöksanteckning".into(),
                        location: Some("Pärm på kontoret".into()),
                    }],
                    recovery_steps: vec![step(7)],
                    lowering_reason: None,
                },
            )
            .await?;
    }
    // A second person approves (the four-eyes rule).
    store
        .approve_version(&Principal::operator("benchmark reviewer"), draft.id)
        .await?;
    Ok(())
}

async fn an_incident(
    store: &Store,
    operator: &Principal,
    shape: &Shape,
    units: &[UnitId],
    journal: SystemId,
    commander: PersonId,
    confidentiality: i64,
) -> anyhow::Result<IncidentId> {
    let incident = store
        .report_incident(
            operator,
            NewIncident {
                title: format!("Verksamhetssystemet nere (konfidentialitet {confidentiality})"),
                description: None,
                kind: IncidentKind::ItOutage,
                severity: 2,
                exercise: false,
                classification: Classification::new(confidentiality, 2, 3)?,
                unit_ids: units.iter().take(10).copied().collect(),
                system_ids: vec![journal],
            },
        )
        .await?;
    store
        .assign_commander(operator, incident.id, commander)
        .await?;
    for number in 1..=shape.log_entries {
        store
            .add_log_entry(
                operator,
                incident.id,
                NewLogEntry {
                    kind: LogEntryKind::Observation,
                    text: format!(
                        "Lägesrapport {number}: pappersrutinerna följs, inga avvikelser."
                    ),
                    occurred_at: Some(Utc::now()),
                    corrects: None,
                    confidentiality: None,
                },
            )
            .await?;
    }
    for number in 1..=shape.tasks {
        store
            .create_task(
                operator,
                incident.id,
                NewTask {
                    title: format!("Uppgift {number}: ring gruppledarna"),
                    assignee_id: Some(commander),
                    assignee_role: None,
                    due_at: None,
                    confidentiality: None,
                },
            )
            .await?;
    }
    Ok(incident.id)
}
