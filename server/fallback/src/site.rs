//! The static fallback site: the status page in both languages (with the notice history
//! and hotline numbers), its feeds and a small `status.json`, as plain files that work
//! from any static host and from `file://`, with no request to any other host.
//!
//! [`render_site`] is a pure function of the notices and the generation time, so the same
//! input gives the same bytes; [`write_site`] replaces a folder so that readers never see
//! a half-written site.

use crate::render::{Generated, Links, render_atom, render_status_page, status_json};
use crate::view::StatusView;
use crate::{FallbackError, Result};
use chrono::{DateTime, Utc};
use reserv_domain::notices::{PublicGuidance, PublicNotice};
use reserv_domain::people::Language;
use std::fs;
use std::path::{Path, PathBuf};

/// One file of the site: its name in the site's folder and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    pub name: &'static str,
    pub contents: String,
}

/// Every file of the site for `notices` (newest first) and the playbooks' `guidance` as
/// generated at `generated_at`.
pub fn render_site(
    notices: &[PublicNotice],
    guidance: &[PublicGuidance],
    generated_at: DateTime<Utc>,
    stale_after_minutes: u32,
) -> Result<Vec<SiteFile>> {
    let mut files = Vec::new();
    for (language, page, feed) in [
        (Language::Sv, "index.html", "status.atom"),
        (Language::En, "en.html", "status.en.atom"),
    ] {
        let view = StatusView::new(notices, guidance, language, generated_at);
        let links = Links::static_site(language);
        let generated = Generated::new(generated_at, language, stale_after_minutes);
        files.push(SiteFile {
            name: page,
            contents: render_status_page(&view, &links, Some(&generated))?,
        });
        files.push(SiteFile {
            name: feed,
            contents: render_atom(&view, &links)?,
        });
    }
    files.push(SiteFile {
        name: "status.json",
        contents: status_json(notices, guidance, generated_at, Some(generated_at))?,
    });
    Ok(files)
}

/// Replaces the folder `out` with `files`. The site is written in full to a sibling
/// folder first and then renamed into place, so that a reader sees the old site or the
/// new one, never a mix. A directory cannot be renamed over a non-empty one, so the old
/// site is moved aside first: for that instant, `out` is missing rather than partial.
pub fn write_site(out: &Path, files: &[SiteFile]) -> Result<()> {
    let parent = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| FallbackError::Io(format!("{} is not a folder name", out.display())))?
        .to_string_lossy()
        .into_owned();
    fs::create_dir_all(parent).map_err(|error| io_error("create", parent, error))?;
    let unique = format!("{}-{}", std::process::id(), Utc::now().timestamp_micros());
    let staging = parent.join(format!(".{name}.new-{unique}"));
    let retired = parent.join(format!(".{name}.old-{unique}"));
    let written = write_folder(&staging, files);
    if let Err(error) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    let had_site = out.exists();
    if had_site {
        fs::rename(out, &retired).map_err(|error| io_error("move aside", out, error))?;
    }
    if let Err(error) = fs::rename(&staging, out) {
        // Put the old site back rather than leave nothing.
        if had_site {
            let _ = fs::rename(&retired, out);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(io_error("rename into", out, error));
    }
    if had_site {
        fs::remove_dir_all(&retired).map_err(|error| io_error("remove", &retired, error))?;
    }
    Ok(())
}

fn write_folder(folder: &PathBuf, files: &[SiteFile]) -> Result<()> {
    fs::create_dir(folder).map_err(|error| io_error("create", folder, error))?;
    for file in files {
        let path = folder.join(file.name);
        fs::write(&path, &file.contents).map_err(|error| io_error("write", &path, error))?;
    }
    Ok(())
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> FallbackError {
    FallbackError::Io(format!("could not {what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 10, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_rebuild_replaces_the_whole_site_and_leaves_no_staging_folder() -> Result<()> {
        let root = std::env::temp_dir().join(format!("reserv-site-test-{}", std::process::id()));
        let out = root.join("site");
        write_site(&out, &render_site(&[], &[], at(7), 30)?)?;
        fs::write(out.join("stray.txt"), "from an earlier build")
            .map_err(|e| io_error("write", &out, e))?;
        write_site(&out, &render_site(&[], &[], at(8), 30)?)?;
        let mut names: Vec<String> = fs::read_dir(&root)
            .map_err(|e| io_error("read", &root, e))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["site"]);
        assert!(!out.join("stray.txt").exists());
        let index = fs::read_to_string(out.join("index.html")).unwrap_or_default();
        assert!(index.contains("2026-02-10T08:00:00Z"), "{index}");
        let _ = fs::remove_dir_all(&root);
        Ok(())
    }
}
