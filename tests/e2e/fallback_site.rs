//! The static fallback site: what residents read when Reserv's own server is gone.
//! Built from the same notices as the live page, self-contained, and the same bytes for
//! the same input.

use chrono::{TimeZone, Utc};
use reserv_tests::on_every_database;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

fn read_site(folder: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        files.insert(
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path())?,
        );
    }
    Ok(files)
}

on_every_database! {
    async fn the_site_is_the_same_bytes_for_the_same_notices(server: sample_municipality) {
        let store = server.store()?;
        let folder = tempfile::tempdir()?;
        let generated = Utc.with_ymd_and_hms(2026, 2, 21, 8, 0, 0).single().unwrap_or_default();
        let (first, second) = (folder.path().join("first"), folder.path().join("second"));
        reserv_fallback::build_site(&store, &first, generated, 30).await?;
        reserv_fallback::build_site(&store, &second, generated, 30).await?;
        let site = read_site(&first)?;
        assert_eq!(site, read_site(&second)?, "two builds of the same input differ");
        assert_eq!(
            site.keys().map(String::as_str).collect::<Vec<_>>(),
            ["en.html", "index.html", "status.atom", "status.en.atom", "status.json"]
        );

        let index = String::from_utf8(site["index.html"].clone())?;
        assert!(index.len() < 30 * 1024, "{} bytes", index.len());
        assert!(index.contains("Tidigare meddelanden"), "the demo's withdrawn notice is in the history");
        assert!(index.contains("Kommunens IT-system är ur drift"), "its first revision too");
        assert!(!index.contains("tel:+46701740690"), "the temporary numbers of an ended notice are not offered");
        assert!(index.contains("data-stale-after-minutes=\"30\""), "the freshness check knows its limit");
        assert!(index.contains("Sidan skapades: <time datetime=\"2026-02-21T08:00:00Z\">21 februari 2026 kl. 09.00</time>"), "{index}");
        for page in ["index.html", "en.html"] {
            let html = String::from_utf8(site[page].clone())?;
            assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="),
                "{page} loads nothing from anywhere: it works from file:// and any host");
            assert!(!html.contains("krypterade filer"), "the classified incident's text stays out of {page}");
        }
        let english = String::from_utf8(site["en.html"].clone())?;
        assert!(english.contains("<html lang=\"en\">") && english.contains("Earlier notices"));
        let json: serde_json::Value = serde_json::from_slice(&site["status.json"])?;
        assert_eq!(json["generatedAt"], "2026-02-21T08:00:00Z");
        assert_eq!(json["notices"], json!([]), "the demo notice is no longer current");
        Ok(())
    }

    async fn a_new_notice_shows_on_the_rebuilt_site(server: sample_municipality) {
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(
                "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }",
                json!({ "input": {
                    "confidentiality": 0,
                    "headline": { "sv": "Strömavbrott i Norrby", "en": "Power cut in Norrby" },
                    "body": { "sv": "Trygghetslarmen går på batteri." },
                    "hotlines": [{ "name": { "sv": "Hemtjänst" }, "phone": "+46701740690", "openingHours": { "sv": "Dygnet runt" } }]
                } }),
            )
            .await?;
        let folder = tempfile::tempdir()?;
        let out = folder.path().join("site");
        reserv_fallback::build_site(&server.store()?, &out, Utc::now(), 30).await?;
        let index = std::fs::read_to_string(out.join("index.html"))?;
        assert!(index.contains("Strömavbrott i Norrby") && index.contains("070-174 06 90"));
        let english = std::fs::read_to_string(out.join("en.html"))?;
        assert!(english.contains("Power cut in Norrby"));
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("status.json"))?)?;
        assert_eq!(json["notices"][0]["headline"]["sv"], "Strömavbrott i Norrby");
        Ok(())
    }
}
