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
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares tests that run once on SQLite and, when `TEST_DATABASE_URL` is set at build
/// time, once more on PostgreSQL. Each body gets `server`, a fresh [`TestServer`].
///
/// Starting the list with `one_thread;` runs the server and client on one thread, for
/// tests that count what a request costs: on several threads a level of batch loads can
/// straddle the loader's short wait when the machine is busy and split in two.
#[macro_export]
macro_rules! on_every_database {
    (one_thread; $($tests:tt)*) => {
        $crate::on_every_database!(@runtime (flavor = "current_thread") $($tests)*);
    };
    (@runtime $runtime:tt $(async fn $name:ident($server:ident: $fixture:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test $runtime]
                async fn $name() -> anyhow::Result<()> {
                    #[allow(unused_mut)]
                    let mut $server = $crate::TestServer::$fixture($crate::Backend::Sqlite).await?;
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
                #[tokio::test $runtime]
                async fn $name() -> anyhow::Result<()> {
                    #[allow(unused_mut)]
                    let mut $server = $crate::TestServer::$fixture($crate::Backend::Postgres).await?;
                    let outcome: anyhow::Result<()> = async { $body }.await;
                    $server.finish().await?;
                    outcome
                }
            )*
        }
    };
    ($($tests:tt)*) => {
        $crate::on_every_database!(@runtime (flavor = "multi_thread", worker_threads = 2) $($tests)*);
    };
}

/// The secret 46elks' delivery reports carry in
/// [`TestServer::sample_municipality_with_46elks_failover`].
pub const ELKS_REPORT_TOKEN: &str = "elks-report-token-0123456789";

/// SMS through a Twilio-compatible provider that no test reaches (the worker is the
/// test's own), with webhooks signed with [`SMS_AUTH_TOKEN`] over [`SMS_PUBLIC_URL`] and
/// the residents' line on [`RESIDENT_NUMBER`].
fn sms_config() -> reserv::sms_config::SmsConfig {
    reserv::sms_config::SmsConfig {
        provider: "twilio".into(),
        base_url: Some("http://127.0.0.1:9".into()),
        account_sid: "AC0123456789abcdef0123456789abcdef".into(),
        auth_token: Some(SMS_AUTH_TOKEN.into()),
        auth_token_file: None,
        senders: vec![STAFF_NUMBER.into()],
        messaging_service_sid: None,
        rate_per_sender: 50.0,
        max_segments: 4,
        public_url: Some(SMS_PUBLIC_URL.into()),
        resident_number: Some(RESIDENT_NUMBER.into()),
        resident_text_without_notice:
            "Inga störningar just nu. Vid fara för liv eller hälsa, ring 112.".into(),
        resident_text_without_notice_en:
            "No disruptions right now. If a life is in danger, call 112.".into(),
        delivery_report_token: None,
        delivery_report_token_file: None,
        failover_after: std::num::NonZeroU32::MIN.saturating_add(2),
        failover_retry_seconds: std::num::NonZeroU32::MIN.saturating_add(59),
        webhook_requests_per_minute: std::num::NonZeroU32::MIN.saturating_add(5_999),
        failover: None,
    }
}

/// A clock that always says the time it was stopped at; see [`TestServer::store_at`].
#[derive(Debug, Clone, Copy)]
pub struct StoppedClock(pub chrono::DateTime<chrono::Utc>);

