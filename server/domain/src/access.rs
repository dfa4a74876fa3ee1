//! The one access policy: which role may do what, in which units, up to which
//! confidentiality level. Every read and write path in the server asks this module; no
//! other place decides access.

use crate::classification::Confidentiality;
use crate::ids::{AccountId, PersonId, UnitId};
use crate::{DomainError, Result};
use serde::{Deserialize, Serialize};

crate::named_enum! {
    /// A role an account holds, globally or for one unit and the units below it.
    pub enum Role as "role" {
            Admin = "admin",
            CrisisLead = "crisis_lead",
            UnitManager = "unit_manager",
            CareWorker = "care_worker",
            Communicator = "communicator",
            Viewer = "viewer",
        }
}

impl Role {
    /// Unit managers and care workers act for units; the other roles act for the whole
    /// organisation.
    pub fn is_unit_scoped(self) -> bool {
        matches!(self, Role::UnitManager | Role::CareWorker)
    }

    /// The highest confidentiality level this role may read.
    pub fn clearance(self) -> Confidentiality {
        match self {
            Role::Admin | Role::CrisisLead => Confidentiality::STRICTLY_CONFIDENTIAL,
            // The communicator sits in the crisis management group and must read
            // sensitive material to decide what may be made public.
            Role::UnitManager | Role::Communicator => Confidentiality::SENSITIVE,
            Role::CareWorker | Role::Viewer => Confidentiality::INTERNAL,
        }
    }

    /// Whether this role may perform `action` at all (scope is checked separately).
    pub fn permits(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::CrisisLead => !matches!(action, ManageAccounts | ManageDirectory),
            Role::UnitManager => matches!(
                action,
                ReadDirectory
                    | ReadPlans
                    | ReadPlaybooks
                    | EditPlans
                    | ApprovePlans
                    | ReadIncidents
                    | ReportIncident
                    | WriteCrisisLog
                    | UpdateOwnTasks
                    | TickChecklists
            ),
            // Care workers write field observations into the log of incidents that
            // affect their own units.
            Role::CareWorker => matches!(
                action,
                ReadDirectory
                    | ReadPlans
                    | ReadIncidents
                    | ReportIncident
                    | WriteCrisisLog
                    | UpdateOwnTasks
                    | TickChecklists
            ),
            // Communicators write what staff and residents are told; that is their job
            // in the crisis management group.
            Role::Communicator => matches!(
                action,
                ReadDirectory
                    | ReadPlans
                    | ReadPlaybooks
                    | ReadIncidents
                    | ReportIncident
                    | WriteCrisisLog
                    | UpdateOwnTasks
                    | PublishNotices
                    | SendMessages
            ),
            Role::Viewer => matches!(action, ReadDirectory | ReadPlans | ReadIncidents),
        }
    }
}

/// Something a person may want to do. Reads and writes are separate actions so that a
/// role can read what it may not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read units, people, IT systems.
    ReadDirectory,
    /// Create and change units, people and IT systems.
    ManageDirectory,
    /// Create accounts and give roles.
    ManageAccounts,
    ReadPlans,
    /// Create plans, edit drafts.
    EditPlans,
    /// Approve or retire plan versions.
    ApprovePlans,
    ReadIncidents,
    ReportIncident,
    /// Triage, change state, assign commander, units and systems, create tasks.
    ManageIncidents,
    WriteCrisisLog,
    /// Change the state of tasks assigned to oneself.
    UpdateOwnTasks,
    ReadAudit,
    /// See the scenarios that can be activated, and what is wrong with their files.
    ReadPlaybooks,
    /// Load playbook files into use.
    ImportPlaybooks,
    /// Activate a playbook: open (or join) an incident and start the units' continuity
    /// plans, tasks and checklists in one action.
    ActivatePlaybooks,
    /// Publish, update and withdraw public notices for residents.
    PublishNotices,
    /// Send crisis messages and follow who has been reached.
    SendMessages,
    /// Tick, untick and comment the steps of a unit's checklist runs.
    TickChecklists,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::ReadDirectory => "read the directory",
            Action::ManageDirectory => "change units, people or IT systems",
            Action::ManageAccounts => "manage accounts",
            Action::ReadPlans => "read continuity plans",
            Action::EditPlans => "edit continuity plans",
            Action::ApprovePlans => "approve or retire continuity plans",
            Action::ReadIncidents => "read incidents",
            Action::ReportIncident => "report incidents",
            Action::ManageIncidents => "manage incidents",
            Action::WriteCrisisLog => "write in the crisis log",
            Action::UpdateOwnTasks => "update tasks",
            Action::ReadAudit => "read the audit log",
            Action::ReadPlaybooks => "read playbooks",
            Action::ImportPlaybooks => "import playbooks",
            Action::ActivatePlaybooks => "activate playbooks",
            Action::PublishNotices => "publish public notices",
            Action::SendMessages => "send crisis messages",
            Action::TickChecklists => "tick checklist steps",
        }
    }
}

