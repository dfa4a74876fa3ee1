//! Signing in and out, sessions and the cookie the PWA relies on.

use reserv_tests::on_every_database;
use serde_json::json;

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt me { username roles { role unit { name } } } } }";

on_every_database! {
    async fn a_care_worker_signs_in_and_sees_her_role_and_unit(server: sample_municipality) {
        let client = server.sign_in_as("underskoterska").await?;
        let me = client.data("{ me { username person { name } roles { role unit { name } } } }", json!({})).await?;
        assert_eq!(me["me"]["username"], "underskoterska");
        assert_eq!(me["me"]["roles"][0]["role"], "CARE_WORKER");
        assert_eq!(me["me"]["roles"][0]["unit"]["name"], "Hemtjänst Norr – centrala Norrbyn");
        assert!(me["me"]["person"]["name"].as_str().is_some_and(|name| !name.is_empty()));
        Ok(())
    }

    async fn a_wrong_password_is_refused_and_audited(server: sample_municipality) {
        let anonymous = server.anonymous();
        let (code, message) = anonymous.error(LOGIN, json!({ "u": "krisledare", "p": "fel-lösenord-123" })).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        assert_eq!(message, "Wrong username or password");
        let (code, _) = anonymous.error(LOGIN, json!({ "u": "finns-inte", "p": "fel-lösenord-123" })).await?;
        assert_eq!(code, "UNAUTHENTICATED");

        let admin = server.sign_in_as("admin").await?;
        let events = admin
            .data("{ auditEvents(objectType: \"account\", first: 200) { edges { node { action outcome actor } } } }", json!({}))
            .await?;
        let denied: Vec<_> = events["auditEvents"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|edge| edge["node"]["action"] == "SIGN_IN" && edge["node"]["outcome"] == "DENIED")
            .collect();
        assert_eq!(denied.len(), 2, "both failed sign-ins are in the audit log");
        Ok(())
    }

    async fn without_a_session_nothing_is_readable(server: sample_municipality) {
        let (code, _) = server.anonymous().error("{ units { name } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn logout_ends_the_session(server: sample_municipality) {
        let client = server.sign_in_as("krisledare").await?;
        client.data("mutation { logout }", json!({})).await?;
        let (code, _) = client.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn login_sets_an_http_only_strict_cookie_that_signs_in(server: sample_municipality) {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/graphql", server.base_url))
            .json(&json!({ "query": LOGIN, "variables": { "u": "kommunikator", "p": "Demo-kommunikator-2026" } }))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default();
        assert!(cookie.starts_with("reserv_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let session = cookie.split(';').next().unwrap_or_default().to_owned();
        let me: serde_json::Value = http
            .post(format!("{}/graphql", server.base_url))
            .header("cookie", session)
            .json(&json!({ "query": "{ me { username } }" }))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(me["data"]["me"]["username"], "kommunikator");
        Ok(())
    }

    async fn a_cookie_session_is_handed_to_an_app_that_sends_bearer_tokens(server: sample_municipality) {
        // As after a sign-in at the identity provider: the browser holds only the cookie.
        let token = server.sign_in_as("kommunikator").await?.token().unwrap_or_default().to_owned();
        let http = reqwest::Client::new();
        let resume = "mutation { resumeSession { token expiresAt me { username factors mustEnrolSecondFactor } } }";
        let answer: serde_json::Value = http
            .post(format!("{}/graphql", server.base_url))
            .header("cookie", format!("reserv_session={token}"))
            .json(&json!({ "query": resume }))
            .send()
            .await?
            .json()
            .await?;
        let session = &answer["data"]["resumeSession"];
        assert_eq!(session["token"], token.as_str(), "{answer}");
        assert_eq!(session["me"]["username"], "kommunikator", "{answer}");
        assert_eq!(session["me"]["factors"], json!(["PASSWORD"]), "{answer}");
        let expires_at = session["expiresAt"].as_str().unwrap_or_default();
        let listed = server.anonymous().with_token(&token).data("{ sessions { current expiresAt } }", json!({})).await?;
        assert!(listed["sessions"].as_array().into_iter().flatten()
            .any(|s| s["current"] == true && s["expiresAt"] == expires_at), "the session's own end: {listed}");
        // Without a session there is nothing to hand over.
        let (code, _) = server.anonymous().error(resume, json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn health_answers_with_the_database_state(server: empty) {
        let health: serde_json::Value = reqwest::get(format!("{}/healthz", server.base_url)).await?.json().await?;
        assert_eq!(health, json!({ "status": "ok", "database": "ok" }));
        let graphiql = reqwest::get(format!("{}/graphql", server.base_url)).await?.text().await?;
        assert!(graphiql.contains("graphiql"), "GET /graphql serves GraphiQL");
        // `/` is the PWA, or, in a build without it (RESERV_PWA_BUILD=skip), a page that
        // says how to build it.
        let front = reqwest::get(&server.base_url).await?;
        let built = front.status().is_success();
        let front = front.text().await?;
        assert!(front.contains("lang=\"sv\""), "{front}");
        if built {
            assert!(front.contains("rel=\"manifest\""), "{front}");
        } else {
            assert!(front.contains("npm run build"), "{front}");
        }
        Ok(())
    }
}
