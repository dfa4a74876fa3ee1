//! The outbox as the delivery worker sees it: claiming due rows under a lease and
//! recording what the provider said.
//!
//! The worker is a system principal of its own: it holds an [`OutboxWorker`], which can
//! claim and record deliveries and nothing else, never an administrator's grants. A
//! claim is a lease: a process killed mid-send leaves rows whose lease runs out, and the
//! next claim takes them again. Each claim writes its own token on the rows it takes,
//! and an outcome is recorded only under that token: a claim whose lease ran out
//! mid-send cannot overwrite the outcome of the claim that took the copy after it. On
//! PostgreSQL claims skip rows another instance holds (`FOR UPDATE SKIP LOCKED`); on
//! SQLite the one write transaction serialises claims.

use crate::audit::{Audit, begin_write};
use crate::bulk::{Rows, Values, any_of};
use crate::entities::{outbox, push_subscriptions, sms_opt_outs};
use crate::sms_line::OPTED_OUT_REASON;
use crate::{Result, Store, convert};
use chrono::{DateTime, Duration, Utc};
use reserv_domain::access::Principal;
use reserv_domain::audit::{AuditAction, AuditOutcome, AuditRecord};
use reserv_domain::ids::MessageId;
use reserv_domain::messages::{Channel, DeliveryState};
use reserv_domain::sms_failover::ActiveSmsProvider;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
};
use std::collections::{HashMap, HashSet};
use std::sync::PoisonError;

/// Takes the copies to numbers that answered STOP out of `rows`, claimed under
/// `claim_token`, and fails them, with the reason, instead of sending: the opt-out is
/// the recipient's word and no message overrides it. Answers the copies taken out.
async fn hold_back_opted_out(
    db: &impl ConnectionTrait,
    rows: &mut Vec<outbox::Model>,
    claim_token: &str,
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>> {
    let destinations: Vec<&str> = rows
        .iter()
        .filter(|row| row.channel == Channel::Sms.as_str())
        .filter_map(|row| row.destination.as_deref())
        .collect();
    if destinations.is_empty() {
        return Ok(Vec::new());
    }
    let opted_out: HashSet<String> = sms_opt_outs::Entity::find()
        .filter(sms_opt_outs::Column::Phone.is_in(destinations))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.phone)
        .collect();
    if opted_out.is_empty() {
        return Ok(Vec::new());
    }
    let (held, send): (Vec<_>, Vec<_>) = std::mem::take(rows).into_iter().partition(|row| {
        row.channel == Channel::Sms.as_str()
            && row
                .destination
                .as_ref()
                .is_some_and(|phone| opted_out.contains(phone))
    });
    *rows = send;
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::State,
            Expr::value(DeliveryState::Failed.as_str()),
        )
        .col_expr(outbox::Column::LastError, Expr::value(OPTED_OUT_REASON))
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::ClaimToken,
            Expr::value(Option::<String>::None),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.is_in(held.iter().map(|row| row.id)))
        .filter(outbox::Column::ClaimToken.eq(claim_token))
        .exec(db)
        .await?;
    Ok(held)
}

/// What [`OutboxWorker::record_sends`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecordedSends {
    /// Outcomes written.
    pub recorded: usize,
    /// Outbox ids of the copies whose outcome was not written, as their claim had
    /// lost its lease to another.
    pub lost_leases: Vec<i64>,
}

/// The browsers the push copies among `rows` name (destination `s17`), by
/// destination, read in the claim's transaction; a browser removed since is missing.
async fn push_targets(
    tx: &impl ConnectionTrait,
    rows: &[outbox::Model],
) -> Result<HashMap<String, PushTarget>> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|row| row.channel == Channel::Push.as_str())
        .filter_map(|row| row.destination.as_deref()?.strip_prefix('s')?.parse().ok())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::Id.is_in(ids))
        .all(tx)
        .await?
        .into_iter()
        .map(|row| {
            (
                format!("s{}", row.id),
                PushTarget {
                    subscription_id: row.id,
                    endpoint: row.endpoint,
                    p256dh: row.p256dh,
                    auth: row.auth,
                },
            )
        })
        .collect())
}

