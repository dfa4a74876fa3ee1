//! Break-glass over GraphQL: administrators issue and revoke sealed emergency codes;
//! anyone signs in with a username and one code when ordinary sign-in is unavailable.

use crate::accounts::{LoginResult, session_answer};
use crate::context::{facts, principal, store};
use crate::error::ApiResult;
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

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
    /// its sealed codes (it works once). The session is short and marked
    /// (`me.breakGlass`); every administrator and crisis lead is sent a message and the
    /// audit trail records a `break_glass_sign_in`. A wrong code counts toward the
    /// sign-in lockout.
    async fn sign_in_with_emergency_code(
        &self,
        ctx: &Context<'_>,
        username: String,
        code: String,
    ) -> async_graphql::Result<LoginResult> {
        let client_address = facts(ctx).and_then(|facts| facts.client_address.clone());
        let store = store(ctx)?;
        let signed_in = store
            .sign_in_with_emergency_code(&username, &code, client_address)
            .await
            .api()?;
        let lifetime = signed_in.expires_at - store.now();
        session_answer(ctx, signed_in, lifetime).await
    }
}
