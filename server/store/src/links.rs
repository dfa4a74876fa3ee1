//! Link tables (person ↔ unit, incident ↔ unit, incident ↔ system), whose rows for one
//! owner are always replaced as a whole.

use crate::Result;
use sea_orm::sea_query::IntoCondition;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// Deletes the link rows that match `owner` and inserts `links` in their place; call it
/// inside the change's transaction.
pub(crate) async fn replace_links<E, A>(
    db: &impl ConnectionTrait,
    owner: impl IntoCondition,
    links: Vec<A>,
) -> Result<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    E::delete_many().filter(owner).exec(db).await?;
    if !links.is_empty() {
        E::insert_many(links).exec(db).await?;
    }
    Ok(())
}
