//! Checklist runs: working through an activated routine's steps, one unit at a time.
//!
//! A run is either the routine's fallback steps (started at activation) or its recovery
//! steps (opened when the incident moves to recovering). Marks on a step are appended,
//! never changed: a tick, an untick or a comment is a new mark, and a step's state is
//! that of its last tick or untick. This module holds the rules; it never reads or
//! writes storage.

use crate::{DomainError, Result};
use chrono::{DateTime, Utc};

crate::named_enum! {
    /// Which of a routine's step lists a run works through.
    pub enum RunPhase as "phase" {
        /// The analog way of working while the system is down.
        Fallback = "fallback",
        /// Bringing paper records back into the systems afterwards.
        Recovery = "recovery",
    }
}

crate::named_enum! {
    /// What a mark on a step does.
    pub enum MarkKind as "kind" {
        Tick = "tick",
        Untick = "untick",
        /// A remark that leaves the step as it was.
        Comment = "comment",
    }
}

/// The longest comment on a step, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A mark someone asks to put on a step, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMark {
    pub kind: MarkKind,
    /// The step's number as printed in the binder, from 1.
    pub step: i64,
    pub comment: Option<String>,
}

impl NewMark {
    /// Checks the mark against a routine with `step_count` steps in the run's phase and
    /// returns the index of the step (from 0) with the trimmed comment.
    pub fn validate(self, routine: &str, step_count: usize) -> Result<(usize, Option<String>)> {
        let index = usize::try_from(self.step)
            .ok()
            .and_then(|number| number.checked_sub(1))
            .filter(|index| *index < step_count)
            .ok_or_else(|| {
                DomainError::validation(
                    "step",
                    format!(
                        "step {} does not exist: the routine \"{routine}\" has {step_count} steps in this run, numbered from 1",
                        self.step
                    ),
                )
            })?;
        let comment = self
            .comment
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        if let Some(text) = &comment
            && text.chars().count() > MAX_COMMENT_CHARS
        {
            return Err(DomainError::validation(
                "comment",
                format!(
                    "step {}: a comment may be at most {MAX_COMMENT_CHARS} characters",
                    self.step
                ),
            ));
        }
        if self.kind == MarkKind::Comment && comment.is_none() {
            return Err(DomainError::validation(
                "comment",
                format!("step {}: write the comment", self.step),
            ));
        }
        Ok((index, comment))
    }
}

/// A mark as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub id: i64,
    pub run_id: i64,
    pub step_id: i64,
    pub kind: MarkKind,
    /// Whether the step was ticked after this mark.
    pub ticked: bool,
    pub comment: Option<String>,
    pub client_id: String,
    pub author: String,
    pub recorded_at: DateTime<Utc>,
}

/// Whether a step is ticked after `marks` (oldest first): the last tick or untick
/// decides; comments change nothing.
pub fn is_ticked<'a>(marks: impl IntoIterator<Item = &'a Mark>) -> bool {
    marks
        .into_iter()
        .filter(|mark| mark.kind != MarkKind::Comment)
        .last()
        .is_some_and(|mark| mark.ticked)
}

/// How far a run, a unit or an incident has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

impl std::ops::Add for Progress {
    type Output = Progress;

    fn add(self, other: Progress) -> Progress {
        Progress {
            done: self.done + other.done,
            total: self.total + other.total,
        }
    }
}

impl Progress {
    pub fn is_complete(self) -> bool {
        self.done >= self.total
    }
}

/// A recovery run that still has unticked steps, named for the error that stops a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRecovery {
    pub unit: String,
    pub routine: String,
    pub progress: Progress,
}

/// Whether the incident may close with these recovery runs still open. Closing anyway
/// takes a reason, which is logged; without one the refusal names what is left.
pub fn ensure_may_close(open: &[OpenRecovery], reason: Option<&str>) -> Result<Option<String>> {
    let reason = reason.map(str::trim).filter(|text| !text.is_empty());
    if open.is_empty() {
        return Ok(reason.map(str::to_owned));
    }
    match reason {
        Some(reason) => Ok(Some(reason.to_owned())),
        None => {
            let left: Vec<String> = open
                .iter()
                .map(|run| {
                    format!(
                        "{}: \"{}\" ({} of {} steps done)",
                        run.unit, run.routine, run.progress.done, run.progress.total
                    )
                })
                .collect();
            Err(DomainError::conflict(format!(
                "Återställningen är inte klar / recovery is not finished: {}. Tick the remaining steps, or close with a reason for the crisis log",
                left.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(kind: MarkKind, ticked: bool) -> Mark {
        Mark {
            id: 1,
            run_id: 1,
            step_id: 1,
            kind,
            ticked,
            comment: None,
            client_id: "c".into(),
            author: "a".into(),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn the_last_tick_or_untick_decides_and_comments_do_not() {
        assert!(!is_ticked(&[]));
        let ticked = mark(MarkKind::Tick, true);
        let unticked = mark(MarkKind::Untick, false);
        let remark = mark(MarkKind::Comment, false);
        assert!(is_ticked(std::slice::from_ref(&ticked)));
        assert!(is_ticked(&[ticked.clone(), remark.clone()]));
        assert!(!is_ticked(&[ticked.clone(), unticked.clone()]));
        assert!(is_ticked(&[unticked, ticked]));
    }

    #[test]
    fn a_step_outside_the_routine_is_named() {
        let bad = NewMark {
            kind: MarkKind::Tick,
            step: 9,
            comment: None,
        };
        let error = bad
            .validate("Körlistor på papper", 4)
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|text| text.contains("step 9")));
        let zero = NewMark {
            kind: MarkKind::Tick,
            step: 0,
            comment: None,
        };
        assert!(zero.validate("r", 4).is_err());
        let first = NewMark {
            kind: MarkKind::Comment,
            step: 1,
            comment: Some("  ok  ".into()),
        };
        assert_eq!(first.validate("r", 4).ok(), Some((0, Some("ok".into()))));
    }

    #[test]
    fn closing_with_open_recovery_needs_a_reason() {
        let open = [OpenRecovery {
            unit: "Solgården".into(),
            routine: "Papperssignering".into(),
            progress: Progress { done: 1, total: 3 },
        }];
        let refused = ensure_may_close(&open, Some("  ")).err();
        assert!(matches!(&refused, Some(DomainError::Conflict(text))
            if text.contains("Solgården") && text.contains("Papperssignering")));
        assert_eq!(
            ensure_may_close(&open, Some("klart")).ok(),
            Some(Some("klart".into()))
        );
        assert_eq!(ensure_may_close(&[], None).ok(), Some(None));
    }
}
