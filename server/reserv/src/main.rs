//! The `reserv` command.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use reserv::{Config, demo, server};
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::ids::{PersonId, UnitId};
use reserv_store::NewAccount;
use std::io::BufRead;
use std::path::PathBuf;

mod audit_commands;
mod playbook_commands;

/// mimalloc rather than the system allocator: a profile of the read path under load
/// spent about a quarter of its time in glibc malloc (many small GraphQL values).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Reserv: continuity plans, fallback routines and crisis response for care and welfare.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file; `reserv.toml` in the working folder is read if present.
    #[arg(long, global = true, env = "RESERV_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (migrating the database first).
    Serve {
        /// Load the demo municipality into an empty database and print its accounts.
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check or export the tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check playbook files, or print their JSON Schema.
    Playbook {
        #[command(subcommand)]
        command: PlaybookCommand,
    },
    /// The static fallback site for residents, for hosting outside the main IT.
    Fallback {
        #[command(subcommand)]
        command: FallbackCommand,
    },
    /// Write a unit's printable binder (approved plan, fallback routines with tick boxes
    /// and signature lines, forms, contact list) as one HTML file to print from a browser.
    Print {
        /// The unit's id or exact name.
        #[arg(long)]
        unit: String,
        /// The HTML file to write.
        #[arg(long)]
        out: PathBuf,
        /// Print as this account, with only what it may read; without it, as the
        /// operator, who reads everything.
        #[arg(long = "as", value_name = "USERNAME")]
        account: Option<String>,
        /// The binder's own words in English instead of Swedish.
        #[arg(long)]
        english: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Subcommand)]
enum PlaybookCommand {
    /// Report every problem in a folder of playbooks with its file, line, column and
    /// field; exits non-zero when there is one. Routine keys, unit and system names are
    /// checked against the configured database when there is one.
    Check {
        /// The folder of playbook files.
        #[arg(default_value = "playbooks")]
        folder: PathBuf,
        /// Check only the files themselves, not the names they use.
        #[arg(long)]
        without_database: bool,
    },
    /// Check a folder against the database and put the playbooks that pass into use;
    /// files with problems keep their last imported version.
    Import {
        /// The folder of playbook files; `playbooks_dir` when left out.
        folder: Option<PathBuf>,
    },
    /// Print the JSON Schema of playbook files (kept in playbooks/schema.json).
    Schema,
}