/// The UPDATE recording `outcomes`, each only where the row still carries the token of
/// the claim it was sent under; each statement answers the ids it recorded. The
/// outcomes travel as a table (see [`crate::bulk`]: on PostgreSQL one statement of
/// arrays, on SQLite chunks of `VALUES`) that SQLite and PostgreSQL both join in
/// `UPDATE … FROM`; a value an outcome has no say on is NULL and leaves the column as
/// it was.
fn record_statements(
    backend: DbBackend,
    outcomes: &[(OutboxItem, SendOutcome)],
    now: DateTime<Utc>,
) -> Result<Vec<Statement>> {
    let count = outcomes.len();
    let mut ids = Vec::with_capacity(count);
    let mut tokens = Vec::with_capacity(count);
    let mut states = Vec::with_capacity(count);
    let mut providers = Vec::with_capacity(count);
    let mut provider_ids = Vec::with_capacity(count);
    let mut errors = Vec::with_capacity(count);
    let mut retries = Vec::with_capacity(count);
    for (item, outcome) in outcomes {
        let (state, provider, provider_id, error, retry_at) = match outcome {
            SendOutcome::Accepted {
                provider,
                provider_id,
            } => (
                DeliveryState::Sent,
                Some(provider.clone()),
                Some(provider_id.clone()),
                None,
                None,
            ),
            SendOutcome::Transient { reason, retry_at } => (
                DeliveryState::Queued,
                None,
                None,
                Some(reason.clone()),
                Some(*retry_at),
            ),
            SendOutcome::Permanent { reason } => (
                DeliveryState::Failed,
                None,
                None,
                Some(reason.clone()),
                None,
            ),
        };
        ids.push(item.id);
        tokens.push(item.claim_token.clone());
        states.push(state.as_str().to_owned());
        providers.push(provider);
        provider_ids.push(provider_id);
        errors.push(error);
        retries.push(retry_at);
    }
    Rows::new("outbox", count)
        .column("outcome_id", Values::BigInt(ids))
        .column("outcome_token", Values::Text(tokens))
        .column("outcome_state", Values::Text(states))
        .column("outcome_provider", Values::OptionalText(providers))
        .column("outcome_provider_id", Values::OptionalText(provider_ids))
        .column("outcome_error", Values::OptionalText(errors))
        .column("outcome_retry_at", Values::OptionalTimestamp(retries))
        .constant("outcome_at", now)
        .statements(
            backend,
            "outcome",
            "UPDATE outbox SET state = outcome.outcome_state, \
             provider = COALESCE(outcome.outcome_provider, outbox.provider), \
             provider_id = COALESCE(outcome.outcome_provider_id, outbox.provider_id), \
             last_error = COALESCE(outcome.outcome_error, outbox.last_error), \
             next_attempt_at = COALESCE(outcome.outcome_retry_at, outbox.next_attempt_at), \
             lease_until = NULL, claim_token = NULL, updated_at = outcome.outcome_at \
             FROM outcome \
             WHERE outbox.id = outcome.outcome_id AND outbox.claim_token = outcome.outcome_token \
             RETURNING id",
        )
}

/// One copy to send, as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: MessageId,
    pub channel: Channel,
    /// The E.164 number for SMS.
    pub destination: Option<String>,
    pub body: String,
    /// Given to the provider so that a resend after a crash is recognised.
    pub idempotency_key: String,
    /// Including this one.
    pub attempts: i32,
    /// The claim this copy was taken under; its outcome is recorded only while the
    /// row still carries it.
    pub claim_token: String,
    /// For a push copy: the browser it goes to, read with the claim; none when the
    /// subscription was removed since the copy was queued.
    pub push_target: Option<PushTarget>,
}

