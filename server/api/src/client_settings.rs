//! What a client needs to know about this deployment before it stores anything: the
//! settings that the server decides and the PWA must obey. Nothing here is secret, so
//! it is readable before sign-in.

use crate::http::ApiSettings;
use async_graphql::{Context, Object, SimpleObject};

/// Deployment settings a client must follow.
#[derive(SimpleObject)]
pub struct ClientSettings {
    /// The highest confidentiality level (0–3) a client may keep on a device for
    /// offline use; anything above it is shown while online and never stored.
    pub offline_max_confidentiality: i32,
    /// Sign-in at the organisation's identity provider (OpenID Connect); none when the
    /// deployment has not configured one.
    pub oidc: Option<OidcSignIn>,
}

/// How the PWA offers sign-in at the identity provider.
#[derive(SimpleObject)]
pub struct OidcSignIn {
    /// The button's text.
    pub label: String,
    /// Where the button leads; add `?return_to=/path` to come back to a page.
    pub start_path: String,
}

#[derive(Default)]
pub struct ClientSettingsQuery;

#[Object]
impl ClientSettingsQuery {
    /// Settings of this deployment that clients must follow.
    async fn client_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<ClientSettings> {
        let settings = ctx.data::<ApiSettings>()?;
        Ok(ClientSettings {
            offline_max_confidentiality: i32::from(settings.offline_cache().ceiling().level()),
            oidc: settings.oidc.as_ref().map(|oidc| OidcSignIn {
                label: oidc.label.clone(),
                start_path: "/auth/oidc/start".into(),
            }),
        })
    }
}
