//! OpenID Connect sign-in, the store's half: the sign-ins sent to the identity
//! provider and not yet come back, and the session for the person the provider's claim
//! names.
//!
//! A started sign-in is kept in the database (not in memory) so that any server
//! instance can take its callback, and it is taken by deleting it, so that a replayed
//! callback finds nothing. Only the SHA-256 of its `state` is stored. This module must
//! never log or audit a claim value or a token: the audit trail names the account, or
//! says what was missing.

use crate::accounts::{NewSession, SignedIn, attempt_by, principal_of, token_hash};
use crate::audit::Audit;
use crate::entities::{accounts, oidc_sign_ins, people};
use crate::{Result, Store};
use chrono::Duration;
use reserv_domain::access::{Principal, Role};
use reserv_domain::audit::AuditAction;
use reserv_domain::audit::AuditOutcome;
use reserv_domain::ids::AccountId;
use reserv_domain::oidc::{AssuranceRule, PersonField, ProviderAssurance};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

/// What the callback needs back from the start of a sign-in. Its `Debug` hides the
/// nonce and the verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingOidcSignIn {
    pub nonce: String,
    pub pkce_verifier: String,
    /// The relative path to go back to once signed in.
    pub return_to: String,
}

impl std::fmt::Debug for PendingOidcSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingOidcSignIn")
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

/// Who the identity provider says signed in. Its `Debug` hides the claim value.
#[derive(Clone)]
pub struct ProviderIdentity {
    /// The person's field the claim is matched to.
    pub field: PersonField,
    /// The claim's value (an e-mail address, an employee number, an HSA-id).
    pub value: String,
    pub assurance: ProviderAssurance,
}

impl std::fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("field", &self.field)
            .field("assurance", &self.assurance)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in the provider vouched for opens no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRefusal {
    /// No person has the claimed value, or more than one does.
    UnknownPerson,
    /// The person has no account.
    NoAccount,
    /// The person's account is disabled.
    AccountDisabled,
    /// One of the account's roles requires an acr the provider did not report.
    AssuranceTooLow { role: Role },
}

/// What a sign-in at the identity provider leads to.
#[derive(Debug, Clone)]
pub enum ProviderSignIn {
    SignedIn(Box<SignedIn>),
    Refused(ProviderRefusal),
}

/// The actor of audit events about a provider sign-in before its account is known.
const PROVIDER_ACTOR: &str = "oidc";

