//! WebAuthn passkeys as a second factor: enrolment for the signed-in account, the list
//! and removal, and the passkey step of a sign-in.
//!
//! webauthn-rs checks the cryptography; this module keeps what it needs between two
//! requests. A ceremony's state (which holds the challenge the authenticator signs) is
//! kept in the database, not in memory, so that any server instance can finish what
//! another began; it expires, and it is taken out of the database before it is checked,
//! so that it works once whatever the outcome. The stored passkey's signature counter is
//! updated at every sign-in: an authenticator presenting a counter that did not grow is
//! a clone and is refused.

use crate::accounts::token_hash;
use crate::audit::{Audit, AuditedObject};
use crate::entities::{passkey_ceremonies, passkeys, sessions, sign_in_challenges};
use crate::second_factor::{audit_of, internal, own_account, second_factor_count};
use crate::{Result, Store, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::AccountId;
use reserv_domain::second_factor::{Factor, Factors};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a browser has to answer a passkey prompt: webauthn-rs's own timeout.
const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// The longest name a passkey may be given.
const NAME_MAX: usize = 100;

/// Who the passkeys are for: the relying party the browser binds them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySettings {
    /// The domain passkeys are bound to, such as `reserv.kommun.se`; it cannot change
    /// without every passkey becoming useless.
    pub rp_id: String,
    /// The URL people open, such as `https://reserv.kommun.se`.
    pub origin: String,
    /// The name browsers show in their prompt.
    pub rp_name: String,
}

impl PasskeySettings {
    /// The host of an origin URL, the default relying party id.
    pub fn host_of(origin: &str) -> Option<String> {
        Url::parse(origin)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
    }

    /// The WebAuthn relying party, or what is wrong with the settings. On `localhost`
    /// any port is accepted: it is the developer's own machine, whose port changes.
    pub fn relying_party(&self) -> std::result::Result<Webauthn, String> {
        let origin = Url::parse(&self.origin)
            .map_err(|error| format!("'{}' is not a URL: {error}", self.origin))?;
        if origin.scheme() != "https" && origin.host_str() != Some("localhost") {
            return Err(format!(
                "'{}' must be https:// (browsers allow passkeys over http only on localhost)",
                self.origin
            ));
        }
        let local = origin.host_str() == Some("localhost");
        WebauthnBuilder::new(&self.rp_id, &origin)
            .map_err(|_| {
                format!(
                    "rp_id '{}' must be the domain of the origin '{}' or a domain above it",
                    self.rp_id, self.origin
                )
            })?
            .rp_name(&self.rp_name)
            .allow_any_port(local)
            .build()
            .map_err(|error| format!("cannot set up WebAuthn: {error}"))
    }
}

