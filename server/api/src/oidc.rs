//! OpenID Connect sign-in: the authorization-code flow with PKCE against the
//! organisation's identity provider (which usually brokers Freja eID, SITHS or BankID).
//!
//! `GET /auth/oidc/start` remembers a state, a nonce and the PKCE verifier in the
//! database and sends the browser to the provider; `GET /auth/oidc/callback` takes them
//! back (once), exchanges the code, verifies the ID token (signature against the
//! provider's keys, issuer, audience, expiry, nonce), maps the configured claim to a
//! person and opens a session exactly as a password sign-in does. Every failure answers
//! a short page in Swedish and English saying what to do.
//!
//! The provider is found through its discovery document when the first sign-in starts,
//! not at server start: on the worst day the provider is down, and password, TOTP and
//! break-glass sign-in must still work. A failed discovery is not remembered beyond
//! the requests that waited for it, so a provider that comes back is used again at
//! the next sign-in, without restarting Reserv. When the provider cannot be reached
//! the person is told to use the password or an emergency code. This module must
//! never log or audit a token or a claim value.

mod claims;
mod problem;

use crate::http::session_cookie;
use crate::rate_limit::limit_per_client_address;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use claims::{Claimed, OtherClaims, TokenClaims, UserinfoClaims};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    UserInfoError,
};
use problem::{Problem, known_provider_error, page};
use reserv_domain::audit::AuditOutcome;
use reserv_domain::oidc::{AssuranceRule, PersonField};
use reserv_store::{PendingOidcSignIn, ProviderIdentity, ProviderRefusal, ProviderSignIn, Store};
use serde::Deserialize;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The OpenID Connect settings the server was configured with.
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer; its discovery document is at
    /// `{issuer_url}/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// This server's base URL as the browser sees it, without a trailing slash.
    pub public_url: String,
    /// The ID token claim that names the person (`email`, `employee_id`, `hsa_id` …).
    pub claim: String,
    /// The person's field the claim is matched to.
    pub person_field: PersonField,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The acr values asked for, in order of preference.
    pub acr_values: Vec<String>,
    /// The text of the sign-in button.
    pub label: String,
    pub assurance: AssuranceRule,
    /// How long a started sign-in may take before its callback is refused.
    pub sign_in_lifetime: chrono::Duration,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("public_url", &self.public_url)
            .field("claim", &self.claim)
            .field("person_field", &self.person_field)
            .field("scopes", &self.scopes)
            .field("acr_values", &self.acr_values)
            .field("label", &self.label)
            .field("assurance", &self.assurance)
            .finish()
    }
}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenAnswer = StandardTokenResponse<IdFields, CoreTokenType>;
type ProviderClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a discovery document (and the signing keys in it) is used before it is
/// fetched again; a provider rotating its keys is picked up within this time, and at
/// once when a token fails to verify.
const METADATA_FRESH_FOR: Duration = Duration::from_secs(15 * 60);
/// How long a request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting to the provider may take: a provider whose address swallows
/// packets is given up on soon.
const PROVIDER_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The provider's discovery document as last fetched, and the last failure to fetch it.
#[derive(Default)]
struct Discovery {
    metadata: Option<(CoreProviderMetadata, Instant)>,
    failure: Option<(String, Instant)>,
}

struct Provider {
    settings: OidcSettings,
    store: Store,
    http: reqwest::Client,
    discovery: tokio::sync::Mutex<Discovery>,
    session_lifetime: chrono::Duration,
    secure_cookies: bool,
}

