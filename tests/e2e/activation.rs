//! Activating a playbook over GraphQL on the demo municipality: one action opens the
//! incident, activates the units' approved plans, creates the tasks per crisis role,
//! starts the checklist runs and writes the crisis log; the same key twice creates
//! nothing more.

use reserv_tests::{id_where, on_every_database};
use serde_json::{Value, json};
use std::path::PathBuf;

const ACTIVATE: &str = "mutation($key: String!, $exercise: Boolean!, $units: [ID!]!, $incident: ID) {
  activatePlaybook(playbookId: \"it-avbrott-cyberattack\", unitIds: $units, exercise: $exercise, note: \"Nätet nere sedan 02:40\", idempotencyKey: $key, incidentId: $incident) {
    id replayed tasksCreated exercise
    activatedPlans { unitId planVersionId exercise }
    checklistRuns { id unitId routineId exercise }
    incident { id title exercise kind unitIds: units { id }
      activatedPlans { unitId } checklistRuns { id }
      tasks { title assigneeRole dueAt assignee { name } }
      log { kind text } }
  } }";

async fn import_shipped(server: &reserv_tests::TestServer) -> anyhow::Result<()> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    reserv::playbooks::import(&server.store()?, &folder).await?;
    Ok(())
}

fn count(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

on_every_database! {
    async fn a_crisis_lead_activates_the_total_it_outage_playbook_once(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let first = lead.data(ACTIVATE, json!({ "key": "natt-1", "exercise": false, "units": [] })).await?;
        let activation = &first["activatePlaybook"];
        assert_eq!(activation["replayed"], false, "{first}");
        let incident = &activation["incident"];
        assert_eq!(incident["title"], "Totalt IT-avbrott efter cyberangrepp");
        assert_eq!(incident["exercise"], false);
        let plans = count(&activation["activatedPlans"]);
        assert!(plans >= 2, "every unit with an approved plan is activated: {first}");
        assert_eq!(count(&incident["activatedPlans"]), plans);
        let runs = count(&activation["checklistRuns"]);
        assert!(runs >= 1, "{first}");
        assert_eq!(count(&incident["checklistRuns"]), runs);
        let tasks = incident["tasks"].as_array().cloned().unwrap_or_default();
        assert_eq!(json!(tasks.len()), activation["tasksCreated"]);
        assert!(tasks.iter().all(|task| task["assigneeRole"].is_string() && task["dueAt"].is_string()), "{first}");
        assert!(tasks.iter().any(|task| task["assigneeRole"] == "crisis_lead" && task["assignee"]["name"].is_string()), "crisis lead tasks go to a person holding the role: {first}");
        let log = incident["log"].as_array().cloned().unwrap_or_default();
        assert_eq!(log.len(), plans + tasks.len(), "one entry per activated plan and per task: {first}");
        assert!(log.iter().any(|entry| entry["text"].as_str().is_some_and(|text| text.contains("checklistor startade"))));

        let before = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        let again = lead.data(ACTIVATE, json!({ "key": "natt-1", "exercise": false, "units": [] })).await?;
        let after = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        assert_eq!(before, after, "no second incident");
        assert_eq!(again["activatePlaybook"]["id"], activation["id"]);
        assert_eq!(again["activatePlaybook"]["replayed"], true);
        assert_eq!(again["activatePlaybook"]["activatedPlans"], activation["activatedPlans"]);
        assert_eq!(count(&again["activatePlaybook"]["incident"]["tasks"]), tasks.len(), "nothing more is created: {again}");
        Ok(())
    }

    async fn simultaneous_requests_with_one_key_make_one_activation(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let before = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        // A phone that retries while the first request is still being committed.
        let variables = json!({ "key": "samtidigt", "exercise": false, "units": [] });
        let answers = futures_util::future::join_all((0..4).map(|_| lead.data(ACTIVATE, variables.clone()))).await;
        let answers = answers.into_iter().collect::<anyhow::Result<Vec<Value>>>()?;
        let firsts = answers.iter().filter(|answer| answer["activatePlaybook"]["replayed"] == false).count();
        assert_eq!(firsts, 1, "exactly one request activates, the others replay it: {answers:?}");
        assert!(answers.iter().all(|answer| answer["activatePlaybook"]["id"] == answers[0]["activatePlaybook"]["id"]), "{answers:?}");
        let after = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        assert_eq!(count(&after["incidents"]["edges"]), count(&before["incidents"]["edges"]) + 1, "one incident opened: {after}");
        Ok(())
    }

    async fn an_exercise_activation_marks_everything_as_an_exercise(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let done = lead.data(ACTIVATE, json!({ "key": "ovning-1", "exercise": true, "units": [] })).await?;
        let activation = &done["activatePlaybook"];
        assert_eq!(activation["exercise"], true);
        assert_eq!(activation["incident"]["exercise"], true);
        assert!(activation["activatedPlans"].as_array().into_iter().flatten().all(|plan| plan["exercise"] == true), "{done}");
        assert!(activation["checklistRuns"].as_array().into_iter().flatten().all(|run| run["exercise"] == true), "{done}");
        assert!(activation["incident"]["tasks"].as_array().into_iter().flatten().all(|task| task["title"].as_str().is_some_and(|title| title.starts_with("ÖVNING: "))), "{done}");
        assert!(activation["incident"]["log"].as_array().into_iter().flatten().all(|entry| entry["text"].as_str().is_some_and(|text| text.starts_with("ÖVNING: "))), "{done}");
        Ok(())
    }

    async fn a_care_workers_report_reaches_the_lead_live_and_one_action_puts_the_units_on_paper(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let directory = lead.data("{ units { id name } itSystems { id name } }", json!({})).await?;
        let norr = id_where(&directory["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let journal = id_where(&directory["itSystems"], "name", "Verksamhetssystem vård och omsorg")?;

        // 03:00 in Hemtjänst Norr: the journal will not open. The report is resent until
        // the lead's subscription shows it; its client id keeps it one report.
        let mut socket = lead.socket().await?;
        socket.subscribe("1", "subscription { incidentsChanged { kind incident { id title } } }", json!({})).await?;
        let report = json!({ "input": {
            "title": "Journalen går inte att öppna", "kind": "IT_OUTAGE", "severity": 2,
            "unitIds": [norr], "systemIds": [journal], "clientId": "natt-rapport-1",
            "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
        } });
        let seen = socket
            .first_event_while("1", || async {
                worker.data("mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }", report.clone()).await?;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok(())
            })
            .await?;
        let change = &seen["data"]["incidentsChanged"];
        assert_eq!(change["incident"]["title"], "Journalen går inte att öppna", "{seen}");
        let reported = change["incident"]["id"].clone();
        socket.close().await?;

        // The lead asks what fits the system that is down, and activates it on the report.
        let suggested = lead.data("query($s: [ID!]!) { suggestPlaybooks(itSystemIds: $s) { playbookId } }", json!({ "s": [journal] })).await?;
        let ids: Vec<&str> = suggested["suggestPlaybooks"].as_array().into_iter().flatten().filter_map(|s| s["playbookId"].as_str()).collect();
        assert!(ids.contains(&"verksamhetssystem-vard-nere"), "{suggested}");
        let activated = lead.data(
            "mutation($incident: ID) { activatePlaybook(playbookId: \"verksamhetssystem-vard-nere\", idempotencyKey: \"natt-aktivering-1\", incidentId: $incident) {
                activatedPlans { unitId } checklistRuns { unitId } incident { id tasks { title } log { text } } } }",
            json!({ "incident": reported }),
        ).await?;
        let activation = &activated["activatePlaybook"];
        assert_eq!(activation["incident"]["id"], reported, "the report became the incident: {activated}");
        let units: Vec<&Value> = activation["activatedPlans"].as_array().into_iter().flatten().map(|plan| &plan["unitId"]).collect();
        assert!(units.contains(&&json!(norr)), "the reporter's unit works on paper: {activated}");
        let runs: Vec<&Value> = activation["checklistRuns"].as_array().into_iter().flatten().map(|run| &run["unitId"]).collect();
        assert!(runs.contains(&&json!(norr)), "the reporter's unit has its paper-journal checklist: {activated}");
        assert!(count(&activation["incident"]["tasks"]) > 0, "{activated}");
        let reports = lead.data("{ incidents(first: 100) { edges { node { title } } } }", json!({})).await?;
        let same = reports["incidents"]["edges"].as_array().into_iter().flatten().filter(|edge| edge["node"]["title"] == "Journalen går inte att öppna").count();
        assert_eq!(same, 1, "resending the report made one incident: {reports}");
        Ok(())
    }

    async fn a_floor_report_is_joined_by_the_activation(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let first = lead.data(ACTIVATE, json!({ "key": "a", "exercise": false, "units": [] })).await?;
        let unit = first["activatePlaybook"]["activatedPlans"][0]["unitId"].clone();
        let incident = first["activatePlaybook"]["incident"]["id"].clone();
        // Joining the open incident with another key adds to it instead of opening one.
        let joined = lead.data(ACTIVATE, json!({ "key": "b", "exercise": false, "units": [unit], "incident": incident })).await?;
        assert_eq!(joined["activatePlaybook"]["incident"]["id"], incident, "{joined}");
        assert_eq!(count(&joined["activatePlaybook"]["activatedPlans"]), 1);
        let (code, message) = lead.error(ACTIVATE, json!({ "key": "c", "exercise": true, "units": [unit], "incident": incident })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        Ok(())
    }

    async fn activation_refuses_bad_input_and_leaves_nothing(server: sample_municipality) {
        import_shipped(&server).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, _) = worker.error(ACTIVATE, json!({ "key": "x", "exercise": false, "units": [] })).await?;
        assert_eq!(code, "FORBIDDEN");

        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let activated = lead.data(ACTIVATE, json!({ "key": "probe", "exercise": true, "units": [] })).await?;
        let with_plan: Vec<Value> = activated["activatePlaybook"]["activatedPlans"].as_array().into_iter().flatten().map(|plan| plan["unitId"].clone()).collect();
        let without = units["units"].as_array().into_iter().flatten().find(|unit| !with_plan.contains(&unit["id"])).cloned().unwrap_or_default();
        let before = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        let (code, message) = lead.error(ACTIVATE, json!({ "key": "y", "exercise": false, "units": [with_plan[0], without["id"]] })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(without["name"].as_str().is_some_and(|name| message.contains(name)), "the error names the unit: {message}");
        let after = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        assert_eq!(before, after, "nothing is created");
        let (code, message) = lead.error("mutation { activatePlaybook(playbookId: \"finns-inte\", idempotencyKey: \"z\") { id } }", json!({})).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        Ok(())
    }
}
