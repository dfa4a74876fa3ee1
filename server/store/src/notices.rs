//! Public notices: publishing, updating and withdrawing them, and reading them for the
//! public.
//!
//! Only ever inserts: every change is a new revision, and the database refuses UPDATE and
//! DELETE on both tables. Nothing here reads anything classified, so the public paths
//! (status page, feeds, fallback site) can call [`Store::public_notices`] without a
//! principal: a notice is public by the rule [`NoticeDraft::validate`] enforces on write.

use crate::audit::{Audit, AuditedObject, Change};
use crate::convert;
use crate::entities::{public_notice_revisions, public_notices};
use crate::incidents::ensure_incident_readable;
use crate::{Result, Store, StoreError};
use reserv_domain::access::{Action, Principal};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{IncidentId, NoticeId};
use reserv_domain::notices::{
    Localized, NoticeChange, NoticeContent, NoticeDraft, NoticeRevision, NoticeState, PublicNotice,
};
use reserv_domain::publishing::PublishStatus;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::BTreeMap;

impl AuditedObject for PublicNotice {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Publishes a new notice as its first revision.
    pub async fn publish_notice(
        &self,
        who: &Principal,
        draft: NoticeDraft,
    ) -> Result<PublicNotice> {
        let mut change = self.change().await?;
        let result = self.publish_notice_in(&mut change, who, draft).await;
        let notice = self
            .conclude(
                change,
                who,
                Audit::new(AuditAction::Publish, "public_notice"),
                result,
            )
            .await?;
        self.announce_notice_change();
        Ok(notice)
    }

    /// [`Store::publish_notice`] as part of a larger change, such as sending the draft
    /// an activation prepared for the public. The caller announces the notice change
    /// once the change is committed.
    pub(crate) async fn publish_notice_in(
        &self,
        change: &mut Change,
        who: &Principal,
        draft: NoticeDraft,
    ) -> Result<PublicNotice> {
        who.authorize_somewhere(Action::PublishNotices)?;
        let tx = change.tx();
        let now = self.now();
        let notice = draft.validate(now)?;
        if let Some(incident) = notice.incident_id {
            ensure_incident_readable(tx, who, incident).await?;
        }
        let row = public_notices::ActiveModel {
            id: NotSet,
            incident_id: Set(notice.incident_id.map(|id| id.0)),
            created_at: Set(now),
        }
        .insert(tx)
        .await?;
        let id = NoticeId(row.id);
        append_revision(tx, id, 1, NoticeState::Published, &notice.content, now).await?;
        let published = find_notice(tx, id).await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Publish, "public_notice"),
            &published,
        );
        Ok(published)
    }

    /// Replaces what a published notice says with a new revision; the earlier ones stay.
    pub async fn update_notice(
        &self,
        who: &Principal,
        id: NoticeId,
        draft: NoticeDraft,
    ) -> Result<PublicNotice> {
        let change = draft.validate(self.now()).map(NoticeChange::Update);
        self.revise_notice(who, id, AuditAction::Update, change)
            .await
    }

    /// Takes a notice down with a last revision that keeps its text for the history.
    pub async fn withdraw_notice(&self, who: &Principal, id: NoticeId) -> Result<PublicNotice> {
        self.revise_notice(who, id, AuditAction::Withdraw, Ok(NoticeChange::Withdraw))
            .await
    }

    async fn revise_notice(
        &self,
        who: &Principal,
        id: NoticeId,
        action: AuditAction,
        change: reserv_domain::Result<NoticeChange>,
    ) -> Result<PublicNotice> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize_somewhere(Action::PublishNotices)?;
            let next = find_notice(&tx, id).await?.revise(change?)?;
            append_revision(
                &tx,
                id,
                next.revision,
                next.state,
                &next.content,
                self.now(),
            )
            .await?;
            find_notice(&tx, id).await
        }
        .await;
        let notice = self
            .finish(tx, who, Audit::new(action, "public_notice").on(id), result)
            .await?;
        self.announce_notice_change();
        Ok(notice)
    }

    /// How publishing the fallback site to each target is going; for those who publish
    /// notices.
    pub fn fallback_publish_status(&self, who: &Principal) -> Result<Vec<PublishStatus>> {
        who.authorize_somewhere(Action::PublishNotices)?;
        self.note_live_read();
        Ok(self
            .publish_status
            .lock()
            .map(|status| status.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone()))
    }

    /// Records the outcome of publishing to `target`; for the fallback publisher.
    pub fn record_publication(&self, target: &str, outcome: std::result::Result<(), String>) {
        let at = self.now();
        let mut board = match self.publish_status.lock() {
            Ok(board) => board,
            Err(poisoned) => poisoned.into_inner(),
        };
        match board.iter_mut().find(|status| status.target == target) {
            Some(status) => status.record(at, outcome),
            None => {
                let mut status = PublishStatus::new(target.to_owned());
                status.record(at, outcome);
                board.push(status);
            }
        }
    }

    /// Every notice with its revisions, newest notice first. Public: notices hold only
    /// confidentiality 0, so this needs no principal and records no read.
    pub async fn public_notices(&self) -> Result<Vec<PublicNotice>> {
        let notices = public_notices::Entity::find()
            .order_by_desc(public_notices::Column::Id)
            .all(&self.db)
            .await?;
        let revisions = public_notice_revisions::Entity::find()
            .order_by_asc(public_notice_revisions::Column::Revision)
            .all(&self.db)
            .await?;
        let mut by_notice: BTreeMap<i64, Vec<NoticeRevision>> = BTreeMap::new();
        for row in revisions {
            by_notice
                .entry(row.notice_id)
                .or_default()
                .push(revision(row)?);
        }
        Ok(notices
            .into_iter()
            .map(|row| PublicNotice {
                id: NoticeId(row.id),
                incident_id: row.incident_id.map(IncidentId),
                revisions: by_notice.remove(&row.id).unwrap_or_default(),
            })
            .filter(|notice| !notice.revisions.is_empty())
            .collect())
    }
}

