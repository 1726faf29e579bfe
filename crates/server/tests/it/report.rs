//! The transparency report (DSA Art. 15, 24(1)) on a small hand-built data set with exact times,
//! so every median can be worked out by hand: odd and even counts, period boundaries to the
//! millisecond, an empty period. Then `GET /api/v1/stats` and the new `/metrics` series.

use serde_json::{Value, json};
use staydown_domain::appeal::{AppealOutcome, Appellant};
use staydown_domain::bank::{BankAction, MatchSummary, Upload, Verdict, automated_match_notice};
use staydown_domain::decision::{DecisionContext, validate_decision};
use staydown_domain::misuse::MisusePolicy;
use staydown_domain::notice::{Submitter, validate_notice};
use staydown_domain::roles::Role;
use staydown_store::{AppealResolution, Figure, NewAppeal, NewDecision, Period, StoredNotice, TransparencyReport};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use crate::support::{TestApp, each_backend, notice, removal};

const HOUR: f64 = 3_600_000.0;

/// Stores a notice received at `at`, with a confirmation of receipt to send when `confirm`.
async fn notice_at(app: &TestApp, submitter: Submitter, body: Value, at: OffsetDateTime, confirm: bool) -> String {
    let new = validate_notice(serde_json::from_value(body).unwrap(), &submitter, at).unwrap();
    store_notice(app, new, at, confirm).await
}

async fn store_notice(
    app: &TestApp,
    new: staydown_domain::notice::NewNotice,
    at: OffsetDateTime,
    confirm: bool,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let meta = StoredNotice {
        id: id.clone(),
        new_case_id: uuid::Uuid::now_v7().to_string(),
        received_at: at,
        assessment: app.state.policy().assess(&new, at),
        tracking_digest: staydown_domain::secret_digest(&id),
        api_key_id: None,
        actor: "test".into(),
        notifier_ref: None,
        confirmation: confirm.then(|| json!({"language": "en", "notice_id": id})),
    };
    app.store().insert_notice(new, meta).await.unwrap().case_id
}

/// Decides a case at `at`; returns the decision id.
async fn decide_at(app: &TestApp, case_id: &str, draft: Value, at: OffsetDateTime) -> String {
    let case = app.store().case_context(case_id).await.unwrap().unwrap();
    let ctx = DecisionContext {
        today: at.date(),
        category: case.category.clone(),
        keywords: case.keywords.clone(),
        detected_automatically: case.sources.contains(&staydown_domain::notice::Source::AutomatedMatch),
        notice_ids: case.notice_ids.clone(),
    };
    let decision = validate_decision(serde_json::from_value(draft).unwrap(), &ctx).unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let new = NewDecision {
        id: id.clone(),
        case_id: case_id.to_owned(),
        decided_by: "account:reviewer".into(),
        actor: "test".into(),
        decided_at: at,
        decision,
        statement: None,
        uploader_token_digest: None,
        messages: Vec::new(),
        replaces: None,
        appeal_id: None,
        banks: Vec::new(),
        transparency: None,
    };
    app.store().record_decision(&new, &MisusePolicy::default()).await.unwrap();
    id
}

/// An appeal received at `at`, decided `after` later with `outcome` (or left open).
async fn appeal_at(app: &TestApp, decision_id: &str, at: OffsetDateTime, decided: Option<(Duration, AppealOutcome)>) {
    let id = uuid::Uuid::now_v7().to_string();
    let appeal = NewAppeal {
        id: id.clone(),
        decision_id: decision_id.to_owned(),
        appellant: Appellant::Uploader,
        notice_id: None,
        received_at: at,
        reason: "It is not what you think.".into(),
        language: "en".into(),
        actor: "public".into(),
    };
    app.store().file_appeal(&appeal).await.unwrap();
    if let Some((after, outcome)) = decided {
        let resolution = AppealResolution {
            appeal_id: id,
            outcome,
            reasons: "Reviewed again.".into(),
            decided_by: "account:senior".into(),
            actor: "test".into(),
            at: at + after,
            messages: Vec::new(),
            replacement: None,
        };
        app.store().resolve_appeal(&resolution).await.unwrap();
    }
}

fn public_notice(url: &str, category: &str, keyword: &str) -> Value {
    let mut body = notice(url);
    body["category"] = json!(category);
    body["keywords"] = json!([keyword]);
    body
}

const CV: &str = "STATEMENT_CATEGORY_CYBER_VIOLENCE";
const CVAW: &str = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN";
const MINORS: &str = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS";

