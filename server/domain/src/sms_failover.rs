//! Which of two SMS providers sends: the primary until it fails `failures_before_switch`
//! times in a row, then the failover, with one send offered to the primary again after
//! each cool-down; when that probe goes through, traffic moves back.
//!
//! A plain state machine with the time passed in, so that tests drive it without
//! sleeping. Only the provider's own failures count: an invalid number or a refused
//! text says nothing about whether the provider works, and must never move traffic.

use chrono::{DateTime, Duration, Utc};
use std::num::NonZeroU32;

/// The two providers of a failover pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRole {
    Primary,
    Failover,
}

/// When to move traffic, from `[sms]`'s `failover_after` and `failover_retry_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverPolicy {
    /// Failures of the primary in a row that move traffic to the failover.
    pub failures_before_switch: NonZeroU32,
    /// How long the failover carries traffic before the primary is tried again.
    pub primary_retry_after: Duration,
}

/// How a provider answered one send, as far as its health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderHealth {
    /// It took the message, or refused it for a reason of the message's own (invalid
    /// number, unsubscribed, text too long) or asked us to slow down: it works.
    Working,
    /// It was unreachable, failed (5xx), refused our credentials or answered nonsense.
    Failing,
}

/// One send as routed: which provider, and whether it is the probe of a primary that
/// traffic moved away from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub role: ProviderRole,
    pub probe: bool,
}

/// A move of traffic from one provider to the other, for the log and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    pub to: ProviderRole,
    pub at: DateTime<Utc>,
}

/// The state of a failover pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    policy: FailoverPolicy,
    active: ProviderRole,
    failures_in_a_row: u32,
    /// While the failover is active: when the primary gets its next probe.
    next_probe_at: Option<DateTime<Utc>>,
}

impl Failover {
    /// A pair sending through the primary.
    pub fn new(policy: FailoverPolicy) -> Self {
        Self {
            policy,
            active: ProviderRole::Primary,
            failures_in_a_row: 0,
            next_probe_at: None,
        }
    }

    /// The provider that carries traffic now.
    pub fn active(&self) -> ProviderRole {
        self.active
    }

    /// Where the next send goes at `now`. While the failover is active, the first send
    /// after each cool-down is a probe of the primary; the sends after it go to the
    /// failover until the probe's answer is recorded.
    pub fn route(&mut self, now: DateTime<Utc>) -> Route {
        match (self.active, self.next_probe_at) {
            (ProviderRole::Failover, Some(probe_at)) if now >= probe_at => {
                self.next_probe_at = Some(now + self.policy.primary_retry_after);
                Route {
                    role: ProviderRole::Primary,
                    probe: true,
                }
            }
            (active, _) => Route {
                role: active,
                probe: false,
            },
        }
    }

    /// Records how the provider of `route` answered; answers the switch this caused.
    /// Answers from the primary that were under way when traffic moved away from it
    /// are ignored: only a probe brings traffic back, so that a flapping primary does
    /// not move it back and forth within one batch.
    pub fn record(
        &mut self,
        route: Route,
        health: ProviderHealth,
        now: DateTime<Utc>,
    ) -> Option<Switch> {
        match (self.active, route.role, health) {
            (ProviderRole::Primary, ProviderRole::Primary, ProviderHealth::Working) => {
                self.failures_in_a_row = 0;
                None
            }
            (ProviderRole::Primary, ProviderRole::Primary, ProviderHealth::Failing) => {
                self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
                if self.failures_in_a_row < self.policy.failures_before_switch.get() {
                    return None;
                }
                Some(self.switch_to(ProviderRole::Failover, now))
            }
            (ProviderRole::Failover, ProviderRole::Primary, ProviderHealth::Working)
                if route.probe =>
            {
                Some(self.switch_to(ProviderRole::Primary, now))
            }
            // A failed probe waits for the next cool-down, already set when it was
            // routed; the failover's own failures leave nowhere better to go.
            _ => None,
        }
    }

    fn switch_to(&mut self, to: ProviderRole, now: DateTime<Utc>) -> Switch {
        self.active = to;
        self.failures_in_a_row = 0;
        self.next_probe_at = match to {
            ProviderRole::Failover => Some(now + self.policy.primary_retry_after),
            ProviderRole::Primary => None,
        };
        Switch { to, at: now }
    }
}

