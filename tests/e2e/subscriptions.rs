//! Live updates of an open incident over a real WebSocket (graphql-transport-ws), for
//! those allowed to read it and nobody else.

use reserv_tests::{Client, Socket, id_where, on_every_database};
use serde_json::{Value, json};

const HEMTJANST_NORR: &str = "Hemtjänst Norr – centrala Norrbyn";

const UPDATES: &str = "subscription($id: ID!) {
    incidentUpdated(id: $id) {
        kind
        incident { id title state }
        logEntry { kind text author }
        task { title state assignee { name } }
    }
}";

/// The text of the entries a test adds until its subscription is known to listen.
const LISTENING: &str = "Kontroll: uppkopplingen fungerar";

/// Reports an open incident affecting Hemtjänst Norr at the given confidentiality.
pub(crate) async fn report(
    lead: &Client,
    title: &str,
    confidentiality: i32,
) -> anyhow::Result<String> {
    let units = lead.data("{ units { id name } }", json!({})).await?;
    let norr = id_where(&units["units"], "name", HEMTJANST_NORR)?;
    let reported = lead
        .data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": title, "kind": "IT_OUTAGE", "severity": 2, "unitIds": [norr],
                "classification": { "confidentiality": confidentiality, "integrity": 2, "availability": 3 },
            } }),
        )
        .await?;
    Ok(reported["reportIncident"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
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

/// Subscribes to `incident` as subscription "1" and returns once the server is known to
/// listen: entries are added to the log until the first one arrives.
async fn watch(socket: &mut Socket, writer: &Client, incident: &str) -> anyhow::Result<()> {
    socket
        .subscribe("1", UPDATES, json!({ "id": incident }))
        .await?;
    let first = socket
        .first_event_while("1", || add_log_entry(writer, incident, LISTENING))
        .await?;
    let update = &first["data"]["incidentUpdated"];
    assert_eq!(update["kind"], "LOG_ENTRY_ADDED", "{first}");
    assert_eq!(update["logEntry"]["text"], LISTENING);
    Ok(())
}

/// The next message on the socket that is not one of the entries [`watch`] added.
async fn next_message(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let message = socket.receive().await?;
        if message["payload"]["data"]["incidentUpdated"]["logEntry"]["text"] != LISTENING {
            return Ok(message);
        }
    }
}

/// The next update of subscription "1" that is not one of the entries [`watch`] added.
async fn next_update(socket: &mut Socket) -> anyhow::Result<Value> {
    let message = next_message(socket).await?;
    anyhow::ensure!(
        message["type"] == "next" && message["id"] == "1",
        "expected an update, got {message}"
    );
    if let Some(errors) = message["payload"].get("errors") {
        anyhow::bail!("the update carries errors: {errors}");
    }
    Ok(message["payload"]["data"]["incidentUpdated"].clone())
}

/// Expects the subscription to fail at once with `code`, and to end.
async fn refused(socket: &mut Socket, incident: &str) -> anyhow::Result<(String, String)> {
    socket
        .subscribe("1", UPDATES, json!({ "id": incident }))
        .await?;
    let payload = socket.next("1").await?;
    let error = &payload["errors"][0];
    assert!(
        payload["data"].is_null() || payload["data"]["incidentUpdated"].is_null(),
        "no event data: {payload}"
    );
    let code = error["extensions"]["code"]
        .as_str()
        .unwrap_or("(no code)")
        .to_owned();
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    socket.completed("1").await?;
    Ok((code, message))
}

on_every_database! {
    async fn a_watcher_sees_log_entries_tasks_and_state_changes_as_they_happen(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = report(&lead, "Planeringssystemet nere", 1).await?;
        let mut socket = lead.socket().await?;
        watch(&mut socket, &lead, &incident).await?;

        let worker = server.sign_in_as("underskoterska").await?;
        add_log_entry(&worker, &incident, "Körlistorna skrivs ut från reservdatorn").await?;
        let update = next_update(&mut socket).await?;
        assert_eq!(update["kind"], "LOG_ENTRY_ADDED");
        assert_eq!(update["incident"]["id"], incident.as_str());
        assert_eq!(update["logEntry"], json!({ "kind": "OBSERVATION", "text": "Körlistorna skrivs ut från reservdatorn", "author": "underskoterska" }));
        assert_eq!(update["task"], Value::Null);

        let people = lead.data("{ people(first: 200) { nodes { id name } } }", json!({})).await?;
        let karin = id_where(&people["people"]["nodes"], "name", "Karin Lindqvist")?;
        let task = lead
            .data(
                "mutation($id: ID!, $person: ID!) { createTask(incidentId: $id, input: { title: \"Ring in extra personal\", assigneeId: $person }) { id } }",
                json!({ "id": incident, "person": karin }),
            )
            .await?;
        let update = next_update(&mut socket).await?;
        assert_eq!(update["kind"], "TASK_CHANGED");
        assert_eq!(update["task"], json!({ "title": "Ring in extra personal", "state": "OPEN", "assignee": { "name": "Karin Lindqvist" } }));
        assert_eq!(update["logEntry"], Value::Null);

        lead.data(
            "mutation($id: ID!) { changeTaskState(id: $id, state: IN_PROGRESS) { state } }",
            json!({ "id": task["createTask"]["id"] }),
        )
        .await?;
        let update = next_update(&mut socket).await?;
        assert_eq!(update["kind"], "TASK_CHANGED");
        assert_eq!(update["task"]["state"], "IN_PROGRESS");

        lead.data("mutation($id: ID!) { changeIncidentState(id: $id, state: TRIAGED) { state } }", json!({ "id": incident }))
            .await?;
        let update = next_update(&mut socket).await?;
        assert_eq!(update["kind"], "STATE_CHANGED");
        assert_eq!(update["incident"], json!({ "id": incident, "title": "Planeringssystemet nere", "state": "TRIAGED" }));
        assert_eq!(update["logEntry"], Value::Null);
        assert_eq!(update["task"], Value::Null);

        socket.complete("1").await?;
        socket.close().await?;
        Ok(())
    }

    async fn a_socket_without_a_valid_session_gets_an_error_instead_of_events(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = report(&lead, "Växeln nere", 1).await?;

        let mut anonymous = server.anonymous().socket().await?;
        let (code, _) = refused(&mut anonymous, &incident).await?;
        assert_eq!(code, "UNAUTHENTICATED");

        let mut forged = Socket::connect(&server.base_url, json!({ "token": "not-a-session-token" }), None).await?;
        let (code, _) = refused(&mut forged, &incident).await?;
        assert_eq!(code, "UNAUTHENTICATED");

        // A signed-out session no longer opens subscriptions.
        let worker = server.sign_in_as("underskoterska").await?;
        let token = worker.token().unwrap_or_default().to_owned();
        worker.data("mutation { logout }", json!({})).await?;
        let mut stale = Socket::connect(&server.base_url, json!({ "token": token }), None).await?;
        let (code, _) = refused(&mut stale, &incident).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn a_subscription_above_the_callers_clearance_is_refused(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let sensitive = report(&lead, "Misstänkt intrång i journalsystemet", 2).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let mut socket = worker.socket().await?;
        let (code, message) = refused(&mut socket, &sensitive).await?;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("confidentiality level 2"), "{message}");

        let mut socket = worker.socket().await?;
        let (code, _) = refused(&mut socket, "999").await?;
        assert_eq!(code, "NOT_FOUND");
        Ok(())
    }

    async fn events_of_other_incidents_are_not_delivered(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let watched = report(&lead, "Trygghetslarmen går inte fram", 1).await?;
        let other = report(&lead, "Elavbrott i Norrbyn", 1).await?;
        let mut socket = lead.socket().await?;
        watch(&mut socket, &lead, &watched).await?;

        add_log_entry(&lead, &other, "Elnätet rapporterar avbrott").await?;
        lead.data("mutation($id: ID!) { createTask(incidentId: $id, input: { title: \"Kontrollera reservkraften\" }) { id } }", json!({ "id": other }))
            .await?;
        lead.data("mutation($id: ID!) { changeIncidentState(id: $id, state: TRIAGED) { state } }", json!({ "id": other }))
            .await?;
        add_log_entry(&lead, &watched, "Larmcentralen ringer reservtelefonerna").await?;

        // Changes are delivered in order, so the other incident's would have come first.
        let update = next_update(&mut socket).await?;
        assert_eq!(update["incident"]["id"], watched.as_str(), "{update}");
        assert_eq!(update["logEntry"]["text"], "Larmcentralen ringer reservtelefonerna");
        Ok(())
    }

    async fn a_watcher_whose_clearance_no_longer_covers_the_incident_is_cut_off(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = report(&lead, "Utskick till fel mottagare", 1).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let mut socket = worker.socket().await?;
        watch(&mut socket, &lead, &incident).await?;

        lead.data(
            "mutation($id: ID!) { updateIncident(id: $id, input: { classification: { confidentiality: 2, integrity: 2, availability: 3 } }) { id } }",
            json!({ "id": incident }),
        )
        .await?;
        add_log_entry(&lead, &incident, "Personuppgifter kan ha röjts").await?;
        let message = next_message(&mut socket).await?;
        assert_eq!(message, json!({ "type": "complete", "id": "1" }), "the subscription ends instead of showing the change");
        Ok(())
    }

    async fn a_browser_session_cookie_signs_the_socket_in(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = report(&lead, "Mobilappen synkar inte", 1).await?;
        let manager = server.sign_in_as("enhetschef").await?;
        let mut socket = manager.socket_with_cookie().await?;
        watch(&mut socket, &lead, &incident).await?;
        add_log_entry(&lead, &incident, "Leverantören felsöker").await?;
        let update = next_update(&mut socket).await?;
        assert_eq!(update["logEntry"]["text"], "Leverantören felsöker");
        Ok(())
    }
}
