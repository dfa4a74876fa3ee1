//! Break-glass: sealed one-time emergency codes that an administrator issues ahead for
//! named people, printed and kept sealed, for the day ordinary sign-in is unavailable.
//!
//! A code signs its person in once, without password or second factor, into a short
//! session marked as break-glass; when SMS works and the person has a registered phone,
//! only after she also types in a one-time code texted to it. Every use is written to the audit trail as a
//! `break_glass_sign_in` event and sent as a crisis message to every administrator and
//! crisis lead (through the outbox, by SMS when SMS is configured). Only the SHA-256 of
//! a code is stored; this module must never log a code.

use crate::accounts::{NewSession, SignedIn, attempt_by, new_token, pending_account, token_hash};
use crate::audit::{Audit, AuditedObject};
use crate::entities::{accounts, emergency_challenges, emergency_codes, messages, people};
use crate::messages::{QueuedCopy, queued_copy};
use crate::second_factor::{normalise_code, readable_code};
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use rand::Rng;
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Role, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::AccountId;
use reserv_domain::messages::{Audience, Channel, NewMessage};
use reserv_domain::second_factor::{Factor, Factors};
use reserv_domain::sms::SmsChannel;
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

const WRONG_SMS_CODE: &str = "Fel sms-kod. Wrong SMS code: type the six digits texted to your phone, or start again with your emergency code";

/// How long the texted code works.
const SMS_CODE_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// Wrong SMS codes before the challenge is gone and the person starts again.
pub const SMS_CODE_ATTEMPTS: i32 = 5;

/// Who the record of a texted sign-in code names as its sender.
const SMS_CODE_SENDER: &str = "nödinloggning";

/// The answer to an emergency code: the session, or (when SMS works) the step that
/// waits for the code texted to the person's phone.
#[derive(Debug)]
pub enum EmergencySignIn {
    SignedIn(SignedIn),
    SmsCodeSent(PendingEmergency),
}

/// A break-glass sign-in waiting for its SMS code. Its `Debug` hides the challenge.
pub struct PendingEmergency {
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    /// The last two digits of the phone the code went to, so the person knows which.
    pub phone_ending: String,
}

impl std::fmt::Debug for PendingEmergency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingEmergency(until {})", self.expires_at)
    }
}

impl AuditedObject for PendingEmergency {
    /// The event names the account (`Audit::on`); the challenge is never recorded.
    fn audit_id(&self) -> Option<String> {
        None
    }
}

