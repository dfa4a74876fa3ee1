//! Laying a binder out as print-ready HTML from the `binder.html` template. The
//! template is auto-escaped (its name ends in `.html`), so plan texts cannot inject
//! markup; it only lays out what [`BinderView`] says.

use crate::Result;
use crate::binder::{Binder, PlanText};
use chrono::{DateTime, Utc};
use minijinja::Environment;
use minijinja::value::{Serde, Value};
use reserv_domain::classification::Confidentiality;
use reserv_domain::people::{Language, Person};
use reserv_domain::plans::{DependencyKind, Routine, RoutineStep};
use reserv_domain::swedish_time;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("binder.html", include_str!("../templates/binder.html"))?;
    Ok(env)
});

/// The binder as HTML in `language` (the plan's own texts stay as written), printed at
/// `printed_at`.
pub fn render_binder(
    binder: &Binder,
    language: Language,
    printed_at: DateTime<Utc>,
) -> Result<String> {
    let env = TEMPLATES
        .as_ref()
        .map_err(|error| minijinja::Error::new(error.kind(), error.to_string()))?;
    let view = BinderView::new(binder, language, printed_at);
    Ok(env
        .get_template("binder.html")?
        .render(minijinja::context! { view => Value::from(Serde(&view)) })?)
}

#[derive(Debug, Serialize)]
struct BinderView {
    lang: &'static str,
    labels: &'static Labels,
    unit: String,
    plan_title: String,
    version: i32,
    approved: Option<String>,
    approved_by: Option<String>,
    review_due: Option<String>,
    printed_at: String,
    /// "Konfidentialitet 2 – känslig": the highest level of what is printed.
    classification: String,
    owner: Option<ContactView>,
    plan: Option<PlanView>,
    routines: Vec<RoutineView>,
    forms: Vec<FormView>,
    contacts: Vec<ContactView>,
}

#[derive(Debug, Serialize)]
struct PlanView {
    summary: Vec<String>,
    activation_criteria: Vec<String>,
    activities: Vec<ActivityView>,
}

