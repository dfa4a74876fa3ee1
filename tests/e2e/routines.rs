//! Care workers finding the fallback routines of their unit.

use reserv_tests::on_every_database;
use serde_json::json;

on_every_database! {
    async fn a_care_worker_finds_her_units_paper_routines_in_two_steps(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let me = worker.data("{ me { roles { unit { id } } } }", json!({})).await?;
        let unit = me["me"]["roles"][0]["unit"]["id"].clone();
        let list = worker
            .data("query($unit: ID) { routines(unitId: $unit) { id key title classification { confidentiality } } }", json!({ "unit": unit }))
            .await?;
        let routines = list["routines"].as_array().cloned().unwrap_or_default();
        assert_eq!(routines.len(), 4, "the four paper routines of Hemtjänst Norr: {list}");
        assert!(routines.iter().all(|r| r["classification"]["confidentiality"].as_u64() <= Some(1)));
        let keys: Vec<&str> = routines.iter().filter_map(|r| r["key"].as_str()).collect();
        assert!(keys.contains(&"lakemedel-signeringslista") && keys.contains(&"nyckelhantering-digitala-las"), "playbooks name routines by these keys: {keys:?}");
        let first = routines[0]["id"].clone();
        let opened = worker
            .data("query($id: ID!) { routine(id: $id) { title steps { who what } materials { name } recoverySteps { what } } }", json!({ "id": first }))
            .await?;
        assert!(opened["routine"]["steps"].as_array().is_some_and(|steps| steps.len() >= 4), "{opened}");

        let everywhere = worker.data("{ routines { id } }", json!({})).await?;
        assert_eq!(everywhere["routines"].as_array().map(Vec::len), Some(4), "without a unit: only her own units");

        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let solgarden = reserv_tests::id_where(&units["units"], "name", "Solgårdens vård- och omsorgsboende")?;
        let (code, _) = worker.error("query($unit: ID) { routines(unitId: $unit) { id } }", json!({ "unit": solgarden })).await?;
        assert_eq!(code, "FORBIDDEN");
        let all = lead.data("{ routines { id } }", json!({})).await?;
        assert_eq!(all["routines"].as_array().map(Vec::len), Some(22), "the crisis lead reads every routine in force");
        Ok(())
    }
}
