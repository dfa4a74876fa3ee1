//! Verifying that a webhook request comes from the SMS provider: Twilio's
//! `X-Twilio-Signature`, an HMAC-SHA1 keyed with the auth token over the full public URL
//! (query string included) followed by every POST parameter's name and value, sorted by
//! name, in base64. Shared by the SMS webhooks and the voice webhook.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Whether `signature` is what the provider computes for a POST to `url` with `params`.
/// The comparison takes the same time however many bytes match.
pub fn verify_twilio_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return false;
    };
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.verify_slice(&expected).is_ok()
}

/// Whether `given` is the secret callback token `expected`, for webhooks whose provider
/// signs nothing (46elks). Both are keyed into an HMAC over the same bytes and the MACs
/// compared in constant time, so that the time taken tells nothing about how much of a
/// guess was right.
pub fn callback_token_matches(expected: &str, given: &str) -> bool {
    const MESSAGE: &[u8] = b"reserv callback token";
    let (Ok(mut expected_mac), Ok(mut given_mac)) = (
        Hmac::<Sha1>::new_from_slice(expected.as_bytes()),
        Hmac::<Sha1>::new_from_slice(given.as_bytes()),
    ) else {
        return false;
    };
    expected_mac.update(MESSAGE);
    given_mac.update(MESSAGE);
    !expected.is_empty()
        && given_mac
            .verify_slice(&expected_mac.finalize().into_bytes())
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in Twilio's security documentation.
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    fn params() -> Vec<(String, String)> {
        [
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }

    #[test]
    fn the_documented_request_is_accepted() {
        assert!(verify_twilio_signature("12345", URL, &params(), SIGNATURE));
    }

    #[test]
    fn a_tampered_body_url_or_token_is_rejected() {
        let mut tampered = params();
        tampered[3].1 = "9999".into();
        assert!(!verify_twilio_signature("12345", URL, &tampered, SIGNATURE));
        let other_url = "https://mycompany.com/myapp.php?foo=1&bar=3";
        assert!(!verify_twilio_signature(
            "12345",
            other_url,
            &params(),
            SIGNATURE
        ));
        assert!(!verify_twilio_signature("54321", URL, &params(), SIGNATURE));
        assert!(!verify_twilio_signature(
            "12345",
            URL,
            &params(),
            "not base64!"
        ));
    }

    #[test]
    fn callback_tokens_match_only_in_full() {
        let token = "f3b9c2d7a1e84b6c9d0e2f4a6b8c0d1e";
        assert!(callback_token_matches(token, token));
        assert!(!callback_token_matches(token, &token[..31]));
        assert!(!callback_token_matches(token, ""));
        assert!(
            !callback_token_matches("", ""),
            "no token configured accepts nothing"
        );
    }
}
