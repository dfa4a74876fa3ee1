//! Bad input gets a clear error with the right code, and a hostile query a refusal.

use reserv_tests::on_every_database;
use serde_json::json;

on_every_database! {
    async fn unknown_and_malformed_ids_are_named(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let (code, message) = lead.error("{ person(id: \"99999\") { name } }", json!({})).await?;
        assert_eq!((code.as_str(), message.as_str()), ("NOT_FOUND", "person 99999 was not found"));
        let response = lead.send("{ unit(id: \"abc\") { name } }", json!({})).await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION");
        assert_eq!(response["errors"][0]["extensions"]["field"], "id");
        Ok(())
    }

    async fn malformed_graphql_is_a_parse_error(server: empty) {
        let response = server.anonymous().send("{ units { name ", json!({})).await?;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty() && response.get("data").is_none_or(|data| data.is_null()), "{response}");
        assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED", "{response}");
        Ok(())
    }

    async fn a_query_that_does_not_fit_the_schema_is_a_validation_error(server: empty) {
        let response = server.anonymous().send("{ units { shoeSize } }", json!({})).await?;
        assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{response}");
        Ok(())
    }

    async fn a_body_that_is_not_json_gets_a_graphql_shaped_error(server: empty) {
        let response = reqwest::Client::new()
            .post(format!("{}/graphql", server.base_url))
            .header("content-type", "application/json")
            .body("query=units")
            .send()
            .await?;
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("The request body is not a GraphQL request"), "{message}");
        assert!(!message.contains("InvalidRequest("), "no debug text: {message}");
        Ok(())
    }

    async fn control_characters_in_free_text_are_refused_and_nothing_is_stored(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let (code, message) = admin
            .error(
                "mutation($input: UnitInput!) { createUnit(input: $input) { id } }",
                json!({ "input": { "name": "Provenhet\u{0}", "kind": "UNIT" } }),
            )
            .await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("U+0000"), "{message}");
        let units = admin.data("{ units { name } }", json!({})).await?;
        assert!(!units.to_string().contains("Solgården\\u0000"), "nothing stored: {units}");
        Ok(())
    }

    async fn an_over_deep_query_is_refused_before_it_runs(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let mut query = String::from("id");
        for _ in 0..15 {
            query = format!("parent {{ {query} }}");
        }
        let response = lead.send(&format!("{{ units {{ {query} }} }}"), json!({})).await?;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("nested too deep"), "{response}");
        assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        Ok(())
    }

    async fn an_over_complex_query_is_refused_before_it_runs(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let aliases: String = (0..800).map(|i| format!("u{i}: units {{ id name }} ")).collect();
        let response = lead.send(&format!("{{ {aliases} }}"), json!({})).await?;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too complex"), "{message}");
        assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert!(response.get("data").is_none_or(|data| data.is_null()), "nothing ran");
        Ok(())
    }

    async fn an_oversized_body_is_refused(server: empty) {
        let padding = "x".repeat(100 * 1024);
        let response = reqwest::Client::new()
            .post(format!("{}/graphql", server.base_url))
            .json(&json!({ "query": format!("{{ me {{ username }} }} # {padding}") }))
            .send()
            .await?;
        assert_eq!(response.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
        Ok(())
    }
}
