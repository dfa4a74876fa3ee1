//! The crisis log is a legal record: entries are only ever appended, a mistake is mended
//! by a correcting entry, and neither the API nor the database lets anyone rewrite it.

use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};

const HEMTJANST_NORR: &str = "Hemtjänst Norr – centrala Norrbyn";

const ADD: &str = "mutation($id: ID!, $input: LogEntryInput!) {
    addLogEntry(incidentId: $id, input: $input) { id kind text author occurredAt recordedAt corrects correctedBy }
}";
const LOG: &str = "query($id: ID!) { incident(id: $id) { log { id kind text author occurredAt corrects correctedBy } } }";

/// An open, internal incident affecting Hemtjänst Norr, reported by the crisis lead.
async fn an_incident_in_hemtjanst_norr(lead: &Client, title: &str) -> anyhow::Result<String> {
    let units = lead.data("{ units { id name } }", json!({})).await?;
    let norr = id_where(&units["units"], "name", HEMTJANST_NORR)?;
    let reported = lead
        .data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": title, "kind": "IT_OUTAGE", "severity": 2, "unitIds": [norr],
                "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
            } }),
        )
        .await?;
    Ok(reported["reportIncident"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn log_of(client: &Client, incident: &str) -> anyhow::Result<Vec<Value>> {
    let data = client.data(LOG, json!({ "id": incident })).await?;
    Ok(data["incident"]["log"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

async fn add(client: &Client, incident: &str, input: Value) -> anyhow::Result<Value> {
    let data = client
        .data(ADD, json!({ "id": incident, "input": input }))
        .await?;
    Ok(data["addLogEntry"].clone())
}

on_every_database! {
    async fn the_api_offers_no_way_to_change_or_remove_a_log_entry(server: sample_municipality) {
        let response = server
            .sign_in_as("admin")
            .await?
            .data("{ __schema { mutationType { fields { name } } } }", json!({}))
            .await?;
        let names: Vec<String> = response["__schema"]["mutationType"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|field| field["name"].as_str().map(str::to_lowercase))
            .collect();
        assert!(names.iter().any(|name| name == "addlogentry"), "introspection lists the mutations: {names:?}");
        let rewriting: Vec<&String> = names
            .iter()
            .filter(|name| ["update", "delete", "remove", "edit", "change", "replace"].iter().any(|verb| name.contains(verb)))
            .filter(|name| name.contains("log") || name.contains("entry") || name.contains("entries"))
            .collect();
        assert!(rewriting.is_empty(), "mutations that would rewrite the crisis log: {rewriting:?}");
        Ok(())
    }

    async fn a_correction_is_a_new_entry_and_the_old_text_stays(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = an_incident_in_hemtjanst_norr(&lead, "Journalen nere").await?;
        let first = add(&lead, &incident, json!({ "kind": "DECISION", "text": "Pappersrutiner startas i Hemtjänst Syd" })).await?;
        assert_eq!(first["author"], "krisledare");
        assert_eq!(first["corrects"], Value::Null);
        let correction = add(
            &lead,
            &incident,
            json!({ "kind": "DECISION", "text": "Rättelse: pappersrutiner startas i Hemtjänst Norr, inte Syd", "corrects": first["id"] }),
        )
        .await?;
        assert_eq!(correction["corrects"], first["id"]);

        let log = log_of(&lead, &incident).await?;
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[0]["id"], first["id"]);
        assert_eq!(log[0]["text"], "Pappersrutiner startas i Hemtjänst Syd", "the corrected text stays as written");
        assert_eq!(log[0]["correctedBy"], json!([correction["id"]]));
        assert_eq!(log[1]["id"], correction["id"]);
        assert_eq!(log[1]["corrects"], first["id"]);
        assert_eq!(log[1]["correctedBy"], json!([]));

        // A correction must point into the same incident's log.
        let other = an_incident_in_hemtjanst_norr(&lead, "Annan händelse").await?;
        let response = lead
            .send(ADD, json!({ "id": other, "input": { "kind": "OBSERVATION", "text": "Fel logg", "corrects": first["id"] } }))
            .await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "corrects");
        assert!(log_of(&lead, &other).await?.is_empty(), "nothing was stored");
        Ok(())
    }

    async fn the_database_refuses_to_rewrite_the_log(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incidents = lead.data("{ incidents { nodes { id } } }", json!({})).await?;
        let demo = incidents["incidents"]["nodes"][0]["id"].as_str().unwrap_or_default().to_owned();
        let before = log_of(&lead, &demo).await?;
        assert!(!before.is_empty(), "the demo incident has a log");

        let update = server.execute_sql("UPDATE crisis_log_entries SET text = 'x'").await;
        let update_error = update.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(update_error.contains("append-only"), "UPDATE was not refused: {update_error:?}");
        let delete = server.execute_sql("DELETE FROM crisis_log_entries").await;
        let delete_error = delete.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(delete_error.contains("append-only"), "DELETE was not refused: {delete_error:?}");
        // SQLite has no TRUNCATE; PostgreSQL's bypasses row triggers and needs its own.
        let truncate = server.execute_sql("TRUNCATE crisis_log_entries").await;
        let truncate_error = truncate.err().map(|error| error.to_string()).unwrap_or_default();
        let on_postgres = server.config.database_url.is_some();
        assert!(
            !truncate_error.is_empty() && (!on_postgres || truncate_error.contains("append-only")),
            "TRUNCATE was not refused: {truncate_error:?}"
        );

        assert_eq!(log_of(&lead, &demo).await?, before, "the log is unchanged");

        for sql in ["UPDATE audit_events SET outcome = 'success'", "DELETE FROM audit_events"] {
            let error = server.execute_sql(sql).await.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("append-only"), "{sql} was not refused: {error:?}");
        }
        Ok(())
    }

    async fn an_entry_dated_in_the_future_is_refused(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = an_incident_in_hemtjanst_norr(&lead, "Telefonin nere").await?;
        let tomorrow = "2099-01-01T08:00:00Z";
        let response = lead
            .send(ADD, json!({ "id": incident, "input": { "kind": "DECISION", "text": "Beslut i morgon", "occurredAt": tomorrow } }))
            .await?;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(error["extensions"]["field"], "occurredAt");
        assert!(error["message"].as_str().is_some_and(|m| m.contains("future")), "{error}");
        assert!(log_of(&lead, &incident).await?.is_empty(), "nothing was stored");

        // Notes taken on paper are entered afterwards, and land where they happened.
        add(&lead, &incident, json!({ "kind": "OBSERVATION", "text": "Skrivs in nu" })).await?;
        add(&lead, &incident, json!({ "kind": "ACTION", "text": "Antecknat på papper under avbrottet", "occurredAt": "2025-11-05T06:30:00Z" })).await?;
        let log = log_of(&lead, &incident).await?;
        let texts: Vec<&str> = log.iter().map(|entry| entry["text"].as_str().unwrap_or_default()).collect();
        assert_eq!(texts, ["Antecknat på papper under avbrottet", "Skrivs in nu"]);
        assert!(log[0]["occurredAt"].as_str().is_some_and(|at| at.starts_with("2025-11-05T06:30:00")));
        Ok(())
    }

    async fn only_staff_of_an_affected_unit_write_in_its_log(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = an_incident_in_hemtjanst_norr(&lead, "Nyckelskåpet går inte att öppna").await?;

        let elsewhere = server.sign_in_as("enhetschef-solgarden").await?;
        let (code, _) = elsewhere
            .error(ADD, json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": "Från Solgården" } }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        assert!(log_of(&lead, &incident).await?.is_empty(), "nothing was stored");

        let manager = server.sign_in_as("enhetschef").await?;
        let entry = add(&manager, &incident, json!({ "kind": "ACTION", "text": "Nödnycklar hämtade" })).await?;
        assert_eq!(entry["author"], "enhetschef");
        let worker = server.sign_in_as("underskoterska").await?;
        add(&worker, &incident, json!({ "kind": "OBSERVATION", "text": "Brukaren på Storgatan är informerad" })).await?;
        let log = log_of(&lead, &incident).await?;
        let authors: Vec<&str> = log.iter().map(|entry| entry["author"].as_str().unwrap_or_default()).collect();
        assert_eq!(authors, ["enhetschef", "underskoterska"]);

        let viewer = server.sign_in_as("lasare").await?;
        let (code, _) = viewer
            .error(ADD, json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": "Läsaren skriver" } }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        assert_eq!(log_of(&lead, &incident).await?.len(), 2);
        Ok(())
    }

    async fn an_entry_sent_again_with_its_client_id_is_written_once(server: sample_municipality) {
        // A phone that wrote offline resends until it sees an answer; the retry must
        // return the first entry and write nothing.
        let lead = server.sign_in_as("krisledare").await?;
        let incident = an_incident_in_hemtjanst_norr(&lead, "Larmet tyst").await?;
        let input = json!({ "kind": "OBSERVATION", "text": "Larmet tyst sedan 02.10", "clientId": "7f9c1e52-4a0b-4c61-9d1e-2a6f0c3b8e11" });
        let first = add(&lead, &incident, input.clone()).await?;
        let again = add(&lead, &incident, input).await?;
        assert_eq!(first["id"], again["id"], "{first} {again}");
        let written: Vec<Value> = log_of(&lead, &incident).await?.into_iter()
            .filter(|entry| entry["text"] == "Larmet tyst sedan 02.10").collect();
        assert_eq!(written.len(), 1, "{written:?}");

        // Another person's phone may pick the same id without touching the first entry.
        let manager = server.sign_in_as("enhetschef").await?;
        let theirs = add(&manager, &incident, json!({ "kind": "ACTION", "text": "Ringer runt", "clientId": "7f9c1e52-4a0b-4c61-9d1e-2a6f0c3b8e11" })).await?;
        assert_ne!(theirs["id"], first["id"]);

        let (code, message) = lead.error(ADD, json!({ "id": incident, "input": { "kind": "ACTION", "text": "x", "clientId": "not an id!" } })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        Ok(())
    }

    async fn clients_learn_how_much_they_may_keep_offline(server: empty) {
        let settings = server.anonymous().data("{ clientSettings { offlineMaxConfidentiality } }", json!({})).await?;
        assert_eq!(settings["clientSettings"]["offlineMaxConfidentiality"], 1, "{settings}");
        Ok(())
    }
}
