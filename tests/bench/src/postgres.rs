//! A database of its own on the PostgreSQL server of `TEST_DATABASE_URL`, for one run.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};

pub async fn fresh_postgres(admin_url: &str) -> anyhow::Result<(String, String)> {
    let name = format!("reserv_bench_{}", std::process::id());
    let admin = Database::connect(admin_url)
        .await
        .context("TEST_DATABASE_URL")?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    let (server, _) = admin_url
        .rsplit_once('/')
        .context("TEST_DATABASE_URL has no database name")?;
    Ok((format!("{server}/{name}"), name))
}

pub async fn drop_postgres(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin.close().await?;
    Ok(())
}
