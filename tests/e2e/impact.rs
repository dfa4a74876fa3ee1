//! What stops when an IT system goes down: the critical activities of every plan in
//! force that depend on it, most urgent first, with their fallback routines, as far as
//! the asker may read them.

use crate::plans::{
    CARE_SYSTEM, NORR, SYD, WRITTEN_ACTIVITY, WRITTEN_ROUTINE, approve, create_draft, plan_of,
    routine_input, system_id, text, unit_id, write_plan,
};
use reserv_tests::{Client, on_every_database};
use serde_json::{Value, json};

const IMPACT: &str = "query($system: ID!) { impact(itSystemId: $system) { system { name } units { name } activities { unit { name } plan { title } version { version state } activity { name rtoMinutes } routines { title steps { who what } materials { name location } recoverySteps { who } } } } }";
const ALARM_SYSTEM: &str = "Trygghetslarm och larmmottagning";
const BJORKEN: &str = "Gruppbostaden Björken";

async fn impact(client: &Client, system: &str) -> anyhow::Result<Value> {
    Ok(client.data(IMPACT, json!({ "system": system })).await?["impact"].clone())
}

/// Each affected activity as (unit, activity, RTO, version, state, routine titles).
fn summary(impact: &Value) -> Vec<(String, String, i64, i64, String, Vec<String>)> {
    impact["activities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|affected| {
            let routines = affected["routines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|routine| routine["title"].as_str().unwrap_or_default().to_owned())
                .collect();
            (
                affected["unit"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                affected["activity"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                affected["activity"]["rtoMinutes"].as_i64().unwrap_or(-1),
                affected["version"]["version"].as_i64().unwrap_or(-1),
                affected["version"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                routines,
            )
        })
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|item| item["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn row(
    unit: &str,
    activity: &str,
    rto: i64,
    version: i64,
    state: &str,
    routines: &[&str],
) -> (String, String, i64, i64, String, Vec<String>) {
    (
        unit.to_owned(),
        activity.to_owned(),
        rto,
        version,
        state.to_owned(),
        routines.iter().map(|title| (*title).to_owned()).collect(),
    )
}

/// The demo's activities that stop with the care documentation system.
fn care_system_outage() -> Vec<(String, String, i64, i64, String, Vec<String>)> {
    vec![
        row(
            BJORKEN,
            "Dagligt stöd enligt genomförandeplan",
            60,
            1,
            "DRAFT",
            &["Stöd enligt genomförandeplan utan verksamhetssystem"],
        ),
        row(
            NORR,
            "Överlämnande och administrering av läkemedel hos brukare",
            60,
            1,
            "APPROVED",
            &["Manuell signeringslista för läkemedel i hemtjänsten"],
        ),
        row(
            SYD,
            "Hemgång från sjukhus (samordnad utskrivning)",
            480,
            1,
            "DRAFT",
            &["Samordnad utskrivning från sjukhus utan verksamhetssystem"],
        ),
        row(
            NORR,
            "Social dokumentation och genomförandeplaner",
            1440,
            1,
            "APPROVED",
            &["Pappersdokumentation och efterregistrering i verksamhetssystemet"],
        ),
    ]
}

on_every_database! {
    async fn the_crisis_lead_sees_what_stops_when_the_care_documentation_system_goes_down(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let system = system_id(&lead, CARE_SYSTEM).await?;
        let outage = impact(&lead, &system).await?;
        assert_eq!(outage["system"]["name"], CARE_SYSTEM);
        assert_eq!(names(&outage["units"]), [BJORKEN, NORR, SYD], "each unit once, in the order of its most urgent activity");
        assert_eq!(summary(&outage), care_system_outage(), "shortest RTO first; a unit without an approved plan shows its draft");
        let rtos: Vec<i64> = summary(&outage).iter().map(|row| row.2).collect();
        assert!(rtos.windows(2).all(|pair| pair[0] <= pair[1]), "{rtos:?}");

        let medication = &outage["activities"][1];
        assert_eq!(medication["plan"]["title"], "Kontinuitetsplan Hemtjänst Norr");
        let routine = &medication["routines"][0];
        assert_eq!(routine["steps"].as_array().map(Vec::len), Some(6), "the routine comes with its steps");
        assert_eq!(
            routine["materials"][0],
            json!({ "name": "Utskrivna signeringslistor per brukare", "location": "Läkemedelspärmen på sjuksköterskeexpeditionen" })
        );
        assert_eq!(routine["recoverySteps"][2]["who"], "MAS");
        Ok(())
    }

    async fn an_alarm_outage_sends_the_night_patrol_to_its_telephone_routine(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let system = system_id(&lead, ALARM_SYSTEM).await?;
        let outage = impact(&lead, &system).await?;
        assert_eq!(names(&outage["units"]), ["Nattpatrullen"]);
        assert_eq!(
            summary(&outage),
            [row("Nattpatrullen", "Larmåtgärd vid trygghetslarm", 10, 1, "APPROVED", &["Larm via telefon när trygghetslarmets vidarekoppling inte fungerar"])]
        );
        let routine = &outage["activities"][0]["routines"][0];
        assert_eq!(routine["steps"][0]["who"], "Nattpatrull");
        assert_eq!(routine["materials"][0]["name"], "Reservtelefon 1 och 2, laddade");
        Ok(())
    }

    async fn a_unit_manager_sees_only_her_own_units_activities(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let norr = impact(&manager, &system).await?;
        assert_eq!(names(&norr["units"]), [NORR]);
        let own: Vec<_> = care_system_outage().into_iter().filter(|row| row.0 == NORR).collect();
        assert_eq!(summary(&norr), own);

        let elsewhere = server.sign_in_as("enhetschef-solgarden").await?;
        let solgarden = impact(&elsewhere, &system).await?;
        assert_eq!(solgarden["system"]["name"], CARE_SYSTEM);
        assert_eq!(solgarden["activities"], json!([]), "Solgården's plan does not depend on the system");
        Ok(())
    }

    async fn a_care_worker_sees_only_her_units_activities_within_her_clearance(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let worker = server.sign_in_as("underskoterska").await?;
        let lead = server.sign_in_as("krisledare").await?;
        let unit = unit_id(&manager, NORR).await?;
        let system = system_id(&manager, CARE_SYSTEM).await?;
        let written = write_plan(&manager, &unit, &system).await?;
        manager
            .data(
                "mutation($version: ID!, $input: RoutineInput!) { addRoutine(versionId: $version, input: $input) { id } }",
                json!({ "version": written.version, "input": routine_input(Some(&written.activity), "Kodlista till läkemedelsförrådet", 2) }),
            )
            .await?;
        approve(&lead, &written.version).await?;

        let seen = impact(&worker, &system).await?;
        assert_eq!(names(&seen["units"]), [NORR]);
        assert_eq!(
            summary(&seen),
            [row(NORR, WRITTEN_ACTIVITY, 45, 1, "APPROVED", &[WRITTEN_ROUTINE])],
            "her unit's plan at her level, without the sensitive routine; nothing from other units"
        );

        let everything = summary(&impact(&lead, &system).await?);
        assert_eq!(everything.len(), 5);
        assert_eq!(everything[0], row(NORR, WRITTEN_ACTIVITY, 45, 1, "APPROVED", &[WRITTEN_ROUTINE, "Kodlista till läkemedelsförrådet"]));

        let alarm = system_id(&worker, ALARM_SYSTEM).await?;
        let night = impact(&worker, &alarm).await?;
        assert_eq!(night["system"]["name"], ALARM_SYSTEM);
        assert_eq!((&night["units"], &night["activities"]), (&json!([]), &json!([])), "the night patrol is not her unit");
        Ok(())
    }

    async fn a_new_draft_reaches_the_impact_only_when_approved(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let manager = server.sign_in_as("enhetschef").await?;
        let system = system_id(&lead, CARE_SYSTEM).await?;
        let before = impact(&lead, &system).await?;

        let plan = plan_of(&manager, NORR).await?;
        let draft = text(&create_draft(&manager, &plan).await?["id"])?;
        let copied = manager
            .data(
                "query($id: ID!) { planVersion(id: $id) { activities { name dependencies { id system { name } } } } }",
                json!({ "id": draft }),
            )
            .await?;
        let medication = copied["planVersion"]["activities"]
            .as_array()
            .and_then(|all| all.iter().find(|activity| activity["name"] == "Överlämnande och administrering av läkemedel hos brukare"))
            .cloned()
            .unwrap_or_default();
        let dependency = medication["dependencies"]
            .as_array()
            .and_then(|all| all.iter().find(|dependency| dependency["system"]["name"] == CARE_SYSTEM))
            .map(|dependency| text(&dependency["id"]))
            .transpose()?
            .unwrap_or_default();
        manager.data("mutation($id: ID!) { removeDependency(id: $id) }", json!({ "id": dependency })).await?;
        assert_eq!(impact(&lead, &system).await?, before, "a draft beside an approved version changes nothing");

        approve(&lead, &draft).await?;
        let after = impact(&lead, &system).await?;
        let expected: Vec<_> = care_system_outage()
            .into_iter()
            .filter(|row| row.1 != "Överlämnande och administrering av läkemedel hos brukare")
            .map(|mut row| {
                if row.0 == NORR {
                    row.3 = 2;
                }
                row
            })
            .collect();
        assert_eq!(summary(&after), expected, "the approved version 2 is in force");
        Ok(())
    }

    async fn an_unknown_system_is_not_found(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let (code, message) = lead.error(IMPACT, json!({ "system": "99999" })).await?;
        assert_eq!((code.as_str(), message.as_str()), ("NOT_FOUND", "IT system 99999 was not found"));
        let response = lead.send(IMPACT, json!({ "system": "journalen" })).await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION");
        assert_eq!(response["errors"][0]["extensions"]["field"], "itSystemId");
        let (code, _) = server.anonymous().error(IMPACT, json!({ "system": "1" })).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }
}
