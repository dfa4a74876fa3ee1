//! Who must have a second factor, and which factors a session was opened with.
//!
//! This module decides; it never stores secrets or checks codes (the store does).

use crate::access::{Role, RoleGrant};
use crate::{DomainError, Result};

crate::named_enum! {
    /// Which accounts must prove a second factor after their password.
    pub enum SecondFactorRequirement as "login.require_second_factor" {
            /// Every account.
            Everyone = "everyone",
            /// Accounts holding a role that may read more than a care worker
            /// (administrators, crisis leads, unit managers, communicators).
            AboveCareWorker = "above_care_worker",
            /// Nobody must; those who enrolled still use theirs.
            Off = "off",
        }
}

impl SecondFactorRequirement {
    /// Whether an account holding `grants` must have a second factor.
    pub fn applies_to(self, grants: &[RoleGrant]) -> bool {
        match self {
            Self::Everyone => true,
            // A grant raised above a care worker's clearance reads what a manager reads,
            // so it needs the same proof.
            Self::AboveCareWorker => grants
                .iter()
                .any(|grant| grant.clearance() > Role::CareWorker.clearance()),
            Self::Off => false,
        }
    }
}

crate::named_enum! {
    /// One thing a person proved when a session was opened.
    pub enum Factor as "factor" {
            Password = "password",
            /// A code from an authenticator app (RFC 6238).
            Totp = "totp",
            /// One of the single-use recovery codes given at TOTP enrolment.
            RecoveryCode = "recovery_code",
            /// A sealed one-time emergency code (break-glass).
            EmergencyCode = "emergency_code",
            /// A one-time code texted to the person's registered phone (the second
            /// step of break-glass when SMS works).
            SmsCode = "sms_code",
            /// A WebAuthn passkey (a phone's screen lock, a security key).
            Passkey = "passkey",
            /// A sign-in at the organisation's OpenID Connect identity provider; it
            /// stands in for the password.
            IdentityProvider = "identity_provider",
            /// The identity provider reported a multi-factor sign-in (amr) or an acr the
            /// deployment counts as high assurance: a second factor.
            ProviderMfa = "provider_mfa",
        }
}

/// The factors of a session, in the order they were proved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Factors(pub Vec<Factor>);

impl Factors {
    /// Whether a factor beyond the password was proved.
    pub fn has_second_factor(&self) -> bool {
        self.0.iter().any(|factor| {
            matches!(
                factor,
                Factor::Totp | Factor::RecoveryCode | Factor::Passkey | Factor::ProviderMfa
            )
        })
    }

    /// The stored form, `password,totp`.
    pub fn stored(&self) -> String {
        self.0
            .iter()
            .map(|factor| factor.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form.
    pub fn parse(stored: &str) -> Result<Self> {
        stored
            .split(',')
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>>>()
            .map(Self)
    }
}

impl SecondFactorRequirement {
    /// Whether a person may remove one of their own second factors, leaving
    /// `left_after` (apps and passkeys). Someone whose role needs a second factor must
    /// add another first, or they would lock themselves out of everything but
    /// enrolment; an administrator resetting a lost phone is not held to this.
    pub fn check_own_removal(self, grants: &[RoleGrant], left_after: usize) -> Result<()> {
        if left_after == 0 && self.applies_to(grants) {
            return Err(DomainError::validation(
                "secondFactor",
                "det här är din sista andra faktor och din roll kräver en: lägg till en annan (autentiseringsapp eller nyckel) innan du tar bort den här. This is your last second factor and your role requires one: add another (an authenticator app or a passkey) before removing this one",
            ));
        }
        Ok(())
    }
}

/// The message for a session that may do nothing but enrol a second factor.
pub fn enrol_first_message() -> DomainError {
    DomainError::forbidden(
        "Din roll kräver en andra faktor: lägg till en autentiseringsapp (beginTotpEnrolment) eller en nyckel (beginPasskeyEnrolment) innan du gör något annat. Your role requires a second factor: enrol an authenticator app (beginTotpEnrolment) or a passkey (beginPasskeyEnrolment) before anything else.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UnitId;

    fn grant(role: Role) -> RoleGrant {
        RoleGrant {
            role,
            unit: role.is_unit_scoped().then_some(UnitId(1)),
            raised_clearance: None,
        }
    }

    #[test]
    fn roles_above_care_worker_need_a_second_factor() {
        let rule = SecondFactorRequirement::AboveCareWorker;
        for role in [
            Role::Admin,
            Role::CrisisLead,
            Role::UnitManager,
            Role::Communicator,
        ] {
            assert!(rule.applies_to(&[grant(role)]), "{role}");
        }
        for role in [Role::CareWorker, Role::Viewer] {
            assert!(!rule.applies_to(&[grant(role)]), "{role}");
        }
        assert!(rule.applies_to(&[grant(Role::CareWorker), grant(Role::UnitManager)]));
        let raised = grant(Role::CareWorker)
            .with_raised_clearance(Some(crate::classification::Confidentiality::SENSITIVE));
        assert!(rule.applies_to(&[raised]));
        assert!(SecondFactorRequirement::Everyone.applies_to(&[grant(Role::Viewer)]));
        assert!(!SecondFactorRequirement::Off.applies_to(&[grant(Role::Admin)]));
    }

    #[test]
    fn the_last_second_factor_stays_while_the_role_needs_one() {
        let rule = SecondFactorRequirement::AboveCareWorker;
        let lead = [grant(Role::CrisisLead)];
        assert!(rule.check_own_removal(&lead, 0).is_err());
        assert!(rule.check_own_removal(&lead, 1).is_ok());
        assert!(
            rule.check_own_removal(&[grant(Role::CareWorker)], 0)
                .is_ok()
        );
        assert!(
            SecondFactorRequirement::Off
                .check_own_removal(&lead, 0)
                .is_ok()
        );
    }

    #[test]
    fn factors_round_trip_and_know_a_second_factor() -> Result<()> {
        let factors = Factors(vec![Factor::Password, Factor::Totp]);
        assert_eq!(factors.stored(), "password,totp");
        assert_eq!(Factors::parse("password,totp")?, factors);
        assert!(factors.has_second_factor());
        assert!(!Factors(vec![Factor::Password]).has_second_factor());
        assert!(!Factors(vec![Factor::EmergencyCode]).has_second_factor());
        let with_passkey = Factors(vec![Factor::Password, Factor::Passkey]);
        assert_eq!(with_passkey.stored(), "password,passkey");
        assert_eq!(Factors::parse("password,passkey")?, with_passkey);
        assert!(with_passkey.has_second_factor());
        assert!(Factors::parse("password,sms").is_err());
        Ok(())
    }
}
