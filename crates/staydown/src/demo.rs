//! Demo data for `staydown serve --demo`: keys for each role and notices from every source, filed
//! through the same intake path as the API, so a newcomer sees a realistic queue at once.
//!
//! Cases of every source — an Art. 16 notice, a trusted flagger's notice, an authority order, an
//! upload blocked by a hash-bank match, a platform's own report — are decided through the same
//! decision path as the API (`decide_case`), so `staydown report` (DSA Art. 15) and `staydown sor
//! export` (Art. 24(5)) show real rows on a demo database.

use anyhow::Context;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_server::AppState;
use staydown_server::api::cases::decide_case;
use staydown_server::api::notices::file_notice;
use staydown_server::api::screen::screen_hashes;
use staydown_server::auth::Caller;

use crate::cmd::key::create_key;

async fn caller(state: &AppState, role: Role, name: &str) -> anyhow::Result<(Caller, String)> {
    let key = create_key(state.store(), role, name).await?;
    let record = state.store().api_key_by_digest(&secret_digest(&key)).await?;
    Ok((Caller { key: record }, key))
}

/// Decides a case through the one decision path, as a reviewer would over the API.
async fn decide(state: &AppState, reviewer: &Caller, case_id: &str, decision: serde_json::Value) -> anyhow::Result<()> {
    let draft = serde_json::from_value(decision)?;
    decide_case(state, reviewer, case_id, draft).await.map_err(|e| anyhow::anyhow!("demo decision: {e}"))?;
    Ok(())
}

fn draft(value: serde_json::Value) -> anyhow::Result<staydown_domain::notice::NoticeDraft> {
    Ok(serde_json::from_value(value)?)
}

