//! Hand-written JSON Schemas (OpenAPI 3.1, JSON Schema 2020-12) of the answers whose handlers
//! build their body with `serde_json::json!` rather than a typed struct (issue 15).
//!
//! Each schema lists every key its handler writes, all `required` (`json!` always writes the key,
//! `null` where the value is absent), with the types of the record fields they come from. The
//! handler each mirrors is named beside it; `.ci/schemathesis` (check
//! `response_schema_conformance`) and `it::openapi_answers::answers_match_their_schemas` hold the two
//! together. Answers built from a `Serialize` type get a derived schema instead
//! (`super::openapi::schemas`).

use serde_json::{Map, Value, json};

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn nullable_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

fn integer() -> Value {
    json!({"type": "integer"})
}

fn nullable_integer() -> Value {
    json!({"type": ["integer", "null"]})
}

fn number_or_null() -> Value {
    json!({"type": ["number", "null"]})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn any_object() -> Value {
    json!({"type": "object"})
}

fn array(items: Value) -> Value {
    let mut schema = json!({"type": "array"});
    schema["items"] = items;
    schema
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn nullable(schema: Value) -> Value {
    Value::Object(Map::from_iter([("oneOf".to_owned(), Value::Array(vec![schema, json!({"type": "null"})]))]))
}

/// An object with exactly these keys, every one of them required.
fn object(description: &str, properties: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = properties.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let required: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
    json!({"type": "object", "description": description, "properties": props, "required": required})
}

/// A map from a name to a count (e.g. cases by channel).
fn counts() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "integer"}})
}

/// A row of a statistics table: its grouping keys (strings) and figures (counts, seconds, shares;
/// `null` where there is nothing to measure).
fn stats_row() -> Value {
    json!({"type": "object", "additionalProperties": {"type": ["string", "number", "null"]}})
}

fn nullable_stats_row() -> Value {
    json!({"type": ["object", "null"], "additionalProperties": {"type": ["string", "number", "null"]}})
}

fn media_hashes() -> Value {
    object(
        "Hashes of an item, each absent (null) when not known.",
        &[
            ("sha256", nullable_string()),
            ("md5", nullable_string()),
            ("pdq", nullable_string()),
            ("pdq_quality", nullable_integer()),
        ],
    )
}

