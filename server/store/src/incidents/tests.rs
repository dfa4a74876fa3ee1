//! The incident use cases against a real SQLite file: who sees which incident, the life
//! cycle, the append-only crisis log and tasks.

use crate::{
    AuditFilter, DatabaseLocation, IncidentEdit, IncidentFilter, PageRequest, Store, StoreError,
};
use chrono::{Duration, Utc};
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::Classification;
use reserv_domain::ids::{AccountId, IncidentId, LogEntryId, PersonId, SystemId, UnitId};
use reserv_domain::incidents::{
    Incident, IncidentChange, IncidentKind, IncidentState, LogEntryKind, NewIncident, NewLogEntry,
    NewTask, Severity, TaskState,
};
use reserv_domain::people::{Language, PersonRequest};
use reserv_domain::systems::{Criticality, SystemRequest};
use reserv_domain::units::{NewUnit, UnitKind};
use reserv_domain::{DomainError, SystemClock};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A municipality with one home-care service and two of its units, a journal system,
/// and two care workers who are also registered as people.
struct Municipality {
    store: Store,
    _dir: tempfile::TempDir,
    operator: Principal,
    home_care: UnitId,
    north: UnitId,
    south: UnitId,
    journal: SystemId,
    karin: PersonId,
    omar: PersonId,
}

async fn a_municipality_with_home_care() -> Result<Municipality, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(
        &DatabaseLocation::default_sqlite(dir.path().join("t.db")),
        Arc::new(SystemClock),
    )
    .await?;
    let operator = Principal::operator("test");
    let mut parent = None;
    let mut chain = Vec::new();
    for (name, kind) in [
        ("Kiruna kommun", UnitKind::Municipality),
        ("Socialförvaltningen", UnitKind::Administration),
        ("Hemtjänst", UnitKind::Service),
    ] {
        let unit = store
            .create_unit(
                &operator,
                NewUnit {
                    parent_id: parent,
                    name: name.into(),
                    kind,
                },
            )
            .await?;
        parent = Some(unit.id);
        chain.push(unit.id);
    }
    let home_care = parent.ok_or("no service")?;
    let leaf = |name: &'static str| {
        let (store, operator) = (&store, &operator);
        async move {
            store
                .create_unit(
                    operator,
                    NewUnit {
                        parent_id: Some(home_care),
                        name: name.into(),
                        kind: UnitKind::Unit,
                    },
                )
                .await
                .map(|unit| unit.id)
        }
    };
    let north = leaf("Hemtjänst Norr").await?;
    let south = leaf("Hemtjänst Syd").await?;
    let journal = store
        .create_system(
            &operator,
            SystemRequest {
                name: "Journalsystemet".into(),
                description: None,
                owner_id: None,
                supplier: None,
                criticality: Criticality::Critical,
                health_check_url: None,
            },
        )
        .await?
        .id;
    let person = async |name: &str, unit: UnitId| {
        store
            .create_person(
                &operator,
                PersonRequest {
                    name: name.into(),
                    title: Some("Undersköterska".into()),
                    phone: None,
                    email: None,
                    external_id: None,
                    language: Language::Sv,
                    external: false,
                    organisation: None,
                    unit_ids: vec![unit],
                    confidentiality: None,
                },
            )
            .await
            .map(|person| person.id)
    };
    let karin = person("Karin Lindqvist", north).await?;
    let omar = person("Omar Haddad", south).await?;
    Ok(Municipality {
        store,
        _dir: dir,
        operator,
        home_care,
        north,
        south,
        journal,
        karin,
        omar,
    })
}

fn someone(name: &str, grants: &[(Role, Option<UnitId>)], person: Option<PersonId>) -> Principal {
    Principal {
        account_id: Some(AccountId(1)),
        username: name.into(),
        person_id: person,
        grants: grants
            .iter()
            .map(|(role, unit)| RoleGrant {
                role: *role,
                unit: *unit,
                raised_clearance: None,
            })
            .collect(),
        client_address: None,
    }
}

