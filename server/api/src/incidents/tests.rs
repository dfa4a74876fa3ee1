//! The incident slice through the schema, with a signed-in principal put into the
//! request the way the HTTP layer does.

use crate::context::RequestFacts;
use crate::schema::{ReservSchema, SchemaLimits, build_schema};
use async_graphql::{Request, Response, Variables};
use futures_util::StreamExt;
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

async fn an_empty_reserv(name: &str) -> Result<Api, Box<dyn std::error::Error>> {
    let file = std::env::temp_dir().join(format!(
        "reserv-api-{name}-{}-{}.db",
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

fn as_operator(query: &str, variables: Value) -> Request {
    Request::new(query)
        .variables(Variables::from_json(variables))
        .data(RequestFacts {
            principal: Some(Principal::operator("test")),
            ..Default::default()
        })
}

async fn run(api: &Api, query: &str, variables: Value) -> Result<Value, String> {
    let response: Response = api.schema.execute(as_operator(query, variables)).await;
    if let Some(error) = response.errors.first() {
        return Err(format!(
            "{} ({:?})",
            error.message,
            error.extensions.as_ref().and_then(|ext| ext.get("code"))
        ));
    }
    response.data.into_json().map_err(|e| e.to_string())
}

async fn an_incident_in_a_new_unit(api: &Api) -> Result<String, Box<dyn std::error::Error>> {
    let unit = run(
        api,
        r#"mutation { createUnit(input: { name: "Kiruna kommun", kind: MUNICIPALITY }) { id } }"#,
        json!({}),
    )
    .await?;
    let reported = run(
        api,
        r#"mutation($unit: ID!) { reportIncident(input: {
            title: "Journalen nere", kind: IT_OUTAGE, severity: 2, unitIds: [$unit],
            classification: { confidentiality: 1, integrity: 2, availability: 3 }
        }) { id state nextStates reportedBy } }"#,
        json!({ "unit": unit["createUnit"]["id"] }),
    )
    .await?;
    assert_eq!(reported["reportIncident"]["state"], "REPORTED");
    assert_eq!(
        reported["reportIncident"]["nextStates"],
        json!(["TRIAGED", "CLOSED"])
    );
    Ok(reported["reportIncident"]["id"]
        .as_str()
        .ok_or("no incident id")?
        .to_owned())
}

#[tokio::test]
async fn a_correction_shows_on_the_entry_it_corrects() -> TestResult {
    let api = an_empty_reserv("log").await?;
    let id = an_incident_in_a_new_unit(&api).await?;
    let add = r#"mutation($id: ID!, $text: String!, $corrects: ID) {
        addLogEntry(incidentId: $id, input: { kind: DECISION, text: $text, corrects: $corrects }) { id corrects }
    }"#;
    let first = run(&api, add, json!({ "id": id, "text": "Papper i Norr" })).await?;
    let first_id = first["addLogEntry"]["id"].clone();
    run(
        &api,
        add,
        json!({ "id": id, "text": "Rättelse: i Syd", "corrects": first_id }),
    )
    .await?;
    let incident = run(
        &api,
        "query($id: ID!) { incident(id: $id) { units { name } log { id text corrects correctedBy } } }",
        json!({ "id": id }),
    )
    .await?;
    let log = &incident["incident"]["log"];
    assert_eq!(log[0]["id"], first_id);
    assert_eq!(log[0]["correctedBy"], json!([log[1]["id"]]));
    assert_eq!(log[1]["corrects"], first_id);
    assert_eq!(
        incident["incident"]["units"],
        json!([{ "name": "Kiruna kommun" }])
    );

    let skipped = run(
        &api,
        "mutation($id: ID!) { changeIncidentState(id: $id, state: ACTIVE) { state } }",
        json!({ "id": id }),
    )
    .await;
    assert!(skipped.is_err_and(|message| message.contains("CONFLICT")));
    Ok(())
}

#[tokio::test]
async fn watchers_of_an_incident_get_its_log_entries() -> TestResult {
    let api = an_empty_reserv("watch").await?;
    let id = an_incident_in_a_new_unit(&api).await?;
    let missing = api
        .schema
        .execute_stream(as_operator(
            "subscription { incidentUpdated(id: \"999\") { kind } }",
            json!({}),
        ))
        .next()
        .await
        .ok_or("the stream ended without an answer")?;
    assert!(!missing.errors.is_empty());

    let mut updates = api.schema.execute_stream(as_operator(
        "subscription($id: ID!) { incidentUpdated(id: $id) { kind incident { id } logEntry { text } } }",
        json!({ "id": id }),
    ));
    // The subscription is set up on its first poll, so entries are added until one
    // arrives rather than guessing when it is listening.
    let update = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut next = std::pin::pin!(updates.next());
        loop {
            tokio::select! {
                update = &mut next => return update,
                _ = run(
                    &api,
                    "mutation($id: ID!) { addLogEntry(incidentId: $id, input: { kind: OBSERVATION, text: \"Larmen fungerar\" }) { id } }",
                    json!({ "id": id }),
                ) => {}
            }
        }
    })
    .await?
    .ok_or("the subscription ended")?;
    assert!(update.errors.is_empty(), "{:?}", update.errors);
    let data = update.data.into_json()?;
    assert_eq!(data["incidentUpdated"]["kind"], "LOG_ENTRY_ADDED");
    assert_eq!(data["incidentUpdated"]["incident"]["id"], json!(id));
    assert_eq!(
        data["incidentUpdated"]["logEntry"]["text"],
        "Larmen fungerar"
    );
    Ok(())
}
