//! The second factor: TOTP (RFC 6238) enrolment and removal, single-use recovery
//! codes, and the second step of a sign-in.
//!
//! The TOTP secret must be readable by the server to check codes, so it is kept in the
//! database sealed with the server's secret key (see [`crate::secrets`]), which lives
//! outside the database; it is shown once at enrolment and never returned, logged or
//! written to the audit trail afterwards. Recovery codes and
//! challenge tokens are random and only their SHA-256 is stored. This module must
//! never log a secret, a code or a token.

use crate::accounts::{NewSession, SignedIn, new_token, pending_account, token_hash};
use crate::audit::{Audit, AuditedObject};
use crate::entities::{
    accounts, passkeys, recovery_codes, sessions, sign_in_challenges, totp_credentials,
};
use crate::secrets::SecretKey;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::AccountId;
use reserv_domain::second_factor::{Factor, Factors};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};

/// How long the second step of a sign-in may wait after the password.
const CHALLENGE_LIFETIME: Duration = Duration::minutes(5);
/// Recovery codes given at enrolment.
const RECOVERY_CODES: usize = 10;
/// The issuer shown in authenticator apps.
const ISSUER: &str = "Reserv";

/// A TOTP enrolment waiting for its first code. Its `Debug` hides the secret.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The `otpauth://` URL an authenticator app reads.
    pub otpauth_url: String,
    /// The same URL as a QR code, a `data:image/png;base64,…` URL.
    pub qr_data_url: String,
    /// The secret in base32, for apps that cannot scan.
    pub secret_base32: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment { .. }")
    }
}

/// Ten single-use codes that stand in for the authenticator app; shown once.
#[derive(Clone)]
pub struct RecoveryCodes(pub Vec<String>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} codes)", self.0.len())
    }
}

/// A sign-in whose password was right, waiting for its second factor.
#[derive(Clone)]
pub struct PendingSignIn {
    /// Given back to `complete_sign_in`; shown once and stored only as a hash.
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    /// The second factors the account has: `Totp` (recovery codes go with it) and
    /// `Passkey`.
    pub methods: Vec<Factor>,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("expires_at", &self.expires_at)
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

/// What the person gives as their second factor.
#[derive(Clone)]
pub enum SecondProof {
    /// The six digits from the authenticator app.
    Totp(String),
    /// One of the recovery codes.
    RecoveryCode(String),
    /// The JSON of the browser's `PublicKeyCredential`, signed over the options
    /// `begin_passkey_sign_in` gave.
    Passkey(String),
}

impl std::fmt::Debug for SecondProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "Totp(..)",
            Self::RecoveryCode(_) => "RecoveryCode(..)",
            Self::Passkey(_) => "Passkey(..)",
        })
    }
}

