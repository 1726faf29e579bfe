//! The public pages in real headless Chromium (`staydown_testkit::browser`): what a person does,
//! end to end, with axe-core on every page at desktop and phone width. Skipped with a printed
//! line when chromium/chromedriver are not installed; required when `STAYDOWN_REQUIRE_BROWSER=1`.
//!
//! `STAYDOWN_SCREENSHOTS=1` writes the README's screenshots to `docs/screenshots/`.

mod app;

/// The staff console's review pages: sign in, queue, take, blurred preview, decide, appeals.
mod console;
/// The console's management pages: banks with an import, the dashboard's charts, admin (issue 12).
mod console_admin;

/// A photo reported by fingerprint in the browser, held in all eight orientations (issue 14).
mod dihedral;
/// The tracking link after a decision, and an appeal from the browser.
mod follow;
/// Layout, language switch, home page, error pages, security headers.
mod foundation;
/// Hash-only reports from photos (EXIF orientation 6, JPEG and PNG), no image bytes sent, withdrawal.
mod hashes;
/// Helpline pages: a caseworker's case from intake to the league table, hashes made in the
/// browser, an auditor's read-only figures without victim data (issue 13).
mod helpline;
/// `/report` in NL and EN: errors beside fields, nothing lost, confirmation, CSRF.
mod report;
/// The uploader's statement-of-reasons page and an appeal from it.
mod statement;
/// A video fingerprinted in the browser (vPDQ of frames hashed in WebAssembly), within a stated
/// bound of the server's, sent as a hash-only report and banked on removal (issue 17).
mod video;
