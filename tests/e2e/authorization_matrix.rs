//! The authorisation matrix: every root field of the GraphQL schema (Query, Mutation,
//! Subscription) is sent by every demo principal, and the outcome is compared with the
//! table kept in `tests/authorization/matrix.toml`. The fields come from the committed
//! `server/api/schema.graphql`, so a new field without an entry in the table, or an entry
//! for a field that is gone, fails the test. All mismatches are reported at once, as one
//! table. `tests/authorization/MATRIX.md` is the same table for people to read; it is
//! generated from the TOML and checked like `schema.graphql`.

use anyhow::{Context, bail};
use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};
use reserv_tests::{Client, TestServer, id_where, on_every_database};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The principals of the matrix, in the order of its columns: the demo account's username
/// (or `anonymous`) and what the account is.
const PRINCIPALS: [(&str, &str); 8] = [
    ("anonymous", "no session"),
    ("admin", "admin"),
    ("krisledare", "crisis lead"),
    ("kommunikator", "communicator"),
    ("lasare", "viewer"),
    ("enhetschef", "unit manager, Hemtjänst Norr"),
    ("underskoterska", "care worker, Hemtjänst Norr"),
    (
        "enhetschef-solgarden",
        "unit manager of another unit (Solgården)",
    ),
];

/// The outcomes an entry may expect besides error codes.
const ALLOWED: &str = "allowed";
const NO_EVENT: &str = "no_event";
const KNOWN_OUTCOMES: [&str; 7] = [
    ALLOWED,
    "forbidden",
    "unauthenticated",
    "not_found",
    "validation",
    "conflict",
    NO_EVENT,
];

/// The administrator account the test makes for itself, so that the administrator among
/// the principals can sign out everywhere without ending the fixtures' session.
const FIXTURE_ADMIN: &str = "fixturer-admin";
const FIXTURE_ADMIN_PASSWORD: &str = "Matrisens-eget-losenord-2026";

/// The account that makes the objects the entries act on (drafts, notices, the open
/// incident). It is not one of the principals, so that its edits never count as theirs
/// (four eyes) and its sessions are never the ones ended.
const FIXTURE_MAKER: &str = "sakerhet";

/// Regenerates `MATRIX.md` when set.
const UPDATE_VARIABLE: &str = "RESERV_UPDATE_MATRIX";

/// How long a subscription may stay silent, while the log is written to, before it counts
/// as accepted without an event for this principal.
const SILENCE: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Matrix {
    #[serde(rename = "Query", default)]
    query: BTreeMap<String, Entry>,
    #[serde(rename = "Mutation", default)]
    mutation: BTreeMap<String, Entry>,
    #[serde(rename = "Subscription", default)]
    subscription: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    operation: String,
    #[serde(default)]
    variables: Value,
    note: Option<String>,
    /// Error codes that still show the request was let through (a harmless argument
    /// refused after the access check).
    #[serde(default)]
    access_shown_by: Vec<String>,
    /// The request ends the principal's session.
    #[serde(default)]
    signs_out: bool,
    expect: BTreeMap<String, String>,
}

impl Matrix {
    /// Every entry as (`Type.field`, entry): queries first, then mutations, then
    /// subscriptions, each in alphabetical order.
    fn entries(&self) -> Vec<(String, &Entry)> {
        let groups = [
            ("Query", &self.query),
            ("Mutation", &self.mutation),
            ("Subscription", &self.subscription),
        ];
        groups
            .into_iter()
            .flat_map(|(root, entries)| {
                entries
                    .iter()
                    .map(move |(field, entry)| (format!("{root}.{field}"), entry))
            })
            .collect()
    }
}

fn repository_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn load_matrix() -> anyhow::Result<Matrix> {
    let path = repository_file("tests/authorization/matrix.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid matrix", path.display()))
}