fn incompatible() -> Value {
    json!({
        "visibility": ["removed"], "ground": "incompatible", "terms_clause": "Terms 4.2: no intimate imagery without consent",
        "explanation": "Intimate imagery shared without consent.", "territorial_scope": ["EEA"],
        "content_date": "2026-01-05", "facts": "A notice reported the image.", "content_type": ["image"]
    })
}

fn no_action() -> Value {
    json!({"explanation": "The image is not intimate and shows no identifiable person."})
}

/// The data set of March 2026 (plus neighbours just outside it); returns nothing, the test knows it.
async fn build(app: &TestApp) {
    let t0 = datetime!(2026-03-10 12:00 UTC);
    let h = Duration::hours;
    let public = Submitter::Public;
    let tf = Submitter::TrustedFlagger { name: "Helpline".into() };
    // Art. 16 notices in CV: time to action 1 h, 3 h, 2 h.
    let kw = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING";
    let mut n1 = public_notice("https://a.example/1", CV, kw);
    n1["ai_generated"] = json!("yes");
    n1["generator"] = json!("a nudify app");
    let c = notice_at(app, public.clone(), n1, t0, false).await;
    let d1 = decide_at(app, &c, removal(), t0 + h(1)).await;
    let c = notice_at(app, public.clone(), public_notice("https://a.example/2", CV, kw), t0, false).await;
    let d2 = decide_at(app, &c, incompatible(), t0 + h(3)).await;
    let c = notice_at(app, public.clone(), public_notice("https://a.example/3", CV, kw), t0, false).await;
    decide_at(app, &c, no_action(), t0 + h(2)).await;
    // Trusted flaggers in CVAW: 1 h, 4 h, and one received in February, decided on 1 March 00:00.
    let kw_w = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN";
    let c = notice_at(app, tf.clone(), public_notice("https://b.example/1", CVAW, kw_w), t0, false).await;
    let d4 = decide_at(app, &c, removal(), t0 + h(1)).await;
    let c = notice_at(app, tf.clone(), public_notice("https://b.example/2", CVAW, kw_w), t0, false).await;
    decide_at(app, &c, removal(), t0 + h(4)).await;
    let feb = datetime!(2026-02-28 23:00 UTC);
    let c = notice_at(app, tf.clone(), public_notice("https://b.example/3", CVAW, kw_w), feb, false).await;
    decide_at(app, &c, removal(), datetime!(2026-03-01 00:00 UTC)).await;
    // The period's last millisecond (in, undecided) and the next one (out).
    let last = datetime!(2026-04-01 00:00 UTC) - Duration::milliseconds(1);
    notice_at(app, public.clone(), public_notice("https://c.example/1", CV, kw), last, false).await;
    notice_at(
        app,
        public.clone(),
        public_notice("https://c.example/2", CV, kw),
        last + Duration::milliseconds(1),
        false,
    )
    .await;

    // Orders: NL confirmed after 10 min and given effect after 30 min; DE confirmed by the API's
    // receipt (no contact address) and given effect after 90 min; NL never confirmed nor decided.
    let authority = Submitter::Authority { name: "ATKM".into() };
    let order = |url: &str, kind: &str, ms: &str| {
        let mut body = public_notice(url, MINORS, "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL");
        body.as_object_mut().unwrap().remove("notifier");
        body["order"] =
            json!({"kind": kind, "member_state": ms, "reference": format!("REF-{url}"), "legal_basis": "Art. 9 DSA"});
        body
    };
    let o1 = notice_at(app, authority.clone(), order("https://o.example/1", "atkm_csam", "NL"), t0, true).await;
    let o2 = notice_at(app, authority.clone(), order("https://o.example/2", "dsa_art9", "DE"), t0, false).await;
    notice_at(app, authority.clone(), order("https://o.example/3", "dsa_art9", "NL"), t0, true).await;
    let confirmations = app.store().outbox_items("notice.received").await.unwrap();
    let o1_notice = app.store().case_notice_ids(&o1).await.unwrap()[0].clone();
    let first = confirmations.iter().find(|i| i.notice_id.as_deref() == Some(o1_notice.as_str())).unwrap();
    app.store().outbox_delivered(&first.id, t0 + Duration::minutes(10), &json!({})).await.unwrap();
    let mut csam = removal();
    csam["legal_ground"] = json!("nl-sr-252");
    decide_at(app, &o1, csam.clone(), t0 + Duration::minutes(30)).await;
    decide_at(app, &o2, csam, t0 + Duration::minutes(90)).await;

    // Own initiative: a platform's own report (removal + account suspension), and a hash match
    // disabled under the terms by solely automated means.
    let platform = Submitter::Platform { name: "Uploads".into() };
    let c = notice_at(app, platform, public_notice("https://p.example/1", CV, kw), t0, false).await;
    let mut both = removal();
    both["account"] = json!("suspended");
    decide_at(app, &c, both, t0 + h(1)).await;
    let upload = Upload { content_id: Some("img-1".into()), url: None, hashes: None };
    let summary = MatchSummary {
        bank: "confirmed".into(),
        entry_id: "e1".into(),
        hash: "sha256",
        distance: None,
        transform: None,
        action: BankAction::Block,
    };
    let matched = automated_match_notice(&upload, &[summary], Verdict::Block, "Uploads");
    let c = store_notice(app, matched, t0, false).await;
    let mut disabled = incompatible();
    disabled["visibility"] = json!(["disabled"]);
    disabled["automated_decision"] = json!("fully");
    decide_at(app, &c, disabled, t0 + h(2)).await;

    // Complaints: upheld after 2 h, reversed after 4 h and 6 h, one still open.
    let day = t0 + Duration::days(1);
    appeal_at(app, &d1, day, Some((h(2), AppealOutcome::Upheld))).await;
    appeal_at(app, &d4, day, Some((h(4), AppealOutcome::Reversed))).await;
    appeal_at(app, &d2, day, Some((h(6), AppealOutcome::Reversed))).await;
    let c = notice_at(app, public, public_notice("https://a.example/4", CV, kw), t0, false).await;
    let d = decide_at(app, &c, removal(), t0 + h(5)).await;
    appeal_at(app, &d, day, None).await;
}