/// One role held by an account: for the whole organisation (`unit == None`) or for a
/// unit and everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub unit: Option<UnitId>,
    /// A clearance an administrator gave this grant above its role's default, because
    /// the person's work in the unit needs it (a manager who must read her unit's
    /// strictly confidential plan). Access follows the work, not only the role.
    pub raised_clearance: Option<Confidentiality>,
}

impl RoleGrant {
    /// Checks that unit-scoped roles name a unit and organisation-wide roles do not.
    pub fn new(role: Role, unit: Option<UnitId>) -> Result<Self> {
        match (role.is_unit_scoped(), unit) {
            (true, None) => Err(DomainError::validation(
                "unit",
                format!("the role {role} needs a unit"),
            )),
            (false, Some(_)) => Err(DomainError::validation(
                "unit",
                format!("the role {role} covers the whole organisation and takes no unit"),
            )),
            _ => Ok(Self {
                role,
                unit,
                raised_clearance: None,
            }),
        }
    }

    /// The highest level this grant reads: its role's default, or the clearance an
    /// administrator raised it to.
    pub fn clearance(&self) -> Confidentiality {
        let default = self.role.clearance();
        self.raised_clearance
            .map_or(default, |raised| raised.max(default))
    }

    /// This grant with its clearance raised to `clearance`; `None`, or a level no higher
    /// than the role's default, goes back to the default.
    pub fn with_raised_clearance(mut self, clearance: Option<Confidentiality>) -> Self {
        self.raised_clearance = clearance.filter(|level| *level > self.role.clearance());
        self
    }

    fn covers(&self, scope: &Scope<'_>) -> bool {
        match (self.unit, scope) {
            (None, _) => true,
            (Some(_), Scope::Organisation) => false,
            (Some(unit), Scope::Unit(path)) => path.contains(unit),
            (Some(unit), Scope::AnyOf(paths)) => paths.iter().any(|path| path.contains(unit)),
            (Some(unit), Scope::Plan { unit: path, .. }) => path.contains(unit),
        }
    }
}

/// An administrator's decision to raise (or reset) the clearance of one grant, with the
/// reason that the audit trail keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearanceChange {
    pub role: Role,
    pub unit: Option<UnitId>,
    /// `None` goes back to the role's default.
    pub clearance: Option<Confidentiality>,
    pub reason: String,
}

impl ClearanceChange {
    /// Checks the level and the reason: a raise must go above the role's default (a
    /// lower level would change nothing), and every change says why.
    pub fn new(
        role: Role,
        unit: Option<UnitId>,
        clearance: Option<i64>,
        reason: &str,
    ) -> Result<Self> {
        let clearance = clearance
            .map(|level| Confidentiality::new("clearance", level))
            .transpose()?;
        if let Some(level) = clearance
            && level <= role.clearance()
        {
            return Err(DomainError::validation(
                "clearance",
                format!(
                    "the role {role} already reads up to level {}; give a higher level, or none to go back to the role's default",
                    role.clearance().level()
                ),
            ));
        }
        Ok(Self {
            role,
            unit,
            clearance,
            reason: crate::validate::required_text("reason", reason, 500)?,
        })
    }
}

