//! Writing and updating many rows of one table at once, the fastest way each database
//! offers. On PostgreSQL the rows travel as one typed array per column and one
//! statement takes them all through `UNNEST`, however many there are: a statement of a
//! handful of parameters whose text, and so its plan, does not depend on the row count.
//! Multi-row `VALUES` with a parameter per cell made PostgreSQL parse and plan
//! thousands of parameters per statement (most of a 10 000-recipient send's 2.2 s). On
//! SQLite, which binds values in process and has no arrays, the rows go as multi-row
//! `VALUES` in chunks under its limit on bound values.
//!
//! The driver binds an array with no NULL inside, so a column that may be NULL for some
//! rows travels as its values and a second array saying which are present. This module
//! knows SQL shapes only; what the rows mean belongs to its callers.

use crate::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// SQLite's limit on bound values in one statement (since 3.32), with room to spare.
const SQLITE_BOUND_VALUES: usize = 30_000;

/// One column's values, one per row.
pub(crate) enum Values {
    BigInt(Vec<i64>),
    Text(Vec<String>),
    /// Text that is NULL for some rows.
    OptionalText(Vec<Option<String>>),
    /// A time that is NULL for some rows.
    OptionalTimestamp(Vec<Option<DateTime<Utc>>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::BigInt(values) => values.len(),
            Values::Text(values) => values.len(),
            Values::OptionalText(values) => values.len(),
            Values::OptionalTimestamp(values) => values.len(),
        }
    }

    /// The value of row `row`, bound on its own (SQLite).
    fn value(&self, row: usize) -> Value {
        match self {
            Values::BigInt(values) => values[row].into(),
            Values::Text(values) => values[row].clone().into(),
            Values::OptionalText(values) => values[row].clone().into(),
            Values::OptionalTimestamp(values) => values[row].into(),
        }
    }

    /// PostgreSQL: the arrays this column travels as, each with its type, and the
    /// expression that reads the column's value from the unnested row `bulk`, whose
    /// fields are named `{name}` and, for the presence flags, `{name}_present`.
    fn arrays(self, name: &str) -> (Vec<(Value, &'static str)>, String) {
        fn present<T>(values: &[Option<T>]) -> Value {
            values
                .iter()
                .map(Option::is_some)
                .collect::<Vec<bool>>()
                .into()
        }
        let plain = format!("bulk.{name}");
        let optional = format!("CASE WHEN bulk.{name}_present THEN bulk.{name} END");
        match self {
            Values::BigInt(values) => (vec![(values.into(), "bigint[]")], plain),
            Values::Text(values) => (vec![(values.into(), "text[]")], plain),
            Values::OptionalText(values) => {
                let flags = present(&values);
                let values: Vec<String> =
                    values.into_iter().map(Option::unwrap_or_default).collect();
                (
                    vec![(values.into(), "text[]"), (flags, "boolean[]")],
                    optional,
                )
            }
            Values::OptionalTimestamp(values) => {
                let flags = present(&values);
                let values: Vec<DateTime<Utc>> = values
                    .into_iter()
                    .map(|value| value.unwrap_or(DateTime::UNIX_EPOCH))
                    .collect();
                (
                    vec![(values.into(), "timestamptz[]"), (flags, "boolean[]")],
                    optional,
                )
            }
        }
    }

    /// The names the arrays of [`Values::arrays`] take in the unnested row.
    fn fields(&self, name: &str) -> Vec<String> {
        match self {
            Values::OptionalText(_) | Values::OptionalTimestamp(_) => {
                vec![name.to_owned(), format!("{name}_present")]
            }
            _ => vec![name.to_owned()],
        }
    }
}