fn count(r: &TransparencyReport, table: &str, keys: &[&str], column: &str) -> i64 {
    let t = r.table(table).unwrap_or_else(|| panic!("table {table}"));
    t.figure(keys, column).and_then(Figure::count).unwrap_or_else(|| panic!("{table} {keys:?} {column}: {t:#?}"))
}

fn hours(r: &TransparencyReport, table: &str, keys: &[&str], column: &str) -> Option<f64> {
    let t = r.table(table).unwrap();
    let f = t.figure(keys, column).unwrap_or_else(|| panic!("{table} {keys:?} {column}: {t:#?}"));
    f.millis().map(|ms| ms / HOUR)
}

#[tokio::test]
async fn report_figures_match_a_hand_computed_data_set() {
    each_backend(|app| async move {
        build(&app).await;
        let march =
            app.store().transparency_report(Period::days(date!(2026 - 03 - 01), date!(2026 - 03 - 31))).await.unwrap();
        assert_eq!(march.period.label(), "2026-03-01/2026-03-31");

        // Notices: 4 public (+1 on the last millisecond) and 2 trusted-flagger ones received;
        // decided: 4 public + 3 TF (one received in February).
        let t = "notices";
        assert_eq!(count(&march, t, &["TOTAL"], "notices_received"), 7);
        assert_eq!(count(&march, t, &["TOTAL"], "notices_received_tf"), 2);
        assert_eq!(count(&march, t, &["TOTAL"], "items"), 7);
        assert_eq!(count(&march, t, &["TOTAL"], "decided"), 7);
        assert_eq!(count(&march, t, &["TOTAL"], "actions_law"), 5);
        assert_eq!(count(&march, t, &["TOTAL"], "actions_law_tf"), 3);
        assert_eq!(count(&march, t, &["TOTAL"], "actions_terms"), 1);
        assert_eq!(count(&march, t, &["TOTAL"], "actions_terms_tf"), 0);
        // Time to action: public 1, 3, 2, 5 h; TF 1, 4 h and 1 h (Feb 28 23:00 → Mar 1 00:00).
        // All seven sorted: 1 1 1 2 3 4 5 → 2 h (odd). TF: 1 1 4 → 1 h (odd).
        assert_eq!(hours(&march, t, &["TOTAL"], "median_time_to_action"), Some(2.0));
        assert_eq!(hours(&march, t, &["TOTAL"], "median_time_to_action_tf"), Some(1.0));
        // CV: 1 2 3 5 → 2.5 h (even); CVAW: 1 1 4 → 1 h.
        assert_eq!(hours(&march, t, &[CV], "median_time_to_action"), Some(2.5));
        assert_eq!(hours(&march, t, &[CVAW], "median_time_to_action"), Some(1.0));
        assert_eq!(count(&march, t, &[CV], "notices_received"), 5);
        assert_eq!(hours(&march, t, &[CV], "median_time_to_action_tf"), None);
        assert_eq!(march.table(t).unwrap().rows[0].keys, ["TOTAL"], "TOTAL comes first");

        // By source: own initiative and hash matches too.
        let s = "notices_by_source";
        assert_eq!(count(&march, s, &["TOTAL"], "notices_received"), 12);
        assert_eq!(count(&march, s, &["automated_match"], "processed_solely_automated"), 1);
        assert_eq!(hours(&march, s, &["authority_order"], "median_time_to_action"), Some(1.0));

        // Orders: receipt confirmed after 10 min (NL) and at once (DE) → 5 min (even); effect after
        // 30 and 90 min → 60 min; the unconfirmed NL order is in neither median.
        let o = "orders";
        assert_eq!(count(&march, o, &["TOTAL", "TOTAL", "TOTAL"], "orders_received"), 3);
        assert_eq!(count(&march, o, &["TOTAL", "TOTAL", "TOTAL"], "given_effect"), 2);
        assert_eq!(hours(&march, o, &["TOTAL", "TOTAL", "TOTAL"], "median_time_to_confirm_receipt"), Some(5.0 / 60.0));
        assert_eq!(hours(&march, o, &["TOTAL", "TOTAL", "TOTAL"], "median_time_to_give_effect"), Some(1.0));
        assert_eq!(count(&march, o, &["NL", "TOTAL", "TOTAL"], "orders_received"), 2);
        assert_eq!(hours(&march, o, &["NL", "TOTAL", "TOTAL"], "median_time_to_confirm_receipt"), Some(10.0 / 60.0));
        assert_eq!(hours(&march, o, &["DE", "TOTAL", "TOTAL"], "median_time_to_give_effect"), Some(1.5));
        assert_eq!(count(&march, o, &["TOTAL", "dsa_art9", "TOTAL"], "orders_received"), 2);
        assert_eq!(count(&march, o, &["NL", "TOTAL", MINORS], "orders_received"), 2);

        // Own initiative: one by law (removal + account suspension), one under the terms (disabled,
        // hash match, solely automated).
        let w = "own_initiative";
        assert_eq!(count(&march, w, &["TOTAL", "TOTAL"], "measures"), 2);
        assert_eq!(count(&march, w, &["law", "TOTAL"], "visibility_removal"), 1);
        assert_eq!(count(&march, w, &["law", "TOTAL"], "account_suspension"), 1);
        assert_eq!(count(&march, w, &["law", "TOTAL"], "hash_matches"), 0);
        assert_eq!(count(&march, w, &["terms", CV], "visibility_disable"), 1);
        assert_eq!(count(&march, w, &["terms", "TOTAL"], "after_automated_detection"), 1);
        assert_eq!(count(&march, w, &["terms", "TOTAL"], "solely_automated_decision"), 1);
        assert_eq!(count(&march, w, &["terms", "TOTAL"], "hash_matches"), 1);

        // Complaints: 4 received, 3 decided after 2, 4, 6 h → 4 h.
        let a = "complaints";
        assert_eq!(count(&march, a, &["TOTAL"], "total"), 4);
        assert_eq!(count(&march, a, &["TOTAL"], "decided"), 3);
        assert_eq!(count(&march, a, &["TOTAL"], "upheld"), 1);
        assert_eq!(count(&march, a, &["TOTAL"], "reversed"), 2);
        assert_eq!(count(&march, a, &["TOTAL"], "partially_reversed"), 0);
        assert_eq!(hours(&march, a, &["TOTAL"], "median_time"), Some(4.0));
        assert_eq!(count(&march, "suspensions", &[], "suspensions_manifestly_unfounded_notices"), 0);

        // Notifier claims: one case said to be AI-generated by a nudify app.
        let c = "ai_generated_claims";
        assert_eq!(count(&march, c, &["yes", "TOTAL", "TOTAL"], "cases"), 1);
        assert_eq!(count(&march, c, &["yes", "a nudify app", CV], "cases"), 1);
        assert_eq!(count(&march, c, &["TOTAL", "TOTAL", "TOTAL"], "cases"), 12);

        // Neighbouring periods see the boundary notices on their side.
        let feb =
            app.store().transparency_report(Period::days(date!(2026 - 02 - 01), date!(2026 - 02 - 28))).await.unwrap();
        assert_eq!(count(&feb, t, &["TOTAL"], "notices_received_tf"), 1);
        assert_eq!(count(&feb, t, &["TOTAL"], "decided"), 0);
        assert_eq!(hours(&feb, t, &["TOTAL"], "median_time_to_action"), None);
        let april =
            app.store().transparency_report(Period::days(date!(2026 - 04 - 01), date!(2026 - 04 - 30))).await.unwrap();
        assert_eq!(count(&april, t, &["TOTAL"], "notices_received"), 1);

        // An empty period: every table has its TOTAL row of zeros and no medians.
        let empty =
            app.store().transparency_report(Period::days(date!(2025 - 01 - 01), date!(2025 - 01 - 31))).await.unwrap();
        for table in &empty.tables {
            assert_eq!(table.rows.len(), 1, "{table:#?}");
            assert!(table.rows[0].figures.iter().all(|f| matches!(f, Figure::Count(0) | Figure::Millis(None))));
        }
    })
    .await;
}