/// The sign-in routes, when OpenID Connect is configured.
pub(crate) fn oidc_routes<S>(
    store: Store,
    settings: OidcSettings,
    session_lifetime: chrono::Duration,
    secure_cookies: bool,
) -> Router<S> {
    // The provider's answers are read as they come: following a redirect could send
    // the token request (with the client secret) somewhere else.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .connect_timeout(PROVIDER_CONNECT_TIMEOUT)
        .build()
        .unwrap_or_default();
    let provider = Arc::new(Provider {
        settings,
        store,
        http,
        discovery: tokio::sync::Mutex::default(),
        session_lifetime,
        secure_cookies,
    });
    let routes = Router::new()
        .route("/auth/oidc/start", get(start))
        .route("/auth/oidc/callback", get(callback))
        .with_state(provider);
    // Anyone may start a sign-in, and each start writes a row until it runs out: a
    // limit per address keeps a flood from filling the table. It is high, since a
    // care home signs in through one address at shift change.
    limit_per_client_address(routes, SIGN_IN_REQUESTS_PER_MINUTE).with_state(())
}

/// Requests to the sign-in routes allowed per client address and minute.
const SIGN_IN_REQUESTS_PER_MINUTE: NonZeroU32 = match NonZeroU32::new(300) {
    Some(limit) => limit,
    None => NonZeroU32::MIN,
};

#[derive(Debug, Deserialize)]
struct StartQuery {
    return_to: Option<String>,
}

async fn start(State(provider): State<Arc<Provider>>, Query(query): Query<StartQuery>) -> Response {
    let return_to = match safe_return_path(query.return_to.as_deref()) {
        Some(path) => path,
        None => return page(StatusCode::BAD_REQUEST, &Problem::ReturnPath),
    };
    let client = match provider.client(false).await {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "OpenID Connect: the identity provider's discovery failed");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                &Problem::ProviderUnreachable,
            );
        }
    };
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(pkce_challenge);
    for scope in &provider.settings.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for acr in &provider.settings.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    let (url, state, nonce) = request.url();
    let pending = PendingOidcSignIn {
        nonce: nonce.secret().clone(),
        pkce_verifier: pkce_verifier.secret().clone(),
        return_to,
    };
    if let Err(error) = provider
        .store
        .remember_oidc_sign_in(state.secret(), &pending, provider.settings.sign_in_lifetime)
        .await
    {
        tracing::error!(%error, "OpenID Connect: cannot remember a started sign-in");
        return page(StatusCode::SERVICE_UNAVAILABLE, &Problem::Internal);
    }
    see_other(url.as_str())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let client_address = Some(peer.ip().to_string());
    match provider.finish_sign_in(query, client_address.clone()).await {
        Ok(Finished::SignedIn { token, return_to }) => {
            let cookie = session_cookie(&token, provider.session_lifetime, provider.secure_cookies);
            let mut response = see_other(&return_to);
            if let Ok(value) = cookie.parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Finished::Refused(problem)) => page(StatusCode::FORBIDDEN, &problem),
        Err(Failure {
            status,
            problem,
            audit,
        }) => {
            if let Some((outcome, reason)) = audit
                && let Err(error) = provider
                    .store
                    .record_oidc_refusal(client_address, outcome, reason)
                    .await
            {
                tracing::error!(%error, "OpenID Connect: cannot record a refused sign-in");
                return page(StatusCode::SERVICE_UNAVAILABLE, &Problem::Internal);
            }
            page(status, &problem)
        }
    }
}

enum Finished {
    SignedIn { token: String, return_to: String },
    Refused(Problem),
}

/// A callback that went wrong before a person was known: the page to show, and what
/// the audit trail says (without tokens or claim values).
struct Failure {
    status: StatusCode,
    problem: Problem,
    audit: Option<(AuditOutcome, String)>,
}

impl Failure {
    /// A sign-in refused: by the provider, or by a check of its answer.
    fn new(status: StatusCode, problem: Problem, audit: impl Into<String>) -> Self {
        Self {
            status,
            problem,
            audit: Some((AuditOutcome::Denied, audit.into())),
        }
    }

    /// A sign-in that failed because the provider could not be reached.
    fn unreachable(what: &str, error: &str) -> Self {
        tracing::warn!(%error, "OpenID Connect: the identity provider's {what} cannot be reached");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            problem: Problem::ProviderUnreachable,
            audit: Some((
                AuditOutcome::Failed,
                format!("failed: the identity provider's {what} could not be reached"),
            )),
        }
    }
}

