//! The paper back-log of a recovery run: the forms a unit filled in by hand while the
//! system was down, followed through receipt, registration in the system, the spot
//! check (the medical responsible nurse's, MAS) and archiving. In Kalix this catch-up
//! took weeks; the crisis lead must see what is left per unit.
//!
//! Counts are recorded, never erased: a mistake is put right with a negative count,
//! which may not take a stage below zero or below the stage after it.

use crate::{DomainError, Result};

crate::named_enum! {
    /// Where a paper form stands on its way back into the system.
    pub enum BacklogStage as "stage" {
            /// Handed in from the unit to whoever registers it.
            Received = "received",
            /// Entered into the system it was written for.
            Registered = "registered",
            /// Spot-checked against the paper (the medical responsible nurse's check).
            Checked = "checked",
            /// Filed as the record's paper original.
            Archived = "archived",
        }
}

impl BacklogStage {
    /// The stage a form passes before this one.
    pub fn previous(self) -> Option<Self> {
        match self {
            Self::Received => None,
            Self::Registered => Some(Self::Received),
            Self::Checked => Some(Self::Registered),
            Self::Archived => Some(Self::Checked),
        }
    }

    /// The stage a form passes after this one.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Received => Some(Self::Registered),
            Self::Registered => Some(Self::Checked),
            Self::Checked => Some(Self::Archived),
            Self::Archived => None,
        }
    }

    /// The spot check is a clinical responsibility, not the unit's own: only those who
    /// manage incidents (the crisis leads, among them the MAS) record it.
    pub fn needs_clinical_responsibility(self) -> bool {
        self == Self::Checked
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Registered => "registered",
            Self::Checked => "checked",
            Self::Archived => "archived",
        }
    }
}

/// How many forms have reached each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub received: i64,
    pub registered: i64,
    pub checked: i64,
    pub archived: i64,
}

/// The largest count one entry may record: a unit's forms for weeks, not a typo.
const MAX_COUNT: i64 = 10_000;

impl Backlog {
    /// The back-log after `entries` (stage, count), in the order recorded.
    pub fn of(entries: impl IntoIterator<Item = (BacklogStage, i64)>) -> Self {
        let mut backlog = Self::default();
        for (stage, count) in entries {
            *backlog.at_mut(stage) += count;
        }
        backlog
    }

    pub fn at(&self, stage: BacklogStage) -> i64 {
        match stage {
            BacklogStage::Received => self.received,
            BacklogStage::Registered => self.registered,
            BacklogStage::Checked => self.checked,
            BacklogStage::Archived => self.archived,
        }
    }

    fn at_mut(&mut self, stage: BacklogStage) -> &mut i64 {
        match stage {
            BacklogStage::Received => &mut self.received,
            BacklogStage::Registered => &mut self.registered,
            BacklogStage::Checked => &mut self.checked,
            BacklogStage::Archived => &mut self.archived,
        }
    }

    /// Checks that `count` forms may be recorded at `stage` and answers the back-log
    /// after it: no more forms at a stage than passed the stage before it, and no
    /// correction below zero or below the stage after it.
    pub fn record(&self, stage: BacklogStage, count: i64) -> Result<Self> {
        if count == 0 || !(-MAX_COUNT..=MAX_COUNT).contains(&count) {
            return Err(DomainError::validation(
                "count",
                format!(
                    "must be 1 to {MAX_COUNT} forms, or a negative number to correct an earlier count; not {count}"
                ),
            ));
        }
        let mut after = *self;
        *after.at_mut(stage) += count;
        let total = after.at(stage);
        if total < 0 {
            return Err(DomainError::validation(
                "count",
                format!(
                    "{count} would leave {total} forms {}; correct at most the {} recorded",
                    stage.describe(),
                    self.at(stage)
                ),
            ));
        }
        if let Some(previous) = stage.previous()
            && total > after.at(previous)
        {
            return Err(DomainError::validation(
                "count",
                format!(
                    "{total} forms {} would be more than the {} {}; record them as {} first",
                    stage.describe(),
                    after.at(previous),
                    previous.describe(),
                    previous.describe()
                ),
            ));
        }
        if let Some(next) = stage.next()
            && total < after.at(next)
        {
            return Err(DomainError::validation(
                "count",
                format!(
                    "{total} forms {} would be fewer than the {} already {}",
                    stage.describe(),
                    after.at(next),
                    next.describe()
                ),
            ));
        }
        Ok(after)
    }

    /// Forms received but not yet registered in the system.
    pub fn left_to_register(&self) -> i64 {
        self.received - self.registered
    }

    /// Forms registered but not yet spot-checked.
    pub fn left_to_check(&self) -> i64 {
        self.registered - self.checked
    }

    /// Forms checked but not yet archived.
    pub fn left_to_archive(&self) -> i64 {
        self.checked - self.archived
    }

    /// Forms received that have not reached the archive.
    pub fn left(&self) -> i64 {
        self.received - self.archived
    }

    /// The sum of several runs' back-logs, for a unit or an incident.
    pub fn plus(self, other: Self) -> Self {
        Self {
            received: self.received + other.received,
            registered: self.registered + other.registered,
            checked: self.checked + other.checked,
            archived: self.archived + other.archived,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BacklogStage::*;

    fn message(result: Result<Backlog>) -> Option<String> {
        result.err().map(|error| error.to_string())
    }

    #[test]
    fn forms_move_through_the_stages_in_order() -> Result<()> {
        let backlog = Backlog::default()
            .record(Received, 40)?
            .record(Registered, 25)?
            .record(Checked, 5)?
            .record(Archived, 5)?;
        assert_eq!(
            (
                backlog.left_to_register(),
                backlog.left_to_check(),
                backlog.left_to_archive()
            ),
            (15, 20, 0)
        );
        assert_eq!(backlog.left(), 35);
        assert_eq!(
            Backlog::of([
                (Received, 40),
                (Registered, 25),
                (Checked, 5),
                (Archived, 5)
            ]),
            backlog
        );
        Ok(())
    }

    #[test]
    fn no_stage_runs_ahead_of_the_one_before_it() -> Result<()> {
        let backlog = Backlog::default().record(Received, 10)?;
        assert_eq!(
            message(backlog.record(Registered, 12)).as_deref(),
            Some(
                "count: 12 forms registered would be more than the 10 received; record them as received first"
            )
        );
        assert_eq!(
            message(Backlog::default().record(Checked, 1)).as_deref(),
            Some(
                "count: 1 forms checked would be more than the 0 registered; record them as registered first"
            )
        );
        Ok(())
    }

    #[test]
    fn a_correction_stays_at_or_above_zero_and_the_next_stage() -> Result<()> {
        let backlog = Backlog::default()
            .record(Received, 10)?
            .record(Registered, 8)?;
        assert_eq!(backlog.record(Received, -2)?.received, 8);
        assert_eq!(
            message(backlog.record(Received, -3)).as_deref(),
            Some("count: 7 forms received would be fewer than the 8 already registered")
        );
        assert_eq!(
            message(backlog.record(Registered, -9)).as_deref(),
            Some("count: -9 would leave -1 forms registered; correct at most the 8 recorded")
        );
        assert!(
            message(backlog.record(Received, 0))
                .is_some_and(|m| m.starts_with("count: must be 1 to 10000"))
        );
        assert!(backlog.record(Received, 10_001).is_err());
        Ok(())
    }

    #[test]
    fn only_the_spot_check_needs_clinical_responsibility() {
        for stage in BacklogStage::ALL {
            assert_eq!(stage.needs_clinical_responsibility(), *stage == Checked);
        }
    }
}
