//! Access that follows the person's work: a plan's owner reads her own plan whatever its
//! level, an administrator raises one grant's clearance with a reason the audit trail
//! keeps, and KLASSA's traceability aspect is kept while level 4 is refused.

use crate::plans::{NORR, unit_id};
use reserv_tests::{Client, on_every_database};
use serde_json::{Value, json};

const IFO: &str = "Socialtjänstens mottagning och försörjningsstöd";
const IFO_PLAN: &str = "Kontinuitetsplan Socialtjänstens mottagning och försörjningsstöd";
const CYBERATTACK: &str =
    "IT-avbrott: verksamhetssystem, e-post och inloggning otillgängliga efter misstänkt intrång";

const PLANS: &str = "{ plans(first: 50) { edges { node { id title owner { id name } currentVersion { id classification { confidentiality integrity availability traceability } } } } } }";
const SET_OWNER: &str =
    "mutation($plan: ID!, $owner: ID) { updatePlan(planId: $plan, ownerId: $owner) { id } }";
const PEOPLE: &str =
    "query($unit: ID) { people(unitId: $unit, first: 50) { edges { node { id name } } } }";
const INCIDENTS: &str =
    "{ incidents(first: 50) { edges { node { id title classification { confidentiality } } } } }";
const ACCOUNTS: &str = "{ accounts(first: 100) { edges { node { id username roles { role clearance raised unit { id } } } } } }";
const SET_CLEARANCE: &str = "mutation($account: ID!, $role: Role!, $unit: ID, $clearance: Int, $reason: String!) { setGrantClearance(accountId: $account, role: $role, unitId: $unit, clearance: $clearance, reason: $reason) { username roles { role clearance raised } } }";
const AUDIT: &str = "query($action: AuditAction, $type: String) { auditEvents(action: $action, objectType: $type, first: 50) { edges { node { actor action objectId outcome detail } } } }";
const LOWER: &str = "mutation($id: ID!, $reason: String) { updateIncident(id: $id, input: { classification: { confidentiality: 1, integrity: 2, availability: 3, loweringReason: $reason } }) { classification { confidentiality } } }";
const REPORT: &str = "mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id title classification { confidentiality integrity availability traceability } } }";
const ADD_ENTRY: &str = "mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id confidentiality } }";
const CREATE_TASK: &str = "mutation($id: ID!, $input: TaskInput!) { createTask(incidentId: $id, input: $input) { id confidentiality } }";
const INCIDENT_LOG: &str = "query($id: ID!) { incident(id: $id) { log { text confidentiality } tasks { title confidentiality } } }";
const BRIEFINGS: &str = "{ briefings { incidentId state exercise confidentiality log { id text confidentiality correctedBy } tasks { title confidentiality } } }";

/// The nodes of a connection at `data[field]`.
fn nodes(data: &Value, field: &str) -> Vec<Value> {
    data[field]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// The node among `list` whose `field` is `value`, if any.
fn find<'a>(list: &'a [Value], field: &str, value: &str) -> Option<&'a Value> {
    list.iter().find(|node| node[field] == value)
}

async fn plans(client: &Client) -> anyhow::Result<Vec<Value>> {
    Ok(nodes(&client.data(PLANS, json!({})).await?, "plans"))
}

