//! A unit manager's story through the schema: write a plan, approve it, start the
//! next draft, and ask what stops when the journal system goes down.

use crate::context::RequestFacts;
use crate::schema::{ReservSchema, SchemaLimits, build_schema};
use async_graphql::{Request, Variables};
use reserv_domain::SystemClock;
use reserv_domain::access::Principal;
use reserv_store::{DatabaseLocation, Store};
use serde_json::{Value, json};
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A schema over a fresh SQLite file, removed when dropped.
struct Api {
    schema: ReservSchema,
    file: std::path::PathBuf,
}

impl Drop for Api {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.file.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

async fn an_empty_reserv() -> Result<Api, Box<dyn std::error::Error>> {
    let file = std::env::temp_dir().join(format!(
        "reserv-api-plans-{}-{}.db",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let store = Store::open(
        &DatabaseLocation::default_sqlite(file.clone()),
        Arc::new(SystemClock),
    )
    .await?;
    let schema = build_schema(store, SchemaLimits::default(), Default::default());
    Ok(Api { schema, file })
}

/// Runs an operation as the operator; `Err` holds the first error's message and code.
async fn run(api: &Api, query: &str, variables: Value) -> Result<Value, String> {
    let request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(RequestFacts {
            principal: Some(Principal::operator("test")),
            ..Default::default()
        });
    let response = api.schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        let code = error.extensions.as_ref().and_then(|ext| ext.get("code"));
        return Err(format!("{} ({code:?})", error.message));
    }
    response.data.into_json().map_err(|e| e.to_string())
}

fn id(value: &Value, pointer: &str) -> Result<String, String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no id at {pointer} in {value}"))
}

#[tokio::test]
async fn a_plan_is_written_approved_and_shows_the_impact_of_an_outage() -> TestResult {
    let api = an_empty_reserv().await?;
    let setup = run(
        &api,
        r#"mutation {
            unit: createUnit(input: { name: "Kiruna kommun", kind: MUNICIPALITY }) { id }
            system: createItSystem(input: { name: "Journalsystemet", criticality: CRITICAL }) { id }
        }"#,
        json!({}),
    )
    .await?;
    let (unit, system) = (id(&setup, "/unit/id")?, id(&setup, "/system/id")?);

    let plan = run(
        &api,
        r#"mutation($unit: ID!) {
            createPlan(input: { unitId: $unit, title: "Hemtjänstens kontinuitetsplan" }) {
                id reviewIntervalMonths currentVersion { id version state }
            }
        }"#,
        json!({ "unit": unit }),
    )
    .await?;
    let plan_id = id(&plan, "/createPlan/id")?;
    let draft = id(&plan, "/createPlan/currentVersion/id")?;
    assert_eq!(plan["createPlan"]["currentVersion"]["state"], "DRAFT");

    let too_slow = run(
        &api,
        r#"mutation($v: ID!) {
            addActivity(versionId: $v, input: {
                name: "Läkemedel", mtpdMinutes: 480, rtoMinutes: 600, rpoMinutes: 0
            }) { id }
        }"#,
        json!({ "v": draft }),
    )
    .await;
    assert!(too_slow.is_err_and(|e| e.contains("VALIDATION") && e.contains("rtoMinutes")));

    let activity = run(
        &api,
        r#"mutation($v: ID!) {
            addActivity(versionId: $v, input: {
                name: "Läkemedelsöverlämning", mtpdMinutes: 480, rtoMinutes: 120, rpoMinutes: 60
            }) { id }
        }"#,
        json!({ "v": draft }),
    )
    .await?;
    let activity = id(&activity, "/addActivity/id")?;
    run(
        &api,
        r#"mutation($a: ID!, $s: ID!, $v: ID!) {
            addDependency(activityId: $a, input: { kind: IT_SYSTEM, systemId: $s }) { id }
            addRoutine(versionId: $v, input: {
                activityId: $a, title: "Pappersjournal",
                trigger: "Journalsystemet nere mer än 30 minuter",
                classification: { confidentiality: 1, integrity: 2, availability: 3 },
                steps: [{ who: "Undersköterska", what: "Hämta den röda pärmen" }],
                materials: [{ name: "Läkemedelslista", location: "Personalrummet" }]
            }) { id }
            approvePlanVersion(id: $v) { state approvedBy }
        }"#,
        json!({ "a": activity, "s": system, "v": draft }),
    )
    .await?;

    let approved_edit = run(
        &api,
        r#"mutation($v: ID!) {
            addActivity(versionId: $v, input: {
                name: "Larm", mtpdMinutes: 60, rtoMinutes: 15, rpoMinutes: 0
            }) { id }
        }"#,
        json!({ "v": draft }),
    )
    .await;
    assert!(approved_edit.is_err_and(|e| e.contains("CONFLICT")));

    let next = run(
        &api,
        r#"mutation($p: ID!) {
            createDraft(planId: $p) {
                version state
                activities { name dependencies { kind system { name } } routines { title } }
            }
        }"#,
        json!({ "p": plan_id }),
    )
    .await?;
    assert_eq!(
        next["createDraft"],
        json!({
            "version": 2,
            "state": "DRAFT",
            "activities": [{
                "name": "Läkemedelsöverlämning",
                "dependencies": [{ "kind": "IT_SYSTEM", "system": { "name": "Journalsystemet" } }],
                "routines": [{ "title": "Pappersjournal" }]
            }]
        })
    );

    let impact = run(
        &api,
        r#"query($s: ID!) {
            impact(itSystemId: $s) {
                system { name }
                units { name }
                activities {
                    version { version state }
                    activity { name rtoMinutes }
                    routines { title steps { who what } materials { name location } }
                }
            }
        }"#,
        json!({ "s": system }),
    )
    .await?;
    assert_eq!(
        impact["impact"],
        json!({
            "system": { "name": "Journalsystemet" },
            "units": [{ "name": "Kiruna kommun" }],
            "activities": [{
                "version": { "version": 1, "state": "APPROVED" },
                "activity": { "name": "Läkemedelsöverlämning", "rtoMinutes": 120 },
                "routines": [{
                    "title": "Pappersjournal",
                    "steps": [{ "who": "Undersköterska", "what": "Hämta den röda pärmen" }],
                    "materials": [{ "name": "Läkemedelslista", "location": "Personalrummet" }]
                }]
            }]
        })
    );
    Ok(())
}
