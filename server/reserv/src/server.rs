//! Starting and stopping the HTTP server, in the binary and in tests alike.

use crate::Config;
use crate::sms_config::SmsConfig;
use anyhow::Context;
use reserv_api::{ApiSettings, SchemaLimits, build_schema, limit_per_client_address, router};
use reserv_domain::SystemClock;
use reserv_domain::sms::SmsChannel;
use reserv_notify::failover::SmsProviders;
use reserv_notify::provider::SmsProvider;
use reserv_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Opens the configured database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let location = config.database()?;
    tracing::info!(database = %location.redacted(), "opening database");
    let store = Store::open(&location, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot open the database {}", location.redacted()))?;
    let secret_key = config.secret_key()?;
    let relying_party = config
        .passkey_settings()
        .relying_party()
        .map_err(|problem| anyhow::anyhow!("webauthn: {problem}"))?;
    let store = store
        .with_secret_key(secret_key)
        .with_passkeys(relying_party)
        .with_sign_in_settings(config.sign_in_settings())
        .with_plan_settings(config.plans.plan_settings())
        .with_draft_settings(config.messages.draft_settings())
        .with_sms_channel(match &config.sms {
            Some(sms) => SmsChannel::On(sms.capacity()),
            None => SmsChannel::Off,
        });
    let sealed = store
        .seal_plain_secrets()
        .await
        .context("cannot seal the stored TOTP secrets")?;
    if sealed.sealed > 0 {
        tracing::info!(
            count = sealed.sealed,
            "sealed TOTP secrets stored in plain text by an earlier version"
        );
    }
    if sealed.other_key > 0 {
        tracing::error!(
            count = sealed.other_key,
            "TOTP secrets are sealed with another key than this server's: those people cannot sign in with their app until the server gets its old secret_key back, or an admin removes their app so that they enrol again"
        );
    }
    Ok(store)
}

/// A server running in the background, as tests and `serve` use it.
pub struct RunningServer {
    pub address: SocketAddr,
    pub store: Store,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting requests, lets running ones finish and waits for the end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task failed")??;
        Ok(())
    }
}

/// Binds the configured address (port 0 picks a free one) and serves in the background.
pub async fn start(config: &Config, store: Store) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen: cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_until(config, store.clone(), listener, async {
        let _ = stopped.await;
    })?);
    Ok(RunningServer {
        address,
        store,
        stop,
        task,
    })
}

fn serve_until(
    config: &Config,
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<impl Future<Output = std::io::Result<()>> + Send + 'static> {
    let settings = ApiSettings {
        session_lifetime: chrono::Duration::hours(i64::from(config.session_hours)),
        secure_cookies: config.secure_cookies,
        max_body_bytes: config.max_body_bytes,
        introspection: config.graphql_introspection,
        offline_max_confidentiality: config.offline_max_confidentiality,
        push_public_key: Some(config.push_settings()?.key.public_key_base64url()),
        oidc: config.oidc.settings()?,
        read_cache: config.read_cache.settings(),
    };
    let limits = SchemaLimits {
        max_depth: config.graphql_max_depth,
        max_complexity: config.graphql_max_complexity,
    };
    let schema = build_schema(store.clone(), limits, settings.clone());
    // The public status routes live in their own crate; they are merged here so that
    // the API's router knows nothing of them.
    let publisher =
        reserv_fallback::start_publisher(store.clone(), config.fallback.publish_settings()?);
    let app = router(store.clone(), schema, &settings, reserv_webapp::app_shell()).merge(
        limit_per_client_address(
            reserv_fallback::status_routes(store.clone()),
            config.fallback.requests_per_minute,
        ),
    );
    // Printed binders know nothing of sessions: the API's session lookup signs each
    // request in before the print routes see it.
    let app = app.merge(reserv_print::print_routes(store.clone()).layer(
        axum::middleware::from_fn_with_state(store.clone(), reserv_api::sign_in_from_request),
    ));
    let app = match sms_webhook_routes(config, &store) {
        Some(webhooks) => app.merge(webhooks),
        None => app,
    };
    Ok(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        // The publisher outlives no server: a stopped server must stop refreshing the
        // site, so that its age tells readers the truth.
        if let Some(publisher) = publisher {
            publisher.abort();
        }
        served
    })
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve_forever(config: &Config, store: Store) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen: cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "Reserv is listening; GraphiQL at /graphql");
    let worker = start_delivery_worker(config, &store)?;
    serve_until(config, store, listener, shutdown_signal())?.await?;
    let (stop, task) = worker;
    let _ = stop.send(());
    task.await.context("the outbox worker failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The providers' webhooks, when SMS is configured with the public URL they call,
/// limited per client address: anyone can reach them, signed or not.
fn sms_webhook_routes(config: &Config, store: &Store) -> Option<axum::Router> {
    // `Config::load` has checked these settings, so this only fails if the token file
    // vanished since; then the webhooks stay off and the worker's start reports it.
    let sms = config.sms.as_ref()?;
    let settings = sms.webhook_settings().ok()??;
    Some(limit_per_client_address(
        reserv_notify::sms_webhooks(
            store.outbox_worker("sms webhooks"),
            store.sms_line(),
            settings,
        ),
        sms.webhook_requests_per_minute,
    ))
}

/// Starts the outbox worker: web push always, SMS when it is configured. Says plainly
/// when SMS is off, since then texts are queued but reach nobody's phone.
fn start_delivery_worker(
    config: &Config,
    store: &Store,
) -> anyhow::Result<(oneshot::Sender<()>, JoinHandle<()>)> {
    let push = reserv_notify::push::PushClient::new(config.push_settings()?)?;
    if config.push.subject.is_none() {
        tracing::warn!(
            "push.subject is not set: push services may refuse messages without a contact; set it to mailto:your-it-desk@… or an https: page"
        );
    }
    let outbox = store.outbox_worker("outbox worker");
    let worker = match &config.sms {
        None => {
            tracing::warn!(
                "SMS is off: no [sms] section is configured, so messages are queued but not sent by SMS; web push still goes out"
            );
            reserv_notify::DeliveryWorker::push_only(outbox, push)
        }
        Some(sms) => {
            let providers = sms_providers(sms)?;
            tracing::info!(
                provider = %sms.provider,
                failover = sms.failover.as_ref().map(|failover| failover.provider.as_str()),
                senders = sms.senders.len(),
                per_second = providers.pool_rate(),
                "SMS is on; the outbox worker is starting"
            );
            reserv_notify::DeliveryWorker::new(outbox, providers).with_push(push)
        }
    };
    let worker = worker.with_lease(chrono::Duration::seconds(
        config.outbox.lease_seconds.get().into(),
    ));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    Ok((stop, task))
}

/// The configured SMS provider, with its failover when `[sms.failover]` names one.
fn sms_providers(sms: &SmsConfig) -> anyhow::Result<SmsProviders> {
    let primary = SmsProviders::single(SmsProvider::connect(sms.primary_settings()?)?);
    Ok(match sms.failover_settings()? {
        Some(failover) => {
            primary.with_failover(SmsProvider::connect(failover)?, sms.failover_policy())
        }
        None => primary,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
