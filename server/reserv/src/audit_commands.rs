//! `reserv audit verify` and `reserv audit export`: the operator's tools for the
//! organisation's follow-up of the audit trail. Both only read.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use reserv_store::Store;
use std::io::Write;
use std::path::Path;

/// Walks the chain; an error (and so a non-zero exit) names the first bad link.
pub async fn verify(store: &Store) -> anyhow::Result<()> {
    let report = store.verify_audit_chain().await?;
    match report.fault {
        None => {
            println!(
                "The audit chain is intact: {} events checked from the genesis on.",
                report.checked
            );
            Ok(())
        }
        Some(fault) => bail!(
            "the audit chain is broken after {} intact events: {fault}",
            report.checked
        ),
    }
}

/// Writes the events with `from <= at < to` as JSON lines, times in UTC.
pub async fn export(
    store: &Store,
    from: Option<&str>,
    to: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let from = from.map(|text| parse_time("--from", text)).transpose()?;
    let to = to.map(|text| parse_time("--to", text)).transpose()?;
    let mut writer: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("--out: cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let exported = store
        .export_audit_events(from, to, |event| {
            let record = &event.record;
            let line = serde_json::json!({
                "id": event.id.0,
                "seq": event.seq,
                "at": record.at.to_rfc3339_opts(SecondsFormat::Micros, true),
                "actor_id": record.actor_id.map(|id| id.0),
                "actor": record.actor,
                "action": record.action,
                "object_type": record.object_type,
                "object_id": record.object_id,
                "client_address": record.client_address,
                "outcome": record.outcome.as_str(),
                "detail": record.detail,
                "prev_hash": event.previous_hash,
                "hash": event.hash,
            });
            writeln!(writer, "{line}")
        })
        .await?;
    writer.flush()?;
    if let Some(path) = out {
        eprintln!("Exported {exported} audit events to {}.", path.display());
    }
    Ok(())
}

/// An RFC 3339 time, or a date meaning its midnight in UTC.
fn parse_time(option: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        Some(midnight) => Ok(midnight.and_utc()),
        None => bail!(
            "{option}: '{text}' is neither a date (2026-11-24) nor an RFC 3339 time (2026-11-24T08:00:00+01:00)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_or_rfc_3339() {
        let midnight = parse_time("--from", "2026-11-24").ok();
        assert_eq!(
            midnight.map(|t| t.to_rfc3339()),
            Some("2026-11-24T00:00:00+00:00".into())
        );
        let local = parse_time("--to", "2026-11-24T08:00:00+01:00").ok();
        assert_eq!(
            local.map(|t| t.to_rfc3339()),
            Some("2026-11-24T07:00:00+00:00".into())
        );
        let wrong = parse_time("--from", "igår").err().map(|e| e.to_string());
        assert!(wrong.is_some_and(|message| message.starts_with("--from: 'igår'")));
    }
}
