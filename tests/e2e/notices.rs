//! Public notices: a communicator tells residents what works and which number to call;
//! anyone can read it without signing in, every change is kept as a revision and audited,
//! and nothing classified can be published.

use reserv_tests::{Client, on_every_database};
use serde_json::{Value, json};

const PUBLISH: &str = "mutation($input: NoticeInput!) {
    publishNotice(input: $input) { id current latest { revision state headline { sv en } } }
}";

const UPDATE: &str = "mutation($id: ID!, $input: NoticeInput!) {
    updateNotice(id: $id, input: $input) { id latest { revision headline { sv } } revisions { revision } }
}";

const WITHDRAW: &str = "mutation($id: ID!) {
    withdrawNotice(id: $id) { id current latest { revision state } }
}";

const PUBLIC: &str = "query($all: Boolean!) {
    publicNotices(includeEnded: $all) {
        id current publishedAt
        latest { revision state headline { sv en } body { sv }
                 services { name { sv } state } hotlines { name { sv } phone openingHours { sv } } }
        revisions { revision state headline { sv } recordedAt }
    }
}";

fn a_notice_about_home_care(headline: &str) -> Value {
    json!({
        "confidentiality": 0,
        "headline": { "sv": headline, "en": "Home care visits may be late" },
        "body": { "sv": "Hemtjänsten gör sina besök men kan komma senare än vanligt." },
        "services": [
            { "name": { "sv": "Hemtjänstens besök", "en": "Home care visits" }, "state": "DISRUPTED" },
            { "name": { "sv": "Kommunens växel" }, "state": "DOWN" }
        ],
        "hotlines": [
            { "name": { "sv": "Hemtjänst och boenden" }, "phone": "+46 70 174 06 90",
              "openingHours": { "sv": "Dygnet runt", "en": "Around the clock" } }
        ]
    })
}

