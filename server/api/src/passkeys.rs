//! WebAuthn passkeys: enrolment for the signed-in account, removal, and the options of
//! the passkey step of a sign-in (`completeSignIn` takes the browser's answer).

use crate::context::{facts, parse_id, principal, signed_in_principal, store};
use crate::error::ApiResult;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use reserv_store::PasskeySummary;

/// A passkey of the signed-in account.
pub struct PasskeyObject(pub(crate) PasskeySummary);

#[Object(name = "Passkey")]
impl PasskeyObject {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// What its owner called it, such as "Min telefon".
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The last sign-in with it.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

#[derive(Default)]
pub struct PasskeyMutation;

#[Object]
impl PasskeyMutation {
    /// Starts adding a passkey to the signed-in account: the JSON of the
    /// `PublicKeyCredentialCreationOptions` (`{"publicKey": …}`, binary fields in
    /// base64url) for `navigator.credentials.create`. Allowed in a session that must
    /// enrol a second factor. Valid for five minutes; asking again replaces it.
    async fn begin_passkey_enrolment(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let options = store(ctx)?
            .begin_passkey_enrolment(signed_in_principal(ctx)?)
            .await
            .api()?;
        Ok(options.0)
    }

    /// Stores the passkey the browser created, as the JSON of its
    /// `PublicKeyCredential` (binary fields in base64url), under `name`. The current
    /// session counts as signed in with the passkey from now on.
    async fn finish_passkey_enrolment(
        &self,
        ctx: &Context<'_>,
        name: String,
        credential: String,
    ) -> async_graphql::Result<PasskeyObject> {
        let token = facts(ctx).and_then(|facts| facts.token.as_deref());
        let passkey = store(ctx)?
            .finish_passkey_enrolment(signed_in_principal(ctx)?, &name, &credential, token)
            .await
            .api()?;
        Ok(PasskeyObject(passkey))
    }

    /// Removes a passkey: one's own, or anyone's for administrators. Removing the last
    /// second factor is allowed, as with `removeTotp`: a role that requires one must
    /// enrol another at its next sign-in. Audited.
    async fn remove_passkey(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        store(ctx)?
            .remove_passkey(principal(ctx)?, parse_id("id", &id)?)
            .await
            .api()?;
        Ok(true)
    }

    /// The JSON of the `PublicKeyCredentialRequestOptions` (`{"publicKey": …}`) for
    /// `navigator.credentials.get` that answer a `signIn` challenge with one of the
    /// account's passkeys; give the browser's answer to `completeSignIn(passkey:)`.
    async fn begin_passkey_sign_in(
        &self,
        ctx: &Context<'_>,
        challenge: String,
    ) -> async_graphql::Result<String> {
        let options = store(ctx)?.begin_passkey_sign_in(&challenge).await.api()?;
        Ok(options.0)
    }
}