fn crisis_lead() -> Principal {
    someone("krisledare", &[(Role::CrisisLead, None)], None)
}

fn outage(title: &str, units: &[UnitId], confidentiality: i64) -> NewIncident {
    NewIncident {
        title: title.into(),
        description: Some("Journalsystemet svarar inte".into()),
        kind: IncidentKind::ItOutage,
        severity: 2,
        exercise: false,
        classification: Classification::new(confidentiality, 2, 3).unwrap_or_default(),
        unit_ids: units.to_vec(),
        system_ids: Vec::new(),
    }
}

fn observation(text: &str) -> NewLogEntry {
    NewLogEntry {
        kind: LogEntryKind::Observation,
        text: text.into(),
        occurred_at: None,
        corrects: None,
        confidentiality: None,
    }
}

fn invalid_field<T>(result: crate::Result<T>) -> Option<String> {
    match result {
        Err(StoreError::Domain(DomainError::Validation { field, .. })) => Some(field),
        _ => None,
    }
}

fn is_forbidden<T>(result: &crate::Result<T>) -> bool {
    matches!(result, Err(StoreError::Domain(DomainError::Forbidden(_))))
}

fn is_conflict<T>(result: &crate::Result<T>) -> bool {
    matches!(result, Err(StoreError::Domain(DomainError::Conflict(_))))
}

async fn listed(
    store: &Store,
    who: &Principal,
    filter: IncidentFilter,
) -> crate::Result<Vec<IncidentId>> {
    let page = store.incidents(who, filter, PageRequest::default()).await?;
    Ok(page
        .items
        .into_iter()
        .map(|(_, incident)| incident.id)
        .collect())
}

#[tokio::test]
async fn a_care_worker_reports_an_outage_in_their_unit() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let worker = someone("karin", &[(Role::CareWorker, Some(m.north))], Some(m.karin));
    let reported = m
        .store
        .report_incident(
            &worker,
            NewIncident {
                system_ids: vec![m.journal],
                ..outage("Journalen nere", &[m.north], 1)
            },
        )
        .await?;
    assert_eq!(reported.state, IncidentState::Reported);
    assert_eq!(reported.reported_by.as_deref(), Some("karin"));
    assert_eq!(reported.unit_ids, vec![m.north]);
    assert_eq!(reported.system_ids, vec![m.journal]);
    assert_eq!(m.store.incident(&worker, reported.id).await?, reported);

    let elsewhere = m
        .store
        .report_incident(&worker, outage("Larmen tysta", &[m.south], 1))
        .await;
    assert!(is_forbidden(&elsewhere));
    let nowhere = m
        .store
        .report_incident(&worker, outage("Allt nere", &[], 1))
        .await;
    assert_eq!(
        invalid_field(nowhere).as_deref(),
        Some("unitIds"),
        "unit staff are asked to name one of their units"
    );
    Ok(())
}

#[tokio::test]
async fn reporting_names_missing_units_and_systems() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let unit = m
        .store
        .report_incident(&lead, outage("Okänd enhet", &[UnitId(999)], 1))
        .await;
    assert_eq!(invalid_field(unit).as_deref(), Some("unitIds"));
    let system = m
        .store
        .report_incident(
            &lead,
            NewIncident {
                system_ids: vec![SystemId(999)],
                ..outage("Okänt system", &[m.north], 1)
            },
        )
        .await;
    assert_eq!(invalid_field(system).as_deref(), Some("systemIds"));
    let severity = m
        .store
        .report_incident(
            &lead,
            NewIncident {
                severity: 9,
                ..outage("Fel allvarlighet", &[m.north], 1)
            },
        )
        .await;
    assert_eq!(invalid_field(severity).as_deref(), Some("severity"));
    Ok(())
}

