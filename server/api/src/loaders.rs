//! Batch loading of nested fields. Every nested object or list in one request (a plans
//! list with everything under it, incidents with their logs, tasks with their
//! assignees) is gathered by a per-request `DataLoader` and answered with one
//! level-at-once store read per kind, instead of a handful of queries per object.
//! The store checks each key on its own, so a batch answers exactly what reads of the
//! objects one by one would.

use crate::context::{principal, store};
use crate::error::{ApiResult, shared_graphql_error};
use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::try_join_all;
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::ids::{
    ActivityId, IncidentId, PersonId, PlanId, PlanVersionId, SystemId, UnitId,
};
use reserv_domain::incidents::{Incident, LogEntry, Task};
use reserv_domain::people::Person;
use reserv_domain::plans::{CriticalActivity, Plan, Routine};
use reserv_domain::systems::ItSystem;
use reserv_domain::units::OrgUnit;
use reserv_store::{ActivityContents, PlanVersions, RunDetail, Store, StoreError, VersionPlace};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

/// The loader of one request: the request's store and whoever is signed in.
pub(crate) struct RequestLoader {
    store: Store,
    who: Principal,
}

/// A per-request loader for a signed-in request; anonymous requests read nothing
/// nested.
pub(crate) fn request_loader(
    store: &Store,
    who: Option<&Principal>,
) -> Option<DataLoader<RequestLoader>> {
    who.map(|who| loader(store, who))
}

fn loader(store: &Store, who: &Principal) -> DataLoader<RequestLoader> {
    DataLoader::new(
        RequestLoader {
            store: store.clone(),
            who: who.clone(),
        },
        tokio::spawn,
    )
}

type Answer<V> = Result<V, DomainError>;

/// Objects loaded by their own id.
macro_rules! by_id {
    ($($key:ty => $value:ty, $method:ident;)*) => {$(
        impl Loader<$key> for RequestLoader {
            type Value = Answer<$value>;
            type Error = Arc<StoreError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                self.store.$method(&self.who, keys).await.map_err(Arc::new)
            }
        }
    )*};
}

/// What hangs below an object, loaded by the id of the object it hangs below.
macro_rules! below {
    ($($(#[$doc:meta])* $wrapper:ident($id:ty) => $value:ty, $method:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) struct $wrapper(pub $id);

        impl fmt::Display for $wrapper {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Loader<$wrapper> for RequestLoader {
            type Value = Answer<$value>;
            type Error = Arc<StoreError>;

            async fn load(
                &self,
                keys: &[$wrapper],
            ) -> Result<HashMap<$wrapper, Self::Value>, Self::Error> {
                let ids: Vec<$id> = keys.iter().map(|key| key.0).collect();
                let answers = self.store.$method(&self.who, &ids).await.map_err(Arc::new)?;
                Ok(answers.into_iter().map(|(id, answer)| ($wrapper(id), answer)).collect())
            }
        }
    )*};
}

by_id! {
    UnitId => OrgUnit, units_by_id;
    PersonId => Person, people_by_id;
    SystemId => ItSystem, systems_by_id;
    PlanId => Plan, plans_by_id;
    IncidentId => Incident, incidents_by_id;
}

below! {
    /// A plan's versions.
    VersionsOf(PlanId) => PlanVersions, versions_of_plans;
    /// The plan and state of a version.
    PlaceOf(PlanVersionId) => VersionPlace, places_of_versions;
    /// A version's critical activities.
    ActivitiesOf(PlanVersionId) => Vec<CriticalActivity>, activities_of_versions;
    /// A version's routines.
    RoutinesOf(PlanVersionId) => Vec<Routine>, routines_of_versions;
    /// An activity's dependencies and routines.
    ContentsOf(ActivityId) => ActivityContents, contents_of_activities;
    /// An incident's crisis log.
    LogOf(IncidentId) => Vec<LogEntry>, crisis_logs;
    /// An incident's tasks.
    TasksOf(IncidentId) => Vec<Task>, task_lists;
    /// A checklist run's routine title and steps as they stand.
    DetailOf(i64) => RunDetail, checklist_run_details;
}

/// Loads one key through the request's loader, with the same errors a direct read
/// would give.
pub(crate) async fn load<K, V>(ctx: &Context<'_>, key: K) -> async_graphql::Result<V>
where
    K: Send + Sync + Hash + Eq + Clone + fmt::Display + 'static,
    RequestLoader: Loader<K, Value = Answer<V>, Error = Arc<StoreError>>,
    V: Send + Sync + Clone + 'static,
{
    match fetch(ctx, key.clone()).await? {
        Some(answer) => answer.api(),
        None => Err(DomainError::not_found("object", key)).api(),
    }
}

/// Loads several keys in one batch, in their order.
pub(crate) async fn load_all<K, V>(ctx: &Context<'_>, keys: &[K]) -> async_graphql::Result<Vec<V>>
where
    K: Send + Sync + Hash + Eq + Clone + fmt::Display + 'static,
    RequestLoader: Loader<K, Value = Answer<V>, Error = Arc<StoreError>>,
    V: Send + Sync + Clone + 'static,
{
    try_join_all(keys.iter().map(|key| load(ctx, key.clone()))).await
}

/// Loads an optional reference, answering null when there is none.
pub(crate) async fn load_optional<K, V>(
    ctx: &Context<'_>,
    key: Option<K>,
) -> async_graphql::Result<Option<V>>
where
    K: Send + Sync + Hash + Eq + Clone + fmt::Display + 'static,
    RequestLoader: Loader<K, Value = Answer<V>, Error = Arc<StoreError>>,
    V: Send + Sync + Clone + 'static,
{
    match key {
        Some(key) => Ok(Some(load(ctx, key).await?)),
        None => Ok(None),
    }
}

/// Loads an object the caller may or may not be allowed to see, answering null for
/// one they may not read or that is gone.
pub(crate) async fn load_if_readable<K, V>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<Option<V>>
where
    K: Send + Sync + Hash + Eq + Clone + fmt::Display + 'static,
    RequestLoader: Loader<K, Value = Answer<V>, Error = Arc<StoreError>>,
    V: Send + Sync + Clone + 'static,
{
    match fetch(ctx, key).await? {
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(DomainError::Forbidden(_) | DomainError::NotFound { .. })) | None => Ok(None),
        Some(Err(error)) => Err(error).api(),
    }
}

/// The answer for one key. Outside a GraphQL request over HTTP (a subscription event)
/// there is no request loader, and the key is loaded on its own.
async fn fetch<K, V>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Option<Answer<V>>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RequestLoader: Loader<K, Value = Answer<V>, Error = Arc<StoreError>>,
    V: Send + Sync + Clone + 'static,
{
    let who = principal(ctx)?;
    let answer = match ctx.data_opt::<DataLoader<RequestLoader>>() {
        Some(loader) => loader.load_one(key).await,
        None => loader(store(ctx)?, who).load_one(key).await,
    };
    answer.map_err(shared_graphql_error)
}
