//! The staff console's appeal page (issue 12, DSA Art. 20): a senior reviewer decides an appeal
//! against a colleague's decision, four eyes refused readably, and a "no action" decision replaced
//! by a new one with its end date and how automated it was.

use serde_json::json;
use staydown_domain::roles::Role;

use crate::staff_pages::{account, page, post_form, sign_in};
use crate::support::{TestApp, each_backend, notice};

/// Two senior reviewers signed in (sara, simon: cookie and token each) and a case sara decided
/// "no action" on the page, appealed by its notifier: (sara, simon, case, decision, appeal id).
async fn a_no_action_decision_under_appeal(
    app: &TestApp,
    url: &str,
    reason: &str,
) -> ((String, String), (String, String), String, staydown_store::DecisionRecord, String) {
    let admin = app.key(Role::Admin, "admin").await;
    account(app, &admin, "sara", Role::SeniorReviewer).await;
    account(app, &admin, "simon", Role::SeniorReviewer).await;
    let sara = sign_in(app, "sara").await;
    let simon = sign_in(app, "simon").await;
    let filed = app.file(&notice(url), None).await;
    let token = filed["tracking_token"].as_str().unwrap().to_owned();
    let helper = app.staff(Role::Reviewer, "helper").await;
    let case = app.only_case(&helper).await;
    let (status, _, _) = post_form(
        app,
        &format!("/staff/cases/{case}/decision"),
        &sara.0,
        &[("csrf", &sara.1), ("explanation", "Not intimate imagery: no action.")],
    )
    .await;
    assert_eq!(status, 303);
    let decision = app.store().case_decisions(&case).await.unwrap().remove(0);
    let (status, appeal) = app
        .post(&format!("/api/v1/decisions/{}/appeals", decision.id), &json!({"token": token, "reason": reason}), None)
        .await;
    assert_eq!(status, 201, "{appeal}");
    let appeal = appeal["id"].as_str().unwrap().to_owned();
    (sara, simon, case, decision, appeal)
}

/// A senior reviewer decides an appeal on the page; on their own decision the page refuses with
/// a readable four-eyes error and nothing changes.
#[tokio::test]
async fn the_appeal_page_decides_and_refuses_four_eyes_readably() {
    each_backend(|app| async move {
        // Sara decides on the page (no action); the notifier appeals with their tracking token.
        let ((sara, sara_csrf), (simon, simon_csrf), _case, _decision, appeal) = a_no_action_decision_under_appeal(
            &app,
            "https://example.com/appealed.jpg",
            "The image is of me and it is still online.",
        )
        .await;
        let (_, _, list) = page(&app, "/staff/appeals", Some(&sara)).await;
        assert!(list.contains(&appeal[..8]), "{list}");
        assert!(list.contains("<td>No action</td>"), "the list says what was decided: {list}");
        let path = format!("/staff/appeals/{appeal}/decision");
        let (status, _, body) =
            post_form(&app, &path, &sara, &[("csrf", &sara_csrf), ("outcome", "reversed"), ("reasons", "Mine.")]).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("Another senior reviewer must decide this appeal"), "{body}");
        assert!(body.contains("role=\"alert\""));
        assert_eq!(app.store().appeal(&appeal).await.unwrap().unwrap().state, "open");
        // Missing reasons: a field error, nothing decided.
        let (status, _, body) = post_form(&app, &path, &simon, &[("csrf", &simon_csrf), ("outcome", "reversed")]).await;
        assert_eq!(status, 422);
        assert!(body.contains("Give the reasons for the outcome."), "{body}");
        let (status, location, _) = post_form(
            &app,
            &path,
            &simon,
            &[("csrf", &simon_csrf), ("outcome", "reversed"), ("reasons", "The notice showed the image is intimate.")],
        )
        .await;
        assert_eq!((status, location), (303, format!("/staff/appeals/{appeal}")));
        let decided = app.store().appeal(&appeal).await.unwrap().unwrap();
        assert_eq!(decided.outcome.map(|o| o.as_str()), Some("reversed"));
        assert!(decided.decided_by.unwrap().starts_with("account:"));
    })
    .await;
}

