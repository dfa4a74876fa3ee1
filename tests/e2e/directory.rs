//! The directory: units, people, IT systems and accounts, with role checks.

use reserv_tests::{id_where, on_every_database};
use serde_json::json;

const CREATE_PERSON: &str = "mutation($input: PersonInput!) { createPerson(input: $input) { id name phone units { name } } }";

on_every_database! {
    async fn the_sample_municipality_has_its_tree(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let data = lead.data("{ units { id name kind parent { name } } itSystems { name criticality } }", json!({})).await?;
        let units = data["units"].as_array().cloned().unwrap_or_default();
        assert!(units.iter().filter(|unit| unit["kind"] == "UNIT").count() >= 6);
        assert_eq!(units[0]["kind"], "MUNICIPALITY", "parents come before children");
        assert!(data["itSystems"].as_array().map_or(0, Vec::len) >= 8);
        Ok(())
    }

    async fn an_admin_adds_a_person_with_a_normalised_phone_number(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let units = admin.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Hemtjänst Norr – centrala Norrbyn")?;
        let created = admin
            .data(CREATE_PERSON, json!({ "input": { "name": "Sofia Berg", "phone": "+46 70-174 06 98", "unitIds": [unit] } }))
            .await?;
        assert_eq!(created["createPerson"]["phone"], "+46701740698");
        assert_eq!(created["createPerson"]["units"][0]["name"], "Hemtjänst Norr – centrala Norrbyn");
        Ok(())
    }

    async fn a_number_typed_the_swedish_way_is_read_as_swedish(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let created = admin
            .data(CREATE_PERSON, json!({ "input": { "name": "Sofia Berg", "phone": "070-174 06 98" } }))
            .await?;
        assert_eq!(created["createPerson"]["phone"], "+46701740698");
        Ok(())
    }

    async fn an_impossible_phone_number_is_refused_and_nothing_is_stored(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let before = admin.data("{ people(first: 200) { edges { node { name } } } }", json!({})).await?;
        for impossible in ["070-17 40", "070-174 06 98 12 34", "+46 70 ABC"] {
            let response = admin
                .send(CREATE_PERSON, json!({ "input": { "name": "Sofia Berg", "phone": impossible } }))
                .await?;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "VALIDATION", "{impossible}: {response}");
            assert_eq!(error["extensions"]["field"], "phone");
            assert!(error["message"].as_str().is_some_and(|m| m.contains("070-123 45 67")), "the error shows how to write it: {error}");
        }
        let after = admin.data("{ people(first: 200) { edges { node { name } } } }", json!({})).await?;
        assert_eq!(before, after);
        Ok(())
    }

    async fn only_an_admin_changes_the_directory(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let (code, _) = manager.error(CREATE_PERSON, json!({ "input": { "name": "Sofia Berg" } })).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = manager
            .error("mutation { createAccount(input: { username: \"ny\", roles: [{ role: ADMIN }] }) { id } }", json!({}))
            .await?;
        assert_eq!(code, "FORBIDDEN");
        Ok(())
    }

    async fn an_account_gets_a_generated_password_that_works(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let units = admin.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Solgårdens vård- och omsorgsboende")?;
        let created = admin
            .data(
                "mutation($unit: ID!) { createAccount(input: { username: \"vikarie.solgarden\", roles: [{ role: CARE_WORKER, unitId: $unit }] }) { username generatedPassword } }",
                json!({ "unit": unit }),
            )
            .await?;
        let password = created["createAccount"]["generatedPassword"].as_str().unwrap_or_default().to_owned();
        assert_eq!(password.len(), 20);
        let substitute = server.sign_in("vikarie.solgarden", &password).await?;
        let me = substitute.data("{ me { roles { role unit { name } } } }", json!({})).await?;
        assert_eq!(me["me"]["roles"][0]["unit"]["name"], "Solgårdens vård- och omsorgsboende");

        let (code, message) = admin
            .error("mutation { createAccount(input: { username: \"vikarie.solgarden\", roles: [{ role: VIEWER }] }) { id } }", json!({}))
            .await?;
        assert_eq!(code, "CONFLICT");
        assert!(message.contains("vikarie.solgarden"), "{message}");
        Ok(())
    }

    async fn an_admin_renames_a_unit_and_a_blank_name_is_refused(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let units = admin.data("{ units { id name } }", json!({})).await?;
        let unit = id_where(&units["units"], "name", "Nattpatrullen")?;
        let rename = "mutation($id: ID!, $name: String!) { renameUnit(id: $id, name: $name) { name } }";
        let renamed = admin.data(rename, json!({ "id": unit, "name": "Nattpatrullen Norrbyn" })).await?;
        assert_eq!(renamed["renameUnit"]["name"], "Nattpatrullen Norrbyn");
        let response = admin.send(rename, json!({ "id": unit, "name": "  " })).await?;
        assert_eq!(response["errors"][0]["extensions"]["field"], "name");
        let after = admin.data("query($id: ID!) { unit(id: $id) { name } }", json!({ "id": unit })).await?;
        assert_eq!(after["unit"]["name"], "Nattpatrullen Norrbyn");
        let manager = server.sign_in_as("enhetschef").await?;
        let (code, _) = manager.error(rename, json!({ "id": unit, "name": "Annat" })).await?;
        assert_eq!(code, "FORBIDDEN");
        Ok(())
    }

    async fn people_are_paged_with_cursors(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let query = "query($after: String) { people(first: 10, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }";
        let mut seen = Vec::new();
        let mut after = serde_json::Value::Null;
        loop {
            let page = lead.data(query, json!({ "after": after })).await?;
            let people = &page["people"];
            let edges = people["edges"].as_array().cloned().unwrap_or_default();
            assert!(edges.len() <= 10);
            seen.extend(edges.iter().map(|edge| edge["node"]["id"].as_str().unwrap_or_default().to_owned()));
            if people["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = people["pageInfo"]["endCursor"].clone();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no person appears on two pages");
        assert!(seen.len() > 20, "every page was read: {}", seen.len());
        let (code, _) = lead.error("{ people(first: 1000) { edges { node { id } } } }", json!({})).await?;
        assert_eq!(code, "VALIDATION");
        Ok(())
    }
}