/// Seeds an empty database; leaves one with notices alone.
pub async fn seed(state: &AppState, listen: &str) -> anyhow::Result<()> {
    if state.store().count_notices().await? > 0 {
        eprintln!("demo: the database already has notices; not seeding again (keys were printed at first start;");
        eprintln!("      make a new one with: staydown key create --role reviewer --name you)");
        return Ok(());
    }
    let public = Caller { key: None };
    let (flagger, _) = caller(state, Role::TrustedFlagger, "Offlimits / Helpwanted (demo)").await?;
    let (authority, _) = caller(state, Role::Authority, "ATKM (demo)").await?;
    let (platform, _) = caller(state, Role::Platform, "Demo platform uploads").await?;
    let (_, reviewer_key) = caller(state, Role::Reviewer, "Demo reviewer").await?;

    let deepfake = file_notice(
        state,
        &public,
        draft(serde_json::json!({
            "locations": [{"url": "https://social.example/p/8812?utm_source=share"}],
            "explanation": "A fake nude picture of me made with a 'nudify' app is posted here. I never agreed to this.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
            "keywords": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"],
            "legal_ground": "nl-sr-254ba",
            "notifier": {"name": "Demo Person", "email": "demo.person@example.org"},
            "good_faith": true, "minor_involved": "no", "ai_generated": "yes", "generator": "a nudify app",
            "language": "en"
        }))?,
    )
    .await?;
    // The same post, reported by a trusted flagger: it joins the case above and tightens its deadline.
    file_notice(
        state,
        &flagger,
        draft(serde_json::json!({
            "locations": [{"url": "https://social.example/p/8812"}],
            "explanation": "Victim contacted our helpline; deepfake nude image published without consent.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
            "keywords": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"],
            "legal_ground": "nl-sr-254ba", "good_faith": true, "ai_generated": "yes"
        }))?,
    )
    .await?;
    let order = file_notice(
        state,
        &authority,
        draft(serde_json::json!({
            "locations": [{"content_id": "img-40231"}],
            "explanation": "Aanwijzing: verwijder het seksueel misbruikmateriaal op deze locatie.",
            "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "keywords": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            "legal_ground": "nl-sr-252", "good_faith": true,
            "order": {"kind": "atkm_csam", "reference": "ATKM-DEMO-0001",
                      "legal_basis": "Wet bestuursrechtelijke aanpak online kinderpornografisch materiaal"}
        }))?,
    )
    .await?;
    // A victim's pre-emptive, hash-only report: the image never left their device.
    file_notice(
        state,
        &public,
        draft(serde_json::json!({
            "explanation": "Iemand dreigt een naaktfoto van mij te verspreiden. Dit is de hash van die foto.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "legal_ground": "nl-sr-317",
            "hashes": {"pdq": "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22", "pdq_quality": 100},
            "notifier": {"name": "Demo Melder", "email": "melder@example.org"},
            "good_faith": true, "language": "nl"
        }))?,
    )
    .await?;
    file_notice(
        state,
        &public,
        draft(serde_json::json!({
            "locations": [{"url": "https://forum.example/t/123#post-4"}],
            "explanation": "Sexual image of a child in this thread.",
            "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "keywords": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            "good_faith": true, "minor_involved": "yes"
        }))?,
    )
    .await?;

    // Staff accounts (password = username + "-demo-password"), and two decided cases.
    let mut staff = Vec::new();
    for (username, role) in [("demo-reviewer", Role::Reviewer), ("demo-senior", Role::SeniorReviewer)] {
        crate::cmd::account::create_account(
            state.store(),
            username,
            role.as_str(),
            &format!("{username}-demo-password"),
        )
        .await?;
        let account = state.store().account_by_username(username).await?.context("demo account")?;
        let (key_id, key) = staydown_server::auth::generate_api_key();
        state.store().create_account_key(&key_id, &account, &secret_digest(&key), state.now()).await?;
        let record = state.store().api_key_by_digest(&secret_digest(&key)).await?;
        staff.push((Caller { key: record }, key));
    }
    // Console accounts for the other kinds of staff, so every part of `/staff` can be tried.
    for (username, role) in [("demo-admin", Role::Admin), ("demo-caseworker", Role::Caseworker)] {
        crate::cmd::account::create_account(
            state.store(),
            username,
            role.as_str(),
            &format!("{username}-demo-password"),
        )
        .await?;
    }
    let today = state.now().date();
    decide(
        state,
        &staff[0].0,
        &order.case_id,
        serde_json::json!({
            "visibility": ["removed"], "ground": "illegal", "legal_ground": "nl-sr-252",
            "explanation": "Sexual imagery of a minor; removal ordered by the ATKM.",
            "territorial_scope": ["EEA"], "content_date": today.to_string(),
            "facts": "Removal instruction ATKM-DEMO-0001; the reviewer confirmed the content at the location given.",
            "content_type": ["image"]
        }),
    )
    .await?;
    decide(
        state,
        &staff[0].0,
        &deepfake.case_id,
        serde_json::json!({
            "visibility": ["removed"], "account": "suspended", "ground": "illegal", "legal_ground": "nl-sr-254ba",
            "explanation": "A sexual deepfake of a real person, published without her consent.",
            "territorial_scope": ["EEA"], "content_date": today.to_string(),
            "end_dates": {"account": (today + time::Duration::days(90)).to_string()},
            "facts": "Reported by the person shown and by a trusted flagger; the image is AI-generated.",
            "content_type": ["image", "synthetic_media"]
        }),
    )
    .await?;

    let tf_case = file_notice(
        state,
        &flagger,
        draft(serde_json::json!({
            "locations": [{"url": "https://chat.example/g/9/m/771"}],
            "explanation": "Intimate video of our client shared in a group chat after a break-up, without consent.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "legal_ground": "nl-sr-254ba", "good_faith": true, "ai_generated": "no"
        }))?,
    )
    .await?;
    decide(state, &staff[0].0, &tf_case.case_id, serde_json::json!({
            "visibility": ["removed"], "ground": "incompatible", "terms_clause": "Terms 4.2: no intimate imagery without consent",
            "explanation": "Intimate imagery shared without the consent of the person shown.",
            "territorial_scope": ["EEA"], "content_date": today.to_string(),
            "facts": "Reported by a trusted flagger on behalf of the person shown; the reviewer checked the video.",
            "content_type": ["video"]
        })).await?;

    // The platform's own moderation reports a post itself (own initiative).
    let own = file_notice(
        state,
        &platform,
        draft(serde_json::json!({
            "locations": [{"content_id": "post-5521"}],
            "explanation": "Our moderators found a nude image posted with the caption 'revenge'.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"], "good_faith": true
        }))?,
    )
    .await?;
    decide(state, &staff[0].0, &own.case_id, serde_json::json!({
            "visibility": ["disabled"], "ground": "incompatible", "terms_clause": "Terms 4.2: no intimate imagery without consent",
            "explanation": "A nude image posted as 'revenge' is intimate imagery shared without consent.",
            "territorial_scope": ["NL"], "content_date": today.to_string(),
            "facts": "Found by the platform's own moderators; the reviewer confirmed it.",
            "content_type": ["image"]
        })).await?;

    // A re-upload of a banked image: screening blocks it and opens a case (automated match).
    let banked_sha256 = "5f0c6b1e9a4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3";
    state
        .store()
        .add_bank_entry(
            staydown_domain::bank::CONFIRMED_BANK,
            &staydown_domain::bank::NewEntry {
                pdq: None,
                quality: None,
                sha256: Some(banked_sha256.to_owned()),
                md5: None,
                note: Some("demo".to_owned()),
                reason: Some("removed by an earlier decision (demo)".to_owned()),
            },
            "demo",
            state.now(),
        )
        .await?;
    state.refresh_banks().await;
    let screened = screen_hashes(
        state,
        &platform,
        serde_json::from_value(serde_json::json!({
            "sha256": banked_sha256, "content_id": "upload-88213", "url": "https://social.example/p/9120"
        }))?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo screening: {e}"))?;
    let matched = screened.case_id().context("the demo upload should have been blocked")?.to_owned();
    decide(
        state,
        &staff[0].0,
        &matched,
        serde_json::json!({
            "visibility": ["removed"], "ground": "illegal", "legal_ground": "nl-sr-254ba",
            "explanation": "A re-upload of an image removed earlier as a sexual deepfake published without consent.",
            "territorial_scope": ["EEA"], "content_date": today.to_string(),
            "facts": "Upload screening matched the hash of an image removed by an earlier decision.",
            "content_type": ["image", "synthetic_media"], "automated_decision": "partially"
        }),
    )
    .await?;

    eprintln!(
        "demo: seeded 8 notices in 7 cases (5 decided, one per source), confirmations and decisions go to mail/ beside the database."
    );
    eprintln!("demo: reviewer key (shown once): {reviewer_key}");
    eprintln!(
        "demo: staff console http://{listen}/staff/login — accounts demo-reviewer, demo-senior, demo-admin, \
         demo-caseworker; password <username>-demo-password. API keys:"
    );
    eprintln!("demo:   demo-reviewer {}", staff[0].1);
    eprintln!("demo:   demo-senior   {}", staff[1].1);
    eprintln!("demo: try  curl -s -H 'Authorization: Bearer {reviewer_key}' http://{listen}/api/v1/queue");
    let caseworker_key = seed_helpline(state).await?;
    eprintln!("demo: helpline mode: 5 help cases, 8 removal requests to 3 platforms; caseworker key: {caseworker_key}");
    eprintln!("demo: try  curl -s -H 'Authorization: Bearer {caseworker_key}' http://{listen}/api/v1/helpline/league");
    Ok(())
}

