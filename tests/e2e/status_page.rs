//! The public status page, `/status.json` and `/status.atom`: what a resident sees with
//! no sign-in, how caches are told about it, the rate limit, and that nothing classified
//! ever reaches it.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use reserv_tests::{TestServer, on_every_database};
use serde_json::{Value, json};

const PUBLISH: &str = "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }";

fn a_notice(headline_sv: &str, headline_en: &str, incident: Option<&str>) -> Value {
    json!({
        "confidentiality": 0,
        "headline": { "sv": headline_sv, "en": headline_en },
        "body": { "sv": "Hemtjänsten gör sina besök.\n\nBesöken kan bli försenade.", "en": "Home care visits are made." },
        "services": [{ "name": { "sv": "Hemtjänstens besök", "en": "Home care visits" }, "state": "DISRUPTED" }],
        "hotlines": [{ "name": { "sv": "Hemtjänst", "en": "Home care" }, "phone": "+46701740690",
                       "openingHours": { "sv": "Dygnet runt", "en": "Around the clock" } }],
        "incidentId": incident,
    })
}

async fn get(server: &TestServer, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let response = reqwest::get(format!("{}{path}", server.base_url)).await?;
    Ok((response.status(), response.text().await?))
}

/// The repository's playbooks, as `serve --demo` imports them at start.
async fn import_the_shipped_playbooks(server: &TestServer) -> anyhow::Result<()> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    reserv::playbooks::import(&server.store()?, &folder).await?;
    Ok(())
}