#[derive(Subcommand)]
enum FallbackCommand {
    /// Write the static site (status page in Swedish and English, notice history,
    /// hotlines, feeds and status.json) to a folder, replacing it whole.
    Build {
        /// The folder to write; it is replaced at once when the new site is complete.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain from its genesis; exits non-zero and names the first
    /// changed, broken or missing event if there is one.
    Verify,
    /// Write audit events as JSON lines (times in UTC) with their chain hashes.
    Export {
        /// First time included: a date (2026-11-24) or an RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
        /// First time excluded: a date or an RFC 3339 time.
        #[arg(long)]
        to: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input with
    /// --password-stdin, or generated and printed once.
    Add {
        #[arg(long)]
        username: String,
        /// admin, crisis_lead, unit_manager, care_worker, communicator or viewer.
        #[arg(long)]
        role: Role,
        /// For unit_manager and care_worker: the unit's id or exact name.
        #[arg(long)]
        unit: Option<String>,
        /// The id of the person the account belongs to.
        #[arg(long)]
        person: Option<i64>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The commands that work on the database, once it is open.
enum DatabaseCommand {
    Migrate,
    Serve {
        demo: bool,
    },
    User(UserCommand),
    Audit(AuditCommand),
    Fallback(FallbackCommand),
    Print {
        unit: String,
        out: PathBuf,
        account: Option<String>,
        english: bool,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reserv: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { config, command } = cli;
    let command = match command {
        // The schema needs no configuration or database.
        Command::Schema => {
            print!("{}", reserv_api::schema_sdl());
            return Ok(());
        }
        Command::Playbook {
            command: PlaybookCommand::Schema,
        } => {
            print!("{}", reserv_playbooks::json_schema());
            return Ok(());
        }
        Command::Playbook {
            command:
                PlaybookCommand::Check {
                    folder,
                    without_database,
                },
        } => {
            let config = Config::load(config.as_deref())?;
            return playbook_commands::check(&config, &folder, without_database).await;
        }
        Command::Playbook {
            command: PlaybookCommand::Import { folder },
        } => {
            let config = Config::load(config.as_deref())?;
            let folder = folder.unwrap_or_else(|| config.playbooks_dir.clone());
            return playbook_commands::import(&config, &folder).await;
        }
        Command::Migrate => DatabaseCommand::Migrate,
        Command::Serve { demo } => DatabaseCommand::Serve { demo },
        Command::User { command } => DatabaseCommand::User(command),
        Command::Audit { command } => DatabaseCommand::Audit(command),
        Command::Fallback { command } => DatabaseCommand::Fallback(command),
        Command::Print {
            unit,
            out,
            account,
            english,
        } => DatabaseCommand::Print {
            unit,
            out,
            account,
            english,
        },
    };
    let mut config = Config::load(config.as_deref())?;
    if matches!(command, DatabaseCommand::Serve { demo: true }) {
        config.login.demo_default();
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log)?)
        .with_writer(std::io::stderr)
        .init();
    let store = server::open_store(&config).await?;
    match command {
        DatabaseCommand::Migrate => {
            println!("The database schema is up to date.");
            Ok(())
        }
        DatabaseCommand::Audit(AuditCommand::Verify) => audit_commands::verify(&store).await,
        DatabaseCommand::Audit(AuditCommand::Export { from, to, out }) => {
            audit_commands::export(&store, from.as_deref(), to.as_deref(), out.as_deref()).await
        }
        DatabaseCommand::Fallback(FallbackCommand::Build { out }) => {
            reserv_fallback::build_site(
                &store,
                &out,
                store.now(),
                config.fallback.stale_after_minutes.get(),
            )
            .await?;
            println!("Wrote the fallback site to {}.", out.display());
            Ok(())
        }
        DatabaseCommand::Print {
            unit,
            out,
            account,
            english,
        } => {
            let operator = Principal::operator("command line");
            let unit = find_unit(&store, &operator, &unit).await?;
            let reader = match account {
                Some(username) => store
                    .principal_by_username(&operator, &username)
                    .await
                    .with_context(|| format!("--as: {username}"))?,
                None => operator,
            };
            let language = if english {
                reserv_domain::people::Language::En
            } else {
                reserv_domain::people::Language::Sv
            };
            let html =
                reserv_print::binder_html(&store, &reader, unit, language, store.now()).await?;
            std::fs::write(&out, html)
                .with_context(|| format!("--out: cannot write {}", out.display()))?;
            println!(
                "Wrote the binder to {}; open it in a browser and print it.",
                out.display()
            );
            Ok(())
        }
        DatabaseCommand::Serve { demo } => {
            if demo {
                if demo::load_if_empty(&store).await? {
                    println!("Loaded the demo municipality.");
                } else {
                    println!(
                        "The database already holds data; the demo data set was not loaded again."
                    );
                }
                print_demo_logins()?;
            }
            reserv::playbooks::import_at_start(&config, &store).await?;
            println!(
                "Reserv listens on http://{} (GraphiQL at /graphql)",
                config.listen
            );
            server::serve_forever(&config, store).await
        }
        DatabaseCommand::User(UserCommand::Add {
            username,
            role,
            unit,
            person,
            password_stdin,
        }) => {
            let operator = Principal::operator("command line");
            let unit = match unit {
                Some(unit) => Some(find_unit(&store, &operator, &unit).await?),
                None => None,
            };
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let created = store
                .create_account(
                    &operator,
                    NewAccount {
                        username,
                        password,
                        person_id: person.map(PersonId),
                        grants: vec![RoleGrant::new(role, unit)?],
                    },
                )
                .await?;
            println!("Created the account {} ({role}).", created.username);
            if let Some(password) = created.generated_password {
                println!("Its password, shown only now: {password}");
            }
            Ok(())
        }
    }
}

async fn find_unit(
    store: &reserv_store::Store,
    operator: &Principal,
    wanted: &str,
) -> anyhow::Result<UnitId> {
    let units = store.units(operator).await?;
    let by_id = wanted.parse::<i64>().ok();
    match units
        .iter()
        .find(|unit| Some(unit.id.0) == by_id)
        .or_else(|| units.iter().find(|unit| unit.name == wanted))
    {
        Some(unit) => Ok(unit.id),
        None => bail!("--unit: no unit has the id or name '{wanted}'"),
    }
}

fn print_demo_logins() -> anyhow::Result<()> {
    println!("\nDemo accounts (fictional data; change or remove before real use):");
    println!("  {:<22} {:<24} roles", "username", "password");
    for login in demo::demo_logins()? {
        println!(
            "  {:<22} {:<24} {}",
            login.username, login.password, login.roles
        );
    }
    println!(
        "Second factor: login.require_second_factor is '{}' for this demo unless configured, so that every account above signs in with its password alone.",
        reserv_domain::second_factor::SecondFactorRequirement::Off
    );
    println!();
    Ok(())
}