/// A passkey as its owner sees it in the list.
#[derive(Debug, Clone)]
pub struct PasskeySummary {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<passkeys::Model> for PasskeySummary {
    fn from(row: passkeys::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

impl AuditedObject for PasskeySummary {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// The options a browser gives `navigator.credentials.create` or `.get`, as JSON (the
/// binary fields in base64url).
#[derive(Debug, Clone)]
pub struct PasskeyOptions(pub String);

impl AuditedObject for PasskeyOptions {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

pub(crate) const PASSKEY_NOT_ACCEPTED: &str = "Nyckeln godtogs inte. The passkey was not accepted: ask for new options with beginPasskeySignIn and try again, or use a code";

impl Store {
    /// The same store offering passkeys to the relying party `webauthn`. Call it right
    /// after [`Store::open`]: clones made before offer none.
    pub fn with_passkeys(self, webauthn: Webauthn) -> Self {
        Self {
            webauthn: Some(std::sync::Arc::new(webauthn)),
            ..self
        }
    }

    fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn.as_deref().ok_or_else(|| {
            internal("this server has no WebAuthn settings; start it through `reserv serve`")
        })
    }

    /// Starts adding a passkey to the signed-in account: the options for the browser's
    /// `navigator.credentials.create`. Passkeys the account has are excluded, so that
    /// one authenticator is not registered twice.
    pub async fn begin_passkey_enrolment(&self, who: &Principal) -> Result<PasskeyOptions> {
        let tx = self.begin().await?;
        let result = async {
            let account = own_account(who)?;
            let excluded = account_passkeys(&tx, account.0)
                .await?
                .iter()
                .map(|passkey| passkey.cred_id().clone())
                .collect();
            let (options, state) = self
                .webauthn()?
                .start_passkey_registration(
                    user_handle(account),
                    &who.username,
                    &who.username,
                    Some(excluded),
                )
                .map_err(|error| internal(&format!("WebAuthn registration: {error}")))?;
            let now = self.now();
            passkey_ceremonies::Entity::delete_many()
                .filter(
                    Condition::any()
                        .add(passkey_ceremonies::Column::ExpiresAt.lte(now))
                        .add(
                            Condition::all()
                                .add(passkey_ceremonies::Column::AccountId.eq(account.0))
                                .add(passkey_ceremonies::Column::ChallengeHash.is_null()),
                        ),
                )
                .exec(&tx)
                .await?;
            store_ceremony(&tx, account.0, None, to_json(&state)?, now).await?;
            Ok(PasskeyOptions(to_json(&options)?))
        }
        .await;
        self.finish(
            tx,
            who,
            audit_of(who, AuditAction::BeginEnrolment, "passkey"),
            result,
        )
        .await
    }

    /// Stores the passkey the browser created for the enrolment begun last, under
    /// `name`. The session it is done in counts as opened with a passkey from then on,
    /// as after confirming an authenticator app.
    pub async fn finish_passkey_enrolment(
        &self,
        who: &Principal,
        name: &str,
        credential: &str,
        current_token: Option<&str>,
    ) -> Result<PasskeySummary> {
        let now = self.now();
        let name = valid_name(name);
        // Taken before the change's transaction, so that it is used up even when the
        // response is refused; a mistyped name leaves it for the next try.
        let state = match (&name, who.account_id) {
            (Ok(_), Some(account)) => take_ceremony(&self.db, account.0, None, now).await?,
            _ => None,
        };
        let tx = self.begin().await?;
        let result = async {
            let account = own_account(who)?;
            let name = name?;
            let state = state.ok_or_else(|| {
                DomainError::conflict(
                    "Ingen påbörjad registrering. No passkey enrolment in progress, or it expired: call beginPasskeyEnrolment first",
                )
            })?;
            let state: PasskeyRegistration = from_json(&state)?;
            let response: RegisterPublicKeyCredential =
                serde_json::from_str(credential).map_err(|error| {
                    DomainError::validation(
                        "credential",
                        format!("not the JSON of a WebAuthn registration response: {error}"),
                    )
                })?;
            let passkey = self
                .webauthn()?
                .finish_passkey_registration(&response, &state)
                .map_err(|error| {
                    DomainError::validation(
                        "credential",
                        format!(
                            "Nyckeln kunde inte registreras. The passkey could not be registered: {error}"
                        ),
                    )
                })?;
            let row = passkeys::ActiveModel {
                id: NotSet,
                account_id: Set(account.0),
                name: Set(name),
                credential_id: Set(credential_key(passkey.cred_id())),
                credential: Set(to_json(&passkey)?),
                created_at: Set(now),
                last_used_at: Set(None),
            }
            .insert(&tx)
            .await
            .map_err(|error| {
                StoreError::from(error)
                    .on_duplicate(|| "credential: this passkey is already registered".into())
            })?;
            if let Some(token) = current_token {
                sessions::Entity::update_many()
                    .col_expr(
                        sessions::Column::Factors,
                        Expr::value(Factors(vec![Factor::Password, Factor::Passkey]).stored()),
                    )
                    .filter(sessions::Column::TokenHash.eq(token_hash(token)))
                    .filter(sessions::Column::AccountId.eq(account.0))
                    .filter(sessions::Column::BreakGlass.eq(false))
                    .exec(&tx)
                    .await?;
            }
            Ok(PasskeySummary::from(row))
        }
        .await;
        self.finish(
            tx,
            who,
            audit_of(who, AuditAction::Enrol, "passkey"),
            result,
        )
        .await
    }

    /// The passkeys of an account, oldest first.
    pub async fn passkeys(&self, account: AccountId) -> Result<Vec<PasskeySummary>> {
        Ok(passkeys::Entity::find()
            .filter(passkeys::Column::AccountId.eq(account.0))
            .order_by_asc(passkeys::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(PasskeySummary::from)
            .collect())
    }

    /// Removes a passkey: one's own, or anyone's for an administrator (a lost phone).
    /// Like removing an authenticator app, removing the last second factor is allowed:
    /// an account whose role requires one must enrol another at its next sign-in.
    pub async fn remove_passkey(&self, who: &Principal, id: i64) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = passkeys::Entity::find_by_id(id).one(&tx).await?;
            let own = row
                .as_ref()
                .is_some_and(|row| Some(AccountId(row.account_id)) == who.account_id);
            if !own {
                who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            }
            let row = row.ok_or_else(|| DomainError::not_found("passkey", id))?;
            if own {
                let left_after = second_factor_count(&tx, AccountId(row.account_id)).await? - 1;
                self.second_factor
                    .check_own_removal(&who.grants, left_after)?;
            }
            passkeys::Entity::delete_by_id(row.id).exec(&tx).await?;
            Ok(())
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Remove, "passkey").on(id),
            result,
        )
        .await
    }

    /// The options for `navigator.credentials.get` that answer the sign-in `challenge`
    /// with one of the account's passkeys. Asking again replaces the earlier options.
    pub async fn begin_passkey_sign_in(&self, challenge: &str) -> Result<PasskeyOptions> {
        let now = self.now();
        let challenge_hash = token_hash(challenge);
        let pending = sign_in_challenges::Entity::find()
            .filter(sign_in_challenges::Column::TokenHash.eq(&challenge_hash))
            .filter(sign_in_challenges::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                DomainError::Unauthenticated(
                    "Inloggningen har gått ut. The sign-in is unknown or has expired: sign in with your password again".into(),
                )
            })?;
        let tx = self.begin().await?;
        let passkeys = account_passkeys(&tx, pending.account_id).await?;
        if passkeys.is_empty() {
            tx.rollback().await?;
            return Err(DomainError::validation(
                "challenge",
                "this account has no passkey: complete the sign-in with a code",
            )
            .into());
        }
        let (options, state) = self
            .webauthn()?
            .start_passkey_authentication(&passkeys)
            .map_err(|error| internal(&format!("WebAuthn authentication: {error}")))?;
        passkey_ceremonies::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(passkey_ceremonies::Column::ExpiresAt.lte(now))
                    .add(passkey_ceremonies::Column::ChallengeHash.eq(&challenge_hash)),
            )
            .exec(&tx)
            .await?;
        store_ceremony(
            &tx,
            pending.account_id,
            Some(challenge_hash),
            to_json(&state)?,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(PasskeyOptions(to_json(&options)?))
    }

