//! Printed binders: a unit's approved plan, routines with tick boxes, forms and contact
//! list, as HTML that prints to PDF in Chromium with a page per routine.

use anyhow::{Context, bail, ensure};
use reserv_tests::{TestServer, id_where, on_every_database};
use serde_json::json;
use std::path::Path;

const HEMTJANST_NORR: &str = "Hemtjänst Norr – centrala Norrbyn";

/// GET a binder with the client's bearer token (or none): the status and the body.
pub(crate) async fn get_binder(
    server: &TestServer,
    token: Option<&str>,
    unit: &str,
) -> anyhow::Result<(u16, String)> {
    let mut request = reqwest::Client::new().get(format!("{}/print/units/{unit}", server.base_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// Text as the HTML template escapes it, to find plan texts in the page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Prints `html` to PDF with headless Chromium, as a person would from the browser.
/// Fails, naming what to install, when Chromium is not there: a binder test that
/// passes without printing proves nothing.
fn print_to_pdf(folder: &Path, html: &str) -> anyhow::Result<Vec<u8>> {
    let page = folder.join("binder.html");
    let pdf = folder.join("binder.pdf");
    std::fs::write(&page, html)?;
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .context(
            "Chromium is not installed, so the binder cannot be printed to PDF: \
             `apt-get install -y chromium` (.ci/run installs it)",
        )?;
    let output = std::process::Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            folder.join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .context("cannot start Chromium")?;
    ensure!(
        output.status.success() && pdf.exists(),
        "Chromium did not print the binder ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(std::fs::read(pdf)?)
}

/// Words of `text` joined by single spaces, so that line breaks in the PDF do not matter.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

on_every_database! {
    async fn the_demo_units_binder_prints_a_page_for_every_routine(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", HEMTJANST_NORR)?;
        let routines = lead
            .data("query($unit: ID) { routines(unitId: $unit) { title steps { what } } }", json!({ "unit": unit }))
            .await?;
        let routines = routines["routines"].as_array().cloned().unwrap_or_default();
        ensure!(routines.len() >= 4, "the demo unit has its paper routines: {routines:?}");
        let titles: Vec<String> = routines.iter().filter_map(|r| r["title"].as_str().map(str::to_owned)).collect();

        let (status, html) = get_binder(&server, lead.token(), &unit).await?;
        ensure!(status == 200, "HTTP {status}: {html}");
        ensure!(html.contains("Reservpärm") && html.contains("Kontinuitetsplan Hemtjänst Norr"), "a Swedish cover");
        ensure!(html.contains("Version</dt><dd>1</dd>"), "the cover names the version");
        ensure!(html.contains("Utskriven</dt><dd id=\"printed-at\">"), "and when it was printed");
        for title in &titles {
            ensure!(html.contains(&escaped(title)), "the routine '{title}' is in the binder");
        }
        let routine_pages = html.matches("<section class=\"routine\"").count();
        ensure!(routine_pages == titles.len(), "one section per routine: {routine_pages}");
        let boxes = html.matches("<td class=\"done\"><span class=\"box\"").count();
        let steps: usize = routines.iter().map(|r| r["steps"].as_array().map_or(0, Vec::len)).sum();
        ensure!(boxes >= steps, "a tick box for every step: {boxes} boxes, {steps} steps");
        ensure!(html.contains("Blankett Pappersschema hemtjänst"), "the paper forms the routines name");
        ensure!(html.contains("070-174 06 13"), "the unit manager's number in the contact list");
        ensure!(html.contains("break-before: page") && html.contains("counter(pages)"), "paged media");

        let folder = tempfile::tempdir()?;
        let pdf = print_to_pdf(folder.path(), &html)?;
        let document = lopdf::Document::load_mem(&pdf).context("Chromium's PDF does not parse")?;
        let pages = document.get_pages();
        // The cover, at least a page of plan, a page per routine, forms and contacts.
        let fewest = 1 + 1 + titles.len() + 2;
        ensure!(pages.len() >= fewest && pages.len() <= 40, "{} pages; expected {fewest} to 40", pages.len());
        let numbers: Vec<u32> = pages.keys().copied().collect();
        let text = words(&document.extract_text(&numbers).context("the PDF's text cannot be read")?);
        for title in &titles {
            // Long titles may break across lines; their words in order must be there.
            ensure!(text.contains(&words(title)), "the routine '{title}' is printed; the PDF says: {}", &text[..text.len().min(400)]);
        }
        ensure!(text.contains("Sida 2 av"), "the pages are numbered");
        Ok(())
    }

    async fn a_binder_holds_only_what_its_reader_may_see(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let norr = id_where(&units["units"], "name", HEMTJANST_NORR)?;
        let solgarden = id_where(&units["units"], "name", "Solgårdens vård- och omsorgsboende")?;

        let (status, _) = get_binder(&server, None, &norr).await?;
        ensure!(status == 401, "signed out: {status}");
        let worker = server.sign_in_as("underskoterska").await?;
        let (status, body) = get_binder(&server, worker.token(), &solgarden).await?;
        ensure!(status == 403, "another unit's binder: {status} {body}");
        let (status, body) = get_binder(&server, worker.token(), "999999").await?;
        ensure!(status == 404, "no such unit: {status} {body}");
        let (status, body) = get_binder(&server, worker.token(), "norr").await?;
        ensure!(status == 400 && body.starts_with("id:"), "not an id: {status} {body}");

        let (status, html) = get_binder(&server, worker.token(), &norr).await?;
        ensure!(status == 200, "her own unit: {status} {html}");
        ensure!(html.contains("Planens text är klassad över din behörighet"), "the sensitive plan text is left out");
        ensure!(!html.contains("cirka 190 brukare"), "not a word of the plan's summary");
        ensure!(html.matches("<section class=\"routine\"").count() == 4, "her unit's four routines");
        let full = get_binder(&server, lead.token(), &norr).await?.1;
        ensure!(full.contains("cirka 190 brukare"), "a crisis lead reads the plan's text");

        let english = reqwest::Client::new()
            .get(format!("{}/print/units/{norr}?lang=en", server.base_url))
            .bearer_auth(lead.token().unwrap_or_default())
            .send()
            .await?
            .text()
            .await?;
        ensure!(english.contains("Fallback binder") && english.contains("Printed</dt>"), "English second");
        Ok(())
    }

    async fn a_unit_without_an_approved_plan_has_no_binder(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let municipality = id_where(&units["units"], "name", "Norrbyns kommun")?;
        let (status, body) = get_binder(&server, lead.token(), &municipality).await?;
        if status != 409 {
            bail!("a unit without a plan: {status} {body}");
        }
        ensure!(body.contains("Norrbyns kommun har ingen godkänd kontinuitetsplan"), "{body}");
        Ok(())
    }
}