/// A unit and all of its ancestors, root first. Scoped roles cover a unit when their
/// unit appears on its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPath(pub Vec<UnitId>);

impl UnitPath {
    pub fn contains(&self, unit: UnitId) -> bool {
        self.0.contains(&unit)
    }
}

/// Where an action takes place.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Not tied to a unit (the directory, accounts, a new incident without units).
    Organisation,
    Unit(&'a UnitPath),
    /// Any of several units, such as the units an incident affects.
    AnyOf(&'a [UnitPath]),
    /// A continuity plan: its unit, and the person who owns it. The owner answers for
    /// the plan, so she reads it whatever her roles' units and clearance are.
    Plan {
        unit: &'a UnitPath,
        owner: Option<PersonId>,
    },
}

/// The signed-in person on whose behalf a request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `None` for the operator acting through the command line.
    pub account_id: Option<AccountId>,
    pub username: String,
    pub person_id: Option<PersonId>,
    pub grants: Vec<RoleGrant>,
    /// Where the request came from, for the audit trail.
    pub client_address: Option<String>,
}

impl Principal {
    /// The operator at the server's command line (creating accounts, loading demo
    /// data): an administrator without an account.
    pub fn operator(what: &str) -> Self {
        Self {
            account_id: None,
            username: format!("operator ({what})"),
            person_id: None,
            grants: vec![RoleGrant {
                role: Role::Admin,
                unit: None,
                raised_clearance: None,
            }],
            client_address: None,
        }
    }

    /// Whether `scope` is a plan this principal owns.
    fn owns(&self, scope: &Scope<'_>) -> bool {
        match scope {
            Scope::Plan { owner, .. } => owner.is_some() && *owner == self.person_id,
            _ => false,
        }
    }

