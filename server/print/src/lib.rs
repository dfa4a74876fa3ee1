//! Printable binders: a unit's approved continuity plan, its fallback routines with tick
//! boxes and signature lines, the paper forms they name and the unit's contact list, as
//! one print-ready HTML page (CSS paged media: a cover, a page break before every
//! routine, page numbers). A binder is printed ahead of the day the systems are gone and
//! kept on the shelf beside the crisis box.
//!
//! Everything in a binder is read through the store's access-checked reads as the
//! person printing it, so a binder never holds more than its reader may see (and the
//! reads that are audited are audited). This crate depends on the domain and the store,
//! never on the GraphQL API: the route takes the signed-in principal from the request's
//! extensions, put there by whoever mounts it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binder;
mod error;
mod http;
mod render;

pub use binder::{Binder, gather_binder};
pub use error::{PrintError, Result};
pub use http::print_routes;
pub use render::render_binder;

use chrono::{DateTime, Utc};
use reserv_domain::access::Principal;
use reserv_domain::ids::UnitId;
use reserv_domain::people::Language;
use reserv_store::Store;

/// The binder of `unit` as `who` may read it, printed at `printed_at`, as HTML.
pub async fn binder_html(
    store: &Store,
    who: &Principal,
    unit: UnitId,
    language: Language,
    printed_at: DateTime<Utc>,
) -> Result<String> {
    let binder = gather_binder(store, who, unit).await?;
    render_binder(&binder, language, printed_at)
}
