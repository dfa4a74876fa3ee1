//! Crisis messages: the crisis staff send to an audience, every recipient is queued at
//! once, recipients acknowledge, and the roll-call says who has been reached.

use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SEND: &str = "mutation($input: SendMessageInput!) {
    sendMessage(input: $input) { id reference recipientCount exercise classification { confidentiality } }
}";
const ESTIMATE: &str = "query($input: SendMessageInput!) {
    messageEstimate(input: $input) { recipients withoutPhone sms { texts segments senders seconds summary en: summary(language: EN) } }
}";
const SMS_CHANNEL: &str = "{ smsChannel { enabled senders segmentsPerSecond maxSegments } }";
const ROLL_CALL: &str = "query($id: ID!) { rollCall(messageId: $id) {
    overall { recipients queued sent delivered acknowledged failed unreachable }
    units { unit { name } counts { recipients acknowledged queued } }
    notReached { name }
} }";

async fn unit_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let units = client.data("{ units { id name } }", json!({})).await?;
    id_where(&units["units"], "name", name)
}

/// The names of the people attached to `unit` or a unit below it, worked out from the
/// directory as a crisis lead would read it.
async fn people_at_or_below(client: &Client, unit: &str) -> anyhow::Result<BTreeSet<String>> {
    let units = client.data("{ units { id path } }", json!({})).await?;
    let below: BTreeSet<String> = units["units"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|candidate| {
            candidate["path"]
                .as_array()
                .is_some_and(|path| path.iter().any(|id| id == unit))
        })
        .filter_map(|candidate| candidate["id"].as_str().map(str::to_owned))
        .collect();
    let people = client
        .data(
            "{ people(first: 100) { nodes { name units { id } } } }",
            json!({}),
        )
        .await?;
    Ok(people["people"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|person| {
            person["units"].as_array().is_some_and(|units| {
                units
                    .iter()
                    .any(|unit| unit["id"].as_str().is_some_and(|id| below.contains(id)))
            })
        })
        .filter_map(|person| person["name"].as_str().map(str::to_owned))
        .collect())
}

fn names(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item["name"].as_str().map(str::to_owned))
        .collect()
}

async fn send(client: &Client, input: Value) -> anyhow::Result<Value> {
    Ok(client.data(SEND, json!({ "input": input })).await?["sendMessage"].clone())
}