/// What happened to one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider named `provider` (`twilio`, `46elks`, `web push`) accepted it
    /// under its own id.
    Accepted {
        provider: String,
        provider_id: String,
    },
    /// Worth trying again at `retry_at`.
    Transient {
        reason: String,
        retry_at: DateTime<Utc>,
    },
    /// Retrying cannot help (invalid number, unsubscribed, refused body).
    Permanent { reason: String },
}

/// The browser a push copy goes to, as the worker needs it to encrypt and send.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub subscription_id: i64,
    pub endpoint: String,
    /// The browser's public key and authentication secret, base64url.
    pub p256dh: String,
    pub auth: String,
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget")
            .field("subscription_id", &self.subscription_id)
            .finish_non_exhaustive()
    }
}

/// The delivery worker's handle on the outbox.
#[derive(Debug, Clone)]
pub struct OutboxWorker {
    store: Store,
    principal: Principal,
}

impl Store {
    /// The handle a delivery worker named `name` works through.
    pub fn outbox_worker(&self, name: &str) -> OutboxWorker {
        OutboxWorker {
            store: self.clone(),
            principal: Principal {
                account_id: None,
                username: format!("system ({name})"),
                person_id: None,
                grants: Vec::new(),
                client_address: None,
            },
        }
    }

    /// After a change queued `copies` outbox copies: on PostgreSQL, a send to
    /// thousands makes the planner's picture of the outbox stale (it still believes
    /// almost nothing is queued), and every claim then gathered and sorted all the
    /// queued copies (some 20 000 on a send to 10 000 people with push and SMS) instead
    /// of walking `ix_outbox_due` for the first few: 15–25 ms a claim where 1 ms will
    /// do. Autovacuum notices only a minute later, after the send is over. So the
    /// statistics are refreshed at once, beside the worker's first claims. SQLite has
    /// no statistics until someone runs ANALYZE, and its planner takes the index.
    pub(crate) fn outbox_grew(&self, copies: usize) {
        if copies < STATISTICS_STALE_AFTER || self.db.get_database_backend() != DbBackend::Postgres
        {
            return;
        }
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(error) = db.execute_unprepared("ANALYZE outbox").await {
                tracing::warn!(%error, "could not refresh the outbox's statistics after a large send; claims may be slow until autovacuum does");
            }
        });
    }
}

/// Copies queued by one change beyond which the outbox's statistics are refreshed.
const STATISTICS_STALE_AFTER: usize = 1_000;

impl OutboxWorker {
    pub fn now(&self) -> DateTime<Utc> {
        self.store.now()
    }

