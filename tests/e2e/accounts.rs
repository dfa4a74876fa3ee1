//! Account administration and the audit trail every change leaves.

use reserv_tests::{id_where, on_every_database};
use serde_json::{Value, json};

const ACCOUNTS: &str =
    "{ accounts(first: 100) { edges { node { id username disabled roles { role } } } } }";
const SET_DISABLED: &str = "mutation($id: ID!, $disabled: Boolean!) { setAccountDisabled(id: $id, disabled: $disabled) { username disabled } }";

fn account_id(accounts: &Value, username: &str) -> anyhow::Result<String> {
    let nodes: Vec<Value> = accounts["accounts"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| edge["node"].clone())
        .collect();
    id_where(&Value::Array(nodes), "username", username)
}

on_every_database! {
    async fn an_administrator_disables_a_leavers_account_and_its_session_ends_at_once(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let accounts = admin.data(ACCOUNTS, json!({})).await?;
        assert_eq!(accounts["accounts"]["edges"].as_array().map(Vec::len), Some(13));
        let reader = server.sign_in_as("lasare").await?;
        let id = account_id(&accounts, "lasare")?;

        let disabled = admin.data(SET_DISABLED, json!({ "id": id, "disabled": true })).await?;
        assert_eq!(disabled["setAccountDisabled"]["disabled"], true);
        let (code, _) = reader.error("{ me { username } }", json!({})).await?;
        assert_eq!(code, "UNAUTHENTICATED", "the open session ended");
        assert!(server.sign_in_as("lasare").await.is_err(), "a disabled account cannot sign in");

        admin.data(SET_DISABLED, json!({ "id": id, "disabled": false })).await?;
        server.sign_in_as("lasare").await?;
        Ok(())
    }

    async fn an_administrator_cannot_lock_herself_out_and_others_cannot_manage_accounts(server: sample_municipality) {
        let admin = server.sign_in_as("admin").await?;
        let accounts = admin.data(ACCOUNTS, json!({})).await?;
        let own = account_id(&accounts, "admin")?;
        let (code, _) = admin.error(SET_DISABLED, json!({ "id": own, "disabled": true })).await?;
        assert_eq!(code, "CONFLICT");
        let lead = server.sign_in_as("krisledare").await?;
        let (code, _) = lead.error(ACCOUNTS, json!({})).await?;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = lead.error(SET_DISABLED, json!({ "id": own, "disabled": true })).await?;
        assert_eq!(code, "FORBIDDEN");
        let after = admin.data(ACCOUNTS, json!({})).await?;
        assert_eq!(accounts, after, "nothing changed");
        Ok(())
    }

    async fn every_change_and_every_refusal_leaves_an_audit_event(server: sample_municipality) {
        let manager = server.sign_in_as("enhetschef").await?;
        let me = manager.data("{ me { roles { unit { id } } } }", json!({})).await?;
        let unit = me["me"]["roles"][0]["unit"]["id"].clone();
        let created = manager
            .data(
                "mutation($unit: ID!) { createPlan(input: { unitId: $unit, title: \"Plan för värmebölja\" }) { id currentVersion { id } } }",
                json!({ "unit": unit }),
            )
            .await?;
        let plan = created["createPlan"]["id"].as_str().unwrap_or_default().to_owned();
        let version = created["createPlan"]["currentVersion"]["id"].clone();

        let worker = server.sign_in_as("underskoterska").await?;
        let (code, _) = worker
            .error("mutation($id: ID!) { approvePlanVersion(id: $id) { state } }", json!({ "id": version }))
            .await?;
        assert_eq!(code, "FORBIDDEN");

        let admin = server.sign_in_as("admin").await?;
        let trail = admin
            .data(
                "query($id: ID) { auditEvents(objectType: \"plan\", objectId: $id) { edges { node { action actor outcome clientAddress } } } }",
                json!({ "id": plan }),
            )
            .await?;
        let events = &trail["auditEvents"]["edges"];
        assert_eq!(events[0]["node"]["action"], "CREATE");
        assert_eq!(events[0]["node"]["actor"], "enhetschef");
        assert_eq!(events[0]["node"]["outcome"], "SUCCESS");
        assert_eq!(events[0]["node"]["clientAddress"], "127.0.0.1");

        let versions = admin
            .data(
                "query($id: ID) { auditEvents(objectType: \"plan_version\", objectId: $id) { edges { node { action actor outcome } } } }",
                json!({ "id": version }),
            )
            .await?;
        let denied = versions["auditEvents"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|edge| edge["node"]["actor"] == "underskoterska" && edge["node"]["outcome"] == "DENIED");
        assert!(denied, "the refused approval is in the audit trail: {versions}");
        Ok(())
    }
}
