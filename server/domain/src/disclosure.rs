//! Where classified information may go. The access policy ([`crate::access`]) decides
//! what a person may read; this module decides what each channel may carry, whoever is
//! at the other end. Every path that takes a record out of the API (SMS, web push, the
//! public status page and fallback site, the phone's offline store, print) asks here, so
//! that one table says how far each level travels.

use crate::classification::Confidentiality;

/// A way information leaves Reserv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The GraphQL API, to a signed-in person: her clearance decides.
    Api,
    /// A printed binder: paper stays in the unit, so her clearance decides as in the API.
    Print,
    /// The PWA's store on a phone, which can be lost: up to the level the deployment
    /// allows (`offline_max_confidentiality`, never above 2).
    OfflineCache { ceiling: Confidentiality },
    /// Text messages pass operators and show on locked screens.
    Sms,
    /// Web push passes the browser maker's push service and shows on locked screens.
    Push,
    /// The public status page, its feeds and the resident phone line.
    StatusPage,
    /// The static fallback site, hosted outside the organisation.
    StaticSite,
}

/// How much of a record a channel may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// The record as it is.
    Full,
    /// Only that there is something, with its reference, so that the reader opens it
    /// where she signs in (a crisis message above internal level by SMS or push).
    Notice,
    /// Nothing at all.
    Nothing,
}

impl Channel {
    /// The highest level this channel carries in full.
    pub fn ceiling(self) -> Confidentiality {
        match self {
            Channel::Api | Channel::Print => Confidentiality::STRICTLY_CONFIDENTIAL,
            Channel::OfflineCache { ceiling } => ceiling.min(Confidentiality::SENSITIVE),
            Channel::Sms | Channel::Push => Confidentiality::INTERNAL,
            Channel::StatusPage | Channel::StaticSite => Confidentiality::PUBLIC,
        }
    }

    /// How much of a record at `level` this channel carries. Crisis messages have a
    /// recipient waiting for them, so SMS and push tell her a message is there; other
    /// channels leave out what they may not carry.
    pub fn carries(self, level: Confidentiality) -> Disclosure {
        if level <= self.ceiling() {
            Disclosure::Full
        } else if matches!(self, Channel::Sms | Channel::Push) {
            Disclosure::Notice
        } else {
            Disclosure::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [Confidentiality; 4] = [
        Confidentiality::PUBLIC,
        Confidentiality::INTERNAL,
        Confidentiality::SENSITIVE,
        Confidentiality::STRICTLY_CONFIDENTIAL,
    ];

    /// What a channel is called, for the assertion messages.
    fn describe(channel: Channel) -> &'static str {
        match channel {
            Channel::Api => "the app",
            Channel::Print => "print",
            Channel::OfflineCache { .. } => "the phone's offline store",
            Channel::Sms => "SMS",
            Channel::Push => "push notifications",
            Channel::StatusPage => "the public status page",
            Channel::StaticSite => "the fallback site",
        }
    }

    /// The table this module stands for: per channel, what each level gets.
    #[test]
    fn each_channel_carries_what_its_table_says() {
        use Disclosure::{Full as F, Nothing as N, Notice as R};
        let offline = Channel::OfflineCache {
            ceiling: Confidentiality::INTERNAL,
        };
        let table = [
            (Channel::Api, [F, F, F, F]),
            (Channel::Print, [F, F, F, F]),
            (offline, [F, F, N, N]),
            (Channel::Sms, [F, F, R, R]),
            (Channel::Push, [F, F, R, R]),
            (Channel::StatusPage, [F, N, N, N]),
            (Channel::StaticSite, [F, N, N, N]),
        ];
        for (channel, expected) in table {
            for (level, disclosure) in LEVELS.iter().zip(expected) {
                assert_eq!(
                    channel.carries(*level),
                    disclosure,
                    "{} at level {}",
                    describe(channel),
                    level.level()
                );
            }
        }
    }

    #[test]
    fn a_phone_never_keeps_strictly_confidential_records_whatever_is_configured() {
        let offline = Channel::OfflineCache {
            ceiling: Confidentiality::STRICTLY_CONFIDENTIAL,
        };
        assert_eq!(offline.ceiling(), Confidentiality::SENSITIVE);
        assert_eq!(
            offline.carries(Confidentiality::STRICTLY_CONFIDENTIAL),
            Disclosure::Nothing
        );
    }
}
