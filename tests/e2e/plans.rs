//! Continuity plans: a unit manager writes a plan with critical activities and fallback
//! routines, approves it, and starts the next version; others may read or not, as their
//! role and unit allow.

use anyhow::Context;
use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};

pub(crate) const NORR: &str = "Hemtjänst Norr – centrala Norrbyn";
pub(crate) const SYD: &str = "Hemtjänst Syd – Älvsund och Bergträsk";
pub(crate) const SOLGARDEN: &str = "Solgårdens vård- och omsorgsboende";
pub(crate) const CARE_SYSTEM: &str = "Verksamhetssystem vård och omsorg";

const CREATE_PLAN: &str = "mutation($input: PlanInput!) { createPlan(input: $input) { id title reviewIntervalMonths reviewDueAt unit { name } owner { name } currentVersion { id version state } } }";
const UPDATE_DRAFT: &str = "mutation($id: ID!, $input: VersionContentInput!) { updateDraft(id: $id, input: $input) { summary activationCriteria classification { confidentiality integrity availability } } }";
const ADD_ACTIVITY: &str = "mutation($version: ID!, $input: ActivityInput!) { addActivity(versionId: $version, input: $input) { id name mtpdMinutes rtoMinutes rpoMinutes } }";
const UPDATE_ACTIVITY: &str = "mutation($id: ID!, $input: ActivityInput!) { updateActivity(id: $id, input: $input) { id rtoMinutes } }";
const REMOVE_ACTIVITY: &str = "mutation($id: ID!) { removeActivity(id: $id) }";
const ADD_DEPENDENCY: &str = "mutation($activity: ID!, $input: DependencyInput!) { addDependency(activityId: $activity, input: $input) { id kind system { name } name } }";
const REMOVE_DEPENDENCY: &str = "mutation($id: ID!) { removeDependency(id: $id) }";
const ADD_ROUTINE: &str = "mutation($version: ID!, $input: RoutineInput!) { addRoutine(versionId: $version, input: $input) { id title activity { name } steps { who what when } materials { name location } recoverySteps { who what when } } }";
const UPDATE_ROUTINE: &str = "mutation($id: ID!, $input: RoutineInput!) { updateRoutine(id: $id, input: $input) { id title } }";
const REMOVE_ROUTINE: &str = "mutation($id: ID!) { removeRoutine(id: $id) }";
const CREATE_DRAFT: &str =
    "mutation($plan: ID!) { createDraft(planId: $plan) { id version state approvedAt } }";
const APPROVE: &str =
    "mutation($id: ID!) { approvePlanVersion(id: $id) { id version state approvedAt approvedBy } }";
const RETIRE: &str = "mutation($id: ID!) { retirePlanVersion(id: $id) { id version state } }";

/// Everything a version holds, without ids, so that two versions can be compared.
const VERSION_CONTENT: &str = "query($id: ID!) { planVersion(id: $id) { summary activationCriteria classification { confidentiality integrity availability } activities { name description mtpdMinutes rtoMinutes rpoMinutes dependencies { kind system { name } name } routines { title } } routines { title trigger classification { confidentiality integrity availability } activity { name } steps { who what when } materials { name location } recoverySteps { who what when } } } }";
/// A plan's life cycle: its versions and their states.
const PLAN_STATE: &str = "query($id: ID!) { plan(id: $id) { reviewDueAt currentVersion { id version state } versions { id version state approvedAt approvedBy } } }";
const PLAN_TITLES: &str =
    "query($filter: PlanFilter) { plans(filter: $filter, first: 200) { nodes { id title } } }";

/// The text at `value`, which must be there.
pub(crate) fn text(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("expected a string, got {value}"))
}

pub(crate) async fn unit_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let data = client.data("{ units { id name } }", json!({})).await?;
    id_where(&data["units"], "name", name)
}

pub(crate) async fn system_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let data = client.data("{ itSystems { id name } }", json!({})).await?;
    id_where(&data["itSystems"], "name", name)
}

/// The id of the (first) plan of a unit, as `client` lists them.
pub(crate) async fn plan_of(client: &Client, unit: &str) -> anyhow::Result<String> {
    let unit = unit_id(client, unit).await?;
    let data = client
        .data(PLAN_TITLES, json!({ "filter": { "unitId": unit } }))
        .await?;
    text(&data["plans"]["nodes"][0]["id"])
}

/// The titles of the plans `client` lists with `filter`, oldest first.
async fn plan_titles(client: &Client, filter: Value) -> anyhow::Result<Vec<String>> {
    let data = client
        .data(PLAN_TITLES, json!({ "filter": filter }))
        .await?;
    data["plans"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|plan| text(&plan["title"]))
        .collect()
}