/// What the token endpoint gave for a code: the verified ID token's claims, the access
/// token (for userinfo) and the client that verified them.
struct Exchanged {
    claims: TokenClaims,
    access_token: AccessToken,
    client: ProviderClient,
}

impl Provider {
    /// The client for the provider from its discovery document, fetched again when it
    /// is older than [`METADATA_FRESH_FOR`] or `refresh` asks for it.
    ///
    /// One request fetches it at a time. When that fails, the requests that waited
    /// for it share the failure rather than each waiting out the timeout again (a
    /// shift signing in while the provider is down); a request that comes after the
    /// failure tries again, so a provider that comes back is found at once.
    async fn client(&self, refresh: bool) -> Result<ProviderClient, String> {
        let asked = Instant::now();
        let mut discovery = self.discovery.lock().await;
        let fresh = discovery
            .metadata
            .as_ref()
            .filter(|(_, fetched)| !refresh && fetched.elapsed() < METADATA_FRESH_FOR)
            .map(|(metadata, _)| metadata.clone());
        let metadata = match fresh {
            Some(metadata) => metadata,
            None => {
                if let Some((error, failed)) = &discovery.failure
                    && *failed >= asked
                {
                    return Err(error.clone());
                }
                match self.discover().await {
                    Ok(metadata) => {
                        discovery.metadata = Some((metadata.clone(), Instant::now()));
                        discovery.failure = None;
                        metadata
                    }
                    Err(error) => {
                        discovery.failure = Some((error.clone(), Instant::now()));
                        return Err(error);
                    }
                }
            }
        };
        let redirect = RedirectUrl::new(format!("{}/auth/oidc/callback", self.settings.public_url))
            .map_err(|error| error.to_string())?;
        Ok(ProviderClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Fetches the discovery document and the signing keys it names.
    async fn discover(&self) -> Result<CoreProviderMetadata, String> {
        let issuer = IssuerUrl::new(self.settings.issuer_url.clone()).map_err(|e| e.to_string())?;
        let http = self.http.clone();
        CoreProviderMetadata::discover_async(issuer, &move |request| send(http.clone(), request))
            .await
            .map_err(|error| error_chain(&error))
    }

    async fn finish_sign_in(
        &self,
        query: CallbackQuery,
        client_address: Option<String>,
    ) -> Result<Finished, Failure> {
        let Some(state) = query.state.filter(|state| !state.is_empty()) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                Problem::UnknownState,
                "refused: a callback without state",
            ));
        };
        let pending = match self.store.take_oidc_sign_in(&state).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return Err(Failure::new(
                    StatusCode::BAD_REQUEST,
                    Problem::UnknownState,
                    "refused: unknown, expired or already used state",
                ));
            }
            Err(error) => {
                tracing::error!(%error, "OpenID Connect: cannot read a started sign-in");
                return Err(Failure {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    problem: Problem::Internal,
                    audit: None,
                });
            }
        };
        if let Some(error) = query.error {
            return Err(provider_error(&error));
        }
        let Some(code) = query.code.filter(|code| !code.is_empty()) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                Problem::ProviderRefused(None),
                "refused: the identity provider sent no code",
            ));
        };
        let exchanged = self.exchange(code, &pending).await?;
        let claimed = self.claimed(exchanged).await?;
        let Some(value) = claimed.value else {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                Problem::MissingClaim,
                format!(
                    "refused: neither the ID token nor userinfo has the claim {}",
                    self.settings.claim
                ),
            ));
        };
        if self.settings.claim == "email" && claimed.email_verified == Some(false) {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                Problem::MissingClaim,
                "refused: the identity provider has not verified the e-mail address",
            ));
        }
        let identity = ProviderIdentity {
            field: self.settings.person_field,
            value,
            assurance: claimed.assurance,
        };
        let outcome = self
            .store
            .sign_in_with_provider(
                identity,
                &self.settings.assurance,
                client_address,
                self.session_lifetime,
            )
            .await
            .map_err(|error| {
                tracing::error!(%error, "OpenID Connect: cannot open a session");
                Failure {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    problem: Problem::Internal,
                    audit: None,
                }
            })?;
        Ok(match outcome {
            ProviderSignIn::SignedIn(signed_in) => Finished::SignedIn {
                token: signed_in.token,
                return_to: pending.return_to,
            },
            ProviderSignIn::Refused(refusal) => Finished::Refused(match refusal {
                ProviderRefusal::UnknownPerson => Problem::UnknownPerson,
                ProviderRefusal::NoAccount => Problem::NoAccount,
                ProviderRefusal::AccountDisabled => Problem::AccountDisabled,
                ProviderRefusal::AssuranceTooLow { role } => Problem::AssuranceTooLow(role),
            }),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token; once more
    /// with a fresh discovery document when its signature does not verify, in case the
    /// provider rotated its keys.
    async fn exchange(
        &self,
        code: String,
        pending: &PendingOidcSignIn,
    ) -> Result<Exchanged, Failure> {
        let client = self
            .client(false)
            .await
            .map_err(|error| Failure::unreachable("discovery", &error))?;
        let http = self.http.clone();
        let answer = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| Failure::unreachable("token endpoint", &error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&move |request| send(http.clone(), request))
            .await
            .map_err(|error| match error {
                RequestTokenError::Request(error) => {
                    Failure::unreachable("token endpoint", &error_chain(&error))
                }
                error => {
                    tracing::warn!(error = %error_chain(&error), "OpenID Connect: the code exchange failed");
                    Failure::new(
                        StatusCode::BAD_GATEWAY,
                        Problem::ProviderRefused(None),
                        "refused: the identity provider did not exchange the code",
                    )
                }
            })?;
        let Some(id_token) = answer.id_token() else {
            return Err(Failure::new(
                StatusCode::BAD_GATEWAY,
                Problem::ProviderRefused(None),
                "refused: the identity provider sent no ID token",
            ));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let verified = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .cloned();
        let (claims, client) = match verified {
            Ok(claims) => (claims, client),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let client = self
                    .client(true)
                    .await
                    .map_err(|error| Failure::unreachable("discovery", &error))?;
                let verified = id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .cloned();
                match verified {
                    Ok(claims) => (claims, client),
                    Err(error) => return Err(not_verified(&error)),
                }
            }
            Err(error) => return Err(not_verified(&error)),
        };
        Ok(Exchanged {
            claims,
            access_token: answer.access_token().clone(),
            client,
        })
    }

    /// The configured claim and the assurance from the ID token, and from the userinfo
    /// endpoint when the token leaves them out and the provider has one. A userinfo
    /// request that fails refuses the sign-in.
    async fn claimed(&self, exchanged: Exchanged) -> Result<Claimed, Failure> {
        let claim = &self.settings.claim;
        let mut claimed = Claimed::from_id_token(&exchanged.claims, claim);
        if !claimed.lacks_something() || exchanged.client.user_info_url().is_none() {
            return Ok(claimed);
        }
        let request = exchanged
            .client
            .user_info(
                exchanged.access_token,
                // Userinfo about anyone else than the ID token's subject is refused.
                Some(exchanged.claims.subject().clone()),
            )
            .map_err(|error| Failure::unreachable("userinfo endpoint", &error.to_string()))?;
        let http = self.http.clone();
        let info: UserinfoClaims = request
            .request_async(&move |request| send(http.clone(), request))
            .await
            .map_err(|error| userinfo_failure(&error))?;
        claimed.fill_from_userinfo(&info, claim);
        Ok(claimed)
    }
}

/// The refusal of a callback carrying the provider's `error` (the person cancelled, or
/// the provider declined or is in trouble): its page names what happened. The code is
/// audited only when it is one of the known ones, and the provider's free-text
/// `error_description` is neither shown nor kept.
fn provider_error(error: &str) -> Failure {
    let code = known_provider_error(error);
    let (status, problem) = match code {
        Some("access_denied") => (StatusCode::FORBIDDEN, Problem::ProviderCancelled),
        Some(
            "login_required"
            | "interaction_required"
            | "consent_required"
            | "account_selection_required",
        ) => (StatusCode::FORBIDDEN, Problem::ProviderWantsInteraction),
        Some("temporarily_unavailable" | "server_error") => (
            StatusCode::SERVICE_UNAVAILABLE,
            Problem::ProviderUnreachable,
        ),
        known => (StatusCode::BAD_GATEWAY, Problem::ProviderRefused(known)),
    };
    Failure::new(
        status,
        problem,
        format!(
            "refused: the identity provider answered {}",
            code.unwrap_or("an unknown error")
        ),
    )
}

/// The refusal of a sign-in whose userinfo request failed, naming for the audit trail
/// only what went wrong, never what the answer held.
fn userinfo_failure(error: &UserInfoError<ProviderHttpError>) -> Failure {
    match error {
        UserInfoError::Request(error) => {
            Failure::unreachable("userinfo endpoint", &error_chain(error))
        }
        other => {
            tracing::warn!(error = %other, "OpenID Connect: the userinfo request failed");
            let reason = match other {
                UserInfoError::Response(status, _, _) => {
                    format!("failed: the userinfo endpoint answered {}", status.as_u16())
                }
                UserInfoError::ClaimsVerification(_) => {
                    "refused: the userinfo answer did not verify or is about another subject"
                        .to_owned()
                }
                _ => "failed: the userinfo answer could not be read".to_owned(),
            };
            let outcome = match other {
                UserInfoError::ClaimsVerification(_) => AuditOutcome::Denied,
                _ => AuditOutcome::Failed,
            };
            Failure {
                status: StatusCode::BAD_GATEWAY,
                problem: Problem::UserinfoFailed,
                audit: Some((outcome, reason)),
            }
        }
    }
}

/// The refusal of an ID token that did not verify, naming only the check that failed:
/// the library's messages may quote claim values.
fn not_verified(error: &ClaimsVerificationError) -> Failure {
    let check = match error {
        ClaimsVerificationError::Expired(_) => "it has expired",
        ClaimsVerificationError::InvalidAudience(_) => "its audience is not this client",
        ClaimsVerificationError::InvalidIssuer(_) => "its issuer is not the configured one",
        ClaimsVerificationError::InvalidNonce(_) => "its nonce does not match",
        ClaimsVerificationError::SignatureVerification(_) => "its signature does not verify",
        _ => "it is not valid",
    };
    Failure::new(
        StatusCode::FORBIDDEN,
        Problem::TokenNotVerified,
        format!("refused: the ID token did not verify: {check}"),
    )
}

/// Sends one request for the OpenID Connect library with our own HTTP client.
async fn send(
    http: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, ProviderHttpError> {
    let response = http.execute(reqwest::Request::try_from(request)?).await?;
    let mut answer = axum::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    Ok(answer.body(response.bytes().await?.to_vec())?)
}

#[derive(Debug, thiserror::Error)]
enum ProviderHttpError {
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    #[error(transparent)]
    Response(#[from] axum::http::Error),
}

/// An error with its causes, for the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `return_to` when it is a path on this server: it must start with one `/`, so that
/// `//evil.example` or `https://…` cannot send a fresh session elsewhere.
fn safe_return_path(return_to: Option<&str>) -> Option<String> {
    let path = return_to.unwrap_or("/");
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 1024
        && !path.chars().any(|c| c.is_control() || c == '\\');
    safe.then(|| path.to_owned())
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_server_are_returned_to() {
        assert_eq!(safe_return_path(None).as_deref(), Some("/"));
        assert_eq!(
            safe_return_path(Some("/incidents/4?tab=log")).as_deref(),
            Some("/incidents/4?tab=log")
        );
        for unsafe_path in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(Some(unsafe_path)), None, "{unsafe_path}");
        }
    }
}
