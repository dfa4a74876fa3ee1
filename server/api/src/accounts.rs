//! Sign-in, the signed-in person, accounts and the audit trail.

use crate::context::{
    connection, facts, not_signed_in, page_request, parse_id, principal, signed_in_principal, store,
};
use crate::error::ApiResult;
use crate::http::{ApiSettings, session_cookie};
use crate::types::{
    AuditAction, AuditEventObject, AuditOutcome, Factor, PersonObject, Role, Unit, person_by_id,
};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::access::{ClearanceChange, Principal, RoleGrant};
use reserv_domain::ids::{AccountId, PersonId, UnitId};
use reserv_domain::oidc::ProviderAssurance;
use reserv_domain::second_factor::Factors;
use reserv_store::{
    AccountSummary, AuditFilter, NewAccount, SessionSummary, SignInOutcome, SignedIn,
};

/// The signed-in account, with what its session was opened with.
pub struct Me {
    pub(crate) principal: Principal,
    pub(crate) factors: Factors,
    pub(crate) break_glass: bool,
    pub(crate) assurance: Option<ProviderAssurance>,
    pub(crate) must_enrol_second_factor: bool,
}

impl Me {
    pub(crate) fn signed_in(signed_in: SignedIn, must_enrol_second_factor: bool) -> Self {
        Self {
            principal: signed_in.principal,
            factors: signed_in.factors,
            break_glass: signed_in.break_glass,
            assurance: signed_in.assurance,
            must_enrol_second_factor,
        }
    }
}

#[Object]
impl Me {
    async fn username(&self) -> &str {
        &self.principal.username
    }
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        if self.must_enrol_second_factor {
            return Ok(None);
        }
        person_by_id(ctx, self.principal.person_id).await
    }
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoleAssignment>> {
        role_assignments(ctx, &self.principal, &self.principal.grants).await
    }
    /// What was proved to open this session, in order (`PASSWORD`, `TOTP` …).
    async fn factors(&self) -> Vec<Factor> {
        self.factors.0.iter().copied().map(Into::into).collect()
    }
    /// The session was opened with an emergency code (break-glass): it is short, every
    /// admin and crisis lead has been told, and the UI must show it.
    async fn break_glass(&self) -> bool {
        self.break_glass
    }
    /// The assurance level (`acr`) the identity provider reported, for a session opened
    /// by OpenID Connect sign-in.
    async fn acr(&self) -> Option<&str> {
        self.assurance
            .as_ref()
            .and_then(|assurance| assurance.acr.as_deref())
    }
    /// How the identity provider authenticated the person (`amr`, RFC 8176: `pwd`,
    /// `otp`, `mfa` …), for a session opened by OpenID Connect sign-in.
    async fn amr(&self) -> Vec<&str> {
        amr_of(self.assurance.as_ref())
    }
    /// The role requires a second factor this session has not proved: until one is
    /// enrolled (`beginTotpEnrolment` and `confirmTotpEnrolment`, or
    /// `beginPasskeyEnrolment` and `finishPasskeyEnrolment`) everything else is refused.
    async fn must_enrol_second_factor(&self) -> bool {
        self.must_enrol_second_factor
    }
    /// The account's passkeys, oldest first.
    async fn passkeys(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::passkeys::PasskeyObject>> {
        let Some(account) = self.principal.account_id else {
            return Ok(vec![]);
        };
        let passkeys = store(ctx)?.passkeys(account).await.api()?;
        Ok(passkeys
            .into_iter()
            .map(crate::passkeys::PasskeyObject)
            .collect())
    }
    /// Whether an authenticator app (TOTP) is enrolled, and how many unused recovery
    /// codes are left.
    async fn second_factor(&self, ctx: &Context<'_>) -> async_graphql::Result<SecondFactorStatus> {
        let Some(account) = self.principal.account_id else {
            return Ok(SecondFactorStatus {
                totp_enrolled: false,
                recovery_codes_left: 0,
            });
        };
        let (totp_enrolled, left) = store(ctx)?.second_factor_status(account).await.api()?;
        Ok(SecondFactorStatus {
            totp_enrolled,
            recovery_codes_left: i32::try_from(left).unwrap_or(i32::MAX),
        })
    }
}