#[tokio::test]
async fn each_reader_sees_the_incidents_of_their_units_up_to_their_clearance() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let report = |incident| m.store.report_incident(&lead, incident);
    let north = report(outage("Norr", &[m.north], 1)).await?.id;
    let south = report(outage("Syd", &[m.south], 1)).await?.id;
    let secret_north = report(outage("Intrång Norr", &[m.north], 3)).await?.id;
    let everywhere = report(outage("Elavbrott", &[], 1)).await?.id;
    let sensitive_south = report(outage("Personuppgifter Syd", &[m.south], 2))
        .await?
        .id;

    let all = IncidentFilter::default;
    assert_eq!(
        listed(&m.store, &lead, all()).await?,
        vec![north, south, secret_north, everywhere, sensitive_south]
    );
    let service_manager = someone("chef", &[(Role::UnitManager, Some(m.home_care))], None);
    assert_eq!(
        listed(&m.store, &service_manager, all()).await?,
        vec![north, south, sensitive_south]
    );
    let worker = someone("karin", &[(Role::CareWorker, Some(m.north))], None);
    assert_eq!(listed(&m.store, &worker, all()).await?, vec![north]);
    // A manager in the north who also works shifts in the south has a manager's
    // clearance only in the north.
    let mixed = someone(
        "lisa",
        &[
            (Role::UnitManager, Some(m.north)),
            (Role::CareWorker, Some(m.south)),
        ],
        None,
    );
    assert_eq!(listed(&m.store, &mixed, all()).await?, vec![north, south]);
    assert!(is_forbidden(
        &m.store.incident(&mixed, sensitive_south).await
    ));
    assert!(is_forbidden(&m.store.incident(&worker, south).await));
    assert!(is_forbidden(&m.store.incident(&worker, secret_north).await));

    let nobody = someone("ingen", &[], None);
    assert!(is_forbidden(
        &m.store
            .incidents(&nobody, all(), PageRequest::default())
            .await
    ));
    Ok(())
}

#[tokio::test]
async fn incidents_are_filtered_and_paged() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let severe = m
        .store
        .report_incident(
            &lead,
            NewIncident {
                severity: 1,
                ..outage("Brand", &[m.north], 1)
            },
        )
        .await?
        .id;
    let drill = m
        .store
        .report_incident(
            &lead,
            NewIncident {
                exercise: true,
                severity: 3,
                ..outage("Övning", &[m.south], 1)
            },
        )
        .await?
        .id;
    let triaged = m
        .store
        .report_incident(&lead, outage("Nätverk", &[m.south], 1))
        .await?
        .id;
    m.store
        .change_incident_state(&lead, triaged, IncidentState::Triaged)
        .await?;

    let filter = |f: IncidentFilter| listed(&m.store, &lead, f);
    assert_eq!(
        filter(IncidentFilter {
            severity_at_least: Some(Severity::new(2)?),
            ..Default::default()
        })
        .await?,
        vec![severe, triaged]
    );
    assert_eq!(
        filter(IncidentFilter {
            exercise: Some(true),
            ..Default::default()
        })
        .await?,
        vec![drill]
    );
    assert_eq!(
        filter(IncidentFilter {
            states: vec![IncidentState::Triaged, IncidentState::Active],
            ..Default::default()
        })
        .await?,
        vec![triaged]
    );
    assert_eq!(
        filter(IncidentFilter {
            unit_id: Some(m.south),
            ..Default::default()
        })
        .await?,
        vec![drill, triaged]
    );
    // A unit higher up covers the incidents of the units below it.
    assert_eq!(
        filter(IncidentFilter {
            unit_id: Some(m.home_care),
            ..Default::default()
        })
        .await?,
        vec![severe, drill, triaged]
    );

    let first = m
        .store
        .incidents(
            &lead,
            IncidentFilter::default(),
            PageRequest::new(None, Some(2))?,
        )
        .await?;
    assert!(first.has_next_page);
    let after = first.items.last().map(|(cursor, _)| *cursor);
    let second = m
        .store
        .incidents(
            &lead,
            IncidentFilter::default(),
            PageRequest::new(after, Some(2))?,
        )
        .await?;
    assert!(!second.has_next_page);
    assert_eq!(
        second.items.iter().map(|(_, i)| i.id).collect::<Vec<_>>(),
        vec![triaged]
    );
    Ok(())
}

