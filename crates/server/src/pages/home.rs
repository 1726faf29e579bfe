//! `GET /`: the home page — what a person can do here, in two sentences, and where to get help.

use askama::Template;
use askama_web::WebTemplate;

use super::Ctx;

/// The home page.
#[derive(Template, WebTemplate)]
#[template(path = "views/home.html")]
pub struct Home {
    ctx: Ctx,
}

/// `GET /`.
pub async fn home(ctx: Ctx) -> Home {
    Home { ctx }
}
