//! The units at or below a unit, as a query. A unit's path lists its ancestors and
//! itself (`/1/4/9/`), so a subtree is every path that starts with its root's path:
//! a prefix match, which the index on `units.path` serves (GLOB on SQLite, whose LIKE
//! ignores case and so skips the index; LIKE with the pattern operator class on
//! PostgreSQL). Listings filter with this; single objects are checked by the domain's
//! policy on their loaded path. Nothing else writes the rule in SQL.

use crate::Result;
use crate::convert::path_text;
use crate::directory::unit_rows;
use crate::entities::units;
use reserv_domain::ids::UnitId;
use sea_orm::sea_query::extension::sqlite::SqliteExpr;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{Condition, ConnectionTrait, DbBackend};
use std::collections::HashMap;

/// The paths of the roots a listing filters on, looked up once.
pub(crate) struct Subtrees {
    backend: DbBackend,
    paths: HashMap<UnitId, String>,
}

impl Subtrees {
    /// Looks up the paths of `roots`; a root that does not exist covers nothing.
    pub(crate) async fn of(db: &impl ConnectionTrait, roots: &[UnitId]) -> Result<Self> {
        let paths = unit_rows(db, roots)
            .await?
            .into_iter()
            .map(|(id, unit)| (id, path_text(&unit.path)))
            .collect();
        Ok(Self {
            backend: db.get_database_backend(),
            paths,
        })
    }

    /// The ids of the units at or below any of `roots`.
    pub(crate) fn units_covered_by(&self, roots: &[UnitId]) -> SelectStatement {
        let covered = roots
            .iter()
            .filter_map(|root| self.paths.get(root))
            .fold(Condition::any(), |any, path| {
                any.add(self.starts_with(path))
            });
        Query::select()
            .column(units::Column::Id)
            .from(units::Entity)
            .cond_where(covered)
            .to_owned()
    }

    fn starts_with(&self, path: &str) -> Expr {
        // Paths hold only digits and slashes, so neither pattern needs escaping.
        let column = Expr::col((units::Entity, units::Column::Path));
        match self.backend {
            DbBackend::Sqlite => column.glob(format!("{path}*")),
            _ => column.like(format!("{path}%")),
        }
    }
}
