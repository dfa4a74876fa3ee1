//! HTTP routes: GraphQL over POST, GraphiQL on GET, subscriptions over WebSocket,
//! health, and the app shell (the PWA) for everything else.

use crate::context::RequestFacts;
use crate::error::{BadRequestBody, graphql_error};
use crate::loaders::request_loader;
use crate::protection::{
    GRAPHIQL_CONTENT_SECURITY_POLICY, Introspection, cookie_may_authenticate, security_headers,
};
use crate::read_cache::{Lookup, ReadCache, ReadCacheSettings};
use crate::schema::ReservSchema;
use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use reserv_domain::classification::Confidentiality;
use reserv_domain::disclosure::Channel;
use reserv_store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tower_http::limit::RequestBodyLimitLayer;

/// HTTP behaviour that configuration decides.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub session_lifetime: chrono::Duration,
    /// Mark the session cookie `Secure`; on whenever Reserv is reached over HTTPS.
    pub secure_cookies: bool,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Who may introspect the schema.
    pub introspection: Introspection,
    /// The highest confidentiality level the PWA may keep on a device for offline use.
    pub offline_max_confidentiality: u8,
    /// The VAPID public key browsers subscribe to web push with (base64url).
    pub push_public_key: Option<String>,
    /// OpenID Connect sign-in; `None` when it is off.
    pub oidc: Option<crate::oidc::OidcSettings>,
    /// Keeping answers to repeated reads; see [`crate::read_cache`].
    pub read_cache: ReadCacheSettings,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            session_lifetime: chrono::Duration::hours(12),
            secure_cookies: false,
            max_body_bytes: 64 * 1024,
            introspection: Introspection::default(),
            offline_max_confidentiality: 1,
            push_public_key: None,
            oidc: None,
            read_cache: ReadCacheSettings::default(),
        }
    }
}

impl ApiSettings {
    /// The phone's offline store as a channel, with the level this deployment allows.
    pub fn offline_cache(&self) -> Channel {
        Channel::OfflineCache {
            // The configuration refuses levels above 2; should one slip through, the
            // phone keeps only public records rather than more.
            ceiling: Confidentiality::try_from(self.offline_max_confidentiality)
                .unwrap_or(Confidentiality::PUBLIC),
        }
    }
}

#[derive(Clone)]
struct AppState {
    schema: ReservSchema,
    store: Store,
    introspection: Introspection,
    read_cache: Option<ReadCache>,
}

const SESSION_COOKIE: &str = "reserv_session";

/// All of Reserv's HTTP routes. Serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that audit events carry the
/// client address. `app_shell` answers every other path (the PWA and its assets).
pub fn router(
    store: Store,
    schema: ReservSchema,
    settings: &ApiSettings,
    app_shell: Router,
) -> Router {
    let body_limit = settings.max_body_bytes;
    let mut router = Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(health))
        .fallback_service(app_shell);
    if let Some(oidc) = settings.oidc.clone() {
        router = router.merge(crate::oidc::oidc_routes(
            store.clone(),
            oidc,
            settings.session_lifetime,
            settings.secure_cookies,
        ));
    }
    let mut router = router.layer(RequestBodyLimitLayer::new(body_limit));
    for layer in security_headers(settings.secure_cookies) {
        router = router.layer(layer);
    }
    router.with_state(AppState {
        schema,
        store,
        introspection: settings.introspection,
        read_cache: ReadCache::new(&settings.read_cache),
    })
}

async fn graphql(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequestBody>,
) -> Response {
    let facts = request_facts(&app.store, &method, &headers, peer).await;
    let mut request = request.into_inner();
    if !app.introspection.allows(facts.principal.is_some()) {
        request = request.disable_introspection();
    }
    // Only a live session's requests are kept: the session was checked just above, so
    // an ended one never reaches the cache.
    let cached = match (&app.read_cache, &facts.token, &facts.principal) {
        (Some(cache), Some(_), Some(principal)) => cache
            .key(&facts, &request)
            .map(|key| (cache, key, principal.clone())),
        _ => None,
    };
    let mut turn = None;
    if let Some((cache, key, principal)) = &cached {
        match cache.lookup(key).await {
            Lookup::Kept(answer) => {
                // The same answer means the same reads: they are recorded for this
                // request, durably, before it is served, exactly as if it had run.
                return match app.store.record_reads_again(principal, &answer.reads).await {
                    Ok(()) => graphql_json(answer.body.clone()),
                    Err(error) => reads_not_recorded(error),
                };
            }
            Lookup::Run(run) => turn = run,
        }
    }
    // The request's own store gathers what it reads; the reads are recorded before the
    // response leaves, and a response whose reads could not be recorded is withheld.
    let store = app.store.for_request();
    if let Some(loader) = request_loader(&store, facts.principal.as_ref()) {
        request = request.data(loader);
    }
    let response = app
        .schema
        .execute(request.data(facts).data(store.clone()))
        .await;
    let reads = match store.record_request_reads().await {
        Ok(reads) => reads,
        Err(error) => return reads_not_recorded(error),
    };
    if let (Some((cache, _, _)), Some(turn)) = (cached, turn)
        && let Some(body) = cache.keep(turn, &response, reads)
    {
        return graphql_json(body);
    }
    GraphQLResponse::from(response).into_response()
}

/// A serialised GraphQL answer, with the headers [`GraphQLResponse`] gives one.
fn graphql_json(body: axum::body::Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, "application/graphql-response+json")],
        body,
    )
        .into_response()
}

fn reads_not_recorded(error: reserv_store::StoreError) -> Response {
    let error = graphql_error(error);
    GraphQLResponse::from(async_graphql::Response::from_errors(vec![
        error.into_server_error(Default::default()),
    ]))
    .into_response()
}

