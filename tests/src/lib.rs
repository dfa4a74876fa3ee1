//! The harness of Reserv's black-box tests: a real server started in-process on a free
//! loopback port over a fresh database, and a small GraphQL client that talks to it over
//! HTTP like any other client would.
//!
//! Each test gets its own database: a SQLite file in a temporary folder, or a freshly
//! created PostgreSQL database on the server named by `TEST_DATABASE_URL`, dropped again
//! when the test ends.

use anyhow::{Context, anyhow, bail};
use reserv::server::{RunningServer, open_store, start};
use reserv::{Config, demo};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares tests that run once on SQLite and, when `TEST_DATABASE_URL` is set at build
/// time, once more on PostgreSQL. Each body gets `server`, a fresh [`TestServer`].
#[macro_export]
macro_rules! on_every_database {
    ($(async fn $name:ident($server:ident: $fixture:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    let $server = $crate::TestServer::$fixture($crate::Backend::Sqlite).await?;
                    let outcome: anyhow::Result<()> = async { $body }.await;
                    $server.finish().await?;
                    outcome
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    let $server = $crate::TestServer::$fixture($crate::Backend::Postgres).await?;
                    let outcome: anyhow::Result<()> = async { $body }.await;
                    $server.finish().await?;
                    outcome
                }
            )*
        }
    };
}

/// A running Reserv server with its own database.
pub struct TestServer {
    pub base_url: String,
    pub config: Config,
    running: Option<RunningServer>,
    _folder: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

struct PostgresDatabase {
    admin_url: String,
    name: String,
}

static DATABASE_COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestServer {
    /// A server over an empty database (only the schema).
    pub async fn empty(backend: Backend) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir()?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: folder.path().to_path_buf(),
            log: "warn".into(),
            ..Config::default()
        };
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let database = PostgresDatabase::create().await?;
                config.database_url = Some(database.url()?);
                Some(database)
            }
        };
        let store = open_store(&config).await?;
        let running = start(&config, store).await?;
        Ok(Self {
            base_url: format!("http://{}", running.address),
            config,
            running: Some(running),
            _folder: folder,
            postgres,
        })
    }

    /// A server holding the demo municipality: units, people, systems, a plan for every
    /// unit, accounts for every role and one closed incident.
    pub async fn sample_municipality(backend: Backend) -> anyhow::Result<Self> {
        let server = Self::empty(backend).await?;
        let store = server
            .running
            .as_ref()
            .map(|running| running.store.clone())
            .context("server is not running")?;
        if !demo::load_if_empty(&store).await? {
            bail!("the fresh test database was not empty");
        }
        Ok(server)
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client {
            base_url: self.base_url.clone(),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    /// Signs in as one of the demo accounts, with its demo password.
    pub async fn sign_in_as(&self, username: &str) -> anyhow::Result<Client> {
        let password = demo::demo_logins()?
            .into_iter()
            .find(|login| login.username == username)
            .map(|login| login.password)
            .with_context(|| format!("no demo account '{username}'"))?;
        self.sign_in(username, &password).await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> anyhow::Result<Client> {
        let mut client = self.anonymous();
        let data = client
            .data(
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                json!({ "u": username, "p": password }),
            )
            .await?;
        let token = data["login"]["token"]
            .as_str()
            .context("login returned no token")?;
        client.token = Some(token.to_owned());
        Ok(client)
    }

    /// Runs SQL on the test database directly, to prove what the database itself allows.
    pub async fn execute_sql(&self, sql: &str) -> anyhow::Result<()> {
        let url = match &self.postgres {
            Some(database) => database.url()?,
            None => format!(
                "sqlite://{}",
                self.config.data_dir.join("reserv.db").display()
            ),
        };
        let db = Database::connect(url).await?;
        let outcome = db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|error| anyhow!("{error}"));
        db.close().await?;
        outcome
    }

    /// Stops the server and removes its database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.stop().await?;
        }
        if let Some(database) = self.postgres.take() {
            database.drop_database().await?;
        }
        Ok(())
    }
}

impl PostgresDatabase {
    async fn create() -> anyhow::Result<Self> {
        let admin_url =
            std::env::var("TEST_DATABASE_URL").context("TEST_DATABASE_URL is not set")?;
        let name = format!(
            "reserv_test_{}_{}",
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = Database::connect(&admin_url)
            .await
            .context("cannot reach TEST_DATABASE_URL")?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await?;
        Ok(Self { admin_url, name })
    }

    /// The admin URL with its database replaced by this one.
    fn url(&self) -> anyhow::Result<String> {
        let (without_query, query) = match self.admin_url.split_once('?') {
            Some((url, query)) => (url, format!("?{query}")),
            None => (self.admin_url.as_str(), String::new()),
        };
        let (server, _) = without_query
            .rsplit_once('/')
            .context("TEST_DATABASE_URL has no database name")?;
        Ok(format!("{server}/{}{query}", self.name))
    }

    async fn drop_database(self) -> anyhow::Result<()> {
        let admin = Database::connect(&self.admin_url).await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        admin.close().await?;
        Ok(())
    }
}

/// A GraphQL client, signed in or not.
pub struct Client {
    base_url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a query and returns the whole response body.
    pub async fn send(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.text().await?;
        serde_json::from_str(&body).with_context(|| format!("HTTP {status}: not JSON: {body}"))
    }

    /// Sends a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let response = self.send(query, variables).await?;
        if let Some(errors) = response.get("errors") {
            bail!("the query failed: {errors}");
        }
        Ok(response["data"].clone())
    }

    /// Sends a query that must fail and returns its first error's code and message.
    pub async fn error(&self, query: &str, variables: Value) -> anyhow::Result<(String, String)> {
        let response = self.send(query, variables).await?;
        let error = response["errors"]
            .get(0)
            .with_context(|| format!("the query did not fail: {response}"))?;
        let code = error["extensions"]["code"]
            .as_str()
            .unwrap_or("(no code)")
            .to_owned();
        let message = error["message"].as_str().unwrap_or_default().to_owned();
        Ok((code, message))
    }
}

/// The id of the first item in `list` whose `field` equals `value`.
pub fn id_where(list: &Value, field: &str, value: &str) -> anyhow::Result<String> {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[field] == value))
        .and_then(|item| item["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("nothing with {field} = {value} in {list}"))
}
