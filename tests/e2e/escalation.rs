//! Escalation of unacknowledged crisis messages, with time moved forward instead of
//! waited for: a recipient reached by push only gets her SMS after the message's time,
//! her unit manager is told after as long again (the crisis leads, when she has none),
//! the crisis leads are told who is still missing after a third period, each step is in
//! the crisis log, an acknowledged recipient is left alone, and a second pass at the
//! same time does nothing. Notices go by SMS and push, and say only the reference about
//! a confidential message.

use crate::sms_delivery::{a_mock_provider, settings};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use chrono::{DateTime, Duration, Utc};
use reserv_notify::DeliveryWorker;
use reserv_notify::twilio::TwilioClient;
use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

const SEND: &str = "mutation($input: SendMessageInput!) {
    sendMessage(input: $input) { id reference createdAt escalateAfterMinutes }
}";
const ROLL_CALL: &str = "query($id: ID!) { rollCall(messageId: $id) {
    smsLeft { texts }
    escalations { person { name } escalationStep }
} }";
const LOG: &str = "query($id: ID!) { incident(id: $id) { log { kind text } } }";

/// Numbers in the sample municipality: Linnea, Karin (her unit manager), and Anna and
/// Lars (crisis leads).
const LINNEA: &str = "+46701740621";
const KARIN: &str = "+46701740613";
const ANNA: &str = "+46701740605";
const LARS: &str = "+46701740606";

/// Subscribes a browser with a real P-256 key for push, as the PWA does.
async fn subscribe_a_browser(client: &Client, name: &str) -> anyhow::Result<()> {
    let secret = SecretKey::from_slice(&rand::random::<[u8; 32]>())?;
    let public = secret.public_key().to_encoded_point(false);
    client
        .data(
            "mutation($e: String!, $k: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $k, auth: $a) { id } }",
            json!({
                "e": format!("https://push.example.net/{name}"),
                "k": BASE64URL.encode(public.as_bytes()),
                "a": BASE64URL.encode(rand::random::<[u8; 16]>()),
            }),
        )
        .await?;
    Ok(())
}

/// The SMS copies queued for `phone`, as `body` texts, oldest first.
async fn texts_to(server: &reserv_tests::TestServer, phone: &str) -> anyhow::Result<Vec<String>> {
    server
        .select_text(&format!(
            "SELECT body FROM outbox WHERE channel = 'sms' AND destination = '{phone}' ORDER BY id"
        ))
        .await
}

/// The push payloads queued for the person whose number is `phone`, oldest first.
async fn pushes_to(server: &reserv_tests::TestServer, phone: &str) -> anyhow::Result<Vec<Value>> {
    server
        .select_text(&format!(
            "SELECT o.body FROM outbox o JOIN people p ON p.id = o.person_id \
             WHERE o.channel = 'push' AND p.phone = '{phone}' ORDER BY o.id"
        ))
        .await?
        .iter()
        .map(|body| Ok(serde_json::from_str(body)?))
        .collect()
}