/// Rows for one table, column by column, with the columns every row shares.
pub(crate) struct Rows {
    table: &'static str,
    len: usize,
    columns: Vec<(&'static str, Values)>,
    constants: Vec<(&'static str, Value)>,
}

impl Rows {
    /// `len` rows for `table`; every column added must have `len` values.
    pub(crate) fn new(table: &'static str, len: usize) -> Self {
        Self {
            table,
            len,
            columns: Vec::new(),
            constants: Vec::new(),
        }
    }

    /// A column with a value per row.
    pub(crate) fn column(mut self, name: &'static str, values: Values) -> Self {
        self.columns.push((name, values));
        self
    }

    /// A column with the same value, NULL included, in every row.
    pub(crate) fn constant(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.constants.push((name, value.into()));
        self
    }

    /// Inserts the rows: one statement on PostgreSQL, chunks on SQLite.
    pub(crate) async fn insert(self, db: &impl ConnectionTrait) -> Result<()> {
        let sql = format!(
            "INSERT INTO {table} ({names}) SELECT {names} FROM bulk_rows",
            table = self.table,
            names = self.names(),
        );
        for statement in self.statements(db.get_database_backend(), "bulk_rows", &sql)? {
            db.execute_raw(statement).await?;
        }
        Ok(())
    }

    /// The statements that run `sql` over the rows, which it reads as the table named
    /// `source` whose columns are named as added (constants included): `WITH source
    /// (…) AS (…)` followed by `sql`. One statement on PostgreSQL; on SQLite as many as
    /// its limit on bound values needs (none for no rows).
    pub(crate) fn statements(
        self,
        backend: DbBackend,
        source: &str,
        sql: &str,
    ) -> Result<Vec<Statement>> {
        if let Some((name, values)) = self
            .columns
            .iter()
            .find(|(_, values)| values.len() != self.len)
        {
            return Err(DbErr::Custom(format!(
                "writing {} rows of {}: column {name} has {} values",
                self.len,
                self.table,
                values.len()
            ))
            .into());
        }
        if self.len == 0 {
            return Ok(Vec::new());
        }
        let names = self.names();
        Ok(match backend {
            DbBackend::Postgres => {
                let (unnest, values) = self.unnest();
                vec![Statement::from_sql_and_values(
                    backend,
                    format!("WITH {source} ({names}) AS ({unnest}) {sql}"),
                    values,
                )]
            }
            _ => self
                .values_lists()
                .into_iter()
                .map(|(rows, values)| {
                    Statement::from_sql_and_values(
                        backend,
                        format!("WITH {source} ({names}) AS (VALUES {rows}) {sql}"),
                        values,
                    )
                })
                .collect(),
        })
    }

    fn names(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .chain(self.constants.iter().map(|(name, _)| *name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `SELECT bulk.a, …, $k FROM UNNEST($1::bigint[], …) AS bulk(a, …)` and its values.
    fn unnest(self) -> (String, Vec<Value>) {
        let mut values = Vec::new();
        let mut arrays = Vec::new();
        let mut fields = Vec::new();
        let mut selected = Vec::new();
        for (name, column) in self.columns {
            fields.extend(column.fields(name));
            let (column_arrays, expression) = column.arrays(name);
            for (array, sql_type) in column_arrays {
                values.push(array);
                arrays.push(format!("${}::{sql_type}", values.len()));
            }
            selected.push(expression);
        }
        for (_, constant) in self.constants {
            values.push(constant);
            selected.push(format!("${}", values.len()));
        }
        let sql = format!(
            "SELECT {selected} FROM UNNEST({arrays}) AS bulk({fields})",
            selected = selected.join(", "),
            arrays = arrays.join(", "),
            fields = fields.join(", "),
        );
        (sql, values)
    }

    /// `(?, …), (?, …)` lists with their values, each under SQLite's limit.
    fn values_lists(&self) -> Vec<(String, Vec<Value>)> {
        let width = self.columns.len() + self.constants.len();
        let row_sql = format!("({})", vec!["?"; width].join(", "));
        let per_statement = (SQLITE_BOUND_VALUES / width.max(1)).max(1);
        (0..self.len)
            .step_by(per_statement)
            .map(|first| {
                let rows = first..(first + per_statement).min(self.len);
                let mut values = Vec::with_capacity(rows.len() * width);
                for row in rows.clone() {
                    values.extend(self.columns.iter().map(|(_, column)| column.value(row)));
                    values.extend(self.constants.iter().map(|(_, value)| value.clone()));
                }
                (vec![row_sql.as_str(); rows.len()].join(", "), values)
            })
            .collect()
    }
}

/// `column` equal to one of `ids`, for a set of any size: on PostgreSQL `= ANY` of one
/// array parameter, on SQLite `IN` with a value each. Answers one condition per part
/// the set is cut into so that each statement stays under SQLite's limit on bound
/// values; one part on PostgreSQL.
pub(crate) fn any_of(column: impl ColumnTrait, ids: &[i64], backend: DbBackend) -> Vec<Expr> {
    match backend {
        DbBackend::Postgres => {
            vec![Expr::col(column).eq(PgFunc::any(Expr::val(Value::from(ids.to_vec()))))]
        }
        _ => ids
            .chunks(SQLITE_BOUND_VALUES)
            .map(|part| column.is_in(part.iter().copied()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(len: usize) -> Rows {
        Rows::new("things", len)
            .column("id", Values::BigInt((0..len as i64).collect()))
            .column(
                "note",
                Values::OptionalText(
                    (0..len)
                        .map(|n| (n % 2 == 0).then(|| n.to_string()))
                        .collect(),
                ),
            )
            .constant("kind", "plain")
    }

    #[test]
    fn sqlite_gets_as_many_statements_as_its_limit_on_bound_values_needs() {
        // Three values a row: 10 000 rows a statement.
        let statements = numbered(25_000)
            .statements(DbBackend::Sqlite, "source", "SELECT 1")
            .unwrap_or_default();
        let rows: Vec<usize> = statements
            .iter()
            .map(|statement| statement.values.as_ref().map_or(0, |values| values.0.len()) / 3)
            .collect();
        assert_eq!(rows, vec![10_000, 10_000, 5_000]);
        assert!(
            statements[0]
                .sql
                .starts_with("WITH source (id, note, kind) AS (VALUES (?, ?, ?), (?, ?, ?)")
        );
    }

    #[test]
    fn postgresql_gets_one_statement_of_an_array_per_column_and_a_presence_flag_per_optional_one() {
        let statements = numbered(25_000)
            .statements(DbBackend::Postgres, "source", "SELECT 1")
            .unwrap_or_default();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            "WITH source (id, note, kind) AS (SELECT bulk.id, CASE WHEN bulk.note_present THEN bulk.note END, $4 \
             FROM UNNEST($1::bigint[], $2::text[], $3::boolean[]) AS bulk(id, note, note_present)) SELECT 1"
        );
        let values = statements[0]
            .values
            .as_ref()
            .map(|values| values.0.clone())
            .unwrap_or_default();
        assert_eq!(values.len(), 4);
        let flags = match &values[2] {
            Value::Array(_, Some(flags)) => flags.as_slice(),
            _ => &[],
        };
        assert_eq!(flags.len(), 25_000);
        assert_eq!(flags[0], Value::from(true));
        assert_eq!(flags[1], Value::from(false));
    }

    #[test]
    fn a_column_of_the_wrong_length_is_refused_rather_than_written_short() {
        let rows = numbered(3).column("extra", Values::BigInt(vec![1]));
        assert!(
            rows.statements(DbBackend::Postgres, "source", "SELECT 1")
                .is_err()
        );
    }

    #[test]
    fn no_rows_make_no_statement() {
        let statements = numbered(0).statements(DbBackend::Sqlite, "source", "SELECT 1");
        assert!(statements.is_ok_and(|statements| statements.is_empty()));
    }
}
