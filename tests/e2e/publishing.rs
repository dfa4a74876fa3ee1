//! Publishing the fallback site: a notice written over GraphQL reaches the configured
//! folder within seconds, and how each target is doing shows in `fallbackPublishStatus`.

use reserv_tests::{Client, on_every_database};
use serde_json::{Value, json};
use std::time::Duration;

const STATUS: &str = "{ fallbackPublishStatus { target lastSuccess lastFailure lastError } }";

/// Polls `check` every 100 ms for up to 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    for _ in 0..150 {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what} did not happen within 15 seconds")
}

async fn status(client: &Client) -> anyhow::Result<Value> {
    Ok(client.data(STATUS, json!({})).await?["fallbackPublishStatus"][0].clone())
}

on_every_database! {
    async fn a_new_notice_reaches_the_folder_within_seconds(server: publishing_to_a_folder) {
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(
                "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }",
                json!({ "input": {
                    "confidentiality": 0,
                    "headline": { "sv": "Vattenläcka på Solgården" },
                    "body": { "sv": "Boendet har vatten igen från kl. 14." }
                } }),
            )
            .await?;
        let index = server.config.data_dir.join("site/index.html");
        eventually("publishing the notice", || async {
            Ok(std::fs::read_to_string(&index).unwrap_or_default().contains("Vattenläcka på Solgården"))
        })
        .await?;
        let published = status(&communicator).await?;
        assert!(published["target"].as_str().unwrap_or_default().starts_with("dir "), "{published}");
        assert!(published["lastSuccess"].is_string(), "{published}");
        assert!(published["lastError"].is_null(), "{published}");
        let (code, _) = server.sign_in_as("lasare").await?.error(STATUS, json!({})).await?;
        assert_eq!(code, "FORBIDDEN", "viewers do not see the publishing status");
        Ok(())
    }

    async fn a_failing_target_is_retried_and_reported(server: publishing_to_a_broken_target) {
        let communicator = server.sign_in_as("kommunikator").await?;
        eventually("a recorded failure", || async {
            Ok(status(&communicator).await?["lastError"].is_string())
        })
        .await?;
        let failed = status(&communicator).await?;
        assert!(failed["lastSuccess"].is_null(), "{failed}");
        assert!(failed["lastError"].as_str().unwrap_or_default().contains("/dev/null"), "{failed}");
        let (status, _) = (reqwest::get(format!("{}/status", server.base_url)).await?.status(), ());
        assert_eq!(status, reqwest::StatusCode::OK, "the live page does not wait for publishing");
        Ok(())
    }
}
