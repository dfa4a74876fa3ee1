//! GraphQL fields of public notices: `publicNotices` for anyone, signed in or not, and
//! the mutations communicators and crisis leads publish, update and withdraw them with.
//!
//! Resolvers only parse input and call the store; the rule that a notice is public
//! (confidentiality 0) and the access policy live there and in the domain.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::ids::{IncidentId, NoticeId};
use reserv_domain::notices::{self, HotlineDraft, NoticeDraft, NoticeRevision, PublicNotice};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::notices::ServiceState")]
pub enum ServiceState {
    Working,
    Disrupted,
    Down,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::notices::NoticeState")]
pub enum NoticeState {
    Published,
    Withdrawn,
}

/// A text in Swedish and, optionally, English; the English page shows the Swedish text
/// where no translation was written.
#[derive(InputObject)]
pub struct LocalizedTextInput {
    pub sv: String,
    pub en: Option<String>,
}

impl From<LocalizedTextInput> for notices::Localized {
    fn from(value: LocalizedTextInput) -> Self {
        Self {
            sv: value.sv,
            en: value.en,
        }
    }
}

#[derive(InputObject)]
pub struct AffectedServiceInput {
    pub name: LocalizedTextInput,
    pub state: ServiceState,
}

#[derive(InputObject)]
pub struct HotlineInput {
    pub name: LocalizedTextInput,
    /// As people write it, like 0923-650 00; a number without a country code is read
    /// as Swedish. Stored and shown in E.164 form.
    pub phone: String,
    pub opening_hours: LocalizedTextInput,
}

/// What residents are told. Everything here is published on the open web.
#[derive(InputObject)]
pub struct NoticeInput {
    /// Must be 0: only public information may be published.
    pub confidentiality: i32,
    pub headline: LocalizedTextInput,
    pub body: LocalizedTextInput,
    #[graphql(default)]
    pub services: Vec<AffectedServiceInput>,
    #[graphql(default)]
    pub hotlines: Vec<HotlineInput>,
    /// From when the notice is shown; now when left out.
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    /// The incident the notice is about.
    pub incident_id: Option<ID>,
}

impl NoticeInput {
    fn into_draft(self) -> async_graphql::Result<NoticeDraft> {
        Ok(NoticeDraft {
            confidentiality: self.confidentiality.into(),
            headline: self.headline.into(),
            body: self.body.into(),
            services: self
                .services
                .into_iter()
                .map(|service| notices::AffectedService {
                    name: service.name.into(),
                    state: service.state.into(),
                })
                .collect(),
            hotlines: self
                .hotlines
                .into_iter()
                .map(|hotline| HotlineDraft {
                    name: hotline.name.into(),
                    phone: hotline.phone,
                    opening_hours: hotline.opening_hours.into(),
                })
                .collect(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            incident_id: self
                .incident_id
                .map(|id| parse_id("incidentId", &id).map(IncidentId))
                .transpose()?,
        })
    }
}

#[derive(SimpleObject)]
pub struct LocalizedText {
    pub sv: String,
    pub en: Option<String>,
}

impl From<&notices::Localized> for LocalizedText {
    fn from(value: &notices::Localized) -> Self {
        Self {
            sv: value.sv.clone(),
            en: value.en.clone(),
        }
    }
}

#[derive(SimpleObject)]
pub struct AffectedService {
    pub name: LocalizedText,
    pub state: ServiceState,
}

#[derive(SimpleObject)]
pub struct Hotline {
    pub name: LocalizedText,
    pub phone: String,
    pub opening_hours: LocalizedText,
}

/// One state of a notice, as residents saw it from `recordedAt`.
pub struct NoticeRevisionObject(NoticeRevision);

#[Object(name = "NoticeRevision")]
impl NoticeRevisionObject {
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    async fn state(&self) -> NoticeState {
        self.0.state.into()
    }
    async fn headline(&self) -> LocalizedText {
        (&self.0.content.headline).into()
    }
    async fn body(&self) -> LocalizedText {
        (&self.0.content.body).into()
    }
    async fn services(&self) -> Vec<AffectedService> {
        self.0
            .content
            .services
            .iter()
            .map(|service| AffectedService {
                name: (&service.name).into(),
                state: service.state.into(),
            })
            .collect()
    }
    async fn hotlines(&self) -> Vec<Hotline> {
        self.0
            .content
            .hotlines
            .iter()
            .map(|hotline| Hotline {
                name: (&hotline.name).into(),
                phone: hotline.phone.as_str().to_owned(),
                opening_hours: (&hotline.opening_hours).into(),
            })
            .collect()
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        self.0.content.valid_from
    }
    async fn valid_to(&self) -> Option<DateTime<Utc>> {
        self.0.content.valid_to
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A notice for residents with its history. The incident it belongs to is not shown:
/// the incident itself may be classified.
pub struct PublicNoticeObject {
    notice: PublicNotice,
    now: DateTime<Utc>,
}

#[Object(name = "PublicNotice")]
impl PublicNoticeObject {
    async fn id(&self) -> ID {
        self.notice.id.0.into()
    }
    /// Whether the notice is shown now: published, not withdrawn, within its validity.
    async fn current(&self) -> bool {
        self.notice.is_current(self.now)
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.notice.published_at()
    }
    /// What the notice says now (for a withdrawn notice, what it said last).
    async fn latest(&self) -> Option<NoticeRevisionObject> {
        self.notice.latest().cloned().map(NoticeRevisionObject)
    }
    /// Every revision, oldest first.
    async fn revisions(&self) -> Vec<NoticeRevisionObject> {
        self.notice
            .revisions
            .iter()
            .cloned()
            .map(NoticeRevisionObject)
            .collect()
    }
}

fn notice_object(
    ctx: &Context<'_>,
    notice: PublicNotice,
) -> async_graphql::Result<PublicNoticeObject> {
    Ok(PublicNoticeObject {
        notice,
        now: store(ctx)?.now(),
    })
}

#[derive(Default)]
pub struct NoticeQuery;

#[Object]
impl NoticeQuery {
    /// Notices for residents, newest first; no sign-in needed. Only the current ones
    /// unless `includeEnded` asks for withdrawn and expired notices too.
    async fn public_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_ended: bool,
    ) -> async_graphql::Result<Vec<PublicNoticeObject>> {
        let store = store(ctx)?;
        let now = store.now();
        Ok(store
            .public_notices()
            .await
            .api()?
            .into_iter()
            .filter(|notice| include_ended || notice.is_current(now))
            .map(|notice| PublicNoticeObject { notice, now })
            .collect())
    }
}

#[derive(Default)]
pub struct PublishingQuery;

#[Object]
impl PublishingQuery {
    /// Per configured target, when the fallback site was last published and the last
    /// error; for communicators and crisis leads. Empty until the first publication.
    async fn fallback_publish_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<FallbackPublishStatus>> {
        let statuses = store(ctx)?.fallback_publish_status(principal(ctx)?).api()?;
        Ok(statuses
            .into_iter()
            .map(|status| FallbackPublishStatus {
                target: status.target,
                last_success: status.last_success,
                last_failure: status.last_failure,
                last_error: status.last_error,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct NoticeMutation;

#[Object]
impl NoticeMutation {
    /// Publishes a notice to the status page and the fallback site.
    async fn publish_notice(
        &self,
        ctx: &Context<'_>,
        input: NoticeInput,
    ) -> async_graphql::Result<PublicNoticeObject> {
        let draft = input.into_draft()?;
        let notice = store(ctx)?
            .publish_notice(principal(ctx)?, draft)
            .await
            .api()?;
        notice_object(ctx, notice)
    }

    /// Replaces what a notice says; the earlier revision stays in its history.
    async fn update_notice(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: NoticeInput,
    ) -> async_graphql::Result<PublicNoticeObject> {
        let id = NoticeId(parse_id("id", &id)?);
        let draft = input.into_draft()?;
        let notice = store(ctx)?
            .update_notice(principal(ctx)?, id, draft)
            .await
            .api()?;
        notice_object(ctx, notice)
    }

    /// Takes a notice off the status page; it stays in the history.
    async fn withdraw_notice(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PublicNoticeObject> {
        let id = NoticeId(parse_id("id", &id)?);
        let notice = store(ctx)?
            .withdraw_notice(principal(ctx)?, id)
            .await
            .api()?;
        notice_object(ctx, notice)
    }
}

/// How publishing the static fallback site to one target is going.
#[derive(SimpleObject)]
pub struct FallbackPublishStatus {
    /// The target as configured, such as "dir /srv/status".
    pub target: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}