/// Helpline mode's demo (issue 13): platforms reached by e-mail, web form and letter, help cases
/// and removal requests with answers recorded over the past days, through the store's own paths
/// (times are set in the past so the league table has turnaround to show). Returns a caseworker key.
async fn seed_helpline(state: &AppState) -> anyhow::Result<String> {
    use staydown_domain::helpline::request::{RequestDraft, RequestState, validate_request};
    use staydown_domain::helpline::{HelpCaseDraft, PlatformChannel, PlatformDraft, validate_case, validate_platform};
    use staydown_store::RequestAnswer;
    let store = state.store();
    let (_, key) = caller(state, Role::Caseworker, "Demo caseworker").await?;
    let actor = "demo";
    let now = state.now();
    let hours = time::Duration::hours;
    let start = now - time::Duration::days(20);
    let mut platforms = Vec::new();
    for p in [
        serde_json::json!({"name": "SocialExample", "email": "abuse@social.example", "member_state": "IE",
            "language": "en", "digital_services_coordinator": "Coimisiún na Meán"}),
        serde_json::json!({"name": "TubeExample", "web_form_url": "https://tube.example/report", "member_state": "NL",
            "trusted_flagger": true, "digital_services_coordinator": "ACM"}),
        serde_json::json!({"name": "SmallForumExample", "channel": "letter", "member_state": "NL",
            "digital_services_coordinator": "ACM"}),
    ] {
        let platform =
            validate_platform(serde_json::from_value::<PlatformDraft>(p)?).map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = uuid::Uuid::now_v7().to_string();
        store.insert_helpline_platform(&id, &platform, actor, start).await?;
        platforms.push(store.helpline_platform(&id).await?.context("demo platform")?);
    }
    let cases = [
        ("ai_generated", "chat", "Utrecht", false, "no"),
        ("ai_generated", "school", "Amsterdam", false, "yes"),
        ("edited", "phone", "Rotterdam", false, "no"),
        ("real", "web_form", "Utrecht", true, "no"),
        ("ai_generated", "email", "Groningen", false, "unknown"),
    ];
    // (case, platform, hours after the case opened it was sent, outcome, hours to the answer)
    let requests: [(usize, usize, i64, Option<RequestState>, i64); 8] = [
        (0, 0, 1, Some(RequestState::Removed), 30),
        (0, 1, 1, Some(RequestState::Removed), 3),
        (1, 1, 2, Some(RequestState::Removed), 5),
        (1, 0, 2, Some(RequestState::Refused), 70),
        (2, 2, 4, Some(RequestState::NoAnswer), 0),
        (3, 0, 1, Some(RequestState::Removed), 52),
        (3, 1, 1, Some(RequestState::Removed), 8),
        (4, 2, 3, None, 0),
    ];
    let mut case_ids = Vec::new();
    for (n, (kind, channel, municipality, sextortion, minor)) in cases.iter().enumerate() {
        let opened = start + time::Duration::days(3 * n as i64);
        let case = validate_case(serde_json::from_value::<HelpCaseDraft>(serde_json::json!({
            "summary": format!("Demo case {}: images of a client shared without consent", n + 1),
            "image_kind": kind, "channel": channel, "municipality": municipality, "sextortion": sextortion,
            "minor_involved": minor, "consent": true, "exposure": "public",
        }))?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = uuid::Uuid::now_v7().to_string();
        store.insert_help_case(&id, &case, actor, opened).await?;
        case_ids.push((id, opened));
    }
    store
        .insert_helpline_referral(&uuid::Uuid::now_v7().to_string(), &case_ids[1].0, "school", actor, case_ids[1].1)
        .await?;
    store
        .insert_helpline_referral(&uuid::Uuid::now_v7().to_string(), &case_ids[3].0, "police", actor, case_ids[3].1)
        .await?;
    for (n, (case, platform, after, outcome, answer_hours)) in requests.into_iter().enumerate() {
        let (case_id, opened) = &case_ids[case];
        let p = &platforms[platform];
        // The one still waiting was sent two hours ago; the rest over the past weeks.
        let sent = if outcome.is_none() { now - hours(2) } else { *opened + hours(after) };
        let request = validate_request(RequestDraft {
            platform: Some(p.id.clone()),
            url: Some(format!("https://{}.example/p/{}", p.name.to_lowercase(), 1000 + n)),
            category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
            legal_ground: Some("nl-sr-254ba".into()),
            explanation: Some("A sexual image of our client, published without her consent.".into()),
            ..RequestDraft::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = uuid::Uuid::now_v7().to_string();
        let due = state.settings().helpline.answer_times.due(sent, p.trusted_flagger);
        store.insert_helpline_request(&id, case_id, &request, p, &p.language, due, None, actor, sent).await?;
        if matches!(p.channel, PlatformChannel::Letter | PlatformChannel::WebForm) {
            // Sent by hand: the caseworker marks it sent when the form was filled in.
            store.mark_helpline_sent(&id, sent, due, actor, sent).await?;
        }
        match outcome {
            Some(RequestState::NoAnswer) => {
                store.mark_helpline_unanswered(due, |_| None).await?;
            }
            Some(s) => {
                let at = sent + hours(answer_hours);
                let answer = serde_json::json!({"source": "recorded", "note": "demo answer"});
                let recorded = RequestAnswer { state: s, at, answer: Some(answer), decision_id: None, actor };
                store.record_helpline_answer(&id, recorded, at).await?;
            }
            None => {}
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use staydown_server::{AppState, Mailer, Settings, system_clock};
    use staydown_store::Store;

    #[tokio::test]
    async fn the_demo_seeds_open_and_decided_cases_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let store = Store::connect(&url).await.expect("store");
        let state = AppState::new(store, Default::default(), Settings::default(), Mailer::None, system_clock());
        super::seed(&state, "127.0.0.1:8080").await.expect("seed");
        let open = state.store().queue(100).await.expect("queue");
        assert_eq!(open.len(), 2, "{open:?}");
        assert_eq!(state.store().count_notices().await.expect("count"), 8);
        let decided = state.store().misuse_measures(10).await.expect("measures");
        assert!(decided.is_empty());
        // Seeding again leaves the data alone.
        super::seed(&state, "127.0.0.1:8080").await.expect("second seed");
        assert_eq!(state.store().count_notices().await.expect("count"), 8);
        // Every source has a decided notice: the transparency report shows each of them.
        let today = state.now().date();
        let report = state
            .store()
            .transparency_report(staydown_store::Period::days(
                today - time::Duration::days(1),
                today + time::Duration::days(1),
            ))
            .await
            .expect("report");
        let by_source = report.table("notices_by_source").expect("by source");
        for source in ["article_16", "trusted_flagger", "authority_order", "own_initiative", "automated_match"] {
            let decided = by_source.figure(&[source], "decided").and_then(staydown_store::Figure::count);
            assert!(decided.is_some_and(|n| n >= 1), "{source}: {by_source:#?}");
        }
        // Their statements of reasons are queued for the Transparency Database (`staydown sor
        // export`): every decision but the authority order's (Art. 17(5)).
        let (statements, _) = state
            .store()
            .statements_since(today.midnight().assume_utc() - time::Duration::days(1), None, None, 100)
            .await
            .expect("statements");
        assert_eq!(statements.len(), 4, "{statements:?}");
        let own = report.table("own_initiative").expect("own initiative");
        assert_eq!(own.figure(&["TOTAL", "TOTAL"], "hash_matches").and_then(staydown_store::Figure::count), Some(1));
        assert!(state.store().verify_audit().await.expect("audit").broken.is_none());
        // Every kind of console user has an account to sign in with.
        for (username, role) in [
            ("demo-reviewer", "reviewer"),
            ("demo-senior", "senior_reviewer"),
            ("demo-admin", "admin"),
            ("demo-caseworker", "caseworker"),
        ] {
            let account = state.store().account_by_username(username).await.expect("read").expect(username);
            assert_eq!(account.role.as_str(), role);
        }
        // Helpline mode: the league table has each outcome and turnaround.
        let inputs = state
            .store()
            .helpline_league_inputs(time::OffsetDateTime::UNIX_EPOCH, state.now() + time::Duration::days(1))
            .await
            .expect("league");
        let league = staydown_domain::helpline::league::league(&inputs);
        let social = league.iter().find(|r| r.platform == "SocialExample").expect("row");
        assert_eq!((social.requests, social.honoured, social.refused), (3, 2, 1));
        assert_eq!(social.median_hours_to_removal, Some(41.0));
        let forum = league.iter().find(|r| r.platform == "SmallForumExample").expect("row");
        assert_eq!((forum.requests, forum.unanswered, forum.pending), (2, 1, 1));
    }
}
