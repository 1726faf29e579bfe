//! `GET /api/v1/categories` and `GET /api/v1/legal-grounds`: the vocabularies a notice uses.

use axum::Json;
use staydown_domain::legal_grounds::{LEGAL_GROUNDS, LegalGround};
use staydown_domain::taxonomy::{CATEGORIES, Category};

/// Transparency Database categories with their keywords and NL/EN labels.
pub async fn categories() -> Json<&'static [Category]> {
    Json(CATEGORIES)
}

/// The legal-ground catalogue.
pub async fn legal_grounds() -> Json<&'static [LegalGround]> {
    Json(LEGAL_GROUNDS)
}
