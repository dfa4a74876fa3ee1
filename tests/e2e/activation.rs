//! Activating a playbook over GraphQL on the demo municipality: one action opens the
//! incident, activates the units' approved plans, creates the tasks per crisis role,
//! starts the checklist runs and writes the crisis log; the same key twice creates
//! nothing more.

use anyhow::Context;
use reserv_domain::messages::Channel;
use reserv_tests::{Client, HOTLINE, STATUS_URL, id_where, on_every_database};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

const ACTIVATE: &str = "mutation($key: String!, $exercise: Boolean!, $units: [ID!]!, $incident: ID) {
  activatePlaybook(playbookId: \"it-avbrott-cyberattack\", unitIds: $units, exercise: $exercise, note: \"Nätet nere sedan 02:40\", idempotencyKey: $key, incidentId: $incident) {
    id replayed tasksCreated draftsCreated exercise
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

const DRAFTS: &str = "query($id: ID!) { incident(id: $id) { messageDrafts {
    id audience state bodySv bodyEn exercise escalateAfterMinutes unfilledPlaceholders updatedBy noticeId
    units { id name } classification { confidentiality }
    message { id reference recipientCount exercise } } } }";
const UPDATE_DRAFT: &str = "mutation($id: ID!, $input: MessageDraftInput!) {
    updateMessageDraft(id: $id, input: $input) { id state bodySv bodyEn updatedBy classification { confidentiality } } }";
const SEND_DRAFT: &str = "mutation($id: ID!) {
    sendMessageDraft(id: $id) { id state noticeId message { id reference recipientCount exercise } } }";
const DISCARD_DRAFT: &str =
    "mutation($id: ID!) { discardMessageDraft(id: $id) { id state updatedBy } }";
const ROLL_CALL: &str = "query($id: ID!) { rollCall(messageId: $id) {
    overall { recipients queued unreachable } notReached { name } } }";

/// The incident's message drafts as the crisis lead lists them.
async fn drafts_of(client: &Client, incident: &Value) -> anyhow::Result<Vec<Value>> {
    let listed = client.data(DRAFTS, json!({ "id": incident })).await?;
    Ok(listed["incident"]["messageDrafts"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn draft_for<'a>(drafts: &'a [Value], audience: &str) -> anyhow::Result<&'a Value> {
    drafts
        .iter()
        .find(|draft| draft["audience"] == audience)
        .with_context(|| format!("no {audience} draft in {drafts:?}"))
}

fn names_in(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["name"].as_str().map(str::to_owned))
        .collect()
}

/// The people attached to any of `units` or a unit below them, as the directory says.
async fn people_of_units(client: &Client, units: &[Value]) -> anyhow::Result<BTreeSet<String>> {
    let directory = client
        .data(
            "{ units { id path } people(first: 200) { nodes { name units { id } } } }",
            json!({}),
        )
        .await?;
    let covered: BTreeSet<&str> = directory["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|unit| {
            unit["path"]
                .as_array()
                .is_some_and(|path| path.iter().any(|above| units.contains(above)))
        })
        .filter_map(|unit| unit["id"].as_str())
        .collect();
    Ok(directory["people"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|person| {
            person["units"].as_array().is_some_and(|own| {
                own.iter()
                    .any(|unit| unit["id"].as_str().is_some_and(|id| covered.contains(id)))
            })
        })
        .filter_map(|person| person["name"].as_str().map(str::to_owned))
        .collect())
}

/// The people whose accounts hold the unit manager role for one of `units`, as an
/// administrator reads the accounts.
async fn managers_of_units(
    server: &reserv_tests::TestServer,
    units: &[Value],
) -> anyhow::Result<BTreeSet<String>> {
    let admin = server.sign_in_as("admin").await?;
    let accounts = admin.data("{ accounts(first: 100) { edges { node { person { name } roles { role unit { id } } } } } }", json!({})).await?;
    Ok(accounts["accounts"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| &edge["node"])
        .filter(|account| {
            account["roles"].as_array().is_some_and(|roles| {
                roles.iter().any(|grant| {
                    grant["role"] == "UNIT_MANAGER" && units.contains(&grant["unit"]["id"])
                })
            })
        })
        .filter_map(|account| account["person"]["name"].as_str().map(str::to_owned))
        .collect())
}