on_every_database! {
    async fn a_unit_audience_reaches_everyone_attached_to_the_unit_and_its_sub_units(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let hemtjanst = unit_id(&lead, "Hemtjänst").await?;
        let expected = people_at_or_below(&lead, &hemtjanst).await?;
        assert!(expected.len() >= 3, "the sample has people in Hemtjänst's units: {expected:?}");
        let message = send(&lead, json!({
            "audience": { "unitIds": [hemtjanst] },
            "bodySv": "Hej {namn}! Journalsystemet är nere. Använd pappersrutinerna.",
            "bodyEn": "Hi {name}! The journal system is down. Use the paper routines.",
        })).await?;
        assert_eq!(message["recipientCount"], expected.len(), "{message}");
        assert_eq!(message["exercise"], false);
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        assert_eq!(names(&roll_call["rollCall"]["notReached"]), expected);
        assert_eq!(roll_call["rollCall"]["overall"]["queued"], expected.len(), "everyone has a phone: {roll_call}");
        Ok(())
    }

    async fn each_person_is_reached_once_however_many_parts_name_them(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, "Hemtjänst Norr – centrala Norrbyn").await?;
        let in_norr = people_at_or_below(&lead, &norr).await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let karin = id_where(&people["people"]["nodes"], "name", "Karin Lindqvist")?;
        let anna = id_where(&people["people"]["nodes"], "name", "Anna Berglund")?;
        let message = send(&lead, json!({
            "audience": { "unitIds": [norr], "personIds": [karin, anna], "roles": ["CRISIS_LEAD"] },
            "bodySv": "Samling i krisledningsrummet kl. 14.",
        })).await?;
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        let reached = names(&roll_call["rollCall"]["notReached"]);
        assert_eq!(message["recipientCount"], reached.len(), "nobody twice: {roll_call}");
        assert!(in_norr.is_subset(&reached) && reached.contains("Anna Berglund") && reached.contains("Lars Johansson"), "{reached:?}");
        Ok(())
    }

    async fn an_exercise_is_marked_and_needs_the_right_to_send(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let reported = lead.data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": "Övning: strömavbrott", "kind": "POWER", "severity": 3, "exercise": true,
                "classification": { "confidentiality": 1, "integrity": 1, "availability": 1 },
            } }),
        ).await?;
        let incident = reported["reportIncident"]["id"].clone();
        let message = send(&lead, json!({
            "incidentId": incident, "audience": { "everyone": true }, "bodySv": "{incident}: samla er.",
        })).await?;
        assert_eq!(message["exercise"], true, "{message}");
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, text) = worker.error(SEND, json!({ "input": {
            "audience": { "everyone": true }, "bodySv": "Hej alla",
        } })).await?;
        assert_eq!(code, "FORBIDDEN", "{text}");
        let (code, _) = worker.error(ROLL_CALL, json!({ "id": message["id"] })).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, text) = lead.error(SEND, json!({ "input": {
            "audience": { "everyone": true }, "bodySv": "Hej {förnamn}",
        } })).await?;
        assert_eq!(code, "VALIDATION", "{text}");
        assert!(text.contains("{namn}"), "the error names the placeholders to use: {text}");
        Ok(())
    }

    async fn the_roll_call_counts_acknowledgements_per_unit(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, "Hemtjänst Norr – centrala Norrbyn").await?;
        let message = send(&lead, json!({
            "audience": { "unitIds": [norr] },
            "bodySv": "Nattens larm går via telefon till 0921-123 45.",
            "classification": { "confidentiality": 2, "integrity": 1, "availability": 2 },
        })).await?;
        assert_eq!(message["classification"]["confidentiality"], 2);
        let manager = server.sign_in_as("enhetschef").await?;
        let read = manager.data("query($id: ID!) { message(id: $id) { reference bodySv } }", json!({ "id": message["id"] })).await?;
        assert_eq!(read["message"]["reference"], message["reference"]);
        let acknowledged = "mutation($id: ID!) { acknowledgeMessage(id: $id) { id } }";
        manager.data(acknowledged, json!({ "id": message["id"] })).await?;
        manager.data(acknowledged, json!({ "id": message["id"] })).await?;
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        let overall = &roll_call["rollCall"]["overall"];
        assert_eq!(overall["acknowledged"], 1, "{roll_call}");
        assert_eq!(overall["queued"].as_u64().map(|queued| queued + 1), overall["recipients"].as_u64());
        assert!(!names(&roll_call["rollCall"]["notReached"]).contains("Karin Lindqvist"));
        let units = roll_call["rollCall"]["units"].as_array().cloned().unwrap_or_default();
        let norr_counts = units
            .iter()
            .find(|unit| unit["unit"]["name"] == "Hemtjänst Norr – centrala Norrbyn")
            .map(|unit| unit["counts"].clone())
            .unwrap_or_default();
        assert_eq!(norr_counts["acknowledged"], 1, "{roll_call}");
        // Someone the message did not go to cannot acknowledge it, nor learn it exists.
        let outsider = server.sign_in_as("enhetschef-solgarden").await?;
        let (code, _) = outsider.error(acknowledged, json!({ "id": message["id"] })).await?;
        assert_eq!(code, "NOT_FOUND");
        Ok(())
    }

    async fn a_recipient_lists_their_messages_and_a_sender_the_latest_sent(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, "Hemtjänst Norr – centrala Norrbyn").await?;
        let message = send(&lead, json!({
            "audience": { "unitIds": [norr] },
            "bodySv": "Använd pappersjournalen tills vidare.",
        })).await?;
        let mine = "{ myMessages { acknowledgedAt message { id bodySv recipientCount } } }";
        let manager = server.sign_in_as("enhetschef").await?;
        let before = manager.data(mine, json!({})).await?;
        let first = &before["myMessages"][0];
        assert_eq!(first["message"]["id"], message["id"], "{before}");
        assert_eq!(first["message"]["recipientCount"], message["recipientCount"]);
        assert!(first["acknowledgedAt"].is_null());
        manager
            .data("mutation($id: ID!) { acknowledgeMessage(id: $id) { id } }", json!({ "id": message["id"] }))
            .await?;
        let after = manager.data(mine, json!({})).await?;
        assert!(after["myMessages"][0]["acknowledgedAt"].is_string(), "{after}");
        // Someone the message did not go to does not see it.
        let outsider = server.sign_in_as("enhetschef-solgarden").await?;
        let theirs = outsider.data(mine, json!({})).await?;
        assert!(!theirs["myMessages"].as_array().cloned().unwrap_or_default().iter()
            .any(|m| m["message"]["id"] == message["id"]), "{theirs}");
        let sent = lead.data("{ recentMessages(first: 5) { id } }", json!({})).await?;
        assert_eq!(sent["recentMessages"][0]["id"], message["id"], "{sent}");
        let (code, _) = manager.error("{ recentMessages { id } }", json!({})).await?;
        assert_eq!(code, "FORBIDDEN");
        Ok(())
    }

    async fn without_sms_the_api_says_so_and_estimates_the_app_only(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"], json!({ "enabled": false, "senders": 0, "segmentsPerSecond": 0.0, "maxSegments": 0 }));
        let estimate = lead.data(ESTIMATE, json!({ "input": { "audience": { "everyone": true }, "bodySv": "Samling kl. 14." } })).await?;
        let estimate = &estimate["messageEstimate"];
        assert!(estimate["recipients"].as_u64().is_some_and(|count| count > 10), "{estimate}");
        assert_eq!(estimate["sms"], Value::Null, "no texts are promised when SMS is off");
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, _) = worker.error(SMS_CHANNEL, json!({})).await?;
        assert_eq!(code, "FORBIDDEN", "only those who send messages plan sends");
        Ok(())
    }

    async fn the_crisis_lead_sees_how_long_the_texts_take_before_and_during_a_send(server: sending_sms_from_two_numbers) {
        let lead = server.sign_in_as("krisledare").await?;
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"], json!({ "enabled": true, "senders": 2, "segmentsPerSecond": 2.0, "maxSegments": 2 }));
        let input = json!({ "audience": { "everyone": true }, "bodySv": "Hej {namn}! Samling i krisledningsrummet kl. 14." });
        let estimate = lead.data(ESTIMATE, json!({ "input": input })).await?;
        let estimate = &estimate["messageEstimate"];
        let recipients = estimate["recipients"].as_u64().unwrap_or_default();
        let texts = estimate["sms"]["texts"].as_u64().unwrap_or_default();
        assert_eq!(texts + estimate["withoutPhone"].as_u64().unwrap_or_default(), recipients, "{estimate}");
        assert!(texts > 10, "the sample's staff have phones: {estimate}");
        assert_eq!(estimate["sms"]["segments"], texts, "a short Swedish text is one segment each: {estimate}");
        assert_eq!(estimate["sms"]["seconds"], texts.div_ceil(2), "two senders at one a second: {estimate}");
        let summary = estimate["sms"]["summary"].as_str().unwrap_or_default();
        assert!(summary.starts_with(&format!("{texts} sms via 2 avsändare ≈ ")), "{summary}");
        assert!(estimate["sms"]["en"].as_str().is_some_and(|en| en.contains("SMS over 2 senders")), "{estimate}");

        let message = send(&lead, input).await?;
        assert_eq!(message["recipientCount"], recipients);
        let during = lead.data("query($id: ID!) { rollCall(messageId: $id) { smsLeft { texts seconds } } }", json!({ "id": message["id"] })).await?;
        assert_eq!(during["rollCall"]["smsLeft"], json!({ "texts": texts, "seconds": texts.div_ceil(2) }), "nothing has left yet: {during}");
        Ok(())
    }

    async fn a_text_too_long_for_sms_is_refused_before_anything_is_queued(server: sending_sms_from_two_numbers) {
        let lead = server.sign_in_as("krisledare").await?;
        // 120 characters with an emoji make the text UCS-2: more than two segments of 67.
        let long = format!("{} 🚨 Alla enheter: läs rutinen för pappersjournal.", "Journalsystemet är nere. ".repeat(4));
        let input = json!({ "audience": { "everyone": true }, "bodySv": long });
        let (code, text) = lead.error(ESTIMATE, json!({ "input": input })).await?;
        assert_eq!(code, "VALIDATION", "{text}");
        assert!(text.contains("bodySv") && text.contains("at most 2"), "the error says which text and the limit: {text}");
        let response = lead.send(SEND, json!({ "input": input })).await?;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(error["extensions"]["field"], "bodySv");
        let admin = server.sign_in_as("admin").await?;
        let sends = |outcome: &'static str| {
            let admin = &admin;
            async move {
                let events = admin.data(
                    "query($outcome: AuditOutcome) { auditEvents(objectType: \"message\", action: SEND, outcome: $outcome, first: 100) { edges { node { id } } } }",
                    json!({ "outcome": outcome }),
                ).await?;
                anyhow::Ok(events["auditEvents"]["edges"].as_array().map_or(0, Vec::len))
            }
        };
        assert_eq!(sends("SUCCESS").await?, 0, "no message was stored: {}", sends("SUCCESS").await?);
        assert_eq!(sends("FAILED").await?, 1, "the refusal is on record");
        send(&lead, json!({ "audience": { "everyone": true }, "bodySv": "Läs rutinen för pappersjournal." })).await?;
        assert_eq!(sends("SUCCESS").await?, 1, "a text that fits goes out");
        Ok(())
    }
}
