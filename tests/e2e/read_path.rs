//! The read path stays a fixed number of queries: nested fields are loaded a level at
//! a time, so asking for more plans or a longer crisis log costs no more statements.
//! The read cache is off here: a repeated request served from it would cost no query
//! at all and hide what running it costs.

use reserv_tests::{Client, TestServer, id_where, on_every_database};
use serde_json::{Value, json};

const PLAN_TREE: &str = "query($first: Int) { plans(first: $first) { edges { node { id title versions { id state
    activities { id name dependencies { id kind system { name } } routines { id title steps { who what } materials { name } } } } } } } }";

const INCIDENT: &str = "query($id: ID!) { incident(id: $id) { id title state commander { name }
    units { id name } systems { id name } log { id kind text author } tasks { id title state } } }";

/// The fewest and the most statements one query cost over a few runs. Loads of one
/// kind from different branches of a query (a commander and a task's assignee) share a
/// batch when they happen to fall in the loader's short wait, so the count varies a
/// little from run to run; a query per row would add at least one statement per row,
/// every run.
#[derive(Debug, Clone, Copy)]
struct Cost {
    fewest: u64,
    most: u64,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}–{}", self.fewest, self.most)
    }
}

async fn statements(
    server: &TestServer,
    client: &Client,
    query: &str,
    variables: Value,
) -> anyhow::Result<Cost> {
    let store = server.store()?;
    let mut cost = Cost {
        fewest: u64::MAX,
        most: 0,
    };
    for _ in 0..3 {
        let before = store.statements_executed();
        client.data(query, variables.clone()).await?;
        let spent = store.statements_executed() - before;
        cost = Cost {
            fewest: cost.fewest.min(spent),
            most: cost.most.max(spent),
        };
    }
    Ok(cost)
}

/// How many statements batches split by timing may add on a busy machine (seen: up to
/// three on two cores running the whole suite). Every test below grows its data by at
/// least four rows of each kind it lists, so a query per row still fails it.
const SPLIT_BATCHES: u64 = 3;

/// Whether the larger read cost no more than the smaller one could.
fn costs_no_more(smaller: Cost, larger: Cost) -> bool {
    larger.fewest <= smaller.most + SPLIT_BATCHES
}

const INCIDENT_LIST: &str = "{ incidents(first: 50) { edges { node { id commander { name units { name } }
    units { name parent { name } } systems { name owner { name } } log { id text } tasks { title assignee { name } incident { id } } } } } }";

const ROUTINES_TO_SYNC: &str =
    "query($unit: ID) { routines(unitId: $unit) { id title steps { what } materials { name }
    recoverySteps { what } versionState plan { title unit { name } } activity { name } } }";

/// Reports an internal incident (confidentiality 1) affecting `unit`, with one log
/// entry and one task, and returns its id.
async fn an_incident_with_a_log_and_a_task(
    lead: &Client,
    unit: &str,
    title: &str,
) -> anyhow::Result<String> {
    let reported = lead
        .data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": title, "kind": "IT_OUTAGE", "severity": 3, "unitIds": [unit],
                "classification": { "confidentiality": 1, "integrity": 2, "availability": 2 },
            } }),
        )
        .await?;
    let id = reported["reportIncident"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    lead.data(
        "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }",
        json!({ "id": id, "input": { "kind": "DECISION", "text": "Papperslistor delas ut till kvällspasset" } }),
    )
    .await?;
    lead.data(
        "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { id } }",
        json!({ "id": id, "input": { "title": "Ring larmcentralen och bekräfta reservnumret" } }),
    )
    .await?;
    Ok(id)
}

