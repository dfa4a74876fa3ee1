//! GraphQL shapes of the directory's domain types. Each wraps a domain value; nested
//! objects are resolved through the store so that access checks apply to them too.

use crate::loaders::{load_all, load_optional};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::audit::AuditEvent;
use reserv_domain::people::Person;
use reserv_domain::systems::ItSystem;
use reserv_domain::units::OrgUnit;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::units::UnitKind")]
pub enum UnitKind {
    Municipality,
    Administration,
    Service,
    Unit,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::people::Language")]
pub enum Language {
    Sv,
    En,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::systems::Criticality")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::systems::SystemState")]
pub enum SystemState {
    Operational,
    Degraded,
    Down,
    Unknown,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::access::Role")]
pub enum Role {
    Admin,
    CrisisLead,
    UnitManager,
    CareWorker,
    Communicator,
    Viewer,
}

/// One thing a person proved to open a session.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::second_factor::Factor")]
pub enum Factor {
    Password,
    /// A code from an authenticator app.
    Totp,
    /// A single-use recovery code.
    RecoveryCode,
    /// A sealed one-time emergency code (break-glass).
    EmergencyCode,
    /// A one-time code texted to the person's registered phone.
    SmsCode,
    /// A WebAuthn passkey.
    Passkey,
    /// A sign-in at the organisation's OpenID Connect identity provider.
    IdentityProvider,
    /// The identity provider reported a multi-factor sign-in or a high-assurance acr.
    ProviderMfa,
}

/// What an audit event records being done; stored as the lower-case text
/// (`SIGN_IN` as `sign_in`), as `reserv audit export` writes it.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::audit::AuditAction")]
pub enum AuditAction {
    Acknowledge,
    Activate,
    Approve,
    AssignCommander,
    BeginEnrolment,
    BreakGlassSignIn,
    BreakGlassSmsCode,
    ChainStarted,
    ChangeState,
    Comment,
    Create,
    CreateDraft,
    DeliveryFailed,
    Disable,
    Discard,
    Enable,
    Enrol,
    Escalate,
    Expire,
    Import,
    Issue,
    OptIn,
    OptOut,
    Publish,
    Read,
    Record,
    RefuseUnknownSender,
    RefuseUnsigned,
    Register,
    Remove,
    Rename,
    Report,
    Retire,
    Revoke,
    RevokeAll,
    Send,
    SetClearance,
    SetDue,
    SetState,
    SetSystems,
    SetUnits,
    SignIn,
    SignInOidc,
    SignInPasskey,
    SignInPassword,
    SignInRecoveryCode,
    SignOut,
    Test,
    Tick,
    Untick,
    Update,
    Withdraw,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::audit::AuditOutcome")]
pub enum AuditOutcome {
    Success,
    Denied,
    Failed,
}

/// Information classification after KLASSA: confidentiality 0 (public) to 3, the
/// integrity ("riktighet") and availability needs 0 to 3, and for personal data the
/// traceability ("spårbarhet") need 0 to 3. Level 4 is handled outside Reserv.
#[derive(SimpleObject, Clone, Copy)]
pub struct Classification {
    pub confidentiality: u8,
    pub integrity: u8,
    pub availability: u8,
    /// None for records without personal data that call for it.
    pub traceability: Option<u8>,
}

impl From<reserv_domain::classification::Classification> for Classification {
    fn from(value: reserv_domain::classification::Classification) -> Self {
        Self {
            confidentiality: value.confidentiality.level(),
            integrity: value.integrity,
            availability: value.availability,
            traceability: value.traceability,
        }
    }
}

/// Classification given with an input; every level 0 to 3. Level 4 ("synnerligen
/// allvarlig") is refused: such information is handled outside Reserv.
#[derive(async_graphql::InputObject, Clone)]
pub struct ClassificationInput {
    pub confidentiality: i32,
    pub integrity: i32,
    pub availability: i32,
    /// For personal data: the traceability need; leave out when the record holds none.
    pub traceability: Option<i32>,
    /// Why the confidentiality is lowered, when an edit lowers it: required then, and
    /// kept in the audit trail. The editor must be cleared for the old level.
    pub lowering_reason: Option<String>,
}

impl ClassificationInput {
    pub fn to_domain(
        &self,
    ) -> reserv_domain::Result<reserv_domain::classification::Classification> {
        reserv_domain::classification::Classification::new(
            self.confidentiality.into(),
            self.integrity.into(),
            self.availability.into(),
        )?
        .with_traceability(self.traceability.map(i64::from))
    }
}

pub struct Unit(pub OrgUnit);

#[Object]
impl Unit {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> UnitKind {
        self.0.kind.into()
    }
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_optional(ctx, self.0.parent_id).await?.map(Unit))
    }
    /// Ids of this unit's ancestors and itself, root first.
    async fn path(&self) -> Vec<ID> {
        self.0.path.0.iter().map(|id| ID::from(id.0)).collect()
    }
}

