//! Sessions after sign-in: guessing slowed down and then locked out with a time to retry,
//! sessions listed and revoked one by one or all at once, and open subscriptions ended
//! with the session they signed in with.

use reserv_tests::{Client, TestServer, on_every_database};
use serde_json::{Value, json};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const SESSIONS: &str = "query($account: ID) { sessions(accountId: $account) { id current clientAddress createdAt lastSeenAt idleUntil expiresAt } }";

async fn failed_login(server: &TestServer, username: &str) -> anyhow::Result<Value> {
    server
        .anonymous()
        .send(LOGIN, json!({ "u": username, "p": "fel-lösenord-1234" }))
        .await
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn current_session_id(client: &Client) -> anyhow::Result<String> {
    let sessions = client.data(SESSIONS, json!({})).await?;
    let current = sessions["sessions"]
        .as_array()
        .and_then(|sessions| sessions.iter().find(|session| session["current"] == true))
        .and_then(|session| session["id"].as_str())
        .map(str::to_owned);
    current.ok_or_else(|| anyhow::anyhow!("no current session in {sessions}"))
}

async fn account_id(admin: &Client, username: &str) -> anyhow::Result<String> {
    let accounts = admin
        .data(
            "{ accounts(first: 100) { edges { node { id username } } } }",
            json!({}),
        )
        .await?;
    let nodes: Vec<Value> = accounts["accounts"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect();
    reserv_tests::id_where(&Value::Array(nodes), "username", username)
}

async fn denied_sign_ins(server: &TestServer) -> anyhow::Result<Vec<Value>> {
    let admin = server.sign_in_as("admin").await?;
    let events = admin
        .data(
            "{ auditEvents(objectType: \"account\", action: SIGN_IN, outcome: DENIED, first: 200) { edges { node { actor detail } } } }",
            json!({}),
        )
        .await?;
    Ok(events["auditEvents"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect())
}

on_every_database! {
    async fn five_wrong_passwords_lock_the_account_and_the_error_says_when_to_retry(server: sample_municipality) {
        for attempt in 1..=5 {
            let response = failed_login(&server, "krisledare").await?;
            assert_eq!(code(&response), "UNAUTHENTICATED", "attempt {attempt}: {response}");
        }
        // Now even the right password is refused, before it is checked.
        let locked = server
            .anonymous()
            .send(LOGIN, json!({ "u": "krisledare", "p": "Demo-krisledare-2026" }))
            .await?;
        assert_eq!(code(&locked), "TOO_MANY_ATTEMPTS", "{locked}");
        let retry = locked["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap_or_default();
        assert!((1..=300).contains(&retry), "retry after {retry} s: {locked}");
        let message = locked["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("För många misslyckade inloggningar") && message.contains(&format!("{retry} s")), "{message}");
        assert!(locked["data"].is_null() || locked["data"]["login"].is_null(), "{locked}");

        // Another person at the same address still signs in.
        server.sign_in_as("kommunikator").await?;
        let denied = denied_sign_ins(&server).await?;
        assert_eq!(denied.len(), 6, "five failures and the locked attempt: {denied:?}");
        assert!(denied.iter().any(|event| event["detail"].as_str().is_some_and(|d| d.contains("locked until"))), "{denied:?}");
        assert!(denied.iter().any(|event| event["detail"] == "refused: too many failed sign-ins"), "{denied:?}");
        Ok(())
    }

    async fn one_address_guessing_many_usernames_is_locked_out(server: an_address_allowed_three_failures) {
        for username in ["anna", "berit", "cecilia"] {
            let response = failed_login(&server, username).await?;
            assert_eq!(code(&response), "UNAUTHENTICATED", "{response}");
        }
        let locked = server
            .anonymous()
            .send(LOGIN, json!({ "u": "kommunikator", "p": "Demo-kommunikator-2026" }))
            .await?;
        assert_eq!(code(&locked), "TOO_MANY_ATTEMPTS", "{locked}");
        assert!(locked["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().is_some_and(|s| s > 0), "{locked}");
        Ok(())
    }

    async fn a_person_lists_her_sessions_and_revokes_one_or_all(server: sample_municipality) {
        let phone = server.sign_in_as("krisledare").await?;
        let laptop = server.sign_in_as("krisledare").await?;
        let sessions = laptop.data(SESSIONS, json!({})).await?;
        let list = sessions["sessions"].as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 2, "{sessions}");
        assert_eq!(list.iter().filter(|session| session["current"] == true).count(), 1);
        assert_eq!(list[0]["clientAddress"], "127.0.0.1");
        assert!(list[0]["idleUntil"].as_str() <= list[0]["expiresAt"].as_str());

        let phone_session = current_session_id(&phone).await?;
        laptop.data("mutation($id: ID!) { revokeSession(id: $id) }", json!({ "id": phone_session })).await?;
        let (code, _) = phone.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED", "the revoked phone is signed out");
        laptop.data("{ me { username } }", json!({})).await?;

        // Someone else's session is not another person's to end, or to know of.
        let other = server.sign_in_as("kommunikator").await?;
        let laptop_session = current_session_id(&laptop).await?;
        let (code, _) = other.error("mutation($id: ID!) { revokeSession(id: $id) }", json!({ "id": laptop_session })).await?;
        assert_eq!(code, "NOT_FOUND");

        let ended = laptop.data("mutation { revokeSessions }", json!({})).await?;
        assert_eq!(ended["revokeSessions"], 1);
        let (code, _) = laptop.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");

        let admin = server.sign_in_as("admin").await?;
        let events = admin
            .data("{ auditEvents(objectType: \"session\", first: 50) { edges { node { action outcome actor } } } }", json!({}))
            .await?;
        let actions: Vec<(String, String)> = events["auditEvents"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|edge| (edge["node"]["action"].as_str().unwrap_or_default().to_owned(), edge["node"]["outcome"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(
            actions,
            [("REVOKE".into(), "SUCCESS".into()), ("REVOKE".into(), "FAILED".into()), ("REVOKE_ALL".into(), "SUCCESS".into())],
            "{events}"
        );
        Ok(())
    }

    async fn an_administrator_signs_a_person_out_everywhere(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let admin = server.sign_in_as("admin").await?;
        let account = account_id(&admin, "underskoterska").await?;
        let listed = admin.data(SESSIONS, json!({ "account": account })).await?;
        assert_eq!(listed["sessions"].as_array().map(Vec::len), Some(1), "{listed}");
        let (code, _) = worker.error(SESSIONS, json!({ "account": "1" })).await?;
        assert_eq!(code, "FORBIDDEN", "only administrators see other people's sessions");
        let ended = admin.data("mutation($a: ID!) { revokeSessions(accountId: $a) }", json!({ "a": account })).await?;
        assert_eq!(ended["revokeSessions"], 1);
        let (code, _) = worker.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED");
        Ok(())
    }

    async fn an_open_subscription_ends_when_its_session_is_revoked(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let mut socket = lead.socket().await?;
        socket.subscribe("1", "subscription { incidentsChanged { kind } }", json!({})).await?;
        lead.data("mutation { revokeSessions }", json!({})).await?;
        let closed = socket.receive().await.err().map(|error| format!("{error:#}")).unwrap_or_default();
        assert!(closed.contains("closed the socket") && closed.contains("4401"), "{closed}");
        Ok(())
    }

    async fn an_open_subscription_ends_when_the_account_is_disabled(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let mut socket = worker.socket_with_cookie().await?;
        socket.subscribe("1", "subscription { incidentsChanged { kind } }", json!({})).await?;
        let admin = server.sign_in_as("admin").await?;
        let account = account_id(&admin, "underskoterska").await?;
        admin.data("mutation($id: ID!) { setAccountDisabled(id: $id, disabled: true) { disabled } }", json!({ "id": account })).await?;
        let closed = socket.receive().await.err().map(|error| format!("{error:#}")).unwrap_or_default();
        assert!(closed.contains("closed the socket") && closed.contains("4401"), "{closed}");
        Ok(())
    }

    async fn hsts_is_sent_when_reserv_is_served_over_https(server: served_over_https) {
        let response = reqwest::get(format!("{}/healthz", server.base_url)).await?;
        let hsts = response.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(hsts.starts_with("max-age="), "{hsts}");
        Ok(())
    }
}