pub(crate) async fn version_content(client: &Client, version: &str) -> anyhow::Result<Value> {
    Ok(client
        .data(VERSION_CONTENT, json!({ "id": version }))
        .await?["planVersion"]
        .clone())
}

async fn plan_state(client: &Client, plan: &str) -> anyhow::Result<Value> {
    Ok(client.data(PLAN_STATE, json!({ "id": plan })).await?["plan"].clone())
}

pub(crate) fn activity_input(name: &str, mtpd: i64, rto: i64) -> Value {
    json!({ "name": name, "mtpdMinutes": mtpd, "rtoMinutes": rto, "rpoMinutes": 0 })
}

pub(crate) fn routine_input(activity: Option<&str>, title: &str, confidentiality: i64) -> Value {
    json!({
        "activityId": activity,
        "title": title,
        "trigger": "Läkemedelsmodulen går inte att nå på mer än 15 minuter",
        "classification": { "confidentiality": confidentiality, "integrity": 3, "availability": 3 },
        "steps": [
            { "who": "Sjuksköterska", "what": "Hämtar de utskrivna signeringslistorna ur läkemedelspärmen", "when": "Direkt vid avbrott" },
            { "who": "Undersköterska", "what": "Signerar varje överlämnad dos på papperslistan" }
        ],
        "materials": [{ "name": "Utskrivna signeringslistor", "location": "Läkemedelspärmen" }],
        "recoverySteps": [{ "who": "Sjuksköterska", "what": "Efterregistrerar signeringarna", "when": "Inom 48 timmar" }]
    })
}

/// A draft written by a unit manager: one activity that depends on an IT system, with
/// a fallback routine at confidentiality 1 (readable by the unit's care workers).
pub(crate) struct WrittenPlan {
    pub plan: String,
    pub version: String,
    pub activity: String,
    pub dependency: String,
    pub routine: String,
}

pub(crate) const WRITTEN_ACTIVITY: &str = "Läkemedelsöverlämning vid vinterstorm";
pub(crate) const WRITTEN_ROUTINE: &str = "Papperslista för läkemedel";

pub(crate) async fn write_plan(
    manager: &Client,
    unit: &str,
    system: &str,
) -> anyhow::Result<WrittenPlan> {
    let created = manager
        .data(
            CREATE_PLAN,
            json!({ "input": { "unitId": unit, "title": "Kontinuitetsplan vinterstorm" } }),
        )
        .await?;
    let plan = text(&created["createPlan"]["id"])?;
    let version = text(&created["createPlan"]["currentVersion"]["id"])?;
    let activity = manager
        .data(
            ADD_ACTIVITY,
            json!({ "version": version, "input": activity_input(WRITTEN_ACTIVITY, 240, 45) }),
        )
        .await?;
    let activity = text(&activity["addActivity"]["id"])?;
    let dependency = manager
        .data(
            ADD_DEPENDENCY,
            json!({ "activity": activity, "input": { "kind": "IT_SYSTEM", "systemId": system } }),
        )
        .await?;
    let dependency = text(&dependency["addDependency"]["id"])?;
    let routine = manager
        .data(
            ADD_ROUTINE,
            json!({ "version": version, "input": routine_input(Some(&activity), WRITTEN_ROUTINE, 1) }),
        )
        .await?;
    let routine = text(&routine["addRoutine"]["id"])?;
    Ok(WrittenPlan {
        plan,
        version,
        activity,
        dependency,
        routine,
    })
}

pub(crate) async fn approve(client: &Client, version: &str) -> anyhow::Result<Value> {
    Ok(client.data(APPROVE, json!({ "id": version })).await?["approvePlanVersion"].clone())
}

pub(crate) async fn create_draft(client: &Client, plan: &str) -> anyhow::Result<Value> {
    Ok(client.data(CREATE_DRAFT, json!({ "plan": plan })).await?["createDraft"].clone())
}

/// Checks that the review is due `months` after the approval: same month of the year
/// (for whole years) and the same time of day. The day may be clamped at a month's end.
fn assert_due_a_year_after(approved_at: &str, due: &str) -> anyhow::Result<()> {
    let year = |stamp: &str| -> anyhow::Result<i32> {
        stamp
            .get(..4)
            .and_then(|year| year.parse().ok())
            .with_context(|| format!("not a timestamp: {stamp}"))
    };
    assert_eq!(year(due)?, year(approved_at)? + 1, "{approved_at} → {due}");
    assert_eq!(
        due.get(4..8),
        approved_at.get(4..8),
        "same month: {approved_at} → {due}"
    );
    assert_eq!(
        due.get(10..),
        approved_at.get(10..),
        "same time: {approved_at} → {due}"
    );
    Ok(())
}

