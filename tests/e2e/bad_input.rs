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
        Ok(())
    }

    async fn an_over_complex_query_is_refused_before_it_runs(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let aliases: String = (0..800).map(|i| format!("u{i}: units {{ id name }} ")).collect();
        let response = lead.send(&format!("{{ {aliases} }}"), json!({})).await?;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too complex"), "{message}");
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
