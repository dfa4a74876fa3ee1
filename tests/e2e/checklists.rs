//! Checklist runs on the demo municipality after activating the total-IT-outage
//! playbook: staff of a unit tick, untick and comment their routines' steps, a retried
//! tick applies once, progress is queryable and pushed live, recovery runs open when
//! the incident recovers, and the incident only closes once recovery is done or a
//! crisis lead gives a reason.

use reserv_tests::{Client, TestServer, on_every_database};
use serde_json::{Value, json};
use std::path::PathBuf;

const HEMTJANST_NORR: &str = "Hemtjänst Norr – centrala Norrbyn";

const ACTIVATE: &str = "mutation($key: String!, $exercise: Boolean!) {
  activatePlaybook(playbookId: \"it-avbrott-cyberattack\", idempotencyKey: $key, exercise: $exercise) {
    incident { id } } }";

const RUNS: &str = "query($id: ID!) { incident(id: $id) { state
  checklistRuns { id phase exercise routineTitle unit { name } progress { done total complete }
    steps { number ticked tickedBy marks { kind ticked comment author } } }
  checklistProgress { done total complete units { unit { name } runs done total } }
  recovery: checklistProgress(phase: RECOVERY) { done total complete }
  log { kind text } } }";

const TICK: &str = "mutation($run: ID!, $step: Int!, $client: String!, $comment: String) {
  tickChecklistStep(runId: $run, step: $step, clientId: $client, comment: $comment) {
    replayed exercise
    mark { id step kind ticked comment author clientId exercise }
    run { id progress { done total } } } }";

const UNTICK: &str = "mutation($run: ID!, $step: Int!, $client: String!) {
  untickChecklistStep(runId: $run, step: $step, clientId: $client) {
    replayed mark { id kind ticked } run { progress { done total } } } }";

const COMMENT: &str = "mutation($run: ID!, $step: Int!, $client: String!, $comment: String!) {
  commentChecklistStep(runId: $run, step: $step, clientId: $client, comment: $comment) {
    mark { kind ticked comment } } }";

const CHANGE_STATE: &str = "mutation($id: ID!, $state: IncidentState!, $reason: String) {
  changeIncidentState(id: $id, state: $state, reason: $reason) { state } }";

const RECORD: &str = "mutation($run: ID!, $stage: PaperBacklogStage!, $count: Int!, $client: String!) {
  recordPaperBacklog(runId: $run, stage: $stage, count: $count, clientId: $client) { counts { received registered } } }";

const DUE: &str = "mutation($run: ID!, $due: DateTime) { setPaperBacklogDue(runId: $run, dueAt: $due) { dueAt } }";

const BACKLOG: &str =
    "query($id: ID!) { incident(id: $id) { paperBacklog { unit { name } dueAt overdue
  counts { received registered checked archived leftToRegister leftToCheck leftToArchive left }
  runs { routineTitle entries { stage count recordedBy } } } } }";

async fn import_shipped(server: &TestServer) -> anyhow::Result<()> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    reserv::playbooks::import(&server.store()?, &folder).await?;
    Ok(())
}

