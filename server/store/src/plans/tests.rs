//! Continuity plans against a real SQLite database: the version life cycle, the copy a
//! new draft starts from, who may see what, and the impact of a system going down.

use crate::{AuditFilter, DatabaseLocation, PageRequest, PlanFilter, Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::Classification;
use reserv_domain::ids::{PersonId, PlanId, PlanVersionId, SystemId, UnitId};
use reserv_domain::people::PersonRequest;
use reserv_domain::plans::{
    ActivityRequest, CriticalActivity, DependencyKind, DependencyRequest, Material, NewPlan,
    PlanState, RoutineRequest, RoutineStep, VersionContent,
};
use reserv_domain::systems::{Criticality, SystemRequest};
use reserv_domain::units::{NewUnit, UnitKind};
use reserv_domain::{Clock, DomainError};
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug)]
struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn operator() -> Principal {
    Principal::operator("test")
}

/// A second person, for approvals: the four-eyes rule keeps the writer of a draft
/// from approving it.
fn reviewer() -> Principal {
    Principal::operator("reviewer")
}

fn someone(role: Role, unit: Option<UnitId>) -> Principal {
    Principal {
        account_id: None,
        username: format!("{role}"),
        person_id: None,
        grants: vec![RoleGrant {
            role,
            unit,
            raised_clearance: None,
        }],
        client_address: None,
    }
}

/// A municipality with two home care units, a journal system, and a person to own plans.
struct Municipality {
    store: Store,
    _folder: tempfile::TempDir,
    north: UnitId,
    south: UnitId,
    journal: SystemId,
    owner: PersonId,
}

async fn a_municipality() -> Result<Municipality, Box<dyn std::error::Error>> {
    let folder = tempfile::tempdir()?;
    let clock = FixedClock(
        Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0)
            .single()
            .ok_or("time")?,
    );
    let store = Store::open(
        &DatabaseLocation::default_sqlite(folder.path().join("t.db")),
        Arc::new(clock),
    )
    .await?;
    let who = operator();
    let unit = |parent, name: &str, kind| NewUnit {
        parent_id: parent,
        name: name.into(),
        kind,
    };
    let root = store
        .create_unit(&who, unit(None, "Kiruna kommun", UnitKind::Municipality))
        .await?;
    let care = store
        .create_unit(
            &who,
            unit(Some(root.id), "Äldreomsorg", UnitKind::Administration),
        )
        .await?;
    let north = store
        .create_unit(&who, unit(Some(care.id), "Hemtjänst norr", UnitKind::Unit))
        .await?;
    let south = store
        .create_unit(&who, unit(Some(care.id), "Hemtjänst söder", UnitKind::Unit))
        .await?;
    let journal = store
        .create_system(
            &who,
            SystemRequest {
                name: "Journalsystemet".into(),
                description: None,
                owner_id: None,
                supplier: None,
                criticality: Criticality::Critical,
                health_check_url: None,
            },
        )
        .await?;
    let owner = store
        .create_person(
            &who,
            PersonRequest {
                name: "Maria Lind".into(),
                title: Some("Enhetschef".into()),
                phone: None,
                email: None,
                external_id: None,
                language: Default::default(),
                external: false,
                organisation: None,
                unit_ids: vec![north.id],
                confidentiality: None,
            },
        )
        .await?;
    Ok(Municipality {
        store,
        _folder: folder,
        north: north.id,
        south: south.id,
        journal: journal.id,
        owner: owner.id,
    })
}

fn activity(name: &str, mtpd: i64, rto: i64) -> ActivityRequest {
    ActivityRequest {
        name: name.into(),
        description: Some(format!("{name} måste fortsätta")),
        mtpd_minutes: mtpd,
        rto_minutes: rto,
        rpo_minutes: 60,
    }
}

fn step(who: &str, what: &str) -> RoutineStep {
    RoutineStep {
        who: who.into(),
        what: what.into(),
        when: None,
    }
}

fn paper_routine(activity: Option<reserv_domain::ids::ActivityId>) -> RoutineRequest {
    RoutineRequest {
        activity_id: activity,
        key: None,
        title: "Pappersjournal".into(),
        trigger: "Journalsystemet nere mer än 30 minuter".into(),
        classification: Classification::default(),
        steps: vec![
            step("Undersköterska", "Hämta den röda pärmen"),
            step("Undersköterska", "Anteckna givna läkemedel"),
        ],
        materials: vec![Material {
            name: "Läkemedelslista".into(),
            location: Some("Personalrummet".into()),
        }],
        recovery_steps: vec![step("Sjuksköterska", "För in anteckningarna i journalen")],
        lowering_reason: None,
    }
}

