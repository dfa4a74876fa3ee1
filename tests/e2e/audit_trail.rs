//! The audit trail as those who follow it up meet it: every change and every read of
//! sensitive information leaves exactly one event, the events form an unbroken hash
//! chain, and a row changed or removed behind Reserv's back is found and named.

use reserv_tests::{Client, TestServer, id_where, on_every_database};
use serde_json::{Value, json};

const SEARCH: &str = "query($filter_actor: String, $action: AuditAction, $objectType: String, $objectId: ID) {
    auditEvents(actor: $filter_actor, action: $action, objectType: $objectType, objectId: $objectId, first: 200) {
        edges { node { id seq action objectType objectId actor outcome detail prevHash hash } }
    }
}";

async fn events(client: &Client, filter: Value) -> anyhow::Result<Vec<Value>> {
    let data = client.data(SEARCH, filter).await?;
    Ok(data["auditEvents"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|edge| edge["node"].clone())
        .collect())
}

/// The demo's closed cyberattack incident (confidentiality 2, so every read is logged).
async fn the_demo_incident(lead: &Client) -> anyhow::Result<String> {
    let data = lead
        .data(
            "{ incidents(filter: { states: [CLOSED] }) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    data["incidents"]["edges"][0]["node"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the demo has a closed incident: {data}"))
}

async fn an_open_incident(lead: &Client) -> anyhow::Result<String> {
    let units = lead.data("{ units { id name } }", json!({})).await?;
    let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
    let data = lead
        .data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": "Dörrlåsen i Norr svarar inte", "kind": "IT_OUTAGE", "severity": 2,
                "unitIds": [unit],
                "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
            } }),
        )
        .await?;
    data["reportIncident"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no incident id: {data}"))
}

async fn assert_chain_intact(server: &TestServer) -> anyhow::Result<u64> {
    let report = server.store()?.verify_audit_chain().await?;
    anyhow::ensure!(report.fault.is_none(), "chain broken: {:?}", report.fault);
    Ok(report.checked)
}

