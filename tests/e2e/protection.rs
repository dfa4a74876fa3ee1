//! What a browser gets besides data: security headers, a session cookie that another
//! site cannot ride on, and a schema that strangers cannot read.

use reserv_tests::on_every_database;
use serde_json::json;

async fn me_with_cookie(
    base_url: &str,
    token: &str,
    content_type: &str,
    origin: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let mut request = reqwest::Client::new()
        .post(format!("{base_url}/graphql"))
        .header("cookie", format!("reserv_session={token}"))
        .header("content-type", content_type)
        .body(json!({ "query": "{ me { username } }" }).to_string());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    Ok(request.send().await?.json().await?)
}

on_every_database! {
    async fn every_response_carries_the_security_headers(server: empty) {
        for path in ["/healthz", "/"] {
            let response = reqwest::get(format!("{}{path}", server.base_url)).await?;
            let headers = response.headers();
            let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
            assert_eq!(headers.get("referrer-policy").map(|v| v.as_bytes()), Some(&b"no-referrer"[..]), "{path}");
            assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
        }
        Ok(())
    }

    async fn a_session_cookie_counts_only_from_this_site(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let token = lead.token().unwrap_or_default().to_owned();
        let own_origin = server.base_url.clone();

        let same_site = me_with_cookie(&server.base_url, &token, "application/json", Some(&own_origin)).await?;
        assert_eq!(same_site["data"]["me"]["username"], "krisledare", "{same_site}");

        let other_site = me_with_cookie(&server.base_url, &token, "application/json", Some("https://angripare.example")).await?;
        assert_eq!(other_site["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{other_site}");

        let form_post = me_with_cookie(&server.base_url, &token, "text/plain", None).await?;
        assert_eq!(form_post["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{form_post}");
        Ok(())
    }

    async fn strangers_cannot_read_the_schema_but_signed_in_people_can(server: sample_municipality) {
        let query = "{ __schema { queryType { name } } }";
        // As async-graphql answers with introspection off: the fields are null.
        let anonymous = server.anonymous().send(query, json!({})).await?;
        assert!(anonymous["data"]["__schema"].is_null(), "{anonymous}");
        let type_query = server.anonymous().send("{ __type(name: \"Incident\") { fields { name } } }", json!({})).await?;
        assert!(type_query["data"]["__type"].is_null(), "{type_query}");
        let lead = server.sign_in_as("krisledare").await?;
        let schema = lead.data(query, json!({})).await?;
        assert_eq!(schema["__schema"]["queryType"]["name"], "Query");
        Ok(())
    }
}