/// Every root field of the committed schema, as `Type.field` with the type named by its
/// role (`Query`, `Mutation`, `Subscription`) whatever the schema calls it.
fn schema_root_fields() -> anyhow::Result<BTreeSet<String>> {
    let path = repository_file("server/api/schema.graphql");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let document = async_graphql_parser::parse_schema(&text)
        .with_context(|| format!("{} does not parse", path.display()))?;
    let mut roots: HashMap<String, &str> = HashMap::from([
        ("Query".to_owned(), "Query"),
        ("Mutation".to_owned(), "Mutation"),
        ("Subscription".to_owned(), "Subscription"),
    ]);
    for definition in &document.definitions {
        if let TypeSystemDefinition::Schema(schema) = definition {
            let schema = &schema.node;
            roots.clear();
            for (name, role) in [
                (&schema.query, "Query"),
                (&schema.mutation, "Mutation"),
                (&schema.subscription, "Subscription"),
            ] {
                if let Some(name) = name {
                    roots.insert(name.node.to_string(), role);
                }
            }
        }
    }
    let mut fields = BTreeSet::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = &definition.node;
        let (Some(role), TypeKind::Object(object)) =
            (roots.get(definition.name.node.as_str()), &definition.kind)
        else {
            continue;
        };
        for field in &object.fields {
            fields.insert(format!("{role}.{}", field.node.name.node));
        }
    }
    Ok(fields)
}

/// The field an entry is for: its key up to a parenthesised case, so that a field can
/// have more than one entry (`Query.incident (confidential)`, on a record above some
/// principals' clearance).
fn field_of(key: &str) -> &str {
    key.split_once(" (").map_or(key, |(field, _)| field)
}

/// What is wrong with the table as a whole: fields without an entry, entries without a
/// field, and entries that do not name an outcome for exactly the known principals.
fn table_problems(matrix: &Matrix, fields: &BTreeSet<String>) -> Vec<String> {
    let entries = matrix.entries();
    let listed: BTreeSet<&str> = entries.iter().map(|(key, _)| field_of(key)).collect();
    let mut problems: Vec<String> = fields
        .iter()
        .filter(|field| !listed.contains(field.as_str()))
        .map(|field| format!("{field} is in the schema but has no entry in matrix.toml"))
        .collect();
    problems.extend(
        listed
            .iter()
            .filter(|field| !fields.contains(**field))
            .map(|field| format!("{field} has an entry in matrix.toml but is not in the schema")),
    );
    let principals: BTreeSet<&str> = PRINCIPALS.iter().map(|(name, _)| *name).collect();
    for (field, entry) in &entries {
        for name in &principals {
            if !entry.expect.contains_key(*name) {
                problems.push(format!("{field}: `expect` names no outcome for {name}"));
            }
        }
        for (name, outcome) in &entry.expect {
            if !principals.contains(name.as_str()) {
                problems.push(format!(
                    "{field}: `expect` names {name}, who is no principal of the matrix"
                ));
            }
            if !KNOWN_OUTCOMES.contains(&outcome.as_str()) {
                problems.push(format!(
                    "{field}: the outcome '{outcome}' for {name} is not one of {}",
                    KNOWN_OUTCOMES.join(", ")
                ));
            }
        }
        for code in &entry.access_shown_by {
            if ["FORBIDDEN", "UNAUTHENTICATED"].contains(&code.to_uppercase().as_str()) {
                problems.push(format!(
                    "{field}: {code} never shows that access was granted; remove it from access_shown_by"
                ));
            }
        }
        let subscription = field.starts_with("Subscription.");
        if !subscription && entry.expect.values().any(|outcome| outcome == NO_EVENT) {
            problems.push(format!("{field}: only subscriptions can expect {NO_EVENT}"));
        }
    }
    problems
}