/// The rollup report and the row-scanning SQL report agree: same tables, rows and counts, and
/// medians within a minute (the rollups keep durations by whole minute).
fn assert_agree(rollup: &TransparencyReport, sql: &TransparencyReport) {
    assert_eq!(rollup.tables.len(), sql.tables.len());
    for (r, s) in rollup.tables.iter().zip(&sql.tables) {
        assert_eq!((r.name, &r.columns), (s.name, &s.columns));
        let keys = |t: &staydown_store::Table| t.rows.iter().map(|r| r.keys.clone()).collect::<Vec<_>>();
        assert_eq!(keys(r), keys(s), "{} rows, {:?}", r.name, rollup.period);
        for (rr, sr) in r.rows.iter().zip(&s.rows) {
            for ((col, a), b) in r.columns.iter().zip(&rr.figures).zip(&sr.figures) {
                let same = match (a, b) {
                    (Figure::Count(a), Figure::Count(b)) => a == b,
                    (Figure::Millis(Some(a)), Figure::Millis(Some(b))) => (a - b).abs() < 60_000.0,
                    (Figure::Millis(None), Figure::Millis(None)) => true,
                    _ => false,
                };
                assert!(same, "{} {:?} {}: rollups {a:?}, SQL {b:?} ({:?})", r.name, rr.keys, col.key, rollup.period);
            }
        }
    }
}

