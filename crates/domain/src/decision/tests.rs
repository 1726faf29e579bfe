use super::*;

fn ctx() -> DecisionContext {
    DecisionContext {
        today: date(2026, Month::November, 23),
        category: "STATEMENT_CATEGORY_CYBER_VIOLENCE".into(),
        keywords: vec!["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING".into()],
        detected_automatically: false,
        notice_ids: vec!["n1".into(), "n2".into()],
    }
}

fn removal() -> DecisionDraft {
    DecisionDraft {
        visibility: Some(vec!["removed".into()]),
        ground: Some("illegal".into()),
        legal_ground: Some("nl-sr-254ba".into()),
        explanation: Some("A sexual image published without the consent of the person shown.".into()),
        territorial_scope: Some(vec!["EEA".into()]),
        content_date: Some("2026-11-20".into()),
        facts: Some("A notice reported the image; the reviewer compared it with the report.".into()),
        content_type: Some(vec!["image".into(), "synthetic_media".into()]),
        ..DecisionDraft::default()
    }
}

fn fields(draft: DecisionDraft) -> Vec<String> {
    validate_decision(draft, &ctx()).expect_err("invalid").0.into_iter().map(|e| e.field).collect()
}

#[test]
fn a_complete_removal_is_valid_with_defaults_from_the_case() {
    let d = validate_decision(removal(), &ctx()).expect("valid");
    assert_eq!(d.restrictions.visibility, vec![Visibility::Removed]);
    assert!(d.restrictions.takes_content_down());
    assert_eq!(d.territorial_scope.0.len(), 30);
    assert!(d.territorial_scope.is_eea());
    assert_eq!(d.start_date, ctx().today);
    assert_eq!(d.notice_ids, ctx().notice_ids);
    assert_eq!(d.category, "STATEMENT_CATEGORY_CYBER_VIOLENCE");
    assert_eq!(d.automated_decision, AutomatedDecision::NotAutomated);
    assert!(matches!(d.ground, Some(Ground::Illegal { ref reference, .. }) if reference.contains("254ba")));
}

#[test]
fn no_action_needs_only_an_explanation() {
    let d = validate_decision(
        DecisionDraft { explanation: Some("Not the person in the report.".into()), ..DecisionDraft::default() },
        &ctx(),
    )
    .expect("valid");
    assert!(!d.restricts());
    assert!(d.ground.is_none());
}

#[test]
fn a_restriction_needs_ground_scope_facts_content_type_and_date() {
    let got = fields(DecisionDraft {
        visibility: Some(vec!["removed".into()]),
        explanation: Some("x".into()),
        ..DecisionDraft::default()
    });
    for f in ["ground", "territorial_scope", "facts", "content_type", "content_date"] {
        assert!(got.contains(&f.to_owned()), "{f} missing from {got:?}");
    }
}

#[test]
fn conditional_fields_follow_the_ground() {
    let mut d = removal();
    d.legal_ground = None;
    assert_eq!(fields(d), ["legal_ground"]);
    let mut d = removal();
    d.ground = Some("incompatible".into());
    assert_eq!(fields(d), ["legal_ground", "terms_clause"]);
    let mut d = removal();
    d.ground = Some("incompatible".into());
    d.legal_ground = None;
    d.terms_clause = Some("Community rules 4.2".into());
    d.terms_url = Some("not a url".into());
    assert_eq!(fields(d), ["terms_url"]);
    let mut d = removal();
    d.legal_ground = Some("nl-sr-999".into());
    assert_eq!(fields(d), ["legal_ground"]);
}

#[test]
fn other_descriptions_only_with_other() {
    let mut d = removal();
    d.visibility = Some(vec!["other".into()]);
    assert_eq!(fields(d), ["visibility_other"]);
    let mut d = removal();
    d.visibility_other = Some("blurred".into());
    assert_eq!(fields(d), ["visibility_other"]);
    let mut d = removal();
    d.content_type = Some(vec!["other".into()]);
    assert_eq!(fields(d), ["content_type_other"]);
    let mut d = removal();
    d.monetary = Some("other".into());
    d.monetary_other = Some("x".repeat(501));
    assert_eq!(fields(d), ["monetary_other"]);
}

#[test]
fn lengths_dates_and_codes_are_checked_like_the_database() {
    let mut d = removal();
    d.facts = Some("f".repeat(5001));
    d.explanation = Some("e".repeat(2001));
    d.content_date = Some("1999-12-31".into());
    d.territorial_scope = Some(vec!["NL".into(), "EL".into(), "US".into()]);
    d.visibility = Some(vec!["removed".into(), "vanished".into()]);
    d.end_dates = Some(EndDatesDraft {
        visibility: Some("2026-01-01".into()),
        account: Some("2027-01-01".into()),
        ..Default::default()
    });
    let got = fields(d);
    for f in [
        "facts",
        "explanation",
        "content_date",
        "territorial_scope[1]",
        "territorial_scope[2]",
        "visibility[1]",
        "end_dates.visibility",
        "end_dates.account",
    ] {
        assert!(got.contains(&f.to_owned()), "{f} missing from {got:?}");
    }
}

#[test]
fn unfounded_only_with_no_action_and_notices_must_belong_to_the_case() {
    let mut d = removal();
    d.manifestly_unfounded = Some(true);
    d.notices = Some(vec!["n1".into(), "elsewhere".into()]);
    assert_eq!(fields(d), ["notices[1]", "manifestly_unfounded"]);
}

#[test]
fn scopes_are_sorted_and_deduplicated() {
    let mut d = removal();
    d.territorial_scope = Some(vec!["nl".into(), "BE".into(), "NL".into()]);
    assert_eq!(validate_decision(d, &ctx()).expect("valid").territorial_scope.0, ["BE", "NL"]);
}

#[test]
fn six_months_clamps_to_the_end_of_the_month() {
    let t = time::macros::datetime!(2026-08-31 10:00 UTC);
    assert_eq!(six_months_after(t), time::macros::datetime!(2027-02-28 10:00 UTC));
    let t = time::macros::datetime!(2026-01-15 00:00 UTC);
    assert_eq!(six_months_after(t), time::macros::datetime!(2026-07-15 00:00 UTC));
}
