//! Sessions after sign-in: finding the person behind a token, ending sessions that were
//! left idle or ran out, and letting a person (or an administrator) see and revoke them.
//!
//! Only the SHA-256 of a token is stored; this module must never return or log a token.
//!
//! A session found live is kept in memory for a moment ([`KNOWN_SESSION_TTL`]) with the
//! data version it was found at, so that a busy client's next requests cost one index
//! probe (the data version) instead of reading the session, account and grants again.
//! Everything that ends a session or changes what it may do (signing out, revoking,
//! disabling the account, new grants or clearances, a second factor proved) commits a
//! change event, which moves the data version on this server and every other sharing
//! the database, so a kept session is never used past such a change. Expiry and the
//! idle timeout are checked against the kept times; a session that looks idle is read
//! again before it is ended, since another server may have seen it since. Only rows
//! changed by hand in the database go unseen, for at most [`KNOWN_SESSION_TTL`].

use crate::accounts::{principal_of, token_hash};
use crate::audit::Audit;
use crate::entities::{accounts, sessions};
use crate::{Result, Store};
use chrono::{DateTime, Duration, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::AccountId;
use reserv_domain::oidc::ProviderAssurance;
use reserv_domain::second_factor::Factors;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::sync::Arc;

/// A session as its owner and administrators see it; never with its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: i64,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was last used (to the minute), or when it was created if never since.
    pub last_seen_at: DateTime<Utc>,
    /// When it ends if nobody uses it: `last_seen_at` plus the idle timeout, or the
    /// expiry if that comes first.
    pub idle_until: DateTime<Utc>,
    pub client_address: Option<String>,
    /// Whether this is the session the request came with.
    pub current: bool,
    /// What was proved to open it.
    pub factors: Factors,
    /// Opened with an emergency code.
    pub break_glass: bool,
    /// What the identity provider reported, for a session it opened.
    pub assurance: Option<ProviderAssurance>,
}

/// The person behind a live session, with what the session allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub principal: Principal,
    pub factors: Factors,
    /// Opened with an emergency code: short, and marked wherever it is shown.
    pub break_glass: bool,
    /// What the identity provider reported, for a session it opened.
    pub assurance: Option<ProviderAssurance>,
    /// The person's role requires a second factor they have not proved: the session
    /// may only enrol one.
    pub must_enrol_second_factor: bool,
    /// When the session ends at the latest, however busy it is.
    pub expires_at: DateTime<Utc>,
    /// The data version ([`Store::data_version`]) read before the session was found
    /// live: nothing the answer to this request reads is older.
    pub data_version: i64,
}

/// How long a session found live is trusted without reading it again while the data
/// version stays the same: the most a row deleted by hand in the database goes unseen.
pub const KNOWN_SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The most sessions kept at once; more than a municipality's staff signed in at once.
const KNOWN_SESSIONS_AT_MOST: u64 = 20_000;

/// A session found live, by the hash of its token.
#[derive(Debug)]
pub(crate) struct KnownSession {
    id: i64,
    session: LiveSession,
    /// Its last use as far as this process knows; another server may have seen it
    /// later, never earlier.
    last_seen: DateTime<Utc>,
}

pub(crate) type KnownSessions = moka::sync::Cache<String, Arc<KnownSession>>;

pub(crate) fn known_sessions() -> KnownSessions {
    moka::sync::Cache::builder()
        .max_capacity(KNOWN_SESSIONS_AT_MOST)
        .time_to_live(KNOWN_SESSION_TTL)
        .build()
}

/// A session's last use is written at most this often, so that a busy client does not
/// turn every read into a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

impl Store {
    /// The principal of a live session, or `None` for an unknown, expired or idle token
    /// or a disabled account. Records the use, at most once a minute.
    pub async fn principal_for_token(
        &self,
        token: &str,
        client_address: Option<String>,
    ) -> Result<Option<Principal>> {
        Ok(self
            .live_session(token, client_address)
            .await?
            .map(|session| session.principal))
    }

