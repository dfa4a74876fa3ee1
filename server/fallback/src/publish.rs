//! Keeping the static fallback site current on every configured target: republished
//! after every change of a notice and on a heartbeat, so that the site's "page generated"
//! time proves Reserv is alive. Runs as a background task of its own: a slow or failing
//! target delays only the next publication, never a request to the server.

use crate::targets::Target;
use crate::{FallbackError, Result, site_files};
use reserv_store::Store;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Attempts per publication before the failure is recorded; the heartbeat tries again.
const ATTEMPTS: u32 = 3;

/// The pause before the first retry; it doubles for each further one.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// What the publisher does and how often.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    pub targets: Vec<Target>,
    pub heartbeat: Duration,
    pub stale_after_minutes: u32,
}

/// Starts the publisher; it publishes at once, then on every notice change and every
/// heartbeat, until the task is aborted. No targets, no task.
pub fn start_publisher(store: Store, settings: PublishSettings) -> Option<JoinHandle<()>> {
    if settings.targets.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut changes = store.subscribe_notice_changes();
        loop {
            publish_everywhere(&store, &settings).await;
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        // The store is gone: the server is shutting down.
                        return;
                    }
                }
                () = tokio::time::sleep(settings.heartbeat) => {}
            }
        }
    }))
}

async fn publish_everywhere(store: &Store, settings: &PublishSettings) {
    for target in &settings.targets {
        let mut outcome = Err(FallbackError::Io("not tried".into()));
        let mut pause = FIRST_RETRY;
        for attempt in 1..=ATTEMPTS {
            outcome = publish(store, target, settings.stale_after_minutes).await;
            match &outcome {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(target = %target.describe(), attempt, %error, "publishing the fallback site failed");
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                }
            }
        }
        if let Err(error) = &outcome {
            tracing::error!(target = %target.describe(), %error, "the fallback site could not be published; the next heartbeat tries again");
        }
        store.record_publication(
            &target.describe(),
            outcome.map_err(|error| error.to_string()),
        );
    }
}

async fn publish(store: &Store, target: &Target, stale_after_minutes: u32) -> Result<()> {
    // Each attempt reads the notices afresh, so that a retry publishes the latest.
    let files = site_files(store, store.now(), stale_after_minutes).await?;
    target.deliver(files).await
}
