//! The read cache as a crisis day meets it: fifty people refreshing the incident page
//! cost one run of the query, yet every refresh still leaves its read event, a change
//! (made here or by another server on the same database) is seen at once, nobody gets
//! an answer kept for somebody else, and an ended session gets no answer at all (a
//! session deleted by hand in the database, without a change event, within the time a
//! session found live is trusted from memory). State
//! that changes without a change event (the outbox worker's delivery states, the
//! providers' status callbacks) is never served from the cache: a roll-call follows the
//! deliveries at once, with the cache on as it is by default.

use reserv_domain::access::Principal;
use reserv_domain::ids::IncidentId;
use reserv_domain::incidents::{LogEntryKind, NewLogEntry};
use reserv_domain::messages::DeliveryState;
use reserv_tests::{Client, TestServer, id_where, on_every_database};
use serde_json::{Value, json};

const INCIDENT_PAGE: &str =
    "query($id: ID!) { incident(id: $id) { id title state commander { name }
    units { id name } systems { id name } log { id kind text author } tasks { id title state } } }";

/// Reports a sensitive incident (confidentiality 2, so every read is recorded) with one
/// log entry, and returns its id.
async fn a_sensitive_open_incident(lead: &Client) -> anyhow::Result<String> {
    let units = lead.data("{ units { id name } }", json!({})).await?;
    let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
    let reported = lead
        .data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": "Misstänkt intrång i journalsystemet", "kind": "INFORMATION_SECURITY", "severity": 2,
                "unitIds": [unit],
                "classification": { "confidentiality": 2, "integrity": 2, "availability": 2 },
            } }),
        )
        .await?;
    let id = reported["reportIncident"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no incident id: {reported}"))?;
    add_log_entry(lead, &id, "Journalsystemet stängt för inloggning").await?;
    Ok(id)
}

async fn add_log_entry(client: &Client, incident: &str, text: &str) -> anyhow::Result<()> {
    client
        .data(
            "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }",
            json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": text } }),
        )
        .await?;
    Ok(())
}

/// The incident page as `client` gets it, with the SQL statements it cost the server.
async fn incident_page(
    server: &TestServer,
    client: &Client,
    incident: &str,
) -> anyhow::Result<(Value, u64)> {
    let store = server.store()?;
    let before = store.statements_executed();
    let page = client
        .data(INCIDENT_PAGE, json!({ "id": incident }))
        .await?;
    Ok((page, store.statements_executed() - before))
}

/// A crisis lead signed in, with a sensitive incident whose page she has opened twice,
/// so that her session is known to the server and the page's answer is kept.
async fn a_lead_with_a_kept_incident_page(server: &TestServer) -> anyhow::Result<(Client, String)> {
    let lead = server.sign_in_as("krisledare").await?;
    let incident = a_sensitive_open_incident(&lead).await?;
    incident_page(server, &lead, &incident).await?;
    incident_page(server, &lead, &incident).await?;
    Ok((lead, incident))
}

fn log_texts(page: &Value) -> Vec<String> {
    page["incident"]["log"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["text"].as_str().map(str::to_owned))
        .collect()
}

/// How many read events the audit trail holds for `incident`, straight from the table.
async fn read_events(server: &TestServer, incident: &str) -> anyhow::Result<usize> {
    Ok(server
        .select_text(&format!(
            "SELECT action FROM audit_events WHERE action = 'read' \
             AND object_type = 'incident' AND object_id = '{incident}'"
        ))
        .await?
        .len())
}

const ROLL_CALL: &str = "query($id: ID!) { rollCall(messageId: $id) {
    overall { recipients queued sent delivered failed }
} }";