    /// Whether `assertion` (the JSON of the browser's `PublicKeyCredential`) answers
    /// the sign-in ceremony `state` with a passkey of `account`; if so, its counter and
    /// last use are stored. A malformed or wrong assertion is `false`, like a wrong code.
    pub(crate) async fn accept_assertion(
        &self,
        db: &impl ConnectionTrait,
        account: i64,
        state: Option<&str>,
        assertion: &str,
    ) -> Result<bool> {
        let Some(state) = state else {
            return Ok(false);
        };
        let state: PasskeyAuthentication = from_json(state)?;
        let Ok(assertion) = serde_json::from_str::<PublicKeyCredential>(assertion) else {
            return Ok(false);
        };
        let verified = match self
            .webauthn()?
            .finish_passkey_authentication(&assertion, &state)
        {
            Ok(verified) => verified,
            Err(error) => {
                tracing::info!(%error, "a passkey assertion was refused");
                return Ok(false);
            }
        };
        let row = passkeys::Entity::find()
            .filter(passkeys::Column::AccountId.eq(account))
            .filter(passkeys::Column::CredentialId.eq(credential_key(verified.cred_id())))
            .one(db)
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        // The ceremony's state holds the counter as it was when the ceremony began; a
        // sign-in since then may have raised it. An authenticator that counts must
        // count past the stored value, or it is a copy of the key (WebAuthn § 6.1.1).
        let stored = stored_counter(&row.credential)?;
        if (verified.counter() > 0 || stored > 0) && verified.counter() <= stored {
            tracing::warn!(
                passkey = row.id,
                "a passkey presented a signature counter that did not grow: it may be cloned"
            );
            return Ok(false);
        }
        let mut passkey: Passkey = from_json(&row.credential)?;
        passkey.update_credential(&verified);
        // Guarded by the stored value, so that two sign-ins racing with one counter
        // value cannot both pass.
        let updated = passkeys::Entity::update_many()
            .col_expr(
                passkeys::Column::Credential,
                Expr::value(to_json(&passkey)?),
            )
            .col_expr(passkeys::Column::LastUsedAt, Expr::value(self.now()))
            .filter(passkeys::Column::Id.eq(row.id))
            .filter(passkeys::Column::Credential.eq(row.credential))
            .exec(db)
            .await?;
        Ok(updated.rows_affected == 1)
    }
}

/// Whether `account` has a passkey.
pub(crate) async fn has_passkey(db: &impl ConnectionTrait, account: i64) -> Result<bool> {
    Ok(passkeys::Entity::find()
        .filter(passkeys::Column::AccountId.eq(account))
        .count(db)
        .await?
        > 0)
}

/// Takes the unexpired ceremony of `account` (an enrolment) or of the sign-in
/// challenge `challenge_hash` out of the database; only one request can take it.
pub(crate) async fn take_ceremony(
    db: &DatabaseConnection,
    account: i64,
    challenge_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let which = match challenge_hash {
        Some(hash) => passkey_ceremonies::Column::ChallengeHash.eq(hash),
        None => passkey_ceremonies::Column::ChallengeHash.is_null(),
    };
    let Some(ceremony) = passkey_ceremonies::Entity::find()
        .filter(passkey_ceremonies::Column::AccountId.eq(account))
        .filter(which)
        .filter(passkey_ceremonies::Column::ExpiresAt.gt(now))
        .order_by_desc(passkey_ceremonies::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let taken = passkey_ceremonies::Entity::delete_by_id(ceremony.id)
        .exec(db)
        .await?;
    Ok((taken.rows_affected == 1).then_some(ceremony.state))
}

async fn store_ceremony(
    db: &impl ConnectionTrait,
    account: i64,
    challenge_hash: Option<String>,
    state: String,
    now: DateTime<Utc>,
) -> Result<()> {
    passkey_ceremonies::ActiveModel {
        id: NotSet,
        account_id: Set(account),
        challenge_hash: Set(challenge_hash),
        state: Set(state),
        created_at: Set(now),
        expires_at: Set(now + CEREMONY_LIFETIME),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn account_passkeys(db: &impl ConnectionTrait, account: i64) -> Result<Vec<Passkey>> {
    passkeys::Entity::find()
        .filter(passkeys::Column::AccountId.eq(account))
        .all(db)
        .await?
        .iter()
        .map(|row| from_json(&row.credential))
        .collect()
}

/// The WebAuthn user handle of an account: stable, so that an authenticator keeps one
/// entry per account, and free of personal data.
fn user_handle(account: AccountId) -> Uuid {
    Uuid::from_u128(u128::from(account.0.unsigned_abs()))
}

/// The signature counter of a stored passkey. webauthn-rs keeps it private to the
/// `Passkey`, but its serialised form (which is ours to keep) carries it.
fn stored_counter(credential: &str) -> Result<u32> {
    let value: serde_json::Value = from_json(credential)?;
    value["cred"]["counter"]
        .as_u64()
        .and_then(|counter| u32::try_from(counter).ok())
        .ok_or_else(|| internal("a stored passkey has no signature counter"))
}

/// The stored, searchable form of a credential id.
fn credential_key(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn valid_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return Err(DomainError::validation(
            "name",
            format!("give the passkey a name of 1 to {NAME_MAX} characters, such as 'Min telefon'"),
        )
        .into());
    }
    Ok(name.to_owned())
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|error| internal(&format!("WebAuthn state: {error}")))
}

fn from_json<T: serde::de::DeserializeOwned>(stored: &str) -> Result<T> {
    serde_json::from_str(stored)
        .map_err(|error| internal(&format!("stored WebAuthn state: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rp_id: &str, origin: &str) -> PasskeySettings {
        PasskeySettings {
            rp_id: rp_id.into(),
            origin: origin.into(),
            rp_name: "Reserv".into(),
        }
    }

    #[test]
    fn the_relying_party_must_match_an_https_origin_or_localhost() {
        assert!(
            settings("reserv.kommun.se", "https://reserv.kommun.se")
                .relying_party()
                .is_ok()
        );
        assert!(
            settings("kommun.se", "https://reserv.kommun.se")
                .relying_party()
                .is_ok()
        );
        assert!(
            settings("localhost", "http://localhost:8080")
                .relying_party()
                .is_ok()
        );
        let http = settings("reserv.kommun.se", "http://reserv.kommun.se").relying_party();
        assert!(http.is_err_and(|error| error.contains("https://")));
        let other = settings("annan.se", "https://reserv.kommun.se").relying_party();
        assert!(other.is_err_and(|error| error.contains("rp_id")));
        assert!(settings("localhost", "not a url").relying_party().is_err());
    }

    #[test]
    fn passkey_names_are_trimmed_and_bounded() {
        assert!(valid_name("  Min telefon ").is_ok_and(|name| name == "Min telefon"));
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"x".repeat(NAME_MAX + 1)).is_err());
    }
}
