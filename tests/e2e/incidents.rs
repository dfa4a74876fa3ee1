//! Incidents: reporting one, walking it through its life cycle, who may see and change
//! it, listing with filters and cursors, and the tasks of the response.

use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};

const HEMTJANST_NORR: &str = "Hemtjänst Norr – centrala Norrbyn";
const SOLGARDEN: &str = "Solgårdens vård- och omsorgsboende";

const REPORT: &str = "mutation($input: ReportIncidentInput!) {
    reportIncident(input: $input) { id title state nextStates severity exercise reportedBy closedAt units { name } }
}";
const CHANGE_STATE: &str = "mutation($id: ID!, $state: IncidentState!) { changeIncidentState(id: $id, state: $state) { state nextStates closedAt } }";
const INCIDENT: &str = "query($id: ID!) { incident(id: $id) { title state nextStates closedAt log { text } tasks { title state } } }";
const LIST: &str = "query($filter: IncidentFilter, $first: Int, $after: String) {
    incidents(filter: $filter, first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id title } }
    }
}";
const CREATE_TASK: &str = "mutation($id: ID!, $input: TaskInput!) {
    createTask(incidentId: $id, input: $input) { id title state assignee { name } assigneeRole }
}";
const CHANGE_TASK: &str = "mutation($id: ID!, $state: TaskState!) { changeTaskState(id: $id, state: $state) { id state } }";
const MY_TASKS: &str = "{ myTasks { id title state incidentId incident { title } } }";

async fn unit_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let data = client.data("{ units { id name } }", json!({})).await?;
    id_where(&data["units"], "name", name)
}

async fn person_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let data = client
        .data("{ people(first: 200) { nodes { id name } } }", json!({}))
        .await?;
    id_where(&data["people"]["nodes"], "name", name)
}

/// The input of an internal (confidentiality 1) incident report.
fn report_input(title: &str, severity: i32, exercise: bool, unit_ids: &[&str]) -> Value {
    json!({ "input": {
        "title": title,
        "kind": "IT_OUTAGE",
        "severity": severity,
        "exercise": exercise,
        "unitIds": unit_ids,
        "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
    } })
}

