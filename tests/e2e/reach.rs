//! How far a unit-scoped reader sees: the whole unit tree that `units` lists, people of
//! other units only up to internal level, tasks only of incidents they may read, and plan
//! versions above their clearance left out of `versions` and `currentVersion` alike.

use reserv_tests::{Client, TestServer, id_where, on_every_database};
use serde_json::{Value, json};

const NORR: &str = "Hemtjänst Norr – centrala Norrbyn";
const SOLGARDEN: &str = "Solgårdens vård- och omsorgsboende";
const PEOPLE: &str = "{ people(first: 200) { nodes { id name units { name } } } }";

async fn unit_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let data = client.data("{ units { id name } }", json!({})).await?;
    id_where(&data["units"], "name", name)
}

async fn sensitive_person(admin: &Client, name: &str, unit: &str) -> anyhow::Result<String> {
    let created = admin
        .data(
            "mutation($input: PersonInput!) { createPerson(input: $input) { id } }",
            json!({ "input": { "name": name, "unitIds": [unit], "confidentiality": 2 } }),
        )
        .await?;
    Ok(created["createPerson"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// An account that manages Hemtjänst Norr and works as a care worker at Solgården.
async fn manager_here_care_worker_there(server: &TestServer) -> anyhow::Result<Client> {
    let admin = server.sign_in_as("admin").await?;
    let (norr, solgarden) = (
        unit_id(&admin, NORR).await?,
        unit_id(&admin, SOLGARDEN).await?,
    );
    let created = admin
        .data(
            "mutation($input: AccountInput!) { createAccount(input: $input) { generatedPassword } }",
            json!({ "input": { "username": "dubbelroll", "roles": [
                { "role": "UNIT_MANAGER", "unitId": norr },
                { "role": "CARE_WORKER", "unitId": solgarden },
            ] } }),
        )
        .await?;
    let password = created["createAccount"]["generatedPassword"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    server.sign_in("dubbelroll", &password).await
}

fn names(people: &Value) -> Vec<String> {
    people["people"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|person| person["name"].as_str().map(str::to_owned))
        .collect()
}

on_every_database! {
    async fn a_care_worker_reads_every_unit_that_units_lists(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let units = worker.data("{ units { id name parent { name } } }", json!({})).await?;
        assert!(units["units"].as_array().is_some_and(|units| units.len() > 5), "{units}");
        let me = worker.data("{ me { roles { unit { name parent { name parent { name } } } } } }", json!({})).await?;
        assert_eq!(me["me"]["roles"][0]["unit"]["parent"]["name"], "Hemtjänst", "{me}");
        let people = worker.data(PEOPLE, json!({})).await?;
        let someone_elsewhere = people["people"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|person| person["units"].as_array().is_some_and(|units| units.iter().any(|unit| unit["name"] == SOLGARDEN)));
        assert!(someone_elsewhere, "Person.units of another unit answers: {people}");
        let solgarden = unit_id(&worker, SOLGARDEN).await?;
        let unit = worker.data("query($id: ID!) { unit(id: $id) { name parent { name } } }", json!({ "id": solgarden })).await?;
        assert_eq!(unit["unit"]["name"], SOLGARDEN);
        Ok(())
    }

    async fn a_managers_clearance_in_one_unit_does_not_reach_sensitive_people_of_another(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let (norr, solgarden) = (unit_id(&admin, NORR).await?, unit_id(&admin, SOLGARDEN).await?);
        let here = sensitive_person(&admin, "Skyddad Norrbo", &norr).await?;
        let there = sensitive_person(&admin, "Skyddad Solgårdsbo", &solgarden).await?;
        let reader = manager_here_care_worker_there(&server).await?;

        let listed = names(&reader.data(PEOPLE, json!({})).await?);
        assert!(listed.contains(&"Skyddad Norrbo".to_owned()), "{listed:?}");
        assert!(!listed.contains(&"Skyddad Solgårdsbo".to_owned()), "{listed:?}");
        assert!(listed.contains(&"Fatima Ali".to_owned()), "internal people of other units show: {listed:?}");
        let (code, _) = reader.error("query($id: ID!) { person(id: $id) { name } }", json!({ "id": there })).await?;
        assert_eq!(code, "NOT_FOUND");
        let of_unit = names(&reader.data("query($u: ID!) { people(unitId: $u, first: 50) { nodes { id name units { name } } } }", json!({ "u": solgarden })).await?);
        assert!(!of_unit.contains(&"Skyddad Solgårdsbo".to_owned()) && of_unit.contains(&"Fatima Ali".to_owned()), "{of_unit:?}");

        // The listing's read of the sensitive contact card is in the audit trail.
        let events = admin
            .data(
                "{ auditEvents(actor: \"dubbelroll\", objectType: \"person\", first: 50) { edges { node { action objectId detail } } } }",
                json!({}),
            )
            .await?;
        let read = events["auditEvents"]["edges"].as_array().into_iter().flatten().any(|edge| {
            edge["node"]["action"] == "READ"
                && (edge["node"]["objectId"] == here.as_str() || edge["node"]["detail"].as_str().is_some_and(|d| d.contains(&here)))
        });
        assert!(read, "{events}");
        Ok(())
    }

    async fn my_tasks_leave_out_incidents_the_assignee_may_not_read(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, NORR).await?;
        let people = lead.data(PEOPLE, json!({})).await?;
        let linnea = id_where(&people["people"]["nodes"], "name", "Linnea Isaksson")?;
        for (title, confidentiality) in [("Intern störning i körlistorna", 1), ("Misstänkt intrång i journalsystemet", 2)] {
            let reported = lead
                .data(
                    "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
                    json!({ "input": { "title": title, "kind": "IT_OUTAGE", "severity": 2, "unitIds": [norr],
                        "classification": { "confidentiality": confidentiality, "integrity": 2, "availability": 3 } } }),
                )
                .await?;
            lead.data(
                "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { id } }",
                json!({ "id": reported["reportIncident"]["id"], "input": { "title": format!("Uppgift: {title}"), "assigneeId": linnea } }),
            )
            .await?;
        }
        let worker = server.sign_in_as("underskoterska").await?;
        let mine = worker.data("{ myTasks { title } }", json!({})).await?;
        let titles: Vec<&str> = mine["myTasks"].as_array().into_iter().flatten().filter_map(|task| task["title"].as_str()).collect();
        assert_eq!(titles, ["Uppgift: Intern störning i körlistorna"], "{mine}");
        Ok(())
    }

    async fn control_characters_are_refused_wherever_text_enters(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, NORR).await?;
        let report = "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }";
        let input = |title: &str| json!({ "input": { "title": title, "kind": "OTHER", "severity": 2, "unitIds": [norr],
            "classification": { "confidentiality": 1, "integrity": 1, "availability": 1 } } });
        let response = lead.send(report, input("Larm\u{7}")).await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "title", "{response}");
        let reported = lead.data(report, input("Larmet tystnade")).await?;
        let incident = reported["reportIncident"]["id"].clone();
        let response = lead
            .send(
                "mutation($id: ID!, $text: String!) { addLogEntry(incidentId: $id, input: { kind: OBSERVATION, text: $text }) { id } }",
                json!({ "id": incident, "text": "rad ett\u{1b}[2J" }),
            )
            .await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION", "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "text", "{response}");
        let response = lead
            .send(
                "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { id } }",
                json!({ "id": incident, "input": { "title": "Ring\u{0}" } }),
            )
            .await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "title", "{response}");
        let admin = server.sign_in_as("admin").await?;
        let response = admin
            .send(
                "mutation($input: PersonInput!) { createPerson(input: $input) { id } }",
                json!({ "input": { "name": "Berit Ek", "organisation": "Taxi\u{85}bolaget" } }),
            )
            .await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "organisation", "{response}");
        let kept = lead.data("query($id: ID!) { incident(id: $id) { log { text } tasks { title } } }", json!({ "id": incident })).await?;
        assert!(!kept.to_string().contains("\\u001b") && !kept.to_string().contains("Ring"), "nothing stored: {kept}");
        Ok(())
    }

    async fn a_plan_version_above_the_readers_clearance_is_left_out_of_both_versions_and_current_version(server: sample_municipality) {
        // The reception's manager owns its plan and so reads it whatever its level (see
        // `classification`); here a colleague owns it, and her role's clearance decides.
        let lead = server.sign_in_as("krisledare").await?;
        let listed = lead.data("{ plans(first: 50) { nodes { id title unit { id } } } }", json!({})).await?;
        let plan = listed["plans"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|plan| plan["title"] == "Kontinuitetsplan Socialtjänstens mottagning och försörjningsstöd")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no reception plan: {listed}"))?;
        let people = lead
            .data("query($unit: ID) { people(unitId: $unit, first: 50) { nodes { id name } } }", json!({ "unit": plan["unit"]["id"] }))
            .await?;
        let colleague = people["people"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|person| person["name"] != "Ingrid Marklund")
            .map(|person| person["id"].clone())
            .ok_or_else(|| anyhow::anyhow!("no colleague: {people}"))?;
        lead.data(
            "mutation($plan: ID!, $owner: ID) { updatePlan(planId: $plan, ownerId: $owner) { id } }",
            json!({ "plan": plan["id"], "owner": colleague }),
        )
        .await?;
        let manager = server.sign_in_as("enhetschef-ifo").await?;
        let plans = manager
            .send("{ plans(first: 50) { nodes { title currentVersion { id } versions { id } } } }", json!({}))
            .await?;
        assert!(plans.get("errors").is_none(), "no FORBIDDEN for a version out of reach: {plans}");
        let reception = plans["data"]["plans"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|plan| plan["title"] == "Kontinuitetsplan Socialtjänstens mottagning och försörjningsstöd")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("her own unit's plan is listed: {plans}"))?;
        // Her role's clearance (2) is below the plan's versions (3): both leave them out.
        assert!(reception["currentVersion"].is_null(), "{reception}");
        assert_eq!(reception["versions"], json!([]), "{reception}");
        let all = lead.data("{ plans(first: 50) { nodes { currentVersion { id } versions { id } } } }", json!({})).await?;
        for plan in all["plans"]["nodes"].as_array().into_iter().flatten() {
            let current = &plan["currentVersion"]["id"];
            let listed = plan["versions"].as_array().is_some_and(|versions| versions.iter().any(|v| &v["id"] == current));
            assert!(current.is_null() || listed, "the current version is one of the versions: {plan}");
        }
        Ok(())
    }
}
