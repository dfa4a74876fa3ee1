//! The data version: a number that changes whenever any server sharing the database
//! commits a change. Every change writes a success event other than a read in its own
//! transaction (grants, clearances and sessions included), so the chain position of
//! the newest such event is that number. A partial index on exactly those events
//! (migration `m20261207_001400_change_events_index`) makes it one index probe, so
//! that a cache may ask it on every request instead of trusting its own process to
//! have seen every change. The escalation pass writes its change event too; state
//! that changes without one (delivery states, the SMS failover, publication status,
//! sessions' last use) is read as live instead, and no answer built from it is kept
//! (see `reads.rs`).

use crate::{Result, Store};
use sea_orm::{ConnectionTrait, Statement};

/// The literals must stay as they are: a partial index serves a query only when the
/// query's condition repeats the index's, and a bound parameter would not.
const NEWEST_CHANGE: &str = "SELECT seq FROM audit_events \
     WHERE action <> 'read' AND outcome = 'success' AND seq IS NOT NULL \
     ORDER BY seq DESC LIMIT 1";

impl Store {
    /// The chain position of the newest committed change event, on this server or
    /// any other sharing the database; 0 before the first change.
    pub async fn data_version(&self) -> Result<i64> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                NEWEST_CHANGE,
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get_by_index::<i64>(0)?,
            None => 0,
        })
    }
}
