//! The demo data set: a fictional Swedish municipality's elderly care and disability
//! services, loaded through the same store use cases as everything else, so the demo
//! obeys every rule a real organisation's data does.
//!
//! The data lives in `demo/sample-municipality.toml` beside this crate's `Cargo.toml`.

mod data_set;
mod load;
mod replay;

use anyhow::Context;
use data_set::DemoSet;
use reserv_domain::access::Principal;
use reserv_store::Store;

const SAMPLE_MUNICIPALITY: &str = include_str!("../../demo/sample-municipality.toml");

/// A demo account as printed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub roles: String,
}

/// The demo accounts of the data set, whether or not it has been loaded yet.
pub fn demo_logins() -> anyhow::Result<Vec<DemoLogin>> {
    let set = parse()?;
    Ok(set
        .accounts
        .into_iter()
        .map(|account| DemoLogin {
            roles: account
                .roles
                .iter()
                .map(|role| match &role.unit {
                    Some(unit) => format!("{} ({unit})", role.role),
                    None => role.role.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            username: account.username,
            password: account.password,
        })
        .collect())
}

fn parse() -> anyhow::Result<DemoSet> {
    toml::from_str(SAMPLE_MUNICIPALITY)
        .context("demo/sample-municipality.toml is not a valid demo data set")
}

/// Loads the demo data set when the database holds no units yet. Returns whether it was
/// loaded; a database with data of its own is left alone.
pub async fn load_if_empty(store: &Store) -> anyhow::Result<bool> {
    let operator = Principal::operator("demo data");
    if !store.units(&operator).await?.is_empty() {
        return Ok(false);
    }
    let set = parse()?;
    load::Loader::new(store, operator).load(set).await.context(
        "loading the demo data failed part-way; remove the database file and start again",
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reserv_domain::access::Role;
    use reserv_domain::units::UnitKind;

    #[test]
    fn the_data_set_parses_and_covers_every_role() -> anyhow::Result<()> {
        let set = parse()?;
        assert!(
            set.units
                .iter()
                .filter(|unit| unit.kind == UnitKind::Unit)
                .count()
                >= 6
        );
        assert!(set.it_systems.len() >= 8);
        assert!(
            set.plans
                .iter()
                .map(|plan| plan.routines.len())
                .sum::<usize>()
                >= 15
        );
        for role in Role::ALL {
            assert!(
                set.accounts
                    .iter()
                    .any(|account| account.roles.iter().any(|r| r.role == *role)),
                "no demo account has the role {role}"
            );
        }
        assert_eq!(set.incidents.len(), 1);
        Ok(())
    }
}
