//! One valid statement per ground, one failing example per rule (named after the rule), the
//! error shapes of spec §3.5, and the normalisation of §3.4.

use serde_json::json;
use time::macros::date;

use super::*;

/// An adult NCII removal on the law (spec §3.7: NL art. 254ba Sr).
fn illegal() -> Statement {
    Statement {
        puid: "sd-0196f0b2-7c1e-7d2a-9a51-3c8e2f1d4b6a".into(),
        decision_visibility: Some(vec![DecisionVisibility::ContentRemoved]),
        decision_visibility_other: None,
        decision_monetary: None,
        decision_monetary_other: None,
        decision_provision: None,
        decision_account: None,
        account_type: Some(AccountType::Private),
        decision_ground: DecisionGround::IllegalContent,
        decision_ground_reference_url: Some("https://wetten.overheid.nl/BWBR0001854".into()),
        illegal_content_legal_ground: Some("Art. 254ba Wetboek van Strafrecht (NL)".into()),
        illegal_content_explanation: Some("Sexual imagery of an adult published without consent.".into()),
        incompatible_content_ground: None,
        incompatible_content_explanation: None,
        incompatible_content_illegal: None,
        content_type: vec![ContentType::Image],
        content_type_other: None,
        category: Category::CyberViolence,
        category_addition: None,
        category_specification: Some(vec![Keyword::NonConsensualImageSharing]),
        category_specification_other: None,
        territorial_scope: Some(Country::EEA.to_vec()),
        content_language: Some(Language::Nl),
        content_date: date!(2026 - 11 - 20),
        application_date: date!(2026 - 11 - 23),
        end_date_visibility_restriction: None,
        end_date_monetary_restriction: None,
        end_date_service_restriction: None,
        end_date_account_restriction: None,
        decision_facts: "An image was reported under Art. 16 and confirmed as shared without consent.".into(),
        source_type: SourceType::Article16,
        source_identity: None,
        automated_detection: YesNo::No,
        automated_decision: AutomatedDecision::NotAutomated,
        content_id: None,
    }
}

/// A deepnude re-upload blocked by a hash match on the terms and conditions.
fn incompatible() -> Statement {
    Statement {
        puid: "sd_match_42".into(),
        decision_ground: DecisionGround::IncompatibleContent,
        illegal_content_legal_ground: None,
        illegal_content_explanation: None,
        incompatible_content_ground: Some("Terms of service, clause 4.2 (intimate imagery without consent)".into()),
        incompatible_content_explanation: Some("A hash match with a previously removed deepfake nude.".into()),
        incompatible_content_illegal: Some(YesNo::Yes),
        content_type: vec![ContentType::SyntheticMedia, ContentType::Image],
        category_specification: Some(vec![Keyword::NonConsensualMaterialDeepfake]),
        source_type: SourceType::Voluntary,
        automated_detection: YesNo::Yes,
        automated_decision: AutomatedDecision::Partially,
        ..illegal()
    }
}

/// Asserts that exactly `(field, rule)` failures are reported.
#[track_caller]
fn check(s: &Statement, expected: &[(&str, &str)]) {
    let errors = validate(s).expect_err("expected validation errors");
    let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.rule)).collect();
    assert_eq!(got, expected, "{}", serde_json::to_string(&errors).unwrap());
}

#[test]
fn valid_illegal_content_statement() {
    validate(&illegal()).unwrap();
}

#[test]
fn valid_incompatible_content_statement() {
    validate(&incompatible()).unwrap();
}