on_every_database! {
    async fn the_demo_trail_is_one_intact_chain_that_administrators_can_search(server: sample_municipality) {
        let checked = assert_chain_intact(&server).await?;
        assert!(checked > 100, "the demo load is audited: {checked} events");

        let admin = server.sign_in_as("admin").await?;
        let sign_ins = events(&admin, json!({ "filter_actor": "admin", "action": "SIGN_IN" })).await?;
        assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
        assert_eq!(sign_ins[0]["outcome"], "SUCCESS");
        assert_eq!(sign_ins[0]["hash"].as_str().map(str::len), Some(64));
        let accounts = events(&admin, json!({ "action": "CREATE", "objectType": "account" })).await?;
        assert_eq!(accounts.len(), 13, "one event per demo account");
        // Neighbours in the chain point to each other.
        let all = events(&admin, json!({})).await?;
        let genesis = all.iter().find(|event| event["seq"] == 0).ok_or_else(|| anyhow::anyhow!("no genesis"))?;
        assert_eq!(genesis["action"], "CHAIN_STARTED");
        let first = all.iter().find(|event| event["seq"] == 1).ok_or_else(|| anyhow::anyhow!("no first event"))?;
        assert_eq!(first["prevHash"], genesis["hash"]);

        let lead = server.sign_in_as("krisledare").await?;
        assert!(!events(&lead, json!({ "action": "SIGN_IN" })).await?.is_empty(), "crisis leads follow up the log too");
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, _) = worker.error(SEARCH, json!({})).await?;
        assert_eq!(code, "FORBIDDEN");
        Ok(())
    }

    async fn concurrent_readers_and_writers_each_leave_exactly_their_events(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let sensitive = the_demo_incident(&lead).await?;
        let open = an_open_incident(&lead).await?;
        let before_reads = events(&lead, json!({ "action": "READ", "objectType": "incident", "objectId": sensitive })).await?.len();

        let mut jobs = vec![];
        for client in 0..50 {
            let lead = server.sign_in_as("krisledare").await?;
            let (sensitive, open) = (sensitive.clone(), open.clone());
            jobs.push(tokio::spawn(async move {
                let mut done = 0_usize;
                for round in 0..4 {
                    if client % 2 == 0 {
                        lead.data("query($id: ID!) { incident(id: $id) { title } }", json!({ "id": sensitive })).await?;
                    } else {
                        lead.data(
                            "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }",
                            json!({ "id": open, "input": { "kind": "OBSERVATION", "text": format!("Rond {round} från klient {client}: låsen fortfarande nere") } }),
                        )
                        .await?;
                    }
                    done += 1;
                }
                anyhow::Ok(done)
            }));
        }
        let mut completed = 0;
        for job in jobs {
            completed += job.await??;
        }
        assert_eq!(completed, 200);

        let reads = events(&lead, json!({ "action": "READ", "objectType": "incident", "objectId": sensitive })).await?.len();
        assert_eq!(reads - before_reads, 100, "one read event per audited read");
        let log = lead.data("query($id: ID!) { incident(id: $id) { log { id } } }", json!({ "id": open })).await?;
        let entries: Vec<String> = log["incident"]["log"].as_array().cloned().unwrap_or_default().iter()
            .filter_map(|entry| entry["id"].as_str().map(str::to_owned)).collect();
        let mut created = 0;
        for entry in &entries {
            let found = events(&lead, json!({ "action": "CREATE", "objectType": "crisis_log_entry", "objectId": entry })).await?;
            assert!(found.len() <= 1, "entry {entry} has {} success events", found.len());
            created += found.len();
        }
        assert_eq!(created, 100, "every committed entry has exactly one success event");
        assert_chain_intact(&server).await?;
        Ok(())
    }

    async fn one_request_records_one_read_per_object_naming_what_was_read(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let sensitive = the_demo_incident(&lead).await?;
        let filter = json!({ "action": "READ", "objectType": "incident", "objectId": sensitive });
        let before = events(&lead, filter.clone()).await?.len();
        lead.data(
            "query($id: ID!) { incident(id: $id) { title log { text } tasks { title } } }",
            json!({ "id": sensitive }),
        )
        .await?;
        let after = events(&lead, filter).await?;
        assert_eq!(after.len(), before + 1, "one event for the incident, not one per field");
        let detail = after.last().map(|event| event["detail"].clone()).unwrap_or_default();
        assert_eq!(detail, "read crisis_log, incident, incident_tasks");
        Ok(())
    }

    async fn a_list_of_plan_versions_is_one_event_naming_the_ids(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let plans = lead
            .data("{ plans(first: 50) { edges { node { versions { id classification { confidentiality } } } } } }", json!({}))
            .await?;
        let sensitive: Vec<String> = plans["plans"]["edges"].as_array().cloned().unwrap_or_default().iter()
            .flat_map(|edge| edge["node"]["versions"].as_array().cloned().unwrap_or_default())
            .filter(|version| version["classification"]["confidentiality"].as_i64() >= Some(2))
            .filter_map(|version| version["id"].as_str().map(str::to_owned))
            .collect();
        assert!(sensitive.len() >= 2, "the demo has several sensitive plan versions: {sensitive:?}");
        let reads = events(&lead, json!({ "filter_actor": "krisledare", "action": "READ", "objectType": "plan_version" })).await?;
        assert_eq!(reads.len(), 1, "one event for the whole list: {reads:?}");
        assert!(reads[0]["objectId"].is_null());
        let detail = reads[0]["detail"].as_str().unwrap_or_default();
        let named: Vec<&str> = detail.split("ids ").nth(1).unwrap_or_default().split(", ").collect();
        let mut expected: Vec<&str> = sensitive.iter().map(String::as_str).collect();
        expected.sort();
        let mut named_sorted = named.clone();
        named_sorted.sort();
        assert_eq!(named_sorted, expected, "{detail}");
        Ok(())
    }

    async fn concurrent_unit_changes_of_one_incident_never_mix(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = an_open_incident(&lead).await?;
        let units = lead.data("{ units { id kind } }", json!({})).await?;
        let care_units: Vec<String> = units["units"].as_array().cloned().unwrap_or_default().iter()
            .filter(|unit| unit["kind"] == "UNIT")
            .filter_map(|unit| unit["id"].as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(care_units.len() >= 4, "{units}");
        // Each request names a different pair of units.
        let pairs: Vec<Vec<String>> = (0..12)
            .map(|i| vec![care_units[i % care_units.len()].clone(), care_units[(i + 1) % care_units.len()].clone()])
            .collect();
        let mut jobs = vec![];
        for pair in pairs.clone() {
            let (lead, incident) = (server.sign_in_as("krisledare").await?, incident.clone());
            jobs.push(tokio::spawn(async move {
                lead.data(
                    "mutation($id: ID!, $units: [ID!]!) { setIncidentUnits(id: $id, unitIds: $units) { id } }",
                    json!({ "id": incident, "units": pair }),
                )
                .await
            }));
        }
        for job in jobs {
            job.await??;
        }
        let now = lead.data("query($id: ID!) { incident(id: $id) { units { id } } }", json!({ "id": incident })).await?;
        let mut linked: Vec<String> = now["incident"]["units"].as_array().cloned().unwrap_or_default().iter()
            .filter_map(|unit| unit["id"].as_str().map(str::to_owned)).collect();
        linked.sort();
        assert!(
            pairs.iter().any(|pair| { let mut pair = pair.clone(); pair.sort(); pair == linked }),
            "the units are exactly one request's pair, not a mix: {linked:?}"
        );
        let changes = events(&lead, json!({ "action": "SET_UNITS", "objectType": "incident", "objectId": incident })).await?;
        assert_eq!(changes.iter().filter(|event| event["outcome"] == "SUCCESS").count(), 12);
        assert_chain_intact(&server).await?;
        Ok(())
    }

    async fn a_row_changed_behind_reserv_is_found_and_named(server: sample_municipality) {
        assert_chain_intact(&server).await?;
        // A tamperer with database access lifts the protection first.
        server.execute_sql(if server.config.database_url.is_some() {
            "DROP TRIGGER audit_events_append_only ON audit_events"
        } else {
            "DROP TRIGGER audit_events_no_update"
        }).await?;
        server.execute_sql("UPDATE audit_events SET actor = 'någon annan' WHERE seq = 5").await?;
        let report = server.store()?.verify_audit_chain().await?;
        let fault = report.fault.map(|fault| fault.to_string()).unwrap_or_default();
        assert!(fault.contains("(position 5,") && fault.contains("was changed"), "{fault}");
        assert_eq!(report.checked, 5, "positions 0 to 4 are intact");
        Ok(())
    }

    async fn a_removed_row_is_found_as_a_gap(server: sample_municipality) {
        server.execute_sql(if server.config.database_url.is_some() {
            "DROP TRIGGER audit_events_append_only ON audit_events"
        } else {
            "DROP TRIGGER audit_events_no_delete"
        }).await?;
        server.execute_sql("DELETE FROM audit_events WHERE seq = 7").await?;
        let report = server.store()?.verify_audit_chain().await?;
        let fault = report.fault.map(|fault| fault.to_string()).unwrap_or_default();
        assert!(fault.contains("position 7 is absent"), "{fault}");
        Ok(())
    }

    async fn the_database_refuses_to_change_or_remove_audit_events(server: sample_municipality) {
        assert!(server.execute_sql("UPDATE audit_events SET detail = 'x' WHERE seq = 1").await.is_err());
        assert!(server.execute_sql("DELETE FROM audit_events WHERE seq = 1").await.is_err());
        assert_chain_intact(&server).await?;
        Ok(())
    }
}
