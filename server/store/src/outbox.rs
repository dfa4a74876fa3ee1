//! The outbox as the delivery worker sees it: claiming due rows under a lease and
//! recording what the provider said.
//!
//! The worker is a system principal of its own: it holds an [`OutboxWorker`], which can
//! claim and record deliveries and nothing else, never an administrator's grants. A
//! claim is a lease: a process killed mid-send leaves rows whose lease runs out, and the
//! next claim takes them again. On PostgreSQL claims skip rows another instance holds
//! (`FOR UPDATE SKIP LOCKED`); on SQLite the one write transaction serialises claims.

use crate::audit::{Audit, begin_write};
use crate::entities::{outbox, push_subscriptions, sms_opt_outs};
use crate::sms_line::OPTED_OUT_REASON;
use crate::{Result, Store, convert};
use chrono::{DateTime, Duration, Utc};
use reserv_domain::access::Principal;
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::MessageId;
use reserv_domain::messages::{Channel, DeliveryState};
use reserv_domain::sms_failover::ActiveSmsProvider;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashSet;
use std::sync::PoisonError;

/// Takes the copies to numbers that answered STOP out of `rows` and fails them, with
/// the reason, instead of sending: the opt-out is the recipient's word and no message
/// overrides it. Answers the copies taken out.
async fn hold_back_opted_out(
    tx: &impl ConnectionTrait,
    rows: &mut Vec<outbox::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>> {
    let destinations: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.destination.as_deref())
        .collect();
    if destinations.is_empty() {
        return Ok(Vec::new());
    }
    let opted_out: HashSet<String> = sms_opt_outs::Entity::find()
        .filter(sms_opt_outs::Column::Phone.is_in(destinations))
        .all(tx)
        .await?
        .into_iter()
        .map(|row| row.phone)
        .collect();
    if opted_out.is_empty() {
        return Ok(Vec::new());
    }
    let (held, send): (Vec<_>, Vec<_>) = std::mem::take(rows).into_iter().partition(|row| {
        row.destination
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
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.is_in(held.iter().map(|row| row.id)))
        .exec(tx)
        .await?;
    Ok(held)
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
}

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
    pub async fn claim_outbox_batch_of(
        &self,
        channels: &[Channel],
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>> {
        let db = &self.store.db;
        let tx = begin_write(db).await?;
        let now = self.now();
        let mut due = outbox::Entity::find()
            .filter(outbox::Column::State.eq(DeliveryState::Queued.as_str()))
            .filter(outbox::Column::Channel.is_in(channels.iter().map(|channel| channel.as_str())))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(outbox::Column::LeaseUntil.is_null())
                    .add(outbox::Column::LeaseUntil.lt(now)),
            )
            .order_by_asc(outbox::Column::NextAttemptAt)
            .order_by_asc(outbox::Column::Id)
            .limit(limit);
        if db.get_database_backend() == DbBackend::Postgres {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let mut rows = due.all(&tx).await?;
        let held_back = hold_back_opted_out(&tx, &mut rows, now).await?;
        if rows.is_empty() {
            tx.commit().await?;
            self.audit_held_back(&held_back).await?;
            return Ok(Vec::new());
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(now + lease))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
            .filter(outbox::Column::Id.is_in(rows.iter().map(|row| row.id)))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        self.audit_held_back(&held_back).await?;
        rows.into_iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.id,
                    message_id: MessageId(row.message_id),
                    channel: convert::stored(&row.channel, "outbox.channel")?,
                    destination: row.destination,
                    body: row.body,
                    idempotency_key: row.idempotency_key,
                    attempts: row.attempts + 1,
                })
            })
            .collect()
    }

    /// Records the outcomes of a claimed batch in one transaction, releasing their
    /// leases: one commit per batch rather than per copy, which on a send to thousands
    /// is most of the worker's time. A permanent failure is audited with its reason;
    /// accepted and retried sends are too many to audit one by one and are kept on the
    /// row.
    pub async fn record_sends(&self, outcomes: Vec<(OutboxItem, SendOutcome)>) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let tx = begin_write(&self.store.db).await?;
        let mut permanent = Vec::new();
        for (item, outcome) in outcomes {
            let mut update = outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
                .filter(outbox::Column::Id.eq(item.id));
            match outcome {
                SendOutcome::Accepted {
                    provider,
                    provider_id,
                } => {
                    update = update
                        .col_expr(
                            outbox::Column::State,
                            Expr::value(DeliveryState::Sent.as_str()),
                        )
                        .col_expr(outbox::Column::ProviderId, Expr::value(provider_id))
                        .col_expr(outbox::Column::Provider, Expr::value(provider));
                }
                SendOutcome::Transient { reason, retry_at } => {
                    update = update
                        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
                        .col_expr(outbox::Column::LastError, Expr::value(reason));
                }
                SendOutcome::Permanent { reason } => {
                    update = update
                        .col_expr(
                            outbox::Column::State,
                            Expr::value(DeliveryState::Failed.as_str()),
                        )
                        .col_expr(outbox::Column::LastError, Expr::value(reason.clone()));
                    permanent.push((item.message_id, reason));
                }
            }
            update.exec(&tx).await?;
        }
        tx.commit().await?;
        for (message_id, reason) in permanent {
            self.store
                .record_alone(
                    &self.principal,
                    &Audit::new(AuditAction::DeliveryFailed, "message").on(message_id),
                    reserv_domain::audit::AuditOutcome::Failed,
                    Some(reason),
                )
                .await?;
        }
        Ok(())
    }

    /// The browsers the push copies among `destinations` (`s17`) name, by destination,
    /// read at once for a claimed batch; a browser removed since is missing.
    pub async fn push_targets(
        &self,
        destinations: &[&str],
    ) -> Result<std::collections::HashMap<String, PushTarget>> {
        let ids: Vec<i64> = destinations
            .iter()
            .filter_map(|destination| destination.strip_prefix('s')?.parse().ok())
            .collect();
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        Ok(push_subscriptions::Entity::find()
            .filter(push_subscriptions::Column::Id.is_in(ids))
            .all(&self.store.db)
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

    /// Notes that push services accepted messages for the browsers `subscription_ids`.
    pub async fn record_push_successes(&self, subscription_ids: &[i64]) -> Result<()> {
        if subscription_ids.is_empty() {
            return Ok(());
        }
        push_subscriptions::Entity::update_many()
            .col_expr(
                push_subscriptions::Column::LastSuccess,
                Expr::value(Some(self.now())),
            )
            .filter(push_subscriptions::Column::Id.is_in(subscription_ids.iter().copied()))
            .exec(&self.store.db)
            .await?;
        Ok(())
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
                reserv_domain::audit::AuditOutcome::Success,
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
