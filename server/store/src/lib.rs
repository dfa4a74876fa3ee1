//! Persistence for Reserv: sea-orm entities, the database connection and the use cases
//! that read and change stored data.
//!
//! Every use case asks the domain's access policy first and applies the domain's rules;
//! every change runs in one transaction together with its audit event, so that an error
//! leaves nothing half-written. Database types never leave this crate.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod activation;
mod audit;
mod break_glass;
mod bulk;
mod checklists;
mod connect;
mod convert;
mod directory;
mod entities;
mod error;
mod escalation;
mod impact;
mod incidents;
mod links;
mod message_drafts;
mod messages;
mod notices;
mod oidc;
mod outbox;
mod page;
mod passkeys;
mod passwords;
mod per_key;
mod plans;
mod playbook_suggestions;
mod playbooks;
mod push_subscriptions;
mod second_factor;
mod secrets;
mod sessions;
mod sms_line;
mod subtree;

pub use accounts::{AccountSummary, CreatedAccount, NewAccount, SignInOutcome, SignedIn};
pub use activation::{ActivatedPlan, Activation, ActivationRequest, ChecklistRun};
pub use audit::{AuditFilter, ChainReport, RequestReads};
pub use break_glass::{EmergencyCode, EmergencySheet, EmergencySignIn, PendingEmergency};
pub use checklists::{
    BacklogEntry, ChecklistStep, IncidentProgress, MarkedStep, RunBacklog, RunDetail, UnitBacklog,
    UnitProgress,
};
pub use connect::{DatabaseBackend, DatabaseLocation};
pub use error::{Result, StoreError};
pub use impact::{AffectedActivity, Impact};
pub use incidents::{Briefing, IncidentEdit, IncidentFilter};
pub use message_drafts::DraftSettings;
pub use messages::{DeliveryCounts, MessageEstimate, ReceivedMessage, RollCall};
pub use oidc::{PendingOidcSignIn, ProviderIdentity, ProviderRefusal, ProviderSignIn};
pub use outbox::{OutboxItem, OutboxWorker, PushTarget, RecordedSends, SendOutcome};
pub use page::{Page, PageRequest};
pub use passkeys::{PasskeyOptions, PasskeySettings, PasskeySummary};
pub use passwords::{
    ITERATIONS as ARGON2_ITERATIONS, LANES as ARGON2_LANES, MEMORY_KIB as ARGON2_MEMORY_KIB,
};
pub use per_key::PerKey;
pub use plans::{
    ActivityContents, DependencyEntry, PlanFilter, PlanVersions, RoutineWithContext, VersionPlace,
};
pub use playbook_suggestions::{PlaybookSuggestion, SuggestedRoutine};
pub use playbooks::{PlaybookImport, PlaybookProblem, PlaybookSummary};
pub use second_factor::{PendingSignIn, RecoveryCodes, SealReport, SecondProof, TotpEnrolment};
pub use secrets::{KEY_BYTES, SecretKey};
pub use sessions::{KNOWN_SESSION_TTL, LiveSession, SessionSummary};
pub use sms_line::{OPTED_OUT_REASON, SmsLine, SmsSender};

use reserv_domain::Clock;
use reserv_domain::incidents::IncidentChange;
use reserv_domain::sms::SmsChannel;
use reserv_domain::sms_failover::ActiveSmsProvider;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, watch};

/// How people sign in and how long their sessions last when unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    /// Password hashes computed at once; 0 means one per core.
    pub hash_concurrency: usize,
    /// When failed sign-ins lock a username or a client address, and for how long.
    pub throttle: reserv_domain::sign_in::ThrottleRules,
    /// How long a session may go unused before it ends (its expiry still applies).
    pub session_idle: chrono::Duration,
    /// Who must prove a second factor; the others may still enrol one.
    pub second_factor: reserv_domain::second_factor::SecondFactorRequirement,
    /// How long a session opened with an emergency code lasts.
    pub break_glass_lifetime: chrono::Duration,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            hash_concurrency: 0,
            throttle: reserv_domain::sign_in::ThrottleRules::default(),
            session_idle: chrono::Duration::hours(4),
            second_factor: reserv_domain::second_factor::SecondFactorRequirement::AboveCareWorker,
            break_glass_lifetime: chrono::Duration::hours(2),
        }
    }
}