    /// The live session of `token` with its factors, or `None` as for
    /// [`Store::principal_for_token`]. Records the use, at most once a minute.
    pub async fn live_session(
        &self,
        token: &str,
        client_address: Option<String>,
    ) -> Result<Option<LiveSession>> {
        self.live_principal(token, client_address, true).await
    }

    /// Whether the session of `token` is still live, without counting this check as a
    /// use: an open subscription alone does not keep a session from going idle.
    pub async fn session_is_live(&self, token: &str) -> Result<bool> {
        Ok(self.live_principal(token, None, false).await?.is_some())
    }

    async fn live_principal(
        &self,
        token: &str,
        client_address: Option<String>,
        touch: bool,
    ) -> Result<Option<LiveSession>> {
        // Read first: whatever is read after it is at least this new.
        let data_version = self.data_version().await?;
        let hash = token_hash(token);
        let now = self.now();
        if let Some(known) = self.known_sessions.get(&hash)
            && known.session.data_version == data_version
            && known.session.expires_at > now
            && known.last_seen + self.session_idle > now
        {
            let mut last_seen = known.last_seen;
            if touch && last_seen + TOUCH_EVERY <= now {
                if !self.touch_session(known.id, now).await? {
                    // Gone from the database without a change event: deleted by hand.
                    self.known_sessions.invalidate(&hash);
                    return Ok(None);
                }
                last_seen = now;
            }
            if last_seen != known.last_seen {
                self.remember_session(hash, known.id, known.session.clone(), last_seen);
            }
            let mut session = known.session.clone();
            session.principal.client_address = client_address;
            return Ok(Some(session));
        }
        let Some(session) = sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(hash.as_str()))
            .filter(sessions::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let last_seen = session.last_seen_at.unwrap_or(session.created_at);
        if last_seen + self.session_idle <= now {
            // Left idle too long: it ends now, as if its owner had signed out.
            sessions::Entity::delete_by_id(session.id)
                .exec(&self.db)
                .await?;
            self.known_sessions.invalidate(&hash);
            self.announce_sessions_ended();
            return Ok(None);
        }
        let Some(account) = accounts::Entity::find_by_id(session.account_id)
            .one(&self.db)
            .await?
            .filter(|account| !account.disabled)
        else {
            return Ok(None);
        };
        let mut last_seen = last_seen;
        if touch && last_seen + TOUCH_EVERY <= now {
            self.touch_session(session.id, now).await?;
            last_seen = now;
        }
        let principal = principal_of(&self.db, account, client_address).await?;
        let factors = Factors::parse(&session.factors)?;
        let must_enrol_second_factor =
            self.must_enrol_second_factor(&principal, &factors, session.break_glass);
        let live = LiveSession {
            principal,
            factors,
            break_glass: session.break_glass,
            assurance: stored_assurance(&session),
            must_enrol_second_factor,
            expires_at: session.expires_at,
            data_version,
        };
        self.remember_session(hash, session.id, live.clone(), last_seen);
        Ok(Some(live))
    }

    /// Keeps `session` (row `id`, token hash `hash`), last used at `last_seen`, for the
    /// next requests at the same data version.
    fn remember_session(
        &self,
        hash: String,
        id: i64,
        session: LiveSession,
        last_seen: DateTime<Utc>,
    ) {
        self.known_sessions.insert(
            hash,
            Arc::new(KnownSession {
                id,
                session,
                last_seen,
            }),
        );
    }