impl AuditedObject for TotpEnrolment {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

impl AuditedObject for RecoveryCodes {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

impl AuditedObject for PendingSignIn {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

/// What sealing the stored TOTP secrets found; see [`Store::seal_plain_secrets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SealReport {
    /// Secrets stored in plain text by an earlier version, sealed now.
    pub sealed: u64,
    /// Secrets sealed with another key than this server's: those accounts' codes are
    /// refused until the server gets that key back or they enrol again.
    pub other_key: u64,
}

const WRONG_CODE: &str = "Fel kod. Wrong code: give the current code from your authenticator app, or an unused recovery code";

impl Store {
    /// Seals the TOTP secrets an earlier version stored in plain text, in one
    /// transaction, and counts those sealed with another key. Run at start-up.
    pub async fn seal_plain_secrets(&self) -> Result<SealReport> {
        let key = self.secret_key()?;
        let tx = self.begin().await?;
        let mut report = SealReport::default();
        for credential in totp_credentials::Entity::find().all(&tx).await? {
            match SecretKey::fingerprint_of(&credential.secret) {
                Some(fingerprint) if fingerprint == key.fingerprint() => {}
                Some(_) => report.other_key += 1,
                None => {
                    let sealed =
                        key.seal(&credential.secret, &totp_context(credential.account_id))?;
                    totp_credentials::Entity::update_many()
                        .col_expr(totp_credentials::Column::Secret, Expr::value(sealed))
                        .filter(totp_credentials::Column::Id.eq(credential.id))
                        .exec(&tx)
                        .await?;
                    report.sealed += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Starts TOTP enrolment for the signed-in account: a fresh secret, its otpauth URL
    /// and QR code. Nothing changes for sign-in until [`Store::confirm_totp_enrolment`].
    pub async fn begin_totp_enrolment(&self, who: &Principal) -> Result<TotpEnrolment> {
        let tx = self.begin().await?;
        let result = async {
            let account = own_account(who)?;
            if confirmed_credential(&tx, account).await?.is_some() {
                return Err(DomainError::conflict(
                    "Du har redan en autentiseringsapp; ta bort den först. You already have an authenticator app: remove it (removeTotp) before enrolling another",
                )
                .into());
            }
            let secret = totp_rs::Secret::generate();
            let totp = totp_for(&secret.to_base32(), &who.username)?;
            let enrolment = TotpEnrolment {
                otpauth_url: totp.to_url().map_err(totp_error)?,
                qr_data_url: format!(
                    "data:image/png;base64,{}",
                    totp.to_qr_base64().map_err(totp_error)?
                ),
                secret_base32: secret.to_base32(),
            };
            totp_credentials::Entity::delete_many()
                .filter(totp_credentials::Column::AccountId.eq(account.0))
                .exec(&tx)
                .await?;
            totp_credentials::ActiveModel {
                id: NotSet,
                account_id: Set(account.0),
                secret: Set(self
                    .secret_key()?
                    .seal(&enrolment.secret_base32, &totp_context(account.0))?),
                created_at: Set(self.now()),
                confirmed_at: Set(None),
                last_step: Set(None),
            }
            .insert(&tx)
            .await?;
            Ok(enrolment)
        }
        .await;
        self.finish(
            tx,
            who,
            audit_of(who, AuditAction::BeginEnrolment, "totp"),
            result,
        )
        .await
    }

    /// Activates the enrolment with a first code from the app and returns ten
    /// single-use recovery codes. The session it is done in counts as opened with the
    /// second factor from then on.
    pub async fn confirm_totp_enrolment(
        &self,
        who: &Principal,
        code: &str,
        current_token: Option<&str>,
    ) -> Result<RecoveryCodes> {
        let tx = self.begin().await?;
        let result = async {
            let account = own_account(who)?;
            let credential = totp_credentials::Entity::find()
                .filter(totp_credentials::Column::AccountId.eq(account.0))
                .filter(totp_credentials::Column::ConfirmedAt.is_null())
                .one(&tx)
                .await?
                .ok_or_else(|| {
                    DomainError::conflict(
                        "Ingen påbörjad registrering. No enrolment in progress: call beginTotpEnrolment first",
                    )
                })?;
            if !accept_code(&tx, self.secret_key()?, &credential, code, self.now()).await? {
                return Err(DomainError::validation("code", WRONG_CODE).into());
            }
            totp_credentials::Entity::update_many()
                .col_expr(
                    totp_credentials::Column::ConfirmedAt,
                    Expr::value(self.now()),
                )
                .filter(totp_credentials::Column::Id.eq(credential.id))
                .exec(&tx)
                .await?;
            let codes = replace_recovery_codes(&tx, account).await?;
            if let Some(token) = current_token {
                sessions::Entity::update_many()
                    .col_expr(
                        sessions::Column::Factors,
                        Expr::value(Factors(vec![Factor::Password, Factor::Totp]).stored()),
                    )
                    .filter(sessions::Column::TokenHash.eq(token_hash(token)))
                    .filter(sessions::Column::AccountId.eq(account.0))
                    .filter(sessions::Column::BreakGlass.eq(false))
                    .exec(&tx)
                    .await?;
            }
            Ok(codes)
        }
        .await;
        self.finish(tx, who, audit_of(who, AuditAction::Enrol, "totp"), result)
            .await
    }

    /// Removes the TOTP credential and recovery codes of an account: one's own with a
    /// current code, or anyone's for an administrator (a lost phone). Audited.
    pub async fn remove_totp(
        &self,
        who: &Principal,
        account: Option<AccountId>,
        code: Option<&str>,
    ) -> Result<()> {
        let tx = self.begin().await?;
        let target = account.or(who.account_id);
        let result = async {
            let target = target.ok_or_else(|| {
                DomainError::validation("accountId", "name the account whose app to remove")
            })?;
            if who.account_id == Some(target) {
                let credential = confirmed_credential(&tx, target)
                    .await?
                    .ok_or_else(|| DomainError::not_found("TOTP credential", target))?;
                let code = code.ok_or_else(|| {
                    DomainError::validation("code", "give a current code to remove your own app")
                })?;
                if !accept_code(&tx, self.secret_key()?, &credential, code, self.now()).await? {
                    return Err(DomainError::validation("code", WRONG_CODE).into());
                }
                let left_after = second_factor_count(&tx, target).await? - 1;
                self.second_factor
                    .check_own_removal(&who.grants, left_after)?;
            } else {
                who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            }
            let removed = totp_credentials::Entity::delete_many()
                .filter(totp_credentials::Column::AccountId.eq(target.0))
                .exec(&tx)
                .await?;
            if removed.rows_affected == 0 {
                return Err(DomainError::not_found("TOTP credential", target).into());
            }
            recovery_codes::Entity::delete_many()
                .filter(recovery_codes::Column::AccountId.eq(target.0))
                .exec(&tx)
                .await?;
            Ok(())
        }
        .await;
        let audit = Audit::new(AuditAction::Remove, "totp");
        let audit = match target {
            Some(target) => audit.on(target),
            None => audit,
        };
        self.finish(tx, who, audit, result).await
    }

    /// Whether the account has an active TOTP credential, and how many unused recovery
    /// codes it has left.
    pub async fn second_factor_status(&self, account: AccountId) -> Result<(bool, u64)> {
        let enrolled = has_totp(&self.db, account.0).await?;
        let left = recovery_codes::Entity::find()
            .filter(recovery_codes::Column::AccountId.eq(account.0))
            .filter(recovery_codes::Column::UsedAt.is_null())
            .count(&self.db)
            .await?;
        Ok((enrolled, left))
    }

    /// Records that a password was right for an account with a second factor and
    /// returns the challenge the second step answers.
    pub(crate) async fn open_challenge(
        &self,
        attempt: &Principal,
        account: &accounts::Model,
        client_address: Option<String>,
        methods: Vec<Factor>,
    ) -> Result<PendingSignIn> {
        let challenge = new_token();
        let now = self.now();
        let expires_at = now + CHALLENGE_LIFETIME;
        let tx = self.begin().await?;
        let result = async {
            sign_in_challenges::Entity::delete_many()
                .filter(sign_in_challenges::Column::ExpiresAt.lte(now))
                .exec(&tx)
                .await?;
            sign_in_challenges::ActiveModel {
                id: NotSet,
                account_id: Set(account.id),
                token_hash: Set(token_hash(&challenge)),
                created_at: Set(now),
                expires_at: Set(expires_at),
                client_address: Set(client_address),
            }
            .insert(&tx)
            .await?;
            Ok(PendingSignIn {
                challenge,
                expires_at,
                methods,
            })
        }
        .await;
        self.finish(
            tx,
            attempt,
            Audit::new(AuditAction::SignInPassword, "account").on(account.id),
            result,
        )
        .await
    }

    /// The second step of a sign-in: the challenge from the password step and a code,
    /// a recovery code or a passkey's assertion. A wrong one counts toward the same
    /// lockout as a wrong password; a code already used in its time step, or an
    /// assertion over a challenge already used, is refused.
    pub async fn complete_sign_in(
        &self,
        challenge: &str,
        proof: SecondProof,
        client_address: Option<String>,
        lifetime: Duration,
    ) -> Result<SignedIn> {
        let now = self.now();
        let pending = sign_in_challenges::Entity::find()
            .filter(sign_in_challenges::Column::TokenHash.eq(token_hash(challenge)))
            .filter(sign_in_challenges::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        let found = pending_account(
            &self.db,
            pending.as_ref().map(|pending| pending.account_id),
            client_address.clone(),
        )
        .await?;
        let (Some(pending), Some((account, attempt))) = (pending, found) else {
            return Err(DomainError::Unauthenticated(
                "Inloggningen har gått ut. The sign-in is unknown or has expired: sign in with your password again".into(),
            )
            .into());
        };
        let audit = match proof {
            SecondProof::Passkey(_) => Audit::new(AuditAction::SignInPasskey, "account"),
            _ => Audit::new(AuditAction::SignIn, "account"),
        };
        self.throttle_check(&attempt, &audit, &account.username)
            .await?;
        // A passkey ceremony is used up by this attempt whatever its outcome, so it is
        // taken before the transaction that may roll back.
        let ceremony = match proof {
            SecondProof::Passkey(_) => {
                crate::passkeys::take_ceremony(&self.db, account.id, Some(&pending.token_hash), now)
                    .await?
            }
            _ => None,
        };
        let factor = {
            let tx = self.begin().await?;
            let proved = self
                .prove(&tx, account.id, &proof, ceremony.as_deref(), now)
                .await;
            match proved {
                Ok(true) => {
                    sign_in_challenges::Entity::delete_by_id(pending.id)
                        .exec(&tx)
                        .await?;
                    tx.commit().await?;
                    match proof {
                        SecondProof::Totp(_) => Factor::Totp,
                        SecondProof::RecoveryCode(_) => Factor::RecoveryCode,
                        SecondProof::Passkey(_) => Factor::Passkey,
                    }
                }
                Ok(false) => {
                    tx.rollback().await?;
                    let message = match proof {
                        SecondProof::Passkey(_) => crate::passkeys::PASSKEY_NOT_ACCEPTED,
                        _ => WRONG_CODE,
                    };
                    return Err(self
                        .sign_in_failed(&attempt, &audit, &account.username, message)
                        .await);
                }
                Err(error) => {
                    tx.rollback().await?;
                    return Err(error);
                }
            }
        };
        self.sign_in_succeeded(&account.username);
        let audit = match factor {
            Factor::RecoveryCode => Audit::new(AuditAction::SignInRecoveryCode, "account"),
            _ => audit,
        };
        self.open_session(
            &attempt,
            account,
            NewSession {
                factors: Factors(vec![Factor::Password, factor]),
                break_glass: false,
                assurance: None,
                client_address,
                lifetime,
            },
            audit,
        )
        .await
    }
}

/// The second factors `account` has, for the challenge of its sign-in: empty when the
/// password alone signs it in.
pub(crate) async fn second_factor_methods(
    db: &impl ConnectionTrait,
    account: i64,
) -> Result<Vec<Factor>> {
    let mut methods = Vec::new();
    if has_totp(db, account).await? {
        methods.push(Factor::Totp);
    }
    if crate::passkeys::has_passkey(db, account).await? {
        methods.push(Factor::Passkey);
    }
    Ok(methods)
}

/// Whether `account` has a confirmed TOTP credential.
async fn has_totp(db: &impl ConnectionTrait, account: i64) -> Result<bool> {
    Ok(totp_credentials::Entity::find()
        .filter(totp_credentials::Column::AccountId.eq(account))
        .filter(totp_credentials::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?
        > 0)
}

/// How many second factors `account` has: its confirmed app and its passkeys.
pub(crate) async fn second_factor_count(
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<usize> {
    let apps = totp_credentials::Entity::find()
        .filter(totp_credentials::Column::AccountId.eq(account.0))
        .filter(totp_credentials::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?;
    let passkeys = passkeys::Entity::find()
        .filter(passkeys::Column::AccountId.eq(account.0))
        .count(db)
        .await?;
    Ok(usize::try_from(apps + passkeys).unwrap_or(usize::MAX))
}

async fn confirmed_credential(
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<Option<totp_credentials::Model>> {
    Ok(totp_credentials::Entity::find()
        .filter(totp_credentials::Column::AccountId.eq(account.0))
        .filter(totp_credentials::Column::ConfirmedAt.is_not_null())
        .one(db)
        .await?)
}

impl Store {
    /// Checks a second factor for `account` and uses it up: a TOTP code's time step, the
    /// recovery code, or the passkey's counter against the `ceremony` taken for it.
    async fn prove(
        &self,
        db: &impl ConnectionTrait,
        account: i64,
        proof: &SecondProof,
        ceremony: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        match proof {
            SecondProof::Totp(code) => match confirmed_credential(db, AccountId(account)).await? {
                Some(credential) => {
                    accept_code(db, self.secret_key()?, &credential, code, now).await
                }
                None => Ok(false),
            },
            SecondProof::Passkey(assertion) => {
                self.accept_assertion(db, account, ceremony, assertion)
                    .await
            }
            SecondProof::RecoveryCode(code) => {
                let used = recovery_codes::Entity::update_many()
                    .col_expr(recovery_codes::Column::UsedAt, Expr::value(now))
                    .filter(recovery_codes::Column::AccountId.eq(account))
                    .filter(recovery_codes::Column::CodeHash.eq(token_hash(&normalise_code(code))))
                    .filter(recovery_codes::Column::UsedAt.is_null())
                    .exec(db)
                    .await?;
                Ok(used.rows_affected == 1)
            }
        }
    }
}

/// Whether `code` is right for `credential` now (one step of clock drift either way)
/// and of a later time step than the last one accepted; if so, that step is used up.
/// The update is guarded by the step, so that two requests with one code cannot both
/// pass.
async fn accept_code(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    credential: &totp_credentials::Model,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let secret = key.open(&credential.secret, &totp_context(credential.account_id))?;
    let totp = totp_for(&secret, "reserv")?;
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    let Some(step) = totp.check(code.trim(), seconds) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let accepted = totp_credentials::Entity::update_many()
        .col_expr(totp_credentials::Column::LastStep, Expr::value(step))
        .filter(totp_credentials::Column::Id.eq(credential.id))
        .filter(
            Condition::any()
                .add(totp_credentials::Column::LastStep.is_null())
                .add(totp_credentials::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(accepted.rows_affected == 1)
}

async fn replace_recovery_codes(
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<RecoveryCodes> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::AccountId.eq(account.0))
        .exec(db)
        .await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| readable_code()).collect();
    for code in &codes {
        recovery_codes::ActiveModel {
            id: NotSet,
            account_id: Set(account.0),
            code_hash: Set(token_hash(&normalise_code(code))),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(RecoveryCodes(codes))
}

/// Letters and digits that cannot be mistaken for one another when read from paper.
const READABLE: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random code of 16 readable characters (80 bits) in groups of four,
/// `ABCD-EFGH-JKLM-NPQR`: too many to guess, so that a SHA-256 of it is enough.
pub(crate) fn readable_code() -> String {
    let mut rng = rand::rng();
    let characters: Vec<char> = (0..16)
        .map(|_| char::from(READABLE[rng.random_range(0..READABLE.len())]))
        .collect();
    characters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed, without spaces and dashes and in capitals, so that `abcd efgh…`
/// matches `ABCD-EFGH-…`.
pub(crate) fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What a TOTP secret is sealed for: its account, so that a sealed secret copied onto
/// another account's row does not open.
fn totp_context(account: i64) -> String {
    format!("totp:{account}")
}

fn totp_for(secret_base32: &str, username: &str) -> Result<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32)
        .map_err(|_| internal("a stored TOTP secret is not base32"))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(username.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(totp_error)
}

fn totp_error(error: totp_rs::TotpError) -> StoreError {
    internal(&format!("TOTP: {error}"))
}

pub(crate) fn internal(message: &str) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(message.to_owned()))
}

pub(crate) fn own_account(who: &Principal) -> Result<AccountId> {
    who.account_id.ok_or_else(|| {
        DomainError::validation(
            "account",
            "the command line operator has no account to enrol",
        )
        .into()
    })
}

/// An event of `action` on the signed-in account's `object_type` (its TOTP app, a
/// passkey), naming the account.
pub(crate) fn audit_of(who: &Principal, action: AuditAction, object_type: &'static str) -> Audit {
    let audit = Audit::new(action, object_type);
    match who.account_id {
        Some(id) => audit.on(id),
        None => audit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_codes_are_long_grouped_and_match_however_typed() {
        let code = readable_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.split('-').count(), 4);
        assert_ne!(code, readable_code());
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_code(&typed), normalise_code(&code));
    }
}
