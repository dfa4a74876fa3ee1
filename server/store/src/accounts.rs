//! Accounts, password sign-in and sessions.
//!
//! Passwords are stored as argon2id hashes; session tokens are random and only their
//! SHA-256 is stored, so a copy of the database lets nobody sign in.

use crate::audit::{Audit, AuditedObject};
use crate::entities::{account_roles, accounts, sessions};
use crate::page::fetch_page;
use crate::{Page, PageRequest, Result, Store, StoreError, convert};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, RngCore};
use reserv_domain::DomainError;
use reserv_domain::access::{
    Action, ClearanceChange, Principal, RoleGrant, Scope, validate_password, validate_username,
};
use reserv_domain::audit::AuditAction;
use reserv_domain::audit::AuditOutcome;
use reserv_domain::classification::Confidentiality;
use reserv_domain::ids::{AccountId, PersonId, UnitId};
use reserv_domain::oidc::ProviderAssurance;
use reserv_domain::second_factor::{Factor, Factors};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

/// A request to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    /// `None` generates a password, returned once.
    pub password: Option<String>,
    pub person_id: Option<PersonId>,
    pub grants: Vec<RoleGrant>,
}

/// A created account, with the generated password when one was made.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub id: AccountId,
    pub username: String,
    pub generated_password: Option<String>,
}

impl AuditedObject for CreatedAccount {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// The result of a successful sign-in. The token is shown once and never stored.
#[derive(Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
    /// What the person proved to open the session.
    pub factors: Factors,
    /// Opened with an emergency code.
    pub break_glass: bool,
    /// What the identity provider reported, for a session it opened.
    pub assurance: Option<ProviderAssurance>,
}

/// What a password sign-in leads to.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    /// Signed in: the account has no second factor.
    SignedIn(SignedIn),
    /// The password was right; a second factor must follow.
    SecondFactorNeeded(crate::second_factor::PendingSignIn),
}

impl SignInOutcome {
    /// The session, or a conflict saying that a second factor is needed.
    pub fn into_session(self) -> Result<SignedIn> {
        match self {
            Self::SignedIn(signed_in) => Ok(signed_in),
            Self::SecondFactorNeeded(_) => Err(DomainError::conflict(
                "this account signs in with a second factor: use signIn and completeSignIn",
            )
            .into()),
        }
    }
}

/// A session about to be opened.
#[derive(Debug, Clone)]
pub(crate) struct NewSession {
    pub factors: Factors,
    pub break_glass: bool,
    /// What the identity provider reported, for a session it opens.
    pub assurance: Option<ProviderAssurance>,
    pub client_address: Option<String>,
    pub lifetime: Duration,
}

/// The principal of someone trying to sign in, before they are known.
pub(crate) fn attempt_by(username: &str, client_address: Option<String>) -> Principal {
    Principal {
        account_id: None,
        username: username.chars().take(64).collect(),
        person_id: None,
        grants: vec![],
        client_address,
    }
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("expires_at", &self.expires_at)
            .field("principal", &self.principal.username)
            .finish_non_exhaustive()
    }
}