impl reserv_domain::Clock for StoppedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// SMS through the Twilio-compatible provider at `base_url`, sending from `senders`
/// with no rate limit worth the name, for servers a test runs as processes.
pub fn sms_through(base_url: &str, senders: &[&str]) -> reserv::sms_config::SmsConfig {
    reserv::sms_config::SmsConfig {
        base_url: Some(base_url.to_owned()),
        senders: senders.iter().map(|sender| (*sender).to_owned()).collect(),
        rate_per_sender: 100_000.0,
        ..sms_config()
    }
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

/// The residents' hotline in [`TestServer::a_municipality_with_its_hotline_and_status_page`].
pub const HOTLINE: &str = "0660-88 00 00";
/// The status page's address in the same fixture.
pub const STATUS_URL: &str = "https://status.example.se";

/// The base URL the SMS provider signs in [`TestServer::sample_municipality_with_sms`].
pub const SMS_PUBLIC_URL: &str = "https://reserv.example.se";
/// The provider's auth token there.
pub const SMS_AUTH_TOKEN: &str = "test-auth-token";
/// The staff line's number there.
pub const STAFF_NUMBER: &str = "+46766860001";
/// The residents' information number there.
pub const RESIDENT_NUMBER: &str = "+46766860099";

impl TestServer {
    /// A server over an empty database (only the schema).
    pub async fn empty(backend: Backend) -> anyhow::Result<Self> {
        Self::empty_with(backend, |_| ()).await
    }

    /// A server over an empty database that lets each client address make only three
    /// requests a minute to the public status endpoints.
    pub async fn strict_rate_limits(backend: Backend) -> anyhow::Result<Self> {
        Self::empty_with(backend, |config| {
            config.fallback.requests_per_minute = std::num::NonZeroU32::MIN.saturating_add(2);
        })
        .await
    }

    /// The demo municipality with SMS configured: the provider's webhooks signed with
    /// [`SMS_AUTH_TOKEN`] over [`SMS_PUBLIC_URL`], and the residents' line on
    /// [`RESIDENT_NUMBER`]. No outbox worker runs; a test sends with its own.
    pub async fn sample_municipality_with_sms(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.sms = Some(sms_config());
        })
        .await
    }

    /// The demo municipality with SMS as in [`TestServer::sample_municipality_with_sms`],
    /// and 46elks as the failover provider, so that its delivery reports are taken at
    /// `/sms/status/46elks?token=`[`ELKS_REPORT_TOKEN`].
    pub async fn sample_municipality_with_46elks_failover(
        backend: Backend,
    ) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.sms = Some(reserv::sms_config::SmsConfig {
                delivery_report_token: Some(ELKS_REPORT_TOKEN.into()),
                failover: Some(reserv::sms_config::SmsFailoverConfig {
                    provider: "46elks".into(),
                    base_url: Some("http://127.0.0.1:9".into()),
                    account_sid: "u0123456789abcdef0123456789abcdef".into(),
                    auth_token: Some("elks-test-password".into()),
                    auth_token_file: None,
                    senders: vec![STAFF_NUMBER.into()],
                    messaging_service_sid: None,
                    rate_per_sender: 50.0,
                }),
                ..sms_config()
            });
        })
        .await
    }

    /// The demo municipality with SMS, its webhooks allowing each client address three
    /// requests a minute.
    pub async fn sms_webhooks_allowing_three_requests_a_minute(
        backend: Backend,
    ) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.sms = Some(reserv::sms_config::SmsConfig {
                webhook_requests_per_minute: std::num::NonZeroU32::MIN.saturating_add(2),
                ..sms_config()
            });
        })
        .await
    }

    /// The demo municipality with sign-in locking a client address after three failed
    /// attempts.
    pub async fn an_address_allowed_three_failures(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.login.address_attempts = std::num::NonZeroU32::MIN.saturating_add(2);
        })
        .await
    }

    /// An empty server configured as served over HTTPS (`secure_cookies`).
    pub async fn served_over_https(backend: Backend) -> anyhow::Result<Self> {
        Self::empty_with(backend, |config| config.secure_cookies = true).await
    }

    /// A server over an empty database, with the test's settings changed by `adjust`.
    pub async fn empty_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir()?;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: folder.path().to_path_buf(),
            log: "warn".into(),
            ..Config::default()
        };
        // As `serve --demo`: no second factor required unless a test asks for one.
        config.login.demo_default();
        adjust(&mut config);
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
        Self::sample_municipality_with(backend, |_| ()).await
    }

    /// The demo municipality with the read cache off, so that every request runs its
    /// query: for tests that count what a query costs, which a kept answer would hide.
    pub async fn sample_municipality_without_read_cache(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| config.read_cache.enabled = false).await
    }

    /// The demo municipality with the read cache (`[read_cache] enabled`) turned on.
    pub async fn sample_municipality_with_read_cache(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| config.read_cache.enabled = true).await
    }

    /// The demo municipality with the residents' hotline and the status page's address
    /// configured, so that the messages an activation prepares are filled in whole.
    pub async fn a_municipality_with_its_hotline_and_status_page(
        backend: Backend,
    ) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.messages.hotline = Some(HOTLINE.into());
            config.messages.status_url = Some(STATUS_URL.into());
        })
        .await
    }

    /// The demo municipality in a deployment that lets an editor approve their own plan
    /// draft (`plans.four_eyes = false`).
    pub async fn a_deployment_without_four_eyes(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| config.plans.four_eyes = false).await
    }

    /// The demo municipality, publishing its fallback site to the folder `site` in the
    /// server's data folder.
    pub async fn publishing_to_a_folder(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.fallback.targets = vec![reserv::config::TargetConfig::Dir {
                path: config.data_dir.join("site"),
            }];
        })
        .await
    }

    /// The demo municipality, publishing its fallback site to a folder that cannot be
    /// created (below `/dev/null`), so that every publication fails.
    pub async fn publishing_to_a_broken_target(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.fallback.targets = vec![reserv::config::TargetConfig::Dir {
                path: "/dev/null/site".into(),
            }];
        })
        .await
    }

    /// The demo municipality, publishing its fallback site to an S3 bucket at a free
    /// loopback port where nothing answers yet: the test starts the S3 server there.
    /// The secret key is read from a file, as a deployment would mount it.
    pub async fn publishing_to_s3(backend: Backend) -> anyhow::Result<Self> {
        let port = free_port()?;
        Self::sample_municipality_with(backend, |config| {
            let secret = config.data_dir.join("s3-secret");
            // A failed write shows as a failed publication, which the test reports.
            let _ = std::fs::write(&secret, "testhemlighet\n");
            config.fallback.targets = vec![reserv::config::TargetConfig::S3(
                reserv::config::S3TargetConfig {
                    bucket: "reserv-status".into(),
                    endpoint: Some(format!("http://127.0.0.1:{port}")),
                    prefix: "kris".into(),
                    region: Some("eu-north-1".into()),
                    access_key_id: Some("reserv".into()),
                    secret_access_key: None,
                    secret_access_key_file: Some(secret),
                },
            )];
        })
        .await
    }

    /// The demo municipality, publishing through a shell command that copies the site
    /// to the folder `copied` in the server's data folder, as rsync would to a host.
    pub async fn publishing_through_a_command(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            let copied = config.data_dir.join("copied");
            config.fallback.targets = vec![reserv::config::TargetConfig::Command {
                program: "sh".into(),
                args: vec![
                    "-c".into(),
                    "rm -rf \"$1\" && cp -r \"$RESERV_SITE_DIR\" \"$1\"".into(),
                    "publish".into(),
                    copied.display().to_string(),
                ],
                timeout_seconds: std::num::NonZeroU32::MIN.saturating_add(29),
            }];
        })
        .await
    }

    /// The demo municipality, publishing through a command that always fails with a
    /// message on its error output.
    pub async fn publishing_through_a_failing_command(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.fallback.targets = vec![reserv::config::TargetConfig::Command {
                program: "sh".into(),
                args: vec![
                    "-c".into(),
                    "echo 'webbservern svarar inte' >&2; exit 3".into(),
                ],
                timeout_seconds: std::num::NonZeroU32::MIN.saturating_add(29),
            }];
        })
        .await
    }

    /// The demo municipality with SMS configured through two sender numbers at one
    /// segment a second each, texts of at most two segments, and no outbox worker
    /// running, so that every text stays queued for the test to count.
    pub async fn sending_sms_from_two_numbers(backend: Backend) -> anyhow::Result<Self> {
        Self::sample_municipality_with(backend, |config| {
            config.sms = Some(reserv::sms_config::SmsConfig {
                account_sid: "ACtest".into(),
                auth_token: Some("testtoken".into()),
                senders: vec!["070-174 06 80".into(), "+46 70 174 06 81".into()],
                rate_per_sender: 1.0,
                max_segments: 2,
                public_url: None,
                resident_number: None,
                resident_text_without_notice: "Inga störningar just nu.".into(),
                resident_text_without_notice_en: "No disruptions right now.".into(),
                ..sms_config()
            });
        })
        .await
    }

    /// The demo municipality, with the test's settings changed by `adjust`.
    pub async fn sample_municipality_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let server = Self::empty_with(backend, adjust).await?;
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

    /// The server's store reading the time from a clock stopped at `at`: the background
    /// work a test runs through it (the escalation pass, the outbox worker) sees that
    /// time, so that a test moves time forward instead of sleeping.
    pub fn store_at(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<reserv_store::Store> {
        Ok(self
            .store()?
            .with_clock(std::sync::Arc::new(StoppedClock(at))))
    }

    /// The server's store, for checks a client cannot make (walking the audit chain).
    pub fn store(&self) -> anyhow::Result<reserv_store::Store> {
        self.running
            .as_ref()
            .map(|running| running.store.clone())
            .context("server is not running")
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
        self.anonymous().sign_in(username, password).await
    }

    /// Runs SQL on the test database directly, to prove what the database itself allows.
    pub async fn execute_sql(&self, sql: &str) -> anyhow::Result<()> {
        let db = Database::connect(self.database_url()?).await?;
        let outcome = db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|error| anyhow!("{error}"));
        db.close().await?;
        outcome
    }

    /// The first column of every row `sql` selects, as text: what the database holds,
    /// as someone with a dump of it would see it.
    pub async fn select_text(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        let db = Database::connect(self.database_url()?).await?;
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await;
        db.close().await?;
        rows?
            .iter()
            .map(|row| {
                row.try_get_by_index::<String>(0)
                    .map_err(|error| anyhow!("{error}"))
            })
            .collect()
    }

    fn database_url(&self) -> anyhow::Result<String> {
        Ok(match &self.postgres {
            Some(database) => database.url()?,
            None => format!(
                "sqlite://{}",
                self.config.data_dir.join("reserv.db").display()
            ),
        })
    }

    /// Starts the server again over the same database and data folder, on a new port,
    /// with the settings changed by `adjust`: a restart, or an upgrade.
    pub async fn restart_server(&mut self, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<()> {
        self.stop_server().await?;
        adjust(&mut self.config);
        let store = open_store(&self.config).await?;
        let running = start(&self.config, store).await?;
        self.base_url = format!("http://{}", running.address);
        self.running = Some(running);
        Ok(())
    }

    /// Stops the Reserv server and keeps its database, as when the server is gone and
    /// only the fallback site answers.
    pub async fn stop_server(&mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.stop().await?;
        }
        Ok(())
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
    /// A client without a session for the server at `base_url`.
    pub fn anonymous_at(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    /// This client signed in with `username` and `password`.
    pub async fn sign_in(mut self, username: &str, password: &str) -> anyhow::Result<Self> {
        let data = self
            .data(
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                json!({ "u": username, "p": password }),
            )
            .await?;
        let token = data["login"]["token"]
            .as_str()
            .context("login returned no token")?;
        self.token = Some(token.to_owned());
        Ok(self)
    }

    /// This client signed in as one of the demo accounts, with its demo password.
    pub async fn sign_in_as(self, username: &str) -> anyhow::Result<Self> {
        let password = demo::demo_logins()?
            .into_iter()
            .find(|login| login.username == username)
            .map(|login| login.password)
            .with_context(|| format!("no demo account '{username}'"))?;
        self.sign_in(username, &password).await
    }

    /// The same client sending `token` from now on (a session opened by hand).
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

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

/// A loopback port that was free a moment ago, for a helper server a test starts.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The id of the first item in `list` whose `field` equals `value`.
pub fn id_where(list: &Value, field: &str, value: &str) -> anyhow::Result<String> {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[field] == value))
        .and_then(|item| item["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("nothing with {field} = {value} in {list}"))
}

/// How long a test waits for a message on a WebSocket before it fails.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

impl Client {
    /// Opens a subscription socket signed in with this client's session token, given in
    /// the connection_init payload as clients that cannot send cookies do.
    pub async fn socket(&self) -> anyhow::Result<Socket> {
        let payload = match &self.token {
            Some(token) => json!({ "token": token }),
            None => json!({}),
        };
        Socket::connect(&self.base_url, payload, None).await
    }

    /// Opens a subscription socket that carries this client's session in the session
    /// cookie, as a browser does, with an empty connection_init payload.
    pub async fn socket_with_cookie(&self) -> anyhow::Result<Socket> {
        let token = self
            .token
            .as_deref()
            .context("the client is not signed in")?;
        Socket::connect(&self.base_url, json!({}), Some(token)).await
    }
}

type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `/graphql/ws` speaking graphql-transport-ws, past `connection_ack`.
/// Every wait for the server is bounded by [`SOCKET_TIMEOUT`].
pub struct Socket {
    stream: WebSocket,
}

impl Socket {
    /// Connects to the server at `base_url`, sends `connection_init` with `payload` and
    /// waits for `connection_ack`. With `cookie`, the upgrade request carries it as the
    /// session cookie.
    pub async fn connect(
        base_url: &str,
        payload: Value,
        cookie: Option<&str>,
    ) -> anyhow::Result<Self> {
        let url = format!("{}/graphql/ws", base_url.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        if let Some(token) = cookie {
            request.headers_mut().insert(
                "Cookie",
                HeaderValue::from_str(&format!("reserv_session={token}"))?,
            );
        }
        let (stream, response) =
            tokio::time::timeout(SOCKET_TIMEOUT, tokio_tungstenite::connect_async(request))
                .await
                .context("no WebSocket handshake in time")??;
        let protocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|value| value.to_str().ok());
        if protocol != Some("graphql-transport-ws") {
            bail!("the server chose the subprotocol {protocol:?}");
        }
        let mut socket = Self { stream };
        socket
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await?;
        let ack = socket.receive().await?;
        if ack["type"] != "connection_ack" {
            bail!("expected connection_ack, got {ack}");
        }
        Ok(socket)
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: Value) -> anyhow::Result<()> {
        use futures_util::SinkExt;
        self.stream.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// Starts the subscription `id`.
    pub async fn subscribe(
        &mut self,
        id: &str,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<()> {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await
    }

    /// Ends the subscription `id` from the client's side.
    pub async fn complete(&mut self, id: &str) -> anyhow::Result<()> {
        self.send(json!({ "id": id, "type": "complete" })).await
    }

    /// The next protocol message from the server, answering pings on the way. Fails when
    /// nothing arrives in time or the server closes the socket.
    pub async fn receive(&mut self) -> anyhow::Result<Value> {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(SOCKET_TIMEOUT, self.stream.next())
                .await
                .context("no message from the server in time")?
                .context("the server closed the socket")??;
            let message: Value = match frame {
                Message::Text(text) => serde_json::from_str(text.as_str())
                    .with_context(|| format!("not JSON: {}", text.as_str()))?,
                Message::Close(frame) => bail!("the server closed the socket: {frame:?}"),
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                    continue;
                }
            };
            if message["type"] == "ping" {
                self.send(json!({ "type": "pong" })).await?;
                continue;
            }
            return Ok(message);
        }
    }

    /// The payload of the next `next` message of subscription `id`: a GraphQL response
    /// with `data` or `errors`. Fails when the subscription ends first.
    pub async fn next(&mut self, id: &str) -> anyhow::Result<Value> {
        let message = self.receive().await?;
        if message["id"] != id {
            bail!("expected a message for subscription {id}, got {message}");
        }
        match message["type"].as_str() {
            Some("next") => Ok(message["payload"].clone()),
            _ => bail!("subscription {id} sent no event but {message}"),
        }
    }

    /// The `data` of the next event of subscription `id`, which must carry no errors.
    pub async fn next_data(&mut self, id: &str) -> anyhow::Result<Value> {
        let payload = self.next(id).await?;
        if let Some(errors) = payload.get("errors") {
            bail!("subscription {id} sent errors: {errors}");
        }
        Ok(payload["data"].clone())
    }

    /// Waits for the server to end subscription `id` with `complete`.
    pub async fn completed(&mut self, id: &str) -> anyhow::Result<()> {
        let message = self.receive().await?;
        if message["id"] != id || message["type"] != "complete" {
            bail!("expected subscription {id} to complete, got {message}");
        }
        Ok(())
    }

    /// The first event of subscription `id`, while `poke` is repeated to cause one. The
    /// protocol has no acknowledgement of a subscription, so a test cannot otherwise know
    /// when the server listens; once this returns, it does.
    pub async fn first_event_while<F, Fut>(
        &mut self,
        id: &str,
        mut poke: F,
    ) -> anyhow::Result<Value>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let mut next = std::pin::pin!(self.next(id));
        loop {
            tokio::select! {
                event = &mut next => return event,
                poked = poke() => poked?,
            }
        }
    }

    /// Closes the socket politely.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.stream.close(None).await?;
        Ok(())
    }
}