/// How continuity plans are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSettings {
    /// Approving a draft needs someone other than its last editor (four eyes).
    pub four_eyes: bool,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self { four_eyes: true }
    }
}

/// The handle through which the rest of the server reads and changes stored data.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    incident_changes: broadcast::Sender<IncidentChange>,
    /// Ticks after every committed change of a public notice.
    notice_changes: watch::Sender<()>,
    /// The fallback publisher's record per target. Kept in memory: it describes this
    /// process's publishing, and a restart publishes afresh.
    publish_status: Arc<std::sync::Mutex<Vec<reserv_domain::publishing::PublishStatus>>>,
    passwords: passwords::Passwords,
    /// Failed sign-ins per username and client address; see [`SignInSettings`].
    throttle: Arc<reserv_domain::sign_in::SignInThrottle>,
    /// How long a session may go unused before it ends.
    session_idle: chrono::Duration,
    /// Who must prove a second factor.
    second_factor: reserv_domain::second_factor::SecondFactorRequirement,
    /// How long a break-glass session lasts.
    break_glass_lifetime: chrono::Duration,
    /// Ticks after sessions were ended, for open subscriptions.
    session_ends: Arc<watch::Sender<()>>,
    /// Sessions found live lately; see `sessions.rs`.
    known_sessions: sessions::KnownSessions,
    audit_writer: audit::AuditWriter,
    /// How many SQL statements this store has run, for tests that keep the number of
    /// queries per request fixed and for monitoring.
    statements: Arc<AtomicU64>,
    /// Reads gathered for one request; see [`Store::for_request`].
    read_ledger: Option<Arc<audit::ReadLedger>>,
    plan_settings: PlanSettings,
    /// Whether messages also go out by SMS, and how fast; checked before anything is
    /// queued so that a text too long for SMS is refused while the sender is there.
    sms_channel: SmsChannel,
    /// The SMS provider the outbox worker in this process sends through, shared by all
    /// clones: the worker changes it on a failover and the API shows it.
    active_sms_provider: Arc<std::sync::RwLock<Option<ActiveSmsProvider>>>,
    /// Seals the secrets the server must read back (TOTP seeds); kept outside the
    /// database. Without it nobody can enrol a second factor.
    secret_key: Option<SecretKey>,
    /// The WebAuthn relying party passkeys are registered with and checked against.
    webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// What fills the placeholders of prepared messages that the database does not hold.
    draft_settings: DraftSettings,
}

impl Store {
    /// Connects to the database at `location` and brings its schema up to date.
    pub async fn open(location: &DatabaseLocation, clock: Arc<dyn Clock>) -> Result<Self> {
        let mut db = connect::connect(location).await?;
        connect::migrate(&db).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let (incident_changes, _) = broadcast::channel(256);
        Ok(Self {
            db: db.clone(),
            clock,
            incident_changes,
            notice_changes: watch::Sender::new(()),
            publish_status: Arc::default(),
            passwords: passwords::Passwords::new(),
            throttle: Arc::default(),
            session_idle: SignInSettings::default().session_idle,
            second_factor: SignInSettings::default().second_factor,
            break_glass_lifetime: SignInSettings::default().break_glass_lifetime,
            session_ends: Arc::new(watch::Sender::new(())),
            known_sessions: sessions::known_sessions(),
            audit_writer: audit::AuditWriter::start(db.clone()),
            read_ledger: None,
            statements,
            plan_settings: PlanSettings::default(),
            sms_channel: SmsChannel::Off,
            active_sms_provider: Arc::default(),
            secret_key: None,
            webauthn: None,
            draft_settings: DraftSettings::default(),
        })
    }