async fn incident_titles(client: &Client) -> anyhow::Result<Vec<String>> {
    Ok(
        nodes(&client.data(INCIDENTS, json!({})).await?, "incidents")
            .iter()
            .filter_map(|node| node["title"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// The audit events of `action` on `object_type`, newest first.
async fn audit_events(
    admin: &Client,
    action: &str,
    object_type: &str,
) -> anyhow::Result<Vec<Value>> {
    Ok(nodes(
        &admin
            .data(AUDIT, json!({ "action": action, "type": object_type }))
            .await?,
        "auditEvents",
    ))
}

on_every_database! {
    async fn a_plans_owner_reads_her_strictly_confidential_plan_and_loses_it_with_the_ownership(server: sample_municipality) {
        // Ingrid Marklund manages the social services reception; her role reads up to
        // level 2, and the reception's plan is level 3. She owns the plan.
        let ingrid = server.sign_in_as("enhetschef-ifo").await?;
        let listed = plans(&ingrid).await?;
        let plan = find(&listed, "title", IFO_PLAN)
            .ok_or_else(|| anyhow::anyhow!("the owner does not see her plan: {listed:?}"))?;
        assert_eq!(plan["owner"]["name"], "Ingrid Marklund");
        assert_eq!(
            plan["currentVersion"]["classification"],
            json!({ "confidentiality": 3, "integrity": 3, "availability": 2, "traceability": 3 })
        );
        let plan_id = plan["id"].as_str().unwrap_or_default().to_owned();
        let version_id = plan["currentVersion"]["id"].as_str().unwrap_or_default().to_owned();

        // Her read of a level-3 plan is in the audit trail under her name.
        let admin = server.sign_in_as("admin").await?;
        let reads = audit_events(&admin, "READ", "plan_version").await?;
        assert!(
            reads.iter().any(|event| event["actor"] == "enhetschef-ifo"
                && event["objectId"] == version_id.as_str()),
            "no read by the owner in {reads:?}"
        );

        // Another unit's manager with the same role sees nothing of it.
        let norr_manager = server.sign_in_as("enhetschef").await?;
        assert!(find(&plans(&norr_manager).await?, "title", IFO_PLAN).is_none());

        // The crisis lead hands the plan to a colleague of the unit: Ingrid still reads
        // the plan as a manager of her unit, but no longer its level-3 content.
        let lead = server.sign_in_as("krisledare").await?;
        let ifo = unit_id(&lead, IFO).await?;
        let colleagues = nodes(&lead.data(PEOPLE, json!({ "unit": ifo })).await?, "people");
        let colleague = colleagues
            .iter()
            .find(|person| person["name"] != "Ingrid Marklund")
            .and_then(|person| person["id"].as_str())
            .ok_or_else(|| anyhow::anyhow!("no colleague in {colleagues:?}"))?;
        lead.data(SET_OWNER, json!({ "plan": plan_id, "owner": colleague }))
            .await?;
        let listed = plans(&ingrid).await?;
        let plan = find(&listed, "title", IFO_PLAN)
            .ok_or_else(|| anyhow::anyhow!("the unit's manager lost the plan itself: {listed:?}"))?;
        assert_eq!(plan["currentVersion"], Value::Null);
        Ok(())
    }

    async fn an_administrator_raises_one_grant_with_a_reason_and_puts_it_back(server: sample_municipality) {
        // A care worker reads up to level 1, so the level-2 cyberattack incident,
        // which holds the instruction not to log in to municipal computers, is hidden.
        let worker = server.sign_in_as("underskoterska").await?;
        assert!(!incident_titles(&worker).await?.iter().any(|title| title == CYBERATTACK));

        let admin = server.sign_in_as("admin").await?;
        let accounts = nodes(&admin.data(ACCOUNTS, json!({})).await?, "accounts");
        let account = find(&accounts, "username", "underskoterska")
            .ok_or_else(|| anyhow::anyhow!("no underskoterska in {accounts:?}"))?;
        assert_eq!(
            account["roles"][0],
            json!({ "role": "CARE_WORKER", "clearance": 1, "raised": false, "unit": { "id": unit_id(&admin, NORR).await? } })
        );
        let account_id = account["id"].as_str().unwrap_or_default().to_owned();
        let norr = unit_id(&admin, NORR).await?;
        let change = |clearance: Value, reason: &str, role: &str, unit: &str| {
            json!({ "account": account_id, "role": role, "unit": unit, "clearance": clearance, "reason": reason })
        };
        let reason = "Samordnar reservrutinerna i hemtjänst Norr under IT-avbrottet";

        // Only administrators raise clearances, and every bad request says what is wrong.
        let lead = server.sign_in_as("krisledare").await?;
        let (code, _) = lead
            .error(SET_CLEARANCE, change(json!(2), reason, "CARE_WORKER", &norr))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, message) = admin
            .error(SET_CLEARANCE, change(json!(4), reason, "CARE_WORKER", &norr))
            .await?;
        assert_eq!(code, "VALIDATION");
        assert!(message.contains("synnerligen allvarlig"), "{message}");
        let (code, message) = admin
            .error(SET_CLEARANCE, change(json!(1), reason, "CARE_WORKER", &norr))
            .await?;
        assert_eq!(code, "VALIDATION");
        assert!(message.contains("already reads up to level 1"), "{message}");
        let (code, message) = admin
            .error(SET_CLEARANCE, change(json!(2), "  ", "CARE_WORKER", &norr))
            .await?;
        assert_eq!((code.as_str(), message.as_str()), ("VALIDATION", "reason: must not be empty"));
        let (code, message) = admin
            .error(SET_CLEARANCE, change(json!(3), reason, "UNIT_MANAGER", &norr))
            .await?;
        assert_eq!(code, "VALIDATION");
        assert!(message.contains("holds no role unit_manager"), "{message}");
        assert!(!incident_titles(&worker).await?.iter().any(|title| title == CYBERATTACK));

        // Raised to level 2 in her unit, she reads the incident from her next request.
        let raised = admin
            .data(SET_CLEARANCE, change(json!(2), reason, "CARE_WORKER", &norr))
            .await?;
        assert_eq!(
            raised["setGrantClearance"]["roles"][0],
            json!({ "role": "CARE_WORKER", "clearance": 2, "raised": true })
        );
        assert!(incident_titles(&worker).await?.iter().any(|title| title == CYBERATTACK));

        // The audit trail keeps who raised whose clearance, and why; the refusals too.
        let events = audit_events(&admin, "SET_CLEARANCE", "account").await?;
        let outcomes: Vec<&str> = events.iter().filter_map(|event| event["outcome"].as_str()).collect();
        assert_eq!(outcomes.iter().filter(|outcome| **outcome == "SUCCESS").count(), 1, "{events:?}");
        assert!(outcomes.contains(&"DENIED"), "{events:?}");
        let success = events
            .iter()
            .find(|event| event["outcome"] == "SUCCESS")
            .ok_or_else(|| anyhow::anyhow!("no success in {events:?}"))?;
        assert_eq!(success["actor"], "admin");
        assert_eq!(success["objectId"], account_id.as_str());
        let detail = success["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("care_worker") && detail.contains("clearance 2") && detail.contains(reason), "{detail}");

        // Put back to the role's default, the incident is hidden again.
        let reset = admin
            .data(SET_CLEARANCE, change(Value::Null, "Avbrottet är över", "CARE_WORKER", &norr))
            .await?;
        assert_eq!(
            reset["setGrantClearance"]["roles"][0],
            json!({ "role": "CARE_WORKER", "clearance": 1, "raised": false })
        );
        assert!(!incident_titles(&worker).await?.iter().any(|title| title == CYBERATTACK));
        Ok(())
    }

    async fn traceability_is_kept_and_level_4_is_handled_outside_reserv(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, NORR).await?;
        let report = |classification: Value, title: &str| {
            json!({ "input": {
                "title": title,
                "kind": "PERSONAL_DATA_BREACH",
                "severity": 2,
                "classification": classification,
                "unitIds": [norr],
            } })
        };
        let before = incident_titles(&lead).await?.len();
        for classification in [
            json!({ "confidentiality": 4, "integrity": 2, "availability": 2 }),
            json!({ "confidentiality": 2, "integrity": 2, "availability": 2, "traceability": 4 }),
        ] {
            let (code, message) = lead
                .error(REPORT, report(classification, "Brev med personuppgifter skickat fel"))
                .await?;
            assert_eq!(code, "VALIDATION");
            assert!(
                message.contains("level 4 (\"synnerligen allvarlig\") is not handled in Reserv"),
                "{message}"
            );
        }
        assert_eq!(incident_titles(&lead).await?.len(), before, "a refused report was stored");

        let reported = lead
            .data(
                REPORT,
                report(
                    json!({ "confidentiality": 2, "integrity": 2, "availability": 1, "traceability": 3 }),
                    "Brev med personuppgifter skickat till fel mottagare",
                ),
            )
            .await?;
        assert_eq!(
            reported["reportIncident"]["classification"],
            json!({ "confidentiality": 2, "integrity": 2, "availability": 1, "traceability": 3 })
        );
        let without = lead
            .data(
                REPORT,
                report(
                    json!({ "confidentiality": 1, "integrity": 1, "availability": 1 }),
                    "Skrivaren på kontoret skriver inte ut",
                ),
            )
            .await?;
        assert_eq!(without["reportIncident"]["classification"]["traceability"], Value::Null);
        Ok(())
    }

    async fn lowering_an_incidents_confidentiality_takes_a_reason_that_is_kept(server: sample_municipality) {
        // The crisis staff open a level-2 incident about a suspected intrusion; the
        // instruction to staff inside it must reach the care workers of the unit.
        let lead = server.sign_in_as("krisledare").await?;
        let norr = unit_id(&lead, NORR).await?;
        let title = "Misstänkt intrång: logga inte in på kommunens datorer";
        let reported = lead
            .data(
                REPORT,
                json!({ "input": {
                    "title": title,
                    "kind": "INFORMATION_SECURITY",
                    "severity": 1,
                    "classification": { "confidentiality": 2, "integrity": 2, "availability": 3 },
                    "unitIds": [norr],
                } }),
            )
            .await?;
        let incident = reported["reportIncident"]["id"].as_str().unwrap_or_default().to_owned();
        let worker = server.sign_in_as("underskoterska").await?;
        assert!(!incident_titles(&worker).await?.iter().any(|seen| seen == title));

        // A care worker may not change it at all; the crisis lead must say why.
        let (code, _) = worker
            .error(LOWER, json!({ "id": incident, "reason": "Alla ska se den" }))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, message) = lead.error(LOWER, json!({ "id": incident })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert_eq!(
            message,
            "classification.loweringReason: lowering confidentiality from 2 to 1 needs a reason (who may now read it, and why)"
        );
        assert!(!incident_titles(&worker).await?.iter().any(|seen| seen == title));

        let reason = "Instruktionen att inte logga in på kommunens datorer ska nå all personal";
        let lowered = lead
            .data(LOWER, json!({ "id": incident, "reason": reason }))
            .await?;
        assert_eq!(lowered["updateIncident"]["classification"]["confidentiality"], 1);
        assert!(incident_titles(&worker).await?.iter().any(|seen| seen == title));

        let admin = server.sign_in_as("admin").await?;
        let updates = audit_events(&admin, "UPDATE", "incident").await?;
        let kept = updates
            .iter()
            .find(|event| event["objectId"] == incident.as_str() && event["outcome"] == "SUCCESS")
            .ok_or_else(|| anyhow::anyhow!("no update event in {updates:?}"))?;
        assert_eq!(kept["actor"], "krisledare");
        assert_eq!(
            kept["detail"],
            format!("confidentiality lowered from 2 to 1: {reason}").as_str()
        );
        Ok(())
    }

    async fn staff_instructions_inside_a_sensitive_incident_reach_care_workers_and_nothing_more(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let norr = unit_id(&lead, NORR).await?;
        let reported = lead
            .data(REPORT, json!({ "input": {
                "title": "Misstänkt intrång i verksamhetssystemet",
                "kind": "INFORMATION_SECURITY",
                "severity": 1,
                "exercise": false,
                "unitIds": [norr],
                "classification": { "confidentiality": 2, "integrity": 3, "availability": 3 },
            } }))
            .await?;
        let incident = reported["reportIncident"]["id"].as_str().unwrap_or_default().to_owned();

        let secret = "IT-säkerheten har hittat krypterade filer på två servrar";
        let instruction = "Till all personal: logga inte in på kommunens datorer";
        lead.data(ADD_ENTRY, json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": secret } }))
            .await?;
        let written = lead
            .data(ADD_ENTRY, json!({ "id": incident, "input": { "kind": "MESSAGE", "text": instruction, "confidentiality": 1 } }))
            .await?;
        assert_eq!(written["addLogEntry"]["confidentiality"], 1);
        let instruction_id = written["addLogEntry"]["id"].as_str().unwrap_or_default().to_owned();

        // Nothing may be more secret than its incident, and a correction is read by
        // whoever read what it corrects.
        let (code, message) = lead
            .error(ADD_ENTRY, json!({ "id": incident, "input": { "kind": "OBSERVATION", "text": "x", "confidentiality": 3 } }))
            .await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("above the incident's level 2"), "{message}");
        let (code, message) = lead
            .error(ADD_ENTRY, json!({ "id": incident, "input": { "kind": "MESSAGE", "text": "Rättelse", "corrects": instruction_id, "confidentiality": 2 } }))
            .await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("corrected entry's level 1"), "{message}");
        let correction = lead
            .data(ADD_ENTRY, json!({ "id": incident, "input": { "kind": "MESSAGE", "text": "Rättelse: gäller även surfplattorna", "corrects": instruction_id } }))
            .await?;
        assert_eq!(correction["addLogEntry"]["confidentiality"], 1);

        let me = worker.data("{ me { person { id } } }", json!({})).await?;
        let worker_person = me["me"]["person"]["id"].as_str().unwrap_or_default().to_owned();
        for (title, level) in [("Hämta reservutskriften ur pärmen", 1), ("Kontrollera loggarna på hemtjänstens dator", 2)] {
            let created = lead
                .data(CREATE_TASK, json!({ "id": incident, "input": { "title": title, "assigneeId": worker_person, "confidentiality": level } }))
                .await?;
            assert_eq!(created["createTask"]["confidentiality"], level);
        }

        // The care worker may not open the incident, but its briefing holds exactly
        // what was written at her level.
        let (code, _) = worker.error(INCIDENT_LOG, json!({ "id": incident })).await?;
        assert_eq!(code, "FORBIDDEN");
        let briefings = worker.data(BRIEFINGS, json!({})).await?;
        let briefing = briefings["briefings"]
            .as_array()
            .and_then(|list| list.iter().find(|briefing| briefing["incidentId"] == incident.as_str()))
            .ok_or_else(|| anyhow::anyhow!("no briefing of the incident in {briefings}"))?;
        assert_eq!(briefing["confidentiality"], 2);
        let texts: Vec<&str> = briefing["log"].as_array().into_iter().flatten().filter_map(|entry| entry["text"].as_str()).collect();
        assert_eq!(texts, [instruction, "Rättelse: gäller även surfplattorna"]);
        assert_eq!(briefing["log"][0]["correctedBy"].as_array().map(Vec::len), Some(1));
        let titles: Vec<&str> = briefing["tasks"].as_array().into_iter().flatten().filter_map(|task| task["title"].as_str()).collect();
        assert_eq!(titles, ["Hämta reservutskriften ur pärmen"]);
        let shown = briefings.to_string();
        assert!(!shown.contains("krypterade") && !shown.contains("Misstänkt intrång") && !shown.contains("loggarna"), "{shown}");

        // Her own tasks: the internal one, not the one whose title is sensitive.
        let mine = worker.data("{ myTasks { title confidentiality } }", json!({})).await?;
        let mine: Vec<&str> = mine["myTasks"].as_array().into_iter().flatten().filter_map(|task| task["title"].as_str()).collect();
        assert!(mine.contains(&"Hämta reservutskriften ur pärmen"), "{mine:?}");
        assert!(!mine.contains(&"Kontrollera loggarna på hemtjänstens dator"), "{mine:?}");

        // The crisis lead reads all of it and needs no briefing; a manager of another
        // unit gets neither.
        let log = lead.data(INCIDENT_LOG, json!({ "id": incident })).await?;
        let levels: Vec<i64> = log["incident"]["log"].as_array().into_iter().flatten().filter_map(|entry| entry["confidentiality"].as_i64()).collect();
        assert_eq!(levels, [2, 1, 1]);
        assert_eq!(log["incident"]["tasks"].as_array().map(Vec::len), Some(2));
        let lead_briefings = lead.data(BRIEFINGS, json!({})).await?;
        assert!(!lead_briefings.to_string().contains(&incident), "{lead_briefings}");
        let other = server.sign_in_as("enhetschef-solgarden").await?;
        let (code, _) = other.error(INCIDENT_LOG, json!({ "id": incident })).await?;
        assert_eq!(code, "FORBIDDEN");
        assert!(!other.data(BRIEFINGS, json!({})).await?.to_string().contains(&incident));

        // The demo's closed cyberattack carries the same kind of instruction.
        let history = worker.data("{ briefings(includeClosed: true) { state log { text } } }", json!({})).await?;
        assert!(
            history.to_string().contains("logga inte in på kommunens datorer"),
            "{history}"
        );
        Ok(())
    }

    async fn a_plans_owner_syncs_its_routines_to_her_phone_wherever_the_plan_is(server: sample_municipality) {
        const ROUTINES: &str = "query($unit: ID) { routines(unitId: $unit) { id title } }";
        const PLAN_UNITS: &str = "{ plans(first: 50) { edges { node { id unit { name } owner { id } } } } }";
        let lead = server.sign_in_as("krisledare").await?;
        let ingrid = server.sign_in_as("enhetschef-ifo").await?;
        let norr = unit_id(&lead, NORR).await?;
        let norr_routines: Vec<String> = lead
            .data(ROUTINES, json!({ "unit": norr }))
            .await?["routines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|routine| routine["id"].as_str().map(str::to_owned))
            .collect();
        assert!(!norr_routines.is_empty());
        let synced = |data: Value| -> Vec<String> {
            data["routines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|routine| routine["id"].as_str().map(str::to_owned))
                .collect()
        };
        // Hemtjänst Norr is not her unit: nothing of it on her phone.
        let before = synced(ingrid.data(ROUTINES, json!({})).await?);
        assert!(norr_routines.iter().all(|id| !before.contains(id)), "{before:?}");

        let plans = nodes(&lead.data(PLAN_UNITS, json!({})).await?, "plans");
        let plan = plans
            .iter()
            .find(|plan| plan["unit"]["name"] == NORR)
            .ok_or_else(|| anyhow::anyhow!("no plan of {NORR} in {plans:?}"))?;
        let me = ingrid.data("{ me { person { id } } }", json!({})).await?;
        lead.data(SET_OWNER, json!({ "plan": plan["id"], "owner": me["me"]["person"]["id"] }))
            .await?;
        let after = synced(ingrid.data(ROUTINES, json!({})).await?);
        assert!(norr_routines.iter().all(|id| after.contains(id)), "{after:?} lacks some of {norr_routines:?}");

        lead.data(SET_OWNER, json!({ "plan": plan["id"], "owner": plan["owner"]["id"] }))
            .await?;
        let again = synced(ingrid.data(ROUTINES, json!({})).await?);
        assert!(norr_routines.iter().all(|id| !again.contains(id)), "{again:?}");
        Ok(())
    }
}