on_every_database! {
    one_thread;
    async fn the_plan_tree_costs_the_same_statements_for_two_plans_or_all(server: sample_municipality_without_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let all = lead.data(PLAN_TREE, json!({ "first": 50 })).await?;
        let plans = all["plans"]["edges"].as_array().map_or(0, Vec::len);
        assert!(plans >= 6, "{all}");
        let few = statements(&server, &lead, PLAN_TREE, json!({ "first": 2 })).await?;
        let many = statements(&server, &lead, PLAN_TREE, json!({ "first": 50 })).await?;
        assert!(costs_no_more(few, many), "2 plans cost {few} statements, {plans} plans {many}");
        assert!(many.fewest <= 25, "the whole tree of {plans} plans costs {many} statements");
        Ok(())
    }

    async fn the_incident_page_costs_the_same_statements_as_its_log_grows(server: sample_municipality_without_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let reported = lead
            .data(
                "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
                json!({ "input": {
                    "title": "Larmmottagningen tyst", "kind": "IT_OUTAGE", "severity": 2, "unitIds": [unit],
                    "classification": { "confidentiality": 2, "integrity": 2, "availability": 3 },
                } }),
            )
            .await?;
        let id = reported["reportIncident"]["id"].as_str().unwrap_or_default().to_owned();
        let short = statements(&server, &lead, INCIDENT, json!({ "id": id })).await?;
        for number in 0..15 {
            lead.data(
                "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }",
                json!({ "id": id, "input": { "kind": "OBSERVATION", "text": format!("Kontroll {number}: larmen går till reservtelefonen") } }),
            )
            .await?;
        }
        for number in 0..5 {
            lead.data(
                "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { id } }",
                json!({ "id": id, "input": { "title": format!("Ring brukare {number}") } }),
            )
            .await?;
        }
        let long = statements(&server, &lead, INCIDENT, json!({ "id": id })).await?;
        assert!(costs_no_more(short, long), "an empty page costs {short} statements, 15 entries and 5 tasks {long}");
        Ok(())
    }

    async fn listing_more_incidents_costs_no_more_statements(server: sample_municipality_without_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        an_incident_with_a_log_and_a_task(&lead, &unit, "Larmet tyst i Norr").await?;
        let listed = lead.data(INCIDENT_LIST, json!({})).await?;
        let before = listed["incidents"]["edges"].as_array().map_or(0, Vec::len);
        let few = statements(&server, &lead, INCIDENT_LIST, json!({})).await?;
        for number in 0..10 {
            an_incident_with_a_log_and_a_task(&lead, &unit, &format!("Dörrlåsen nere, område {number}")).await?;
        }
        let listed = lead.data(INCIDENT_LIST, json!({})).await?;
        let after = listed["incidents"]["edges"].as_array().map_or(0, Vec::len);
        assert_eq!(after, before + 10, "{listed}");
        let many = statements(&server, &lead, INCIDENT_LIST, json!({})).await?;
        assert!(costs_no_more(few, many), "{before} incidents cost {few} statements, {after} incidents {many}");
        Ok(())
    }

    async fn syncing_the_routines_of_a_whole_municipality_costs_the_same_as_one_unit(server: sample_municipality_without_read_cache) {
        let worker = server.sign_in_as("krisledare").await?;
        let units = worker.data("{ units { id name parent { id } } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let one = worker.data(ROUTINES_TO_SYNC, json!({ "unit": unit })).await?;
        let all = worker.data(ROUTINES_TO_SYNC, json!({ "unit": null })).await?;
        let (in_one, in_all) = (
            one["routines"].as_array().map_or(0, Vec::len),
            all["routines"].as_array().map_or(0, Vec::len),
        );
        assert!(in_one >= 1 && in_all > in_one, "one unit {in_one} routines, all units {in_all}");
        assert!(all["routines"].as_array().into_iter().flatten().all(|routine| routine["plan"]["title"].is_string()), "{all}");
        let for_one = statements(&server, &worker, ROUTINES_TO_SYNC, json!({ "unit": unit })).await?;
        let for_all = statements(&server, &worker, ROUTINES_TO_SYNC, json!({ "unit": null })).await?;
        assert!(costs_no_more(for_one, for_all), "one unit's {in_one} routines cost {for_one} statements, all {in_all} cost {for_all}");
        // Sign-in costs three statements, the audit event two; the rest is one batch per
        // level of the tree.
        assert!(for_one.fewest <= 24, "the routines of one unit cost {for_one} statements");
        Ok(())
    }

    async fn the_directory_costs_the_same_statements_however_many_people_it_lists(server: sample_municipality_without_read_cache) {
        let lead = server.sign_in_as("krisledare").await?;
        let query = "query($first: Int) { people(first: $first) { edges { node { name units { name parent { name } } } } } }";
        let few = statements(&server, &lead, query, json!({ "first": 2 })).await?;
        let many = statements(&server, &lead, query, json!({ "first": 50 })).await?;
        assert!(costs_no_more(few, many), "2 people cost {few} statements, 50 people {many}");
        Ok(())
    }
}