/// An account as administrators see it; never with its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: AccountId,
    pub username: String,
    pub person_id: Option<PersonId>,
    pub grants: Vec<RoleGrant>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl AuditedObject for AccountSummary {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

const SIGN_IN_FAILED: &str = "Wrong username or password";

impl Store {
    pub async fn create_account(
        &self,
        who: &Principal,
        request: NewAccount,
    ) -> Result<CreatedAccount> {
        // The slow hash runs before the write transaction, so that it never holds the
        // database's write lock; only an allowed request gets that far.
        let hashed = async {
            who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            let (password, generated_password) = match request.password.clone() {
                Some(password) => (password, None),
                None => {
                    let generated: String = rand::rng()
                        .sample_iter(&rand::distr::Alphanumeric)
                        .take(20)
                        .map(char::from)
                        .collect();
                    (generated.clone(), Some(generated))
                }
            };
            validate_password(&password)?;
            Ok::<_, StoreError>((self.passwords.hash(password).await?, generated_password))
        }
        .await;
        let tx = self.begin().await?;
        let result = async {
            let (password_hash, generated_password) = hashed?;
            let username = validate_username(&request.username)?;
            if request.grants.is_empty() {
                return Err(
                    DomainError::validation("roles", "an account needs at least one role").into(),
                );
            }
            let units: Vec<UnitId> = request
                .grants
                .iter()
                .filter_map(|grant| grant.unit)
                .collect();
            crate::directory::ensure_units_exist(&tx, &units)
                .await
                .map_err(|_| {
                    StoreError::from(DomainError::validation(
                        "unit",
                        "one of the role units was not found",
                    ))
                })?;
            crate::directory::ensure_person_exists(&tx, request.person_id, "personId").await?;
            let row = accounts::ActiveModel {
                id: NotSet,
                username: Set(username.clone()),
                person_id: Set(request.person_id.map(|id| id.0)),
                password_hash: Set(password_hash),
                disabled: Set(false),
                created_at: Set(self.now()),
            }
            .insert(&tx)
            .await
            .map_err(|error| {
                StoreError::from(error)
                    .on_duplicate(|| format!("username: the username '{username}' is taken"))
            })?;
            for grant in &request.grants {
                account_roles::ActiveModel {
                    id: NotSet,
                    account_id: Set(row.id),
                    role: Set(grant.role.as_str().to_owned()),
                    unit_id: Set(grant.unit.map(|unit| unit.0)),
                    raised_clearance: Set(grant
                        .raised_clearance
                        .map(|level| i16::from(level.level()))),
                }
                .insert(&tx)
                .await?;
            }
            Ok(CreatedAccount {
                id: AccountId(row.id),
                username,
                generated_password,
            })
        }
        .await;
        self.finish(tx, who, Audit::new(AuditAction::Create, "account"), result)
            .await
    }

    /// Signs in with a password. Without a second factor this opens a session that
    /// lasts `lifetime`; with one, it returns a short-lived challenge that
    /// [`Store::complete_sign_in`] turns into a session once a code is given.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client_address: Option<String>,
        lifetime: Duration,
    ) -> Result<SignInOutcome> {
        let (account, attempt) = self
            .check_password(username, password, client_address.clone())
            .await?;
        let methods = crate::second_factor::second_factor_methods(&self.db, account.id).await?;
        if !methods.is_empty() {
            // The failure count of the username is kept until the second factor is
            // proved too: a known password must not buy fresh guesses at codes.
            return self
                .open_challenge(&attempt, &account, client_address, methods)
                .await
                .map(SignInOutcome::SecondFactorNeeded);
        }
        self.throttle.record_success(username.trim());
        let signed_in = self
            .open_session(
                &attempt,
                account,
                NewSession {
                    factors: Factors(vec![Factor::Password]),
                    break_glass: false,
                    assurance: None,
                    client_address,
                    lifetime,
                },
                Audit::new(AuditAction::SignIn, "account"),
            )
            .await?;
        Ok(SignInOutcome::SignedIn(signed_in))
    }

    /// The account whose password this is, after the throttle allowed the attempt; a
    /// wrong password counts toward the lockout and leaves a denied audit event.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
        client_address: Option<String>,
    ) -> Result<(accounts::Model, Principal)> {
        let username = username.trim();
        let attempt = attempt_by(username, client_address.clone());
        let audit = Audit::new(AuditAction::SignIn, "account");
        self.throttle_check(&attempt, &audit, username).await?;
        let account = accounts::Entity::find()
            .filter(accounts::Column::Username.eq(username))
            .one(&self.db)
            .await?;
        let stored_hash = account
            .as_ref()
            .filter(|account| !account.disabled)
            .map(|account| account.password_hash.clone());
        let verified = self
            .passwords
            .verify(password.to_owned(), stored_hash)
            .await?;
        let attempt = Principal {
            account_id: account.as_ref().map(|a| AccountId(a.id)),
            ..attempt
        };
        match account.filter(|_| verified) {
            Some(account) => Ok((account, attempt)),
            None => Err(self
                .sign_in_failed(&attempt, &audit, username, SIGN_IN_FAILED)
                .await),
        }
    }

    /// Refuses an attempt while its username or address is locked, before anything is
    /// checked, so that a guesser also gets no hashing time out of the server.
    pub(crate) async fn throttle_check(
        &self,
        attempt: &Principal,
        audit: &Audit,
        username: &str,
    ) -> Result<()> {
        if let Err(locked) =
            self.throttle
                .check(username, attempt.client_address.as_deref(), self.now())
        {
            self.record_alone(
                attempt,
                audit,
                AuditOutcome::Denied,
                Some("refused: too many failed sign-ins".into()),
            )
            .await?;
            return Err(locked.into());
        }
        Ok(())
    }

    /// Counts a failed sign-in step toward the lockout, records it, and returns the
    /// error to answer with.
    pub(crate) async fn sign_in_failed(
        &self,
        attempt: &Principal,
        audit: &Audit,
        username: &str,
        message: &str,
    ) -> StoreError {
        let locked_until =
            self.throttle
                .record_failure(username, attempt.client_address.as_deref(), self.now());
        let detail = locked_until.map(|until| {
            format!(
                "too many failed sign-ins: locked until {}",
                until.to_rfc3339()
            )
        });
        if let Err(error) = self
            .record_alone(attempt, audit, AuditOutcome::Denied, detail)
            .await
        {
            return error;
        }
        DomainError::Unauthenticated(message.into()).into()
    }

    /// Forgets the failed sign-ins of `username` once it is fully signed in.
    pub(crate) fn sign_in_succeeded(&self, username: &str) {
        self.throttle.record_success(username);
    }

    /// Opens a session for `account` with the factors it proved, clearing sessions
    /// that ran out, in one audited transaction.
    pub(crate) async fn open_session(
        &self,
        attempt: &Principal,
        account: accounts::Model,
        session: NewSession,
        audit: Audit,
    ) -> Result<SignedIn> {
        let token = new_token();
        let now = self.now();
        let expires_at = now + session.lifetime;
        let tx = self.begin().await?;
        let result = async {
            sessions::ActiveModel {
                id: NotSet,
                account_id: Set(account.id),
                token_hash: Set(token_hash(&token)),
                created_at: Set(now),
                expires_at: Set(expires_at),
                client_address: Set(session.client_address.clone()),
                last_seen_at: Set(Some(now)),
                factors: Set(session.factors.stored()),
                break_glass: Set(session.break_glass),
                acr: Set(session
                    .assurance
                    .as_ref()
                    .and_then(|assurance| assurance.acr.clone())),
                amr: Set(session
                    .assurance
                    .as_ref()
                    .and_then(ProviderAssurance::stored_amr)),
            }
            .insert(&tx)
            .await?;
            // Sessions that ran out are of no use to anyone; each sign-in clears them.
            sessions::Entity::delete_many()
                .filter(sessions::Column::ExpiresAt.lte(now))
                .exec(&tx)
                .await?;
            Ok(())
        }
        .await;
        self.finish(tx, attempt, audit.on(account.id), result)
            .await?;
        let principal = principal_of(&self.db, account, session.client_address).await?;
        Ok(SignedIn {
            token,
            expires_at,
            principal,
            factors: session.factors,
            break_glass: session.break_glass,
            assurance: session.assurance,
        })
    }

    /// All accounts, oldest first; for administrators.
    pub async fn accounts(
        &self,
        who: &Principal,
        page: PageRequest,
    ) -> Result<Page<AccountSummary>> {
        who.authorize(Action::ManageAccounts, Scope::Organisation)?;
        let rows = fetch_page(
            &self.db,
            accounts::Entity::find(),
            accounts::Column::Id,
            page,
            |row| row.id,
        )
        .await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for (cursor, row) in rows.items {
            items.push((cursor, summary_of(&self.db, row).await?));
        }
        Ok(Page {
            items,
            has_next_page: rows.has_next_page,
            has_previous_page: rows.has_previous_page,
        })
    }

    /// Disables an account (ending its sessions at once) or enables it again. Used when
    /// someone leaves or a device with a session is lost.
    pub async fn set_account_disabled(
        &self,
        who: &Principal,
        id: AccountId,
        disabled: bool,
    ) -> Result<AccountSummary> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            if disabled && who.account_id == Some(id) {
                return Err(DomainError::conflict(
                    "You cannot disable your own account; ask another administrator",
                )
                .into());
            }
            let existing = accounts::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("account", id))?;
            let mut row: accounts::ActiveModel = existing.into();
            row.disabled = Set(disabled);
            let row = row.update(&tx).await?;
            if disabled {
                sessions::Entity::delete_many()
                    .filter(sessions::Column::AccountId.eq(id.0))
                    .exec(&tx)
                    .await?;
            }
            summary_of(&tx, row).await
        }
        .await;
        let action = if disabled {
            AuditAction::Disable
        } else {
            AuditAction::Enable
        };
        let summary = self
            .finish(tx, who, Audit::new(action, "account").on(id), result)
            .await?;
        self.announce_sessions_ended();
        Ok(summary)
    }

    /// Raises the clearance of one of an account's grants above its role's default, or
    /// puts it back, for administrators. The reason goes into the audit event, so that
    /// the log follow-up sees who widened whose access and why. Sessions read their
    /// grants at every request, so the change holds from the account's next request.
    pub async fn set_grant_clearance(
        &self,
        who: &Principal,
        account: AccountId,
        change: ClearanceChange,
    ) -> Result<AccountSummary> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            let row = accounts::Entity::find_by_id(account.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("account", account))?;
            let unit_filter = match change.unit {
                Some(unit) => account_roles::Column::UnitId.eq(unit.0),
                None => account_roles::Column::UnitId.is_null(),
            };
            let grant = account_roles::Entity::find()
                .filter(account_roles::Column::AccountId.eq(account.0))
                .filter(account_roles::Column::Role.eq(change.role.as_str()))
                .filter(unit_filter)
                .one(&tx)
                .await?
                .ok_or_else(|| {
                    DomainError::validation(
                        "role",
                        format!(
                            "{} holds no role {}{}; give the clearance to a role the account has",
                            row.username,
                            change.role,
                            change
                                .unit
                                .map(|unit| format!(" in unit {unit}"))
                                .unwrap_or_default()
                        ),
                    )
                })?;
            let mut grant: account_roles::ActiveModel = grant.into();
            grant.raised_clearance = Set(change.clearance.map(|level| i16::from(level.level())));
            grant.update(&tx).await?;
            summary_of(&tx, row).await
        }
        .await;
        let detail = format!(
            "{}{}: clearance {}; reason: {}",
            change.role,
            change
                .unit
                .map(|unit| format!(" in unit {unit}"))
                .unwrap_or_default(),
            change.clearance.map_or_else(
                || "the role's default".to_owned(),
                |level| level.level().to_string()
            ),
            change.reason
        );
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::SetClearance, "account")
                .on(account)
                .with_detail(detail),
            result,
        )
        .await
    }

    /// The principal of an account, for an administrator importing records written by
    /// that account (the demo data set). Nothing is signed in.
    pub async fn principal_by_username(
        &self,
        who: &Principal,
        username: &str,
    ) -> Result<Principal> {
        who.authorize(Action::ManageAccounts, Scope::Organisation)?;
        let account = accounts::Entity::find()
            .filter(accounts::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found("account", username))?;
        principal_of(&self.db, account, None).await
    }

    /// Ends the session of `token`.
    pub async fn sign_out(&self, who: &Principal, token: &str) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            sessions::Entity::delete_many()
                .filter(sessions::Column::TokenHash.eq(token_hash(token)))
                .exec(&tx)
                .await?;
            Ok(())
        }
        .await;
        let audit = Audit::new(AuditAction::SignOut, "account");
        let audit = match who.account_id {
            Some(id) => audit.on(id),
            None => audit,
        };
        self.finish(tx, who, audit, result).await?;
        self.announce_sessions_ended();
        Ok(())
    }
}

