//! Reports from the floor: a care worker reports what does not work, every crisis lead
//! sees it at once, and the reporter can follow what became of it.

use reserv_tests::{Client, Socket, id_where, on_every_database};
use serde_json::{Value, json};

const CHANGES: &str =
    "subscription { incidentsChanged { kind incident { id title state } logEntry { text } } }";
const REPORT: &str =
    "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id state } }";
const LISTENING: &str = "Kontroll: uppkopplingen fungerar";

fn report_input(title: &str, units: Vec<String>) -> Value {
    json!({ "input": {
        "title": title, "kind": "IT_OUTAGE", "severity": 2, "unitIds": units,
        "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
    } })
}

async fn add_log_entry(client: &Client, incident: &str, text: &str) -> anyhow::Result<()> {
    client
        .data(
            "mutation($id: ID!, $text: String!) { addLogEntry(incidentId: $id, input: { kind: OBSERVATION, text: $text }) { id } }",
            json!({ "id": incident, "text": text }),
        )
        .await?;
    Ok(())
}

/// Subscribes and returns once the server is known to listen.
async fn listen(socket: &mut Socket, writer: &Client, incident: &str) -> anyhow::Result<()> {
    socket.subscribe("1", CHANGES, json!({})).await?;
    socket
        .first_event_while("1", || add_log_entry(writer, incident, LISTENING))
        .await?;
    Ok(())
}

/// The next change that is not one of the entries [`listen`] added.
async fn next_change(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let change = socket.next_data("1").await?["incidentsChanged"].clone();
        if change["logEntry"]["text"] != LISTENING {
            return Ok(change);
        }
    }
}

on_every_database! {
    async fn a_report_from_the_floor_reaches_the_crisis_lead_at_once(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let norr = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let solgarden = id_where(&units["units"], "name", "Solgårdens vård- och omsorgsboende")?;
        let elsewhere = lead.data(REPORT, report_input("Boendelarmet larmar fel", vec![solgarden])).await?;
        let elsewhere = elsewhere["reportIncident"]["id"].as_str().unwrap_or_default().to_owned();

        let mut lead_socket = lead.socket().await?;
        listen(&mut lead_socket, &lead, &elsewhere).await?;
        let other_manager = server.sign_in_as("enhetschef-solgarden").await?;
        let mut other_socket = other_manager.socket().await?;
        listen(&mut other_socket, &lead, &elsewhere).await?;

        let worker = server.sign_in_as("underskoterska").await?;
        let (code, message) = worker.error(REPORT, report_input("Dörrlåsen öppnas inte", vec![])).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("name one of your units"), "{message}");

        let reported = worker.data(REPORT, report_input("Dörrlåsen öppnas inte hos brukarna på Storgatan", vec![norr])).await?;
        let id = reported["reportIncident"]["id"].clone();
        let seen = next_change(&mut lead_socket).await?;
        assert_eq!(seen["kind"], "REPORTED", "{seen}");
        assert_eq!(seen["incident"]["id"], id);
        assert_eq!(seen["incident"]["title"], "Dörrlåsen öppnas inte hos brukarna på Storgatan");

        add_log_entry(&lead, &elsewhere, "Larmleverantören är på väg").await?;
        let next_for_other = next_change(&mut other_socket).await?;
        assert_eq!(next_for_other["logEntry"]["text"], "Larmleverantören är på väg", "a report from another unit is not shown: {next_for_other}");

        lead.data("mutation($id: ID!) { changeIncidentState(id: $id, state: TRIAGED) { state } }", json!({ "id": id })).await?;
        let followed = worker.data("query($id: ID!) { incident(id: $id) { state } }", json!({ "id": id })).await?;
        assert_eq!(followed["incident"]["state"], "TRIAGED", "the reporter follows her report");
        let mut seen = next_change(&mut lead_socket).await?;
        while seen["incident"]["id"] != id {
            seen = next_change(&mut lead_socket).await?;
        }
        assert_eq!((&seen["kind"], &seen["incident"]["state"]), (&json!("STATE_CHANGED"), &json!("TRIAGED")), "{seen}");
        lead_socket.close().await?;
        other_socket.close().await?;
        Ok(())
    }

    async fn a_report_resent_from_the_phone_is_reported_once(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let units = worker.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let mut input = report_input("Dörrlåset på Björkgatan går inte att öppna", vec![unit.clone()]);
        input["input"]["clientId"] = json!("7b2f0a3e-1c4d-4e8f-9a6b-2d5c8e1f0a11");
        let first = worker.data(REPORT, input.clone()).await?;
        let again = worker.data(REPORT, input.clone()).await?;
        assert_eq!(first["reportIncident"]["id"], again["reportIncident"]["id"], "the resend gives back the first report");
        let lead = server.sign_in_as("krisledare").await?;
        let list = lead.data("{ incidents(first: 100) { edges { node { title } } } }", json!({})).await?;
        let reported = list["incidents"]["edges"].as_array().into_iter().flatten()
            .filter(|edge| edge["node"]["title"] == "Dörrlåset på Björkgatan går inte att öppna")
            .count();
        assert_eq!(reported, 1, "{list}");

        // Another reporter's phone may make the same id: it is their own report.
        let theirs = lead.data(REPORT, input.clone()).await?;
        assert_ne!(theirs["reportIncident"]["id"], first["reportIncident"]["id"], "{theirs}");
        input["input"]["clientId"] = json!("inte ett id!");
        let (code, message) = worker.error(REPORT, input).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("clientId"), "{message}");
        Ok(())
    }
}
