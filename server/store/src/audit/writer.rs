//! The audit writer: events that are not part of a change (reads, refusals, failed
//! attempts) are handed to one task that appends whatever has queued up in a single
//! transaction. A caller waits until its batch is committed, so no response leaves
//! before its audit record is durable, yet fifty concurrent reads cost one commit.

use super::chain::append_chained;
use crate::{Result, StoreError};
use reserv_domain::audit::AuditRecord;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

/// The most events one commit takes; the rest wait for the next.
const MAX_BATCH_EVENTS: usize = 2_000;

struct Pending {
    records: Vec<AuditRecord>,
    committed: oneshot::Sender<Result<(), String>>,
}

/// A handle on the writer task; cloned into every copy of the store.
#[derive(Debug, Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::UnboundedSender<Pending>,
}

impl AuditWriter {
    /// Starts the writer task on the current runtime. It ends when the last handle is
    /// dropped.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(db, receiver));
        Self { queue }
    }

    /// Appends `records` and returns once they are committed.
    pub async fn append(&self, records: Vec<AuditRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let (committed, done) = oneshot::channel();
        self.queue
            .send(Pending { records, committed })
            .map_err(|_| writer_error("the audit writer has stopped".into()))?;
        done.await
            .map_err(|_| writer_error("the audit writer stopped before committing".into()))?
            .map_err(writer_error)
    }
}

fn writer_error(message: String) -> StoreError {
    StoreError::Database(DbErr::Custom(message))
}

async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = receiver.recv().await {
        let mut events = first.records.len();
        let mut batch = vec![first];
        while events < MAX_BATCH_EVENTS {
            match receiver.try_recv() {
                Ok(next) => {
                    events += next.records.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let records = batch
            .iter()
            .flat_map(|pending| pending.records.iter().cloned())
            .collect();
        let outcome = commit(&db, records).await.map_err(|error| {
            tracing::error!(%error, events, "could not commit a batch of audit events");
            error.to_string()
        });
        for pending in batch {
            // A caller that gave up waiting no longer needs the answer.
            let _ = pending.committed.send(outcome.clone());
        }
    }
}

async fn commit(db: &DatabaseConnection, records: Vec<AuditRecord>) -> Result<()> {
    let tx = super::begin_write(db).await?;
    append_chained(&tx, records).await?;
    tx.commit().await?;
    Ok(())
}