/// Six random digits.
fn sms_code() -> String {
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

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

    /// Signs in with a username and one of its emergency codes. When SMS works and the
    /// person has a registered phone, a one-time code is texted to it and the answer is
    /// a challenge for [`Store::complete_emergency_sign_in`]; the emergency code is used
    /// up only there, so a text that never arrives does not cost the sealed code.
    /// Otherwise the code is used up now and the short break-glass session opens. A
    /// wrong code counts toward the sign-in lockout. Administrators and crisis leads are
    /// sent a message when the session opens.
    pub async fn sign_in_with_emergency_code(
        &self,
        username: &str,
        code: &str,
        client_address: Option<String>,
    ) -> Result<EmergencySignIn> {
        let username = username.trim();
        let mut attempt = attempt_by(username, client_address.clone());
        let audit = Audit::new(AuditAction::BreakGlassSignIn, "account");
        self.throttle_check(&attempt, &audit, username).await?;
        let account = accounts::Entity::find()
            .filter(accounts::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .filter(|account| !account.disabled);
        let unused = match &account {
            Some(account) => {
                attempt.account_id = Some(AccountId(account.id));
                emergency_codes::Entity::find()
                    .filter(emergency_codes::Column::AccountId.eq(account.id))
                    .filter(emergency_codes::Column::CodeHash.eq(token_hash(&normalise_code(code))))
                    .filter(emergency_codes::Column::UsedAt.is_null())
                    .filter(emergency_codes::Column::RevokedAt.is_null())
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let (Some(account), Some(unused)) = (account, unused) else {
            return Err(self
                .sign_in_failed(&attempt, &audit, username, WRONG_EMERGENCY_CODE)
                .await);
        };
        if let Some(phone) = self.phone_for_sms_code(&account).await? {
            let pending = self
                .text_sign_in_code(&attempt, &account, unused.id, &phone, client_address)
                .await?;
            return Ok(EmergencySignIn::SmsCodeSent(pending));
        }
        self.break_glass_session(
            &attempt,
            account,
            unused.id,
            Factors(vec![Factor::EmergencyCode]),
            client_address,
        )
        .await
        .map(EmergencySignIn::SignedIn)
    }

    /// The second step of a break-glass sign-in: the challenge and the code texted to
    /// the person's phone. Uses up the emergency code and opens the break-glass
    /// session. A wrong code counts toward the sign-in lockout, and after
    /// [`SMS_CODE_ATTEMPTS`] wrong ones the challenge is gone.
    pub async fn complete_emergency_sign_in(
        &self,
        challenge: &str,
        sms_code: &str,
        client_address: Option<String>,
    ) -> Result<SignedIn> {
        let now = self.now();
        let pending = emergency_challenges::Entity::find()
            .filter(emergency_challenges::Column::TokenHash.eq(token_hash(challenge)))
            .filter(emergency_challenges::Column::ExpiresAt.gt(now))
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
                "Nödinloggningen har gått ut. The emergency sign-in is unknown or has expired: start again with your emergency code".into(),
            )
            .into());
        };
        let audit = Audit::new(AuditAction::BreakGlassSignIn, "account");
        self.throttle_check(&attempt, &audit, &account.username)
            .await?;
        if token_hash(&normalise_code(sms_code)) != pending.sms_code_hash {
            let wrong_attempts = pending.wrong_attempts + 1;
            if wrong_attempts >= SMS_CODE_ATTEMPTS {
                emergency_challenges::Entity::delete_by_id(pending.id)
                    .exec(&self.db)
                    .await?;
            } else {
                emergency_challenges::Entity::update_many()
                    .col_expr(
                        emergency_challenges::Column::WrongAttempts,
                        Expr::value(wrong_attempts),
                    )
                    .filter(emergency_challenges::Column::Id.eq(pending.id))
                    .exec(&self.db)
                    .await?;
            }
            return Err(self
                .sign_in_failed(&attempt, &audit, &account.username, WRONG_SMS_CODE)
                .await);
        }
        emergency_challenges::Entity::delete_by_id(pending.id)
            .exec(&self.db)
            .await?;
        self.break_glass_session(
            &attempt,
            account,
            pending.code_id,
            Factors(vec![Factor::EmergencyCode, Factor::SmsCode]),
            client_address,
        )
        .await
    }

    /// Uses up the emergency code `code_id` and opens the short break-glass session;
    /// refused when the code was used or revoked in the meantime.
    async fn break_glass_session(
        &self,
        attempt: &Principal,
        account: accounts::Model,
        code_id: i64,
        factors: Factors,
        client_address: Option<String>,
    ) -> Result<SignedIn> {
        let audit = Audit::new(AuditAction::BreakGlassSignIn, "account");
        let used = emergency_codes::Entity::update_many()
            .col_expr(emergency_codes::Column::UsedAt, Expr::value(self.now()))
            .filter(emergency_codes::Column::Id.eq(code_id))
            .filter(emergency_codes::Column::UsedAt.is_null())
            .filter(emergency_codes::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?
            .rows_affected
            == 1;
        if !used {
            return Err(self
                .sign_in_failed(attempt, &audit, &account.username, WRONG_EMERGENCY_CODE)
                .await);
        }
        self.sign_in_succeeded(&account.username);
        let signed_in = self
            .open_session(
                attempt,
                account,
                NewSession {
                    factors,
                    break_glass: true,
                    assurance: None,
                    client_address,
                    lifetime: self.break_glass_lifetime,
                },
                audit,
            )
            .await?;
        self.alert_break_glass(&signed_in).await;
        Ok(signed_in)
    }

    /// The registered phone a sign-in code can be texted to: only when SMS is on and the
    /// account belongs to a person with a phone.
    async fn phone_for_sms_code(&self, account: &accounts::Model) -> Result<Option<String>> {
        if matches!(self.sms_channel(), SmsChannel::Off) {
            return Ok(None);
        }
        let Some(person) = account.person_id else {
            return Ok(None);
        };
        Ok(people::Entity::find_by_id(person)
            .one(&self.db)
            .await?
            .and_then(|person| person.phone))
    }

    /// Opens the SMS step: stores the challenge and the code's hash, and queues the code
    /// to `phone` through the outbox as a message that says a code was sent, never the
    /// code itself (the code is only in the outbox copy that carries it). One audited
    /// transaction.
    async fn text_sign_in_code(
        &self,
        attempt: &Principal,
        account: &accounts::Model,
        code_id: i64,
        phone: &str,
        client_address: Option<String>,
    ) -> Result<PendingEmergency> {
        let challenge = new_token();
        let sms_code = sms_code();
        let now = self.now();
        let expires_at = now + SMS_CODE_LIFETIME;
        let tx = self.begin().await?;
        let result = async {
            emergency_challenges::Entity::delete_many()
                .filter(emergency_challenges::Column::ExpiresAt.lte(now))
                .exec(&tx)
                .await?;
            emergency_challenges::ActiveModel {
                id: NotSet,
                account_id: Set(account.id),
                code_id: Set(code_id),
                token_hash: Set(token_hash(&challenge)),
                sms_code_hash: Set(token_hash(&sms_code)),
                wrong_attempts: Set(0),
                created_at: Set(now),
                expires_at: Set(expires_at),
                client_address: Set(client_address),
            }
            .insert(&tx)
            .await?;
            let message = messages::ActiveModel {
                id: NotSet,
                incident_id: Set(None),
                body_sv: Set(format!(
                    "Engångskod för nödinloggning skickad till {} (koden visas inte här).",
                    account.username
                )),
                body_en: Set(Some(format!(
                    "One-time code for an emergency sign-in sent to {} (the code is not shown here).",
                    account.username
                ))),
                confidentiality: Set(1),
                integrity: Set(2),
                availability: Set(3),
                traceability: Set(None),
                exercise: Set(false),
                sent_by: Set(SMS_CODE_SENDER.to_owned()),
                sent_by_account_id: Set(None),
                created_at: Set(now),
                escalate_after_minutes: Set(None),
                crisis_leads_due_at: Set(None),
            }
            .insert(&tx)
            .await?;
            queued_copy(QueuedCopy {
                message_id: message.id,
                person_id: account.person_id.unwrap_or_default(),
                channel: Channel::Sms,
                destination: phone.to_owned(),
                body: format!(
                    "Reserv: din kod för nödinloggning är {sms_code}. Den gäller i {} minuter. Ge den aldrig till någon annan. / Your emergency sign-in code.",
                    SMS_CODE_LIFETIME.num_minutes()
                ),
                idempotency_key: format!("m{}-p{}-{}", message.id, account.person_id.unwrap_or_default(), Channel::Sms),
                now,
                escalation_about: None,
            })
            .insert(&tx)
            .await?;
            Ok(PendingEmergency {
                challenge,
                expires_at,
                phone_ending: phone.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect(),
            })
        }
        .await;
        self.finish(
            tx,
            attempt,
            Audit::new(AuditAction::BreakGlassSmsCode, "account").on(account.id),
            result,
        )
        .await
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