#[tokio::test]
async fn an_incident_follows_its_life_cycle_and_tells_its_watchers() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let id = m
        .store
        .report_incident(&lead, outage("Journalen nere", &[m.north], 1))
        .await?
        .id;
    let mut changes = m.store.subscribe_incident_changes();

    let skipped = m
        .store
        .change_incident_state(&lead, id, IncidentState::Active)
        .await;
    assert!(is_conflict(&skipped));
    let manager = someone("chef", &[(Role::UnitManager, Some(m.north))], None);
    let not_theirs = m
        .store
        .change_incident_state(&manager, id, IncidentState::Triaged)
        .await;
    assert!(is_forbidden(&not_theirs));

    let mut last: Option<Incident> = None;
    for state in [
        IncidentState::Triaged,
        IncidentState::Active,
        IncidentState::Recovering,
        IncidentState::Closed,
    ] {
        let changed = m.store.change_incident_state(&lead, id, state).await?;
        assert_eq!(changed.state, state);
        match changes.try_recv() {
            Ok(IncidentChange::StateChanged { incident }) => assert_eq!(*incident, changed),
            other => return Err(format!("expected a state change, got {other:?}").into()),
        }
        last = Some(changed);
    }
    let closed = last.ok_or("no state change")?;
    assert!(closed.closed_at.is_some());
    // Refused changes were never announced.
    assert!(changes.try_recv().is_err());

    assert!(is_conflict(
        &m.store
            .add_log_entry(&lead, id, observation("För sent"))
            .await
    ));
    let task = NewTask {
        title: "Ring larmcentralen".into(),
        assignee_id: None,
        assignee_role: None,
        due_at: None,
        confidentiality: None,
    };
    assert!(is_conflict(&m.store.create_task(&lead, id, task).await));
    assert!(is_conflict(
        &m.store.assign_commander(&lead, id, m.karin).await
    ));
    assert!(is_conflict(
        &m.store
            .change_incident_state(&lead, id, IncidentState::Active)
            .await
    ));
    Ok(())
}