    /// Allows `action` in `scope`, or says why not.
    pub fn authorize(&self, action: Action, scope: Scope<'_>) -> Result<()> {
        if self.may(action, scope) {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "{} may not {}{}",
                self.username,
                action.describe(),
                match scope {
                    Scope::Organisation => "",
                    Scope::Unit(_) | Scope::AnyOf(_) | Scope::Plan { .. } => " in this unit",
                }
            )))
        }
    }

    /// Whether some role permits `action` anywhere: in the whole organisation or in at
    /// least one unit. Listings ask this first and then filter by unit.
    pub fn may_somewhere(&self, action: Action) -> bool {
        self.grants.iter().any(|grant| grant.role.permits(action))
    }

    /// Allows `action` when [`Self::may_somewhere`] does, or says why not.
    pub fn authorize_somewhere(&self, action: Action) -> Result<()> {
        if self.may_somewhere(action) {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "{} may not {}",
                self.username,
                action.describe()
            )))
        }
    }

    pub fn may(&self, action: Action, scope: Scope<'_>) -> bool {
        (action == Action::ReadPlans && self.owns(&scope))
            || self
                .grants
                .iter()
                .any(|grant| grant.role.permits(action) && grant.covers(&scope))
    }

    /// Allows reading information of `level` in `scope` for `action`, or says why not.
    /// The clearance comes from the grants that cover the scope, so a unit manager's
    /// clearance does not reach other units.
    pub fn authorize_read(
        &self,
        action: Action,
        scope: Scope<'_>,
        level: Confidentiality,
    ) -> Result<()> {
        self.authorize(action, scope)?;
        if self.clearance_in(action, scope) >= level {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "{} may not read information at confidentiality level {}",
                self.username,
                level.level()
            )))
        }
    }

    /// The highest level readable for `action` in `scope`: the clearance of the grants
    /// that cover it, and every level of a plan for its owner wherever she may act.
    pub fn clearance_in(&self, action: Action, scope: Scope<'_>) -> Confidentiality {
        if self.owns(&scope) && self.may(action, scope) {
            return Confidentiality::STRICTLY_CONFIDENTIAL;
        }
        self.grants
            .iter()
            .filter(|grant| grant.role.permits(action) && grant.covers(&scope))
            .map(RoleGrant::clearance)
            .max()
            .unwrap_or(Confidentiality::PUBLIC)
    }

    /// The units this principal is limited to for `action`, or `None` when it may act
    /// everywhere. Listings use this to filter in the database.
    pub fn unit_limits(&self, action: Action) -> Option<Vec<UnitId>> {
        let grants: Vec<&RoleGrant> = self
            .grants
            .iter()
            .filter(|grant| grant.role.permits(action))
            .collect();
        if grants.iter().any(|grant| grant.unit.is_none()) {
            return None;
        }
        Some(grants.iter().filter_map(|grant| grant.unit).collect())
    }

    /// How far this principal reads people's contact cards: the whole staff directory
    /// up to internal level for anyone who may read the directory (people must be able
    /// to call colleagues of other units in a crisis), and beyond that only with the
    /// clearance of a grant that covers one of the person's units, so that a manager's
    /// clearance in one unit does not reach the people of another.
    pub fn directory_reach(&self) -> DirectoryReach {
        let mut reach = DirectoryReach {
            everywhere: Confidentiality::PUBLIC,
            in_units: Vec::new(),
        };
        for grant in self
            .grants
            .iter()
            .filter(|grant| grant.role.permits(Action::ReadDirectory))
        {
            let clearance = grant.clearance();
            match grant.unit {
                None => reach.everywhere = reach.everywhere.max(clearance),
                Some(unit) => {
                    reach.everywhere = reach
                        .everywhere
                        .max(clearance.min(Confidentiality::INTERNAL));
                    if clearance > Confidentiality::INTERNAL {
                        reach.in_units.push((unit, clearance));
                    }
                }
            }
        }
        reach
    }

    /// The level up to which a person sees the tasks assigned to her on incidents she
    /// may not otherwise read (a care worker of another unit called in to help): the
    /// assignment is her need to know, but only up to internal information; above it,
    /// the task's title could tell what the incident is about.
    pub fn assignment_clearance(&self) -> Confidentiality {
        self.highest_clearance(Action::ReadIncidents)
            .min(Confidentiality::INTERNAL)
    }

    /// Allows seeing and ending the sessions of `account`: one's own always, anyone's
    /// for those who manage accounts.
    pub fn authorize_sessions_of(&self, account: AccountId) -> Result<()> {
        if self.account_id == Some(account) {
            return Ok(());
        }
        self.authorize(Action::ManageAccounts, Scope::Organisation)
    }

    /// The highest clearance of any of this principal's roles that permit `action`.
    pub fn highest_clearance(&self, action: Action) -> Confidentiality {
        self.grants
            .iter()
            .filter(|grant| grant.role.permits(action))
            .map(RoleGrant::clearance)
            .max()
            .unwrap_or(Confidentiality::PUBLIC)
    }
}

/// Which people a principal may read: see [`Principal::directory_reach`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryReach {
    /// The level readable of anyone in the directory.
    pub everywhere: Confidentiality,
    /// Higher levels readable of the people of a unit (and the units below it).
    pub in_units: Vec<(UnitId, Confidentiality)>,
}

impl DirectoryReach {
    /// Whether a person at `level` who belongs to the units at `paths` may be read.
    pub fn may_read(&self, level: Confidentiality, paths: &[UnitPath]) -> bool {
        level <= self.everywhere
            || self.in_units.iter().any(|(unit, clearance)| {
                level <= *clearance && paths.iter().any(|path| path.contains(*unit))
            })
    }
}