/// The SMS texts queued for `message`, taken from the outbox as the worker would.
async fn queued_texts(
    server: &reserv_tests::TestServer,
    message: &Value,
) -> anyhow::Result<Vec<String>> {
    let id: i64 = message["id"].as_str().context("message id")?.parse()?;
    let claimed = server
        .store()?
        .outbox_worker("test reading the outbox")
        .claim_outbox_batch_of(&[Channel::Sms], 10_000, chrono::Duration::seconds(60))
        .await?;
    Ok(claimed
        .into_iter()
        .filter(|item| item.message_id.0 == id)
        .map(|item| item.body)
        .collect())
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
        assert!(tasks.iter().any(|task| task["assigneeRole"] == "CRISIS_LEAD" && task["assignee"]["name"].is_string()), "crisis lead tasks go to a person holding the role: {first}");
        let log = incident["log"].as_array().cloned().unwrap_or_default();
        let drafts = activation["draftsCreated"].as_u64().unwrap_or_default() as usize;
        assert_eq!(drafts, 4, "one draft per message of the playbook: {first}");
        assert_eq!(log.len(), plans + tasks.len() + drafts, "one entry per activated plan, task and draft: {first}");
        assert!(log.iter().any(|entry| entry["text"].as_str().is_some_and(|text| text.contains("checklistor startade"))));

        let before = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        let again = lead.data(ACTIVATE, json!({ "key": "natt-1", "exercise": false, "units": [] })).await?;
        let after = lead.data("{ incidents { edges { node { id } } } }", json!({})).await?;
        assert_eq!(before, after, "no second incident");
        assert_eq!(again["activatePlaybook"]["id"], activation["id"]);
        assert_eq!(again["activatePlaybook"]["replayed"], true);
        assert_eq!(again["activatePlaybook"]["activatedPlans"], activation["activatedPlans"]);
        assert_eq!(count(&again["activatePlaybook"]["incident"]["tasks"]), tasks.len(), "nothing more is created: {again}");
        assert_eq!(again["activatePlaybook"]["draftsCreated"], 0, "{again}");
        let listed = drafts_of(&lead, &activation["incident"]["id"]).await?;
        assert_eq!(listed.len(), drafts, "a replay prepares no second drafts: {listed:?}");
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
        let tasks = lead.data("query($id: ID!) { incident(id: $id) { tasks { exercise } } }", json!({ "id": activation["incident"]["id"] })).await?;
        let flags: Vec<&Value> = tasks["incident"]["tasks"].as_array().into_iter().flatten().map(|task| &task["exercise"]).collect();
        assert!(!flags.is_empty() && flags.iter().all(|flag| **flag == json!(true)), "every task of an exercise activation is an exercise task: {tasks}");
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

    async fn activation_prepares_a_draft_per_audience_with_its_placeholders_filled(server: a_municipality_with_its_hotline_and_status_page) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let done = lead.data(ACTIVATE, json!({ "key": "utkast-1", "exercise": false, "units": [] })).await?;
        let activation = &done["activatePlaybook"];
        let incident = &activation["incident"]["id"];
        let drafts = drafts_of(&lead, incident).await?;
        let audiences: BTreeSet<&str> = drafts.iter().filter_map(|draft| draft["audience"].as_str()).collect();
        assert_eq!(audiences, BTreeSet::from(["CRISIS_GROUP", "MANAGERS", "STAFF", "PUBLIC"]), "{drafts:?}");
        assert!(drafts.iter().all(|draft| draft["state"] == "DRAFT" && draft["exercise"] == false && draft["message"].is_null()), "{drafts:?}");
        assert!(drafts.iter().all(|draft| draft["unfilledPlaceholders"] == json!([])), "everything is known: {drafts:?}");
        assert!(drafts.iter().all(|draft| !draft["bodySv"].as_str().unwrap_or("{{").contains("{{") && !draft["bodyEn"].as_str().unwrap_or("{{").contains("{{")), "{drafts:?}");

        let group = draft_for(&drafts, "CRISIS_GROUP")?;
        let sv = group["bodySv"].as_str().unwrap_or_default();
        assert!(sv.contains("(Totalt IT-avbrott efter cyberangrepp, aktiverad "), "the incident and the time in Swedish: {sv}");
        assert!(sv.contains(" kl. "), "{sv}");
        assert!(sv.contains("Krisledare: Anna Berglund."), "the activating crisis lead is named: {sv}");
        let en = group["bodyEn"].as_str().unwrap_or_default();
        assert!(en.contains("activated") && en.contains("Crisis lead: Anna Berglund."), "{en}");
        let managers = draft_for(&drafts, "MANAGERS")?;
        assert!(managers["bodySv"].as_str().is_some_and(|text| text.contains(&format!("Lägesbild: {STATUS_URL}."))), "{managers}");
        let public = draft_for(&drafts, "PUBLIC")?;
        assert!(public["bodySv"].as_str().is_some_and(|text| text.contains(HOTLINE) && text.contains(STATUS_URL)), "{public}");
        assert_eq!(public["classification"]["confidentiality"], 0, "the public's draft is public: {public}");
        assert_eq!(managers["classification"]["confidentiality"], 1, "{managers}");

        // Staff and managers drafts reach the units the activation covers.
        let activated: BTreeSet<&str> = activation["activatedPlans"].as_array().into_iter().flatten().filter_map(|plan| plan["unitId"].as_str()).collect();
        for audience in ["STAFF", "MANAGERS"] {
            let units: BTreeSet<&str> = draft_for(&drafts, audience)?["units"].as_array().into_iter().flatten().filter_map(|unit| unit["id"].as_str()).collect();
            assert_eq!(units, activated, "{audience}");
        }
        let log = activation["incident"]["log"].as_array().cloned().unwrap_or_default();
        let noted = log.iter().filter(|entry| entry["text"].as_str().is_some_and(|text| text.starts_with("Utkast till meddelande till "))).count();
        assert_eq!(noted, 4, "a crisis log entry per draft: {log:?}");
        Ok(())
    }

    async fn the_crisis_lead_edits_sends_and_discards_drafts(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let done = lead.data(ACTIVATE, json!({ "key": "utkast-2", "exercise": false, "units": [] })).await?;
        let activation = &done["activatePlaybook"];
        let incident = activation["incident"]["id"].clone();
        let units: Vec<Value> = activation["activatedPlans"].as_array().into_iter().flatten().map(|plan| plan["unitId"].clone()).collect();
        let drafts = drafts_of(&lead, &incident).await?;

        // The playbook's escalation rule (15 minutes to acknowledge) comes with the drafts.
        assert_eq!(draft_for(&drafts, "STAFF")?["escalateAfterMinutes"], 15);

        // Editing: the text and level change, the rest stays.
        let staff = draft_for(&drafts, "STAFF")?["id"].clone();
        let text = "Kommunens IT fungerar inte. Logga inte in. Arbeta efter pappersschemat.";
        let edited = lead.data(UPDATE_DRAFT, json!({ "id": staff, "input": { "bodySv": text } })).await?;
        let edited = &edited["updateMessageDraft"];
        assert_eq!(edited["bodySv"], text);
        assert!(edited["bodyEn"].as_str().is_some_and(|english| english.contains("Do not sign in")), "the English text stays: {edited}");
        assert_eq!(edited["updatedBy"], "krisledare");
        let (code, message) = lead.error(UPDATE_DRAFT, json!({ "id": staff, "input": { "bodySv": "  " } })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("bodySv"), "{message}");

        // Sending the staff draft queues a copy for everyone in the activated units.
        let sent = lead.data(SEND_DRAFT, json!({ "id": staff })).await?;
        let sent = &sent["sendMessageDraft"];
        assert_eq!(sent["state"], "SENT", "{sent}");
        assert_eq!(sent["message"]["exercise"], false);
        let escalates = lead
            .data("query($id: ID!) { message(id: $id) { escalateAfterMinutes } }", json!({ "id": sent["message"]["id"] }))
            .await?;
        assert_eq!(escalates["message"]["escalateAfterMinutes"], 15, "the sent message escalates by the playbook's rule");
        let roll = lead.data(ROLL_CALL, json!({ "id": sent["message"]["id"] })).await?;
        let reached = names_in(&roll["rollCall"]["notReached"]);
        let expected = people_of_units(&lead, &units).await?;
        assert!(!expected.is_empty());
        assert_eq!(reached, expected, "the staff of the activated units, each once");
        assert_eq!(sent["message"]["recipientCount"], json!(expected.len()));
        let texts = queued_texts(&server, &sent["message"]).await?;
        assert_eq!(json!(texts.len()), roll["rollCall"]["overall"]["queued"], "an SMS in the outbox per recipient with a phone: {roll}");
        assert!(!texts.is_empty() && texts.iter().all(|body| body == text || body.contains("Do not sign in")), "the edited Swedish text, or the English one: {texts:?}");
        let (code, message) = lead.error(SEND_DRAFT, json!({ "id": staff })).await?;
        assert_eq!(code, "CONFLICT", "a draft is sent once: {message}");
        assert!(message.contains(sent["message"]["reference"].as_str().unwrap_or("M")), "{message}");

        // The managers' draft, made sensitive, reaches the unit managers and by SMS
        // only as a notice with its reference.
        let managers = draft_for(&drafts, "MANAGERS")?["id"].clone();
        let filled = lead.data(UPDATE_DRAFT, json!({ "id": managers, "input": {
            "bodySv": "Alla enheter går över till pappersrutiner nu. Rapportera läget per telefon.",
            "bodyEn": null,
            "classification": { "confidentiality": 2, "integrity": 2, "availability": 3 },
        } })).await?;
        assert!(filled["updateMessageDraft"]["bodyEn"].is_null(), "{filled}");
        let (code, message) = lead.error(UPDATE_DRAFT, json!({ "id": managers, "input": {
            "classification": { "confidentiality": 1, "integrity": 2, "availability": 3 },
        } })).await?;
        assert_eq!(code, "VALIDATION", "lowering takes a reason: {message}");
        assert!(message.starts_with("classification.loweringReason"), "{message}");
        let sent = lead.data(SEND_DRAFT, json!({ "id": managers })).await?;
        let message = &sent["sendMessageDraft"]["message"];
        let roll = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        let expected = managers_of_units(&server, &units).await?;
        assert!(!expected.is_empty());
        assert_eq!(names_in(&roll["rollCall"]["notReached"]), expected, "the unit managers of the activated units");
        let texts = queued_texts(&server, message).await?;
        assert!(!texts.is_empty() && texts.iter().all(|body| !body.contains("pappersrutiner") && body.contains(message["reference"].as_str().unwrap_or("M"))), "sensitive content never goes by SMS: {texts:?}");

        // The public's draft waits for the hotline nobody configured, then is published.
        let public = draft_for(&drafts, "PUBLIC")?;
        assert!(public["unfilledPlaceholders"].as_array().is_some_and(|names| names.contains(&json!("hotline"))), "{public}");
        let (code, message) = lead.error(SEND_DRAFT, json!({ "id": public["id"] })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("{{ hotline }}"), "the error names what to fill in: {message}");
        lead.data(UPDATE_DRAFT, json!({ "id": public["id"], "input": {
            "bodySv": "Kommunens IT-system fungerar inte. Hemtjänsten kommer som vanligt. Ring 0660-88 00 00.",
            "bodyEn": null,
        } })).await?;
        let published = lead.data(SEND_DRAFT, json!({ "id": public["id"] })).await?;
        assert!(published["sendMessageDraft"]["noticeId"].is_string(), "{published}");
        let status = server.anonymous().data("{ publicNotices { id latest { body { sv } } } }", json!({})).await?;
        let shown = status["publicNotices"].as_array().into_iter().flatten().find(|notice| notice["id"] == published["sendMessageDraft"]["noticeId"]).cloned().unwrap_or_default();
        assert!(shown["latest"]["body"]["sv"].as_str().is_some_and(|body| body.contains("Hemtjänsten kommer som vanligt")), "residents read it on the status page: {status}");

        // Discarding: the crisis group draft is set aside, and stays so.
        let group = draft_for(&drafts, "CRISIS_GROUP")?["id"].clone();
        let discarded = lead.data(DISCARD_DRAFT, json!({ "id": group })).await?;
        assert_eq!(discarded["discardMessageDraft"]["state"], "DISCARDED");
        let (code, _) = lead.error(SEND_DRAFT, json!({ "id": group })).await?;
        assert_eq!(code, "CONFLICT");
        let log = lead.data("query($id: ID!) { incident(id: $id) { log { kind text } } }", json!({ "id": incident })).await?;
        let texts: Vec<&str> = log["incident"]["log"].as_array().into_iter().flatten().filter_map(|entry| entry["text"].as_str()).collect();
        assert!(texts.iter().any(|text| text.contains("kastades")), "{texts:?}");
        assert_eq!(texts.iter().filter(|text| text.starts_with("Meddelande M")).count(), 2, "a log entry per message sent: {texts:?}");
        Ok(())
    }

    async fn an_exercise_draft_goes_out_marked_and_never_to_the_public(server: a_municipality_with_its_hotline_and_status_page) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let done = lead.data(ACTIVATE, json!({ "key": "ovning-utkast", "exercise": true, "units": [] })).await?;
        let drafts = drafts_of(&lead, &done["activatePlaybook"]["incident"]["id"]).await?;
        assert!(!drafts.is_empty() && drafts.iter().all(|draft| draft["exercise"] == true), "{drafts:?}");
        let staff = draft_for(&drafts, "STAFF")?;
        let sent = lead.data(SEND_DRAFT, json!({ "id": staff["id"] })).await?;
        let message = &sent["sendMessageDraft"]["message"];
        assert_eq!(message["exercise"], true, "{sent}");
        let texts = queued_texts(&server, message).await?;
        assert!(!texts.is_empty(), "{sent}");
        assert!(texts.iter().all(|body| body.starts_with("ÖVNING: ") || body.starts_with("EXERCISE: ")), "every copy says it is an exercise: {texts:?}");
        let (code, text) = lead.error(SEND_DRAFT, json!({ "id": draft_for(&drafts, "PUBLIC")?["id"] })).await?;
        assert_eq!(code, "VALIDATION", "{text}");
        assert!(text.contains("exercise"), "{text}");
        Ok(())
    }

    async fn only_those_who_send_messages_handle_drafts(server: sample_municipality) {
        import_shipped(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let done = lead.data(ACTIVATE, json!({ "key": "utkast-3", "exercise": false, "units": [] })).await?;
        let incident = done["activatePlaybook"]["incident"]["id"].clone();
        let drafts = drafts_of(&lead, &incident).await?;
        let staff = draft_for(&drafts, "STAFF")?["id"].clone();
        for username in ["enhetschef", "underskoterska"] {
            let other = server.sign_in_as(username).await?;
            let (code, message) = other.error(SEND_DRAFT, json!({ "id": staff })).await?;
            assert_eq!(code, "FORBIDDEN", "{username}: {message}");
            let (code, _) = other.error(UPDATE_DRAFT, json!({ "id": staff, "input": { "bodySv": "Hej" } })).await?;
            assert_eq!(code, "FORBIDDEN", "{username}");
            let (code, _) = other.error(DISCARD_DRAFT, json!({ "id": staff })).await?;
            assert_eq!(code, "FORBIDDEN", "{username}");
        }
        let still = drafts_of(&lead, &incident).await?;
        assert!(still.iter().all(|draft| draft["state"] == "DRAFT"), "nothing changed: {still:?}");
        let communicator = server.sign_in_as("kommunikator").await?;
        assert_eq!(drafts_of(&communicator, &incident).await?.len(), drafts.len(), "the communicator sees the drafts");
        Ok(())
    }

    async fn a_task_keeps_its_typed_role_and_the_exercise_of_its_incident(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let reported = lead.data(
            "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }",
            json!({ "input": {
                "title": "Övning: trygghetslarmen tysta", "kind": "IT_OUTAGE", "severity": 3, "exercise": true,
                "classification": { "confidentiality": 1, "integrity": 1, "availability": 1 },
            } }),
        ).await?;
        let incident = reported["reportIncident"]["id"].clone();
        let create = "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { assigneeRole exercise } }";
        let created = lead.data(create, json!({ "id": incident, "input": { "title": "Ring larmcentralen", "assigneeRole": "UNIT_MANAGER" } })).await?;
        assert_eq!(created["createTask"], json!({ "assigneeRole": "UNIT_MANAGER", "exercise": true }));
        let read = lead.data("query($id: ID!) { incident(id: $id) { tasks { assigneeRole exercise } } }", json!({ "id": incident })).await?;
        assert_eq!(read["incident"]["tasks"], json!([{ "assigneeRole": "UNIT_MANAGER", "exercise": true }]));
        let (code, message) = lead.error(create, json!({ "id": incident, "input": { "title": "Ring MAS", "assigneeRole": "Enhetschef" } })).await?;
        assert!(code.starts_with("GRAPHQL_VALIDATION") || code == "VALIDATION" || code == "BAD_USER_INPUT", "{code}: {message}");
        assert!(message.contains("Enhetschef"), "the refused value is named: {message}");
        Ok(())
    }
}