    /// The same store signing people in under `settings`. Call it once, right after
    /// [`Store::open`]: clones made before keep the old settings.
    pub fn with_sign_in_settings(self, settings: SignInSettings) -> Self {
        Self {
            passwords: passwords::Passwords::with_concurrency(settings.hash_concurrency),
            throttle: Arc::new(reserv_domain::sign_in::SignInThrottle::new(
                settings.throttle,
            )),
            session_idle: settings.session_idle,
            second_factor: settings.second_factor,
            break_glass_lifetime: settings.break_glass_lifetime,
            ..self
        }
    }

    /// The same store keeping plans under `settings`. Call it right after
    /// [`Store::open`]: clones made before keep the old settings.
    pub fn with_plan_settings(self, settings: PlanSettings) -> Self {
        Self {
            plan_settings: settings,
            ..self
        }
    }

    /// The same store sending messages with `channel` in mind. Call it right after
    /// [`Store::open`]: clones made before keep the old channel.
    pub fn with_sms_channel(self, channel: SmsChannel) -> Self {
        Self {
            sms_channel: channel,
            ..self
        }
    }

    /// The same store sealing secrets at rest with `key`. Call it right after
    /// [`Store::open`]: clones made before have no key.
    pub fn with_secret_key(self, key: SecretKey) -> Self {
        Self {
            secret_key: Some(key),
            ..self
        }
    }

    fn secret_key(&self) -> Result<&SecretKey> {
        self.secret_key.as_ref().ok_or_else(|| {
            StoreError::Database(sea_orm::DbErr::Custom(
                "this server has no secret key for secrets at rest; start it through \
                 `reserv serve`, which reads or creates secret_key_file"
                    .into(),
            ))
        })
    }

    /// Whether SMS is on, and what it carries.
    pub fn sms_channel(&self) -> SmsChannel {
        self.sms_channel
    }

    /// The SMS provider this server's outbox worker sends through; `None` when SMS is
    /// off or no worker runs in this process.
    pub fn active_sms_provider(&self) -> Option<ActiveSmsProvider> {
        // The worker moves traffic between providers without a change event.
        self.note_live_read();
        self.active_sms_provider
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Changes to incidents, sent after they are committed. Subscribers that fall
    /// behind lose the oldest changes and are told so by the channel.
    pub fn subscribe_incident_changes(&self) -> broadcast::Receiver<IncidentChange> {
        self.incident_changes.subscribe()
    }

    /// Changes to every incident, for a reader who may read incidents somewhere; each
    /// change must still be read through [`Store::incident`] to learn whether they may
    /// see it.
    pub fn watch_incidents(
        &self,
        who: &reserv_domain::access::Principal,
    ) -> Result<broadcast::Receiver<IncidentChange>> {
        who.authorize_somewhere(reserv_domain::access::Action::ReadIncidents)?;
        Ok(self.subscribe_incident_changes())
    }

    /// Wakes after every committed change of a public notice; the fallback publisher
    /// waits on it to republish. Only the latest tick is kept: a burst of changes is one
    /// republication.
    pub fn subscribe_notice_changes(&self) -> watch::Receiver<()> {
        self.notice_changes.subscribe()
    }

    /// The same store reading time from `clock`; used to import records of past events
    /// (such as the demo's closed incident) with their real times.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            ..self.clone()
        }
    }

    /// How many SQL statements have run since the store was opened.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Whether the database answers; for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    /// The store's clock reading, so that callers decide what is current (such as which
    /// notices are shown) by the same clock as the store.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    fn announce_notice_change(&self) {
        // `send_modify` wakes receivers even when none exists yet, unlike `send`.
        self.notice_changes.send_modify(|_| ());
    }

    fn publish(&self, change: IncidentChange) {
        // Nobody listening is normal: the send only fails when there are no subscribers.
        let _ = self.incident_changes.send(change);
    }
}