#[tokio::test]
async fn rollups_agree_with_the_row_scanning_sql_before_and_after_a_rebuild() {
    each_backend(|app| async move {
        build(&app).await;
        let mut periods = vec![
            Period::days(date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            Period::days(date!(2026 - 03 - 01), date!(2026 - 03 - 31)),
            Period::days(date!(2025 - 01 - 01), date!(2025 - 01 - 31)),
        ];
        let mut day = date!(2026 - 02 - 26);
        while day <= date!(2026 - 04 - 03) {
            periods.push(Period::days(day, day));
            day = day.next_day().unwrap();
        }
        let store = app.store();
        for period in &periods {
            let rollup = store.transparency_report(*period).await.unwrap();
            assert_agree(&rollup, &store.transparency_report_sql(*period).await.unwrap());
        }
        // The hand-computed March figures come out of the rollups too (exact: whole minutes).
        let march = store.transparency_report(periods[1]).await.unwrap();
        assert_eq!(count(&march, "notices", &["TOTAL"], "decided"), 7);
        assert_eq!(hours(&march, "notices", &[CV], "median_time_to_action"), Some(2.5));
        assert_eq!(
            hours(&march, "orders", &["TOTAL", "TOTAL", "TOTAL"], "median_time_to_confirm_receipt"),
            Some(5.0 / 60.0)
        );
        assert_eq!(hours(&march, "complaints", &["TOTAL"], "median_time"), Some(4.0));

        // A rebuild from the rows gives the same reports as the rollups kept up to date.
        let before: Vec<_> = {
            let mut v = Vec::new();
            for p in &periods {
                v.push(store.transparency_report(*p).await.unwrap());
            }
            v
        };
        assert!(store.rebuild_rollups().await.unwrap() > 0);
        for (p, old) in periods.iter().zip(&before) {
            assert_eq!(&store.transparency_report(*p).await.unwrap(), old, "{p:?}");
        }
        let now = app.state.now();
        for p in &periods[..2] {
            let (a, b) = (store.stats(*p, now).await.unwrap(), store.stats_sql(*p, now).await.unwrap());
            for (x, y) in [(&a.time_to_action, &b.time_to_action), (&a.deadlines, &b.deadlines)] {
                let wrap = |t: &staydown_store::Table| TransparencyReport { period: *p, tables: vec![t.clone()] };
                assert_agree(&wrap(x), &wrap(y));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn stats_give_percentiles_deadline_misses_ai_share_and_bank_matches() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        // Two notices decided now: one within its deadline; one left open past it.
        let a = app.file(&notice("https://s.example/1"), None).await;
        let _ = a;
        let case = app.only_case(&reviewer).await;
        let (status, body) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        app.file(&notice("https://s.example/2"), None).await;
        // A screened AI-generated file that matches the confirmed bank.
        let image =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/c2pa/ocsp.jpg")).expect("fixture");
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("up.jpg"), &image)];
        let (_, first) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        let (status, _) = app
            .post("/api/v1/banks/confirmed/entries", &json!({"sha256": first["hashes"]["sha256"]}), Some(&admin))
            .await;
        assert_eq!(status, 201);
        let (_, second) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(second["verdict"], "block");
        app.advance(Duration::days(2));

        let (status, stats) = app.get("/api/v1/stats", Some(&reviewer)).await;
        assert_eq!(status, 200, "{stats}");
        let tta = &stats["time_to_action"];
        assert_eq!(tta["total"]["decided"], 1, "{stats}");
        let by_source = tta["by_source"].as_array().unwrap();
        assert_eq!(by_source.len(), 1);
        assert_eq!(by_source[0]["source"], "article_16");
        let p50 = by_source[0]["p50_seconds"].as_f64().unwrap();
        assert!(p50 >= 0.0 && by_source[0]["p99_seconds"].as_f64() == Some(p50));
        assert_eq!(tta["by_category"][0]["category"], "STATEMENT_CATEGORY_CYBER_VIOLENCE");
        assert_eq!(stats["deadlines"]["total"]["decided"], 1);
        assert_eq!(stats["deadlines"]["total"]["decided_late"], 0);
        assert_eq!(stats["deadlines"]["total"]["open_past_deadline"], 2, "the open notice and the held upload");
        let ai = &stats["ai_generated"];
        assert_eq!(ai["total"]["items"], 1, "{stats}");
        assert_eq!(ai["by_generator"][0]["generator"], "Adobe Firefly");
        assert_eq!(ai["by_generator"][0]["share_of_ai_generated"], 1.0);
        let banks = stats["bank_matches"].as_array().unwrap();
        let confirmed = banks.iter().find(|b| b["bank"] == "confirmed").unwrap();
        assert_eq!((confirmed["screenings"].as_i64(), confirmed["blocked"].as_i64()), (Some(1), Some(1)));

        // An explicit period without the data, and bad parameters named by field.
        let (status, old) = app.get("/api/v1/stats?from=2020-01-01&to=2020-01-31", Some(&reviewer)).await;
        assert_eq!(status, 200);
        assert_eq!(old["time_to_action"]["total"]["decided"], 0);
        assert_eq!(old["time_to_action"]["total"]["p50_seconds"], Value::Null);
        assert_eq!(old["period"]["until"], "2020-02-01T00:00:00Z");
        for (query, field) in
            [("from=yesterday", "from"), ("to=2026-13-01", "to"), ("from=2026-02-01&to=2026-01-01", "to")]
        {
            let (status, problem) = app.get(&format!("/api/v1/stats?{query}"), Some(&reviewer)).await;
            assert_eq!(status, 422, "{query}: {problem}");
            assert_eq!(crate::support::error_fields(&problem), [field], "{query}");
        }
    })
    .await;
}

#[tokio::test]
async fn metrics_show_route_latency_queue_gauges_and_decisions() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        app.file(&notice("https://m.example/1"), None).await;
        let case = app.only_case(&reviewer).await;
        app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        app.file(&notice("https://m.example/2"), None).await;
        app.advance(Duration::days(2));
        let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(
            text.contains(
                "staydown_http_request_seconds_bucket{method=\"POST\",route=\"/api/v1/notices\",status=\"201\""
            ),
            "{text}"
        );
        assert!(text.contains("route=\"/api/v1/cases/{id}/decision\""), "{text}");
        assert!(text.contains("staydown_decisions_total{restriction=\"visibility\"}"), "{text}");
        // The gauges are set from the store at scrape time (the recorder is shared by every test of
        // this process, so their values are checked at the source).
        assert!(text.contains("\nstaydown_queue_depth "), "{text}");
        assert!(text.contains("\nstaydown_overdue_open_cases "), "{text}");
        let gauges = app.store().queue_gauges(app.state.now()).await.unwrap();
        assert_eq!((gauges.open, gauges.overdue), (1, 1));
    })
    .await;
}