on_every_database! {
    one_thread;
    async fn the_cache_is_on_by_default_and_sessions_with_the_same_access_share_answers(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        // Another session of the same account, with the same roles and factors; signed
        // in first, since signing in is a change that moves the data version.
        let colleague = server.sign_in_as("krisledare").await?;
        let incident = a_sensitive_open_incident(&lead).await?;
        let before = read_events(&server, &incident).await?;
        let (first, ran) = incident_page(&server, &lead, &incident).await?;
        let (shared, served) = incident_page(&server, &colleague, &incident).await?;
        assert_eq!(shared, first);
        assert!(
            served < ran,
            "the second session's read cost {served} statements, the first {ran}: it ran the query again"
        );
        assert_eq!(
            read_events(&server, &incident).await? - before,
            2,
            "each session's read leaves its own read event"
        );
        Ok(())
    }

    async fn a_roll_call_follows_the_deliveries_at_once_although_they_carry_no_change_event(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let sent = lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "roles": ["CRISIS_LEAD"] }, "bodySv": "Avstämning kl. 15" } }),
        ).await?;
        let message = sent["sendMessage"]["id"].clone();
        let before = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(lead.data(ROLL_CALL, json!({ "id": message })).await?, before);
        let queued = before["rollCall"]["overall"]["queued"].as_u64().unwrap_or_default();
        assert!(queued > 0, "{before}");
        assert_eq!(before["rollCall"]["overall"]["sent"], 0, "{before}");

        // The worker claims and sends every copy, well within the cache's TTL.
        let worker = server.store()?.outbox_worker("read cache test");
        let claimed = worker.claim_outbox_batch(100, chrono::Duration::seconds(60)).await?;
        assert!(!claimed.is_empty());
        let outcomes = claimed
            .iter()
            .map(|item| {
                let outcome = reserv_store::SendOutcome::Accepted {
                    provider: "twilio".into(),
                    provider_id: format!("SMcache{}", item.id),
                };
                (item.clone(), outcome)
            })
            .collect::<Vec<_>>();
        worker.record_sends(outcomes).await?;
        let after_sending = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(after_sending["rollCall"]["overall"]["sent"], queued, "a kept roll-call was served: {after_sending}");
        assert_eq!(after_sending["rollCall"]["overall"]["queued"], 0, "{after_sending}");

        // A provider's status callback, also without a change event.
        let first = format!("SMcache{}", claimed[0].id);
        assert!(worker.record_delivery_status("twilio", &first, DeliveryState::Delivered, None).await?);
        let after_callback = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(after_callback["rollCall"]["overall"]["delivered"], 1, "{after_callback}");
        Ok(())
    }

    async fn a_repeated_read_is_served_again_and_still_leaves_its_read_event(server: sample_municipality_with_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = a_sensitive_open_incident(&lead).await?;
        let before = read_events(&server, &incident).await?;

        let (first, ran) = incident_page(&server, &lead, &incident).await?;
        for refresh in 1..=4 {
            let (again, served) = incident_page(&server, &lead, &incident).await?;
            assert_eq!(again, first, "refresh {refresh} answers as the first read did");
            assert!(
                served < ran,
                "refresh {refresh} cost {served} statements, the first read {ran}: it ran the query again"
            );
        }
        assert_eq!(
            read_events(&server, &incident).await? - before,
            5,
            "every read leaves its read event, also those served again"
        );
        let report = server.store()?.verify_audit_chain().await?;
        assert!(report.fault.is_none(), "{:?}", report.fault);
        Ok(())
    }

    async fn a_change_through_the_api_makes_the_next_read_fresh(server: sample_municipality_with_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = a_sensitive_open_incident(&lead).await?;
        let (kept, _) = incident_page(&server, &lead, &incident).await?;
        incident_page(&server, &lead, &incident).await?;

        let colleague = server.sign_in_as("krisledare").await?;
        add_log_entry(&colleague, &incident, "Leverantören bekräftar intrånget").await?;
        let (fresh, _) = incident_page(&server, &lead, &incident).await?;
        assert_eq!(log_texts(&fresh).len(), log_texts(&kept).len() + 1, "{fresh}");
        assert!(log_texts(&fresh).contains(&"Leverantören bekräftar intrånget".to_owned()), "{fresh}");
        Ok(())
    }

    async fn a_change_by_another_server_on_the_same_database_makes_the_next_read_fresh(server: sample_municipality_with_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = a_sensitive_open_incident(&lead).await?;
        let (kept, _) = incident_page(&server, &lead, &incident).await?;
        let (again, _) = incident_page(&server, &lead, &incident).await?;
        assert_eq!(again, kept);

        // A second server process on the same database: its own connections, its own
        // audit writer, no way to tell this server's cache anything.
        let other_server = reserv::server::open_store(&server.config).await?;
        let id = IncidentId(incident.parse()?);
        other_server
            .add_log_entry(
                &Principal::operator("andra servern"),
                id,
                NewLogEntry {
                    kind: LogEntryKind::Observation,
                    text: "Skrivet via den andra servern".into(),
                    occurred_at: None,
                    corrects: None,
                    confidentiality: None,
                },
            )
            .await?;
        let (fresh, _) = incident_page(&server, &lead, &incident).await?;
        assert!(log_texts(&fresh).contains(&"Skrivet via den andra servern".to_owned()), "{fresh}");
        assert_eq!(log_texts(&fresh).len(), log_texts(&kept).len() + 1, "{fresh}");
        Ok(())
    }

    async fn another_account_never_gets_an_answer_kept_for_someone_else(server: sample_municipality_with_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = a_sensitive_open_incident(&lead).await?;
        let list = "{ incidents(first: 50) { edges { node { id title } } } }";
        let ids = |data: &Value| -> Vec<String> {
            data["incidents"]["edges"].as_array().into_iter().flatten()
                .filter_map(|edge| edge["node"]["id"].as_str().map(str::to_owned)).collect()
        };
        let for_lead = lead.data(list, json!({})).await?;
        assert_eq!(lead.data(list, json!({})).await?, for_lead);
        assert!(ids(&for_lead).contains(&incident), "{for_lead}");

        // A care worker's clearance is below the incident's confidentiality.
        let worker = server.sign_in_as("underskoterska").await?;
        let for_worker = worker.data(list, json!({})).await?;
        assert!(!ids(&for_worker).contains(&incident), "the care worker got the crisis lead's list: {for_worker}");
        let (code, _) = worker.error(INCIDENT_PAGE, json!({ "id": incident })).await?;
        assert!(["FORBIDDEN", "NOT_FOUND"].contains(&code.as_str()), "the care worker may not open the incident: {code}");
        Ok(())
    }

    async fn a_session_revoked_through_another_server_is_refused_at_once(server: sample_municipality_with_read_cache) {
        let (lead, incident) = a_lead_with_a_kept_incident_page(&server).await?;

        // This server found the session live a moment ago and keeps it in memory; the
        // other server cannot tell it anything but the change event its revocation
        // commits.
        let other_server = reserv::server::open_store(&server.config).await?;
        let operator = Principal::operator("andra servern");
        let account = other_server.principal_by_username(&operator, "krisledare").await?.account_id;
        assert_eq!(other_server.revoke_sessions(&operator, account).await?, 1);
        let (code, _) = lead.error(INCIDENT_PAGE, json!({ "id": incident })).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        let (code, _) = lead.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn a_session_that_ended_gets_unauthenticated_not_a_kept_answer(server: sample_municipality_with_read_cache) {
        let (lead, incident) = a_lead_with_a_kept_incident_page(&server).await?;
        // Ended by hand in the database, without a change event: the data version stays
        // as it was, so only the session check can refuse the kept answer, once the
        // session found live a moment ago is no longer trusted from memory.
        server.execute_sql("DELETE FROM sessions").await?;
        let deadline = std::time::Instant::now() + reserv_store::KNOWN_SESSION_TTL + std::time::Duration::from_secs(3);
        loop {
            let response = lead.send(INCIDENT_PAGE, json!({ "id": incident })).await?;
            if response["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
                assert!(response["data"].is_null() || response["data"]["incident"].is_null(), "{response}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "a session deleted by hand was still served after {:?}: {response}", reserv_store::KNOWN_SESSION_TTL);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(())
    }
}
