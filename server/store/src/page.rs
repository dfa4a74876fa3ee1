//! Cursor pagination over rows ordered by id.

use crate::{Result, StoreError};
use reserv_domain::DomainError;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: u64 = 200;

/// Which page to read: up to `first` rows after the row with id `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub first: u64,
}

impl PageRequest {
    pub fn new(after: Option<i64>, first: Option<i64>) -> Result<Self> {
        let first = first.unwrap_or(50);
        if !(1..=MAX_PAGE_SIZE as i64).contains(&first) {
            return Err(StoreError::Domain(DomainError::validation(
                "first",
                format!("must be 1 to {MAX_PAGE_SIZE}, not {first}"),
            )));
        }
        Ok(Self {
            after,
            first: first as u64,
        })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            after: None,
            first: 50,
        }
    }
}

/// One page of results, with the id of each item as its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<(i64, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// The same page with every item converted, or the first conversion error.
    pub(crate) fn try_map<U>(self, mut convert: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(|(cursor, item)| Ok((cursor, convert(item)?)))
                .collect::<Result<_>>()?,
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        })
    }
}

/// Reads one page of `select`, ordered by `id_column`.
pub(crate) async fn fetch_page<E, C>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    id_column: C,
    request: PageRequest,
    id_of: impl Fn(&E::Model) -> i64,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let mut select = select.order_by_asc(id_column);
    if let Some(after) = request.after {
        select = select.filter(id_column.gt(after));
    }
    let mut rows = select.limit(request.first + 1).all(db).await?;
    let has_next_page = rows.len() as u64 > request.first;
    rows.truncate(request.first as usize);
    Ok(Page {
        items: rows.into_iter().map(|row| (id_of(&row), row)).collect(),
        has_next_page,
        has_previous_page: request.after.is_some(),
    })
}