async fn summary_of(db: &impl ConnectionTrait, account: accounts::Model) -> Result<AccountSummary> {
    let (id, disabled, created_at) = (AccountId(account.id), account.disabled, account.created_at);
    let principal = principal_of(db, account, None).await?;
    Ok(AccountSummary {
        id,
        username: principal.username,
        person_id: principal.person_id,
        grants: principal.grants,
        disabled,
        created_at,
    })
}

pub(crate) async fn principal_of(
    db: &impl ConnectionTrait,
    account: accounts::Model,
    client_address: Option<String>,
) -> Result<Principal> {
    let grants = account_roles::Entity::find()
        .filter(account_roles::Column::AccountId.eq(account.id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            let raised_clearance = row
                .raised_clearance
                .map(|level| {
                    Confidentiality::new("account_roles.raised_clearance", level.into())
                        .map_err(|error| StoreError::Database(DbErr::Type(error.to_string())))
                })
                .transpose()?;
            Ok(RoleGrant {
                role: convert::stored(&row.role, "account_roles.role")?,
                unit: row.unit_id.map(UnitId),
                raised_clearance,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Principal {
        account_id: Some(AccountId(account.id)),
        username: account.username,
        person_id: account.person_id.map(PersonId),
        grants,
        client_address,
    })
}

/// The enabled account that a pending sign-in step (a challenge found by its token)
/// belongs to, with the attempt the next step is made as; `None` when no step was
/// found or its account is disabled, which callers answer alike.
pub(crate) async fn pending_account(
    db: &impl ConnectionTrait,
    account_id: Option<i64>,
    client_address: Option<String>,
) -> Result<Option<(accounts::Model, Principal)>> {
    let Some(account_id) = account_id else {
        return Ok(None);
    };
    let Some(account) = accounts::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .filter(|account| !account.disabled)
    else {
        return Ok(None);
    };
    let mut attempt = attempt_by(&account.username, client_address);
    attempt.account_id = Some(AccountId(account.id));
    Ok(Some((account, attempt)))
}

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Clock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

    impl reserv_domain::Clock for Clock {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            self.0.lock().map(|now| *now).unwrap_or_default()
        }
    }

    const START: i64 = 1_795_000_000;

    /// A store on a fresh SQLite file with the clock at [`START`] and one viewer account
    /// `username` with the password "ett-långt-lösenord".
    async fn a_store_with_one_account(
        folder: &tempfile::TempDir,
        username: &str,
        settings: crate::SignInSettings,
    ) -> Result<(Store, std::sync::Arc<Clock>)> {
        let start = chrono::DateTime::from_timestamp(START, 0).unwrap_or_default();
        let clock = std::sync::Arc::new(Clock(std::sync::Mutex::new(start)));
        let store = Store::open(
            &crate::DatabaseLocation::default_sqlite(folder.path().join("t.db")),
            clock.clone(),
        )
        .await?
        .with_sign_in_settings(settings);
        store
            .create_account(
                &Principal::operator("test"),
                NewAccount {
                    username: username.into(),
                    password: Some("ett-långt-lösenord".into()),
                    person_id: None,
                    grants: vec![reserv_domain::access::RoleGrant {
                        role: reserv_domain::access::Role::Viewer,
                        unit: None,
                        raised_clearance: None,
                    }],
                },
            )
            .await?;
        Ok((store, clock))
    }

    /// A sign-in clears the sessions that have run out, and only those.
    #[tokio::test]
    async fn signing_in_purges_expired_sessions() -> Result<()> {
        let folder = tempfile::tempdir().map_err(|e| StoreError::Location(e.to_string()))?;
        let start = chrono::DateTime::from_timestamp(START, 0).unwrap_or_default();
        let (store, clock) =
            a_store_with_one_account(&folder, "anna", crate::SignInSettings::default()).await?;
        let sign_in = |hours: i64| {
            let store = store.clone();
            async move {
                store
                    .sign_in("anna", "ett-långt-lösenord", None, Duration::hours(hours))
                    .await?
                    .into_session()
            }
        };
        let short = sign_in(1).await?;
        let long = sign_in(24).await?;
        if let Ok(mut now) = clock.0.lock() {
            *now = start + Duration::hours(2);
        }
        sign_in(1).await?;
        let left = sea_orm::PaginatorTrait::count(sessions::Entity::find(), &store.db).await?;
        assert_eq!(left, 2, "the expired session is gone, the others stay");
        assert!(
            store
                .principal_for_token(&short.token, None)
                .await?
                .is_none()
        );
        assert!(
            store
                .principal_for_token(&long.token, None)
                .await?
                .is_some()
        );
        Ok(())
    }

    /// A session used within the idle timeout lives on; one left unused past it ends,
    /// though its expiry is hours away.
    #[tokio::test]
    async fn a_session_left_idle_ends_before_its_expiry() -> Result<()> {
        let folder = tempfile::tempdir().map_err(|e| StoreError::Location(e.to_string()))?;
        let start = chrono::DateTime::from_timestamp(START, 0).unwrap_or_default();
        let settings = crate::SignInSettings {
            session_idle: Duration::minutes(30),
            ..crate::SignInSettings::default()
        };
        let (store, clock) = a_store_with_one_account(&folder, "berit", settings).await?;
        let signed_in = store
            .sign_in("berit", "ett-långt-lösenord", None, Duration::hours(12))
            .await?
            .into_session()?;
        let at = |minutes: i64| {
            if let Ok(mut now) = clock.0.lock() {
                *now = start + Duration::minutes(minutes);
            }
        };
        at(25);
        assert!(
            store
                .principal_for_token(&signed_in.token, None)
                .await?
                .is_some()
        );
        at(50);
        assert!(
            store.session_is_live(&signed_in.token).await?,
            "used at 25 minutes, so live until 55"
        );
        at(54);
        assert!(
            store.session_is_live(&signed_in.token).await?,
            "checking liveness is not a use"
        );
        at(56);
        assert!(!store.session_is_live(&signed_in.token).await?);
        assert!(
            store
                .principal_for_token(&signed_in.token, None)
                .await?
                .is_none()
        );
        Ok(())
    }

    #[test]
    fn tokens_are_unique_and_stored_as_hashes() {
        let (first, second) = (new_token(), new_token());
        assert_ne!(first, second);
        assert_eq!(token_hash(&first).len(), 64);
        assert_ne!(token_hash(&first), first);
    }
}
