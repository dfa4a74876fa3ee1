//! Break-glass over GraphQL: administrators issue and revoke sealed emergency codes;
//! anyone signs in with a username and one code when ordinary sign-in is unavailable.

use crate::accounts::{LoginResult, session_answer};
use crate::context::{facts, principal, store};
use crate::error::ApiResult;
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_store::EmergencySignIn;

/// Freshly issued emergency codes, shown once: print the sheet, cut out the slips and
/// seal them.
#[derive(SimpleObject)]
pub struct EmergencyCodeSheet {
    issued_at: DateTime<Utc>,
    codes: Vec<EmergencyCodeSlip>,
    /// The printable sheet as an HTML page, instructions in Swedish and English.
    html: String,
}

#[derive(SimpleObject)]
pub struct EmergencyCodeSlip {
    username: String,
    name: Option<String>,
    code: String,
}

/// The answer to an emergency code: exactly one of the two is set.
#[derive(SimpleObject)]
pub struct EmergencySignInResult {
    /// The break-glass session, when no SMS code is asked (SMS is off, or the person
    /// has no registered phone).
    session: Option<LoginResult>,
    /// The second step, when a one-time code was texted to the person's phone: give
    /// `challenge` and the code to `completeEmergencySignIn` before `expiresAt`.
    sms_code: Option<EmergencySmsChallenge>,
}

#[derive(SimpleObject)]
pub struct EmergencySmsChallenge {
    challenge: String,
    expires_at: DateTime<Utc>,
    /// The last two digits of the phone the code went to.
    phone_ending: String,
}

#[derive(Default)]
pub struct BreakGlassMutation;

#[Object]
impl BreakGlassMutation {
    /// Issues one sealed one-time emergency code per named account, replacing their
    /// unused ones, and returns the printable sheet; for administrators. Audited.
    async fn issue_emergency_codes(
        &self,
        ctx: &Context<'_>,
        usernames: Vec<String>,
    ) -> async_graphql::Result<EmergencyCodeSheet> {
        let sheet = store(ctx)?
            .issue_emergency_codes(principal(ctx)?, &usernames)
            .await
            .api()?;
        Ok(EmergencyCodeSheet {
            issued_at: sheet.issued_at,
            codes: sheet
                .codes
                .into_iter()
                .map(|slip| EmergencyCodeSlip {
                    username: slip.username,
                    name: slip.name,
                    code: slip.code,
                })
                .collect(),
            html: sheet.html,
        })
    }

    /// Revokes every unused emergency code at once and returns how many there were;
    /// for administrators. Audited.
    async fn revoke_emergency_codes(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let revoked = store(ctx)?
            .revoke_emergency_codes(principal(ctx)?)
            .await
            .api()?;
        Ok(i32::try_from(revoked).unwrap_or(i32::MAX))
    }

    /// Emergency sign-in when ordinary sign-in is unavailable: a username and one of
    /// its sealed codes (it works once). When SMS works and the person has a registered
    /// phone, a one-time code is texted to it and the answer is `smsCode`; finish with
    /// `completeEmergencySignIn`. Otherwise the answer is the session. The session is
    /// short and marked (`me.breakGlass`); every administrator and crisis lead is sent
    /// a message and the audit trail records a `break_glass_sign_in`. A wrong code
    /// counts toward the sign-in lockout.
    async fn sign_in_with_emergency_code(
        &self,
        ctx: &Context<'_>,
        username: String,
        code: String,
    ) -> async_graphql::Result<EmergencySignInResult> {
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let store = store(ctx)?;
        match store
            .sign_in_with_emergency_code(&username, &code, client_address)
            .await
            .api()?
        {
            EmergencySignIn::SignedIn(signed_in) => {
                let lifetime = signed_in.expires_at - store.now();
                Ok(EmergencySignInResult {
                    session: Some(session_answer(ctx, signed_in, lifetime).await?),
                    sms_code: None,
                })
            }
            EmergencySignIn::SmsCodeSent(pending) => Ok(EmergencySignInResult {
                session: None,
                sms_code: Some(EmergencySmsChallenge {
                    challenge: pending.challenge,
                    expires_at: pending.expires_at,
                    phone_ending: pending.phone_ending,
                }),
            }),
        }
    }

    /// The second step of an emergency sign-in: the challenge from
    /// `signInWithEmergencyCode` and the six digits texted to the person's phone. Opens
    /// the break-glass session and uses up the emergency code. A wrong code counts
    /// toward the sign-in lockout; after five the person starts again.
    async fn complete_emergency_sign_in(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        sms_code: String,
    ) -> async_graphql::Result<LoginResult> {
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let store = store(ctx)?;
        let signed_in = store
            .complete_emergency_sign_in(&challenge, &sms_code, client_address)
            .await
            .api()?;
        let lifetime = signed_in.expires_at - store.now();
        session_answer(ctx, signed_in, lifetime).await
    }
}