fn escalations(roll_call: &Value) -> Vec<(String, String)> {
    roll_call["rollCall"]["escalations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            (
                entry["person"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["escalationStep"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

fn escalation_entries(log: &Value) -> Vec<String> {
    log["incident"]["log"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| entry["text"].as_str())
        .filter(|text| text.starts_with("Eskalering"))
        .map(str::to_owned)
        .collect()
}

on_every_database! {
    async fn an_unacknowledged_push_is_followed_by_sms_and_then_by_her_unit_manager(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let linnea = server.sign_in_as("underskoterska").await?;
        subscribe_a_browser(&linnea, "linnea").await?;
        let incident = lead.data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": "Journalsystemet nere", "kind": "IT_OUTAGE", "severity": 3,
                "classification": { "confidentiality": 1, "integrity": 1, "availability": 1 },
            } }),
        ).await?["reportIncident"]["id"].clone();
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let norr = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let anna = id_where(&people["people"]["nodes"], "name", "Anna Berglund")?;
        let message = lead.data(SEND, json!({ "input": {
            "incidentId": incident,
            "audience": { "unitIds": [norr], "personIds": [anna] },
            "bodySv": "Journalen är nere; dokumentera på papper.",
            "classification": { "confidentiality": 2, "integrity": 1, "availability": 1 },
            "escalateAfterMinutes": 30,
        } })).await?["sendMessage"].clone();
        assert_eq!(message["escalateAfterMinutes"], 30, "{message}");
        let reference = message["reference"].as_str().unwrap_or_default().to_owned();
        let sent: DateTime<Utc> = message["createdAt"].as_str().unwrap_or_default().parse()?;

        // Push reaches Linnea first: her SMS waits; Karin and Anna, without push, are texted at once.
        assert!(texts_to(&server, LINNEA).await?.is_empty());
        assert_eq!(texts_to(&server, KARIN).await?.len(), 1);
        // Karin reads it at once, so she is never escalated.
        let karin = server.sign_in_as("enhetschef").await?;
        karin.data("mutation($id: ID!) { acknowledgeMessage(id: $id) { id } }", json!({ "id": message["id"] })).await?;

        let before = server.store_at(sent + Duration::minutes(29))?.outbox_worker("escalation test");
        assert_eq!(before.escalate_unacknowledged().await?, 0, "nothing is due before the time");

        let after_t = server.store_at(sent + Duration::minutes(30))?.outbox_worker("escalation test");
        assert_eq!(after_t.escalate_unacknowledged().await?, 1, "only Linnea's SMS is due after T");
        assert_eq!(after_t.escalate_unacknowledged().await?, 0, "a second pass at the same time does nothing");
        let linnea_texts = texts_to(&server, LINNEA).await?;
        assert_eq!(linnea_texts.len(), 1, "{linnea_texts:?}");
        assert!(linnea_texts[0].contains(&reference) && !linnea_texts[0].contains("papper"),
            "above level 1 the SMS carries only the notice: {linnea_texts:?}");
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        assert_eq!(escalations(&roll_call), vec![("Linnea Isaksson".to_owned(), "SMS".to_owned())]);
        let log = lead.data(LOG, json!({ "id": incident })).await?;
        let entries = escalation_entries(&log);
        assert_eq!(entries.len(), 1, "{log}");
        assert!(entries[0].contains("Linnea Isaksson") && entries[0].contains("SMS"), "{entries:?}");

        let after_2t = server.store_at(sent + Duration::minutes(60))?.outbox_worker("escalation test");
        // Linnea's after her SMS; Sofia's (Hemtjänst Norr, no push) and Anna's (no unit
        // manager) as their first step.
        assert_eq!(after_2t.escalate_unacknowledged().await?, 3, "the managers of everyone unacknowledged are due after 2T");
        assert_eq!(after_2t.escalate_unacknowledged().await?, 0);
        // The message is confidential: the notices name neither the people nor the content.
        let notice = format!("Eskalering: {reference} är inte kvitterat av alla. Öppna Reserv.");
        let karin_texts = texts_to(&server, KARIN).await?;
        assert_eq!(karin_texts.len(), 3, "her own copy and two notices: {karin_texts:?}");
        assert_eq!(karin_texts[1..], [notice.clone(), notice.clone()], "{karin_texts:?}");
        // Anna has no unit manager: the other crisis leads hear of her directly.
        assert_eq!(texts_to(&server, LARS).await?, vec![notice.clone()]);
        assert_eq!(texts_to(&server, ANNA).await?.len(), 1, "her own copy only; she is not told about herself");
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        let mut steps = escalations(&roll_call);
        steps.sort();
        assert_eq!(steps, vec![
            ("Anna Berglund".to_owned(), "MANAGERS".to_owned()),
            ("Linnea Isaksson".to_owned(), "MANAGERS".to_owned()),
            ("Sofia Wikström".to_owned(), "MANAGERS".to_owned()),
        ], "Karin acknowledged and is never escalated");
        let entries = escalation_entries(&lead.data(LOG, json!({ "id": incident })).await?);
        assert_eq!(entries.len(), 4, "{entries:?}");
        assert!(entries.iter().any(|entry| entry.contains("Linnea Isaksson") && entry.contains("1 enhetschef")), "{entries:?}");
        assert!(entries.iter().any(|entry| entry.contains("Anna Berglund") && entry.contains("ingen enhetschef att meddela, 4 i krisledningen meddelade")), "{entries:?}");

        let before_3t = server.store_at(sent + Duration::minutes(89))?.outbox_worker("escalation test");
        assert_eq!(before_3t.escalate_unacknowledged().await?, 0, "the crisis leads wait for 3T");
        let after_3t = server.store_at(sent + Duration::minutes(90))?.outbox_worker("escalation test");
        assert_eq!(after_3t.escalate_unacknowledged().await?, 1, "the crisis leads are told once for the message");
        assert_eq!(after_3t.escalate_unacknowledged().await?, 0);
        assert_eq!(texts_to(&server, LARS).await?, vec![notice.clone(), notice.clone()]);
        let anna_texts = texts_to(&server, ANNA).await?;
        assert_eq!(anna_texts.len(), 2, "{anna_texts:?}");
        assert_eq!(anna_texts[1], notice, "a crisis lead still unacknowledged is told as well");
        let entries = escalation_entries(&lead.data(LOG, json!({ "id": incident })).await?);
        assert_eq!(entries.len(), 5, "{entries:?}");
        assert_eq!(
            entries.iter().filter(|entry| entry.contains("3 har fortfarande inte kvitterat (Anna Berglund, Linnea Isaksson, Sofia Wikström); 5 i krisledningen meddelade")).count(),
            1,
            "{entries:?}"
        );
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        assert_eq!(escalations(&roll_call).len(), 3, "the notices are not recipients: {roll_call}");

        let much_later = server.store_at(sent + Duration::hours(10))?.outbox_worker("escalation test");
        assert_eq!(much_later.escalate_unacknowledged().await?, 0, "every step happens once");
        Ok(())
    }

    async fn managers_and_crisis_leads_are_told_by_push_and_sms_with_names_below_confidential(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let karin = server.sign_in_as("enhetschef").await?;
        subscribe_a_browser(&karin, "karin").await?;
        subscribe_a_browser(&lead, "anna").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let to_linnea = id_where(&people["people"]["nodes"], "name", "Linnea Isaksson")?;
        let message = lead.data(SEND, json!({ "input": {
            "audience": { "personIds": [to_linnea] },
            "bodySv": "Samling kl. 14 i krisledningsrummet.",
            "classification": { "confidentiality": 1, "integrity": 1, "availability": 1 },
            "escalateAfterMinutes": 10,
        } })).await?["sendMessage"].clone();
        let reference = message["reference"].as_str().unwrap_or_default().to_owned();
        let sent: DateTime<Utc> = message["createdAt"].as_str().unwrap_or_default().parse()?;
        let at = |minutes| server.store_at(sent + Duration::minutes(minutes)).map(|store| store.outbox_worker("escalation test"));

        assert_eq!(at(20)?.escalate_unacknowledged().await?, 1, "Linnea, texted at once, goes to her manager after 2T");
        let about_linnea = format!("Linnea Isaksson har inte kvitterat {reference}");
        assert_eq!(texts_to(&server, KARIN).await?, vec![about_linnea.clone()]);
        let karin_pushes = pushes_to(&server, KARIN).await?;
        assert_eq!(karin_pushes.len(), 1, "{karin_pushes:?}");
        assert_eq!(karin_pushes[0]["body"], about_linnea.as_str());
        assert_eq!(karin_pushes[0]["title"], format!("Eskalering {reference}"));
        assert!(karin_pushes[0].get("messageId").is_none(), "no Kvittera for someone who is not a recipient: {karin_pushes:?}");

        assert_eq!(at(30)?.escalate_unacknowledged().await?, 1, "the crisis leads after 3T");
        let still_missing = format!("1 har fortfarande inte kvitterat {reference}: Linnea Isaksson");
        assert_eq!(texts_to(&server, ANNA).await?, vec![still_missing.clone()]);
        assert_eq!(texts_to(&server, LARS).await?, vec![still_missing.clone()]);
        let anna_pushes = pushes_to(&server, ANNA).await?;
        assert_eq!(anna_pushes.len(), 1, "{anna_pushes:?}");
        assert_eq!(anna_pushes[0]["body"], still_missing.as_str());
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        assert_eq!(escalations(&roll_call), vec![("Linnea Isaksson".to_owned(), "MANAGERS".to_owned())], "{roll_call}");
        Ok(())
    }

    async fn a_message_everyone_acknowledged_does_not_reach_the_crisis_leads(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let linnea = server.sign_in_as("underskoterska").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let to_linnea = id_where(&people["people"]["nodes"], "name", "Linnea Isaksson")?;
        let message = lead.data(SEND, json!({ "input": {
            "audience": { "personIds": [to_linnea] },
            "bodySv": "Samling kl. 14.",
            "escalateAfterMinutes": 10,
        } })).await?["sendMessage"].clone();
        let sent: DateTime<Utc> = message["createdAt"].as_str().unwrap_or_default().parse()?;
        linnea.data("mutation($id: ID!) { acknowledgeMessage(id: $id) { id } }", json!({ "id": message["id"] })).await?;
        let later = server.store_at(sent + Duration::minutes(30))?.outbox_worker("escalation test");
        assert_eq!(later.escalate_unacknowledged().await?, 0, "nobody to tell about");
        assert!(texts_to(&server, ANNA).await?.is_empty());
        assert!(texts_to(&server, LARS).await?.is_empty());
        Ok(())
    }

    async fn the_delivery_worker_escalates_by_its_clock_and_sends_the_sms_in_the_same_round(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let linnea = server.sign_in_as("underskoterska").await?;
        subscribe_a_browser(&linnea, "linnea").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let to_linnea = id_where(&people["people"]["nodes"], "name", "Linnea Isaksson")?;
        let message = lead.data(SEND, json!({ "input": {
            "audience": { "personIds": [to_linnea] },
            "bodySv": "Samling kl. 14 i krisledningsrummet.",
            "escalateAfterMinutes": 10,
        } })).await?["sendMessage"].clone();
        let sent: DateTime<Utc> = message["createdAt"].as_str().unwrap_or_default().parse()?;
        let (base, provider) = a_mock_provider(0).await?;
        let on_time = |minutes| -> anyhow::Result<DeliveryWorker> {
            let outbox = server.store_at(sent + Duration::minutes(minutes))?.outbox_worker("escalation test");
            Ok(DeliveryWorker::new(outbox, TwilioClient::new(settings(base.clone()))?))
        };
        assert_eq!(on_time(9)?.run_once().await?, 0, "push only, nothing due yet");
        assert_eq!(on_time(10)?.run_once().await?, 2, "one step and the SMS it queued");
        let received = provider.lock().map(|p| p.received.clone()).unwrap_or_default();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0]["To"], LINNEA);
        assert_eq!(received[0]["Body"], "Samling kl. 14 i krisledningsrummet.");
        Ok(())
    }

    async fn escalation_times_outside_a_minute_to_a_day_are_refused(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let (code, text) = lead.error(SEND, json!({ "input": {
            "audience": { "everyone": true }, "bodySv": "Hej", "escalateAfterMinutes": 0,
        } })).await?;
        assert_eq!(code, "VALIDATION", "{text}");
        assert!(text.contains("escalateAfterMinutes"), "{text}");
        Ok(())
    }
}