/// "No action" under appeal, and the notice was right: on the appeal page another senior reviewer
/// chooses "modified" and fills in the new decision there (with an end date for the removal and
/// how automated it was) — the way out of reversing a no-action decision, which would leave the
/// content with no decision. A wrong end date comes back beside its field with everything typed;
/// then the new decision replaces the old one, and both pages say so in words.
#[tokio::test]
async fn a_no_action_decision_is_replaced_on_the_appeal_page_with_end_dates_and_automation() {
    each_backend(|app| async move {
        let (_, (simon, simon_csrf), case, old, appeal) = a_no_action_decision_under_appeal(
            &app,
            "https://example.com/modified.jpg",
            "It is me, undressed by an app, and it is still online.",
        )
        .await;
        let (_, _, form) = page(&app, &format!("/staff/appeals/{appeal}"), Some(&simon)).await;
        for needle in
            ["id=\"ap-modified\"", "id=\"d-vis-removed\"", "id=\"d-visibility_end\"", "id=\"d-automated_decision\""]
        {
            assert!(form.contains(needle), "{needle}: {form}");
        }
        let path = format!("/staff/appeals/{appeal}/decision");
        let reasons = "The notifier showed that the image is a manipulated nude of them.";
        let explanation = "An AI-manipulated intimate image of the notifier, shared without consent.";
        let mut fields = vec![
            ("csrf", simon_csrf.as_str()),
            ("outcome", "modified"),
            ("reasons", reasons),
            ("visibility", "removed"),
            ("visibility_end", "2020-01-01"),
            ("ground", "illegal"),
            ("legal_ground", "nl-sr-254ba"),
            ("territorial_scope", "EEA"),
            ("content_date", "2026-01-05"),
            ("content_type", "image"),
            ("content_type", "synthetic_media"),
            ("explanation", explanation),
            ("facts", "The notifier's appeal; the reviewer compared the image with the notice."),
            ("automated_detection", "no"),
            ("automated_decision", "partially"),
        ];
        let (status, _, body) = post_form(&app, &path, &simon, &fields).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("id=\"d-visibility_end-error\""), "the end date's error beside it: {body}");
        assert!(body.contains("href=\"#d-visibility_end\""), "and in the summary: {body}");
        assert!(body.contains(explanation) && body.contains(reasons), "what was typed stays");
        assert!(body.contains("id=\"ap-modified\" value=\"modified\" aria-describedby=\"ap-modified-hint\" checked"));
        assert!(body.contains("<option value=\"partially\" selected>"), "{body}");
        assert_eq!(app.store().appeal(&appeal).await.unwrap().unwrap().state, "open", "nothing decided");

        let until = (time::OffsetDateTime::now_utc().date() + time::Duration::days(90)).to_string();
        fields[4] = ("visibility_end", until.as_str());
        let (status, location, body) = post_form(&app, &path, &simon, &fields).await;
        assert_eq!((status, location), (303, format!("/staff/appeals/{appeal}")), "{body}");
        let decided = app.store().appeal(&appeal).await.unwrap().unwrap();
        assert_eq!(decided.outcome.map(|o| o.as_str()), Some("modified"));
        let decisions = app.store().case_decisions(&case).await.unwrap();
        let new = decisions.iter().find(|d| d.replaces.as_deref() == Some(old.id.as_str())).expect("a replacement");
        assert_eq!(new.status, "in_force");
        assert_eq!(decisions.iter().find(|d| d.id == old.id).unwrap().status, "replaced");
        let r = &new.decision.restrictions;
        assert_eq!(r.visibility.iter().map(|v| v.as_str()).collect::<Vec<_>>(), ["removed"]);
        assert_eq!(r.visibility_end.map(|d| d.to_string()), Some(until.clone()));
        assert!(!new.decision.automated_detection);
        assert_eq!(new.decision.automated_decision.as_str(), "partially");
        assert_eq!(new.decision.explanation, explanation);

        let (_, _, shown) = page(&app, &format!("/staff/appeals/{appeal}"), Some(&simon)).await;
        assert!(shown.contains("A new decision replaces it (modified)"), "{shown}");
        assert!(shown.contains(&format!("/staff/cases/{case}#decision-{}", new.id)), "{shown}");
        assert!(shown.contains("sara") && !shown.contains(&old.decided_by), "the decider by name: {shown}");
        let (_, _, case_page) = page(&app, &format!("/staff/cases/{case}?lang=nl"), Some(&simon)).await;
        assert!(case_page.contains("vervangen na bezwaar") && case_page.contains("van kracht"), "{case_page}");
        assert!(case_page.contains("Tot (voor de beperkingen hierboven)"), "the end date shown: {case_page}");
    })
    .await;
}