/// The dashboard's figures in `GET /api/v1/stats`: time to action per week (by source and by
/// category), time to pick-up, the share acted on within 24 h and 48 h, per trusted flagger the
/// notices sent, share acted on and median time, and the open and overdue cases now.
#[tokio::test]
async fn stats_give_weekly_pickup_within_48h_and_per_flagger_figures() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        let flagger = app.key(Role::TrustedFlagger, "Offlimits").await;
        // The flagger's first notice is removed after 30 h (within 48 h, not 24 h); its second is
        // decided with no action at once; a public notice stays open past its deadline.
        let mut body = notice("https://f.example/1");
        body["notifier"] = Value::Null;
        app.file(&body, Some(&flagger)).await;
        let first = app.only_case(&reviewer).await;
        app.advance(Duration::hours(2));
        let (status, _) = app.post(&format!("/api/v1/cases/{first}/take"), &json!({}), Some(&reviewer)).await;
        assert_eq!(status, 200);
        app.advance(Duration::hours(28));
        let (status, body) = app.post(&format!("/api/v1/cases/{first}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        let mut body = notice("https://f.example/2");
        body["notifier"] = Value::Null;
        app.file(&body, Some(&flagger)).await;
        let second = app.only_case(&reviewer).await;
        let no_action = json!({"explanation": "The image is not of the notifier and shows no nudity."});
        let (status, body) = app.post(&format!("/api/v1/cases/{second}/decision"), &no_action, Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        app.file(&notice("https://f.example/3"), None).await;
        app.advance(Duration::days(8));

        let (status, stats) = app.get("/api/v1/stats", Some(&reviewer)).await;
        assert_eq!(status, 200, "{stats}");
        let weeks = stats["time_to_action"]["by_week"].as_array().unwrap();
        assert_eq!(weeks.iter().map(|w| w["decided"].as_i64().unwrap()).sum::<i64>(), 2, "{stats}");
        for w in weeks {
            let week = time::Date::parse(
                w["week"].as_str().unwrap(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap();
            assert_eq!(week.weekday(), time::Weekday::Monday, "weeks start on Monday: {w}");
        }
        let by_source = stats["time_to_action"]["by_week_and_source"].as_array().unwrap();
        assert!(by_source.iter().all(|r| r["source"] == "trusted_flagger"), "{by_source:?}");
        assert!(!stats["time_to_action"]["by_week_and_category"].as_array().unwrap().is_empty());
        let pickup = &stats["time_to_pickup"]["total"];
        assert_eq!(pickup["picked_up"], 1, "{stats}");
        let p50 = pickup["p50_seconds"].as_f64().unwrap();
        assert!((7200.0..7260.0).contains(&p50), "picked up after 2 h: {p50}");
        let within = &stats["acted_within"]["total"];
        assert_eq!((within["received"].as_i64(), within["decided"].as_i64()), (Some(3), Some(2)), "{stats}");
        assert_eq!((within["within_24h"].as_i64(), within["within_48h"].as_i64()), (Some(1), Some(2)));
        assert_eq!(within["share_within_48h"].as_f64(), Some(2.0 / 3.0));
        let flaggers = stats["trusted_flaggers"].as_array().unwrap();
        assert_eq!(flaggers.len(), 1, "{flaggers:?}");
        assert_eq!(flaggers[0]["flagger"], "Offlimits");
        assert_eq!((flaggers[0]["notices"].as_i64(), flaggers[0]["acted_on"].as_i64()), (Some(2), Some(1)));
        assert_eq!(flaggers[0]["share_acted_on"].as_f64(), Some(0.5));
        let median = flaggers[0]["median_seconds"].as_f64().unwrap();
        assert!((15.0 * 3600.0..15.1 * 3600.0).contains(&median), "median of 30 h and ~0 h: {median}");
        assert_eq!((stats["queue"]["open"].as_i64(), stats["queue"]["overdue"].as_i64()), (Some(1), Some(1)));
    })
    .await;
}

/// The AI-generated sections count distinct cases over the period, which is not a sum of days; the
/// rollups keep them exact (`rollups_distinct.rs`): one case with notices on several days, with
/// the same and with different claims, a notice stored out of order, and screened files of one
/// case on two days, agree with the row-scanning SQL over every span of days.
#[tokio::test]
async fn ai_sections_from_rollups_count_each_case_once_over_any_span_of_days() {
    each_backend(|app| async move {
        let public = Submitter::Public;
        let kw = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING";
        let claim = |url: &str, ai: &str, generator: Option<&str>| {
            let mut body = public_notice(url, CV, kw);
            body["ai_generated"] = json!(ai);
            if let Some(g) = generator {
                body["generator"] = json!(g);
            }
            body
        };
        let d0 = datetime!(2026-05-04 12:00 UTC);
        let day = Duration::days;
        let u = "https://ai.example/1";
        let case = notice_at(&app, public.clone(), claim(u, "yes", Some("app a")), d0, false).await;
        for (at, ai, generator) in [
            (d0 + Duration::hours(1), "yes", Some("app a")),
            (d0 + day(1), "unknown", None),
            (d0 + day(3), "yes", Some("app b")),
            (d0 + day(3) + Duration::hours(1), "yes", Some("app a")),
            // Stored last, received before the two above: the days after it are recounted.
            (d0 + day(2), "yes", Some("app a")),
        ] {
            assert_eq!(notice_at(&app, public.clone(), claim(u, ai, generator), at, false).await, case);
        }
        notice_at(&app, public.clone(), claim("https://ai.example/2", "yes", Some("app a")), d0 + day(1), false).await;

        // Screened AI-generated files of one case on two days.
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let image =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/c2pa/ocsp.jpg")).expect("fixture");
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("up.jpg"), &image)];
        let (_, first) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        let (status, _) = app
            .post("/api/v1/banks/confirmed/entries", &json!({"sha256": first["hashes"]["sha256"]}), Some(&admin))
            .await;
        assert_eq!(status, 201);
        let screened_from = app.state.now().date();
        for _ in 0..2 {
            let (_, screened) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
            assert_eq!(screened["verdict"], "block");
            app.advance(day(1));
        }

        let store = app.store();
        let mut periods = Vec::new();
        for start in [screened_from, d0.date() - day(1)] {
            for first in 0..5 {
                for len in [0, 1, 2, 4] {
                    periods.push(Period::days(start + day(first), start + day(first + len)));
                }
            }
        }
        for period in &periods {
            assert_agree(
                &store.transparency_report(*period).await.unwrap(),
                &store.transparency_report_sql(*period).await.unwrap(),
            );
        }
        let span = Period::days(d0.date(), d0.date() + day(3));
        let r = store.transparency_report(span).await.unwrap();
        assert_eq!(count(&r, "ai_generated_claims", &["TOTAL", "TOTAL", "TOTAL"], "cases"), 2);
        assert_eq!(count(&r, "ai_generated_claims", &["TOTAL", "TOTAL", "TOTAL"], "notices"), 7);
        assert_eq!(count(&r, "ai_generated_claims", &["yes", "app a", CV], "cases"), 2);
        assert_eq!(count(&r, "ai_generated_claims", &["yes", "app b", CV], "cases"), 1);
        let screened = Period::days(screened_from, screened_from + day(1));
        let r = store.transparency_report(screened).await.unwrap();
        assert_eq!(count(&r, "ai_generated_files", &["TOTAL", "TOTAL", "TOTAL"], "cases"), 1);

        // A rebuild from the rows gives the same figures.
        let before: Vec<_> = {
            let mut v = Vec::new();
            for p in &periods {
                v.push(store.transparency_report(*p).await.unwrap());
            }
            v
        };
        store.rebuild_rollups().await.unwrap();
        for (p, old) in periods.iter().zip(&before) {
            assert_eq!(&store.transparency_report(*p).await.unwrap(), old, "{p:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_chunked_benchmark_generator_keeps_the_rollups_a_rebuild_computes() {
    each_backend(|app| async move {
        let store = app.store();
        // 300 cases over 10 days, one every 48 minutes: decisions up to 48 h and complaints up to
        // 6 days after receipt fall into the days of later chunks, which start mid-day.
        let (start, span) = (datetime!(2025-03-01 0:00 UTC), Duration::days(10));
        let mut next = 1;
        for last in [37, 100, 101, 250, 300] {
            store.bench_seed_decided_chunk(next, last, 300, start, span).await.unwrap();
            next = last + 1;
        }
        // A chunk that does not continue where the database stands is refused.
        assert!(store.bench_seed_decided_chunk(5, 10, 300, start, span).await.is_err());
        assert_eq!(store.count_notices().await.unwrap(), 300);
        let mut periods = vec![Period::days(date!(2025 - 01 - 01), date!(2025 - 12 - 31))];
        let mut day = date!(2025 - 02 - 28);
        while day <= date!(2025 - 03 - 20) {
            periods.push(Period::days(day, day));
            day = day.next_day().unwrap();
        }
        let mut kept = Vec::new();
        for p in &periods {
            let report = store.transparency_report(*p).await.unwrap();
            assert_agree(&report, &store.transparency_report_sql(*p).await.unwrap());
            kept.push(report);
        }
        // Own-initiative and automated cases (a quarter of them) have no notice in that table.
        assert!(count(&kept[0], "notices", &["TOTAL"], "notices_received") > 200);
        // A rebuild from the rows writes what the chunks kept.
        assert!(store.rebuild_rollups().await.unwrap() > 0);
        for (p, old) in periods.iter().zip(&kept) {
            assert_eq!(&store.transparency_report(*p).await.unwrap(), old, "{p:?}");
        }
    })
    .await;
}