/// The table as Markdown, one section per root type.
fn render_markdown(matrix: &Matrix) -> String {
    let mut page = String::from(
        "# Who may use which field of the API\n\n\
         Generated from `tests/authorization/matrix.toml` and checked against the server by \
         the e2e test `authorization_matrix` on SQLite and PostgreSQL; do not edit by hand.\n\
         Regenerate with\n`RESERV_UPDATE_MATRIX=1 cargo test -p reserv-tests --test e2e authorization_matrix::the_markdown_table_is_up_to_date`.\n\n\
         yes = allowed, no = FORBIDDEN, sign in = UNAUTHENTICATED, other words name the \
         error code; yes* = allowed, shown by a harmless refusal after the access check \
         (see the note). The principals are demo accounts:\n\n",
    );
    for (name, what) in PRINCIPALS {
        page.push_str(&format!("- `{name}`: {what}\n"));
    }
    let header: Vec<&str> = PRINCIPALS.iter().map(|(name, _)| *name).collect();
    let entries = matrix.entries();
    for root in ["Query", "Mutation", "Subscription"] {
        page.push_str(&format!(
            "\n## {root}\n\n| field | {} | note |\n|---|{}---|\n",
            header.join(" | "),
            "---|".repeat(header.len())
        ));
        for (field, entry) in entries
            .iter()
            .filter(|(field, _)| field.split('.').next() == Some(root))
        {
            let cells: Vec<String> = header
                .iter()
                .map(|name| {
                    let outcome = entry.expect.get(*name).map_or("?", String::as_str);
                    match outcome {
                        ALLOWED if entry.access_shown_by.is_empty() => "yes".to_owned(),
                        ALLOWED => "yes*".to_owned(),
                        "forbidden" => "no".to_owned(),
                        "unauthenticated" => "sign in".to_owned(),
                        other => other.replace('_', " "),
                    }
                })
                .collect();
            let name = field
                .split_once('.')
                .map_or(field.as_str(), |(_, name)| name);
            let (name, case) = name
                .split_once(" (")
                .map_or((name, String::new()), |(name, case)| {
                    (name, format!(" ({case}"))
                });
            page.push_str(&format!(
                "| `{name}`{case} | {} | {} |\n",
                cells.join(" | "),
                entry.note.as_deref().unwrap_or("").replace('|', "\\|")
            ));
        }
    }
    page
}