    /// Records a use of session `id` at `now`; answers whether the session still exists.
    async fn touch_session(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let touched = sessions::Entity::update_many()
            .col_expr(
                sessions::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(sessions::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(touched.rows_affected > 0)
    }

    /// The live sessions of `account` (the reader's own when `None`), newest first;
    /// `current_token` marks the one the request came with.
    pub async fn sessions(
        &self,
        who: &Principal,
        account: Option<AccountId>,
        current_token: Option<&str>,
    ) -> Result<Vec<SessionSummary>> {
        let account = own_or_named(who, account)?;
        who.authorize_sessions_of(account)?;
        // Use moves `last_seen_at` and idleness ends sessions, without change events;
        // and `current` differs between sessions of one account.
        self.note_live_read();
        let now = self.now();
        let current = current_token.map(token_hash);
        let rows = sessions::Entity::find()
            .filter(sessions::Column::AccountId.eq(account.0))
            .filter(sessions::Column::ExpiresAt.gt(now))
            .order_by_desc(sessions::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let last_seen_at = row.last_seen_at.unwrap_or(row.created_at);
                let assurance = stored_assurance(&row);
                SessionSummary {
                    id: row.id,
                    account_id: AccountId(row.account_id),
                    created_at: row.created_at,
                    expires_at: row.expires_at,
                    last_seen_at,
                    idle_until: (last_seen_at + self.session_idle).min(row.expires_at),
                    client_address: row.client_address,
                    current: current.as_deref() == Some(row.token_hash.as_str()),
                    factors: Factors::parse(&row.factors).unwrap_or_default(),
                    break_glass: row.break_glass,
                    assurance,
                }
            })
            .filter(|session| session.idle_until > now)
            .collect())
    }

    /// Ends one session: one's own, or anyone's for an administrator (a lost phone).
    pub async fn revoke_session(&self, who: &Principal, session_id: i64) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            let session = sessions::Entity::find_by_id(session_id)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("session", session_id))?;
            who.authorize_sessions_of(AccountId(session.account_id))
                // Someone else's session is not theirs to know about.
                .map_err(|_| DomainError::not_found("session", session_id))?;
            sessions::Entity::delete_by_id(session_id).exec(&tx).await?;
            Ok(())
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Revoke, "session").on(session_id),
            result,
        )
        .await?;
        self.announce_sessions_ended();
        Ok(())
    }

    /// Ends every session of `account` (the reader's own when `None`) and returns how
    /// many there were: "sign me out everywhere", or an administrator's answer to a
    /// stolen password.
    pub async fn revoke_sessions(
        &self,
        who: &Principal,
        account: Option<AccountId>,
    ) -> Result<u64> {
        let account = own_or_named(who, account)?;
        let tx = self.begin().await?;
        let result = async {
            who.authorize_sessions_of(account)?;
            let ended = sessions::Entity::delete_many()
                .filter(sessions::Column::AccountId.eq(account.0))
                .exec(&tx)
                .await?;
            Ok(ended.rows_affected)
        }
        .await;
        let ended = self
            .finish(
                tx,
                who,
                Audit::new(AuditAction::RevokeAll, "session").on(account),
                result,
            )
            .await?;
        self.announce_sessions_ended();
        Ok(ended)
    }

    /// Ticks after sessions were ended (signed out, revoked, left idle, or an account
    /// disabled), so that open subscriptions check whether theirs is still live.
    pub fn subscribe_session_ends(&self) -> tokio::sync::watch::Receiver<()> {
        self.session_ends.subscribe()
    }

    pub(crate) fn announce_sessions_ended(&self) {
        self.session_ends.send_modify(|_| ());
    }

    /// Whether a session of `principal` opened with `factors` may only enrol a second
    /// factor: their role requires one and they have not proved it. A break-glass
    /// session is exempt: on the worst day nobody must stop to enrol an app.
    pub fn must_enrol_second_factor(
        &self,
        principal: &Principal,
        factors: &Factors,
        break_glass: bool,
    ) -> bool {
        !break_glass
            && !factors.has_second_factor()
            && self.second_factor.applies_to(&principal.grants)
    }

    /// The idle timeout sessions live under.
    pub fn session_idle(&self) -> Duration {
        self.session_idle
    }
}

/// The provider's assurance as a session stored it; none for sessions it did not open.
fn stored_assurance(session: &sessions::Model) -> Option<ProviderAssurance> {
    (session.acr.is_some() || session.amr.is_some()).then(|| ProviderAssurance {
        acr: session.acr.clone(),
        amr: session
            .amr
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|method| !method.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

fn own_or_named(who: &Principal, account: Option<AccountId>) -> Result<AccountId> {
    match account.or(who.account_id) {
        Some(account) => Ok(account),
        None => Err(DomainError::validation(
            "accountId",
            "name the account: the command line operator has no sessions",
        )
        .into()),
    }
}

impl crate::audit::AuditedObject for u64 {
    fn audit_id(&self) -> Option<String> {
        None
    }
}