async fn graphql_ws(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let cookie_facts = request_facts(&app.store, &Method::GET, &headers, peer).await;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(app, socket, protocol, cookie_facts))
}

/// How often an open socket checks that its session is still live even when no session
/// was ended meanwhile (expiry and the idle timeout end sessions without a signal).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves one subscription socket for as long as its session lives: when the session
/// is revoked, signed out, runs out or its account is disabled, the socket is closed
/// with 4401, so that nothing more reaches a person who is no longer signed in.
async fn serve_socket(
    app: AppState,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    cookie_facts: RequestFacts,
) {
    let (mut outgoing, incoming) = socket.split();
    let (to_client, mut queued) = tokio::sync::mpsc::channel::<Message>(16);
    let sink = futures_util::sink::unfold(to_client, |to_client, message| async move {
        to_client.send(message).await.map(|()| to_client)
    });
    // The token the connection signed in with, once `connection_init` has found one.
    let signed_in: Arc<OnceLock<String>> = Arc::default();
    let store = app.store.clone();
    let watched = signed_in.clone();
    let serve = GraphQLWebSocket::new_with_pair(sink, incoming, app.schema.clone(), protocol)
        .on_connection_init(move |payload| async move {
            // A token in the connection_init payload wins over the cookie, for clients
            // that cannot send cookies on a WebSocket.
            let mut facts = cookie_facts;
            if let Some(token) = init_token(&payload) {
                let session = store
                    .live_session(&token, facts.client_address.clone())
                    .await
                    .map_err(|_| async_graphql::Error::new("Sign-in could not be checked"))?;
                facts = facts.with_session(session);
                facts.token = Some(token);
            }
            if let (Some(_), Some(token)) = (&facts.principal, &facts.token) {
                let _ = watched.set(token.clone());
            }
            let mut data = Data::default();
            data.insert(facts);
            Ok(data)
        })
        .serve();
    let forward = async {
        let ended = session_ended(&app.store, &signed_in);
        tokio::pin!(ended);
        loop {
            tokio::select! {
                message = queued.recv() => match message {
                    Some(message) => {
                        if outgoing.send(message).await.is_err() {
                            break;
                        }
                    }
                    // The GraphQL side finished (the client closed the socket).
                    None => break,
                },
                () = &mut ended => {
                    let close = Message::Close(Some(CloseFrame {
                        code: 4401,
                        reason: "Session ended; sign in again".into(),
                    }));
                    let _ = outgoing.send(close).await;
                    break;
                }
            }
        }
    };
    // The forwarder decides when the socket ends; the GraphQL side ending closes the
    // channel, which ends the forwarder once everything queued has gone out.
    tokio::select! {
        () = forward => {}
        () = async { serve.await; std::future::pending::<()>().await } => {}
    }
}

/// Resolves once the session this socket signed in with is no longer live.
async fn session_ended(store: &Store, signed_in: &OnceLock<String>) {
    let mut ends = store.subscribe_session_ends();
    loop {
        tokio::select! {
            changed = ends.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            () = tokio::time::sleep(SESSION_RECHECK) => {}
        }
        let Some(token) = signed_in.get() else {
            continue;
        };
        match store.session_is_live(token).await {
            Ok(true) => {}
            Ok(false) => return,
            // A database that cannot answer now may answer at the next check.
            Err(error) => tracing::warn!(%error, "could not recheck a subscription's session"),
        }
    }
}

/// Middleware for routes outside the GraphQL API (printed binders): puts the signed-in
/// [`Principal`](reserv_domain::access::Principal) into the request's extensions, found
/// from the bearer token or the session cookie exactly as for GraphQL, so that those
/// routes need not know how sessions work. Requests without a session pass unchanged.
pub async fn sign_in_from_request(
    State(store): State<Store>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let facts = request_facts(&store, request.method(), request.headers(), peer).await;
    if let Some(principal) = facts.principal {
        request.extensions_mut().insert(principal);
    }
    next.run(request).await
}

fn init_token(payload: &serde_json::Value) -> Option<String> {
    let text = payload
        .get("token")
        .or_else(|| payload.get("Authorization"))
        .or_else(|| payload.get("authorization"))?
        .as_str()?;
    Some(text.strip_prefix("Bearer ").unwrap_or(text).to_owned())
}

/// Finds the session from `Authorization: Bearer` or, when the request cannot have come
/// from another site, the session cookie.
async fn request_facts(
    store: &Store,
    method: &Method,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> RequestFacts {
    let client_address = Some(peer.ip().to_string());
    let token = bearer_token(headers).or_else(|| {
        cookie_may_authenticate(method, headers)
            .then(|| cookie_token(headers))
            .flatten()
    });
    let session = match &token {
        Some(token) => match store.live_session(token, client_address.clone()).await {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(%error, "session lookup failed");
                None
            }
        },
        None => None,
    };
    RequestFacts {
        token,
        client_address,
        ..RequestFacts::default()
    }
    .with_session(session)
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .map(|token| token.trim().to_owned())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
        .filter(|token| !token.is_empty())
}

/// The `Set-Cookie` value for a session; a zero lifetime clears the cookie.
pub(crate) fn session_cookie(token: &str, lifetime: chrono::Duration, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        lifetime.num_seconds().max(0),
        if secure { "; Secure" } else { "" }
    )
}

async fn graphiql() -> impl IntoResponse {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            GRAPHIQL_CONTENT_SECURITY_POLICY,
        )],
        Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("Reserv GraphQL")
                .finish(),
        ),
    )
}

async fn health(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}