#[test]
fn json_uses_the_exact_field_names_and_strings_and_omits_absent_fields() {
    let v = serde_json::to_value(incompatible()).unwrap();
    assert_eq!(v["decision_visibility"], json!(["DECISION_VISIBILITY_CONTENT_REMOVED"]));
    assert_eq!(v["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT");
    assert_eq!(v["content_type"], json!(["CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_IMAGE"]));
    assert_eq!(v["category"], "STATEMENT_CATEGORY_CYBER_VIOLENCE");
    assert_eq!(v["category_specification"], json!(["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"]));
    assert_eq!(v["automated_detection"], "Yes");
    assert_eq!(v["incompatible_content_illegal"], "Yes");
    assert_eq!(v["automated_decision"], "AUTOMATED_DECISION_PARTIALLY");
    assert_eq!(v["source_type"], "SOURCE_VOLUNTARY");
    assert_eq!(v["content_language"], "NL");
    assert_eq!(v["content_date"], "2026-11-20");
    assert_eq!(v["application_date"], "2026-11-23");
    assert_eq!(v["territorial_scope"].as_array().unwrap().len(), 30);
    for absent in ["decision_monetary", "illegal_content_legal_ground", "end_date_account_restriction", "content_id"] {
        assert!(v.get(absent).is_none(), "{absent} must be omitted: {v}");
    }
    let back: Statement = serde_json::from_value(v).unwrap();
    assert_eq!(back, incompatible());
    let ean = Statement { content_id: Some(ContentId { ean13: "4006381333931".into() }), ..illegal() };
    assert_eq!(serde_json::to_value(ean).unwrap()["content_id"], json!({"EAN-13": "4006381333931"}));
}

#[test]
fn unknown_enum_values_and_fields_are_refused_when_parsing() {
    let mut v = serde_json::to_value(illegal()).unwrap();
    v["automated_decision"] = json!("AUTOMATED_DECISION_SOMETIMES");
    assert!(serde_json::from_value::<Statement>(v.clone()).is_err());
    v["automated_decision"] = json!("AUTOMATED_DECISION_FULLY");
    v["content_language_other"] = json!("Frisian");
    assert!(serde_json::from_value::<Statement>(v).is_err(), "the validator rejects content_language_other");
}

#[test]
fn required_fields_that_are_enums_cannot_be_missing() {
    for field in ["decision_ground", "category", "source_type", "automated_detection", "automated_decision"] {
        let mut v = serde_json::to_value(illegal()).unwrap();
        v.as_object_mut().unwrap().remove(field);
        assert!(serde_json::from_value::<Statement>(v).is_err(), "{field} is required");
    }
}

#[test]
fn vocabularies_have_the_sizes_of_the_spec_and_agree_with_the_taxonomy() {
    assert_eq!(DecisionVisibility::ALL.len(), 7);
    assert_eq!(ContentType::ALL.len(), 8);
    assert_eq!(Category::ALL.len(), 16);
    assert_eq!(Keyword::ALL.len(), 69);
    assert_eq!(Language::ALL.len(), 184);
    assert_eq!((Country::EU.len(), Country::EEA.len()), (27, 30));
    assert!(!Country::EU.iter().any(|c| matches!(c, Country::Is | Country::Li | Country::No)));
    assert!(Country::parse("EL").is_none() && Country::parse("GR").is_some(), "Greece is GR");
    assert!(Language::parse("EL").is_some(), "the Greek language is EL");
    assert!(Language::ALL.iter().all(|l| l.as_str().len() == 2 && l.as_str() == l.as_str().to_uppercase()));
    for c in Category::ALL {
        assert!(crate::taxonomy::category(c.as_str()).is_some(), "{c}");
    }
    for k in Keyword::ALL {
        assert!(crate::taxonomy::is_keyword(k.as_str()), "{k}");
    }
    for c in crate::taxonomy::CATEGORIES {
        assert!(Category::parse(c.id).is_some(), "{}", c.id);
        assert!(c.keywords.iter().all(|k| Keyword::parse(k.id).is_some()));
    }
}

// ---- one failing example per rule ----

#[test]
fn rule_puid_required() {
    check(&Statement { puid: "  ".into(), ..illegal() }, &[("puid", "required")]);
}

#[test]
fn rule_puid_max_500() {
    validate(&Statement { puid: "a".repeat(500), ..illegal() }).unwrap();
    check(&Statement { puid: "a".repeat(501), ..illegal() }, &[("puid", "max")]);
}

#[test]
fn rule_puid_regex() {
    for bad in ["has space", "slash/x", "dot.x", "ümlaut", "colon:x"] {
        check(&Statement { puid: bad.into(), ..illegal() }, &[("puid", "regex")]);
    }
    validate(&Statement { puid: "Az09-_".into(), ..illegal() }).unwrap();
}

#[test]
fn rule_decision_required_without_all() {
    let none = Statement { decision_visibility: None, ..illegal() };
    check(
        &none,
        &[
            ("decision_visibility", "required_without_all"),
            ("decision_monetary", "required_without_all"),
            ("decision_provision", "required_without_all"),
            ("decision_account", "required_without_all"),
        ],
    );
    check(
        &Statement { decision_visibility: Some(vec![]), ..none.clone() },
        &[
            ("decision_visibility", "required_without_all"),
            ("decision_monetary", "required_without_all"),
            ("decision_provision", "required_without_all"),
            ("decision_account", "required_without_all"),
        ],
    );
    let message = validate(&none).unwrap_err().iter().next().unwrap().message.clone();
    assert_eq!(
        message,
        "The decision visibility field is required when none of decision monetary / decision provision / decision account are present."
    );
    // Any one of the four is enough.
    validate(&Statement { decision_account: Some(DecisionAccount::Suspended), ..none.clone() }).unwrap();
    validate(&Statement { decision_provision: Some(DecisionProvision::TotalTermination), ..none.clone() }).unwrap();
    validate(&Statement { decision_monetary: Some(DecisionMonetary::Suspension), ..none }).unwrap();
}

#[test]
fn rule_decision_visibility_other_required_if_other() {
    let other = Statement { decision_visibility: Some(vec![DecisionVisibility::Other]), ..illegal() };
    check(&other, &[("decision_visibility_other", "required_if")]);
    check(
        &Statement { decision_visibility_other: Some("x".repeat(501)), ..other.clone() },
        &[("decision_visibility_other", "max")],
    );
    validate(&Statement { decision_visibility_other: Some("blurred".into()), ..other }).unwrap();
}

#[test]
fn rule_decision_monetary_other_required_if_other() {
    let other = Statement { decision_monetary: Some(DecisionMonetary::Other), ..illegal() };
    check(&other, &[("decision_monetary_other", "required_if")]);
    check(
        &Statement { decision_monetary_other: Some("x".repeat(501)), ..other.clone() },
        &[("decision_monetary_other", "max")],
    );
    validate(&Statement { decision_monetary_other: Some("demonetised".into()), ..other }).unwrap();
}

#[test]
fn rule_other_fields_are_excluded_without_other() {
    // exclude_unless: not an error, not checked, and dropped by the server.
    let mut s = Statement {
        decision_visibility_other: Some("x".repeat(600)),
        decision_monetary_other: Some("x".repeat(600)),
        content_type_other: Some("x".repeat(600)),
        ..illegal()
    };
    validate(&s).unwrap();
    normalise(&mut s);
    assert_eq!((s.decision_visibility_other, s.decision_monetary_other, s.content_type_other), (None, None, None));
}

#[test]
fn rule_decision_ground_reference_url_is_a_url_of_at_most_500() {
    check(
        &Statement { decision_ground_reference_url: Some("not a url".into()), ..illegal() },
        &[("decision_ground_reference_url", "url")],
    );
    let long = format!("https://example.eu/{}", "a".repeat(490));
    check(
        &Statement { decision_ground_reference_url: Some(long), ..illegal() },
        &[("decision_ground_reference_url", "max")],
    );
}

#[test]
fn rule_illegal_fields_required_if_illegal() {
    check(
        &Statement { illegal_content_legal_ground: None, illegal_content_explanation: Some(" ".into()), ..illegal() },
        &[("illegal_content_legal_ground", "required_if"), ("illegal_content_explanation", "required_if")],
    );
    check(
        &Statement {
            illegal_content_legal_ground: Some("x".repeat(501)),
            illegal_content_explanation: Some("x".repeat(2001)),
            ..illegal()
        },
        &[("illegal_content_legal_ground", "max"), ("illegal_content_explanation", "max")],
    );
    validate(&Statement { illegal_content_explanation: Some("x".repeat(2000)), ..illegal() }).unwrap();
}

#[test]
fn rule_illegal_fields_excluded_otherwise() {
    let mut s = Statement {
        illegal_content_legal_ground: Some("x".repeat(900)),
        illegal_content_explanation: Some("also sent".into()),
        ..incompatible()
    };
    validate(&s).unwrap();
    normalise(&mut s);
    assert_eq!((s.illegal_content_legal_ground, s.illegal_content_explanation), (None, None));
}

#[test]
fn rule_incompatible_fields_required_if_incompatible() {
    check(
        &Statement { incompatible_content_ground: None, incompatible_content_explanation: None, ..incompatible() },
        &[("incompatible_content_ground", "required_if"), ("incompatible_content_explanation", "required_if")],
    );
    check(
        &Statement {
            incompatible_content_ground: Some("x".repeat(501)),
            incompatible_content_explanation: Some("x".repeat(2001)),
            ..incompatible()
        },
        &[("incompatible_content_ground", "max"), ("incompatible_content_explanation", "max")],
    );
}

#[test]
fn rule_incompatible_fields_and_incompatible_content_illegal_excluded_otherwise() {
    let mut s = Statement {
        incompatible_content_ground: Some("clause 4".into()),
        incompatible_content_explanation: Some("x".repeat(3000)),
        incompatible_content_illegal: Some(YesNo::Yes),
        ..illegal()
    };
    validate(&s).unwrap();
    normalise(&mut s);
    assert_eq!(s.incompatible_content_ground, None);
    assert_eq!(s.incompatible_content_explanation, None);
    assert_eq!(s.incompatible_content_illegal, None);
    let mut kept = incompatible();
    normalise(&mut kept);
    assert_eq!(kept.incompatible_content_illegal, Some(YesNo::Yes));
}

#[test]
fn rule_content_type_required() {
    check(&Statement { content_type: vec![], ..illegal() }, &[("content_type", "required")]);
}

#[test]
fn rule_content_type_other_required_if_other() {
    let other = Statement { content_type: vec![ContentType::Other], ..illegal() };
    check(&other, &[("content_type_other", "required_if")]);
    check(&Statement { content_type_other: Some("x".repeat(501)), ..other.clone() }, &[("content_type_other", "max")]);
    validate(&Statement { content_type_other: Some("livestream clip".into()), ..other }).unwrap();
}

#[test]
fn rule_category_specification_other_max_500() {
    check(
        &Statement { category_specification_other: Some("x".repeat(501)), ..illegal() },
        &[("category_specification_other", "max")],
    );
}

#[test]
fn rule_content_date_between_2000_and_2038() {
    validate(&Statement { content_date: date!(2000 - 01 - 01), ..illegal() }).unwrap();
    check(&Statement { content_date: date!(1999 - 12 - 31), ..illegal() }, &[("content_date", "after_or_equal")]);
    validate(&Statement { content_date: date!(2038 - 01 - 01), ..illegal() }).unwrap();
    check(&Statement { content_date: date!(2038 - 01 - 02), ..illegal() }, &[("content_date", "before_or_equal")]);
}

#[test]
fn rule_application_date_between_2020_and_2038() {
    validate(&Statement { application_date: date!(2020 - 01 - 01), ..illegal() }).unwrap();
    check(
        &Statement { application_date: date!(2019 - 12 - 31), ..illegal() },
        &[("application_date", "after_or_equal")],
    );
    check(
        &Statement { application_date: date!(2038 - 01 - 02), ..illegal() },
        &[("application_date", "before_or_equal")],
    );
}

#[test]
fn rule_end_dates_not_after_2038() {
    let late = Some(date!(2038 - 01 - 02));
    check(
        &Statement {
            end_date_visibility_restriction: late,
            end_date_monetary_restriction: late,
            end_date_service_restriction: late,
            end_date_account_restriction: late,
            ..illegal()
        },
        &[
            ("end_date_visibility_restriction", "before_or_equal"),
            ("end_date_monetary_restriction", "before_or_equal"),
            ("end_date_service_restriction", "before_or_equal"),
            ("end_date_account_restriction", "before_or_equal"),
        ],
    );
    validate(&Statement { end_date_visibility_restriction: Some(date!(2038 - 01 - 01)), ..illegal() }).unwrap();
}

#[test]
fn rule_decision_facts_required_and_max_5000() {
    check(&Statement { decision_facts: String::new(), ..illegal() }, &[("decision_facts", "required")]);
    check(&Statement { decision_facts: "x".repeat(5001), ..illegal() }, &[("decision_facts", "max")]);
    validate(&Statement { decision_facts: "é".repeat(5000), ..illegal() }).unwrap();
}

#[test]
fn rule_source_identity_max_500_and_dropped_for_voluntary() {
    check(&Statement { source_identity: Some("x".repeat(501)), ..illegal() }, &[("source_identity", "max")]);
    let mut voluntary = Statement { source_identity: Some("x".repeat(501)), ..incompatible() };
    validate(&voluntary).unwrap();
    normalise(&mut voluntary);
    assert_eq!(voluntary.source_identity, None);
    let mut flagger =
        Statement { source_type: SourceType::TrustedFlagger, source_identity: Some("Offlimits".into()), ..illegal() };
    normalise(&mut flagger);
    assert_eq!(flagger.source_identity.as_deref(), Some("Offlimits"));
}

#[test]
fn rule_content_id_ean_13_digits() {
    check(
        &Statement { content_id: Some(ContentId { ean13: "12345".into() }), ..illegal() },
        &[("content_id.EAN-13", "digits")],
    );
}

// ---- shapes and normalisation ----

#[test]
fn single_error_body_has_the_tdb_shape() {
    let s = Statement { puid: "bad puid".into(), decision_facts: String::new(), content_type: vec![], ..illegal() };
    let body = serde_json::to_value(validate(&s).unwrap_err()).unwrap();
    assert_eq!(
        body,
        json!({
            "message": "The puid format is invalid. (and 2 more errors)",
            "errors": {
                "puid": ["The puid format is invalid."],
                "content_type": ["The content type field is required."],
                "decision_facts": ["The decision facts field is required."]
            }
        })
    );
    let one = validate(&Statement { puid: "a b".into(), ..illegal() }).unwrap_err();
    assert_eq!(one.message(), "The puid format is invalid.");
    let two = validate(&Statement { puid: "a b".into(), decision_facts: String::new(), ..illegal() }).unwrap_err();
    assert_eq!(two.message(), "The puid format is invalid. (and 1 more error)");
}

#[test]
fn batch_error_body_is_keyed_by_index() {
    let batch = vec![illegal(), Statement { puid: "x y".into(), ..illegal() }, incompatible()];
    let errors = validate_batch(&batch).unwrap_err();
    assert_eq!(
        serde_json::to_value(&errors).unwrap(),
        json!({"errors": {"statement_1": {"puid": ["The puid format is invalid."]}}})
    );
    validate_batch(&[illegal(), incompatible()]).unwrap();
}

#[test]
fn normalise_sorts_deduplicates_and_removes_the_main_category_from_additions() {
    let mut s = Statement {
        decision_visibility: Some(vec![
            DecisionVisibility::ContentRemoved,
            DecisionVisibility::ContentDemoted,
            DecisionVisibility::ContentRemoved,
        ]),
        content_type: vec![ContentType::Video, ContentType::Image, ContentType::Video],
        category_addition: Some(vec![Category::CyberViolence, Category::ProtectionOfMinors]),
        category_specification: Some(vec![Keyword::Other, Keyword::CyberStalking, Keyword::Other]),
        territorial_scope: Some(vec![Country::Nl, Country::Be, Country::Nl, Country::At]),
        ..illegal()
    };
    normalise(&mut s);
    assert_eq!(
        s.decision_visibility,
        Some(vec![DecisionVisibility::ContentDemoted, DecisionVisibility::ContentRemoved])
    );
    assert_eq!(s.content_type, vec![ContentType::Image, ContentType::Video]);
    assert_eq!(s.category_addition, Some(vec![Category::ProtectionOfMinors]));
    assert_eq!(s.category_specification, Some(vec![Keyword::CyberStalking, Keyword::Other]));
    assert_eq!(s.territorial_scope, Some(vec![Country::At, Country::Be, Country::Nl]));
    let again = s.clone();
    normalise(&mut s);
    assert_eq!(s, again, "normalising is idempotent");
}