/// Activates the total-IT-outage playbook for every unit as the crisis lead and returns
/// the lead and the incident's id.
async fn an_activated_outage(
    server: &TestServer,
    key: &str,
    exercise: bool,
) -> anyhow::Result<(Client, String)> {
    import_shipped(server).await?;
    let lead = server.sign_in_as("krisledare").await?;
    let done = lead
        .data(ACTIVATE, json!({ "key": key, "exercise": exercise }))
        .await?;
    let incident = done["activatePlaybook"]["incident"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(!incident.is_empty(), "no incident: {done}");
    Ok((lead, incident))
}

async fn runs(client: &Client, incident: &str) -> anyhow::Result<Value> {
    Ok(client.data(RUNS, json!({ "id": incident })).await?["incident"].clone())
}

/// The first run in `phase` whose unit is (or is not) Hemtjänst Norr.
fn run_where(incident: &Value, phase: &str, in_norr: bool) -> anyhow::Result<Value> {
    incident["checklistRuns"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|run| run["phase"] == phase && (run["unit"]["name"] == HEMTJANST_NORR) == in_norr)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no {phase} run (Hemtjänst Norr: {in_norr}) in {incident}"))
}

fn runs_in(incident: &Value, phase: &str) -> Vec<Value> {
    incident["checklistRuns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|run| run["phase"] == phase)
        .cloned()
        .collect()
}

async fn move_to(lead: &Client, incident: &str, states: &[&str]) -> anyhow::Result<()> {
    for state in states {
        lead.data(CHANGE_STATE, json!({ "id": incident, "state": state }))
            .await?;
    }
    Ok(())
}

on_every_database! {
    async fn a_care_worker_ticks_unticks_and_comments_her_units_steps(server: sample_municipality) {
        let (_lead, incident) = an_activated_outage(&server, "natt-1", false).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let before = runs(&worker, &incident).await?;
        let run = run_where(&before, "FALLBACK", true)?;
        let run_id = run["id"].clone();
        let total = run["progress"]["total"].as_u64().unwrap_or_default();
        assert!(total >= 1, "{run}");
        assert_eq!(run["progress"]["done"], 0);

        let ticked = worker.data(TICK, json!({ "run": run_id, "step": 1, "client": "9b1d-tick-1", "comment": "Körlistorna utdelade 06:40" })).await?;
        let first = &ticked["tickChecklistStep"];
        assert_eq!(first["replayed"], false, "{ticked}");
        assert_eq!(first["mark"]["kind"], "TICK");
        assert_eq!(first["mark"]["ticked"], true);
        assert_eq!(first["mark"]["step"], 1);
        assert_eq!(first["mark"]["author"], "underskoterska");
        assert_eq!(first["mark"]["exercise"], false);
        assert_eq!(first["run"]["progress"], json!({ "done": 1, "total": total }));

        // The phone was offline and sends the same tick again: it applies once.
        let again = worker.data(TICK, json!({ "run": run_id, "step": 1, "client": "9b1d-tick-1" })).await?;
        assert_eq!(again["tickChecklistStep"]["replayed"], true, "{again}");
        assert_eq!(again["tickChecklistStep"]["mark"]["id"], first["mark"]["id"]);
        assert_eq!(again["tickChecklistStep"]["mark"]["comment"], "Körlistorna utdelade 06:40", "the first answer, as it was");
        let (code, message) = worker.error(UNTICK, json!({ "run": run_id, "step": 1, "client": "9b1d-tick-1" })).await?;
        assert_eq!(code, "CONFLICT", "a client id reused for something else: {message}");

        let unticked = worker.data(UNTICK, json!({ "run": run_id, "step": 1, "client": "9b1d-untick-1" })).await?;
        assert_eq!(unticked["untickChecklistStep"]["mark"]["ticked"], false, "{unticked}");
        assert_eq!(unticked["untickChecklistStep"]["run"]["progress"]["done"], 0);
        let commented = worker.data(COMMENT, json!({ "run": run_id, "step": 1, "client": "9b1d-comment-1", "comment": "Två listor saknades" })).await?;
        assert_eq!(commented["commentChecklistStep"]["mark"], json!({ "kind": "COMMENT", "ticked": false, "comment": "Två listor saknades" }));

        let after = runs(&worker, &incident).await?;
        let step = run_where(&after, "FALLBACK", true)?["steps"][0].clone();
        assert_eq!(step["ticked"], false);
        assert_eq!(step["tickedBy"], "underskoterska");
        let kinds: Vec<Value> = step["marks"].as_array().into_iter().flatten().map(|mark| mark["kind"].clone()).collect();
        assert_eq!(kinds, vec![json!("TICK"), json!("UNTICK"), json!("COMMENT")], "the untick keeps the tick in the history: {step}");
        Ok(())
    }

    async fn a_tick_sent_twice_at_once_applies_once(server: sample_municipality) {
        let (_lead, incident) = an_activated_outage(&server, "natt-5", false).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let run = run_where(&runs(&worker, &incident).await?, "FALLBACK", true)?;
        let vars = json!({ "run": run["id"], "step": 2, "client": "samtidigt-1" });
        let answers = futures_util::future::join_all((0..4).map(|_| worker.data(TICK, vars.clone()))).await;
        let mut ids = Vec::new();
        for answer in answers {
            let answer = answer?;
            ids.push(answer["tickChecklistStep"]["mark"]["id"].clone());
        }
        assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "every answer is the first tick: {ids:?}");
        let after = run_where(&runs(&worker, &incident).await?, "FALLBACK", true)?;
        assert_eq!(after["steps"][1]["marks"].as_array().map(Vec::len), Some(1), "{after}");
        Ok(())
    }

    async fn another_units_run_is_forbidden_and_a_bad_step_is_named(server: sample_municipality) {
        let (lead, incident) = an_activated_outage(&server, "natt-2", false).await?;
        let all = runs(&lead, &incident).await?;
        let other = run_where(&all, "FALLBACK", false)?;
        let own = run_where(&all, "FALLBACK", true)?;
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, message) = worker.error(TICK, json!({ "run": other["id"], "step": 1, "client": "x-1" })).await?;
        assert_eq!(code, "FORBIDDEN", "{message}");
        let (code, message) = worker.error(TICK, json!({ "run": own["id"], "step": 99, "client": "x-2" })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("step 99"), "the error names the step: {message}");
        let (code, _) = worker.error(TICK, json!({ "run": own["id"], "step": 1, "client": "inte ett id!" })).await?;
        assert_eq!(code, "VALIDATION");
        // A crisis lead ticks any unit's steps.
        let ticked = lead.data(TICK, json!({ "run": other["id"], "step": 1, "client": "lead-1" })).await?;
        assert_eq!(ticked["tickChecklistStep"]["mark"]["ticked"], true, "{ticked}");
        let after = runs(&lead, &incident).await?;
        assert!(after["checklistRuns"].as_array().into_iter().flatten().all(|run| run["id"] != own["id"] || run["progress"]["done"] == 0), "nothing half-written: {after}");
        Ok(())
    }

    async fn progress_per_unit_and_incident_is_pushed_to_those_watching(server: sample_municipality) {
        let (lead, incident) = an_activated_outage(&server, "natt-3", false).await?;
        let before = runs(&lead, &incident).await?;
        let progress = &before["checklistProgress"];
        let sum: u64 = before["checklistRuns"].as_array().into_iter().flatten().map(|run| run["progress"]["total"].as_u64().unwrap_or_default()).sum();
        assert_eq!(progress["total"], json!(sum), "{before}");
        assert_eq!(progress["done"], 0);
        assert!(progress["units"].as_array().into_iter().flatten().any(|unit| unit["unit"]["name"] == HEMTJANST_NORR), "{progress}");

        let worker = server.sign_in_as("underskoterska").await?;
        let run = run_where(&before, "FALLBACK", true)?;
        let mut socket = lead.socket().await?;
        socket.subscribe("1", "subscription($id: ID!) { incidentUpdated(id: $id) {
            kind checklistMark { step kind author }
            incident { checklistProgress { done total units { unit { name } done } } } } }", json!({ "id": incident })).await?;
        let mut poke = 0;
        let event = socket.first_event_while("1", || {
            poke += 1;
            let (worker, run) = (&worker, run["id"].clone());
            let client = format!("push-{poke}");
            async move {
                worker.data(TICK, json!({ "run": run, "step": 1, "client": client })).await?;
                Ok(())
            }
        }).await?;
        let update = &event["data"]["incidentUpdated"];
        assert_eq!(update["kind"], "CHECKLIST_MARKED", "{event}");
        assert_eq!(update["checklistMark"], json!({ "step": 1, "kind": "TICK", "author": "underskoterska" }));
        let pushed = &update["incident"]["checklistProgress"];
        assert_eq!(pushed["done"], 1, "{event}");
        assert!(pushed["units"].as_array().into_iter().flatten().any(|unit| unit["unit"]["name"] == HEMTJANST_NORR && unit["done"] == 1), "{event}");
        socket.close().await?;
        Ok(())
    }

    async fn recovery_runs_open_and_an_unfinished_recovery_needs_a_reason_to_close(server: sample_municipality) {
        let (lead, incident) = an_activated_outage(&server, "natt-4", false).await?;
        move_to(&lead, &incident, &["TRIAGED", "ACTIVE"]).await?;
        assert!(runs_in(&runs(&lead, &incident).await?, "RECOVERY").is_empty(), "no recovery run before recovering");
        move_to(&lead, &incident, &["RECOVERING"]).await?;
        let recovering = runs(&lead, &incident).await?;
        let recovery = runs_in(&recovering, "RECOVERY");
        assert!(!recovery.is_empty(), "{recovering}");
        assert!(recovery.iter().all(|run| run["steps"].as_array().is_some_and(|steps| !steps.is_empty())), "{recovering}");
        assert_eq!(recovering["recovery"]["done"], 0);
        assert!(recovering["log"].as_array().into_iter().flatten().any(|entry| entry["text"].as_str().is_some_and(|text| text.contains("Återställningschecklistor öppnade"))), "{recovering}");
        // Back to active and recovering again opens nothing twice.
        move_to(&lead, &incident, &["ACTIVE", "RECOVERING"]).await?;
        assert_eq!(runs_in(&runs(&lead, &incident).await?, "RECOVERY").len(), recovery.len());

        let first = &recovery[0];
        let (code, message) = lead.error(CHANGE_STATE, json!({ "id": incident, "state": "CLOSED" })).await?;
        assert_eq!(code, "CONFLICT", "{message}");
        let unit = first["unit"]["name"].as_str().unwrap_or("?");
        let routine = first["routineTitle"].as_str().unwrap_or("?");
        assert!(message.contains(unit) && message.contains(routine), "the refusal names the unit and routine still open: {message}");
        assert_eq!(runs(&lead, &incident).await?["state"], "RECOVERING");

        let closed = lead.data(CHANGE_STATE, json!({ "id": incident, "state": "CLOSED", "reason": "Efterregistreringen fortsätter i linjen enligt beslut" })).await?;
        assert_eq!(closed["changeIncidentState"]["state"], "CLOSED", "{closed}");
        let after = runs(&lead, &incident).await?;
        assert!(after["log"].as_array().into_iter().flatten().any(|entry| entry["kind"] == "DECISION" && entry["text"].as_str().is_some_and(|text| text.contains("Efterregistreringen fortsätter") && text.contains(routine))), "the reason is logged: {after}");
        let (code, _) = lead.error(TICK, json!({ "run": first["id"], "step": 1, "client": "late-1" })).await?;
        assert_eq!(code, "CONFLICT", "a closed incident takes no ticks");
        Ok(())
    }

    async fn an_exercise_closes_once_every_recovery_step_is_ticked(server: sample_municipality) {
        let (lead, incident) = an_activated_outage(&server, "ovning-1", true).await?;
        move_to(&lead, &incident, &["TRIAGED", "ACTIVE", "RECOVERING"]).await?;
        let recovering = runs(&lead, &incident).await?;
        let recovery = runs_in(&recovering, "RECOVERY");
        assert!(recovery.iter().all(|run| run["exercise"] == true), "{recovering}");
        let mut marks = 0;
        for run in &recovery {
            for step in run["steps"].as_array().into_iter().flatten() {
                marks += 1;
                let ticked = lead.data(TICK, json!({ "run": run["id"], "step": step["number"], "client": format!("r-{marks}") })).await?;
                assert_eq!(ticked["tickChecklistStep"]["exercise"], true, "{ticked}");
            }
        }
        let done = runs(&lead, &incident).await?;
        assert_eq!(done["recovery"]["complete"], true, "{done}");
        let closed = lead.data(CHANGE_STATE, json!({ "id": incident, "state": "CLOSED" })).await?;
        assert_eq!(closed["changeIncidentState"]["state"], "CLOSED", "{closed}");
        Ok(())
    }

    async fn a_paper_note_entered_afterwards_is_marked_with_whose_note_it_was(server: sample_municipality) {
        let (_lead, incident) = an_activated_outage(&server, "natt-6", false).await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let add = "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) {
            text author occurredAt fromPaper onBehalfOf } }";
        let entered = worker.data(add, json!({ "id": incident, "input": {
            "kind": "OBSERVATION", "text": "03:10 larmet hos brukaren på Storgatan besvarat via telefon",
            "occurredAt": "2026-01-01T02:10:00Z", "clientId": "papper-1",
            "paperNote": { "writtenBy": "Sara Ek, nattpatrullen" } } })).await?;
        let entry = &entered["addLogEntry"];
        assert_eq!(entry["fromPaper"], true, "{entered}");
        assert_eq!(entry["author"], "underskoterska", "who entered it");
        assert_eq!(entry["onBehalfOf"], "Sara Ek, nattpatrullen", "whose note it was");
        assert_eq!(entry["occurredAt"], "2026-01-01T02:10:00+00:00");
        let (code, message) = worker.error(add, json!({ "id": incident, "input": {
            "kind": "OBSERVATION", "text": "Utan tid", "paperNote": {} } })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("occurredAt"), "{message}");
        let ordinary = worker.data(add, json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": "Direkt i loggen" } })).await?;
        assert_eq!(ordinary["addLogEntry"]["fromPaper"], false);
        assert_eq!(ordinary["addLogEntry"]["onBehalfOf"], Value::Null);
        Ok(())
    }

    async fn the_paper_backlog_is_followed_per_unit_until_every_form_is_archived(server: sample_municipality) {
        let (lead, incident) = an_activated_outage(&server, "papper-1", false).await?;
        let fallback = run_where(&runs(&lead, &incident).await?, "FALLBACK", true)?;
        // Only recovery runs keep a back-log.
        let (code, message) = lead
            .error(RECORD, json!({ "run": fallback["id"], "stage": "RECEIVED", "count": 3, "client": "p-0" }))
            .await?;
        assert_eq!(code, "VALIDATION", "{message}");
        move_to(&lead, &incident, &["TRIAGED", "ACTIVE", "RECOVERING"]).await?;
        let recovering = runs(&lead, &incident).await?;
        let norr = run_where(&recovering, "RECOVERY", true)?;
        let other = run_where(&recovering, "RECOVERY", false)?;

        // The unit's care worker hands in and registers the forms from the weeks on paper;
        // a retry from her phone counts once.
        let worker = server.sign_in_as("underskoterska").await?;
        let received = worker
            .data(RECORD, json!({ "run": norr["id"], "stage": "RECEIVED", "count": 40, "client": "p-1" }))
            .await?;
        assert_eq!(received["recordPaperBacklog"]["counts"]["received"], 40);
        let again = worker
            .data(RECORD, json!({ "run": norr["id"], "stage": "RECEIVED", "count": 40, "client": "p-1" }))
            .await?;
        assert_eq!(again["recordPaperBacklog"]["counts"]["received"], 40, "a retry is applied once");
        worker
            .data(RECORD, json!({ "run": norr["id"], "stage": "REGISTERED", "count": 25, "client": "p-2" }))
            .await?;
        let (code, message) = worker
            .error(RECORD, json!({ "run": norr["id"], "stage": "REGISTERED", "count": 16, "client": "p-3" }))
            .await?;
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("VALIDATION", "count: 41 forms registered would be more than the 40 received; record them as received first")
        );
        // The spot check is the medical responsible nurse's, not the unit's; and nobody
        // records another unit's forms.
        let (code, _) = worker
            .error(RECORD, json!({ "run": norr["id"], "stage": "CHECKED", "count": 5, "client": "p-4" }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = worker
            .error(RECORD, json!({ "run": other["id"], "stage": "RECEIVED", "count": 1, "client": "p-5" }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        let mas = server.sign_in_as("mas").await?;
        mas.data(RECORD, json!({ "run": norr["id"], "stage": "CHECKED", "count": 5, "client": "p-6" }))
            .await?;
        worker
            .data(RECORD, json!({ "run": norr["id"], "stage": "ARCHIVED", "count": 5, "client": "p-7" }))
            .await?;
        let (code, _) = worker
            .error(DUE, json!({ "run": norr["id"], "due": "2026-01-01T00:00:00Z" }))
            .await?;
        assert_eq!(code, "FORBIDDEN", "the crisis lead sets the due date");
        lead.data(DUE, json!({ "run": norr["id"], "due": "2026-01-01T00:00:00Z" }))
            .await?;

        // The crisis lead sees what is left per unit, overdue, with who did what.
        let view = lead.data(BACKLOG, json!({ "id": incident })).await?;
        let units = view["incident"]["paperBacklog"].as_array().cloned().unwrap_or_default();
        let unit = units
            .iter()
            .find(|unit| unit["unit"]["name"] == HEMTJANST_NORR)
            .ok_or_else(|| anyhow::anyhow!("no back-log for Hemtjänst Norr: {view}"))?;
        assert_eq!(
            unit["counts"],
            json!({ "received": 40, "registered": 25, "checked": 5, "archived": 5,
                    "leftToRegister": 15, "leftToCheck": 20, "leftToArchive": 0, "left": 35 })
        );
        assert_eq!(unit["overdue"], true);
        assert_eq!(unit["dueAt"], "2026-01-01T00:00:00+00:00");
        let entries = &unit["runs"][0]["entries"];
        assert_eq!(
            entries,
            &json!([
                { "stage": "RECEIVED", "count": 40, "recordedBy": "underskoterska" },
                { "stage": "REGISTERED", "count": 25, "recordedBy": "underskoterska" },
                { "stage": "CHECKED", "count": 5, "recordedBy": "mas" },
                { "stage": "ARCHIVED", "count": 5, "recordedBy": "underskoterska" },
            ])
        );
        // Each count is in the audit trail once, the retry not again, the refusals too.
        let admin = server.sign_in_as("admin").await?;
        let trail = admin
            .data(
                "{ auditEvents(objectType: \"paper_backlog\", first: 50) { nodes { action actor outcome } } }",
                json!({}),
            )
            .await?;
        let events: Vec<(String, String, String)> = trail["auditEvents"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|event| {
                let text = |field: &str| event[field].as_str().unwrap_or_default().to_owned();
                (text("action"), text("actor"), text("outcome"))
            })
            .collect();
        let count = |action: &str, outcome: &str| events.iter().filter(|event| event.0 == action && event.2 == outcome).count();
        assert_eq!(count("RECORD", "SUCCESS"), 4, "{events:?}");
        assert_eq!(count("SET_DUE", "SUCCESS"), 1, "{events:?}");
        assert_eq!(count("RECORD", "DENIED"), 2, "{events:?}");
        let others = units.iter().filter(|unit| unit["unit"]["name"] != HEMTJANST_NORR);
        assert!(others.clone().count() > 0 && others.clone().all(|unit| unit["counts"]["left"] == 0 && unit["overdue"] == false), "{view}");
        Ok(())
    }
}
