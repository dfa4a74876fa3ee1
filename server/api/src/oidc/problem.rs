//! The pages a sign-in through the identity provider answers when it does not open a
//! session: what happened and what to do, in Swedish with English below. Their texts
//! are fixed; nothing from the request or the provider's free text is shown.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use reserv_domain::access::Role;

/// The error codes an authorization endpoint may answer with (RFC 6749 4.1.2.1 and
/// OpenID Connect Core 3.1.2.6); a code outside them is not repeated anywhere.
const PROVIDER_ERROR_CODES: &[&str] = &[
    "access_denied",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
];

/// The provider's `error` as one of the known codes.
pub(super) fn known_provider_error(error: &str) -> Option<&'static str> {
    PROVIDER_ERROR_CODES
        .iter()
        .copied()
        .find(|code| *code == error)
}

/// What went wrong, as the person is told.
pub(super) enum Problem {
    ReturnPath,
    /// The provider (its discovery, token or userinfo endpoint) cannot be reached, or
    /// says it is unavailable.
    ProviderUnreachable,
    /// The person cancelled at the provider, or the provider declined (`access_denied`).
    ProviderCancelled,
    /// The provider wants the person to sign in or consent there again
    /// (`login_required`, `interaction_required` …).
    ProviderWantsInteraction,
    /// The provider answered an error, with its code when it is a known one.
    ProviderRefused(Option<&'static str>),
    /// The userinfo endpoint answered, but not with the person's details.
    UserinfoFailed,
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
                "Inloggning med e-legitimation fungerar inte just nu",
                "E-legitimationstjänsten kan inte nås. Logga in i Reserv med användarnamn och lösenord (och din kod), eller med en nödkod om du har fått en. Prova e-legitimationen igen senare.",
                "Sign-in with the identity provider is not available now",
                "The identity provider cannot be reached. Sign in to Reserv with your username and password (and your code), or with an emergency code (break-glass) if you were given one. Try the identity provider again later.",
            ],
            Self::ProviderCancelled => [
                "Inloggningen avbröts",
                "Inloggningen avbröts hos e-legitimationstjänsten: du avbröt den, eller så nekade tjänsten den. Du är inte inloggad. Börja om från Reserv för att försöka igen.",
                "The sign-in was cancelled",
                "The sign-in was cancelled at the identity provider: you cancelled it, or the provider declined it. You are not signed in. Start again from Reserv to try again.",
            ],
            Self::ProviderWantsInteraction => [
                "Logga in hos e-legitimationstjänsten igen",
                "E-legitimationstjänsten vill att du loggar in eller godkänner inloggningen hos den på nytt. Du är inte inloggad. Börja om från Reserv.",
                "Sign in at the identity provider again",
                "The identity provider wants you to sign in or to approve the sign-in there again. You are not signed in. Start again from Reserv.",
            ],
            Self::ProviderRefused(_) => [
                "Inloggningen misslyckades",
                "E-legitimationstjänsten slutförde inte inloggningen. Du är inte inloggad. Börja om från Reserv; om det händer igen, kontakta IT-supporten.",
                "The sign-in failed",
                "The identity provider did not complete the sign-in. You are not signed in. Start again from Reserv; if it happens again, contact the IT desk.",
            ],
            Self::UserinfoFailed => [
                "Dina uppgifter kunde inte hämtas",
                "E-legitimationstjänsten lämnade inte ut de uppgifter som Reserv känner igen dig på. Du är inte inloggad. Försök igen om en stund, eller logga in med användarnamn och lösenord eller med en nödkod.",
                "Your details could not be fetched",
                "The identity provider did not give the details Reserv identifies you by. You are not signed in. Try again in a moment, or sign in with your username and password or with an emergency code.",
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
        match self {
            Self::AssuranceTooLow(role) => {
                texts[1].push_str(&format!(" (Roll: {role}.)"));
                texts[3].push_str(&format!(" (Role: {role}.)"));
            }
            Self::ProviderRefused(Some(code)) => {
                texts[1].push_str(&format!(" (Felkod från tjänsten: {code}.)"));
                texts[3].push_str(&format!(" (The provider's error code: {code}.)"));
            }
            _ => (),
        }
        texts
    }
}

/// The page a failed sign-in answers: what was wrong and what to do, in Swedish, with
/// English below. Its texts are fixed; nothing from the request is shown.
pub(super) fn page(status: StatusCode, problem: &Problem) -> Response {
    let [sv_title, sv_text, en_title, en_text] = problem.texts();
    let html = format!(
        "<!doctype html>\n<html lang=\"sv\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{sv_title} – Reserv</title></head>\n<body>\n<main>\n<h1>{sv_title}</h1>\n<p>{sv_text}</p>\n<p><a href=\"/\">Till inloggningen</a></p>\n<hr>\n<section lang=\"en\">\n<h2>{en_title}</h2>\n<p>{en_text}</p>\n<p><a href=\"/\">To the sign-in</a></p>\n</section>\n</main>\n</body>\n</html>\n"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}
