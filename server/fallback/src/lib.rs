//! The public face of Reserv for residents: the live status page with its feeds, and the
//! static fallback site that keeps answering when Reserv's own server does not.
//!
//! Everything here is built from public notices (confidentiality 0, enforced when a
//! notice is written) and the playbooks' standing public advice only; this crate must
//! never read incidents, logs or anything else that may be classified. It depends on the domain and the store, never on the GraphQL API.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod error;
mod live;
mod publish;
mod render;
mod site;
mod targets;
mod view;

pub use error::{FallbackError, Result};
pub use live::status_routes;
pub use publish::{PublishSettings, start_publisher};
pub use site::{SiteFile, render_site, write_site};
pub use targets::{CommandTarget, S3Target, Secret, Target};

use chrono::{DateTime, Utc};
use reserv_store::Store;
use std::path::Path;

/// Builds the static site from the store's notices into `out`, generated at `now`.
pub async fn build_site(
    store: &Store,
    out: &Path,
    now: DateTime<Utc>,
    stale_after_minutes: u32,
) -> Result<()> {
    let files = site_files(store, now, stale_after_minutes).await?;
    targets::in_folder(out.to_path_buf(), files).await
}

/// Every file of the static site from the store's notices, generated at `now`.
async fn site_files(
    store: &Store,
    now: DateTime<Utc>,
    stale_after_minutes: u32,
) -> Result<Vec<SiteFile>> {
    let notices = store.public_notices().await?;
    let guidance = store.public_guidance().await?;
    render_site(&notices, &guidance, now, stale_after_minutes)
}
