//! The places the static site is published to, and how a built site reaches each:
//! a local folder replaced whole, an S3-compatible bucket, or a command the operator
//! names (rsync or scp to another host) run over a freshly written copy of the site.

use crate::site::{SiteFile, write_site};
use crate::{FallbackError, Result};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, ObjectStore, PutOptions,
    RetryConfig,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the site is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local folder (often a mount of other hosting), replaced whole.
    Dir(PathBuf),
    /// A bucket of any S3-compatible service.
    S3(S3Target),
    /// A program run with the path of a complete copy of the site.
    Command(CommandTarget),
}

/// A bucket and the prefix the site's files are written under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    /// The service's URL; `None` is Amazon S3 itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    /// Prepended to every file name, without a trailing slash; empty for the bucket root.
    pub prefix: String,
    /// `None` takes `AWS_DEFAULT_REGION` or the client's default.
    pub region: Option<String>,
    /// `None` takes the usual `AWS_*` variables.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
}

/// A secret that never shows in debug output or logs.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(hidden)")
    }
}

/// A command run once per publication. Every argument `{site}` is replaced with the
/// folder holding the site; the same path is in `RESERV_SITE_DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTarget {
    pub program: String,
    pub args: Vec<String>,
    /// A command still running after this long is killed and counts as failed.
    pub timeout: Duration,
}

/// How long one request to a bucket may take before the attempt fails; the publisher
/// retries the whole publication itself.
const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a published file may be served from a cache: residents should see a new
/// notice within a minute.
const CACHE_CONTROL: &str = "public, max-age=60";

/// How much of a failed command's error output the status report keeps.
const COMMAND_OUTPUT_KEPT: usize = 400;

impl Target {
    /// The target as the status report names it; never shows a secret.
    pub fn describe(&self) -> String {
        match self {
            Target::Dir(path) => format!("dir {}", path.display()),
            Target::S3(s3) => format!(
                "s3 {}/{} at {}",
                s3.bucket,
                s3.prefix,
                s3.endpoint.as_deref().unwrap_or("Amazon S3")
            ),
            Target::Command(command) => format!("command {}", command.program),
        }
    }

    /// Delivers a built site to this target.
    pub(crate) async fn deliver(&self, files: Vec<SiteFile>) -> Result<()> {
        match self {
            Target::Dir(path) => in_folder(path.clone(), files).await,
            Target::S3(s3) => to_bucket(s3, files).await,
            Target::Command(command) => through_command(command, files).await,
        }
    }
}

/// Writes the site into `out`, off the async workers (file writes block).
pub(crate) async fn in_folder(out: PathBuf, files: Vec<SiteFile>) -> Result<()> {
    tokio::task::spawn_blocking(move || write_site(&out, &files))
        .await
        .map_err(|error| FallbackError::Io(format!("the site writer stopped: {error}")))?
}

async fn to_bucket(target: &S3Target, mut files: Vec<SiteFile>) -> Result<()> {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&target.bucket)
        .with_client_options(
            ClientOptions::new()
                .with_timeout(S3_REQUEST_TIMEOUT)
                .with_connect_timeout(S3_CONNECT_TIMEOUT),
        )
        // One quick retry of a request; the publisher retries the whole site after that.
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 1,
            retry_timeout: S3_REQUEST_TIMEOUT,
        });
    if let Some(endpoint) = &target.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(region) = &target.region {
        builder = builder.with_region(region);
    }
    if let Some(key) = &target.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &target.secret_access_key {
        builder = builder.with_secret_access_key(&secret.0);
    }
    let bucket = builder.build().map_err(|error| {
        FallbackError::Publish(format!(
            "the S3 target {} is not usable: {error}",
            target.bucket
        ))
    })?;
    // The Swedish front page goes last, so that a reader who sees it new finds the rest new.
    files.sort_by_key(|file| file.name == "index.html");
    for file in files {
        let name = if target.prefix.is_empty() {
            file.name.to_owned()
        } else {
            format!("{}/{}", target.prefix, file.name)
        };
        let attributes = Attributes::from_iter([
            (
                Attribute::ContentType,
                AttributeValue::from(content_type(file.name)),
            ),
            (Attribute::CacheControl, AttributeValue::from(CACHE_CONTROL)),
        ]);
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        bucket
            .put_opts(
                &ObjectPath::from(name.as_str()),
                file.contents.into(),
                options,
            )
            .await
            .map_err(|error| {
                FallbackError::Publish(format!(
                    "could not write {name} to bucket {}: {error}",
                    target.bucket
                ))
            })?;
    }
    Ok(())
}

fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

async fn through_command(target: &CommandTarget, files: Vec<SiteFile>) -> Result<()> {
    let scratch = std::env::temp_dir().join(format!(
        "reserv-site-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    let site = scratch.join("site");
    let outcome = async {
        in_folder(site.clone(), files).await?;
        run_command(target, &site).await
    }
    .await;
    // The copy is only for the command; a failure to tidy it is not the publication's.
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    outcome
}

async fn run_command(target: &CommandTarget, site: &Path) -> Result<()> {
    let site_text = site.display().to_string();
    let args: Vec<String> = target
        .args
        .iter()
        .map(|arg| arg.replace("{site}", &site_text))
        .collect();
    let child = tokio::process::Command::new(&target.program)
        .args(&args)
        .env("RESERV_SITE_DIR", site)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            FallbackError::Publish(format!("could not start {}: {error}", target.program))
        })?;
    let finished = tokio::time::timeout(target.timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            FallbackError::Publish(format!(
                "{} did not finish within {} s and was stopped",
                target.program,
                target.timeout.as_secs()
            ))
        })?
        .map_err(|error| FallbackError::Publish(format!("{} failed: {error}", target.program)))?;
    if finished.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&finished.stderr);
    let tail: String = stderr
        .trim()
        .chars()
        .rev()
        .take(COMMAND_OUTPUT_KEPT)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(FallbackError::Publish(format!(
        "{} ended with {}: {tail}",
        target.program, finished.status
    )))
}