    pub(crate) fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.store.db
    }

    pub(crate) fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The worker's successful change event for `audit`, to be appended in the
    /// transaction of the change it describes.
    pub(crate) fn change_event(&self, audit: &Audit, detail: String) -> AuditRecord {
        self.store.audit_record(
            &self.principal,
            audit,
            audit.object_id.clone(),
            AuditOutcome::Success,
            Some(detail),
        )
    }

    pub(crate) fn sms_channel(&self) -> reserv_domain::sms::SmsChannel {
        self.store.sms_channel
    }

    /// Claims up to `limit` due copies of any channel for `lease`; each claim counts
    /// as an attempt.
    pub async fn claim_outbox_batch(&self, limit: u64, lease: Duration) -> Result<Vec<OutboxItem>> {
        self.claim_outbox_batch_of(Channel::ALL, limit, lease).await
    }

    /// Claims up to `limit` due copies of `channels` only: a worker without an SMS
    /// provider leaves the texts queued for when one is configured.
    ///
    /// The claim is one statement, `UPDATE … WHERE id IN (due copies) RETURNING`, which
    /// commits on its own: one round trip and one commit per batch, as these add up to
    /// the pace of a send to thousands. Due copies are found through the partial index
    /// `ix_outbox_due` (hence the state written as a literal: a bound value could not
    /// prove the index's condition). The browsers and opt-outs read afterwards belong
    /// to copies this claim now holds.
    pub async fn claim_outbox_batch_of(
        &self,
        channels: &[Channel],
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>> {
        let db = &self.store.db;
        let now = self.now();
        let mut due = Query::select()
            .column(outbox::Column::Id)
            .from(outbox::Entity)
            .and_where(
                Expr::col(outbox::Column::State)
                    .eq(Expr::cust(format!("'{}'", DeliveryState::Queued.as_str()))),
            )
            .and_where(
                outbox::Column::Channel.is_in(channels.iter().map(|channel| channel.as_str())),
            )
            .and_where(outbox::Column::NextAttemptAt.lte(now))
            .cond_where(
                Condition::any()
                    .add(outbox::Column::LeaseUntil.is_null())
                    .add(outbox::Column::LeaseUntil.lt(now)),
            )
            .order_by(outbox::Column::NextAttemptAt, Order::Asc)
            .order_by(outbox::Column::Id, Order::Asc)
            .limit(limit)
            .to_owned();
        if db.get_database_backend() == DbBackend::Postgres {
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let claim_token = format!("{:032x}", rand::random::<u128>());
        let mut rows = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(now + lease))
            .col_expr(outbox::Column::ClaimToken, Expr::value(claim_token.clone()))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
            .filter(outbox::Column::Id.in_subquery(due))
            .exec_with_returning(db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        rows.sort_by_key(|row| (row.next_attempt_at, row.id));
        let held_back = hold_back_opted_out(db, &mut rows, &claim_token, now).await?;
        self.audit_held_back(&held_back).await?;
        let mut browsers = push_targets(db, &rows).await?;
        rows.into_iter()
            .map(|row| {
                let channel = convert::stored(&row.channel, "outbox.channel")?;
                let push_target = match (channel, row.destination.as_deref()) {
                    (Channel::Push, Some(destination)) => browsers.remove(destination),
                    _ => None,
                };
                Ok(OutboxItem {
                    id: row.id,
                    message_id: MessageId(row.message_id),
                    channel,
                    destination: row.destination,
                    body: row.body,
                    idempotency_key: row.idempotency_key,
                    attempts: row.attempts,
                    claim_token: claim_token.clone(),
                    push_target,
                })
            })
            .collect()
    }

    /// Records the outcomes of claimed copies, releasing their leases, and notes on the
    /// browsers reached that their push service accepted a message, in one
    /// transaction and one UPDATE for them all on PostgreSQL (see [`record_statements`]):
    /// a statement per copy was most of the worker's time on a send to thousands. A copy whose row no longer
    /// carries its claim's token (its lease ran out and another claim took it) is left
    /// as the other claim has it or will record it; these are answered, not an error.
    /// A permanent failure recorded is audited with its reason; accepted and retried
    /// sends are too many to audit one by one and are kept on the row.
    pub async fn record_sends(
        &self,
        outcomes: Vec<(OutboxItem, SendOutcome)>,
    ) -> Result<RecordedSends> {
        if outcomes.is_empty() {
            return Ok(RecordedSends::default());
        }
        let now = self.now();
        let db = &self.store.db;
        let backend = db.get_database_backend();
        let tx = begin_write(db).await?;
        let mut recorded_ids = HashSet::new();
        for statement in record_statements(backend, &outcomes, now)? {
            for row in tx.query_all_raw(statement).await? {
                recorded_ids.insert(row.try_get::<i64>("", "id")?);
            }
        }
        let pushed_to: Vec<i64> = outcomes
            .iter()
            .filter(|(item, outcome)| {
                recorded_ids.contains(&item.id) && matches!(outcome, SendOutcome::Accepted { .. })
            })
            .filter_map(|(item, _)| Some(item.push_target.as_ref()?.subscription_id))
            .collect();
        if !pushed_to.is_empty() {
            for browsers in any_of(push_subscriptions::Column::Id, &pushed_to, backend) {
                push_subscriptions::Entity::update_many()
                    .col_expr(
                        push_subscriptions::Column::LastSuccess,
                        Expr::value(Some(now)),
                    )
                    .filter(browsers)
                    .exec(&tx)
                    .await?;
            }
        }
        tx.commit().await?;
        let mut recorded = RecordedSends::default();
        for (item, outcome) in outcomes {
            if !recorded_ids.contains(&item.id) {
                recorded.lost_leases.push(item.id);
                continue;
            }
            recorded.recorded += 1;
            if let SendOutcome::Permanent { reason } = outcome {
                self.store
                    .record_alone(
                        &self.principal,
                        &Audit::new(AuditAction::DeliveryFailed, "message").on(item.message_id),
                        reserv_domain::audit::AuditOutcome::Failed,
                        Some(reason),
                    )
                    .await?;
            }
        }
        Ok(recorded)
    }

    /// Removes a browser subscription its push service says is gone (HTTP 404 or 410:
    /// the app was uninstalled or the permission withdrawn), audited with the reason.
    pub async fn remove_expired_push_subscription(
        &self,
        subscription_id: i64,
        reason: String,
    ) -> Result<()> {
        push_subscriptions::Entity::delete_many()
            .filter(push_subscriptions::Column::Id.eq(subscription_id))
            .exec(&self.store.db)
            .await?;
        self.store
            .record_alone(
                &self.principal,
                &Audit::new(AuditAction::Expire, "push_subscription").on(subscription_id),
                AuditOutcome::Success,
                Some(reason),
            )
            .await
    }

    /// Shows the crisis staff which SMS provider this server's worker sends through,
    /// after a failover or at the worker's start.
    pub fn show_active_sms_provider(&self, active: ActiveSmsProvider) {
        let mut shown = self
            .store
            .active_sms_provider
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *shown = Some(active);
    }

    /// Audits each copy failed because its number opted out, as any permanent failure is.
    async fn audit_held_back(&self, held_back: &[outbox::Model]) -> Result<()> {
        for row in held_back {
            self.store
                .record_alone(
                    &self.principal,
                    &Audit::new(AuditAction::DeliveryFailed, "message").on(row.message_id),
                    reserv_domain::audit::AuditOutcome::Failed,
                    Some(OPTED_OUT_REASON.into()),
                )
                .await?;
        }
        Ok(())
    }

    /// Audits a webhook request to `path` refused for `reason` (a missing or wrong
    /// signature or token).
    pub async fn record_refused_webhook(&self, path: &str, reason: &str) -> Result<()> {
        self.store
            .record_alone(
                &self.principal,
                &Audit::new(AuditAction::RefuseUnsigned, "webhook").on(path),
                reserv_domain::audit::AuditOutcome::Denied,
                Some(reason.into()),
            )
            .await
    }

    /// Takes a provider's status callback: moves the copy `provider` (`twilio`,
    /// `46elks`) sent as `provider_id` to `state`. Returns false when no copy has that id
    /// (a callback for another system).
    pub async fn record_delivery_status(
        &self,
        provider: &str,
        provider_id: &str,
        state: DeliveryState,
        reason: Option<String>,
    ) -> Result<bool> {
        let updated = outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(state.as_str()))
            .col_expr(outbox::Column::LastError, Expr::value(reason))
            .col_expr(outbox::Column::UpdatedAt, Expr::value(self.now()))
            .filter(outbox::Column::ProviderId.eq(provider_id))
            // One provider's report never moves another's copy; copies sent before the
            // provider was recorded have none, and only Twilio sent then.
            .filter(
                Condition::any()
                    .add(outbox::Column::Provider.eq(provider))
                    .add(outbox::Column::Provider.is_null()),
            )
            // A late "sent" never undoes "delivered".
            .filter(outbox::Column::State.ne(DeliveryState::Delivered.as_str()))
            .exec(&self.store.db)
            .await?;
        Ok(updated.rows_affected > 0)
    }
}
