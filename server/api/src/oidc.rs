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
//! break-glass sign-in must still work. This module must never log or audit a token
//! or a claim value.

use crate::http::session_cookie;
use crate::rate_limit::limit_per_client_address;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IdTokenClaims,
    IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use reserv_domain::access::Role;
use reserv_domain::oidc::{AssuranceRule, PersonField, ProviderAssurance};
use reserv_store::{PendingOidcSignIn, ProviderIdentity, ProviderRefusal, ProviderSignIn, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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

/// The claims of an ID token beyond the standard ones, where employee numbers and
/// HSA-ids come.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

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

struct Provider {
    settings: OidcSettings,
    store: Store,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
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
        .build()
        .unwrap_or_default();
    let provider = Arc::new(Provider {
        settings,
        store,
        http,
        metadata: tokio::sync::Mutex::default(),
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
            return page(StatusCode::BAD_GATEWAY, &Problem::ProviderUnreachable);
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
            if let Some(reason) = audit
                && let Err(error) = provider
                    .store
                    .record_oidc_refusal(client_address, reason)
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
    audit: Option<String>,
}

impl Failure {
    fn new(status: StatusCode, problem: Problem, audit: impl Into<String>) -> Self {
        Self {
            status,
            problem,
            audit: Some(audit.into()),
        }
    }
}

impl Provider {
    /// The client for the provider from its discovery document, fetched again when it
    /// is older than [`METADATA_FRESH_FOR`] or `refresh` asks for it.
    async fn client(&self, refresh: bool) -> Result<ProviderClient, String> {
        let mut cached = self.metadata.lock().await;
        let fresh = cached
            .as_ref()
            .filter(|(_, fetched)| !refresh && fetched.elapsed() < METADATA_FRESH_FOR)
            .map(|(metadata, _)| metadata.clone());
        let metadata = match fresh {
            Some(metadata) => metadata,
            None => {
                let issuer =
                    IssuerUrl::new(self.settings.issuer_url.clone()).map_err(|e| e.to_string())?;
                let http = self.http.clone();
                let metadata = CoreProviderMetadata::discover_async(issuer, &move |request| {
                    send(http.clone(), request)
                })
                .await
                .map_err(|error| error_chain(&error))?;
                *cached = Some((metadata.clone(), Instant::now()));
                metadata
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
            // The provider's error codes are a fixed vocabulary (RFC 6749 4.1.2.1); a
            // made-up one is cut short rather than written to the trail at length.
            let code: String = error
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                Problem::ProviderRefused,
                format!("refused: the identity provider answered {code}"),
            ));
        }
        let Some(code) = query.code.filter(|code| !code.is_empty()) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                Problem::ProviderRefused,
                "refused: the identity provider sent no code",
            ));
        };
        let claims = self.verified_claims(code, &pending).await?;
        let Some(value) = claim_value(&claims, &self.settings.claim) else {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                Problem::MissingClaim,
                format!("refused: the ID token has no claim {}", self.settings.claim),
            ));
        };
        if self.settings.claim == "email" && claims.email_verified() == Some(false) {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                Problem::MissingClaim,
                "refused: the identity provider has not verified the e-mail address",
            ));
        }
        let identity = ProviderIdentity {
            field: self.settings.person_field,
            value,
            assurance: ProviderAssurance {
                acr: claims.auth_context_ref().map(|acr| acr.to_string()),
                amr: claims
                    .auth_method_refs()
                    .into_iter()
                    .flatten()
                    .map(|method| method.to_string())
                    .collect(),
            },
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
    async fn verified_claims(
        &self,
        code: String,
        pending: &PendingOidcSignIn,
    ) -> Result<IdTokenClaims<OtherClaims, CoreGenderClaim>, Failure> {
        let unreachable = |error: String| {
            tracing::warn!(%error, "OpenID Connect: the identity provider cannot be reached");
            Failure::new(
                StatusCode::BAD_GATEWAY,
                Problem::ProviderUnreachable,
                "failed: the identity provider could not be reached",
            )
        };
        let client = self.client(false).await.map_err(unreachable)?;
        let http = self.http.clone();
        let answer = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| unreachable(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&move |request| send(http.clone(), request))
            .await
            .map_err(|error| {
                tracing::warn!(error = %error_chain(&error), "OpenID Connect: the code exchange failed");
                Failure::new(
                    StatusCode::BAD_GATEWAY,
                    Problem::ProviderRefused,
                    "refused: the identity provider did not exchange the code",
                )
            })?;
        let Some(id_token) = answer.id_token() else {
            return Err(Failure::new(
                StatusCode::BAD_GATEWAY,
                Problem::ProviderRefused,
                "refused: the identity provider sent no ID token",
            ));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => Ok(claims.clone()),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let client = self.client(true).await.map_err(unreachable)?;
                match id_token.claims(&client.id_token_verifier(), &nonce) {
                    Ok(claims) => Ok(claims.clone()),
                    Err(error) => Err(not_verified(&error)),
                }
            }
            Err(error) => Err(not_verified(&error)),
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

/// The configured claim's value: the standard claims by name, others from the rest of
/// the token (strings and numbers, for employee numbers given as numbers).
fn claim_value(
    claims: &IdTokenClaims<OtherClaims, CoreGenderClaim>,
    claim: &str,
) -> Option<String> {
    let value = match claim {
        "sub" => Some(claims.subject().to_string()),
        "email" => claims.email().map(|email| email.to_string()),
        "preferred_username" => claims.preferred_username().map(|name| name.to_string()),
        other => match claims.additional_claims().claims.get(other) {
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            _ => None,
        },
    };
    value.filter(|value| !value.trim().is_empty())
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

/// What went wrong, as the person is told.
enum Problem {
    ReturnPath,
    ProviderUnreachable,
    ProviderRefused,
    UnknownState,
    TokenNotVerified,
    MissingClaim,
    UnknownPerson,
    NoAccount,
    AccountDisabled,
    AssuranceTooLow(Role),
    Internal,
}

impl Problem {
    /// Swedish title and text, then English title and text.
    fn texts(&self) -> [String; 4] {
        let [sv_title, sv_text, en_title, en_text] = match self {
            Self::ReturnPath => [
                "Ogiltig adress",
                "Inloggningen ska tillbaka till en sida i Reserv. Öppna Reserv och försök igen.",
                "Invalid address",
                "The sign-in must return to a page in Reserv. Open Reserv and try again.",
            ],
            Self::ProviderUnreachable => [
                "Inloggningstjänsten svarar inte",
                "E-legitimationstjänsten kan inte nås just nu. Logga in med användarnamn, lösenord och kod, eller med en nödkod om du har en.",
                "The sign-in service does not answer",
                "The identity provider cannot be reached right now. Sign in with username, password and code, or with an emergency code if you have one.",
            ],
            Self::ProviderRefused => [
                "Inloggningen avbröts",
                "Inloggningstjänsten godkände inte inloggningen. Börja om från Reserv; om det händer igen, kontakta IT-supporten.",
                "The sign-in was cancelled",
                "The identity provider did not complete the sign-in. Start again from Reserv; if it happens again, contact the IT desk.",
            ],
            Self::UnknownState => [
                "Inloggningen har gått ut",
                "Inloggningen är okänd, för gammal eller redan använd. Börja om från Reserv.",
                "The sign-in has expired",
                "The sign-in is unknown, too old or already used. Start again from Reserv.",
            ],
            Self::TokenNotVerified => [
                "Inloggningen kunde inte kontrolleras",
                "Svaret från inloggningstjänsten gick inte att verifiera. Börja om från Reserv; om det händer igen, kontakta IT-supporten.",
                "The sign-in could not be verified",
                "The identity provider's answer did not verify. Start again from Reserv; if it happens again, contact the IT desk.",
            ],
            Self::MissingClaim => [
                "Uppgift saknas",
                "Inloggningstjänsten skickade inte den uppgift som Reserv känner igen dig på. Kontakta IT-supporten.",
                "Information missing",
                "The identity provider did not send the detail Reserv identifies you by. Contact the IT desk.",
            ],
            Self::UnknownPerson => [
                "Du finns inte i Reserv",
                "Ingen person i Reserv matchar din e-legitimation. Be din chef eller Reservs administratör att lägga in dig.",
                "You are not in Reserv",
                "No person in Reserv matches your identity. Ask your manager or Reserv's administrator to add you.",
            ],
            Self::NoAccount => [
                "Du har inget konto",
                "Du finns i Reserv men har inget konto. Be Reservs administratör om ett konto.",
                "You have no account",
                "You are in Reserv but have no account. Ask Reserv's administrator for one.",
            ],
            Self::AccountDisabled => [
                "Kontot är avstängt",
                "Ditt konto i Reserv är avstängt. Kontakta Reservs administratör.",
                "The account is disabled",
                "Your account in Reserv is disabled. Contact Reserv's administrator.",
            ],
            Self::AssuranceTooLow(_) => [
                "Starkare inloggning krävs",
                "Din roll kräver inloggning med en starkare e-legitimation (till exempel SITHS eller BankID). Börja om och välj en sådan.",
                "A stronger sign-in is required",
                "Your role requires a sign-in with a stronger identity (for example SITHS or BankID). Start again and choose one.",
            ],
            Self::Internal => [
                "Något gick fel",
                "Reserv kunde inte slutföra inloggningen. Försök igen om en stund.",
                "Something went wrong",
                "Reserv could not complete the sign-in. Try again in a moment.",
            ],
        };
        let mut texts = [sv_title, sv_text, en_title, en_text].map(str::to_owned);
        if let Self::AssuranceTooLow(role) = self {
            texts[1].push_str(&format!(" (Roll: {role}.)"));
            texts[3].push_str(&format!(" (Role: {role}.)"));
        }
        texts
    }
}

/// The page a failed sign-in answers: what was wrong and what to do, in Swedish, with
/// English below. Its texts are fixed; nothing from the request is shown.
fn page(status: StatusCode, problem: &Problem) -> Response {
    let [sv_title, sv_text, en_title, en_text] = problem.texts();
    let html = format!(
        "<!doctype html>\n<html lang=\"sv\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{sv_title} – Reserv</title></head>\n<body>\n<main>\n<h1>{sv_title}</h1>\n<p>{sv_text}</p>\n<p><a href=\"/\">Till inloggningen</a></p>\n<hr>\n<section lang=\"en\">\n<h2>{en_title}</h2>\n<p>{en_text}</p>\n<p><a href=\"/\">To the sign-in</a></p>\n</section>\n</main>\n</body>\n</html>\n"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
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
