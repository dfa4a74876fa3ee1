//! Two-step sign-in and the second factor: `signIn` answers a session or a challenge,
//! `completeSignIn` turns the challenge and a code into a session; TOTP enrolment and
//! removal.

use crate::accounts::{LoginResult, optional_account, session_answer};
use crate::context::{facts, signed_in_principal, store};
use crate::error::{ApiResult, invalid_input};
use crate::http::ApiSettings;
use crate::types::Factor;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_store::{SecondProof, SignInOutcome};

/// A password sign-in: a session, or a challenge for the second factor. Exactly one
/// of the two is set.
#[derive(SimpleObject)]
pub struct SignInResult {
    /// The session, for an account without a second factor.
    session: Option<LoginResult>,
    /// The second step, for an account with one: give `challenge` to `completeSignIn`
    /// with a code before `expiresAt`.
    second_factor: Option<SecondFactorChallenge>,
}

#[derive(SimpleObject)]
pub struct SecondFactorChallenge {
    challenge: String,
    expires_at: DateTime<Utc>,
    /// The second factors the account has: `TOTP` (a code, or a recovery code) and
    /// `PASSKEY` (`beginPasskeySignIn`).
    methods: Vec<Factor>,
}

/// A TOTP enrolment waiting for its first code.
#[derive(SimpleObject)]
pub struct TotpEnrolmentObject {
    /// The `otpauth://totp/…` URL authenticator apps read.
    otpauth_url: String,
    /// The same as a QR code: `data:image/png;base64,…`, usable as an `<img src>`.
    qr_code_data_url: String,
    /// The secret in base32, to type into apps that cannot scan.
    secret: String,
}

#[derive(Default)]
pub struct SecondFactorMutation;

#[Object]
impl SecondFactorMutation {
    /// Signs in with username and password. For an account with a second factor the
    /// answer is a challenge to complete with `completeSignIn`; otherwise a session,
    /// as `login` gives (the cookie is set).
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<SignInResult> {
        let settings = ctx.data::<ApiSettings>()?;
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let outcome = store(ctx)?
            .sign_in(
                &username,
                &password,
                client_address,
                settings.session_lifetime,
            )
            .await
            .api()?;
        Ok(match outcome {
            SignInOutcome::SignedIn(signed_in) => SignInResult {
                session: Some(session_answer(ctx, signed_in, settings.session_lifetime).await?),
                second_factor: None,
            },
            SignInOutcome::SecondFactorNeeded(pending) => SignInResult {
                session: None,
                second_factor: Some(SecondFactorChallenge {
                    challenge: pending.challenge,
                    expires_at: pending.expires_at,
                    methods: pending.methods.into_iter().map(Into::into).collect(),
                }),
            },
        })
    }

    /// The second step of `signIn`: the challenge and exactly one of the current
    /// `code` from the authenticator app, an unused `recoveryCode` (each works once),
    /// or `passkey`, the JSON of the browser's `PublicKeyCredential` for the options of
    /// `beginPasskeySignIn`. A wrong one counts toward the sign-in lockout.
    async fn complete_sign_in(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        code: Option<String>,
        recovery_code: Option<String>,
        passkey: Option<String>,
    ) -> async_graphql::Result<LoginResult> {
        let proof = match (code, recovery_code, passkey) {
            (Some(code), None, None) => SecondProof::Totp(code),
            (None, Some(code), None) => SecondProof::RecoveryCode(code),
            (None, None, Some(assertion)) => SecondProof::Passkey(assertion),
            _ => {
                return Err(invalid_input(
                    "code",
                    "give exactly one of code, recoveryCode and passkey",
                ));
            }
        };
        let settings = ctx.data::<ApiSettings>()?;
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let signed_in = store(ctx)?
            .complete_sign_in(&challenge, proof, client_address, settings.session_lifetime)
            .await
            .api()?;
        session_answer(ctx, signed_in, settings.session_lifetime).await
    }

    /// Starts enrolling an authenticator app for the signed-in account: scan the QR
    /// code, then confirm with a first code. Allowed in a session that must enrol.
    async fn begin_totp_enrolment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<TotpEnrolmentObject> {
        let enrolment = store(ctx)?
            .begin_totp_enrolment(signed_in_principal(ctx)?)
            .await
            .api()?;
        Ok(TotpEnrolmentObject {
            otpauth_url: enrolment.otpauth_url,
            qr_code_data_url: enrolment.qr_data_url,
            secret: enrolment.secret_base32,
        })
    }

    /// Activates the app with a first code and returns ten single-use recovery codes,
    /// shown only now. The current session counts as signed in with the app from now.
    async fn confirm_totp_enrolment(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Vec<String>> {
        let token = facts(ctx).and_then(|facts| facts.token.as_deref());
        let codes = store(ctx)?
            .confirm_totp_enrolment(signed_in_principal(ctx)?, &code, token)
            .await
            .api()?;
        Ok(codes.0)
    }

    /// Removes an authenticator app and its recovery codes: one's own with a current
    /// `code`, or anyone's (`accountId`) for administrators, say after a lost phone.
    /// Audited.
    async fn remove_totp(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        code: Option<String>,
    ) -> async_graphql::Result<bool> {
        store(ctx)?
            .remove_totp(
                crate::context::principal(ctx)?,
                optional_account(account_id)?,
                code.as_deref(),
            )
            .await
            .api()?;
        Ok(true)
    }
}