async fn current_notices(client: &Client) -> anyhow::Result<Vec<Value>> {
    let data = client.data(PUBLIC, json!({ "all": false })).await?;
    Ok(data["publicNotices"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

on_every_database! {
    async fn a_communicator_publishes_and_residents_read_it_without_signing_in(server: sample_municipality) {
        let communicator = server.sign_in_as("kommunikator").await?;
        let published = communicator
            .data(PUBLISH, json!({ "input": a_notice_about_home_care("Besöken kan bli försenade") }))
            .await?;
        assert_eq!(published["publishNotice"]["current"], true);
        assert_eq!(published["publishNotice"]["latest"]["revision"], 1);

        let resident = server.anonymous();
        let current = current_notices(&resident).await?;
        assert_eq!(current.len(), 1, "only the new notice is current: {current:?}");
        let latest = &current[0]["latest"];
        assert_eq!(latest["headline"]["sv"], "Besöken kan bli försenade");
        assert_eq!(latest["services"][1]["state"], "DOWN");
        assert_eq!(latest["hotlines"][0]["phone"], "+46701740690", "the number is kept in E.164 form");
        Ok(())
    }

    async fn every_change_is_a_revision_residents_can_read_later(server: sample_municipality) {
        let communicator = server.sign_in_as("kommunikator").await?;
        let published = communicator
            .data(PUBLISH, json!({ "input": a_notice_about_home_care("Besöken kan bli försenade") }))
            .await?;
        let id = published["publishNotice"]["id"].clone();
        let lead = server.sign_in_as("krisledare").await?;
        let updated = lead
            .data(UPDATE, json!({ "id": id, "input": a_notice_about_home_care("Besöken görs enligt plan") }))
            .await?;
        assert_eq!(updated["updateNotice"]["latest"]["revision"], 2);
        let withdrawn = communicator.data(WITHDRAW, json!({ "id": id })).await?;
        assert_eq!(withdrawn["withdrawNotice"]["current"], false);
        assert_eq!(withdrawn["withdrawNotice"]["latest"]["state"], "WITHDRAWN");

        let resident = server.anonymous();
        assert!(current_notices(&resident).await?.is_empty(), "a withdrawn notice is not current");
        let all = resident.data(PUBLIC, json!({ "all": true })).await?;
        let notice = all["publicNotices"]
            .as_array()
            .and_then(|notices| notices.iter().find(|notice| notice["id"] == id))
            .cloned()
            .unwrap_or_default();
        let headlines: Vec<&str> = notice["revisions"]
            .as_array()
            .map(|revisions| revisions.iter().filter_map(|r| r["headline"]["sv"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(headlines, ["Besöken kan bli försenade", "Besöken görs enligt plan", "Besöken görs enligt plan"]);

        let (code, message) = communicator
            .error(UPDATE, json!({ "id": id, "input": a_notice_about_home_care("Igen") }))
            .await?;
        assert_eq!(code, "CONFLICT", "{message}");

        let admin = server.sign_in_as("admin").await?;
        let events = admin
            .data(
                "query($id: ID!) { auditEvents(objectType: \"public_notice\", objectId: $id) { edges { node { action actor outcome } } } }",
                json!({ "id": id }),
            )
            .await?;
        let trail: Vec<(String, String, String)> = events["auditEvents"]["edges"]
            .as_array()
            .map(|edges| {
                edges
                    .iter()
                    .map(|edge| {
                        let node = &edge["node"];
                        let text = |field: &str| node[field].as_str().unwrap_or_default().to_owned();
                        (text("action"), text("actor"), text("outcome"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let expected = [
            ("PUBLISH", "kommunikator", "SUCCESS"),
            ("UPDATE", "krisledare", "SUCCESS"),
            ("WITHDRAW", "kommunikator", "SUCCESS"),
            ("UPDATE", "kommunikator", "FAILED"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(trail, expected);
        Ok(())
    }

    async fn classified_content_is_refused_naming_the_field(server: sample_municipality) {
        let communicator = server.sign_in_as("kommunikator").await?;
        for level in [1, 2, 3] {
            let mut input = a_notice_about_home_care("Hemlig");
            input["confidentiality"] = json!(level);
            let response = communicator.send(PUBLISH, json!({ "input": input })).await?;
            assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], "confidentiality", "{response}");
        }
        let mut bad_number = a_notice_about_home_care("Fel nummer");
        bad_number["hotlines"][0]["phone"] = json!("0923-65");
        let response = communicator.send(PUBLISH, json!({ "input": bad_number })).await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "hotlines[0].phone", "{response}");
        let mut blank = a_notice_about_home_care(" ");
        blank["body"]["en"] = json!("x");
        let response = communicator.send(PUBLISH, json!({ "input": blank })).await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "headline.sv", "{response}");
        assert!(current_notices(&server.anonymous()).await?.is_empty(), "nothing was half-written");
        Ok(())
    }

    async fn only_communicators_and_crisis_leads_publish(server: sample_municipality) {
        for username in ["lasare", "enhetschef", "underskoterska"] {
            let client = server.sign_in_as(username).await?;
            let (code, _) = client
                .error(PUBLISH, json!({ "input": a_notice_about_home_care("Får inte") }))
                .await?;
            assert_eq!(code, "FORBIDDEN", "{username}");
        }
        let (code, _) = server
            .anonymous()
            .error(PUBLISH, json!({ "input": a_notice_about_home_care("Får inte") }))
            .await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn the_demo_keeps_what_residents_were_told_during_the_cyberattack(server: sample_municipality) {
        let all = server.anonymous().data(PUBLIC, json!({ "all": true })).await?;
        let notices = all["publicNotices"].as_array().cloned().unwrap_or_default();
        assert_eq!(notices.len(), 1, "{all}");
        let notice = &notices[0];
        assert_eq!(notice["current"], false, "the attack is over; the notice was withdrawn");
        assert_eq!(notice["revisions"].as_array().map(Vec::len), Some(3));
        assert_eq!(notice["publishedAt"], "2026-02-10T07:40:00+00:00");
        let first = notice["revisions"][0]["headline"]["sv"].as_str().unwrap_or_default();
        assert!(first.starts_with("Kommunens IT-system är ur drift"), "{first}");
        Ok(())
    }
}