/// A plan for `unit` whose version 1 holds one activity that needs the journal system,
/// with its paper routine.
async fn a_plan_with_a_journal_activity(
    town: &Municipality,
    unit: UnitId,
    name: &str,
    rto: i64,
) -> Result<(PlanId, PlanVersionId, CriticalActivity), Box<dyn std::error::Error>> {
    let store = &town.store;
    let who = operator();
    let plan = store
        .create_plan(
            &who,
            NewPlan {
                unit_id: unit,
                title: format!("Kontinuitetsplan {name}"),
                owner_id: Some(town.owner),
                review_interval_months: Some(12),
            },
        )
        .await?;
    let version = store
        .current_version(&who, plan.id)
        .await?
        .ok_or("no first version")?;
    let medication = store
        .add_activity(&who, version.id, activity(name, 480, rto))
        .await?;
    store
        .add_dependency(
            &who,
            medication.id,
            DependencyRequest {
                kind: DependencyKind::ItSystem,
                system_id: Some(town.journal),
                name: None,
            },
        )
        .await?;
    store
        .add_dependency(
            &who,
            medication.id,
            DependencyRequest {
                kind: DependencyKind::Supplier,
                system_id: None,
                name: Some("Apoteket".into()),
            },
        )
        .await?;
    store
        .add_routine(&who, version.id, paper_routine(Some(medication.id)))
        .await?;
    Ok((plan.id, version.id, medication))
}

fn is_conflict<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Domain(DomainError::Conflict(_))))
}

fn field_of<T>(result: &Result<T, StoreError>) -> Option<&str> {
    match result {
        Err(StoreError::Domain(DomainError::Validation { field, .. })) => Some(field),
        _ => None,
    }
}

#[tokio::test]
async fn a_new_draft_copies_the_approved_version_with_everything_in_it() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let (plan, first, medication) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    store
        .add_activity(&who, first, activity("Larm", 60, 15))
        .await?;
    store.approve_version(&reviewer(), first).await?;

    let draft = store.create_draft(&who, plan).await?;
    assert_eq!((draft.version, draft.state), (2, PlanState::Draft));

    let old = store.activities(&who, first).await?;
    let new = store.activities(&who, draft.id).await?;
    let names = |list: &[CriticalActivity]| -> Vec<(String, i32, i32)> {
        list.iter()
            .map(|a| (a.name.clone(), a.mtpd_minutes, a.rto_minutes))
            .collect()
    };
    assert_eq!(names(&old), names(&new));
    assert!(new.iter().all(|a| a.version_id == draft.id));
    assert!(new.iter().all(|a| old.iter().all(|o| o.id != a.id)));

    let copied = new.first().ok_or("no copied activity")?;
    let dependencies = store.dependencies(&who, copied.id).await?;
    let kinds: Vec<_> = dependencies
        .iter()
        .map(|d| (d.dependency.kind, d.dependency.system_id))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (DependencyKind::ItSystem, Some(town.journal)),
            (DependencyKind::Supplier, None)
        ]
    );

    let routines = store.routines(&who, draft.id).await?;
    let routine = routines.first().ok_or("no copied routine")?;
    assert_eq!(routine.activity_id, Some(copied.id));
    assert_ne!(routine.activity_id, Some(medication.id));
    let original = paper_routine(None);
    assert_eq!(routine.steps, original.steps);
    assert_eq!(routine.recovery_steps, original.recovery_steps);
    assert_eq!(routine.materials, original.materials);

    // The approved version is untouched, and a second draft is refused.
    assert_eq!(store.routines(&who, first).await?.len(), 1);
    assert!(is_conflict(&store.create_draft(&who, plan).await));
    Ok(())
}

#[tokio::test]
async fn approving_retires_the_previous_version_and_sets_the_review_date() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let (plan, first, _) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    let approved = store.approve_version(&reviewer(), first).await?;
    assert_eq!(approved.state, PlanState::Approved);
    assert_eq!(approved.approved_by.as_deref(), Some("operator (reviewer)"));
    let due = store.plan(&who, plan).await?.review_due_at;
    assert_eq!(
        due.map(|t| t.to_rfc3339()).as_deref(),
        Some("2027-01-31T10:00:00+00:00")
    );

    let edit = store
        .add_activity(&who, first, activity("Larm", 60, 15))
        .await;
    assert!(is_conflict(&edit));

    let second = store.create_draft(&who, plan).await?;
    store.approve_version(&reviewer(), second.id).await?;
    let states: Vec<_> = store
        .plan_versions(&who, plan)
        .await?
        .iter()
        .map(|v| (v.version, v.state))
        .collect();
    assert_eq!(
        states,
        vec![(1, PlanState::Retired), (2, PlanState::Approved)]
    );
    let current = store.current_version(&who, plan).await?;
    assert_eq!(current.map(|v| v.id), Some(second.id));
    Ok(())
}

#[tokio::test]
async fn an_empty_draft_cannot_be_approved() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let plan = store
        .create_plan(
            &who,
            NewPlan {
                unit_id: town.south,
                title: "Tom plan".into(),
                owner_id: None,
                review_interval_months: None,
            },
        )
        .await?;
    let draft = store.current_version(&who, plan.id).await?.ok_or("draft")?;
    assert!(is_conflict(
        &store.approve_version(&reviewer(), draft.id).await
    ));
    Ok(())
}

