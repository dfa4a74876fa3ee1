//! Reading playbook files and checking them, reporting every problem with its file,
//! line, column and field, so that an editor can fix a folder in one pass.

use crate::format::{
    AUDIENCES, AppliesTo, ESCALATION_STEPS, MessageTemplate, PLACEHOLDERS, PlaybookFile,
    TaskTemplate, Texts, Trigger,
};
use crate::playbook::{
    Audience, EscalationRule, EscalationStep, Involves, PlannedMessage, PlannedTask, Playbook,
    PlaybookTrigger, Text,
};
use reserv_domain::access::Role;
use reserv_domain::incidents::{IncidentKind, Severity};
use reserv_domain::plans::RoutineKey;
use reserv_domain::systems::Criticality;
use serde_saphyr::{Location, Spanned};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// One thing wrong in a playbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    /// Where in the playbook, such as `tasks[2].role`; empty when the file as a whole
    /// could not be read.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// What the playbooks may refer to in the deployment they are checked for. Without one,
/// the names of routines, units and systems are not checked.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub routine_keys: BTreeSet<String>,
    pub unit_names: BTreeSet<String>,
    pub system_names: BTreeSet<String>,
}

/// The playbooks of a folder that passed, and the problems of those that did not.
#[derive(Debug, Default)]
pub struct FolderReport {
    pub playbooks: Vec<Playbook>,
    pub problems: Vec<Problem>,
    /// The files read, passed or not.
    pub files: usize,
}

/// Checks every `.yaml` / `.yml` file of `folder`, in name order. A playbook with any
/// problem is left out of `playbooks`; two files with one id are both reported.
pub fn check_folder(folder: &Path, catalogue: Option<&Catalogue>) -> std::io::Result<FolderReport> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<std::io::Result<_>>()?;
    paths.retain(|path| {
        path.is_file()
            && path
                .extension()
                .is_some_and(|extension| extension == "yaml" || extension == "yml")
    });
    paths.sort();
    let mut report = FolderReport::default();
    let mut first_file_of: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        report.files += 1;
        let source = std::fs::read_to_string(&path)?;
        match check_source(&path, &source, catalogue) {
            Ok(playbook) => {
                if let Some(first) = first_file_of.get(&playbook.id) {
                    report.problems.push(Problem {
                        file: path.clone(),
                        line: playbook.id_location.0,
                        column: playbook.id_location.1,
                        field: "id".into(),
                        message: format!(
                            "the id \"{}\" is already used by {}; every playbook needs its own",
                            playbook.id,
                            first.display()
                        ),
                    });
                } else {
                    first_file_of.insert(playbook.id.clone(), path.clone());
                    report.playbooks.push(playbook);
                }
            }
            Err(problems) => report.problems.extend(problems),
        }
    }
    Ok(report)
}

/// Reads and checks one playbook. `file` is only used to name it in problems.
pub fn check_source(
    file: &Path,
    source: &str,
    catalogue: Option<&Catalogue>,
) -> Result<Playbook, Vec<Problem>> {
    let parsed: PlaybookFile = serde_saphyr::from_str(source).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |place| (place.line(), place.column()));
        vec![Problem {
            file: file.to_path_buf(),
            line,
            column,
            field: String::new(),
            message: without_place(&first_line(&error.to_string())),
        }]
    })?;
    let mut check = Check {
        file,
        catalogue,
        problems: Vec::new(),
    };
    let playbook = check.playbook(parsed, source);
    match playbook {
        Some(playbook) if check.problems.is_empty() => Ok(playbook),
        _ => Err(check.problems),
    }
}

/// The library's messages can carry a drawn excerpt of the source below the first
/// line; the place is reported separately, so the first line is enough.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

/// The parser starts its messages with "error: line 4 column 2: "; the place has its own
/// columns in a problem.
fn without_place(message: &str) -> String {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    match message.split_once(": ") {
        Some((place, rest)) if place.starts_with("line ") && place.contains(" column ") => {
            rest.to_owned()
        }
        _ => message.to_owned(),
    }
}

