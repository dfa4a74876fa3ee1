//! Break-glass: sealed one-time emergency codes that an administrator issues ahead for
//! named people, printed and kept sealed, for the day ordinary sign-in is unavailable.
//!
//! A code signs its person in once, without password or second factor, into a short
//! session marked as break-glass. Every use is written to the audit trail as a
//! `break_glass_sign_in` event and sent as a crisis message to every administrator and
//! crisis lead (through the outbox, by SMS when SMS is configured). Only the SHA-256 of
//! a code is stored; this module must never log a code.

use crate::accounts::{NewSession, SignedIn, attempt_by, token_hash};
use crate::audit::{Audit, AuditedObject};
use crate::entities::{accounts, emergency_codes, people};
use crate::second_factor::{normalise_code, readable_code};
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Role, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::AccountId;
use reserv_domain::messages::{Audience, NewMessage};
use reserv_domain::second_factor::{Factor, Factors};
use reserv_domain::swedish_time;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

/// One person's line on the sheet.
#[derive(Clone)]
pub struct EmergencyCode {
    pub username: String,
    /// The person's name, when the account is linked to one.
    pub name: Option<String>,
    pub code: String,
}

/// The printable sheet of freshly issued emergency codes; shown once. Its `Debug`
/// hides the codes.
#[derive(Clone)]
pub struct EmergencySheet {
    pub codes: Vec<EmergencyCode>,
    pub issued_at: DateTime<Utc>,
    /// The sheet as a self-contained HTML page, one sealed slip per person.
    pub html: String,
}

impl std::fmt::Debug for EmergencySheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmergencySheet({} codes)", self.codes.len())
    }
}

impl AuditedObject for EmergencySheet {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

const WRONG_EMERGENCY_CODE: &str =
    "Fel användarnamn eller nödkod. Wrong username or emergency code (each code works once)";

impl Store {
    /// Issues one new emergency code per named account (replacing that person's unused
    /// ones) and returns the sheet to print; for administrators. Audited.
    pub async fn issue_emergency_codes(
        &self,
        who: &Principal,
        usernames: &[String],
    ) -> Result<EmergencySheet> {
        let tx = self.begin().await?;
        let now = self.now();
        let result = async {
            who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            if usernames.is_empty() {
                return Err(DomainError::validation(
                    "usernames",
                    "name at least one person to issue an emergency code to",
                )
                .into());
            }
            let mut codes = Vec::with_capacity(usernames.len());
            for (index, username) in usernames.iter().enumerate() {
                let account = accounts::Entity::find()
                    .filter(accounts::Column::Username.eq(username.trim()))
                    .one(&tx)
                    .await?
                    .filter(|account| !account.disabled)
                    .ok_or_else(|| {
                        DomainError::validation(
                            format!("usernames[{index}]"),
                            format!("no enabled account is called '{}'", username.trim()),
                        )
                    })?;
                emergency_codes::Entity::update_many()
                    .col_expr(emergency_codes::Column::RevokedAt, Expr::value(now))
                    .filter(emergency_codes::Column::AccountId.eq(account.id))
                    .filter(emergency_codes::Column::UsedAt.is_null())
                    .filter(emergency_codes::Column::RevokedAt.is_null())
                    .exec(&tx)
                    .await?;
                let code = readable_code();
                emergency_codes::ActiveModel {
                    id: NotSet,
                    account_id: Set(account.id),
                    code_hash: Set(token_hash(&normalise_code(&code))),
                    issued_by: Set(who.username.chars().take(64).collect()),
                    issued_at: Set(now),
                    used_at: Set(None),
                    revoked_at: Set(None),
                }
                .insert(&tx)
                .await?;
                let name = match account.person_id {
                    Some(person) => people::Entity::find_by_id(person)
                        .one(&tx)
                        .await?
                        .map(|person| person.name),
                    None => None,
                };
                codes.push(EmergencyCode {
                    username: account.username,
                    name,
                    code,
                });
            }
            let html = sheet_html(&codes, now);
            Ok(EmergencySheet {
                codes,
                issued_at: now,
                html,
            })
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Issue, "emergency_code"),
            result,
        )
        .await
    }