impl Store {
    /// Remembers a sign-in sent to the identity provider until `lifetime` has passed,
    /// and clears those that ran out.
    pub async fn remember_oidc_sign_in(
        &self,
        state: &str,
        pending: &PendingOidcSignIn,
        lifetime: Duration,
    ) -> Result<()> {
        let now = self.now();
        oidc_sign_ins::Entity::delete_many()
            .filter(oidc_sign_ins::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        oidc_sign_ins::ActiveModel {
            id: NotSet,
            state_hash: Set(token_hash(state)),
            nonce: Set(pending.nonce.clone()),
            pkce_verifier: Set(pending.pkce_verifier.clone()),
            return_to: Set(pending.return_to.clone()),
            created_at: Set(now),
            expires_at: Set(now + lifetime),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Takes back the sign-in started with `state`: once, and only before it runs out.
    /// `None` for an unknown, expired or already used state.
    pub async fn take_oidc_sign_in(&self, state: &str) -> Result<Option<PendingOidcSignIn>> {
        let Some(row) = oidc_sign_ins::Entity::find()
            .filter(oidc_sign_ins::Column::StateHash.eq(token_hash(state)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        // Deleting decides who took it: of two callbacks with one state, one deletes
        // the row and the other finds it gone.
        let deleted = oidc_sign_ins::Entity::delete_by_id(row.id)
            .exec(&self.db)
            .await?;
        if deleted.rows_affected != 1 || row.expires_at <= self.now() {
            return Ok(None);
        }
        Ok(Some(PendingOidcSignIn {
            nonce: row.nonce,
            pkce_verifier: row.pkce_verifier,
            return_to: row.return_to,
        }))
    }

    /// Records a sign-in refused (`Denied`: an error from the provider, a replayed
    /// state, a token that did not verify) or failed (`Failed`: the provider could not
    /// be reached) before the provider named anyone; `reason` must not carry a claim
    /// value or a token.
    pub async fn record_oidc_refusal(
        &self,
        client_address: Option<String>,
        outcome: AuditOutcome,
        reason: String,
    ) -> Result<()> {
        self.record_alone(
            &attempt_by(PROVIDER_ACTOR, client_address),
            &Audit::new(AuditAction::SignInOidc, "account"),
            outcome,
            Some(reason),
        )
        .await
    }

    /// Opens a session for the person the provider named, when they have exactly one
    /// enabled account and the provider's assurance is enough for its roles. Refusals
    /// are audited, naming the account where there is one and never the claim value.
    pub async fn sign_in_with_provider(
        &self,
        identity: ProviderIdentity,
        rule: &AssuranceRule,
        client_address: Option<String>,
        lifetime: Duration,
    ) -> Result<ProviderSignIn> {
        let attempt = attempt_by(PROVIDER_ACTOR, client_address.clone());
        let audit = Audit::new(AuditAction::SignInOidc, "account");
        let found = people::Entity::find()
            .filter(match identity.field {
                // People keep their e-mail as typed; providers often lower-case it.
                PersonField::Email => ExprTrait::eq(
                    Expr::expr(Func::lower(Expr::col(people::Column::Email))),
                    identity.value.trim().to_lowercase(),
                ),
                PersonField::ExternalId => people::Column::ExternalId.eq(identity.value.trim()),
            })
            .all(&self.db)
            .await?;
        let [person] = found.as_slice() else {
            let reason = match found.len() {
                0 => format!("refused: no person with this {}", identity.field),
                n => format!("refused: {n} people share this {}", identity.field),
            };
            return self
                .refuse(&attempt, &audit, ProviderRefusal::UnknownPerson, reason)
                .await;
        };
        let accounts = accounts::Entity::find()
            .filter(accounts::Column::PersonId.eq(person.id))
            .all(&self.db)
            .await?;
        let mut enabled = accounts.iter().filter(|account| !account.disabled);
        let account = match (enabled.next(), enabled.next()) {
            (Some(account), None) => account.clone(),
            (Some(_), Some(_)) => {
                let reason = format!("refused: person {} has several enabled accounts", person.id);
                return self
                    .refuse(&attempt, &audit, ProviderRefusal::UnknownPerson, reason)
                    .await;
            }
            (None, _) => {
                let (refusal, reason) = match accounts.first() {
                    Some(disabled) => (
                        ProviderRefusal::AccountDisabled,
                        format!("refused: account {} is disabled", disabled.id),
                    ),
                    None => (
                        ProviderRefusal::NoAccount,
                        format!("refused: person {} has no account", person.id),
                    ),
                };
                return self.refuse(&attempt, &audit, refusal, reason).await;
            }
        };
        let attempt = Principal {
            account_id: Some(AccountId(account.id)),
            username: account.username.clone(),
            ..attempt
        };
        let grants = principal_of(&self.db, account.clone(), None).await?.grants;
        if let Some(role) = rule.role_refused(&grants, &identity.assurance) {
            let reason = format!(
                "refused: the role {role} requires acr {}; the provider reported {}",
                rule.required_acr.join(" or "),
                identity.assurance.acr.as_deref().unwrap_or("none")
            );
            return self
                .refuse(
                    &attempt,
                    &audit.on(account.id),
                    ProviderRefusal::AssuranceTooLow { role },
                    reason,
                )
                .await;
        }
        let detail = format!(
            "acr {}; amr {}",
            identity.assurance.acr.as_deref().unwrap_or("none"),
            identity.assurance.stored_amr().as_deref().unwrap_or("none")
        );
        let signed_in = self
            .open_session(
                &attempt,
                account,
                NewSession {
                    factors: rule.session_factors(&identity.assurance),
                    break_glass: false,
                    assurance: Some(identity.assurance),
                    client_address,
                    lifetime,
                },
                audit.with_detail(detail),
            )
            .await?;
        Ok(ProviderSignIn::SignedIn(Box::new(signed_in)))
    }

    async fn refuse(
        &self,
        attempt: &Principal,
        audit: &Audit,
        refusal: ProviderRefusal,
        reason: String,
    ) -> Result<ProviderSignIn> {
        self.record_alone(attempt, audit, AuditOutcome::Denied, Some(reason))
            .await?;
        Ok(ProviderSignIn::Refused(refusal))
    }
}