pub struct PersonObject(pub Person);

#[Object(name = "Person")]
impl PersonObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// E.164 form, like +46701234567.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_ref().map(|phone| phone.as_str())
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The identifier at the employer (employee number, HSA-id).
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn language(&self) -> Language {
        self.0.language.into()
    }
    async fn external(&self) -> bool {
        self.0.external
    }
    async fn organisation(&self) -> Option<&str> {
        self.0.organisation.as_deref()
    }
    async fn confidentiality(&self) -> u8 {
        self.0.confidentiality.level()
    }
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let units = load_all(ctx, &self.0.unit_ids).await?;
        Ok(units.into_iter().map(Unit).collect())
    }
}

pub struct System(pub ItSystem);

#[Object(name = "ItSystem")]
impl System {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        person_by_id(ctx, self.0.owner_id).await
    }
    async fn supplier(&self) -> Option<&str> {
        self.0.supplier.as_deref()
    }
    async fn criticality(&self) -> Criticality {
        self.0.criticality.into()
    }
    async fn health_check_url(&self) -> Option<&str> {
        self.0.health_check_url.as_deref()
    }
    async fn state(&self) -> SystemState {
        self.0.state.into()
    }
}

/// Resolves an optional person reference through the store's access checks.
pub(crate) async fn person_by_id(
    ctx: &Context<'_>,
    id: Option<reserv_domain::ids::PersonId>,
) -> async_graphql::Result<Option<PersonObject>> {
    Ok(load_optional(ctx, id).await?.map(PersonObject))
}

pub struct AuditEventObject(pub AuditEvent);

#[Object(name = "AuditEvent")]
impl AuditEventObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.record.at
    }
    async fn actor(&self) -> Option<&str> {
        self.0.record.actor.as_deref()
    }
    async fn action(&self) -> AuditAction {
        self.0.record.action.into()
    }
    async fn object_type(&self) -> &str {
        &self.0.record.object_type
    }
    async fn object_id(&self) -> Option<&str> {
        self.0.record.object_id.as_deref()
    }
    async fn client_address(&self) -> Option<&str> {
        self.0.record.client_address.as_deref()
    }
    async fn outcome(&self) -> AuditOutcome {
        self.0.record.outcome.into()
    }
    /// Position in the tamper-evident chain; 0 is the genesis.
    async fn seq(&self) -> Option<i64> {
        self.0.seq
    }
    /// SHA-256 (hex) of the event before this one.
    async fn prev_hash(&self) -> Option<&str> {
        self.0.previous_hash.as_deref()
    }
    /// SHA-256 (hex) over this event's fields and `prevHash`.
    async fn hash(&self) -> Option<&str> {
        self.0.hash.as_deref()
    }
    async fn detail(&self) -> Option<&str> {
        self.0.record.detail.as_deref()
    }
}