/// The second factor of an account.
#[derive(SimpleObject)]
pub struct SecondFactorStatus {
    totp_enrolled: bool,
    recovery_codes_left: i32,
}

/// The roles of an account, with their units read as `reader` may read them.
async fn role_assignments(
    ctx: &Context<'_>,
    reader: &Principal,
    grants: &[RoleGrant],
) -> async_graphql::Result<Vec<RoleAssignment>> {
    let store = store(ctx)?;
    let mut roles = Vec::with_capacity(grants.len());
    for grant in grants {
        let unit = match grant.unit {
            Some(unit) => Some(Unit(store.unit(reader, unit).await.api()?)),
            None => None,
        };
        roles.push(RoleAssignment {
            role: grant.role.into(),
            unit,
            clearance: grant.clearance().level(),
            raised: grant.raised_clearance.is_some(),
        });
    }
    Ok(roles)
}

/// An account as administrators see it.
pub struct Account(AccountSummary);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn username(&self) -> &str {
        &self.0.username
    }
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        person_by_id(ctx, self.0.person_id).await
    }
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoleAssignment>> {
        role_assignments(ctx, principal(ctx)?, &self.0.grants).await
    }
    /// A disabled account cannot sign in and has no sessions.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A signed-in session; its token is never shown again.
pub struct Session(SessionSummary);

#[Object]
impl Session {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When it was last used, to the minute.
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }
    /// When it ends unless it is used before: the idle timeout, or the expiry if sooner.
    async fn idle_until(&self) -> DateTime<Utc> {
        self.0.idle_until
    }
    /// The client address it signed in from.
    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }
    /// Whether this request came with this session.
    async fn current(&self) -> bool {
        self.0.current
    }
    /// What was proved to open it.
    async fn factors(&self) -> Vec<Factor> {
        self.0.factors.0.iter().copied().map(Into::into).collect()
    }
    /// Opened with an emergency code (break-glass).
    async fn break_glass(&self) -> bool {
        self.0.break_glass
    }
    /// The assurance level (`acr`) the identity provider reported, for a session opened
    /// by OpenID Connect sign-in.
    async fn acr(&self) -> Option<&str> {
        self.0
            .assurance
            .as_ref()
            .and_then(|assurance| assurance.acr.as_deref())
    }
    /// How the identity provider authenticated the person (`amr`).
    async fn amr(&self) -> Vec<&str> {
        amr_of(self.0.assurance.as_ref())
    }
}