#[test]
fn every_root_field_has_an_entry_and_every_entry_a_field() -> anyhow::Result<()> {
    let problems = table_problems(&load_matrix()?, &schema_root_fields()?);
    if !problems.is_empty() {
        bail!(
            "tests/authorization/matrix.toml does not match server/api/schema.graphql:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}

#[test]
fn the_markdown_table_is_up_to_date() -> anyhow::Result<()> {
    let path = repository_file("tests/authorization/MATRIX.md");
    let rendered = render_markdown(&load_matrix()?);
    if std::env::var_os(UPDATE_VARIABLE).is_some() {
        std::fs::write(&path, &rendered).with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != rendered {
        bail!(
            "tests/authorization/MATRIX.md is out of date with matrix.toml; run `{UPDATE_VARIABLE}=1 cargo test -p reserv-tests --test e2e authorization_matrix::the_markdown_table_is_up_to_date`"
        );
    }
    Ok(())
}

/// The demo file's keys for units, people and IT systems, mapped to their names, which
/// is how the API lists them.
#[derive(Deserialize)]
struct DemoNames {
    units: Vec<Named>,
    people: Vec<Named>,
    it_systems: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    key: String,
    name: String,
}

fn demo_name(list: &[Named], key: &str) -> anyhow::Result<String> {
    list.iter()
        .find(|named| named.key == key)
        .map(|named| named.name.clone())
        .with_context(|| format!("no '{key}' in the demo file"))
}

/// Signs in as [`FIXTURE_ADMIN`], made by the demo administrator.
async fn an_administrator_of_its_own(server: &TestServer) -> anyhow::Result<Client> {
    server
        .sign_in_as("admin")
        .await?
        .data(
            "mutation($username: String!, $password: String!) { createAccount(input: { username: $username, password: $password, roles: [{ role: ADMIN }] }) { id } }",
            json!({ "username": FIXTURE_ADMIN, "password": FIXTURE_ADMIN_PASSWORD }),
        )
        .await?;
    server.sign_in(FIXTURE_ADMIN, FIXTURE_ADMIN_PASSWORD).await
}

/// Resolves the references that entries use for demo objects (see the head of
/// matrix.toml). Fixed objects are looked up once; `$new-…`, `$draft:` and the like are
/// made anew for each use by [`FIXTURE_MAKER`] or [`FIXTURE_ADMIN`].
struct Fixtures<'a> {
    server: &'a TestServer,
    admin: Client,
    maker: Client,
    demo: DemoNames,
    known: HashMap<String, String>,
    made: u32,
}

impl<'a> Fixtures<'a> {
    async fn prepare(server: &'a TestServer) -> anyhow::Result<Self> {
        let folder = repository_file("playbooks");
        reserv::playbooks::import(&server.store()?, &folder).await?;
        let path = repository_file("server/reserv/demo/sample-municipality.toml");
        let demo: DemoNames = toml::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut fixtures = Self {
            server,
            admin: an_administrator_of_its_own(server).await?,
            maker: server.sign_in_as(FIXTURE_MAKER).await?,
            demo,
            known: HashMap::new(),
            made: 0,
        };
        fixtures.make_the_shared_objects().await?;
        Ok(fixtures)
    }

    /// For the directory's mutations a unit in Hemtjänst, a person in Hemtjänst Norr and
    /// an IT system; for the incident's an open incident in Hemtjänst Norr at
    /// confidentiality 1 with the cyberattack playbook activated on it, a task for the
    /// care worker and a message to the unit.
    async fn make_the_shared_objects(&mut self) -> anyhow::Result<()> {
        let norr = self.resolve_reference("unit:hemtjanst-norr").await?;
        let home_care = self.resolve_reference("unit:hemtjanst").await?;
        let unit = self.admin.data(
            "mutation($parent: ID!) { createUnit(input: { parentId: $parent, name: \"Matrisenheten\", kind: UNIT }) { id } }",
            json!({ "parent": home_care }),
        ).await?;
        self.remember("unit:matrisenheten", &unit["createUnit"]["id"])?;
        let person = self.admin.data(
            "mutation($unit: ID!) { createPerson(input: { name: \"Matris Person\", unitIds: [$unit] }) { id } }",
            json!({ "unit": norr }),
        ).await?;
        self.remember("person:matrisperson", &person["createPerson"]["id"])?;
        let system = self.admin.data(
            "mutation { createItSystem(input: { name: \"Matrissystem\", criticality: LOW }) { id } }",
            json!({}),
        ).await?;
        self.remember("system:matrissystem", &system["createItSystem"]["id"])?;

        let reported = self.maker.data(
            "mutation($unit: ID!) { reportIncident(input: { title: \"Matris: IT-avbrott i Hemtjänst Norr\", kind: IT_OUTAGE, severity: 2, classification: { confidentiality: 1, integrity: 1, availability: 1 }, unitIds: [$unit] }) { id } }",
            json!({ "unit": norr }),
        ).await?;
        let incident = reported["reportIncident"]["id"].clone();
        let activated = self.maker.data(
            "mutation($incident: ID!, $unit: ID!) { activatePlaybook(playbookId: \"it-avbrott-cyberattack\", unitIds: [$unit], incidentId: $incident, idempotencyKey: \"matris-oppning\") { incident { state } checklistRuns { id unitId } } }",
            json!({ "incident": incident, "unit": norr }),
        ).await?;
        let activation = &activated["activatePlaybook"];
        // Reported → triaged → active, as a crisis lead would take it.
        let mut state = activation["incident"]["state"].clone();
        for next in ["TRIAGED", "ACTIVE"] {
            if state == "ACTIVE" {
                break;
            }
            let changed = self
                .maker
                .data(
                    "mutation($id: ID!, $state: IncidentState!) { changeIncidentState(id: $id, state: $state) { state } }",
                    json!({ "id": incident, "state": next }),
                )
                .await?;
            state = changed["changeIncidentState"]["state"].clone();
        }
        self.remember("incident:open", &incident)?;
        let run = id_where(&activation["checklistRuns"], "unitId", &norr)?;
        self.known.insert("run:open".into(), run);
        let worker = self.resolve_reference("person:linnea-isaksson").await?;
        let task = self.maker.data(
            "mutation($incident: ID!, $worker: ID!) { createTask(incidentId: $incident, input: { title: \"Matris: ring brukarna\", assigneeId: $worker }) { id } }",
            json!({ "incident": incident, "worker": worker }),
        ).await?;
        self.remember("task:open", &task["createTask"]["id"])?;
        let message = self.maker.data(
            "mutation($incident: ID!, $unit: ID!) { sendMessage(input: { incidentId: $incident, audience: { unitIds: [$unit] }, bodySv: \"Matris: samling kl. 10\" }) { id } }",
            json!({ "incident": incident, "unit": norr }),
        ).await?;
        self.remember("message:open", &message["sendMessage"]["id"])?;
        Ok(())
    }

    fn remember(&mut self, reference: &str, id: &Value) -> anyhow::Result<()> {
        let id = id
            .as_str()
            .with_context(|| format!("no id for {reference}: {id}"))?;
        self.known.insert(reference.to_owned(), id.to_owned());
        Ok(())
    }

    /// `variables` with every reference replaced for `principal`.
    async fn resolve(&mut self, variables: &Value, principal: &str) -> anyhow::Result<Value> {
        Ok(match variables {
            Value::Null => json!({}),
            Value::String(text) => Value::String(self.resolve_text(text, principal).await?),
            Value::Array(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for item in items {
                    resolved.push(Box::pin(self.resolve(item, principal)).await?);
                }
                Value::Array(resolved)
            }
            Value::Object(fields) => {
                let mut resolved = serde_json::Map::new();
                for (name, value) in fields {
                    resolved.insert(
                        name.clone(),
                        Box::pin(self.resolve(value, principal)).await?,
                    );
                }
                Value::Object(resolved)
            }
            other => other.clone(),
        })
    }

    /// A whole-string reference (`$unit:hemtjanst-norr`) becomes an id or code; in other
    /// text `$principal` and `$uuid` are filled in.
    async fn resolve_text(&mut self, text: &str, principal: &str) -> anyhow::Result<String> {
        if let Some(reference) = text.strip_prefix('$')
            && reference != "principal"
            && reference != "uuid"
            && !reference.contains(' ')
        {
            return self.resolve_reference(reference).await;
        }
        let mut text = text.replace("$principal", principal);
        while text.contains("$uuid") {
            self.made += 1;
            let uuid = format!("00000000-0000-4000-8000-{:012x}", self.made);
            text = text.replacen("$uuid", &uuid, 1);
        }
        Ok(text)
    }

    async fn resolve_reference(&mut self, reference: &str) -> anyhow::Result<String> {
        if let Some(id) = self.known.get(reference) {
            return Ok(id.clone());
        }
        let (kind, argument) = reference.split_once(':').unwrap_or((reference, ""));
        let fixed = match kind {
            "unit" => {
                let name = demo_name(&self.demo.units, argument)?;
                let units = self.admin.data("{ units { id name } }", json!({})).await?;
                id_where(&units["units"], "name", &name)?
            }
            "person" => {
                let name = demo_name(&self.demo.people, argument)?;
                let people = self
                    .admin
                    .data("{ people(first: 100) { nodes { id name } } }", json!({}))
                    .await?;
                id_where(&people["people"]["nodes"], "name", &name)?
            }
            "system" => {
                let name = demo_name(&self.demo.it_systems, argument)?;
                let systems = self
                    .admin
                    .data("{ itSystems { id name } }", json!({}))
                    .await?;
                id_where(&systems["itSystems"], "name", &name)?
            }
            "incident" if argument == "demo" => {
                let closed = self
                    .admin
                    .data(
                        "{ incidents(filter: { states: [CLOSED] }) { nodes { id } } }",
                        json!({}),
                    )
                    .await?;
                closed["incidents"]["nodes"][0]["id"]
                    .as_str()
                    .with_context(|| format!("the demo incident is missing: {closed}"))?
                    .to_owned()
            }
            "account" => {
                let accounts = self
                    .admin
                    .data(
                        "{ accounts(first: 100) { nodes { id username } } }",
                        json!({}),
                    )
                    .await?;
                id_where(&accounts["accounts"]["nodes"], "username", argument)?
            }
            "plan" | "version" | "routine" => {
                let plan = self.plan_of(argument).await?;
                let version = &plan["currentVersion"];
                let id = match kind {
                    "plan" => &plan["id"],
                    "version" => &version["id"],
                    _ => &version["routines"][0]["id"],
                };
                id.as_str()
                    .with_context(|| format!("no {kind} for {argument}: {plan}"))?
                    .to_owned()
            }
            _ => return self.make(kind, argument).await,
        };
        self.known.insert(reference.to_owned(), fixed.clone());
        Ok(fixed)
    }

    async fn plan_of(&mut self, unit: &str) -> anyhow::Result<Value> {
        let unit = Box::pin(self.resolve_reference(&format!("unit:{unit}"))).await?;
        let plans = self
            .admin
            .data(
                "query($unit: ID) { plans(filter: { unitId: $unit }) { nodes { id currentVersion { id routines { id } } } } }",
                json!({ "unit": unit }),
            )
            .await?;
        Ok(plans["plans"]["nodes"][0].clone())
    }

    /// A fresh object for one principal's request.
    async fn make(&mut self, kind: &str, argument: &str) -> anyhow::Result<String> {
        self.made += 1;
        let made = self.made;
        let (data, path): (Value, &[&str]) = match kind {
            "draft" => return self.draft_of(argument).await,
            "new-activity" => {
                let draft = self.draft_of(argument).await?;
                let data = self.maker.data(
                    "mutation($id: ID!, $name: String!) { addActivity(versionId: $id, input: { name: $name, mtpdMinutes: 240, rtoMinutes: 120, rpoMinutes: 60 }) { id } }",
                    json!({ "id": draft, "name": format!("Matrisaktivitet {made}") }),
                ).await?;
                (data, &["addActivity", "id"])
            }
            "new-dependency" => {
                let activity = Box::pin(self.make("new-activity", argument)).await?;
                let data = self.maker.data(
                    "mutation($id: ID!) { addDependency(activityId: $id, input: { kind: SUPPLIER, name: \"Matrisleverantör\" }) { id } }",
                    json!({ "id": activity }),
                ).await?;
                (data, &["addDependency", "id"])
            }
            "new-routine" => {
                let draft = self.draft_of(argument).await?;
                let data = self.maker.data(
                    "mutation($id: ID!, $key: String!) { addRoutine(versionId: $id, input: { key: $key, title: \"Matrisrutin\", trigger: \"Matris\", classification: { confidentiality: 1, integrity: 1, availability: 1 }, steps: [{ who: \"Alla\", what: \"Ring in\" }] }) { id } }",
                    json!({ "id": draft, "key": format!("matris-{made}") }),
                ).await?;
                (data, &["addRoutine", "id"])
            }
            "new-notice" => {
                let data = self.maker.data(
                    "mutation { publishNotice(input: { confidentiality: 0, headline: { sv: \"Matris: störning\" }, body: { sv: \"Matris: ring 112 vid fara.\" } }) { id } }",
                    json!({}),
                ).await?;
                (data, &["publishNotice", "id"])
            }
            "new-session" => {
                let client = self.server.sign_in_as(argument).await?;
                let sessions = client
                    .data("{ sessions { id current } }", json!({}))
                    .await?;
                let current = sessions["sessions"]
                    .as_array()
                    .and_then(|all| all.iter().find(|session| session["current"] == true))
                    .cloned()
                    .unwrap_or(Value::Null);
                (current, &["id"])
            }
            "emergency-code" => {
                let data = self.admin.data(
                    "mutation($who: [String!]!) { issueEmergencyCodes(usernames: $who) { codes { code } } }",
                    json!({ "who": [argument] }),
                ).await?;
                let code = data["issueEmergencyCodes"]["codes"][0].clone();
                (code, &["code"])
            }
            _ => bail!("matrix.toml names the unknown reference ${kind}:{argument}"),
        };
        let id = path.iter().fold(&data, |value, key| &value[*key]);
        id.as_str()
            .map(str::to_owned)
            .with_context(|| format!("making ${kind}:{argument} gave {data}"))
    }

    /// The id of the plan's draft, made from the approved version when there is none.
    async fn draft_of(&mut self, unit: &str) -> anyhow::Result<String> {
        let plan = Box::pin(self.resolve_reference(&format!("plan:{unit}"))).await?;
        let versions = self
            .maker
            .data(
                "query($id: ID!) { plan(id: $id) { versions { id state } } }",
                json!({ "id": plan }),
            )
            .await?;
        if let Ok(draft) = id_where(&versions["plan"]["versions"], "state", "DRAFT") {
            return Ok(draft);
        }
        let draft = self
            .maker
            .data(
                "mutation($id: ID!) { createDraft(planId: $id) { id } }",
                json!({ "id": plan }),
            )
            .await?;
        draft["createDraft"]["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no draft made: {draft}"))
    }

    /// Writes in the open incident's log, so that subscriptions to it have an event.
    async fn write_in_the_log(&self) -> anyhow::Result<()> {
        let incident = self
            .known
            .get("incident:open")
            .context("no open incident")?;
        self.maker
            .data(
                "mutation($id: ID!) { addLogEntry(incidentId: $id, input: { kind: OBSERVATION, text: \"Matris: lägesrapport\" }) { id } }",
                json!({ "id": incident }),
            )
            .await?;
        Ok(())
    }
}

/// The outcome of one answer: `allowed`, or the first error's code in lower case, and
/// the error's message.
fn outcome_of(response: &Value) -> (String, String) {
    match response.get("errors").and_then(|errors| errors.get(0)) {
        None => (ALLOWED.to_owned(), String::new()),
        Some(error) => (
            error["extensions"]["code"]
                .as_str()
                .unwrap_or("(no code)")
                .to_lowercase(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        ),
    }
}

/// Opens a subscription as `client` and writes in the log until the subscription
/// answers or has stayed silent for [`SILENCE`].
async fn subscription_outcome(
    client: &Client,
    fixtures: &Fixtures<'_>,
    operation: &str,
    variables: Value,
) -> anyhow::Result<(String, String)> {
    let mut socket = match client.socket().await {
        Ok(socket) => socket,
        Err(error) => return Ok(("refused".to_owned(), format!("{error:#}"))),
    };
    socket.subscribe("matris", operation, variables).await?;
    let outcome = {
        let mut message = std::pin::pin!(socket.receive());
        let silence = tokio::time::sleep(SILENCE);
        tokio::pin!(silence);
        loop {
            tokio::select! {
                received = &mut message => {
                    let received = match received {
                        Ok(received) => received,
                        Err(error) => break ("closed".to_owned(), format!("{error:#}")),
                    };
                    break match received["type"].as_str() {
                        Some("next") => outcome_of(&received["payload"]),
                        Some("error") => outcome_of(&json!({ "errors": received["payload"] })),
                        _ => (format!("{}", received["type"]), received.to_string()),
                    };
                }
                () = &mut silence => break (NO_EVENT.to_owned(), String::new()),
                written = async {
                    fixtures.write_in_the_log().await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    anyhow::Ok(())
                } => written?,
            }
        }
    };
    socket.close().await?;
    Ok(outcome)
}

/// One cell of the matrix that did not come out as the table says.
struct Mismatch {
    field: String,
    principal: &'static str,
    expected: String,
    got: String,
    message: String,
}

fn mismatch_table(mismatches: &[Mismatch]) -> String {
    let mut table = format!(
        "{} of the matrix's cells differ from tests/authorization/matrix.toml:\n\n| field | principal | expected | got | message |\n|---|---|---|---|---|\n",
        mismatches.len()
    );
    for mismatch in mismatches {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            mismatch.field, mismatch.principal, mismatch.expected, mismatch.got, mismatch.message
        ));
    }
    table
}

async fn sign_in_principal(server: &TestServer, principal: &str) -> anyhow::Result<Client> {
    match principal {
        "anonymous" => Ok(server.anonymous()),
        username => server.sign_in_as(username).await,
    }
}

on_every_database! {
    async fn every_principal_gets_what_the_matrix_says_of_every_root_field(server: sample_municipality) {
        let matrix = load_matrix()?;
        let problems = table_problems(&matrix, &schema_root_fields()?);
        if !problems.is_empty() {
            bail!("the matrix does not cover the schema:\n  {}", problems.join("\n  "));
        }
        let mut fixtures = Fixtures::prepare(&server).await?;
        let mut clients = Vec::with_capacity(PRINCIPALS.len());
        for (principal, _) in PRINCIPALS {
            clients.push(sign_in_principal(&server, principal).await?);
        }
        let mut mismatches = Vec::new();
        let mut cells = 0;
        for (field, entry) in matrix.entries() {
            for (index, (principal, _)) in PRINCIPALS.iter().enumerate() {
                let variables = fixtures
                    .resolve(&entry.variables, principal)
                    .await
                    .with_context(|| format!("resolving the variables of {field} for {principal}"))?;
                let client = &clients[index];
                let (got, message) = if field.starts_with("Subscription.") {
                    subscription_outcome(client, &fixtures, &entry.operation, variables).await?
                } else {
                    outcome_of(&client.send(&entry.operation, variables).await?)
                };
                let expected = entry.expect.get(*principal).map_or("?", String::as_str);
                let access_shown = expected == ALLOWED
                    && entry.access_shown_by.iter().any(|code| code.eq_ignore_ascii_case(&got));
                if got != expected && !access_shown {
                    mismatches.push(Mismatch {
                        field: field.clone(),
                        principal,
                        expected: expected.to_owned(),
                        got,
                        message,
                    });
                }
                if entry.signs_out {
                    clients[index] = sign_in_principal(&server, principal).await?;
                }
                cells += 1;
            }
        }
        if !mismatches.is_empty() {
            bail!("{}", mismatch_table(&mismatches));
        }
        assert_eq!(cells, matrix.entries().len() * PRINCIPALS.len(), "every cell was checked");
        Ok(())
    }
}

#[test]
fn a_field_without_an_entry_and_an_entry_without_a_field_are_both_named() -> anyhow::Result<()> {
    let matrix = load_matrix()?;
    let mut fields = schema_root_fields()?;
    fields.insert("Mutation.evacuateTheTownHall".to_owned());
    fields.remove("Query.me");
    let problems = table_problems(&matrix, &fields);
    assert_eq!(
        problems,
        [
            "Mutation.evacuateTheTownHall is in the schema but has no entry in matrix.toml",
            "Query.me has an entry in matrix.toml but is not in the schema",
        ]
    );
    Ok(())
}