struct Check<'a> {
    file: &'a Path,
    catalogue: Option<&'a Catalogue>,
    problems: Vec<Problem>,
}

/// The longest wait a playbook may name: a personal data breach's report is due within
/// 72 hours, a staff shortage plan runs for weeks.
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60 * 24 * 90);

impl Check<'_> {
    fn problem(&mut self, at: &Location, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            line: at.line(),
            column: at.column(),
            field: field.into(),
            message: message.into(),
        });
    }

    /// The value when it parses; otherwise a problem at its place and `None`.
    fn parsed<T, E: fmt::Display>(
        &mut self,
        value: &Spanned<String>,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(value.value.trim()) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.problem(&value.referenced, field, error.to_string());
                None
            }
        }
    }

    fn playbook(&mut self, file: PlaybookFile, source: &str) -> Option<Playbook> {
        let id = self.id(&file.id);
        let title = self.text(&file.title.value, "title");
        let kind = self.parsed(&file.kind, "kind", |kind| {
            IncidentKind::from_str(kind)
                .map_err(|_| known_values("incident kind", kind, IncidentKind::ALL))
        });
        let severity = match &file.severity {
            Some(severity) => match Severity::new(severity.value.into()) {
                Ok(level) => Some(Some(level)),
                Err(error) => {
                    self.problem(&severity.referenced, "severity", error.to_string());
                    None
                }
            },
            None => Some(None),
        };
        let summary = file
            .summary
            .as_ref()
            .map(|summary| self.text(summary, "summary"));
        let triggers = self.triggers(&file.triggers, &file.title.referenced);
        let involves = self.involves(&file.applies_to.value, &file.applies_to.referenced);
        let routines = file
            .routines
            .iter()
            .enumerate()
            .map(|(index, key)| self.routine_key(key, &format!("routines[{index}]")))
            .collect::<Vec<_>>();
        let tasks = file
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task)| self.task(&task.value, index))
            .collect::<Vec<_>>();
        let messages = file
            .messages
            .iter()
            .enumerate()
            .map(|(index, message)| self.message(&message.value, index))
            .collect::<Vec<_>>();
        let escalation = file.escalation.as_ref().map(|rule| self.escalation(rule));
        let public_guidance = file
            .public_guidance
            .as_ref()
            .map(|guidance| self.text(guidance, "public_guidance"));
        Some(Playbook {
            file: self.file.to_path_buf(),
            source: source.to_owned(),
            id_location: (file.id.referenced.line(), file.id.referenced.column()),
            id: id?,
            title: title?,
            kind: kind?,
            severity: severity?,
            summary: settled(summary)?,
            triggers: triggers?,
            involves: involves?,
            routines: routines.into_iter().collect::<Option<_>>()?,
            tasks: tasks.into_iter().collect::<Option<_>>()?,
            messages: messages.into_iter().collect::<Option<_>>()?,
            escalation: settled(escalation)?,
            public_guidance: settled(public_guidance)?,
        })
    }

    fn id(&mut self, id: &Spanned<String>) -> Option<String> {
        // Playbook ids follow the same rule as routine keys, and say so in their own words.
        self.parsed(id, "id", |id| {
            RoutineKey::parse("id", id).map(|_| id.to_owned()).map_err(|_| {
                format!("\"{id}\" is not a playbook id: use lower-case letters a–z, digits and single hyphens, starting with a letter (for example \"dorrlas-ur-funktion\")")
            })
        })
    }

    fn text(&mut self, texts: &Texts, field: &str) -> Option<Text> {
        let sv = texts.sv.value.trim();
        if sv.is_empty() {
            self.problem(
                &texts.sv.referenced,
                format!("{field}.sv"),
                "the Swedish text is missing; Swedish comes first, English is optional",
            );
            return None;
        }
        Some(Text {
            sv: sv.to_owned(),
            en: texts
                .en
                .as_ref()
                .map(|en| en.value.trim().to_owned())
                .filter(|en| !en.is_empty()),
        })
    }

    fn triggers(
        &mut self,
        triggers: &[Spanned<Trigger>],
        fallback: &Location,
    ) -> Option<Vec<PlaybookTrigger>> {
        if triggers.is_empty() {
            self.problem(fallback, "triggers", "name at least one trigger: `- system_down: <system name>`, `- criticality_down: critical` or `- manual`");
            return None;
        }
        let mut checked = Vec::new();
        let mut failed = false;
        for (index, trigger) in triggers.iter().enumerate() {
            let field = format!("triggers[{index}]");
            match &trigger.value {
                Trigger::Manual => checked.push(PlaybookTrigger::Manual),
                Trigger::SystemDown(name) => {
                    let known = self
                        .catalogue
                        .is_none_or(|catalogue| catalogue.system_names.contains(name.trim()));
                    if known {
                        checked.push(PlaybookTrigger::SystemDown(name.trim().to_owned()));
                    } else {
                        failed = true;
                        self.problem(&trigger.referenced, format!("{field}.system_down"), format!("there is no IT system named \"{}\"; write its name as the system register has it", name.trim()));
                    }
                }
                Trigger::CriticalityDown(level) => match Criticality::from_str(level.trim()) {
                    Ok(level) => checked.push(PlaybookTrigger::CriticalityDown(level)),
                    Err(_) => {
                        failed = true;
                        self.problem(
                            &trigger.referenced,
                            format!("{field}.criticality_down"),
                            known_values("criticality", level.trim(), Criticality::ALL),
                        );
                    }
                },
            }
        }
        (!failed).then_some(checked)
    }

    fn involves(&mut self, applies_to: &AppliesTo, at: &Location) -> Option<Involves> {
        if !applies_to.all && applies_to.within.is_empty() && applies_to.units.is_empty() {
            self.problem(at, "applies_to", "say which units the playbook involves: `all: true`, `within: [<unit>]` or `units: [<unit>]`");
            return None;
        }
        let within = self.unit_names(&applies_to.within, "applies_to.within");
        let units = self.unit_names(&applies_to.units, "applies_to.units");
        Some(Involves {
            all: applies_to.all,
            within: within?,
            units: units?,
        })
    }

    fn unit_names(&mut self, names: &[Spanned<String>], field: &str) -> Option<Vec<String>> {
        let mut checked = Vec::new();
        let mut failed = false;
        for (index, name) in names.iter().enumerate() {
            let name_text = name.value.trim();
            let known = self
                .catalogue
                .is_none_or(|catalogue| catalogue.unit_names.contains(name_text));
            if known {
                checked.push(name_text.to_owned());
            } else {
                failed = true;
                self.problem(
                    &name.referenced,
                    format!("{field}[{index}]"),
                    format!("there is no unit named \"{name_text}\""),
                );
            }
        }
        (!failed).then_some(checked)
    }

    fn routine_key(&mut self, key: &Spanned<String>, field: &str) -> Option<RoutineKey> {
        let parsed = self.parsed(key, field, |text| {
            RoutineKey::parse(field, text).map_err(|error| error.to_string())
        })?;
        let known = self
            .catalogue
            .is_none_or(|catalogue| catalogue.routine_keys.contains(parsed.as_str()));
        if !known {
            self.problem(&key.referenced, field, format!("no plan has a routine with the key \"{parsed}\"; routine keys are shown with each routine in Reserv"));
            return None;
        }
        Some(parsed)
    }

    fn wait(&mut self, value: &Spanned<String>, field: &str) -> Option<Duration> {
        self.parsed(value, field, |text| {
            let wait = humantime::parse_duration(text).map_err(|error| {
                format!("\"{text}\" is not a duration ({error}); write it like 30m, 2h or 72h")
            })?;
            if wait.is_zero() || wait > LONGEST_WAIT {
                return Err(format!("\"{text}\" is outside 1 minute to 90 days"));
            }
            Ok(wait)
        })
    }

    fn task(&mut self, task: &TaskTemplate, index: usize) -> Option<PlannedTask> {
        let field = format!("tasks[{index}]");
        let title = self.text(&task.title.value, &format!("{field}.title"));
        let role = self.parsed(&task.role, &format!("{field}.role"), |role| {
            Role::from_str(role).map_err(|_| known_values("role", role, Role::ALL))
        });
        let due_in = self.wait(&task.due_in, &format!("{field}.due_in"));
        let routine = task
            .routine
            .as_ref()
            .map(|key| self.routine_key(key, &format!("{field}.routine")));
        Some(PlannedTask {
            title: title?,
            role: role?,
            due_in: due_in?,
            per_unit: task.per_unit,
            routine: settled(routine)?,
        })
    }

    fn message(&mut self, message: &MessageTemplate, index: usize) -> Option<PlannedMessage> {
        let field = format!("messages[{index}]");
        let audience = self.parsed(
            &message.audience,
            &format!("{field}.audience"),
            |audience| {
                Audience::from_name(audience).ok_or_else(|| {
                    format!(
                        "unknown audience \"{audience}\"; use one of {}",
                        AUDIENCES.join(", ")
                    )
                })
            },
        );
        let text = self.text(&message.text.value, &format!("{field}.text"));
        let sv_ok = self.placeholders(&message.text.value.sv, &format!("{field}.text.sv"));
        let en_ok = message
            .text
            .value
            .en
            .as_ref()
            .is_none_or(|en| self.placeholders(en, &format!("{field}.text.en")));
        if !(sv_ok && en_ok) {
            return None;
        }
        Some(PlannedMessage {
            audience: audience?,
            text: text?,
        })
    }

    /// Whether the template parses and uses only the known placeholders.
    fn placeholders(&mut self, text: &Spanned<String>, field: &str) -> bool {
        let environment = minijinja::Environment::new();
        let template = match environment.template_from_str(&text.value) {
            Ok(template) => template,
            Err(error) => {
                self.problem(
                    &text.referenced,
                    field,
                    format!(
                        "the placeholders cannot be read: {}",
                        first_line(&error.to_string())
                    ),
                );
                return false;
            }
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !PLACEHOLDERS.contains(&name.as_str()))
            .collect();
        unknown.sort();
        for name in &unknown {
            self.problem(
                &text.referenced,
                field,
                format!(
                    "there is no placeholder {{{{ {name} }}}}; use one of {}",
                    PLACEHOLDERS.join(", ")
                ),
            );
        }
        unknown.is_empty()
    }

    fn escalation(&mut self, rule: &Spanned<crate::format::Escalation>) -> Option<EscalationRule> {
        let after = self.wait(
            &rule.value.unacknowledged_after,
            "escalation.unacknowledged_after",
        );
        if rule.value.steps.is_empty() {
            self.problem(
                &rule.referenced,
                "escalation.steps",
                format!("name at least one step: {}", ESCALATION_STEPS.join(", ")),
            );
            return None;
        }
        let steps: Vec<Option<EscalationStep>> = rule
            .value
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| {
                self.parsed(step, &format!("escalation.steps[{index}]"), |name| {
                    EscalationStep::from_name(name).ok_or_else(|| {
                        format!(
                            "unknown step \"{name}\"; use one of {}",
                            ESCALATION_STEPS.join(", ")
                        )
                    })
                })
            })
            .collect();
        Some(EscalationRule {
            unacknowledged_after: after?,
            steps: steps.into_iter().collect::<Option<_>>()?,
        })
    }
}

/// An optional part's outcome: absent (`None`) is fine, present and failed
/// (`Some(None)`) fails the whole.
fn settled<T>(checked: Option<Option<T>>) -> Option<Option<T>> {
    match checked {
        None => Some(None),
        Some(outcome) => outcome.map(Some),
    }
}

fn known_values<T: fmt::Display>(what: &str, value: &str, all: &[T]) -> String {
    let known: Vec<String> = all.iter().map(ToString::to_string).collect();
    format!(
        "unknown {what} \"{value}\"; use one of {}",
        known.join(", ")
    )
}