#[tokio::test]
async fn references_that_do_not_exist_name_their_field() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let new_plan = |unit, owner| NewPlan {
        unit_id: unit,
        title: "Plan".into(),
        owner_id: owner,
        review_interval_months: None,
    };
    let no_unit = store.create_plan(&who, new_plan(UnitId(999), None)).await;
    assert_eq!(field_of(&no_unit), Some("unitId"));
    let no_owner = store
        .create_plan(&who, new_plan(town.north, Some(PersonId(999))))
        .await;
    assert_eq!(field_of(&no_owner), Some("ownerId"));

    let (_, first, medication) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    let no_system = store
        .add_dependency(
            &who,
            medication.id,
            DependencyRequest {
                kind: DependencyKind::ItSystem,
                system_id: Some(SystemId(999)),
                name: None,
            },
        )
        .await;
    assert_eq!(field_of(&no_system), Some("systemId"));

    let (_, _, elsewhere) =
        a_plan_with_a_journal_activity(&town, town.south, "Trygghetslarm", 30).await?;
    let foreign = store
        .add_routine(&who, first, paper_routine(Some(elsewhere.id)))
        .await;
    assert_eq!(field_of(&foreign), Some("activityId"));
    Ok(())
}

#[tokio::test]
async fn unit_staff_see_only_their_own_units_plans() -> TestResult {
    let town = a_municipality().await?;
    let store = &town.store;
    let (north_plan, north_version, _) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    let (south_plan, _, _) =
        a_plan_with_a_journal_activity(&town, town.south, "Trygghetslarm", 30).await?;

    let worker = someone(Role::CareWorker, Some(town.north));
    let listed: Vec<PlanId> = store
        .plans(&worker, PlanFilter::default(), PageRequest::default())
        .await?
        .items
        .into_iter()
        .map(|(_, plan)| plan.id)
        .collect();
    assert_eq!(listed, vec![north_plan]);
    assert!(store.plan(&worker, south_plan).await.is_err());
    assert!(store.plan(&worker, north_plan).await.is_ok());
    assert!(
        store
            .add_activity(&worker, north_version, activity("Larm", 60, 15))
            .await
            .is_err()
    );

    // A manager of the administration above both units sees both plans.
    let administration = store.unit(&operator(), town.north).await?.parent_id;
    let manager = someone(Role::UnitManager, administration);
    let all = store
        .plans(&manager, PlanFilter::default(), PageRequest::default())
        .await?;
    assert_eq!(all.items.len(), 2);
    let approved_only = PlanFilter {
        state: Some(PlanState::Approved),
        ..PlanFilter::default()
    };
    let approved = store
        .plans(&manager, approved_only, PageRequest::default())
        .await?;
    assert!(approved.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_sensitive_version_is_hidden_from_care_workers_and_its_reads_are_audited() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let (plan, version, _) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    store
        .update_draft(
            &who,
            version,
            VersionContent {
                summary: Some("Skyddade adresser finns i bilaga".into()),
                activation_criteria: None,
                classification: Classification::new(2, 2, 3)?,
                lowering_reason: None,
            },
        )
        .await?;

    let worker = someone(Role::CareWorker, Some(town.north));
    assert!(store.plan_version(&worker, version).await.is_err());
    assert!(store.activities(&worker, version).await.is_err());
    assert!(store.plan_versions(&worker, plan).await?.is_empty());
    // The routine itself is internal, so the care worker can still open it.
    assert_eq!(store.routines(&worker, version).await?.len(), 1);

    let manager = someone(Role::UnitManager, Some(town.north));
    store.plan_version(&manager, version).await?;
    let reads = store
        .audit_events(
            &who,
            &AuditFilter {
                actor: Some("unit_manager".into()),
                object_type: Some("plan_version".into()),
                object_id: Some(version.to_string()),
                action: Some(AuditAction::Read),
                ..AuditFilter::default()
            },
            PageRequest::default(),
        )
        .await?;
    assert!(!reads.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn impact_lists_the_most_urgent_activities_first_with_their_routines() -> TestResult {
    let town = a_municipality().await?;
    let (store, who) = (&town.store, operator());
    let (north_plan, north_first, _) =
        a_plan_with_a_journal_activity(&town, town.north, "Läkemedel", 120).await?;
    store.approve_version(&reviewer(), north_first).await?;
    // A new draft must not count twice while the approved version is in force.
    store.create_draft(&who, north_plan).await?;
    a_plan_with_a_journal_activity(&town, town.south, "Trygghetslarm", 30).await?;

    let impact = store.impact(&who, town.journal).await?;
    let seen: Vec<(&str, UnitId, usize)> = impact
        .activities
        .iter()
        .map(|a| (a.activity.name.as_str(), a.unit.id, a.routines.len()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("Trygghetslarm", town.south, 1),
            ("Läkemedel", town.north, 1)
        ]
    );
    let north = impact
        .activities
        .iter()
        .find(|a| a.unit.id == town.north)
        .ok_or("north")?;
    assert_eq!(north.version.id, north_first);
    assert_eq!(impact.units().len(), 2);

    let worker = someone(Role::CareWorker, Some(town.north));
    let limited = store.impact(&worker, town.journal).await?;
    assert_eq!(limited.activities.len(), 1);
    assert_eq!(limited.units().first().map(|u| u.id), Some(town.north));
    Ok(())
}