fn amr_of(assurance: Option<&ProviderAssurance>) -> Vec<&str> {
    assurance
        .map(|assurance| assurance.amr.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The answer to a completed sign-in: the session cookie is set and the token and
/// account returned.
pub(crate) async fn session_answer(
    ctx: &Context<'_>,
    signed_in: SignedIn,
    lifetime: chrono::Duration,
) -> async_graphql::Result<LoginResult> {
    let settings = ctx.data::<ApiSettings>()?;
    ctx.append_http_header(
        "Set-Cookie",
        session_cookie(&signed_in.token, lifetime, settings.secure_cookies),
    );
    let must_enrol = store(ctx)?.must_enrol_second_factor(
        &signed_in.principal,
        &signed_in.factors,
        signed_in.break_glass,
    );
    Ok(LoginResult {
        token: signed_in.token.clone(),
        expires_at: signed_in.expires_at,
        me: Me::signed_in(signed_in, must_enrol),
    })
}

pub(crate) fn optional_account(id: Option<ID>) -> async_graphql::Result<Option<AccountId>> {
    id.map(|id| parse_id("accountId", &id).map(AccountId))
        .transpose()
}

#[derive(SimpleObject)]
pub struct RoleAssignment {
    role: Role,
    /// The unit (and the units below it) the role is for; none for organisation-wide roles.
    unit: Option<Unit>,
    /// The highest confidentiality level the role reads in its unit: the role's
    /// default, or the level an administrator raised it to.
    clearance: u8,
    /// Whether an administrator raised the clearance above the role's default.
    raised: bool,
}

#[derive(SimpleObject)]
pub struct LoginResult {
    /// Send as `Authorization: Bearer <token>`; the PWA uses the cookie set alongside.
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) me: Me,
}

#[derive(SimpleObject)]
pub struct CreatedAccount {
    id: ID,
    username: String,
    /// Shown once when the password was generated; never stored in clear text.
    generated_password: Option<String>,
}

#[derive(InputObject)]
pub struct RoleInput {
    role: Role,
    unit_id: Option<ID>,
}

#[derive(InputObject)]
pub struct AccountInput {
    username: String,
    /// Left out, a password is generated and returned once.
    password: Option<String>,
    person_id: Option<ID>,
    roles: Vec<RoleInput>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account; also for a session that must enrol a second factor.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let principal = signed_in_principal(ctx)?.clone();
        let facts = facts(ctx);
        Ok(Me {
            principal,
            factors: facts.map(|facts| facts.factors.clone()).unwrap_or_default(),
            break_glass: facts.is_some_and(|facts| facts.break_glass),
            assurance: facts.and_then(|facts| facts.assurance.clone()),
            must_enrol_second_factor: facts.is_some_and(|facts| facts.enrolling.is_some()),
        })
    }

    /// All accounts, oldest first; for administrators.
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Account>> {
        let page = store(ctx)?
            .accounts(principal(ctx)?, page_request(after, first)?)
            .await
            .api()?;
        Ok(connection(page, Account))
    }

    /// The live sessions of an account, newest first: one's own without `accountId`,
    /// anyone's for administrators.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
    ) -> async_graphql::Result<Vec<Session>> {
        let token = facts(ctx).and_then(|facts| facts.token.as_deref());
        let sessions = store(ctx)?
            .sessions(principal(ctx)?, optional_account(account_id)?, token)
            .await
            .api()?;
        Ok(sessions.into_iter().map(Session).collect())
    }

    /// The audit trail, oldest first, for its follow-up by administrators and crisis
    /// leads. Every argument narrows the search: `actor` is a username, `from` is
    /// inclusive and `to` exclusive.
    #[allow(clippy::too_many_arguments)]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        actor: Option<String>,
        object_type: Option<String>,
        object_id: Option<ID>,
        action: Option<AuditAction>,
        outcome: Option<AuditOutcome>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEventObject>> {
        let filter = AuditFilter {
            actor,
            object_type,
            object_id: object_id.map(|id| id.to_string()),
            action: action.map(Into::into),
            outcome: outcome.map(Into::into),
            from,
            to,
        };
        let page = store(ctx)?
            .audit_events(principal(ctx)?, &filter, page_request(after, first)?)
            .await
            .api()?;
        Ok(connection(page, AuditEventObject))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs in with username and password, for accounts without a second factor
    /// (an account with one gets CONFLICT: use `signIn` and `completeSignIn`). The
    /// session token is returned and also set as an HttpOnly cookie.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<LoginResult> {
        let settings = ctx.data::<ApiSettings>()?;
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let signed_in = store(ctx)?
            .sign_in(
                &username,
                &password,
                client_address,
                settings.session_lifetime,
            )
            .await
            .and_then(SignInOutcome::into_session)
            .api()?;
        session_answer(ctx, signed_in, settings.session_lifetime).await
    }

    /// The session this request is signed in with, token included: after a sign-in at
    /// the identity provider, whose answer reaches the browser only as the session
    /// cookie, an app that sends bearer tokens takes the session over with this.
    /// UNAUTHENTICATED without a session.
    async fn resume_session(&self, ctx: &Context<'_>) -> async_graphql::Result<LoginResult> {
        let principal = signed_in_principal(ctx)?.clone();
        let session = facts(ctx).and_then(|facts| {
            let token = facts.token.clone()?;
            Some((facts, token, facts.expires_at?))
        });
        let Some((facts, token, expires_at)) = session else {
            return Err(not_signed_in()).api();
        };
        Ok(LoginResult {
            token,
            expires_at,
            me: Me {
                principal,
                factors: facts.factors.clone(),
                break_glass: facts.break_glass,
                assurance: facts.assurance.clone(),
                must_enrol_second_factor: facts.enrolling.is_some(),
            },
        })
    }

    /// Ends the current session and clears the cookie.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let who = signed_in_principal(ctx)?;
        if let Some(token) = facts(ctx).and_then(|facts| facts.token.as_deref()) {
            store(ctx)?.sign_out(who, token).await.api()?;
        }
        let settings = ctx.data::<ApiSettings>()?;
        ctx.append_http_header(
            "Set-Cookie",
            session_cookie("", chrono::Duration::zero(), settings.secure_cookies),
        );
        Ok(true)
    }

    /// Ends one session (a lost phone): one's own, or anyone's for administrators.
    /// Subscriptions open on it end too. Audited.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let id = parse_id("id", &id)?;
        store(ctx)?
            .revoke_session(principal(ctx)?, id)
            .await
            .api()?;
        Ok(true)
    }

    /// Ends every session of an account ("sign out everywhere") and returns how many
    /// there were: one's own without `accountId`, anyone's for administrators. Audited.
    async fn revoke_sessions(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
    ) -> async_graphql::Result<i32> {
        let ended = store(ctx)?
            .revoke_sessions(principal(ctx)?, optional_account(account_id)?)
            .await
            .api()?;
        Ok(i32::try_from(ended).unwrap_or(i32::MAX))
    }

    /// Disables an account, ending its sessions at once, or enables it again; for
    /// administrators.
    async fn set_account_disabled(
        &self,
        ctx: &Context<'_>,
        id: ID,
        disabled: bool,
    ) -> async_graphql::Result<Account> {
        let id = AccountId(parse_id("id", &id)?);
        let summary = store(ctx)?
            .set_account_disabled(principal(ctx)?, id, disabled)
            .await
            .api()?;
        Ok(Account(summary))
    }

    /// Raises the clearance of one of an account's roles above the role's default, so
    /// that access follows the person's work (a unit manager who must read her unit's
    /// strictly confidential plan); leave out `clearance` to go back to the default. For
    /// administrators; the reason is kept in the audit trail.
    async fn set_grant_clearance(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        role: Role,
        unit_id: Option<ID>,
        clearance: Option<i32>,
        reason: String,
    ) -> async_graphql::Result<Account> {
        let account = AccountId(parse_id("accountId", &account_id)?);
        let unit = unit_id
            .map(|id| parse_id("unitId", &id).map(UnitId))
            .transpose()?;
        let change =
            ClearanceChange::new(role.into(), unit, clearance.map(i64::from), &reason).api()?;
        let summary = store(ctx)?
            .set_grant_clearance(principal(ctx)?, account, change)
            .await
            .api()?;
        Ok(Account(summary))
    }

    /// Creates an account; for administrators.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        input: AccountInput,
    ) -> async_graphql::Result<CreatedAccount> {
        let mut grants = Vec::with_capacity(input.roles.len());
        for (index, role) in input.roles.iter().enumerate() {
            let unit = role
                .unit_id
                .as_ref()
                .map(|id| parse_id(&format!("roles[{index}].unitId"), id).map(UnitId))
                .transpose()?;
            grants.push(RoleGrant::new(role.role.into(), unit).api()?);
        }
        let request = NewAccount {
            username: input.username,
            password: input.password,
            person_id: input
                .person_id
                .map(|id| parse_id("personId", &id).map(PersonId))
                .transpose()?,
            grants,
        };
        let created = store(ctx)?
            .create_account(principal(ctx)?, request)
            .await
            .api()?;
        Ok(CreatedAccount {
            id: created.id.0.into(),
            username: created.username,
            generated_password: created.generated_password,
        })
    }
}
