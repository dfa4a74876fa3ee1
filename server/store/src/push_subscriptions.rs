//! Web push subscriptions: the signed-in person registers the browser that may show
//! them crisis messages, and removes it again (at sign-out, or when they change their
//! mind). Each change is audited; the endpoint itself never goes into the audit trail,
//! since whoever holds it can push to the device.
//!
//! A browser's endpoint is unique: registering it again, from another account on a
//! shared phone say, moves it to the new person rather than pushing to both.

use crate::audit::{Audit, AuditedObject};
use crate::entities::push_subscriptions;
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{AccountId, PersonId};
use reserv_domain::push::{NewPushSubscription, PushSubscription};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

impl AuditedObject for PushSubscription {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// The account and person a subscription belongs to: push reaches people, so an
/// account without a person (the command line operator) cannot subscribe.
fn own_person(who: &Principal) -> Result<(AccountId, PersonId)> {
    match (who.account_id, who.person_id) {
        (Some(account), Some(person)) => Ok((account, person)),
        _ => Err(DomainError::validation(
            "account",
            "Kontot är inte kopplat till en person. The account is not linked to a person, so messages cannot reach it by push",
        )
        .into()),
    }
}

impl Store {
    /// Keeps the browser subscription `request` for the signed-in person, replacing the
    /// keys when the endpoint is already known.
    pub async fn register_push_subscription(
        &self,
        who: &Principal,
        request: NewPushSubscription,
    ) -> Result<PushSubscription> {
        let tx = self.begin().await?;
        let result = async {
            let (account, person) = own_person(who)?;
            let request = request.validate()?;
            let existing = push_subscriptions::Entity::find()
                .filter(push_subscriptions::Column::Endpoint.eq(&request.endpoint))
                .one(&tx)
                .await?;
            let row = match existing {
                Some(row) => {
                    let mut active: push_subscriptions::ActiveModel = row.into();
                    active.account_id = Set(account.0);
                    active.person_id = Set(person.0);
                    active.p256dh = Set(request.p256dh);
                    active.auth = Set(request.auth);
                    active.update(&tx).await?
                }
                None => {
                    push_subscriptions::ActiveModel {
                        id: NotSet,
                        account_id: Set(account.0),
                        person_id: Set(person.0),
                        endpoint: Set(request.endpoint),
                        p256dh: Set(request.p256dh),
                        auth: Set(request.auth),
                        created_at: Set(self.now()),
                        last_success: Set(None),
                    }
                    .insert(&tx)
                    .await?
                }
            };
            Ok(subscription(row))
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Register, "push_subscription"),
            result,
        )
        .await
    }

    /// Forgets the signed-in person's browser `endpoint`; answers whether it was known.
    /// Another person's endpoint is left alone and answers false.
    pub async fn remove_push_subscription(&self, who: &Principal, endpoint: &str) -> Result<bool> {
        let tx = self.begin().await?;
        let result = async {
            let (_, person) = own_person(who)?;
            let removed = push_subscriptions::Entity::delete_many()
                .filter(push_subscriptions::Column::Endpoint.eq(endpoint.trim()))
                .filter(push_subscriptions::Column::PersonId.eq(person.0))
                .exec(&tx)
                .await?;
            Ok(Removed(removed.rows_affected > 0))
        }
        .await;
        let removed = self
            .finish(
                tx,
                who,
                Audit::new(AuditAction::Remove, "push_subscription"),
                result,
            )
            .await?;
        Ok(removed.0)
    }

    /// The browsers the signed-in person receives push on, oldest first.
    pub async fn my_push_subscriptions(&self, who: &Principal) -> Result<Vec<PushSubscription>> {
        let Some(person) = who.person_id else {
            return Ok(Vec::new());
        };
        Ok(push_subscriptions::Entity::find()
            .filter(push_subscriptions::Column::PersonId.eq(person.0))
            .order_by_asc(push_subscriptions::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(subscription)
            .collect())
    }
}

struct Removed(bool);

impl AuditedObject for Removed {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

fn subscription(row: push_subscriptions::Model) -> PushSubscription {
    PushSubscription {
        id: row.id,
        endpoint: row.endpoint,
        created_at: row.created_at,
        last_success: row.last_success,
    }
}