/// The first 19 characters of an RFC 3339 timestamp, which sort like the time.
fn to_the_second(stamp: &Value) -> anyhow::Result<String> {
    text(stamp)?
        .get(..19)
        .map(str::to_owned)
        .with_context(|| format!("not a timestamp: {stamp}"))
}

on_every_database! {
    async fn a_unit_manager_writes_a_plan_for_her_unit_and_a_second_person_approves_it(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let people = manager.data("{ people(first: 200) { nodes { id name } } }", json!({})).await?;
        let owner = id_where(&people["people"]["nodes"], "name", "Karin Lindqvist")?;

        let created = manager
            .data(CREATE_PLAN, json!({ "input": { "unitId": unit, "title": "Kontinuitetsplan vinterstorm", "ownerId": owner } }))
            .await?;
        let plan = &created["createPlan"];
        assert_eq!(plan["title"], "Kontinuitetsplan vinterstorm");
        assert_eq!(plan["unit"]["name"], NORR);
        assert_eq!(plan["owner"]["name"], "Karin Lindqvist");
        assert_eq!(plan["reviewIntervalMonths"], 12, "twelve months when left out");
        assert_eq!(plan["reviewDueAt"], Value::Null, "nothing to review before an approval");
        assert_eq!(plan["currentVersion"]["version"], 1);
        assert_eq!(plan["currentVersion"]["state"], "DRAFT");
        let plan_id = text(&plan["id"])?;
        let version = text(&plan["currentVersion"]["id"])?;

        let (code, message) = manager.error(APPROVE, json!({ "id": version })).await?;
        assert_eq!(code, "CONFLICT", "an empty draft cannot be approved: {message}");
        assert!(message.contains("no critical activities"), "{message}");

        let content = manager
            .data(UPDATE_DRAFT, json!({ "id": version, "input": {
                "summary": "Hur hemtjänsten når brukarna när vägarna är avstängda.",
                "activationCriteria": "SMHI varnar för storm eller IT-avbrott över 30 minuter.",
                "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 }
            } }))
            .await?;
        assert_eq!(content["updateDraft"]["classification"], json!({ "confidentiality": 1, "integrity": 2, "availability": 3 }));

        let activity = manager
            .data(ADD_ACTIVITY, json!({ "version": version, "input": {
                "name": "Läkemedelsöverlämning", "description": "Dosdispenserade läkemedel och insulin",
                "mtpdMinutes": 240, "rtoMinutes": 60, "rpoMinutes": 30
            } }))
            .await?;
        assert_eq!(activity["addActivity"]["rtoMinutes"], 60);
        let activity = text(&activity["addActivity"]["id"])?;
        let dependency = manager
            .data(ADD_DEPENDENCY, json!({ "activity": activity, "input": { "kind": "IT_SYSTEM", "systemId": system, "name": "Ordinationsunderlag" } }))
            .await?;
        assert_eq!(
            dependency["addDependency"],
            json!({ "id": dependency["addDependency"]["id"], "kind": "IT_SYSTEM", "system": { "name": CARE_SYSTEM }, "name": "Ordinationsunderlag" })
        );
        manager
            .data(ADD_DEPENDENCY, json!({ "activity": activity, "input": { "kind": "STAFF_ROLE", "name": "Undersköterska med delegering" } }))
            .await?;
        let routine = manager
            .data(ADD_ROUTINE, json!({ "version": version, "input": routine_input(Some(&activity), "Papperslista för läkemedel", 1) }))
            .await?;
        assert_eq!(routine["addRoutine"]["activity"]["name"], "Läkemedelsöverlämning");
        assert_eq!(routine["addRoutine"]["recoverySteps"][0]["when"], "Inom 48 timmar");

        let approved = approve(&reviewer, &version).await?;
        assert_eq!(approved["state"], "APPROVED");
        assert_eq!(approved["approvedBy"], "krisledare");

        let stored = version_content(&manager, &version).await?;
        assert_eq!(
            stored,
            json!({
                "summary": "Hur hemtjänsten når brukarna när vägarna är avstängda.",
                "activationCriteria": "SMHI varnar för storm eller IT-avbrott över 30 minuter.",
                "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
                "activities": [{
                    "name": "Läkemedelsöverlämning",
                    "description": "Dosdispenserade läkemedel och insulin",
                    "mtpdMinutes": 240, "rtoMinutes": 60, "rpoMinutes": 30,
                    "dependencies": [
                        { "kind": "IT_SYSTEM", "system": { "name": CARE_SYSTEM }, "name": "Ordinationsunderlag" },
                        { "kind": "STAFF_ROLE", "system": null, "name": "Undersköterska med delegering" }
                    ],
                    "routines": [{ "title": "Papperslista för läkemedel" }]
                }],
                "routines": [{
                    "title": "Papperslista för läkemedel",
                    "trigger": "Läkemedelsmodulen går inte att nå på mer än 15 minuter",
                    "classification": { "confidentiality": 1, "integrity": 3, "availability": 3 },
                    "activity": { "name": "Läkemedelsöverlämning" },
                    "steps": [
                        { "who": "Sjuksköterska", "what": "Hämtar de utskrivna signeringslistorna ur läkemedelspärmen", "when": "Direkt vid avbrott" },
                        { "who": "Undersköterska", "what": "Signerar varje överlämnad dos på papperslistan", "when": null }
                    ],
                    "materials": [{ "name": "Utskrivna signeringslistor", "location": "Läkemedelspärmen" }],
                    "recoverySteps": [{ "who": "Sjuksköterska", "what": "Efterregistrerar signeringarna", "when": "Inom 48 timmar" }]
                }]
            })
        );

        let state = plan_state(&manager, &plan_id).await?;
        assert_eq!(state["currentVersion"]["state"], "APPROVED");
        assert_eq!(state["versions"][0]["approvedAt"], approved["approvedAt"]);
        assert_due_a_year_after(&text(&approved["approvedAt"])?, &text(&state["reviewDueAt"])?)?;
        Ok(())
    }

    async fn an_approved_version_cannot_be_changed(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        approve(&reviewer, &written.version).await?;
        let before = version_content(&manager, &written.version).await?;

        let attempts = [
            (UPDATE_DRAFT, json!({ "id": written.version, "input": { "summary": "Ändrad", "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 } } })),
            (ADD_ACTIVITY, json!({ "version": written.version, "input": activity_input("Larm", 60, 15) })),
            (UPDATE_ACTIVITY, json!({ "id": written.activity, "input": activity_input("Ändrad", 60, 15) })),
            (REMOVE_ACTIVITY, json!({ "id": written.activity })),
            (ADD_DEPENDENCY, json!({ "activity": written.activity, "input": { "kind": "SUPPLIER", "name": "Dosapoteket" } })),
            (REMOVE_DEPENDENCY, json!({ "id": written.dependency })),
            (ADD_ROUTINE, json!({ "version": written.version, "input": routine_input(None, "Ny rutin", 1) })),
            (UPDATE_ROUTINE, json!({ "id": written.routine, "input": routine_input(None, "Ändrad rutin", 1) })),
            (REMOVE_ROUTINE, json!({ "id": written.routine })),
        ];
        for (mutation, variables) in attempts {
            let (code, message) = manager.error(mutation, variables).await?;
            assert_eq!(code, "CONFLICT", "{mutation}: {message}");
            assert!(message.contains("cannot be changed"), "{mutation}: {message}");
        }
        let (code, message) = manager.error(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!((code.as_str(), message.as_str()), ("CONFLICT", "Version 1 is already approved"));
        assert_eq!(version_content(&manager, &written.version).await?, before, "nothing changed");
        Ok(())
    }

    async fn a_new_draft_copies_the_approved_version_which_stays_as_it_was(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        manager
            .data(ADD_DEPENDENCY, json!({ "activity": written.activity, "input": { "kind": "SUPPLIER", "name": "Dosapoteket Norr AB" } }))
            .await?;
        manager
            .data(ADD_ROUTINE, json!({ "version": written.version, "input": routine_input(None, "Rutin utan aktivitet", 2) }))
            .await?;
        approve(&reviewer, &written.version).await?;
        let first = version_content(&manager, &written.version).await?;

        let draft = create_draft(&manager, &written.plan).await?;
        assert_eq!((&draft["version"], &draft["state"], &draft["approvedAt"]), (&json!(2), &json!("DRAFT"), &Value::Null));
        let second = text(&draft["id"])?;
        assert_ne!(second, written.version);
        assert_eq!(version_content(&manager, &second).await?, first, "version 2 starts as a copy of version 1");

        let copied = manager
            .data("query($id: ID!) { planVersion(id: $id) { activities { id dependencies { id } } routines { id activity { id } } } }", json!({ "id": second }))
            .await?;
        let copied_activity = text(&copied["planVersion"]["activities"][0]["id"])?;
        assert_ne!(copied_activity, written.activity, "the copy has activities of its own");
        assert_eq!(copied["planVersion"]["routines"][0]["activity"]["id"], copied_activity, "the copied routine points at the copied activity");
        assert_eq!(copied["planVersion"]["routines"][1]["activity"], Value::Null);
        assert_ne!(text(&copied["planVersion"]["routines"][0]["id"])?, written.routine);

        let (code, message) = manager.error(CREATE_DRAFT, json!({ "plan": written.plan })).await?;
        assert_eq!(code, "CONFLICT", "{message}");
        assert!(message.contains("already a draft"), "{message}");

        let copied_dependency = text(&copied["planVersion"]["activities"][0]["dependencies"][0]["id"])?;
        let copied_routine = text(&copied["planVersion"]["routines"][0]["id"])?;
        manager.data(UPDATE_ACTIVITY, json!({ "id": copied_activity, "input": activity_input("Läkemedel i storm", 180, 30) })).await?;
        manager.data(REMOVE_DEPENDENCY, json!({ "id": copied_dependency })).await?;
        manager.data(ADD_ACTIVITY, json!({ "version": second, "input": activity_input("Nyckelhantering", 120, 30) })).await?;
        manager.data(UPDATE_ROUTINE, json!({ "id": copied_routine, "input": routine_input(Some(&copied_activity), "Ny papperslista", 1) })).await?;
        let edited = version_content(&manager, &second).await?;
        assert_eq!(edited["activities"][0]["name"], "Läkemedel i storm");
        assert_eq!(edited["activities"][1]["name"], "Nyckelhantering");
        assert_eq!(edited["routines"][0]["title"], "Ny papperslista");

        assert_eq!(version_content(&manager, &written.version).await?, first, "version 1 is as it was approved");
        let state = plan_state(&manager, &written.plan).await?;
        assert_eq!(state["currentVersion"]["version"], 1, "the approved version stays in force");
        Ok(())
    }

    async fn approving_the_next_version_retires_the_previous_one(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        approve(&reviewer, &written.version).await?;
        let first_due = plan_state(&manager, &written.plan).await?["reviewDueAt"].clone();

        let second = text(&create_draft(&manager, &written.plan).await?["id"])?;
        let approved = approve(&reviewer, &second).await?;
        assert_eq!((&approved["version"], &approved["state"]), (&json!(2), &json!("APPROVED")));

        let state = plan_state(&manager, &written.plan).await?;
        let states: Vec<_> = state["versions"].as_array().into_iter().flatten().map(|v| (v["version"].clone(), v["state"].clone())).collect();
        assert_eq!(states, [(json!(1), json!("RETIRED")), (json!(2), json!("APPROVED"))]);
        assert_eq!(state["currentVersion"]["id"], second);
        assert_due_a_year_after(&text(&approved["approvedAt"])?, &text(&state["reviewDueAt"])?)?;
        assert!(to_the_second(&state["reviewDueAt"])? >= to_the_second(&first_due)?, "the review moves forward");

        let routine = manager
            .data("query($id: ID!) { routine(id: $id) { title versionState } }", json!({ "id": written.routine }))
            .await?;
        assert_eq!(routine["routine"]["versionState"], "RETIRED", "a retired routine is history");
        let (code, message) = manager.error(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(code, "CONFLICT", "a retired version cannot come back: {message}");
        let (code, _) = manager.error(RETIRE, json!({ "id": written.version })).await?;
        assert_eq!(code, "CONFLICT");
        let (code, _) = manager.error(ADD_ACTIVITY, json!({ "version": written.version, "input": activity_input("Larm", 60, 15) })).await?;
        assert_eq!(code, "CONFLICT");
        Ok(())
    }

    async fn retiring_the_approved_version_leaves_no_version_in_force(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let (code, _) = manager.error(RETIRE, json!({ "id": written.version })).await?;
        assert_eq!(code, "CONFLICT", "only an approved version is retired");
        approve(&reviewer, &written.version).await?;
        let due = plan_state(&manager, &written.plan).await?["reviewDueAt"].clone();

        let retired = manager.data(RETIRE, json!({ "id": written.version })).await?;
        assert_eq!(retired["retirePlanVersion"]["state"], "RETIRED");
        let state = plan_state(&manager, &written.plan).await?;
        assert_eq!(state["currentVersion"], Value::Null);
        assert_eq!(state["reviewDueAt"], due, "the review date stays");
        Ok(())
    }

    async fn an_rto_longer_than_the_mtpd_is_refused_and_nothing_is_stored(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let before = version_content(&manager, &written.version).await?;

        for (mutation, variables) in [
            (ADD_ACTIVITY, json!({ "version": written.version, "input": activity_input("Läkemedel", 480, 600) })),
            (UPDATE_ACTIVITY, json!({ "id": written.activity, "input": activity_input(WRITTEN_ACTIVITY, 480, 600) })),
        ] {
            let response = manager.send(mutation, variables).await?;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "VALIDATION", "{response}");
            assert_eq!(error["extensions"]["field"], "rtoMinutes", "{response}");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(message.contains("rtoMinutes (600) must not exceed mtpdMinutes (480)"), "{message}");
        }
        assert_eq!(version_content(&manager, &written.version).await?, before, "nothing was stored");
        Ok(())
    }

    async fn a_care_worker_reads_her_units_routines_but_cannot_approve_or_edit(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let sensitive = manager
            .data(ADD_ROUTINE, json!({ "version": written.version, "input": routine_input(None, "Kodlista till nyckelskåpet", 2) }))
            .await?;
        let sensitive = text(&sensitive["addRoutine"]["id"])?;
        let before = version_content(&manager, &written.version).await?;

        let opened = worker
            .data("query($id: ID!) { routine(id: $id) { title steps { who what } materials { name location } versionState activity { name } plan { title unit { name } } } }", json!({ "id": written.routine }))
            .await?;
        assert_eq!(
            opened["routine"],
            json!({
                "title": WRITTEN_ROUTINE,
                "steps": [
                    { "who": "Sjuksköterska", "what": "Hämtar de utskrivna signeringslistorna ur läkemedelspärmen" },
                    { "who": "Undersköterska", "what": "Signerar varje överlämnad dos på papperslistan" }
                ],
                "materials": [{ "name": "Utskrivna signeringslistor", "location": "Läkemedelspärmen" }],
                "versionState": "DRAFT",
                "activity": { "name": WRITTEN_ACTIVITY },
                "plan": { "title": "Kontinuitetsplan vinterstorm", "unit": { "name": NORR } }
            })
        );
        let listed = worker
            .data("query($id: ID!) { planVersion(id: $id) { routines { title } } }", json!({ "id": written.version }))
            .await?;
        assert_eq!(listed["planVersion"]["routines"], json!([{ "title": WRITTEN_ROUTINE }]), "the sensitive routine is left out");
        let (code, _) = worker.error("query($id: ID!) { routine(id: $id) { title } }", json!({ "id": sensitive })).await?;
        assert_eq!(code, "FORBIDDEN");

        let (code, _) = worker.error(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = worker.error(ADD_ACTIVITY, json!({ "version": written.version, "input": activity_input("Larm", 60, 15) })).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = worker.error(UPDATE_ROUTINE, json!({ "id": written.routine, "input": routine_input(None, "Ändrad", 1) })).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = worker.error(CREATE_PLAN, json!({ "input": { "unitId": unit, "title": "Egen plan" } })).await?;
        assert_eq!(code, "FORBIDDEN");

        assert_eq!(version_content(&manager, &written.version).await?, before);
        assert_eq!(plan_state(&manager, &written.plan).await?["currentVersion"]["state"], "DRAFT");
        assert_eq!(plan_titles(&manager, json!({ "unitId": unit })).await?.len(), 2, "no plan was added");
        Ok(())
    }

    async fn a_unit_manager_cannot_touch_another_units_plan(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let manager = server.sign_in_as("enhetschef").await?;
        let syd_unit = unit_id(&lead, SYD).await?;
        let syd = plan_of(&lead, SYD).await?;
        let solgarden = plan_of(&lead, SOLGARDEN).await?;
        let syd_state = plan_state(&lead, &syd).await?;
        let draft = text(&syd_state["currentVersion"]["id"])?;
        assert_eq!(syd_state["currentVersion"]["state"], "DRAFT", "the demo's Hemtjänst Syd plan is a draft");
        let activities = lead
            .data("query($id: ID!) { planVersion(id: $id) { activities { id } routines { id } } }", json!({ "id": draft }))
            .await?;
        let activity = text(&activities["planVersion"]["activities"][0]["id"])?;
        let routine = text(&activities["planVersion"]["routines"][0]["id"])?;
        let before = (version_content(&lead, &draft).await?, plan_state(&lead, &syd).await?, plan_titles(&lead, json!({})).await?);

        let attempts = [
            ("query($id: ID!) { plan(id: $id) { title } }", json!({ "id": syd })),
            ("query($id: ID!) { planVersion(id: $id) { summary } }", json!({ "id": draft })),
            (CREATE_PLAN, json!({ "input": { "unitId": syd_unit, "title": "Övertagen plan" } })),
            (UPDATE_DRAFT, json!({ "id": draft, "input": { "summary": "Ändrad", "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 } } })),
            (ADD_ACTIVITY, json!({ "version": draft, "input": activity_input("Larm", 60, 15) })),
            (UPDATE_ACTIVITY, json!({ "id": activity, "input": activity_input("Ändrad", 60, 15) })),
            (REMOVE_ACTIVITY, json!({ "id": activity })),
            (ADD_ROUTINE, json!({ "version": draft, "input": routine_input(None, "Ny rutin", 1) })),
            (REMOVE_ROUTINE, json!({ "id": routine })),
            (APPROVE, json!({ "id": draft })),
            (CREATE_DRAFT, json!({ "plan": solgarden })),
        ];
        for (operation, variables) in attempts {
            let (code, message) = manager.error(operation, variables).await?;
            assert_eq!(code, "FORBIDDEN", "{operation}: {message}");
        }
        let after = (version_content(&lead, &draft).await?, plan_state(&lead, &syd).await?, plan_titles(&lead, json!({})).await?);
        assert_eq!(after, before, "nothing changed");
        assert_eq!(plan_titles(&manager, json!({})).await?, ["Kontinuitetsplan Hemtjänst Norr"], "she lists only her own unit's plans");
        Ok(())
    }

    async fn routines_keep_their_key_across_versions_and_keys_are_unique_in_a_version(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        // A second person approves: the four-eyes rule keeps the writer from it.
        let reviewer = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        const KEYS: &str = "query($id: ID!) { planVersion(id: $id) { routines { id key title } } }";
        let keys = manager.data(KEYS, json!({ "id": written.version })).await?;
        assert_eq!(keys["planVersion"]["routines"][0]["key"], "papperslista-for-lakemedel", "made from the title: {keys}");

        let mut same_title = routine_input(None, "Papperslista för läkemedel", 1);
        let numbered = manager.data(ADD_ROUTINE, json!({ "version": written.version, "input": same_title.clone() })).await?;
        let numbered = text(&numbered["addRoutine"]["id"])?;
        let keys = manager.data(KEYS, json!({ "id": written.version })).await?;
        let key_of = |keys: &Value, id: &str| keys["planVersion"]["routines"].as_array().into_iter().flatten()
            .find(|routine| routine["id"] == id).map(|routine| routine["key"].clone()).unwrap_or_default();
        assert_eq!(key_of(&keys, &numbered), "papperslista-for-lakemedel-2", "{keys}");

        same_title["key"] = json!("papperslista-for-lakemedel");
        let (code, message) = manager.error(ADD_ROUTINE, json!({ "version": written.version, "input": same_title.clone() })).await?;
        assert_eq!(code, "CONFLICT", "{message}");
        assert!(message.contains("\"papperslista-for-lakemedel\""), "{message}");
        same_title["key"] = json!("Läkemedel lista");
        let (code, message) = manager.error(ADD_ROUTINE, json!({ "version": written.version, "input": same_title })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("key"), "{message}");
        let after = manager.data(KEYS, json!({ "id": written.version })).await?;
        assert_eq!(after, keys, "refused routines leave nothing behind");

        let mut renamed = routine_input(None, "Signeringslista på papper", 1);
        manager.data(UPDATE_ROUTINE, json!({ "id": numbered, "input": renamed.clone() })).await?;
        let keys = manager.data(KEYS, json!({ "id": written.version })).await?;
        assert_eq!(key_of(&keys, &numbered), "papperslista-for-lakemedel-2", "a new title keeps the key");
        renamed["key"] = json!("signeringslista-papper");
        manager.data(UPDATE_ROUTINE, json!({ "id": numbered, "input": renamed })).await?;

        approve(&reviewer, &written.version).await?;
        let draft = create_draft(&manager, &written.plan).await?;
        let copied = manager.data(KEYS, json!({ "id": text(&draft["id"])? })).await?;
        let copied_keys: Vec<&Value> = copied["planVersion"]["routines"].as_array().into_iter().flatten().map(|r| &r["key"]).collect();
        assert_eq!(copied_keys, [&json!("papperslista-for-lakemedel"), &json!("signeringslista-papper")], "{copied}");
        Ok(())
    }

    // The review date is moved in the database directly, standing for time passing; no
    // change event follows it, so the read cache (which lets an answer that changes with
    // time alone lag by its TTL) is off here.
    async fn plans_are_filtered_by_unit_state_and_review_date(server: sample_municipality_without_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let all = plan_titles(&lead, json!({})).await?;
        assert_eq!(all.len(), 6, "{all:?}");
        let norr = unit_id(&lead, NORR).await?;
        assert_eq!(plan_titles(&lead, json!({ "unitId": norr })).await?, ["Kontinuitetsplan Hemtjänst Norr"]);
        assert_eq!(
            plan_titles(&lead, json!({ "state": "DRAFT" })).await?,
            ["Kontinuitetsplan Hemtjänst Syd", "Kontinuitetsplan Gruppbostaden Björken"]
        );
        assert_eq!(plan_titles(&lead, json!({ "state": "APPROVED" })).await?.len(), 4);
        assert!(plan_titles(&lead, json!({ "unitId": norr, "state": "DRAFT" })).await?.is_empty(), "every condition must hold");
        assert!(plan_titles(&lead, json!({ "dueForReview": true })).await?.is_empty(), "the demo's plans were just approved");

        let solgarden = plan_of(&lead, SOLGARDEN).await?;
        server
            .execute_sql(&format!("UPDATE plans SET review_due_at = created_at WHERE id = {solgarden}"))
            .await?;
        assert_eq!(
            plan_titles(&lead, json!({ "dueForReview": true })).await?,
            ["Kontinuitetsplan Solgårdens vård- och omsorgsboende"]
        );

        let manager = server.sign_in_as("enhetschef").await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        write_plan(&manager, &norr, &system).await?;
        assert_eq!(
            plan_titles(&manager, json!({ "state": "DRAFT" })).await?,
            ["Kontinuitetsplan vinterstorm"],
            "a unit manager's filter stays within her unit"
        );
        assert_eq!(plan_titles(&lead, json!({ "state": "DRAFT" })).await?.len(), 3);
        Ok(())
    }

    async fn plans_are_paged_with_cursors(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let query = "query($after: String) { plans(first: 4, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let page = lead.data(query, json!({ "after": after })).await?;
            let plans = &page["plans"];
            let edges = plans["edges"].as_array().cloned().unwrap_or_default();
            assert!(edges.len() <= 4);
            for edge in &edges {
                seen.push(text(&edge["node"]["id"])?);
            }
            pages += 1;
            if plans["pageInfo"]["hasNextPage"] != true {
                break;
            }
            assert_eq!(plans["pageInfo"]["endCursor"], edges.last().map_or(Value::Null, |edge| edge["cursor"].clone()));
            after = plans["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(pages, 2);
        let everything = lead.data("{ plans(first: 200) { nodes { id } } }", json!({})).await?;
        let all: Vec<String> = everything["plans"]["nodes"].as_array().into_iter().flatten().map(|plan| text(&plan["id"])).collect::<anyhow::Result<_>>()?;
        assert_eq!(seen, all, "the pages together hold every plan once, oldest first");

        let response = lead.send("{ plans(first: 2, after: \"nonsense\") { nodes { id } } }", json!({})).await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION");
        assert_eq!(response["errors"][0]["extensions"]["field"], "after");
        let response = lead.send("{ plans(first: 1000) { nodes { id } } }", json!({})).await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "first");
        Ok(())
    }

    async fn unknown_ids_are_not_found_and_bad_references_name_the_field(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let other = write_plan(&manager, &unit, &system).await?;
        let before = (version_content(&manager, &written.version).await?, plan_titles(&manager, json!({})).await?);

        for (query, message) in [
            ("{ plan(id: \"99999\") { title } }", "plan 99999 was not found"),
            ("{ planVersion(id: \"99999\") { version } }", "plan version 99999 was not found"),
            ("{ routine(id: \"99999\") { title } }", "routine 99999 was not found"),
            ("mutation { approvePlanVersion(id: \"99999\") { state } }", "plan version 99999 was not found"),
            ("mutation { createDraft(planId: \"99999\") { id } }", "plan 99999 was not found"),
            ("mutation { removeActivity(id: \"99999\") }", "critical activity 99999 was not found"),
        ] {
            let error = manager.error(query, json!({})).await?;
            assert_eq!(error, ("NOT_FOUND".to_owned(), message.to_owned()), "{query}");
        }

        let bad_input = [
            (CREATE_PLAN, json!({ "input": { "unitId": "99999", "title": "Plan" } }), "unitId"),
            (CREATE_PLAN, json!({ "input": { "unitId": unit, "title": "Plan", "ownerId": "99999" } }), "ownerId"),
            (CREATE_PLAN, json!({ "input": { "unitId": unit, "title": "Plan", "reviewIntervalMonths": 48 } }), "reviewIntervalMonths"),
            (CREATE_PLAN, json!({ "input": { "unitId": "abc", "title": "Plan" } }), "unitId"),
            (ADD_ACTIVITY, json!({ "version": "abc", "input": activity_input("Larm", 60, 15) }), "versionId"),
            (ADD_DEPENDENCY, json!({ "activity": written.activity, "input": { "kind": "IT_SYSTEM", "systemId": "99999" } }), "systemId"),
            (ADD_DEPENDENCY, json!({ "activity": written.activity, "input": { "kind": "IT_SYSTEM" } }), "systemId"),
            (ADD_ROUTINE, json!({ "version": written.version, "input": routine_input(Some(&other.activity), "Fel aktivitet", 1) }), "activityId"),
            (CREATE_DRAFT, json!({ "plan": "-1" }), "planId"),
        ];
        for (operation, variables, field) in bad_input {
            let response = manager.send(operation, variables).await?;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "VALIDATION", "{operation}: {response}");
            assert_eq!(error["extensions"]["field"], field, "{operation}: {response}");
        }
        let after = (version_content(&manager, &written.version).await?, plan_titles(&manager, json!({})).await?);
        assert_eq!(after, before, "nothing was stored");
        Ok(())
    }
}
