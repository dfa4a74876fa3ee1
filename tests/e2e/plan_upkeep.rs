//! Keeping plans up to date: a unit manager changes her plan's title, owner and review
//! interval, discards a draft she will not finish, and an approver sees what changed
//! between two versions before approving, which someone other than the draft's last
//! editor must do.

use crate::plans::{
    CARE_SYSTEM, NORR, SYD, WRITTEN_ACTIVITY, WRITTEN_ROUTINE, activity_input, approve,
    create_draft, plan_of, routine_input, system_id, text, unit_id, write_plan,
};
use reserv_tests::{Client, on_every_database};
use serde_json::{Value, json};

const UPDATE_PLAN: &str = "mutation($plan: ID!, $title: String, $months: Int) { updatePlan(planId: $plan, title: $title, reviewIntervalMonths: $months) { id title reviewIntervalMonths reviewDueAt owner { name } } }";
const CLEAR_OWNER: &str =
    "mutation($plan: ID!) { updatePlan(planId: $plan, ownerId: null) { title owner { name } } }";
const SET_OWNER: &str = "mutation($plan: ID!, $owner: ID) { updatePlan(planId: $plan, ownerId: $owner) { owner { name } } }";
const PLAN: &str = "query($id: ID!) { plan(id: $id) { title reviewIntervalMonths reviewDueAt owner { name } versions { id version state approvedAt approvedBy lastEditedBy } } }";
const DISCARD: &str = "mutation($id: ID!) { discardDraft(versionId: $id) }";
const APPROVE: &str = "mutation($id: ID!) { approvePlanVersion(id: $id) { state approvedBy } }";
const VERSION: &str = "query($id: ID!) { planVersion(id: $id) { id version state lastEditedBy activities { id name dependencies { id kind } } routines { id title } } }";
const DIFF: &str = "query($from: ID!, $to: ID!) { planVersionDiff(fromId: $from, toId: $to) { from { version } to { version } unchanged changes { field old new } activities { name kind changes { field old new } } dependencies { activity kind dependencyKind system { name } name } routines { key title kind changes { field old new } steps { position kind old { who what when } new { who what when } } recoverySteps { position kind } materials { kind old { name location } new { name location } } } } }";
const SUGGEST: &str = "query($systems: [ID!]!) { suggestPlaybooks(itSystemIds: $systems) { playbookId title titleEn kind matchedSystems { name } units { id name } routines { key title units { id } } peopleInvolved } }";
const ACTIVATE_EXERCISE: &str = "mutation($playbook: String!) { activatePlaybook(playbookId: $playbook, exercise: true, idempotencyKey: \"forslag-1\") { activatedPlans { unitId } checklistRuns { unitId routineId } } }";
const AUDIT: &str = "query($type: String, $id: ID, $action: AuditAction) { auditEvents(objectType: $type, objectId: $id, action: $action) { edges { node { action actor outcome } } } }";

async fn plan(client: &Client, id: &str) -> anyhow::Result<Value> {
    Ok(client.data(PLAN, json!({ "id": id })).await?["plan"].clone())
}

async fn version(client: &Client, id: &str) -> anyhow::Result<Value> {
    Ok(client.data(VERSION, json!({ "id": id })).await?["planVersion"].clone())
}

/// The (actor, outcome) of every audit event of `action` on an object.
async fn audited(
    admin: &Client,
    object_type: &str,
    id: &str,
    action: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let trail = admin
        .data(
            AUDIT,
            json!({ "type": object_type, "id": id, "action": action }),
        )
        .await?;
    trail["auditEvents"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| {
            Ok((
                text(&edge["node"]["actor"])?,
                text(&edge["node"]["outcome"])?,
            ))
        })
        .collect()
}

/// Loads the shipped playbooks, as the server does at start.
async fn import_shipped_playbooks(server: &reserv_tests::TestServer) -> anyhow::Result<()> {
    let folder = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../playbooks");
    reserv::playbooks::import(&server.store()?, &folder).await?;
    Ok(())
}

