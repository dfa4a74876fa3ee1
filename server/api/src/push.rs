//! GraphQL fields of web push: the server's public VAPID key that the PWA subscribes
//! with, and the signed-in person's browser subscriptions. Resolvers call the store.

use crate::context::{principal, signed_in_principal, store};
use crate::error::ApiResult;
use crate::http::ApiSettings;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::push::{NewPushSubscription, PushSubscription};

/// A browser that shows the signed-in person's crisis messages.
#[derive(SimpleObject)]
#[graphql(name = "PushSubscription")]
pub struct PushSubscriptionObject {
    pub id: ID,
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
    /// When a push service last accepted a message for this browser.
    pub last_success: Option<DateTime<Utc>>,
}

impl From<PushSubscription> for PushSubscriptionObject {
    fn from(subscription: PushSubscription) -> Self {
        Self {
            id: ID(subscription.id.to_string()),
            endpoint: subscription.endpoint,
            created_at: subscription.created_at,
            last_success: subscription.last_success,
        }
    }
}

#[derive(Default)]
pub struct PushQuery;

#[Object]
impl PushQuery {
    /// The server's VAPID public key (base64url, uncompressed P-256), the
    /// `applicationServerKey` for `pushManager.subscribe`. Null when push is off.
    async fn push_public_key(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(ctx.data::<ApiSettings>()?.push_public_key.clone())
    }

    /// The browsers the signed-in person receives crisis messages on.
    async fn my_push_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PushSubscriptionObject>> {
        let subscriptions = store(ctx)?
            .my_push_subscriptions(principal(ctx)?)
            .await
            .api()?;
        Ok(subscriptions.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PushMutation;

#[Object]
impl PushMutation {
    /// Lets this browser show the signed-in person's crisis messages: the fields of
    /// the browser's `PushSubscription` (`endpoint`, `keys.p256dh`, `keys.auth`).
    /// Registering a known endpoint again replaces its keys. Audited.
    async fn register_push_subscription(
        &self,
        ctx: &Context<'_>,
        endpoint: String,
        #[graphql(name = "p256dh")] p256dh: String,
        auth: String,
    ) -> async_graphql::Result<PushSubscriptionObject> {
        let subscription = store(ctx)?
            .register_push_subscription(
                principal(ctx)?,
                NewPushSubscription {
                    endpoint,
                    p256dh,
                    auth,
                },
            )
            .await
            .api()?;
        Ok(subscription.into())
    }

    /// Stops pushing to this browser (at sign-out, or when the person no longer wants
    /// notifications). True when the endpoint was the person's. Audited.
    async fn remove_push_subscription(
        &self,
        ctx: &Context<'_>,
        endpoint: String,
    ) -> async_graphql::Result<bool> {
        store(ctx)?
            .remove_push_subscription(signed_in_principal(ctx)?, &endpoint)
            .await
            .api()
    }
}