on_every_database! {
    async fn the_playbooks_advice_for_residents_is_on_the_page_the_json_and_the_static_site(server: sample_municipality) {
        import_the_shipped_playbooks(&server).await?;
        let (_, page) = get(&server, "/status").await?;
        assert!(page.contains("<h2 id=\"guidance\">Råd om något inte fungerar</h2>"), "{page}");
        assert!(page.contains("<h3>Digitala nyckelfria lås fungerar inte</h3>"), "the scenario heads its advice");
        assert!(page.contains("Öppna inte för någon som inte kan visa tjänstelegitimation."), "{page}");
        assert!(page.len() < 30 * 1024, "the page with all advice is {} bytes", page.len());
        assert!(page.contains("Just nu finns inga kända störningar."), "{page}");
        // The page just rendered is reused for a second, but never past a notice change.
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(PUBLISH, json!({ "input": a_notice("Larmen går till reservnumret", "Alarms go to the backup number", None) }))
            .await?;
        let (_, page) = get(&server, "/status").await?;
        assert!(page.contains("Larmen går till reservnumret"), "a new notice shows at once: {page}");
        let (_, english) = get(&server, "/status?lang=en").await?;
        assert!(english.contains("Advice if something is not working") && english.contains("Do not open the door to anyone who cannot show a staff ID card."));

        let (_, json) = get(&server, "/status.json").await?;
        let json: Value = serde_json::from_str(&json)?;
        let guidance = json["guidance"].as_array().cloned().unwrap_or_default();
        assert_eq!(guidance.len(), 9, "every shipped playbook has advice: {json}");
        assert!(guidance.iter().all(|advice| advice["scenario"]["sv"].is_string() && advice["advice"]["sv"].is_string()), "{json}");

        let site = tempfile::tempdir()?;
        reserv_fallback::build_site(&server.store()?, site.path(), chrono::Utc::now(), 30).await?;
        let index = std::fs::read_to_string(site.path().join("index.html"))?;
        assert!(index.contains("Öppna inte för någon som inte kan visa tjänstelegitimation."), "the static site carries the advice");
        let english = std::fs::read_to_string(site.path().join("en.html"))?;
        assert!(english.contains("Do not open the door to anyone who cannot show a staff ID card."));
        Ok(())
    }

    async fn a_published_notice_is_on_the_page_the_feed_and_the_json(server: sample_municipality) {
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(PUBLISH, json!({ "input": a_notice("Besöken kan bli försenade", "Visits may be late", None) }))
            .await?;

        let (status, page) = get(&server, "/status").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<html lang=\"sv\">"), "{page}");
        for landmark in ["<header>", "<main id=\"main\">", "<footer>", "<h1>", "<h2 id=\"current\">"] {
            assert!(page.contains(landmark), "the page has {landmark}");
        }
        assert!(page.contains("Besöken kan bli försenade"));
        assert!(page.contains("Senast uppdaterad"), "the last update is shown");
        assert!(page.contains("href=\"tel:+46701740690\">070-174 06 90</a>"), "{page}");
        assert!(!page.contains("<script"), "the live page needs no JavaScript");
        assert!(page.len() < 30 * 1024, "the page is {} bytes", page.len());

        let (_, english) = get(&server, "/status?lang=en").await?;
        assert!(english.contains("<html lang=\"en\">") && english.contains("Visits may be late"));
        assert!(english.contains("Last updated"));

        let (status, json) = get(&server, "/status.json").await?;
        assert_eq!(status, StatusCode::OK);
        let json: Value = serde_json::from_str(&json)?;
        assert_eq!(json["notices"][0]["headline"]["sv"], "Besöken kan bli försenade", "{json}");
        assert!(json["updatedAt"].is_string(), "{json}");

        let (status, atom) = get(&server, "/status.atom").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(atom.starts_with("<?xml") && atom.contains("<title>Besöken kan bli försenade</title>"), "{atom}");
        Ok(())
    }

    async fn caches_revalidate_with_the_etag(server: sample_municipality) {
        let client = reqwest::Client::new();
        let url = format!("{}/status", server.base_url);
        let first = client.get(&url).send().await?;
        let etag = first.headers().get(ETAG).cloned();
        assert!(etag.is_some(), "an ETag is sent");
        assert_eq!(
            first.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()),
            Some("public, max-age=30")
        );
        let etag = etag.unwrap_or_else(|| reqwest::header::HeaderValue::from_static("none"));
        let again = client.get(&url).header(IF_NONE_MATCH, etag.clone()).send().await?;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.text().await?.is_empty());

        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(PUBLISH, json!({ "input": a_notice("Ny information", "New information", None) }))
            .await?;
        let changed = client.get(&url).header(IF_NONE_MATCH, etag).send().await?;
        assert_eq!(changed.status(), StatusCode::OK, "a new notice is a new version");
        Ok(())
    }

    async fn classified_incident_text_never_reaches_the_public(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let mut secrets = vec!["krypterade filer".to_owned()];
        let mut incidents = vec![];
        for level in [1, 2] {
            let title = format!("HEMLIG-TITEL-{level}");
            let description = format!("HEMLIG-BESKRIVNING-{level}");
            let reported = lead
                .data(
                    "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
                    json!({ "input": {
                        "title": title, "description": description, "kind": "IT_OUTAGE", "severity": 2,
                        "classification": { "confidentiality": level, "integrity": 1, "availability": 2 }
                    } }),
                )
                .await?;
            let id = reported["reportIncident"]["id"].as_str().unwrap_or_default().to_owned();
            let log_text = format!("HEMLIG-LOGG-{level}");
            lead.data(
                "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }",
                json!({ "id": id, "input": { "kind": "OBSERVATION", "text": log_text } }),
            )
            .await?;
            secrets.extend([title, description, log_text]);
            incidents.push(id);
        }
        let communicator = server.sign_in_as("kommunikator").await?;
        for incident in &incidents {
            communicator
                .data(PUBLISH, json!({ "input": a_notice("Offentlig rubrik", "Public headline", Some(incident)) }))
                .await?;
        }
        let mut classified = a_notice("HEMLIG-NOTIS", "HEMLIG-NOTIS", None);
        classified["confidentiality"] = json!(2);
        let refused = communicator.send(PUBLISH, json!({ "input": classified })).await?;
        assert_eq!(refused["errors"][0]["extensions"]["field"], "confidentiality");
        secrets.push("HEMLIG-NOTIS".into());

        let graphql = server
            .anonymous()
            .data("{ publicNotices(includeEnded: true) { id latest { headline { sv en } body { sv en } } } }", json!({}))
            .await?
            .to_string();
        for path in ["/status", "/status?lang=en", "/status.json", "/status.atom", "/status.atom?lang=en"] {
            let (status, body) = get(&server, path).await?;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(body.contains("Offentlig rubrik") || body.contains("Public headline"), "{path} shows the notice");
            for secret in &secrets {
                assert!(!body.contains(secret.as_str()), "{path} shows '{secret}'");
                assert!(!graphql.contains(secret.as_str()), "publicNotices shows '{secret}'");
            }
        }
        Ok(())
    }

    async fn each_client_address_is_rate_limited(server: strict_rate_limits) {
        for _ in 0..3 {
            assert_eq!(get(&server, "/status.json").await?.0, StatusCode::OK);
        }
        let response = reqwest::get(format!("{}/status", server.base_url)).await?;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().get("retry-after").is_some());
        assert_eq!(get(&server, "/healthz").await?.0, StatusCode::OK, "only the public status is limited");
        Ok(())
    }
}