/// The suggestion for `playbook` among `suggestions`.
fn suggestion<'a>(suggestions: &'a Value, playbook: &str) -> anyhow::Result<&'a Value> {
    suggestions
        .as_array()
        .and_then(|all| all.iter().find(|s| s["playbookId"] == playbook))
        .ok_or_else(|| anyhow::anyhow!("no suggestion {playbook} in {suggestions}"))
}

/// The sorted texts at `field` of each item of `list`.
fn sorted(list: &Value, field: &str) -> Vec<String> {
    let mut values: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item[field].as_str().map(str::to_owned))
        .collect();
    values.sort();
    values
}

fn success(actor: &str) -> (String, String) {
    (actor.to_owned(), "SUCCESS".to_owned())
}

on_every_database! {
    async fn a_unit_manager_changes_her_plans_title_owner_and_review_interval(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let admin = server.sign_in_as("admin").await?;
        let norr = plan_of(&manager, NORR).await?;
        let syd = plan_of(&admin, SYD).await?;
        let before = plan(&manager, &norr).await?;
        assert_eq!(before["reviewIntervalMonths"], 12);

        let shorter = manager.data(UPDATE_PLAN, json!({ "plan": norr, "months": 6 })).await?;
        let shorter = &shorter["updatePlan"];
        assert_eq!(shorter["reviewIntervalMonths"], 6);
        assert_eq!(shorter["title"], before["title"], "what is left out stays");
        assert_eq!(shorter["owner"]["name"], "Karin Lindqvist");
        let approved_at = text(&before["versions"][0]["approvedAt"])?;
        let due = text(&shorter["reviewDueAt"])?;
        assert!(due < text(&before["reviewDueAt"])?, "the review moved closer: {due}");
        assert!(due > approved_at, "and stays after the approval: {due}");
        assert_eq!(due.get(10..), approved_at.get(10..), "six months after the approval, same time");

        let renamed = manager
            .data(UPDATE_PLAN, json!({ "plan": norr, "title": "  Kontinuitetsplan Hemtjänst Norr 2027 " }))
            .await?;
        assert_eq!(renamed["updatePlan"]["title"], "Kontinuitetsplan Hemtjänst Norr 2027");
        assert_eq!(renamed["updatePlan"]["reviewIntervalMonths"], 6);
        let cleared = manager.data(CLEAR_OWNER, json!({ "plan": norr })).await?;
        assert_eq!(cleared["updatePlan"], json!({ "title": "Kontinuitetsplan Hemtjänst Norr 2027", "owner": null }));
        let after = plan(&manager, &norr).await?;

        let refusals = [
            (UPDATE_PLAN, json!({ "plan": norr, "months": 0 }), "VALIDATION", "reviewIntervalMonths"),
            (UPDATE_PLAN, json!({ "plan": norr, "months": 37, "title": "Ny titel" }), "VALIDATION", "reviewIntervalMonths"),
            (UPDATE_PLAN, json!({ "plan": norr, "title": "   " }), "VALIDATION", "title"),
            (UPDATE_PLAN, json!({ "plan": norr }), "VALIDATION", "reviewIntervalMonths"),
            (SET_OWNER, json!({ "plan": norr, "owner": "99999" }), "VALIDATION", "ownerId"),
            (SET_OWNER, json!({ "plan": norr, "owner": "Karin" }), "VALIDATION", "ownerId"),
            (UPDATE_PLAN, json!({ "plan": "99999", "months": 6 }), "NOT_FOUND", "plan 99999"),
            (UPDATE_PLAN, json!({ "plan": syd, "months": 6 }), "FORBIDDEN", ""),
        ];
        for (mutation, variables, code, field) in refusals {
            let (got, message) = manager.error(mutation, variables.clone()).await?;
            assert_eq!(got, code, "{variables}: {message}");
            assert!(message.contains(field), "{variables}: {message}");
        }
        let (code, message) = worker.error(UPDATE_PLAN, json!({ "plan": norr, "months": 3 })).await?;
        assert_eq!(code, "FORBIDDEN", "a care worker may not change the plan: {message}");
        assert_eq!(plan(&manager, &norr).await?, after, "nothing refused was written");
        assert_eq!(plan(&admin, &syd).await?["reviewIntervalMonths"], 12);

        let events = audited(&admin, "plan", &norr, "UPDATE").await?;
        let successes: Vec<_> = events.iter().filter(|(_, outcome)| outcome == "SUCCESS").cloned().collect();
        assert_eq!(successes, vec![success("enhetschef"); 3]);
        assert!(events.contains(&("underskoterska".to_owned(), "DENIED".to_owned())), "{events:?}");
        Ok(())
    }

    async fn a_draft_is_discarded_while_approved_and_retired_versions_are_kept(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let reviewer = server.sign_in_as("krisledare").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let admin = server.sign_in_as("admin").await?;
        let norr = plan_of(&manager, NORR).await?;
        let first = text(&plan(&manager, &norr).await?["versions"][0]["id"])?;

        let draft = text(&create_draft(&manager, &norr).await?["id"])?;
        let (code, message) = worker.error(DISCARD, json!({ "id": draft })).await?;
        assert_eq!(code, "FORBIDDEN", "{message}");
        let discarded = manager.data(DISCARD, json!({ "id": draft })).await?;
        assert_eq!(discarded["discardDraft"], json!(draft));
        let versions = plan(&manager, &norr).await?["versions"].clone();
        assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
        assert_eq!(versions[0]["state"], "APPROVED", "the version in force is untouched");
        let (code, _) = manager.error(VERSION, json!({ "id": draft })).await?;
        assert_eq!(code, "NOT_FOUND", "the draft and its contents are gone");
        assert_eq!(
            audited(&admin, "plan_version", &draft, "DISCARD").await?,
            [("underskoterska".to_owned(), "DENIED".to_owned()), success("enhetschef")],
            "the refusal and the discard are both in the trail"
        );

        // The next draft starts again from the approved version.
        let again = create_draft(&manager, &norr).await?;
        assert_eq!(again["version"], 2);
        let again = text(&again["id"])?;
        assert!(!version(&manager, &again).await?["activities"].as_array().is_none_or(Vec::is_empty));
        approve(&reviewer, &again).await?;

        for (id, state) in [(&again, "approved"), (&first, "retired")] {
            let (code, message) = manager.error(DISCARD, json!({ "id": id })).await?;
            assert_eq!(code, "CONFLICT", "{message}");
            assert!(message.contains(&format!("is {state} and cannot be discarded")), "{message}");
        }
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let (code, message) = manager.error(DISCARD, json!({ "id": written.version })).await?;
        assert_eq!(code, "CONFLICT", "{message}");
        assert!(message.contains("only version"), "{message}");
        for (id, code) in [("99999", "NOT_FOUND"), ("draft", "VALIDATION")] {
            assert_eq!(manager.error(DISCARD, json!({ "id": id })).await?.0, code, "{id}");
        }
        assert_eq!(plan(&manager, &norr).await?["versions"].as_array().map(Vec::len), Some(2));
        Ok(())
    }

    async fn an_approver_sees_what_changed_between_two_versions(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let reviewer = server.sign_in_as("krisledare").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        approve(&reviewer, &written.version).await?;
        let draft = text(&create_draft(&manager, &written.plan).await?["id"])?;
        let copy = version(&manager, &draft).await?;
        let activity = text(&copy["activities"][0]["id"])?;
        let dependency = text(&copy["activities"][0]["dependencies"][0]["id"])?;
        let routine = text(&copy["routines"][0]["id"])?;

        manager.data("mutation($id: ID!, $input: ActivityInput!) { updateActivity(id: $id, input: $input) { id } }",
            json!({ "id": activity, "input": activity_input(WRITTEN_ACTIVITY, 240, 30) })).await?;
        manager.data("mutation($id: ID!) { removeDependency(id: $id) }", json!({ "id": dependency })).await?;
        manager.data("mutation($version: ID!, $input: ActivityInput!) { addActivity(versionId: $version, input: $input) { id } }",
            json!({ "version": draft, "input": activity_input("Larmhantering", 60, 15) })).await?;
        let mut changed = routine_input(Some(&activity), WRITTEN_ROUTINE, 1);
        changed["steps"][1]["what"] = json!("Signerar varje överlämnad och administrerad dos på papperslistan");
        if let Some(steps) = changed["steps"].as_array_mut() {
            steps.push(json!({ "who": "Sjuksköterska", "what": "Samlar in listorna vid passets slut", "when": "Kl. 21" }));
        }
        changed["materials"][0]["location"] = json!("Medicinskåpet");
        manager.data("mutation($id: ID!, $input: RoutineInput!) { updateRoutine(id: $id, input: $input) { id } }",
            json!({ "id": routine, "input": changed })).await?;
        manager.data("mutation($version: ID!, $input: RoutineInput!) { addRoutine(versionId: $version, input: $input) { id } }",
            json!({ "version": draft, "input": routine_input(None, "Tillsyn på papper", 1) })).await?;

        let diff = reviewer.data(DIFF, json!({ "from": written.version, "to": draft })).await?;
        let diff = &diff["planVersionDiff"];
        assert_eq!((&diff["from"]["version"], &diff["to"]["version"], &diff["unchanged"]), (&json!(1), &json!(2), &json!(false)));
        assert_eq!(diff["changes"], json!([]), "the version's own text is the same");
        assert_eq!(diff["activities"], json!([
            { "name": WRITTEN_ACTIVITY, "kind": "CHANGED", "changes": [{ "field": "rtoMinutes", "old": "45", "new": "30" }] },
            { "name": "Larmhantering", "kind": "ADDED", "changes": [] }
        ]));
        assert_eq!(diff["dependencies"], json!([
            { "activity": WRITTEN_ACTIVITY, "kind": "REMOVED", "dependencyKind": "IT_SYSTEM", "system": { "name": CARE_SYSTEM }, "name": null }
        ]));
        let routines = diff["routines"].as_array().cloned().unwrap_or_default();
        assert_eq!(routines.len(), 2, "{routines:?}");
        let edited = &routines[0];
        assert_eq!((&edited["title"], &edited["kind"], &edited["changes"]), (&json!(WRITTEN_ROUTINE), &json!("CHANGED"), &json!([])));
        assert_eq!(edited["steps"], json!([
            { "position": 2, "kind": "CHANGED",
              "old": { "who": "Undersköterska", "what": "Signerar varje överlämnad dos på papperslistan", "when": null },
              "new": { "who": "Undersköterska", "what": "Signerar varje överlämnad och administrerad dos på papperslistan", "when": null } },
            { "position": 3, "kind": "ADDED", "old": null,
              "new": { "who": "Sjuksköterska", "what": "Samlar in listorna vid passets slut", "when": "Kl. 21" } }
        ]));
        assert_eq!(edited["recoverySteps"], json!([]));
        assert_eq!(edited["materials"], json!([{ "kind": "CHANGED",
            "old": { "name": "Utskrivna signeringslistor", "location": "Läkemedelspärmen" },
            "new": { "name": "Utskrivna signeringslistor", "location": "Medicinskåpet" } }]));
        let added = &routines[1];
        assert_eq!((&added["title"], &added["kind"]), (&json!("Tillsyn på papper"), &json!("ADDED")));
        assert_eq!(added["steps"].as_array().map(Vec::len), Some(2), "every step of a new routine is new");

        let back = reviewer.data(DIFF, json!({ "from": draft, "to": written.version })).await?;
        let kinds: Vec<_> = back["planVersionDiff"]["activities"].as_array().into_iter().flatten().map(|a| (a["name"].clone(), a["kind"].clone())).collect();
        assert_eq!(kinds, [(json!(WRITTEN_ACTIVITY), json!("CHANGED")), (json!("Larmhantering"), json!("REMOVED"))]);
        let same = reviewer.data(DIFF, json!({ "from": draft, "to": draft })).await?;
        assert_eq!(same["planVersionDiff"]["unchanged"], true);

        // Versions of two plans, malformed ids, and versions the reader may not read.
        let syd = plan_of(&reviewer, SYD).await?;
        let syd_version = text(&plan(&reviewer, &syd).await?["versions"][0]["id"])?;
        let (code, message) = reviewer.error(DIFF, json!({ "from": written.version, "to": syd_version })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.starts_with("toId:") && message.contains("belongs to plan"), "{message}");
        let (code, message) = reviewer.error(DIFF, json!({ "from": "v1", "to": draft })).await?;
        assert_eq!(code, "VALIDATION");
        assert!(message.contains("fromId"), "{message}");
        assert_eq!(reviewer.error(DIFF, json!({ "from": written.version, "to": "99999" })).await?.0, "NOT_FOUND");
        let demo_norr = plan_of(&manager, NORR).await?;
        let demo_first = text(&plan(&manager, &demo_norr).await?["versions"][0]["id"])?;
        let demo_draft = text(&create_draft(&manager, &demo_norr).await?["id"])?;
        let (read_code, _) = worker.error(VERSION, json!({ "id": demo_first })).await?;
        let (code, message) = worker.error(DIFF, json!({ "from": demo_first, "to": demo_draft })).await?;
        assert_eq!((code.as_str(), read_code.as_str()), ("FORBIDDEN", "FORBIDDEN"), "refused as a read is: {message}");
        let (code, _) = manager.error(DIFF, json!({ "from": syd_version, "to": syd_version })).await?;
        assert_eq!(code, "FORBIDDEN", "another unit's plan");
        Ok(())
    }

    async fn a_draft_is_approved_by_someone_other_than_its_last_editor(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let lead = server.sign_in_as("krisledare").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let demo = plan(&manager, &plan_of(&manager, NORR).await?).await?;
        assert_eq!(demo["versions"][0]["approvedBy"], "enhetschef", "the demo plan was approved by its unit manager");
        assert_eq!(demo["versions"][0]["lastEditedBy"], "operator (demo data)");

        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        assert_eq!(version(&manager, &written.version).await?["lastEditedBy"], "enhetschef");
        let (code, message) = manager.error(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(code, "FORBIDDEN", "{message}");
        assert!(message.contains("ändrades senast av dig") && message.contains("four-eyes"), "{message}");
        let (code, _) = worker.error(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(code, "FORBIDDEN", "a second person needs approval rights too");
        assert_eq!(version(&manager, &written.version).await?["state"], "DRAFT");
        let approved = lead.data(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(approved["approvePlanVersion"], json!({ "state": "APPROVED", "approvedBy": "krisledare" }));

        // Whoever edits a draft last is the one who may not approve it.
        let draft = text(&create_draft(&manager, &written.plan).await?["id"])?;
        let activity = text(&version(&manager, &draft).await?["activities"][0]["id"])?;
        lead.data("mutation($id: ID!, $input: ActivityInput!) { updateActivity(id: $id, input: $input) { id } }",
            json!({ "id": activity, "input": activity_input(WRITTEN_ACTIVITY, 240, 20) })).await?;
        assert_eq!(version(&manager, &draft).await?["lastEditedBy"], "krisledare");
        assert_eq!(lead.error(APPROVE, json!({ "id": draft })).await?.0, "FORBIDDEN");
        let approved = manager.data(APPROVE, json!({ "id": draft })).await?;
        assert_eq!(approved["approvePlanVersion"], json!({ "state": "APPROVED", "approvedBy": "enhetschef" }));
        Ok(())
    }

    async fn a_deployment_may_let_an_editor_approve_her_own_draft(server: a_deployment_without_four_eyes) {
        let manager = server.sign_in_as("enhetschef").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        let approved = manager.data(APPROVE, json!({ "id": written.version })).await?;
        assert_eq!(approved["approvePlanVersion"], json!({ "state": "APPROVED", "approvedBy": "enhetschef" }));
        let worker = server.sign_in_as("underskoterska").await?;
        let draft = text(&create_draft(&manager, &written.plan).await?["id"])?;
        assert_eq!(worker.error(APPROVE, json!({ "id": draft })).await?.0, "FORBIDDEN", "approval rights still count");
        Ok(())
    }

    async fn a_crisis_lead_sees_which_playbooks_fit_the_systems_that_are_down(server: sample_municipality) {
        import_shipped_playbooks(&server).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let care = system_id(&lead, CARE_SYSTEM).await?;
        let alarm = system_id(&lead, "Trygghetslarm och larmmottagning").await?;
        let identity = system_id(&lead, "Identitetstjänst och inloggning").await?;
        let home_alarm = system_id(&lead, "Boendelarm Solgården").await?;

        let found = lead.data(SUGGEST, json!({ "systems": [care, alarm] })).await?;
        let found = &found["suggestPlaybooks"];
        assert_eq!(sorted(found, "playbookId"), ["trygghetslarm-ur-funktion", "verksamhetssystem-vard-nere"]);
        let documentation = suggestion(found, "verksamhetssystem-vard-nere")?;
        assert_eq!(documentation["matchedSystems"], json!([{ "name": CARE_SYSTEM }]));
        assert_eq!(documentation["kind"], "IT_OUTAGE");
        let units = sorted(&documentation["units"], "name");
        assert!(units.contains(&NORR.to_owned()) && !units.contains(&SYD.to_owned()), "units with an approved plan only: {units:?}");
        let alarms = suggestion(found, "trygghetslarm-ur-funktion")?;
        assert_eq!(alarms["matchedSystems"], json!([{ "name": "Trygghetslarm och larmmottagning" }]));
        assert!(alarms["units"].as_array().is_some_and(|u| !u.is_empty()), "{alarms}");

        // It says what an activation would do: the same units, one checklist run per
        // routine and unit.
        let activated = lead.data(ACTIVATE_EXERCISE, json!({ "playbook": "verksamhetssystem-vard-nere" })).await?;
        let activated = &activated["activatePlaybook"];
        assert_eq!(sorted(&activated["activatedPlans"], "unitId"), sorted(&documentation["units"], "id"));
        let mut runs: Vec<(String, String)> = Vec::new();
        for routine in documentation["routines"].as_array().into_iter().flatten() {
            assert!(routine["title"].as_str().is_some_and(|t| !t.is_empty()), "{routine}");
            for unit in routine["units"].as_array().into_iter().flatten() {
                runs.push((text(&unit["id"])?, text(&routine["key"])?));
            }
        }
        let started = activated["checklistRuns"].as_array().map_or(0, Vec::len);
        assert!(started > 0 && runs.len() == started, "{} routines in units suggested, {started} runs started", runs.len());

        // Everyone is involved when the whole municipality's sign-in is gone.
        let everything = lead.data(SUGGEST, json!({ "systems": [identity] })).await?;
        let total = suggestion(&everything["suggestPlaybooks"], "it-avbrott-cyberattack")?;
        let involved = |s: &Value| s["peopleInvolved"].as_i64().unwrap_or(0);
        assert!(involved(documentation) > 0 && involved(total) >= involved(documentation), "{} ≥ {}", involved(total), involved(documentation));
        assert!(total["units"].as_array().map_or(0, Vec::len) >= documentation["units"].as_array().map_or(0, Vec::len));
        assert_eq!(lead.data(SUGGEST, json!({ "systems": [home_alarm] })).await?["suggestPlaybooks"], json!([]), "no playbook names it");

        for (systems, message) in [
            (json!([]), "itSystemIds: "),
            (json!(["99999"]), "there is no IT system 99999"),
            (json!(["larm"]), "itSystemIds"),
        ] {
            let (code, got) = lead.error(SUGGEST, json!({ "systems": systems })).await?;
            assert_eq!(code, "VALIDATION", "{systems}: {got}");
            assert!(got.contains(message), "{systems}: {got}");
        }
        let manager = server.sign_in_as("enhetschef").await?;
        assert_eq!(manager.error(SUGGEST, json!({ "systems": [care] })).await?.0, "FORBIDDEN", "for those who may activate");
        Ok(())
    }
}