/// A database for servers a test runs as processes of their own ([`ServerProcess`]):
/// a data folder with its SQLite file, or a fresh PostgreSQL database as in
/// [`TestServer`], dropped by [`ProcessDatabase::finish`].
pub struct ProcessDatabase {
    folder: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

impl ProcessDatabase {
    /// A fresh database, migrated and holding the demo municipality.
    pub async fn with_sample_municipality(backend: Backend) -> anyhow::Result<Self> {
        let database = Self {
            folder: tempfile::tempdir()?,
            postgres: match backend {
                Backend::Sqlite => None,
                Backend::Postgres => Some(PostgresDatabase::create().await?),
            },
        };
        let store = database.open_store().await?;
        if !demo::load_if_empty(&store).await? {
            bail!("the fresh test database was not empty");
        }
        drop(store);
        Ok(database)
    }

    /// The settings a server over this database starts with, listening on `listen`,
    /// with each process's data in a folder named `process` of the database's folder.
    pub fn config(&self, process: &str, listen: std::net::SocketAddr) -> anyhow::Result<Config> {
        let data_dir = self.folder.path().join(process);
        std::fs::create_dir_all(&data_dir)?;
        Ok(Config {
            listen,
            data_dir,
            database_url: Some(self.url()?),
            log: "warn".into(),
            // One key for every process, as servers sharing a database must have.
            secret_key: Some("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=".into()),
            ..Config::default()
        })
    }

