//! Use cases on the offence catalogue: reading it, adding a verified article, retiring one.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use domain::offense::{CatalogueCommand, OffenseEntry, Titles, CATALOGUE_ID};
use domain::values::OffenseCategory;
use projections::store::OffenseRow;
use std::sync::Arc;

type Res<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct NewOffense {
    pub edition: String,
    pub article: String,
    pub title: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    /// Where the article number was verified.
    pub source: String,
}

impl App {
    /// The offence catalogue, retired entries included (old reports refer to them).
    #[tracing::instrument(skip_all)]
    pub async fn catalogue(&self, caller: &Caller) -> Res<Arc<Vec<OffenseRow>>> {
        caller.allow(Op::ListOffenses)?;
        self.offenses().await
    }

    #[tracing::instrument(skip_all)]
    pub async fn add_offense(&self, caller: &Caller, input: NewOffense) -> Res<OffenseRow> {
        use super::cases::{opt_text, text};
        caller.allow(Op::AddOffense)?;
        let edition = input.edition.trim().to_string();
        let article = input.article.trim().to_string();
        let entry = OffenseEntry {
            code: format!("{edition}-{article}"),
            edition,
            article,
            title: Titles {
                en: text("title", &input.title)?.to_string(),
                ru: opt_text("titleRu", &input.title_ru)?.map(String::from),
                ky: opt_text("titleKy", &input.title_ky)?.map(String::from),
            },
            category: input.category,
            source: Some(text("source", &input.source)?.to_string()),
        };
        let code = entry.code.clone();
        self.execute(&self.cqrs.catalogue, caller, CATALOGUE_ID, CatalogueCommand::Add { entry }).await?;
        self.offense(&code).await?.ok_or_else(|| ApiError::Internal("offence not projected".into()))
    }

    #[tracing::instrument(skip_all)]
    pub async fn retire_offense(&self, caller: &Caller, code: &str, reason: &str) -> Res<OffenseRow> {
        caller.allow(Op::RetireOffense)?;
        let code = code.trim().to_string();
        let reason = super::cases::text("reason", reason)?;
        self.execute(
            &self.cqrs.catalogue,
            caller,
            CATALOGUE_ID,
            CatalogueCommand::Retire { code: code.clone(), reason },
        )
        .await?;
        self.offense(&code).await?.ok_or_else(|| ApiError::NotFound(format!("no offence {code}")))
    }
}
