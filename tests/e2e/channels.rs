//! Classification on every channel: one confidential incident and one confidential
//! message, followed through each way information leaves Reserv (the app, SMS, the SMS
//! STATUS command, the public status page and its feed, the static fallback site, the
//! printed binder and the phone's offline store). Each shows it only to those who may
//! read it, and only as far as the channel may carry it (`reserv_domain::disclosure`).
//! Web push of a confidential message is followed in `web_push`.

use crate::binders::get_binder;
use crate::plans::{NORR, unit_id};
use crate::sms_inbound::text;
use reserv_tests::{TestServer, on_every_database};
use serde_json::{Value, json};

/// The title of a confidentiality-2 incident: that the user list may have been read is
/// itself sensitive.
const SECRET_TITLE: &str = "Intrång: brukarlistan för hemtjänst Norr kan vara läst";
/// An internal incident of the same unit, which every channel for staff may carry.
const INTERNAL_TITLE: &str = "Journalsystemet nere i hemtjänst Norr";
const SECRET_BODY: &str = "Brukarlistan kan vara läst av obehöriga. Lämna inga uppgifter om brukare i telefon till okända.";
/// Linnea Isaksson, care worker in Hemtjänst Norr, with her registered phone.
const LINNEA: &str = "+46701740621";

const REPORT: &str =
    "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }";
const SEND: &str =
    "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id reference } }";
const PUBLISH: &str = "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }";

async fn report(
    lead: &reserv_tests::Client,
    unit: &str,
    title: &str,
    level: u8,
) -> anyhow::Result<String> {
    let reported = lead
        .data(
            REPORT,
            json!({ "input": {
                "title": title,
                "kind": "INFORMATION_SECURITY",
                "severity": 2,
                "classification": { "confidentiality": level, "integrity": 2, "availability": 2 },
                "unitIds": [unit],
            } }),
        )
        .await?;
    Ok(reported["reportIncident"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn get(server: &TestServer, path: &str) -> anyhow::Result<String> {
    Ok(reqwest::get(format!("{}{path}", server.base_url))
        .await?
        .text()
        .await?)
}

on_every_database! {
    async fn a_confidential_incident_and_message_reach_no_channel_that_may_not_carry_them(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, NORR).await?;
        let secret = report(&lead, &norr, SECRET_TITLE, 2).await?;
        report(&lead, &norr, INTERNAL_TITLE, 1).await?;
        let sent = lead
            .data(
                SEND,
                json!({ "input": {
                    "audience": { "unitIds": [norr] },
                    "bodySv": SECRET_BODY,
                    "classification": { "confidentiality": 2, "integrity": 2, "availability": 2 },
                } }),
            )
            .await?;
        let reference = sent["sendMessage"]["reference"].as_str().unwrap_or_default().to_owned();

        // The app: the care worker of the unit is cleared for level 1 only.
        let worker = server.sign_in_as("underskoterska").await?;
        let listed = worker
            .data("{ incidents(first: 50) { nodes { title } } }", json!({}))
            .await?
            .to_string();
        assert!(listed.contains(INTERNAL_TITLE) && !listed.contains(SECRET_TITLE), "{listed}");
        let (code, _) = worker
            .error("query($id: ID!) { incident(id: $id) { title } }", json!({ "id": secret }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        let manager = server.sign_in_as("enhetschef").await?;
        let read = manager
            .data("query($id: ID!) { incident(id: $id) { title } }", json!({ "id": secret }))
            .await?;
        assert_eq!(read["incident"]["title"], SECRET_TITLE, "the unit's manager is cleared for it");

        // SMS: every queued text says only that there is a message, with its reference.
        let texts = server
            .select_text("SELECT body FROM outbox WHERE channel = 'sms' ORDER BY id")
            .await?;
        assert!(!texts.is_empty(), "the unit's people with phones get a text");
        for body in &texts {
            assert!(!body.contains("Brukarlistan"), "confidential content queued for SMS: {body}");
            assert!(body.contains(&format!("({reference})")), "{body}");
        }

        // The SMS STATUS command from the care worker's phone names the internal incident,
        // never the confidential one.
        let reply = text(&server, LINNEA, "STATUS", "SM9100").await?;
        assert!(reply.contains(INTERNAL_TITLE) && !reply.contains("Intrång"), "{reply}");

        // The public status page, its JSON and its feed: nothing classified, and a notice
        // above level 0 cannot be published.
        for path in ["/status", "/status?lang=en", "/status.json", "/status.atom"] {
            let page = get(&server, path).await?;
            assert!(!page.contains("Intrång") && !page.contains("Brukarlistan"), "{path}: {page}");
        }
        let (code, message) = lead
            .error(
                PUBLISH,
                json!({ "input": {
                    "confidentiality": 2,
                    "headline": { "sv": SECRET_TITLE, "en": "Intrusion" },
                    "body": { "sv": SECRET_BODY, "en": "The user list may have been read." },
                    "incidentId": secret,
                } }),
            )
            .await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.starts_with("confidentiality: is 2;"), "{message}");

        // The static fallback site, hosted outside the organisation.
        let folder = tempfile::tempdir()?;
        reserv_fallback::build_site(&server.store()?, folder.path(), chrono::Utc::now(), 30).await?;
        for entry in std::fs::read_dir(folder.path())? {
            let path = entry?.path();
            let content = std::fs::read_to_string(&path)?;
            assert!(!content.contains("Intrång") && !content.contains("Brukarlistan"), "{}", path.display());
        }

        // Print: the unit's level-2 plan text is printed for its manager, not for the
        // care worker, whose binder says why it is left out.
        let (status, for_worker) = get_binder(&server, worker.token(), &norr).await?;
        assert_eq!(status, 200);
        assert!(for_worker.contains("Planens text är klassad över din behörighet"), "the worker's binder says the text is left out");
        let (status, for_manager) = get_binder(&server, manager.token(), &norr).await?;
        assert_eq!(status, 200);
        assert!(!for_manager.contains("Planens text är klassad över din behörighet"));

        // The phone's offline store: the deployment's ceiling as the policy reads it.
        let settings = worker
            .data("{ clientSettings { offlineMaxConfidentiality } }", json!({}))
            .await?;
        assert_eq!(settings["clientSettings"]["offlineMaxConfidentiality"], Value::from(1));
        Ok(())
    }
}