/// Checks a new account's username: 2–64 lowercase letters, digits, `.`, `-` or `_`.
pub fn validate_username(username: &str) -> Result<String> {
    let username = username.trim();
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_');
    if !(2..=64).contains(&username.len()) || !username.chars().all(allowed) {
        return Err(DomainError::validation(
            "username",
            "must be 2 to 64 characters: lowercase letters a-z, digits, '.', '-' or '_'",
        ));
    }
    Ok(username.to_owned())
}

/// Checks a new password. Length is what makes a password strong; a second factor comes
/// on top of it.
pub fn validate_password(password: &str) -> Result<()> {
    let length = password.chars().count();
    if length < 12 {
        return Err(DomainError::validation(
            "password",
            format!("has {length} characters; use at least 12"),
        ));
    }
    if length > 256 {
        return Err(DomainError::validation(
            "password",
            "may have at most 256 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: &[(Role, Option<i64>)]) -> Principal {
        Principal {
            account_id: Some(AccountId(1)),
            username: "anna".into(),
            person_id: None,
            client_address: None,
            grants: grants
                .iter()
                .map(|(role, unit)| RoleGrant {
                    role: *role,
                    unit: unit.map(UnitId),
                    raised_clearance: None,
                })
                .collect(),
        }
    }

    fn path(units: &[i64]) -> UnitPath {
        UnitPath(units.iter().copied().map(UnitId).collect())
    }

    #[test]
    fn unit_manager_acts_in_own_subtree_only() {
        let manager = principal(&[(Role::UnitManager, Some(2))]);
        let own_child = path(&[1, 2, 5]);
        let other = path(&[1, 3, 6]);
        assert!(
            manager
                .authorize(Action::EditPlans, Scope::Unit(&own_child))
                .is_ok()
        );
        let denied = manager.authorize(Action::EditPlans, Scope::Unit(&other));
        assert!(matches!(denied, Err(DomainError::Forbidden(_))));
    }

    #[test]
    fn care_worker_reads_but_never_approves() {
        let worker = principal(&[(Role::CareWorker, Some(5))]);
        let unit = path(&[1, 2, 5]);
        assert!(worker.may(Action::ReadPlans, Scope::Unit(&unit)));
        assert!(!worker.may(Action::ApprovePlans, Scope::Unit(&unit)));
    }

    #[test]
    fn clearance_is_limited_to_the_covered_units() {
        let person = principal(&[(Role::UnitManager, Some(2)), (Role::CareWorker, Some(3))]);
        let managed = path(&[1, 2]);
        let worked = path(&[1, 3]);
        assert!(
            person
                .authorize_read(
                    Action::ReadPlans,
                    Scope::Unit(&managed),
                    Confidentiality::SENSITIVE
                )
                .is_ok()
        );
        assert!(
            person
                .authorize_read(
                    Action::ReadPlans,
                    Scope::Unit(&worked),
                    Confidentiality::SENSITIVE
                )
                .is_err()
        );
    }

    #[test]
    fn a_raised_grant_reads_higher_in_its_own_units_only() {
        let mut manager = principal(&[(Role::UnitManager, Some(2)), (Role::CareWorker, Some(3))]);
        manager.grants[0] =
            manager.grants[0].with_raised_clearance(Some(Confidentiality::STRICTLY_CONFIDENTIAL));
        let managed = path(&[1, 2]);
        let worked = path(&[1, 3]);
        let strict = Confidentiality::STRICTLY_CONFIDENTIAL;
        assert!(
            manager
                .authorize_read(Action::ReadPlans, Scope::Unit(&managed), strict)
                .is_ok()
        );
        assert!(
            manager
                .authorize_read(Action::ReadPlans, Scope::Unit(&worked), strict)
                .is_err()
        );
        assert!(manager.directory_reach().may_read(strict, &[managed]));
        // Lowering to or below the role's default keeps no raise.
        let lowered = manager.grants[0].with_raised_clearance(Some(Confidentiality::INTERNAL));
        assert_eq!(lowered.raised_clearance, None);
        assert_eq!(lowered.clearance(), Confidentiality::SENSITIVE);
    }

    #[test]
    fn a_clearance_change_goes_above_the_default_and_gives_a_reason() {
        let raise =
            ClearanceChange::new(Role::UnitManager, Some(UnitId(2)), Some(3), " Äger planen ");
        assert_eq!(
            raise.map(|change| (change.clearance, change.reason)).ok(),
            Some((
                Some(Confidentiality::STRICTLY_CONFIDENTIAL),
                "Äger planen".to_owned()
            ))
        );
        let message = |result: Result<ClearanceChange>| result.err().map(|e| e.to_string());
        assert_eq!(
            message(ClearanceChange::new(
                Role::UnitManager,
                Some(UnitId(2)),
                Some(2),
                "x"
            ))
            .as_deref(),
            Some(
                "clearance: the role unit_manager already reads up to level 2; give a higher level, or none to go back to the role's default"
            )
        );
        assert_eq!(
            message(ClearanceChange::new(
                Role::CareWorker,
                Some(UnitId(2)),
                Some(2),
                "  "
            ))
            .as_deref(),
            Some("reason: must not be empty")
        );
        assert!(
            message(ClearanceChange::new(
                Role::CareWorker,
                Some(UnitId(2)),
                Some(4),
                "x"
            ))
            .is_some_and(|m| m.contains("synnerligen allvarlig"))
        );
        assert!(ClearanceChange::new(Role::CareWorker, Some(UnitId(2)), None, "tillbaka").is_ok());
    }

    #[test]
    fn a_plans_owner_reads_it_at_every_level_wherever_it_is() {
        let mut owner = principal(&[(Role::UnitManager, Some(2))]);
        owner.person_id = Some(PersonId(7));
        let own_unit = path(&[1, 2]);
        let elsewhere = path(&[1, 3]);
        let strict = Confidentiality::STRICTLY_CONFIDENTIAL;
        for unit in [&own_unit, &elsewhere] {
            let plan = Scope::Plan {
                unit,
                owner: Some(PersonId(7)),
            };
            assert!(
                owner
                    .authorize_read(Action::ReadPlans, plan, strict)
                    .is_ok()
            );
        }
        // Editing still follows the grants: at every level in her own unit, not at all
        // elsewhere.
        let own_plan = Scope::Plan {
            unit: &own_unit,
            owner: Some(PersonId(7)),
        };
        let other_plan = Scope::Plan {
            unit: &elsewhere,
            owner: Some(PersonId(7)),
        };
        assert!(
            owner
                .authorize_read(Action::EditPlans, own_plan, strict)
                .is_ok()
        );
        assert!(owner.authorize(Action::EditPlans, other_plan).is_err());
        // Somebody else's plan, or a plan without an owner, gives nothing extra.
        for other in [Some(PersonId(8)), None] {
            let plan = Scope::Plan {
                unit: &own_unit,
                owner: other,
            };
            assert!(
                owner
                    .authorize_read(Action::ReadPlans, plan, strict)
                    .is_err()
            );
        }
        let mut nobody = principal(&[(Role::Viewer, None)]);
        nobody.person_id = None;
        let unowned = Scope::Plan {
            unit: &own_unit,
            owner: None,
        };
        assert_eq!(
            nobody.clearance_in(Action::ReadPlans, unowned),
            Confidentiality::INTERNAL
        );
    }

    #[test]
    fn organisation_wide_role_has_no_unit_limits() {
        let lead = principal(&[(Role::CrisisLead, None)]);
        assert_eq!(lead.unit_limits(Action::ReadPlans), None);
        let worker = principal(&[(Role::CareWorker, Some(4))]);
        assert_eq!(worker.unit_limits(Action::ReadPlans), Some(vec![UnitId(4)]));
        assert_eq!(worker.unit_limits(Action::EditPlans), Some(vec![]));
        assert!(worker.authorize_somewhere(Action::ReadPlans).is_ok());
        assert!(matches!(
            worker.authorize_somewhere(Action::EditPlans),
            Err(DomainError::Forbidden(message)) if message == "anna may not edit continuity plans"
        ));
    }

    #[test]
    fn communicators_and_crisis_leads_publish_notices_others_do_not() {
        for role in [Role::Communicator, Role::CrisisLead, Role::Admin] {
            assert!(principal(&[(role, None)]).may_somewhere(Action::PublishNotices));
        }
        assert!(!principal(&[(Role::Viewer, None)]).may_somewhere(Action::PublishNotices));
        assert!(!principal(&[(Role::UnitManager, Some(2))]).may_somewhere(Action::PublishNotices));
    }

    #[test]
    fn usernames_and_passwords_have_rules() {
        assert!(validate_username("anna.berg").is_ok());
        assert!(validate_username("Anna Berg").is_err());
        assert!(validate_password("kort").is_err());
        assert!(validate_password("en-lång-lösenfras").is_ok());
    }

    #[test]
    fn sensitive_people_are_read_only_where_the_clearance_was_given() {
        let person = principal(&[(Role::UnitManager, Some(2)), (Role::CareWorker, Some(3))]);
        let reach = person.directory_reach();
        let managed = [path(&[1, 2, 7])];
        let worked = [path(&[1, 3])];
        assert!(reach.may_read(Confidentiality::SENSITIVE, &managed));
        assert!(!reach.may_read(Confidentiality::SENSITIVE, &worked));
        assert!(reach.may_read(Confidentiality::INTERNAL, &worked));
        assert!(reach.may_read(Confidentiality::INTERNAL, &[]));
        let lead = principal(&[(Role::CrisisLead, None)]).directory_reach();
        assert!(lead.may_read(Confidentiality::STRICTLY_CONFIDENTIAL, &[]));
    }

    /// The audit trail is followed up by administrators and crisis leads (the crisis
    /// leads include the information security officer); the API and README say so.
    #[test]
    fn administrators_and_crisis_leads_read_the_audit_log_and_nobody_else() {
        for role in Role::ALL {
            let expected = matches!(role, Role::Admin | Role::CrisisLead);
            assert_eq!(role.permits(Action::ReadAudit), expected, "{role}");
        }
    }

    #[test]
    fn an_assignment_shows_tasks_up_to_internal_level_only() {
        let manager = principal(&[(Role::UnitManager, Some(2))]);
        assert_eq!(manager.assignment_clearance(), Confidentiality::INTERNAL);
        let worker = principal(&[(Role::CareWorker, Some(3))]);
        assert_eq!(worker.assignment_clearance(), Confidentiality::INTERNAL);
        assert_eq!(
            principal(&[]).assignment_clearance(),
            Confidentiality::PUBLIC
        );
    }

    #[test]
    fn sessions_are_ones_own_or_an_administrators_business() {
        let worker = principal(&[(Role::CareWorker, Some(4))]);
        assert!(worker.authorize_sessions_of(AccountId(1)).is_ok());
        assert!(worker.authorize_sessions_of(AccountId(2)).is_err());
        let admin = principal(&[(Role::Admin, None)]);
        assert!(admin.authorize_sessions_of(AccountId(2)).is_ok());
        let lead = principal(&[(Role::CrisisLead, None)]);
        assert!(lead.authorize_sessions_of(AccountId(2)).is_err());
    }

    #[test]
    fn grants_must_match_the_role_scope() {
        assert!(RoleGrant::new(Role::CareWorker, None).is_err());
        assert!(RoleGrant::new(Role::Admin, Some(UnitId(1))).is_err());
        assert!(RoleGrant::new(Role::UnitManager, Some(UnitId(1))).is_ok());
    }

    #[test]
    fn unknown_role_lists_the_known_ones() {
        let err = "boss".parse::<Role>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "role: unknown value 'boss'; use one of admin, crisis_lead, unit_manager, care_worker, communicator, viewer"
            )
        );
    }
}