async fn append_revision(
    db: &impl ConnectionTrait,
    id: NoticeId,
    number: i32,
    state: NoticeState,
    content: &NoticeContent,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    public_notice_revisions::ActiveModel {
        id: NotSet,
        notice_id: Set(id.0),
        revision: Set(number),
        state: Set(state.as_str().to_owned()),
        headline_sv: Set(content.headline.sv.clone()),
        headline_en: Set(content.headline.en.clone()),
        body_sv: Set(content.body.sv.clone()),
        body_en: Set(content.body.en.clone()),
        services: Set(to_json(&content.services)?),
        hotlines: Set(to_json(&content.hotlines)?),
        valid_from: Set(content.valid_from),
        valid_to: Set(content.valid_to),
        recorded_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|error| {
        StoreError::from(error).on_duplicate(|| {
            format!("notice {id} was changed by someone else just now; reload it and try again")
        })
    })?;
    Ok(())
}

async fn find_notice(db: &impl ConnectionTrait, id: NoticeId) -> Result<PublicNotice> {
    let row = public_notices::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| reserv_domain::DomainError::not_found("notice", id))?;
    let revisions = public_notice_revisions::Entity::find()
        .filter(public_notice_revisions::Column::NoticeId.eq(id.0))
        .order_by_asc(public_notice_revisions::Column::Revision)
        .all(db)
        .await?
        .into_iter()
        .map(revision)
        .collect::<Result<_>>()?;
    Ok(PublicNotice {
        id,
        incident_id: row.incident_id.map(IncidentId),
        revisions,
    })
}

fn revision(row: public_notice_revisions::Model) -> Result<NoticeRevision> {
    Ok(NoticeRevision {
        revision: row.revision,
        state: convert::stored(&row.state, "public_notice_revisions.state")?,
        content: NoticeContent {
            headline: Localized {
                sv: row.headline_sv,
                en: row.headline_en,
            },
            body: Localized {
                sv: row.body_sv,
                en: row.body_en,
            },
            services: from_json(&row.services, "public_notice_revisions.services")?,
            hotlines: from_json(&row.hotlines, "public_notice_revisions.hotlines")?,
            valid_from: row.valid_from,
            valid_to: row.valid_to,
        },
        recorded_at: row.recorded_at,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Database(DbErr::Json(error.to_string())))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|error| {
        StoreError::Database(DbErr::Type(format!("{column} holds invalid JSON: {error}")))
    })
}
