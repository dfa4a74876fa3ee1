//! What the identity provider said about the person: the configured claim and the
//! assurance (acr, amr), read from the verified ID token and, for what the token leaves
//! out, from the userinfo endpoint's answer.
//!
//! Some providers put only `sub` and the basics in the ID token and give the rest
//! (an HSA-id, an employee number, sometimes acr/amr) through userinfo. The ID token
//! wins where both say something: it is signed and bound to this sign-in's nonce,
//! while userinfo is only bound to it by the access token and the subject.

use openidconnect::core::CoreGenderClaim;
use openidconnect::{AdditionalClaims, IdTokenClaims, UserInfoClaims};
use reserv_domain::oidc::ProviderAssurance;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The claims of an ID token or userinfo answer beyond the standard ones, where
/// employee numbers and HSA-ids come (and acr/amr in a userinfo answer).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(super) struct OtherClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

pub(super) type TokenClaims = IdTokenClaims<OtherClaims, CoreGenderClaim>;
pub(super) type UserinfoClaims = UserInfoClaims<OtherClaims, CoreGenderClaim>;

/// What the provider said about the person so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Claimed {
    /// The configured claim's value.
    pub value: Option<String>,
    /// `email_verified` from where `value` came.
    pub email_verified: Option<bool>,
    pub assurance: ProviderAssurance,
}

/// The standard claims a person may be named by, as both answers give them.
struct NamingClaims<'a> {
    sub: &'a str,
    email: Option<&'a str>,
    preferred_username: Option<&'a str>,
    others: &'a HashMap<String, serde_json::Value>,
}

impl NamingClaims<'_> {
    /// The configured claim's value: the standard claims by name, others from the rest
    /// (strings and numbers, for employee numbers given as numbers).
    fn value_of(&self, claim: &str) -> Option<String> {
        let value = match claim {
            "sub" => Some(self.sub.to_owned()),
            "email" => self.email.map(str::to_owned),
            "preferred_username" => self.preferred_username.map(str::to_owned),
            other => match self.others.get(other) {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(serde_json::Value::Number(number)) => Some(number.to_string()),
                _ => None,
            },
        };
        value.filter(|value| !value.trim().is_empty())
    }
}

impl Claimed {
    /// What the verified ID token says.
    pub fn from_id_token(claims: &TokenClaims, claim: &str) -> Self {
        let naming = NamingClaims {
            sub: claims.subject().as_str(),
            email: claims.email().map(|email| email.as_str()),
            preferred_username: claims.preferred_username().map(|name| name.as_str()),
            others: &claims.additional_claims().claims,
        };
        Self {
            value: naming.value_of(claim),
            email_verified: claims.email_verified(),
            assurance: ProviderAssurance {
                acr: claims.auth_context_ref().map(|acr| acr.to_string()),
                amr: claims
                    .auth_method_refs()
                    .into_iter()
                    .flatten()
                    .map(|method| method.to_string())
                    .collect(),
            },
        }
    }

    /// Whether the ID token left out the claim, or said nothing of how the person
    /// signed in: then userinfo is asked.
    pub fn lacks_something(&self) -> bool {
        self.value.is_none() || self.lacks_assurance()
    }

    fn lacks_assurance(&self) -> bool {
        self.assurance.acr.is_none() && self.assurance.amr.is_empty()
    }

    /// Fills in from a userinfo answer (whose subject the library has checked to be the
    /// ID token's) what the ID token left out.
    pub fn fill_from_userinfo(&mut self, info: &UserinfoClaims, claim: &str) {
        let others = &info.additional_claims().claims;
        if self.value.is_none() {
            let naming = NamingClaims {
                sub: info.subject().as_str(),
                email: info.email().map(|email| email.as_str()),
                preferred_username: info.preferred_username().map(|name| name.as_str()),
                others,
            };
            self.value = naming.value_of(claim);
            self.email_verified = info.email_verified();
        }
        if self.lacks_assurance() {
            self.assurance = ProviderAssurance {
                acr: match others.get("acr") {
                    Some(serde_json::Value::String(acr)) if !acr.is_empty() => Some(acr.clone()),
                    _ => None,
                },
                amr: match others.get("amr") {
                    Some(serde_json::Value::Array(methods)) => methods
                        .iter()
                        .filter_map(|method| method.as_str())
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Outcome = Result<(), openidconnect::UserInfoError<std::io::Error>>;

    fn userinfo(
        answer: serde_json::Value,
    ) -> Result<UserinfoClaims, openidconnect::UserInfoError<std::io::Error>> {
        UserInfoClaims::from_json(answer.to_string().as_bytes(), None)
    }

    #[test]
    fn userinfo_fills_in_only_what_the_id_token_left_out() -> Outcome {
        let info = userinfo(json!({
            "sub": "s-1",
            "email": "other@example.org",
            "email_verified": false,
            "hsa_id": "SE2321000016-H1",
            "acr": "loa2",
            "amr": ["pwd"],
        }))?;
        let mut from_token = Claimed {
            value: Some("anna@example.org".into()),
            email_verified: Some(true),
            assurance: ProviderAssurance {
                acr: Some("loa3".into()),
                amr: vec![],
            },
        };
        let kept = from_token.clone();
        from_token.fill_from_userinfo(&info, "email");
        assert_eq!(from_token, kept);

        let mut without = Claimed::default();
        without.fill_from_userinfo(&info, "hsa_id");
        assert_eq!(without.value.as_deref(), Some("SE2321000016-H1"));
        assert_eq!(without.assurance.acr.as_deref(), Some("loa2"));
        assert_eq!(without.assurance.amr, ["pwd"]);

        let mut email = Claimed::default();
        email.fill_from_userinfo(&info, "email");
        assert_eq!(email.value.as_deref(), Some("other@example.org"));
        assert_eq!(email.email_verified, Some(false));
        Ok(())
    }

    #[test]
    fn an_employee_number_may_come_as_a_number_and_an_empty_claim_is_none() -> Outcome {
        let info = userinfo(json!({ "sub": "s-1", "employee_id": 1001, "hsa_id": " " }))?;
        let mut claimed = Claimed::default();
        claimed.fill_from_userinfo(&info, "employee_id");
        assert_eq!(claimed.value.as_deref(), Some("1001"));
        let mut blank = Claimed::default();
        blank.fill_from_userinfo(&info, "hsa_id");
        assert_eq!(blank.value, None);
        assert!(blank.lacks_something());
        Ok(())
    }
}