#[derive(Debug, Serialize)]
struct ActivityView {
    name: String,
    description: Option<String>,
    mtpd: String,
    rto: String,
    rpo: String,
    dependencies: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RoutineView {
    number: usize,
    anchor: String,
    title: String,
    key: String,
    trigger: String,
    classification: String,
    steps: Vec<StepView>,
    materials: Vec<MaterialView>,
    recovery_steps: Vec<StepView>,
}

#[derive(Debug, Serialize)]
struct StepView {
    number: usize,
    who: String,
    what: String,
    when: Option<String>,
}

#[derive(Debug, Serialize)]
struct MaterialView {
    name: String,
    location: Option<String>,
}

/// A paper form or other material, with the routines that need it.
#[derive(Debug, Serialize)]
struct FormView {
    name: String,
    locations: Vec<String>,
    routines: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ContactView {
    name: String,
    title: Option<String>,
    organisation: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl BinderView {
    fn new(binder: &Binder, language: Language, printed_at: DateTime<Utc>) -> Self {
        let labels = Labels::of(language);
        let routines: Vec<RoutineView> = binder
            .routines
            .iter()
            .enumerate()
            .map(|(index, routine)| RoutineView::new(index + 1, routine, labels))
            .collect();
        let highest = binder
            .routines
            .iter()
            .map(|routine| routine.classification.confidentiality)
            .chain(
                binder
                    .text
                    .iter()
                    .map(|text| text.version.classification.confidentiality),
            )
            .chain(binder.contacts.iter().map(|person| person.confidentiality))
            .max()
            .unwrap_or(Confidentiality::INTERNAL);
        Self {
            lang: match language {
                Language::Sv => "sv",
                Language::En => "en",
            },
            labels,
            unit: binder.unit.name.clone(),
            plan_title: binder.plan.title.clone(),
            version: binder.version,
            approved: binder
                .approved_at
                .map(|at| swedish_time::date_in_words(at, language)),
            approved_by: binder
                .text
                .as_ref()
                .and_then(|text| text.version.approved_by.clone()),
            review_due: binder
                .plan
                .review_due_at
                .map(|at| swedish_time::date_in_words(at, language)),
            printed_at: swedish_time::in_words(printed_at, language),
            classification: labels.confidentiality(highest),
            owner: binder.owner.as_ref().map(ContactView::new),
            plan: binder.text.as_ref().map(|text| PlanView::new(text, labels)),
            forms: forms(&binder.routines),
            routines,
            contacts: binder.contacts.iter().map(ContactView::new).collect(),
        }
    }
}

impl PlanView {
    fn new(text: &PlanText, labels: &Labels) -> Self {
        let activities = text
            .activities
            .iter()
            .map(|(activity, dependencies)| ActivityView {
                name: activity.name.clone(),
                description: activity.description.clone(),
                mtpd: labels.duration(activity.mtpd_minutes),
                rto: labels.duration(activity.rto_minutes),
                rpo: labels.duration(activity.rpo_minutes),
                dependencies: dependencies
                    .iter()
                    .map(|entry| {
                        let dependency = &entry.dependency;
                        let system = dependency
                            .system_id
                            .and_then(|id| text.systems.get(&id))
                            .map(|system| system.name.clone());
                        let name = match (system, &dependency.name) {
                            (Some(system), Some(note)) => format!("{system} ({note})"),
                            (Some(system), None) => system,
                            (None, Some(name)) => name.clone(),
                            (None, None) => labels.unnamed.to_owned(),
                        };
                        format!("{}: {name}", labels.dependency_kind(dependency.kind))
                    })
                    .collect(),
            })
            .collect();
        Self {
            summary: paragraphs(text.version.summary.as_deref()),
            activation_criteria: paragraphs(text.version.activation_criteria.as_deref()),
            activities,
        }
    }
}

impl RoutineView {
    fn new(number: usize, routine: &Routine, labels: &Labels) -> Self {
        Self {
            number,
            anchor: format!("rutin-{}", routine.key),
            title: routine.title.clone(),
            key: routine.key.to_string(),
            trigger: routine.trigger.clone(),
            classification: labels.confidentiality(routine.classification.confidentiality),
            steps: steps(&routine.steps),
            materials: routine
                .materials
                .iter()
                .map(|material| MaterialView {
                    name: material.name.clone(),
                    location: material.location.clone(),
                })
                .collect(),
            recovery_steps: steps(&routine.recovery_steps),
        }
    }
}

impl ContactView {
    fn new(person: &Person) -> Self {
        Self {
            name: person.name.clone(),
            title: person.title.clone(),
            organisation: person.organisation.clone(),
            phone: person.phone.as_ref().map(|phone| phone.for_reading()),
            email: person.email.clone(),
        }
    }
}

fn steps(steps: &[RoutineStep]) -> Vec<StepView> {
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| StepView {
            number: index + 1,
            who: step.who.clone(),
            what: step.what.clone(),
            when: step.when.clone(),
        })
        .collect()
}

/// Every material the routines name, once, with where it is kept and which routines
/// need it, in the order first named.
fn forms(routines: &[Routine]) -> Vec<FormView> {
    let mut order: Vec<String> = vec![];
    let mut found: BTreeMap<String, FormView> = BTreeMap::new();
    for routine in routines {
        for material in &routine.materials {
            let form = found.entry(material.name.clone()).or_insert_with(|| {
                order.push(material.name.clone());
                FormView {
                    name: material.name.clone(),
                    locations: vec![],
                    routines: vec![],
                }
            });
            if let Some(location) = &material.location
                && !form.locations.contains(location)
            {
                form.locations.push(location.clone());
            }
            if !form.routines.contains(&routine.title) {
                form.routines.push(routine.title.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|name| found.remove(&name))
        .collect()
}

fn paragraphs(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The binder's own words in one language.
#[derive(Debug, Serialize)]
struct Labels {
    binder: &'static str,
    unit: &'static str,
    plan: &'static str,
    version: &'static str,
    approved: &'static str,
    approved_by: &'static str,
    not_approved: &'static str,
    review_due: &'static str,
    printed_at: &'static str,
    owner: &'static str,
    classification: &'static str,
    keep_note: &'static str,
    contents: &'static str,
    summary: &'static str,
    activation_criteria: &'static str,
    activities: &'static str,
    mtpd: &'static str,
    rto: &'static str,
    rpo: &'static str,
    dependencies: &'static str,
    plan_text_hidden: &'static str,
    routines: &'static str,
    routine: &'static str,
    no_routines: &'static str,
    trigger: &'static str,
    steps: &'static str,
    step: &'static str,
    who: &'static str,
    what: &'static str,
    done: &'static str,
    signature: &'static str,
    time: &'static str,
    materials: &'static str,
    kept_at: &'static str,
    recovery: &'static str,
    started: &'static str,
    ended: &'static str,
    responsible: &'static str,
    notes: &'static str,
    forms: &'static str,
    form: &'static str,
    used_in: &'static str,
    no_forms: &'static str,
    contacts: &'static str,
    name: &'static str,
    role: &'static str,
    phone: &'static str,
    email: &'static str,
    no_contacts: &'static str,
    page: &'static str,
    of: &'static str,
    unnamed: &'static str,
    minutes: &'static str,
    hours: &'static str,
    one_hour: &'static str,
    days: &'static str,
    one_day: &'static str,
    none: &'static str,
    it_system: &'static str,
    supplier: &'static str,
    staff_role: &'static str,
    levels: [&'static str; 4],
    level_word: &'static str,
}

const SWEDISH: Labels = Labels {
    binder: "Reservpärm",
    unit: "Enhet",
    plan: "Kontinuitetsplan",
    version: "Version",
    approved: "Godkänd",
    approved_by: "Godkänd av",
    not_approved: "ej godkänd",
    review_due: "Nästa översyn senast",
    printed_at: "Utskriven",
    owner: "Planägare",
    classification: "Informationsklassning",
    keep_note: "Förvaras i krislådan. Ersätt pärmen när en ny version av planen godkänns, och förstör den gamla enligt dokumenthanteringsplanen.",
    contents: "Innehåll",
    summary: "Sammanfattning",
    activation_criteria: "När planen aktiveras",
    activities: "Kritiska verksamheter",
    mtpd: "Längsta acceptabla avbrott",
    rto: "Ska fungera igen inom",
    rpo: "Högsta acceptabla informationsförlust",
    dependencies: "Beroenden",
    plan_text_hidden: "Planens text är klassad över din behörighet och skrivs inte ut. Rutinerna nedan är de du får läsa.",
    routines: "Reservrutiner",
    routine: "Rutin",
    no_routines: "Planen har inga reservrutiner som du får läsa.",
    trigger: "När rutinen används",
    steps: "Steg",
    step: "Nr",
    who: "Vem",
    what: "Vad",
    done: "Klart",
    signature: "Signatur",
    time: "Klockslag",
    materials: "Material",
    kept_at: "Förvaras",
    recovery: "Återställning efter avbrottet",
    started: "Rutinen påbörjad (datum, klockslag)",
    ended: "Rutinen avslutad (datum, klockslag)",
    responsible: "Ansvarig (namn och signatur)",
    notes: "Anteckningar",
    forms: "Blanketter och material",
    form: "Blankett eller material",
    used_in: "Används i",
    no_forms: "Rutinerna nämner inga blanketter.",
    contacts: "Kontaktlista",
    name: "Namn",
    role: "Befattning",
    phone: "Telefon",
    email: "E-post",
    no_contacts: "Inga kontakter som du får se.",
    page: "Sida",
    of: "av",
    unnamed: "namnlös",
    minutes: "minuter",
    hours: "timmar",
    one_hour: "1 timme",
    days: "dygn",
    one_day: "1 dygn",
    none: "ingen",
    it_system: "IT-system",
    supplier: "Leverantör",
    staff_role: "Personal",
    levels: ["öppen", "intern", "känslig", "mycket känslig"],
    level_word: "Konfidentialitet",
};

const ENGLISH: Labels = Labels {
    binder: "Fallback binder",
    unit: "Unit",
    plan: "Continuity plan",
    version: "Version",
    approved: "Approved",
    approved_by: "Approved by",
    not_approved: "not approved",
    review_due: "Next review by",
    printed_at: "Printed",
    owner: "Plan owner",
    classification: "Classification",
    keep_note: "Keep in the crisis box. Replace the binder when a new version of the plan is approved, and destroy the old one as the records management plan says.",
    contents: "Contents",
    summary: "Summary",
    activation_criteria: "When the plan is activated",
    activities: "Critical activities",
    mtpd: "Maximum tolerable outage",
    rto: "Must be running again within",
    rpo: "Largest acceptable loss of records",
    dependencies: "Dependencies",
    plan_text_hidden: "The plan's text is classified above your clearance and is not printed. The routines below are those you may read.",
    routines: "Fallback routines",
    routine: "Routine",
    no_routines: "The plan has no fallback routines that you may read.",
    trigger: "When to use this routine",
    steps: "Steps",
    step: "No.",
    who: "Who",
    what: "What",
    done: "Done",
    signature: "Signature",
    time: "Time",
    materials: "Materials",
    kept_at: "Kept at",
    recovery: "Recovery after the outage",
    started: "Routine started (date, time)",
    ended: "Routine ended (date, time)",
    responsible: "Responsible (name and signature)",
    notes: "Notes",
    forms: "Forms and materials",
    form: "Form or material",
    used_in: "Used in",
    no_forms: "The routines name no forms.",
    contacts: "Contact list",
    name: "Name",
    role: "Position",
    phone: "Phone",
    email: "E-mail",
    no_contacts: "No contacts that you may see.",
    page: "Page",
    of: "of",
    unnamed: "unnamed",
    minutes: "minutes",
    hours: "hours",
    one_hour: "1 hour",
    days: "days",
    one_day: "1 day",
    none: "none",
    it_system: "IT system",
    supplier: "Supplier",
    staff_role: "Staff",
    levels: ["public", "internal", "sensitive", "strictly confidential"],
    level_word: "Confidentiality",
};

impl Labels {
    fn of(language: Language) -> &'static Self {
        match language {
            Language::Sv => &SWEDISH,
            Language::En => &ENGLISH,
        }
    }

    fn confidentiality(&self, level: Confidentiality) -> String {
        let words = self
            .levels
            .get(usize::from(level.level()))
            .copied()
            .unwrap_or_default();
        format!("{} {} – {words}", self.level_word, level.level())
    }

    fn dependency_kind(&self, kind: DependencyKind) -> &'static str {
        match kind {
            DependencyKind::ItSystem => self.it_system,
            DependencyKind::Supplier => self.supplier,
            DependencyKind::StaffRole => self.staff_role,
        }
    }

    /// "30 minuter", "4 timmar", "1 dygn", "2 dygn 12 timmar".
    fn duration(&self, minutes: i32) -> String {
        const DAY: i32 = 24 * 60;
        if minutes == 0 {
            return self.none.to_owned();
        }
        if minutes % 60 != 0 || minutes < 60 {
            return format!("{minutes} {}", self.minutes);
        }
        let hours_text = |hours: i32| match hours {
            1 => self.one_hour.to_owned(),
            hours => format!("{hours} {}", self.hours),
        };
        if minutes < DAY {
            return hours_text(minutes / 60);
        }
        let days = match minutes / DAY {
            1 => self.one_day.to_owned(),
            days => format!("{days} {}", self.days),
        };
        match (minutes % DAY) / 60 {
            0 => days,
            hours => format!("{days} {}", hours_text(hours)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let sv = Labels::of(Language::Sv);
        assert_eq!(sv.duration(0), "ingen");
        assert_eq!(sv.duration(30), "30 minuter");
        assert_eq!(sv.duration(90), "90 minuter");
        assert_eq!(sv.duration(60), "1 timme");
        assert_eq!(sv.duration(240), "4 timmar");
        assert_eq!(sv.duration(24 * 60), "1 dygn");
        assert_eq!(sv.duration(60 * 60), "2 dygn 12 timmar");
        assert_eq!(Labels::of(Language::En).duration(48 * 60), "2 days");
    }

    #[test]
    fn confidentiality_is_named_in_words() {
        assert_eq!(
            Labels::of(Language::Sv).confidentiality(Confidentiality::SENSITIVE),
            "Konfidentialitet 2 – känslig"
        );
    }
}