/// The named schemas of this module, for `components.schemas`.
pub fn answers() -> Vec<(&'static str, Value)> {
    vec![
        // `api::openapi::serve`.
        (
            "OpenApiDocument",
            json!({"type": "object", "description": "An OpenAPI 3.1 document.", "required": ["openapi", "info", "paths"],
                   "properties": {"openapi": {"const": "3.1.0"}, "info": any_object(), "paths": any_object()}}),
        ),
        // `api::notices::show`: `decision` of the notifier's view.
        (
            "NoticeDecision",
            object(
                "The decision on a notice, as its notifier sees it (DSA Art. 16(5)).",
                &[
                    ("id", string()),
                    ("decided_at", string()),
                    ("status", string()),
                    ("restricts", boolean()),
                    ("automated_detection", boolean()),
                    ("automated_decision", string()),
                    ("redress", any_object()),
                    ("text", any_object()),
                ],
            ),
        ),
        // `api::cases::show`: `content` of the case view.
        (
            "CaseContent",
            object(
                "Content screened or attached for a case.",
                &[
                    ("id", string()),
                    ("content_id", nullable_string()),
                    ("url", nullable_string()),
                    ("uploader", nullable_string()),
                    ("hashes", media_hashes()),
                    ("provenance", json!({"type": ["object", "null"]})),
                    ("screened_at", time()),
                ],
            ),
        ),
        // `api::cases::decision_json`.
        (
            "DecisionRecord",
            object(
                "A decision as staff see it.",
                &[
                    ("id", string()),
                    ("case_id", string()),
                    ("decided_by", string()),
                    ("decided_at", time()),
                    ("status", string()),
                    ("ended_at", nullable_time()),
                    ("replaces", nullable_string()),
                    ("notices", array(string())),
                    ("decision", any_object()),
                    ("has_statement", boolean()),
                ],
            ),
        ),
        // `api::cases::decide`.
        (
            "DecisionTaken",
            object(
                "A decision just taken (DSA Art. 17), with its statement of reasons when it restricts.",
                &[
                    ("id", string()),
                    ("case_id", string()),
                    ("decided_at", time()),
                    ("decided_by", string()),
                    ("restricts", boolean()),
                    ("statement_url", nullable_string()),
                    ("statement", json!({"type": ["object", "null"]})),
                    ("uploader_appeal_token", nullable_string()),
                    (
                        "misuse_measures",
                        array(object(
                            "A measure against a notifier (DSA Art. 23(2)).",
                            &[
                                ("kind", string()),
                                ("notifier", string()),
                                ("until", nullable_time()),
                                ("reason", string()),
                            ],
                        )),
                    ),
                ],
            ),
        ),
        // `api::decisions::statement`: the Transparency Database statement with its status.
        (
            "StatementOfReasons",
            json!({"type": "object", "description": "The statement of reasons (DSA Art. 17; the Transparency Database's fields) and the decision's `status`.",
                   "required": ["status"], "properties": {"status": string()}}),
        ),
        // `api::decisions::appeal_json`.
        (
            "Appeal",
            object(
                "An internal complaint (DSA Art. 20) as staff see it.",
                &[
                    ("id", string()),
                    ("decision_id", string()),
                    ("appellant", string()),
                    ("notice_id", nullable_string()),
                    ("received_at", time()),
                    ("reason", string()),
                    ("state", string()),
                    ("outcome", nullable_string()),
                    ("reasons", nullable_string()),
                    ("decided_by", nullable_string()),
                    ("decided_at", nullable_time()),
                    ("new_decision_id", nullable_string()),
                ],
            ),
        ),
        // `api::decisions::appeal`.
        (
            "AppealFiled",
            object(
                "An internal complaint just filed.",
                &[
                    ("id", string()),
                    ("decision_id", string()),
                    ("appellant", string()),
                    ("received_at", time()),
                    ("status", json!({"const": "open"})),
                    ("note", string()),
                ],
            ),
        ),
        // `api::decisions::resolve_appeal`.
        (
            "AppealDecided",
            object(
                "The outcome of an internal complaint.",
                &[
                    ("id", string()),
                    ("decision_id", string()),
                    ("outcome", json!({"enum": ["upheld", "reversed", "modified"]})),
                    ("decided_by", string()),
                    ("new_decision_id", nullable_string()),
                    ("uploader_appeal_token", nullable_string()),
                ],
            ),
        ),
        // `api::art18::notify`.
        (
            "Art18Sent",
            object(
                "A notification to law enforcement (DSA Art. 18), queued.",
                &[("id", string()), ("case_id", string()), ("grounds", string()), ("marked_by", string())],
            ),
        ),
        // `api::art18::list`.
        (
            "Art18Entry",
            object(
                "A notification to law enforcement sent about a case.",
                &[("id", string()), ("grounds", string()), ("marked_by", string()), ("marked_at", nullable_time())],
            ),
        ),
        // `api::content::upload`.
        (
            "ContentAttached",
            object(
                "Content attached to a case, sealed at rest.",
                &[
                    ("id", string()),
                    ("case_id", string()),
                    ("blob_id", string()),
                    ("size", integer()),
                    ("content_type", string()),
                    ("hashes", media_hashes()),
                    ("pdq_skipped", nullable_string()),
                    ("retain_until", nullable_time()),
                ],
            ),
        ),
        // `api::accounts::create`.
        (
            "AccountCreated",
            object("A staff account just created.", &[("id", string()), ("username", string()), ("role", string())]),
        ),
        // `api::accounts::issue_key`.
        (
            "KeyIssued",
            object(
                "A personal API key, shown once.",
                &[
                    ("key", string()),
                    ("key_id", string()),
                    ("account", string()),
                    ("role", string()),
                    ("expires_at", nullable_time()),
                    ("note", string()),
                ],
            ),
        ),
        // `api::operations::dead_letters`.
        (
            "DeadLetter",
            object(
                "A message that could not be delivered.",
                &[
                    ("id", string()),
                    ("channel", string()),
                    ("topic", string()),
                    ("attempts", integer()),
                    ("dead_at", nullable_time()),
                    ("last_error", nullable_string()),
                ],
            ),
        ),
        // `api::operations::resend`.
        (
            "DeadLetterResent",
            object(
                "A dead letter queued for delivery again.",
                &[
                    ("id", string()),
                    ("channel", string()),
                    ("topic", string()),
                    ("attempts", integer()),
                    ("resent", json!({"const": true})),
                ],
            ),
        ),
        // `api::operations::misuse`.
        (
            "MisuseMeasure",
            object(
                "A warning or suspension of a notifier (DSA Art. 23(2)).",
                &[
                    ("id", string()),
                    ("notifier", string()),
                    ("kind", string()),
                    ("at", time()),
                    ("until", nullable_time()),
                    ("reason", string()),
                ],
            ),
        ),
        // `api::transparency::requeue`.
        ("Requeued", object("The refused statements queued again (their PUIDs).", &[("requeued", array(string()))])),
        // `api::stats::figures`.
        (
            "Stats",
            object(
                "Operational statistics over a period. Table rows carry their grouping keys and figures; \
                 durations are in seconds, shares are fractions, `null` where nothing was measured.",
                &[
                    ("period", object("The period.", &[("from", time()), ("until", time())])),
                    (
                        "time_to_action",
                        object(
                            "Time from notice to decision.",
                            &[
                                ("total", nullable_stats_row()),
                                ("by_source", array(stats_row())),
                                ("by_category", array(stats_row())),
                                ("by_week", array(stats_row())),
                                ("by_week_and_source", array(stats_row())),
                                ("by_week_and_category", array(stats_row())),
                            ],
                        ),
                    ),
                    (
                        "time_to_pickup",
                        object(
                            "Time from notice to a reviewer taking the case.",
                            &[("total", nullable_stats_row()), ("by_category", array(stats_row()))],
                        ),
                    ),
                    (
                        "acted_within",
                        object(
                            "Notices acted on within 24 and 48 hours.",
                            &[("total", nullable_stats_row()), ("by_source", array(stats_row()))],
                        ),
                    ),
                    ("trusted_flaggers", array(stats_row())),
                    ("queue", object("The open queue now.", &[("open", integer()), ("overdue", integer())])),
                    (
                        "deadlines",
                        object(
                            "Deadlines met and missed.",
                            &[("total", nullable_stats_row()), ("by_category", array(stats_row()))],
                        ),
                    ),
                    (
                        "ai_generated",
                        object(
                            "Notices claiming AI-generated content.",
                            &[("total", nullable_stats_row()), ("by_generator", array(stats_row()))],
                        ),
                    ),
                    (
                        "bank_matches",
                        array(object(
                            "Screenings that matched a bank.",
                            &[
                                ("bank", string()),
                                ("screenings", integer()),
                                ("blocked", integer()),
                                ("held", integer()),
                                ("allowed", integer()),
                            ],
                        )),
                    ),
                ],
            ),
        ),
        // `api::helpline::cases::create_case`.
        ("HelpCaseCreated", object("A help case just opened.", &[("id", string())])),
        // `api::helpline::cases::show_case`.
        (
            "HelpCase",
            object(
                "A help case with its referrals and removal requests.",
                &[
                    ("id", string()),
                    ("summary", string()),
                    ("channel", nullable_string()),
                    ("image_kind", string()),
                    ("sextortion", boolean()),
                    ("exposure", string()),
                    ("minor_involved", string()),
                    ("municipality", nullable_string()),
                    ("consent", boolean()),
                    ("reporting_organisation", nullable_string()),
                    ("created_at", time()),
                    (
                        "contact",
                        nullable(object(
                            "The person's contact details (only with `?contact=true`; audited).",
                            &[("name", nullable_string()), ("email", nullable_string()), ("phone", nullable_string())],
                        )),
                    ),
                    ("referrals", array(object("A referral.", &[("kind", string()), ("referred_at", time())]))),
                    ("requests", array(reference("RequestView"))),
                ],
            ),
        ),
        // `api::helpline::cases::add_referral`.
        ("Referral", object("A referral just recorded.", &[("id", string()), ("kind", string())])),
        // `api::helpline::evidence::evidence_json`.
        (
            "Evidence",
            object(
                "An evidence file of a help case, sealed at rest (its bytes are read separately, audited).",
                &[
                    ("id", string()),
                    ("kind", string()),
                    ("content_type", string()),
                    ("size", integer()),
                    ("sha256", string()),
                    ("created_at", time()),
                    ("retain_until", nullable_time()),
                    ("legal_hold", boolean()),
                    ("erased_at", nullable_time()),
                ],
            ),
        ),
        // `api::helpline::evidence::add_hash`.
        (
            "PreemptiveHashAdded",
            object(
                "A pre-emptive hash added to the helpline's bank.",
                &[
                    ("id", string()),
                    ("bank", string()),
                    ("pdq", nullable_string()),
                    ("sha256", nullable_string()),
                    ("md5", nullable_string()),
                ],
            ),
        ),
        // `api::helpline::evidence::list_hashes`.
        (
            "PreemptiveHash",
            object(
                "A pre-emptive hash of a help case.",
                &[
                    ("id", string()),
                    ("pdq", nullable_string()),
                    ("sha256", nullable_string()),
                    ("md5", nullable_string()),
                    ("added_at", time()),
                ],
            ),
        ),
        // `api::helpline::requests::show_request`.
        (
            "RequestWithChecks",
            json!({"allOf": [reference("RequestView"), object("The checks of the reported URL.", &[(
                "url_checks",
                array(object("One check of the URL.", &[
                    ("checked_at", time()),
                    ("state", string()),
                    ("http_status", nullable_integer()),
                    ("detail", string()),
                ])),
            )])]}),
        ),
        // `api::helpline::figures::figures_json`.
        (
            "HelplineFigures",
            object(
                "The helpline's figures over a period.",
                &[
                    ("from", time()),
                    ("to", time()),
                    ("cases", integer()),
                    ("by_image_kind", counts()),
                    ("by_channel", counts()),
                    ("by_municipality", counts()),
                    ("sextortion", integer()),
                    ("minor_involved", integer()),
                    ("referrals", counts()),
                    ("requests_sent", integer()),
                    ("honoured", integer()),
                    ("refused", integer()),
                    ("unanswered", integer()),
                    ("median_hours_to_removal", number_or_null()),
                    ("p90_hours_to_removal", number_or_null()),
                ],
            ),
        ),
    ]
}