/// Which provider sends now, as the API shows it to crisis leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSmsProvider {
    /// The provider's kind, `twilio` or `46elks`.
    pub name: String,
    pub role: ProviderRole,
    /// When traffic last moved; `None` while the primary has carried it since start.
    pub since: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> FailoverPolicy {
        FailoverPolicy {
            failures_before_switch: NonZeroU32::MIN.saturating_add(2),
            primary_retry_after: Duration::seconds(60),
        }
    }

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + second, 0)
            .single()
            .unwrap_or_default()
    }

    /// Routes one send at `second` and records `health` for it.
    fn send(pair: &mut Failover, second: i64, health: ProviderHealth) -> (Route, Option<Switch>) {
        let route = pair.route(at(second));
        (route, pair.record(route, health, at(second)))
    }

    #[test]
    fn the_primary_carries_traffic_until_it_fails_three_times_in_a_row() {
        let mut pair = Failover::new(policy());
        send(&mut pair, 0, ProviderHealth::Failing);
        send(&mut pair, 1, ProviderHealth::Failing);
        send(&mut pair, 2, ProviderHealth::Working);
        send(&mut pair, 3, ProviderHealth::Failing);
        let (route, switch) = send(&mut pair, 4, ProviderHealth::Failing);
        assert_eq!(route.role, ProviderRole::Primary);
        assert_eq!(switch, None, "a success in between starts the count again");
        let (_, switch) = send(&mut pair, 5, ProviderHealth::Failing);
        assert_eq!(
            switch,
            Some(Switch {
                to: ProviderRole::Failover,
                at: at(5)
            })
        );
        assert_eq!(pair.active(), ProviderRole::Failover);
        assert_eq!(pair.route(at(6)).role, ProviderRole::Failover);
    }

    #[test]
    fn the_primary_gets_one_probe_per_cool_down_and_traffic_returns_when_it_works() {
        let mut pair = Failover::new(policy());
        for second in 0..3 {
            send(&mut pair, second, ProviderHealth::Failing);
        }
        assert_eq!(pair.route(at(61)).role, ProviderRole::Failover, "cool-down");
        let probe = pair.route(at(62));
        assert_eq!(
            probe,
            Route {
                role: ProviderRole::Primary,
                probe: true
            }
        );
        assert_eq!(
            pair.route(at(62)).role,
            ProviderRole::Failover,
            "one probe at a time: the sends beside it go to the failover"
        );
        assert_eq!(pair.record(probe, ProviderHealth::Failing, at(63)), None);
        assert_eq!(pair.route(at(100)).role, ProviderRole::Failover);
        let probe = pair.route(at(122));
        assert!(
            probe.probe,
            "the next cool-down ends 60 s after the last probe"
        );
        assert_eq!(
            pair.record(probe, ProviderHealth::Working, at(123)),
            Some(Switch {
                to: ProviderRole::Primary,
                at: at(123)
            })
        );
        assert_eq!(pair.route(at(124)), route_to(ProviderRole::Primary));
    }

    #[test]
    fn late_answers_from_the_primary_do_not_move_traffic_back() {
        let mut pair = Failover::new(policy());
        let in_flight: Vec<Route> = (0..4).map(|second| pair.route(at(second))).collect();
        for route in &in_flight[..3] {
            pair.record(*route, ProviderHealth::Failing, at(4));
        }
        assert_eq!(pair.active(), ProviderRole::Failover);
        assert_eq!(
            pair.record(in_flight[3], ProviderHealth::Working, at(5)),
            None
        );
        assert_eq!(pair.active(), ProviderRole::Failover);
    }

    #[test]
    fn the_failovers_own_failures_never_move_traffic() {
        let mut pair = Failover::new(policy());
        for second in 0..3 {
            send(&mut pair, second, ProviderHealth::Failing);
        }
        for second in 3..10 {
            let (route, switch) = send(&mut pair, second, ProviderHealth::Failing);
            assert_eq!(route, route_to(ProviderRole::Failover));
            assert_eq!(switch, None);
        }
    }

    fn route_to(role: ProviderRole) -> Route {
        Route { role, probe: false }
    }
}
