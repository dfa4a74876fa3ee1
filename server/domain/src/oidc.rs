//! What an OpenID Connect sign-in proves: which person the identity provider's claim
//! names, and whether the assurance it reported (acr, amr) is enough for that person's
//! roles and counts as a second factor.
//!
//! This module decides; it never speaks to the provider, verifies tokens or stores
//! anything (the API and the store do), and it must never see a token.

use crate::access::{Role, RoleGrant};
use crate::second_factor::{Factor, Factors};

crate::named_enum! {
    /// Which field of a person the provider's claim is matched to.
    pub enum PersonField as "oidc.person_field" {
            /// `people.email`, compared without regard to case.
            Email = "email",
            /// `people.external_id`: an employee number or HSA-id, compared exactly.
            ExternalId = "external_id",
        }
}

/// The `amr` values (RFC 8176) that say the provider checked more than one factor.
const MULTI_FACTOR_AMR: &[&str] = &["mfa", "otp", "hwk", "sc", "swk", "fpt", "face", "iris"];

/// The assurance rules of a deployment: which acr values are enough for the roles
/// that require one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssuranceRule {
    /// The acr values that count as high assurance; any one of them is enough.
    pub required_acr: Vec<String>,
    /// Roles that may only be used after a sign-in with one of `required_acr`.
    pub roles_requiring_acr: Vec<Role>,
}

/// What the provider reported about how the person signed in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderAssurance {
    pub acr: Option<String>,
    pub amr: Vec<String>,
}

impl ProviderAssurance {
    /// Whether the provider says it checked more than one factor: an RFC 8176 method
    /// that is a factor of its own beside a password, `mfa`, or two methods.
    pub fn is_multi_factor(&self) -> bool {
        self.amr.len() > 1
            || self
                .amr
                .iter()
                .any(|method| MULTI_FACTOR_AMR.contains(&method.as_str()))
    }

    /// The amr in its stored form, `pwd,otp`.
    pub fn stored_amr(&self) -> Option<String> {
        (!self.amr.is_empty()).then(|| self.amr.join(","))
    }
}

impl AssuranceRule {
    /// Whether `acr` is one of the values the deployment counts as high assurance.
    pub fn meets_required_acr(&self, acr: Option<&str>) -> bool {
        acr.is_some_and(|acr| self.required_acr.iter().any(|required| required == acr))
    }

    /// The first of `grants`' roles that requires an acr this sign-in did not reach.
    pub fn role_refused(
        &self,
        grants: &[RoleGrant],
        assurance: &ProviderAssurance,
    ) -> Option<Role> {
        if self.meets_required_acr(assurance.acr.as_deref()) {
            return None;
        }
        grants
            .iter()
            .map(|grant| grant.role)
            .find(|role| self.roles_requiring_acr.contains(role))
    }

    /// The factors of a session opened by the provider. It stands in for the password;
    /// it also counts as the second factor (so `login.require_second_factor` is met)
    /// when the provider reports a multi-factor sign-in in `amr` or reaches one of the
    /// required acr values, since those are the provider's strong methods (Freja eID,
    /// SITHS, BankID).
    pub fn session_factors(&self, assurance: &ProviderAssurance) -> Factors {
        let mut factors = vec![Factor::IdentityProvider];
        if assurance.is_multi_factor() || self.meets_required_acr(assurance.acr.as_deref()) {
            factors.push(Factor::ProviderMfa);
        }
        Factors(factors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UnitId;

    fn rule() -> AssuranceRule {
        AssuranceRule {
            required_acr: vec!["http://id.elegnamnden.se/loa/1.0/loa3".into()],
            roles_requiring_acr: vec![Role::Admin, Role::CrisisLead],
        }
    }

    fn assurance(acr: Option<&str>, amr: &[&str]) -> ProviderAssurance {
        ProviderAssurance {
            acr: acr.map(str::to_owned),
            amr: amr.iter().map(|method| (*method).to_owned()).collect(),
        }
    }

    #[test]
    fn roles_requiring_acr_are_refused_below_it() {
        let admin = [RoleGrant {
            role: Role::Admin,
            unit: None,
            raised_clearance: None,
        }];
        let care_worker = [RoleGrant {
            role: Role::CareWorker,
            unit: Some(UnitId(1)),
            raised_clearance: None,
        }];
        let low = assurance(Some("http://id.elegnamnden.se/loa/1.0/loa2"), &["pwd"]);
        let high = assurance(Some("http://id.elegnamnden.se/loa/1.0/loa3"), &["pwd"]);
        assert_eq!(rule().role_refused(&admin, &low), Some(Role::Admin));
        assert_eq!(
            rule().role_refused(&admin, &assurance(None, &[])),
            Some(Role::Admin)
        );
        assert_eq!(rule().role_refused(&admin, &high), None);
        assert_eq!(rule().role_refused(&care_worker, &low), None);
    }

    #[test]
    fn multi_factor_or_the_required_acr_count_as_a_second_factor() {
        let rule = rule();
        let password_only = rule.session_factors(&assurance(None, &["pwd"]));
        assert_eq!(password_only, Factors(vec![Factor::IdentityProvider]));
        assert!(!password_only.has_second_factor());
        assert!(
            rule.session_factors(&assurance(None, &["pwd", "otp"]))
                .has_second_factor()
        );
        assert!(
            rule.session_factors(&assurance(None, &["mfa"]))
                .has_second_factor()
        );
        assert!(
            rule.session_factors(&assurance(
                Some("http://id.elegnamnden.se/loa/1.0/loa3"),
                &[]
            ))
            .has_second_factor()
        );
        assert_eq!(
            assurance(None, &["pwd", "otp"]).stored_amr().as_deref(),
            Some("pwd,otp")
        );
        assert_eq!(assurance(None, &[]).stored_amr(), None);
    }
}