    /// The first column of every row `sql` selects, as text.
    pub async fn select_text(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        let db = Database::connect(self.url()?).await?;
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await;
        db.close().await?;
        rows?
            .iter()
            .map(|row| {
                row.try_get_by_index::<String>(0)
                    .map_err(|error| anyhow!("{error}"))
            })
            .collect()
    }

    /// The store over this database, as the test process opens it alongside the servers.
    pub async fn open_store(&self) -> anyhow::Result<reserv_store::Store> {
        open_store(&self.config("test", "127.0.0.1:0".parse()?)?).await
    }

    fn url(&self) -> anyhow::Result<String> {
        Ok(match &self.postgres {
            Some(database) => database.url()?,
            None => format!(
                "sqlite://{}?mode=rwc",
                self.folder.path().join("reserv.db").display()
            ),
        })
    }

    /// Removes the database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(database) = self.postgres.take() {
            database.drop_database().await?;
        }
        Ok(())
    }
}

/// The `reserv` binary cargo built next to this test binary (`cargo test --workspace`
/// builds it for the server's own tests; `cargo build -p reserv` does alone).
fn reserv_binary() -> anyhow::Result<PathBuf> {
    let test_binary = std::env::current_exe()?;
    // target/debug/deps/e2e-<hash> → target/debug/reserv
    let binary = test_binary
        .parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("reserv"))
        .context("cannot tell the target folder from the test binary's path")?;
    if !binary.is_file() {
        bail!(
            "{} does not exist: build the server first with `cargo build -p reserv` (same CARGO_TARGET_DIR and profile as the tests)",
            binary.display()
        );
    }
    Ok(binary)
}

/// The real `reserv serve` running as a child process, which a test can kill with
/// SIGKILL as a power cut or the OOM killer would. Killed when dropped.
pub struct ServerProcess {
    pub base_url: String,
    child: std::process::Child,
}

impl ServerProcess {
    /// Starts `reserv serve --demo` with `config` (written to a TOML file in its data
    /// folder) and waits until it answers `/healthz`.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let config_file = config.data_dir.join("reserv.toml");
        std::fs::write(&config_file, toml::to_string(config)?)?;
        let child = std::process::Command::new(reserv_binary()?)
            .arg("--config")
            .arg(&config_file)
            .args(["serve", "--demo"])
            .env_remove("DATABASE_URL")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("cannot start the reserv binary")?;
        let mut server = Self {
            base_url: format!("http://{}", config.listen),
            child,
        };
        let health = format!("{}/healthz", server.base_url);
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("reserv serve exited at start with {status}; its log is above");
            }
            if http
                .get(&health)
                .send()
                .await
                .is_ok_and(|response| response.status().is_success())
            {
                return Ok(server);
            }
            if std::time::Instant::now() > deadline {
                bail!("reserv serve did not answer {health} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no flushing, no lease released.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A test that failed half-way must not leave a server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