    /// Revokes every unused emergency code at once (a sheet lost or seen); returns how
    /// many there were. For administrators; audited.
    pub async fn revoke_emergency_codes(&self, who: &Principal) -> Result<u64> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageAccounts, Scope::Organisation)?;
            let revoked = emergency_codes::Entity::update_many()
                .col_expr(emergency_codes::Column::RevokedAt, Expr::value(self.now()))
                .filter(emergency_codes::Column::UsedAt.is_null())
                .filter(emergency_codes::Column::RevokedAt.is_null())
                .exec(&tx)
                .await?;
            Ok(revoked.rows_affected)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::RevokeAll, "emergency_code"),
            result,
        )
        .await
    }

    /// Signs in with a username and one of its emergency codes, into a short
    /// break-glass session; the code is used up. A wrong code counts toward the
    /// sign-in lockout. Administrators and crisis leads are sent a message.
    pub async fn sign_in_with_emergency_code(
        &self,
        username: &str,
        code: &str,
        client_address: Option<String>,
    ) -> Result<SignedIn> {
        let username = username.trim();
        let mut attempt = attempt_by(username, client_address.clone());
        let audit = Audit::new(AuditAction::BreakGlassSignIn, "account");
        self.throttle_check(&attempt, &audit, username).await?;
        let account = accounts::Entity::find()
            .filter(accounts::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .filter(|account| !account.disabled);
        let used = match &account {
            Some(account) => {
                attempt.account_id = Some(AccountId(account.id));
                emergency_codes::Entity::update_many()
                    .col_expr(emergency_codes::Column::UsedAt, Expr::value(self.now()))
                    .filter(emergency_codes::Column::AccountId.eq(account.id))
                    .filter(emergency_codes::Column::CodeHash.eq(token_hash(&normalise_code(code))))
                    .filter(emergency_codes::Column::UsedAt.is_null())
                    .filter(emergency_codes::Column::RevokedAt.is_null())
                    .exec(&self.db)
                    .await?
                    .rows_affected
                    == 1
            }
            None => false,
        };
        let Some(account) = account.filter(|_| used) else {
            return Err(self
                .sign_in_failed(&attempt, &audit, username, WRONG_EMERGENCY_CODE)
                .await);
        };
        self.sign_in_succeeded(username);
        let signed_in = self
            .open_session(
                &attempt,
                account,
                NewSession {
                    factors: Factors(vec![Factor::EmergencyCode]),
                    break_glass: true,
                    client_address,
                    lifetime: self.break_glass_lifetime,
                },
                audit,
            )
            .await?;
        self.alert_break_glass(&signed_in).await;
        Ok(signed_in)
    }

    /// Tells every administrator and crisis lead that someone broke the glass. The
    /// sign-in stands even if the message cannot be queued: the audit event is already
    /// committed, and the failure is logged.
    async fn alert_break_glass(&self, signed_in: &SignedIn) {
        let at = swedish_time::local(self.now()).format("%Y-%m-%d %H:%M");
        let username = &signed_in.principal.username;
        let message = NewMessage {
            incident_id: None,
            audience: Audience {
                roles: vec![Role::Admin, Role::CrisisLead],
                ..Audience::default()
            },
            body_sv: format!(
                "NÖDINLOGGNING i Reserv: {username} loggade in med en nödkod {at}. Kontrollera att det är väntat; granskningsloggen visar händelsen."
            ),
            body_en: Some(format!(
                "BREAK-GLASS sign-in to Reserv: {username} signed in with an emergency code at {at} (Swedish time). Check that it was expected; the audit trail shows the event."
            )),
            classification: None,
            escalate_after_minutes: None,
        };
        let sender = Principal::operator("break-glass alarm");
        if let Err(error) = self.send_message(&sender, message).await {
            tracing::error!(%error, "could not queue the break-glass alert to administrators and crisis leads");
        }
    }
}

/// The printable sheet: instructions in Swedish first, then English, and one slip per
/// person to cut out and seal in an envelope.
fn sheet_html(codes: &[EmergencyCode], issued_at: DateTime<Utc>) -> String {
    let issued = swedish_time::local(issued_at).format("%Y-%m-%d %H:%M");
    let mut slips = String::new();
    for entry in codes {
        let name = entry.name.as_deref().unwrap_or(&entry.username);
        slips.push_str(&format!(
            "<section class=\"slip\"><h2>{}</h2><p>Användarnamn / Username: <strong>{}</strong></p><p class=\"code\">{}</p><p>Utfärdad / Issued {issued}. Förvaras förseglat. Keep sealed.</p></section>\n",
            escape(name),
            escape(&entry.username),
            escape(&entry.code),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Nödkoder för Reserv</title>\n<style>body{{font-family:sans-serif;margin:2em}}.slip{{border:2px dashed #000;padding:1em;margin:1em 0;page-break-inside:avoid}}.code{{font-family:monospace;font-size:1.6em;letter-spacing:.1em}}</style></head><body>\n<h1>Nödkoder för Reserv (break-glass)</h1>\n<p lang=\"sv\">Använd bara när vanlig inloggning inte fungerar. Logga in med ditt användarnamn och koden under \"Nödinloggning\". Koden fungerar en gång. Sessionen är kort, och alla administratörer och krisledare får veta att du loggat in. Klipp ut din lapp och förvara den förseglad.</p>\n<p lang=\"en\">Use only when ordinary sign-in does not work. Sign in with your username and the code under \"Emergency sign-in\". The code works once. The session is short, and every administrator and crisis lead is told that you signed in. Cut out your slip and keep it sealed.</p>\n{slips}</body></html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