#[tokio::test]
async fn the_crisis_staff_edit_an_open_incident() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let id = m
        .store
        .report_incident(&lead, outage("Journalen nere", &[m.north], 1))
        .await?
        .id;
    let edited = m
        .store
        .update_incident(
            &lead,
            id,
            IncidentEdit {
                title: Some("Journalen nere i hela hemtjänsten".into()),
                description: Some(None),
                severity: Some(1),
                classification: None,
                lowering_reason: None,
            },
        )
        .await?;
    assert_eq!(edited.title, "Journalen nere i hela hemtjänsten");
    assert_eq!(edited.description, None);
    assert_eq!(edited.severity.level(), 1);
    assert_eq!(edited.unit_ids, vec![m.north]);
    let bad = m
        .store
        .update_incident(
            &lead,
            id,
            IncidentEdit {
                title: Some("  ".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(invalid_field(bad).as_deref(), Some("title"));

    let commanded = m.store.assign_commander(&lead, id, m.omar).await?;
    assert_eq!(commanded.commander_id, Some(m.omar));
    let nobody = m.store.assign_commander(&lead, id, PersonId(999)).await;
    assert_eq!(invalid_field(nobody).as_deref(), Some("commanderId"));

    // Moving the incident to the south moves it out of the north's sight.
    let worker = someone("karin", &[(Role::CareWorker, Some(m.north))], None);
    assert!(m.store.incident(&worker, id).await.is_ok());
    let moved = m.store.set_incident_units(&lead, id, vec![m.south]).await?;
    assert_eq!(moved.unit_ids, vec![m.south]);
    assert!(is_forbidden(&m.store.incident(&worker, id).await));
    let with_system = m
        .store
        .set_incident_systems(&lead, id, vec![m.journal, m.journal])
        .await?;
    assert_eq!(with_system.system_ids, vec![m.journal]);
    let missing = m
        .store
        .set_incident_systems(&lead, id, vec![SystemId(999)])
        .await;
    assert_eq!(invalid_field(missing).as_deref(), Some("systemIds"));
    Ok(())
}

#[tokio::test]
async fn the_crisis_log_keeps_order_and_corrections_point_within_the_incident() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let id = m
        .store
        .report_incident(&lead, outage("Journalen nere", &[m.north], 2))
        .await?
        .id;
    let other = m
        .store
        .report_incident(&lead, outage("Larmen", &[m.south], 1))
        .await?
        .id;
    let mut changes = m.store.subscribe_incident_changes();

    let now = Utc::now();
    let later = m
        .store
        .add_log_entry(&lead, id, observation("Pappersrutinen startad"))
        .await?;
    let earlier = m
        .store
        .add_log_entry(
            &lead,
            id,
            NewLogEntry {
                kind: LogEntryKind::Decision,
                occurred_at: Some(now - Duration::hours(2)),
                ..observation("Beslut: gå över till papper (antecknat på papper)")
            },
        )
        .await?;
    assert_eq!(later.author, "krisledare");
    assert!(matches!(
        changes.try_recv(),
        Ok(IncidentChange::LogEntryAdded { entry }) if entry == later
    ));

    let elsewhere = m
        .store
        .add_log_entry(&lead, other, observation("Fel logg"))
        .await?;
    let crossed = m
        .store
        .add_log_entry(
            &lead,
            id,
            NewLogEntry {
                corrects: Some(elsewhere.id),
                ..observation("Rättelse")
            },
        )
        .await;
    assert_eq!(invalid_field(crossed).as_deref(), Some("corrects"));
    let unknown = m
        .store
        .add_log_entry(
            &lead,
            id,
            NewLogEntry {
                corrects: Some(LogEntryId(999)),
                ..observation("Rättelse")
            },
        )
        .await;
    assert_eq!(invalid_field(unknown).as_deref(), Some("corrects"));
    let future = m
        .store
        .add_log_entry(
            &lead,
            id,
            NewLogEntry {
                occurred_at: Some(now + Duration::hours(1)),
                ..observation("I morgon")
            },
        )
        .await;
    assert_eq!(invalid_field(future).as_deref(), Some("occurredAt"));

    let north_manager = someone("chef-norr", &[(Role::UnitManager, Some(m.north))], None);
    let correction = m
        .store
        .add_log_entry(
            &north_manager,
            id,
            NewLogEntry {
                corrects: Some(later.id),
                ..observation("Rättelse: pappersrutinen startade i Norr, inte i Syd")
            },
        )
        .await?;
    assert_eq!(correction.corrects, Some(later.id));

    let log = m.store.crisis_log(&lead, id).await?;
    assert_eq!(
        log.iter().map(|entry| entry.id).collect::<Vec<_>>(),
        vec![earlier.id, later.id, correction.id]
    );

    // Unit staff write only where the incident touches their units, everyone only up
    // to their clearance, and viewers never.
    let secret = m
        .store
        .report_incident(&lead, outage("Dataintrång", &[m.north], 3))
        .await?
        .id;
    let south_manager = someone("chef-syd", &[(Role::UnitManager, Some(m.south))], None);
    let communicator = someone("info", &[(Role::Communicator, None)], None);
    let viewer = someone("läsare", &[(Role::Viewer, None)], None);
    let north_worker = someone("karin", &[(Role::CareWorker, Some(m.north))], None);
    for (who, incident) in [
        (&south_manager, id),
        (&viewer, id),
        (&communicator, secret),
        (&north_worker, id),
    ] {
        let refused = m
            .store
            .add_log_entry(who, incident, observation("Får inte"))
            .await;
        assert!(is_forbidden(&refused), "{} wrote in the log", who.username);
    }
    let internal_north = m
        .store
        .report_incident(&lead, outage("Skrivaren", &[m.north], 1))
        .await?
        .id;
    assert!(
        m.store
            .add_log_entry(
                &north_worker,
                internal_north,
                observation("Papperslistorna räcker till kl 16")
            )
            .await
            .is_ok()
    );
    assert!(
        m.store
            .add_log_entry(&communicator, id, observation("Pressmeddelande ute"))
            .await
            .is_ok()
    );
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_the_crisis_log() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let id = m
        .store
        .report_incident(&lead, outage("Journalen nere", &[m.north], 1))
        .await?
        .id;
    let entry = m
        .store
        .add_log_entry(&lead, id, observation("Beslut fattat kl 09"))
        .await?;

    let update = m
        .store
        .db
        .execute_unprepared(&format!(
            "UPDATE crisis_log_entries SET text = 'Inget beslut' WHERE id = {}",
            entry.id
        ))
        .await;
    assert!(update.is_err());
    let delete = m
        .store
        .db
        .execute_unprepared(&format!(
            "DELETE FROM crisis_log_entries WHERE id = {}",
            entry.id
        ))
        .await;
    assert!(delete.is_err());

    let stored = crate::entities::crisis_log_entries::Entity::find_by_id(entry.id.0)
        .one(&m.store.db)
        .await?
        .ok_or("the entry is gone")?;
    assert_eq!(stored.text, "Beslut fattat kl 09");
    assert_eq!(m.store.crisis_log(&lead, id).await?, vec![entry]);
    Ok(())
}

#[tokio::test]
async fn assignees_move_their_own_tasks_and_see_them_listed() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let id = m
        .store
        .report_incident(&lead, outage("Journalen nere", &[m.north], 1))
        .await?
        .id;
    let mut changes = m.store.subscribe_incident_changes();
    let task = |title: &str, assignee| NewTask {
        title: title.into(),
        assignee_id: assignee,
        assignee_role: None,
        due_at: Some(Utc::now() + Duration::hours(1)),
        confidentiality: None,
    };
    let print = m
        .store
        .create_task(&lead, id, task("Skriv ut brukarlistor", Some(m.karin)))
        .await?;
    assert_eq!(print.state, TaskState::Open);
    assert!(matches!(
        changes.try_recv(),
        Ok(IncidentChange::TaskChanged { task }) if task == print
    ));
    let unassigned = m
        .store
        .create_task(&lead, id, task("Kontakta leverantören", None))
        .await?;
    assert!(matches!(
        changes.try_recv(),
        Ok(IncidentChange::TaskChanged { task }) if task == unassigned
    ));
    let nobody = m
        .store
        .create_task(&lead, id, task("Okänd", Some(PersonId(999))))
        .await;
    assert_eq!(invalid_field(nobody).as_deref(), Some("assigneeId"));
    let karin = someone("karin", &[(Role::CareWorker, Some(m.north))], Some(m.karin));
    assert!(is_forbidden(
        &m.store
            .create_task(&karin, id, task("Egen", Some(m.karin)))
            .await
    ));

    assert_eq!(m.store.my_tasks(&karin).await?, vec![print.clone()]);
    let started = m
        .store
        .change_task_state(&karin, print.id, TaskState::InProgress)
        .await?;
    assert_eq!(started.state, TaskState::InProgress);
    assert!(matches!(
        changes.try_recv(),
        Ok(IncidentChange::TaskChanged { task }) if task == started
    ));
    assert!(is_forbidden(
        &m.store
            .change_task_state(&karin, unassigned.id, TaskState::Done)
            .await
    ));
    let omar = someone("omar", &[(Role::CareWorker, Some(m.south))], Some(m.omar));
    assert!(is_forbidden(
        &m.store
            .change_task_state(&omar, print.id, TaskState::Done)
            .await
    ));
    assert!(m.store.my_tasks(&omar).await?.is_empty());

    m.store
        .change_task_state(&karin, print.id, TaskState::Done)
        .await?;
    assert!(m.store.my_tasks(&karin).await?.is_empty());
    assert!(is_conflict(
        &m.store
            .change_task_state(&lead, print.id, TaskState::Open)
            .await
    ));
    let listed: Vec<_> = m
        .store
        .tasks(&lead, id)
        .await?
        .into_iter()
        .map(|task| (task.id, task.state))
        .collect();
    assert_eq!(
        listed,
        vec![
            (print.id, TaskState::Done),
            (unassigned.id, TaskState::Open)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn reading_a_sensitive_incident_is_audited() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let sensitive = m
        .store
        .report_incident(&lead, outage("Dataintrång", &[m.north], 2))
        .await?
        .id;
    let internal = m
        .store
        .report_incident(&lead, outage("Skrivaren", &[m.north], 1))
        .await?
        .id;
    m.store.incident(&lead, sensitive).await?;
    m.store.incident(&lead, internal).await?;
    m.store.crisis_log(&lead, sensitive).await?;

    let reads = |object_type: &'static str, id: IncidentId| {
        let (store, operator) = (&m.store, &m.operator);
        async move {
            let id = id.to_string();
            store
                .audit_events(
                    operator,
                    &AuditFilter {
                        object_type: Some(object_type.into()),
                        object_id: Some(id),
                        action: Some(AuditAction::Read),
                        ..AuditFilter::default()
                    },
                    PageRequest::default(),
                )
                .await
                .map(|page| page.items.len())
        }
    };
    // Outside a request each read is recorded at once: the incident, then its log.
    assert_eq!(reads("incident", sensitive).await?, 2);
    assert_eq!(reads("incident", internal).await?, 0);
    Ok(())
}

#[tokio::test]
async fn use_cases_compose_into_one_change_that_commits_or_leaves_nothing() -> TestResult {
    let m = a_municipality_with_home_care().await?;
    let lead = crisis_lead();
    let mut watcher = m.store.subscribe_incident_changes();
    let events = |action: AuditAction| {
        let (store, operator) = (&m.store, &m.operator);
        async move {
            store
                .audit_events(
                    operator,
                    &AuditFilter {
                        action: Some(action),
                        ..AuditFilter::default()
                    },
                    PageRequest::default(),
                )
                .await
                .map(|page| page.items.len())
        }
    };

    // Two use cases in one change: both audit events, announced only after the commit.
    let mut change = m.store.change().await?;
    let incident = m
        .store
        .report_incident_in(
            &mut change,
            &lead,
            outage("Journalen nere", &[m.north], 1),
            None,
        )
        .await?;
    m.store
        .append_log_entry_in(&mut change, &lead, incident.id, observation("Papper"), None)
        .await?;
    assert!(
        watcher.try_recv().is_err(),
        "nothing is announced before the commit"
    );
    m.store
        .conclude(
            change,
            &lead,
            crate::audit::Audit::new(AuditAction::Test, "incident"),
            Ok(()),
        )
        .await?;
    assert!(matches!(
        watcher.try_recv()?,
        IncidentChange::Reported { .. }
    ));
    assert!(matches!(
        watcher.try_recv()?,
        IncidentChange::LogEntryAdded { .. }
    ));
    assert_eq!(m.store.crisis_log(&lead, incident.id).await?.len(), 1);
    assert_eq!(events(AuditAction::Report).await?, 1);

    // A later step that fails takes the earlier ones with it.
    let mut change = m.store.change().await?;
    let second = m
        .store
        .report_incident_in(
            &mut change,
            &lead,
            outage("Larmen tysta", &[m.south], 1),
            None,
        )
        .await?;
    let failed = m
        .store
        .create_task_in(
            &mut change,
            &lead,
            second.id,
            NewTask {
                title: String::new(),
                assignee_id: None,
                assignee_role: None,
                due_at: None,
                confidentiality: None,
            },
        )
        .await;
    let concluded = m
        .store
        .conclude(
            change,
            &lead,
            crate::audit::Audit::new(AuditAction::Test, "incident"),
            failed,
        )
        .await;
    assert!(invalid_field(concluded).is_some());
    assert!(
        watcher.try_recv().is_err(),
        "a rolled back change is not announced"
    );
    assert_eq!(
        listed(&m.store, &lead, IncidentFilter::default()).await?,
        vec![incident.id]
    );
    assert_eq!(events(AuditAction::Report).await?, 1);
    assert_eq!(
        events(AuditAction::Test).await?,
        1,
        "the refusal is recorded once"
    );
    Ok(())
}