/// Reports an incident and returns it as reported.
async fn report(
    client: &Client,
    title: &str,
    severity: i32,
    exercise: bool,
    unit_ids: &[&str],
) -> anyhow::Result<Value> {
    let data = client
        .data(REPORT, report_input(title, severity, exercise, unit_ids))
        .await?;
    Ok(data["reportIncident"].clone())
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// The titles of the incidents `client` sees with `filter`, in the listed order.
async fn titles(client: &Client, filter: Value) -> anyhow::Result<Vec<String>> {
    let data = client
        .data(LIST, json!({ "filter": filter, "first": 50 }))
        .await?;
    Ok(data["incidents"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|edge| {
            edge["node"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect())
}

/// Every incident title the crisis lead (who sees them all) can list.
async fn all_titles(server: &reserv_tests::TestServer) -> anyhow::Result<Vec<String>> {
    let lead = server.sign_in_as("krisledare").await?;
    titles(&lead, json!({})).await
}

/// The id of the demo's closed incident.
async fn demo_incident(lead: &Client) -> anyhow::Result<String> {
    let data = lead
        .data(LIST, json!({ "filter": { "states": ["CLOSED"] } }))
        .await?;
    let edges = data["incidents"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(edges.len() == 1, "the demo has one closed incident: {data}");
    Ok(edges[0]["node"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Creates an account for the named person with one role, signs in as it and returns it.
async fn account_for(
    server: &reserv_tests::TestServer,
    username: &str,
    person: &str,
    role: &str,
    unit: &str,
) -> anyhow::Result<Client> {
    let admin = server.sign_in_as("admin").await?;
    let person = person_id(&admin, person).await?;
    let unit = unit_id(&admin, unit).await?;
    let created = admin
        .data(
            "mutation($input: AccountInput!) { createAccount(input: $input) { generatedPassword } }",
            json!({ "input": { "username": username, "personId": person, "roles": [{ "role": role, "unitId": unit }] } }),
        )
        .await?;
    let password = created["createAccount"]["generatedPassword"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    server.sign_in(username, &password).await
}

on_every_database! {
    async fn a_care_worker_reports_an_incident_for_her_unit(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let norr = unit_id(&worker, HEMTJANST_NORR).await?;
        let reported = report(&worker, "Mobilappen visar inga körlistor", 3, false, &[&norr]).await?;
        assert_eq!(reported["state"], "REPORTED");
        assert_eq!(reported["nextStates"], json!(["TRIAGED", "CLOSED"]));
        assert_eq!(reported["reportedBy"], "underskoterska");
        assert_eq!(reported["severity"], 3);
        assert_eq!(reported["exercise"], false);
        assert_eq!(reported["closedAt"], Value::Null);
        assert_eq!(reported["units"], json!([{ "name": HEMTJANST_NORR }]));

        // She sees it in her list, and the crisis lead sees it too.
        let mine = titles(&worker, json!({})).await?;
        assert_eq!(mine, ["Mobilappen visar inga körlistor"], "only her unit's internal incidents");
        let lead = server.sign_in_as("krisledare").await?;
        let seen = lead.data(INCIDENT, json!({ "id": id_of(&reported) })).await?;
        assert_eq!(seen["incident"]["title"], "Mobilappen visar inga körlistor");
        assert_eq!(seen["incident"]["state"], "REPORTED");

        // Moving it along is for the crisis staff, not for her.
        let (code, _) = worker.error(CHANGE_STATE, json!({ "id": id_of(&reported), "state": "TRIAGED" })).await?;
        assert_eq!(code, "FORBIDDEN");
        let after = lead.data(INCIDENT, json!({ "id": id_of(&reported) })).await?;
        assert_eq!(after["incident"]["state"], "REPORTED");
        Ok(())
    }

    async fn the_crisis_lead_walks_an_incident_through_its_life_cycle(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let norr = unit_id(&worker, HEMTJANST_NORR).await?;
        let id = id_of(&report(&worker, "Digitala lås svarar inte", 2, false, &[&norr]).await?);
        let lead = server.sign_in_as("krisledare").await?;
        let steps = [
            ("TRIAGED", json!(["ACTIVE", "CLOSED"])),
            ("ACTIVE", json!(["RECOVERING"])),
            ("RECOVERING", json!(["ACTIVE", "CLOSED"])),
            ("CLOSED", json!([])),
        ];
        for (state, next_states) in steps {
            let changed = lead.data(CHANGE_STATE, json!({ "id": id, "state": state })).await?;
            let changed = &changed["changeIncidentState"];
            assert_eq!(changed["state"], state);
            assert_eq!(changed["nextStates"], next_states, "after {state}");
            assert_eq!(changed["closedAt"].is_null(), state != "CLOSED", "closedAt after {state}: {changed}");
            let stored = lead.data(INCIDENT, json!({ "id": id })).await?;
            assert_eq!(stored["incident"]["state"], state, "the change was stored");
        }
        Ok(())
    }

    async fn skipping_a_state_is_a_conflict_that_names_the_way_forward(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        let id = id_of(&report(&lead, "Larmcentralen når inte mobilerna", 2, false, &[&norr]).await?);
        let (code, message) = lead.error(CHANGE_STATE, json!({ "id": id, "state": "ACTIVE" })).await?;
        assert_eq!(code, "CONFLICT");
        assert!(message.contains("triaged") && message.contains("closed"), "{message}");
        assert!(message.contains("reported") && message.contains("active"), "{message}");
        let stored = lead.data(INCIDENT, json!({ "id": id })).await?;
        assert_eq!(stored["incident"]["state"], "REPORTED");
        assert_eq!(stored["incident"]["closedAt"], Value::Null);
        Ok(())
    }

    async fn a_closed_incident_refuses_every_change(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let id = demo_incident(&lead).await?;
        let before = lead.data(INCIDENT, json!({ "id": id })).await?;
        let open_task = id_where(
            &lead.data("query($id: ID!) { incident(id: $id) { tasks { id state } } }", json!({ "id": id })).await?["incident"]["tasks"],
            "state",
            "OPEN",
        )?;

        let attempts = [
            ("mutation($id: ID!) { changeIncidentState(id: $id, state: ACTIVE) { state } }", json!({ "id": id })),
            ("mutation($id: ID!) { updateIncident(id: $id, input: { title: \"Omdöpt\" }) { title } }", json!({ "id": id })),
            ("mutation($id: ID!) { addLogEntry(incidentId: $id, input: { kind: OBSERVATION, text: \"Efterhandsnotering\" }) { id } }", json!({ "id": id })),
            ("mutation($id: ID!) { createTask(incidentId: $id, input: { title: \"Ny uppgift\" }) { id } }", json!({ "id": id })),
            ("mutation($id: ID!) { changeTaskState(id: $id, state: DONE) { state } }", json!({ "id": open_task })),
        ];
        for (mutation, variables) in attempts {
            let (code, message) = lead.error(mutation, variables).await?;
            assert_eq!(code, "CONFLICT", "{mutation}: {message}");
            assert!(message.contains("closed"), "{mutation}: {message}");
        }
        let after = lead.data(INCIDENT, json!({ "id": id })).await?;
        assert_eq!(before, after, "nothing about the closed incident changed");
        Ok(())
    }

    async fn incidents_are_filtered_by_state_unit_severity_and_exercise(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let demo = all_titles(&server).await?;
        assert_eq!(demo.len(), 1, "the demo has one incident");
        let demo = demo[0].clone();
        let solgarden = unit_id(&lead, SOLGARDEN).await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        let natt = unit_id(&lead, "Nattpatrullen").await?;
        let hemtjanst = unit_id(&lead, "Hemtjänst").await?;

        report(&lead, "Elavbrott Solgården", 2, false, &[&solgarden]).await?;
        let exercise = report(&lead, "Övning: planeringssystemet nere", 3, true, &[&norr]).await?;
        let staffing = report(&lead, "Personalbrist i nattpatrullen", 4, false, &[&natt]).await?;
        lead.data(CHANGE_STATE, json!({ "id": id_of(&exercise), "state": "TRIAGED" })).await?;
        lead.data(CHANGE_STATE, json!({ "id": id_of(&staffing), "state": "TRIAGED" })).await?;
        lead.data(CHANGE_STATE, json!({ "id": id_of(&staffing), "state": "ACTIVE" })).await?;

        let cases = [
            (json!({}), vec![demo.as_str(), "Elavbrott Solgården", "Övning: planeringssystemet nere", "Personalbrist i nattpatrullen"]),
            (json!({ "states": ["REPORTED", "TRIAGED"] }), vec!["Elavbrott Solgården", "Övning: planeringssystemet nere"]),
            (json!({ "states": ["ACTIVE"] }), vec!["Personalbrist i nattpatrullen"]),
            // A unit lists the incidents of the units below it.
            (json!({ "unitId": hemtjanst }), vec![demo.as_str(), "Övning: planeringssystemet nere", "Personalbrist i nattpatrullen"]),
            (json!({ "unitId": solgarden }), vec![demo.as_str(), "Elavbrott Solgården"]),
            (json!({ "severityAtLeast": 2 }), vec![demo.as_str(), "Elavbrott Solgården"]),
            (json!({ "severityAtLeast": 1 }), vec![demo.as_str()]),
            (json!({ "exercise": true }), vec!["Övning: planeringssystemet nere"]),
            (json!({ "exercise": false }), vec![demo.as_str(), "Elavbrott Solgården", "Personalbrist i nattpatrullen"]),
            (json!({ "unitId": hemtjanst, "states": ["TRIAGED", "ACTIVE"], "exercise": false }), vec!["Personalbrist i nattpatrullen"]),
        ];
        for (filter, expected) in cases {
            assert_eq!(titles(&lead, filter.clone()).await?, expected, "filter {filter}");
        }

        for level in [0, 5] {
            let response = lead.send(LIST, json!({ "filter": { "severityAtLeast": level } })).await?;
            assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], "severityAtLeast", "{response}");
        }
        Ok(())
    }

    async fn incidents_are_paged_with_cursors_oldest_first(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        for number in 1..=4 {
            report(&lead, &format!("Störning {number}"), 3, false, &[&norr]).await?;
        }
        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let page = lead.data(LIST, json!({ "first": 2, "after": after })).await?;
            let incidents = &page["incidents"];
            let edges = incidents["edges"].as_array().cloned().unwrap_or_default();
            assert!(edges.len() <= 2, "{page}");
            seen.extend(edges.iter().map(|edge| edge["node"]["id"].as_str().unwrap_or_default().parse::<i64>().unwrap_or_default()));
            pages += 1;
            if incidents["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = incidents["pageInfo"]["endCursor"].clone();
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(pages, 3, "five incidents in pages of two");
        assert_eq!(seen.len(), 5);
        let mut ordered = seen.clone();
        ordered.sort_unstable();
        ordered.dedup();
        assert_eq!(ordered, seen, "oldest first, none twice");
        Ok(())
    }

    async fn a_viewer_cannot_report_nor_a_care_worker_for_another_unit(server: sample_municipality) {
        let before = all_titles(&server).await?;
        let viewer = server.sign_in_as("lasare").await?;
        let solgarden = unit_id(&viewer, SOLGARDEN).await?;
        let (code, _) = viewer.error(REPORT, report_input("Läsaren rapporterar", 3, false, &[&solgarden])).await?;
        assert_eq!(code, "FORBIDDEN");

        let worker = server.sign_in_as("underskoterska").await?;
        let (code, message) = worker.error(REPORT, report_input("Fel enhet", 3, false, &[&solgarden])).await?;
        assert_eq!(code, "FORBIDDEN", "{message}");

        assert_eq!(all_titles(&server).await?, before, "nothing was stored");
        Ok(())
    }

    async fn the_demo_incident_is_read_in_full_by_the_crisis_lead_but_not_by_a_care_worker(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let id = demo_incident(&lead).await?;
        let data = lead
            .data(
                "query($id: ID!) { incident(id: $id) {
                    state closedAt severity classification { confidentiality } commander { name }
                    units { name } log { kind text author occurredAt } tasks { title state assignee { name } }
                } }",
                json!({ "id": id }),
            )
            .await?;
        let incident = &data["incident"];
        assert_eq!(incident["state"], "CLOSED");
        assert!(incident["closedAt"].as_str().is_some_and(|at| at.starts_with("2026-02-20T14:00:00")), "{incident}");
        assert_eq!(incident["classification"]["confidentiality"], 2);
        assert_eq!(incident["commander"]["name"], "Anna Berglund");
        assert!(incident["units"].as_array().is_some_and(|units| units.iter().any(|unit| unit["name"] == HEMTJANST_NORR)));

        let log = incident["log"].as_array().cloned().unwrap_or_default();
        assert!(log.len() >= 20, "the full crisis log: {} entries", log.len());
        assert_eq!(log[0]["kind"], "OBSERVATION");
        assert_eq!(log[0]["author"], "enhetschef");
        assert!(log[0]["occurredAt"].as_str().is_some_and(|at| at.starts_with("2026-02-10T05:42:00")));
        let times: Vec<&str> = log.iter().map(|entry| entry["occurredAt"].as_str().unwrap_or_default()).collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "in the order things happened: {times:?}");

        let tasks = incident["tasks"].as_array().cloned().unwrap_or_default();
        for state in ["DONE", "CANCELLED", "OPEN"] {
            assert!(tasks.iter().any(|task| task["state"] == state), "a {state} task: {tasks:?}");
        }
        let evaluation = tasks.iter().find(|task| task["state"] == "OPEN").cloned().unwrap_or_default();
        assert_eq!(evaluation["assignee"]["name"], "Lars Johansson");

        // The care worker's unit is affected, but confidentiality 2 is above her clearance.
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, message) = worker.error("query($id: ID!) { incident(id: $id) { title } }", json!({ "id": id })).await?;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("confidentiality level 2"), "{message}");
        let (code, _) = worker.error("query($id: ID!) { incident(id: $id) { log { text } } }", json!({ "id": id })).await?;
        assert_eq!(code, "FORBIDDEN");
        assert!(titles(&worker, json!({})).await?.is_empty(), "nor is it listed for her");
        Ok(())
    }

    async fn an_unknown_unit_is_named_and_nothing_is_stored(server: sample_municipality) {
        let before = all_titles(&server).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let norr = unit_id(&worker, HEMTJANST_NORR).await?;
        let response = worker.send(REPORT, report_input("Okänd enhet", 3, false, &[&norr, "99999"])).await?;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(error["extensions"]["field"], "unitIds");
        assert!(error["message"].as_str().is_some_and(|m| m.contains("99999")), "{error}");
        assert!(response["data"].is_null(), "{response}");
        assert_eq!(all_titles(&server).await?, before);
        Ok(())
    }

    async fn severity_seven_is_refused_and_nothing_is_stored(server: sample_municipality) {
        let before = all_titles(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        let response = lead.send(REPORT, report_input("Allvarligare än allvarligast", 7, false, &[&norr])).await?;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(error["extensions"]["field"], "severity");
        assert!(error["message"].as_str().is_some_and(|m| m.contains('7')), "{error}");
        assert_eq!(all_titles(&server).await?, before);
        Ok(())
    }

    async fn the_assignee_finishes_her_task_and_another_care_worker_cannot(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        let incident = id_of(&report(&lead, "Körlistorna saknas", 2, false, &[&norr]).await?);
        let linnea = person_id(&lead, "Linnea Isaksson").await?;
        let created = lead
            .data(CREATE_TASK, json!({ "id": incident, "input": { "title": "Hämta reservutskriften av körlistorna", "assigneeId": linnea } }))
            .await?;
        let task = created["createTask"].clone();
        assert_eq!(task["state"], "OPEN");
        assert_eq!(task["assignee"]["name"], "Linnea Isaksson");
        let task_id = id_of(&task);

        let assignee = server.sign_in_as("underskoterska").await?;
        let mine = assignee.data(MY_TASKS, json!({})).await?;
        assert_eq!(mine["myTasks"].as_array().map_or(0, Vec::len), 1, "{mine}");
        assert_eq!(mine["myTasks"][0]["id"], task_id.as_str());
        assert_eq!(mine["myTasks"][0]["incident"]["title"], "Körlistorna saknas");

        // Another care worker of the same unit may not touch it.
        let colleague = account_for(&server, "sofia.wikstrom", "Sofia Wikström", "CARE_WORKER", HEMTJANST_NORR).await?;
        let (code, _) = colleague.error(CHANGE_TASK, json!({ "id": task_id, "state": "DONE" })).await?;
        assert_eq!(code, "FORBIDDEN");
        let stored = lead.data(INCIDENT, json!({ "id": incident })).await?;
        assert_eq!(stored["incident"]["tasks"][0]["state"], "OPEN");
        assert!(colleague.data(MY_TASKS, json!({})).await?["myTasks"].as_array().is_some_and(Vec::is_empty));

        let started = assignee.data(CHANGE_TASK, json!({ "id": task_id, "state": "IN_PROGRESS" })).await?;
        assert_eq!(started["changeTaskState"]["state"], "IN_PROGRESS");
        let done = assignee.data(CHANGE_TASK, json!({ "id": task_id, "state": "DONE" })).await?;
        assert_eq!(done["changeTaskState"]["state"], "DONE");
        let stored = lead.data(INCIDENT, json!({ "id": incident })).await?;
        assert_eq!(stored["incident"]["tasks"][0]["state"], "DONE");
        let mine = assignee.data(MY_TASKS, json!({})).await?;
        assert_eq!(mine["myTasks"], json!([]), "a finished task leaves her list");

        // A finished task stays finished.
        let (code, _) = assignee.error(CHANGE_TASK, json!({ "id": task_id, "state": "OPEN" })).await?;
        assert_eq!(code, "CONFLICT");
        Ok(())
    }

    async fn a_task_for_someone_outside_the_affected_units_is_still_hers_to_finish(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, HEMTJANST_NORR).await?;
        let incident = id_of(&report(&lead, "Hemtjänsten behöver förstärkning", 2, false, &[&norr]).await?);
        let fatima = person_id(&lead, "Fatima Ali").await?;
        let task = lead
            .data(CREATE_TASK, json!({ "id": incident, "input": { "title": "Gå extrapass i Hemtjänst Norr", "assigneeId": fatima, "assigneeRole": "CARE_WORKER" } }))
            .await?;
        let task_id = id_of(&task["createTask"]);
        assert_eq!(task["createTask"]["assigneeRole"], "CARE_WORKER");

        let worker = account_for(&server, "fatima.ali", "Fatima Ali", "CARE_WORKER", SOLGARDEN).await?;
        let mine = worker.data(MY_TASKS, json!({})).await?;
        assert_eq!(mine["myTasks"][0]["id"], task_id.as_str(), "{mine}");
        assert_eq!(mine["myTasks"][0]["incidentId"], incident.as_str());
        assert_eq!(mine["myTasks"][0]["incident"], Value::Null, "she may not read the incident itself");
        let (code, _) = worker.error("query($id: ID!) { incident(id: $id) { title } }", json!({ "id": incident })).await?;
        assert_eq!(code, "FORBIDDEN");

        let done = worker.data(CHANGE_TASK, json!({ "id": task_id, "state": "DONE" })).await?;
        assert_eq!(done["changeTaskState"]["state"], "DONE");
        let stored = lead.data(INCIDENT, json!({ "id": incident })).await?;
        assert_eq!(stored["incident"]["tasks"][0]["state"], "DONE");
        Ok(())
    }
}
