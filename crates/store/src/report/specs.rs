//! The report's tables as [`Spec`]s: which rows each table counts (notices, orders, own-initiative
//! measures, complaints, suspensions, the AI-generated sections) and how each maps onto the rollups
//! kept in the decision's transaction (`rollup_spec`). The figures they compute are described in the
//! parent module's documentation.

use super::*;

/// Joins each notice `n` to its first (not replacing) decision before the period's end as `fd`,
/// through the `first_decision_id` the store keeps on each notice when it records a decision.
pub(crate) const FIRST_DECISION: &str = "LEFT JOIN decisions fd ON fd.id = n.first_decision_id AND fd.decided_at < $2";

/// Notices first decided in the period (uses the `notices_first_decided` index).
pub(crate) const FIRST_DECIDED_IN_PERIOD: &str = "(n.first_decided_at >= $1 AND n.first_decided_at < $2)";

pub(super) const NOTICE_SOURCES: &str = "'article_16', 'trusted_flagger'";
const ALL_SOURCES: &str = "'article_16', 'trusted_flagger', 'authority_order', 'own_initiative', 'automated_match'";

/// Items a notice names: its locations, or for a hash-only report its hashes.
pub(crate) const ITEMS: &str = "COALESCE(NULLIF((SELECT COUNT(*) FROM notice_locations l WHERE l.notice_id = n.id), 0), \
     (SELECT COUNT(*) FROM notice_hashes h WHERE h.notice_id = n.id))";

/// Notices of `sources` received in the period or first decided in it.
pub(super) fn notices_base(sources: &str) -> String {
    format!(
        "SELECT n.category AS category, n.source AS source, \
         CASE WHEN n.source = 'trusted_flagger' THEN 1 ELSE 0 END AS tf, \
         CASE WHEN n.received_at >= $1 AND n.received_at < $2 THEN 1 ELSE 0 END AS rec, \
         CASE WHEN n.received_at >= $1 AND n.received_at < $2 THEN {ITEMS} ELSE 0 END AS items, \
         CASE WHEN fd.decided_at >= $1 THEN 1 ELSE 0 END AS acted, \
         CASE WHEN fd.decided_at >= $1 THEN fd.decided_at - n.received_at END AS tta, \
         CASE WHEN fd.decided_at >= $1 AND n.source = 'trusted_flagger' THEN fd.decided_at - n.received_at END \
           AS tta_tf, \
         fd.restricts AS restricts, fd.ground AS ground, fd.automated_decision AS automated_decision \
         FROM notices n {FIRST_DECISION} \
         WHERE n.source IN ({sources}) AND ((n.received_at >= $1 AND n.received_at < $2) OR {FIRST_DECIDED_IN_PERIOD})"
    )
}

const ACTION_LAW: &str = "acted = 1 AND restricts = 1 AND ground = 'illegal'";
const ACTION_TERMS: &str = "acted = 1 AND restricts = 1 AND ground = 'incompatible'";

pub(super) fn notices_spec() -> Spec {
    Spec {
        name: "notices",
        title: "Notices (Art. 15(1)(b)): Art. 16 notices and trusted flaggers' notices",
        ctes: "",
        base: notices_base(NOTICE_SOURCES),
        dims: &["category"],
        groupings: &[&[], &["category"]],
        columns: vec![
            ("notices_received", "Number of notices received", agg("SUM(rec)")),
            ("notices_received_tf", "Number of notices received from trusted flaggers", agg("SUM(rec * tf)")),
            ("items", "Number of items notified", agg("SUM(items)")),
            ("items_tf", "Number of items notified by trusted flaggers", agg("SUM(items * tf)")),
            ("decided", "Number of notices decided", agg("SUM(acted)")),
            ("actions_law", "Number of actions taken on the basis of the law", count_if(ACTION_LAW)),
            (
                "actions_law_tf",
                "Number of actions taken on the basis of the law (trusted flaggers)",
                count_if(&format!("{ACTION_LAW} AND tf = 1")),
            ),
            ("actions_terms", "Number of actions taken on the basis of terms and conditions", count_if(ACTION_TERMS)),
            (
                "actions_terms_tf",
                "Number of actions taken on the basis of terms and conditions (trusted flaggers)",
                count_if(&format!("{ACTION_TERMS} AND tf = 1")),
            ),
            (
                "processed_solely_automated",
                "Number of notices processed by solely automated means",
                count_if("acted = 1 AND automated_decision = 'fully'"),
            ),
            (
                "processed_partly_automated",
                "Number of notices processed by partly automated means",
                count_if("acted = 1 AND automated_decision = 'partially'"),
            ),
            ("median_time_to_action", "Median time to take action", Calc::Median("tta")),
            ("median_time_to_action_tf", "Median time to take action (trusted flaggers)", Calc::Median("tta_tf")),
        ],
    }
}

pub(super) fn specs() -> Vec<Spec> {
    let orders = Spec {
        name: "orders",
        title: "Orders to act against illegal content from Member States' authorities (Art. 9, 15(1)(a))",
        ctes: "",
        base: format!(
            "SELECT COALESCE(n.order_member_state, 'unknown') AS member_state, \
             COALESCE(n.order_kind, 'unknown') AS order_kind, n.category AS category, \
             CASE WHEN n.received_at >= $1 AND n.received_at < $2 THEN 1 ELSE 0 END AS rec, \
             CASE WHEN n.received_at >= $1 AND n.received_at < $2 THEN {ITEMS} ELSE 0 END AS items, \
             CASE WHEN fd.decided_at >= $1 THEN 1 ELSE 0 END AS acted, \
             CASE WHEN n.received_at >= $1 AND n.received_at < $2 THEN \
               CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') \
               THEN (SELECT MIN(o.delivered_at) FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') \
                 - n.received_at \
               ELSE 0 END END AS ack, \
             CASE WHEN fd.decided_at >= $1 THEN fd.decided_at - n.received_at END AS effect \
             FROM notices n {FIRST_DECISION} \
             WHERE n.source = 'authority_order' AND ((n.received_at >= $1 AND n.received_at < $2) OR {FIRST_DECIDED_IN_PERIOD})"
        ),
        dims: &["member_state", "order_kind", "category"],
        groupings: &[&[], &["member_state"], &["order_kind"], &["category"], &["member_state", "category"]],
        columns: vec![
            ("orders_received", "Number of orders to act received", agg("SUM(rec)")),
            ("items", "Number of items covered by the orders", agg("SUM(items)")),
            ("given_effect", "Number of orders given effect", agg("SUM(acted)")),
            ("median_time_to_confirm_receipt", "Median time to confirm receipt", Calc::Median("ack")),
            ("median_time_to_give_effect", "Median time to give effect", Calc::Median("effect")),
        ],
    };
    let by_source = Spec {
        name: "notices_by_source",
        title: "Notices by source",
        ctes: "",
        base: notices_base(ALL_SOURCES),
        dims: &["source"],
        groupings: &[&[], &["source"]],
        columns: vec![
            ("notices_received", "Number of notices received", agg("SUM(rec)")),
            ("decided", "Number of notices decided", agg("SUM(acted)")),
            ("actions_law", "Number of actions taken on the basis of the law", count_if(ACTION_LAW)),
            ("actions_terms", "Number of actions taken on the basis of terms and conditions", count_if(ACTION_TERMS)),
            (
                "processed_solely_automated",
                "Number of notices processed by solely automated means",
                count_if("acted = 1 AND automated_decision = 'fully'"),
            ),
            ("median_time_to_action", "Median time to take action", Calc::Median("tta")),
        ],
    };
    let mut own_columns = vec![
        ("measures", "Number of measures taken", agg("COUNT(*)")),
        (
            "after_automated_detection",
            "Of which after detection by solely automated means",
            agg("SUM(automated_detection)"),
        ),
        ("solely_automated_decision", "Of which decided by solely automated means", agg("SUM(solely)")),
        ("hash_matches", "Of which hash-bank matches", agg("SUM(hash_match)")),
    ];
    for (key, label, cond) in restriction_columns() {
        own_columns.push((key, label, count_if(&cond)));
    }
    let own_initiative = Spec {
        name: "own_initiative",
        title: "Own-initiative measures, incl. hash-bank matches (Art. 15(1)(c)), by basis (law | terms)",
        ctes: "",
        base: OWN_INITIATIVE_BASE.to_owned(),
        dims: &["basis", "category"],
        groupings: &[&[], &["basis"], &["basis", "category"]],
        columns: own_columns,
    };
    let complaints = Spec {
        name: "complaints",
        title: "Internal complaints (Art. 15(1)(d), 20)",
        ctes: "",
        base: "SELECT a.appellant AS appellant, \
               CASE WHEN a.received_at >= $1 AND a.received_at < $2 THEN 1 ELSE 0 END AS rec, \
               CASE WHEN a.decided_at >= $1 AND a.decided_at < $2 THEN a.outcome END AS outcome, \
               CASE WHEN a.decided_at >= $1 AND a.decided_at < $2 THEN a.decided_at - a.received_at END AS ttd \
               FROM appeals a WHERE (a.received_at >= $1 AND a.received_at < $2) \
               OR (a.decided_at >= $1 AND a.decided_at < $2)"
            .to_owned(),
        dims: &["appellant"],
        groupings: &[&[], &["appellant"]],
        columns: vec![
            ("total", "Total number of complaints received", agg("SUM(rec)")),
            ("decided", "Number of complaints decided", agg("COUNT(outcome)")),
            ("upheld", "Decisions upheld", count_if("outcome = 'upheld'")),
            ("partially_reversed", "Decisions partially reversed", count_if("outcome = 'modified'")),
            ("reversed", "Decisions reversed", count_if("outcome = 'reversed'")),
            ("median_time", "Median time to decide", Calc::Median("ttd")),
        ],
    };
    let suspensions = Spec {
        name: "suspensions",
        title: "Art. 23 measures (Art. 24(1)(b))",
        ctes: "",
        base: "SELECT kind FROM misuse_measures WHERE at >= $1 AND at < $2".to_owned(),
        dims: &[],
        groupings: &[&[]],
        columns: vec![
            (
                "suspensions_manifestly_unfounded_notices",
                "Suspensions for manifestly unfounded notices",
                count_if("kind = 'suspension'"),
            ),
            (
                "warnings_manifestly_unfounded_notices",
                "Prior warnings for manifestly unfounded notices",
                count_if("kind = 'warning'"),
            ),
        ],
    };
    let ai_files = Spec {
        name: "ai_generated_files",
        title: "Cases by AI-generated content, from what the files say (C2PA, XMP, PNG text, EXIF)",
        ctes: "",
        base: "SELECT COALESCE(ci.ai_generated, 'unknown') AS ai_generated, \
               COALESCE(ci.generator, 'none') AS generator, c.category AS category, ci.case_id AS case_id \
               FROM content_items ci JOIN cases c ON c.id = ci.case_id \
               WHERE ci.created_at >= $1 AND ci.created_at < $2"
            .to_owned(),
        dims: &["ai_generated", "generator", "category"],
        groupings: &[
            &[],
            &["ai_generated"],
            &["ai_generated", "generator"],
            &["ai_generated", "generator", "category"],
        ],
        columns: vec![("cases", "Number of cases", agg("COUNT(DISTINCT case_id)"))],
    };
    let ai_claims = Spec {
        name: "ai_generated_claims",
        title: "Cases by AI-generated content, as notifiers claimed it",
        ctes: "",
        base: "SELECT n.ai_generated AS ai_generated, COALESCE(n.generator, 'none') AS generator, \
               n.category AS category, n.case_id AS case_id \
               FROM notices n WHERE n.received_at >= $1 AND n.received_at < $2"
            .to_owned(),
        dims: &["ai_generated", "generator", "category"],
        groupings: &[
            &[],
            &["ai_generated"],
            &["ai_generated", "generator"],
            &["ai_generated", "generator", "category"],
        ],
        columns: vec![
            ("cases", "Number of cases", agg("COUNT(DISTINCT case_id)")),
            ("notices", "Number of notices", agg("COUNT(*)")),
        ],
    };
    vec![orders, notices_spec(), by_source, own_initiative, complaints, suspensions, ai_files, ai_claims]
}

/// Own-initiative measures (Art. 15(1)(c)): restricting first decisions in `[$1, $2)` whose notices
/// are all the platform's own reports or hash-bank matches.
pub(crate) const OWN_INITIATIVE_BASE: &str = "SELECT CASE WHEN d.ground = 'incompatible' THEN 'terms' ELSE 'law' END AS basis, d.category AS category, \
       d.automated_detection AS automated_detection, \
       CASE WHEN d.automated_decision = 'fully' THEN 1 ELSE 0 END AS solely, \
       CASE WHEN EXISTS (SELECT 1 FROM decision_notices dn JOIN notices n ON n.id = dn.notice_id \
         WHERE dn.decision_id = d.id AND n.source = 'automated_match') THEN 1 ELSE 0 END AS hash_match, \
       d.visibility AS visibility, d.monetary AS monetary, d.provision AS provision, d.account AS account \
       FROM decisions d WHERE d.decided_at >= $1 AND d.decided_at < $2 AND d.replaces IS NULL \
       AND d.restricts = 1 \
       AND EXISTS (SELECT 1 FROM decision_notices dn WHERE dn.decision_id = d.id) \
       AND NOT EXISTS (SELECT 1 FROM decision_notices dn JOIN notices n ON n.id = dn.notice_id \
         WHERE dn.decision_id = d.id AND n.source NOT IN ('own_initiative', 'automated_match'))";

/// The restriction-type columns of the own-initiative table: key, label and the condition on a
/// `decisions` row (`visibility`, `monetary`, `provision`, `account`) that counts it.
pub(crate) fn restriction_columns() -> Vec<(&'static str, &'static str, String)> {
    let has = |list: &str, value: &str| format!("(',' || {list} || ',') LIKE '%,{value},%'");
    let mut out = Vec::new();
    for (key, label, value) in [
        ("visibility_removal", "Visibility: Removal", "removed"),
        ("visibility_disable", "Visibility: Disable", "disabled"),
        ("visibility_demoted", "Visibility: Demoted", "demoted"),
        ("visibility_age_restricted", "Visibility: Age restricted", "age_restricted"),
        ("visibility_interaction_restricted", "Visibility: Interaction restricted", "interaction_restricted"),
        ("visibility_labelled", "Visibility: Labelled", "labelled"),
        ("visibility_other", "Visibility: Other", "other"),
    ] {
        out.push((key, label, has("visibility", value)));
    }
    for (key, label, cond) in [
        ("monetary_suspension", "Monetary: Suspension", "monetary = 'suspension'"),
        ("monetary_termination", "Monetary: Termination", "monetary = 'termination'"),
        ("monetary_other", "Monetary: Other", "monetary = 'other'"),
        (
            "provision_suspension",
            "Provision of the service: Suspension",
            "provision IN ('partial_suspension', 'total_suspension')",
        ),
        (
            "provision_termination",
            "Provision of the service: Termination",
            "provision IN ('partial_termination', 'total_termination')",
        ),
        ("account_suspension", "Account: Suspension", "account = 'suspended'"),
        ("account_termination", "Account: Termination", "account = 'terminated'"),
    ] {
        out.push((key, label, cond.to_owned()));
    }
    out
}

const TF: Option<(&str, &str)> = Some(("source", "trusted_flagger"));

/// A dimension and the values a fact row must have in it to count.
type RowFilter = Option<(&'static str, &'static [&'static str])>;

/// The rollup form of a report table (same name, title, dimensions, groupings and columns), or
/// `None` for a table counted from the rows.
pub(super) fn rollup_spec(spec: &Spec) -> Option<RollupTable> {
    let (only, map): (RowFilter, fn(&str) -> Option<Src>) = match spec.name {
        "orders" => (Some(("source", &["authority_order"])), |key| {
            Some(match key {
                "orders_received" => Src::Sum("notice_received", "rows", None),
                "items" => Src::Sum("notice_received", "items", None),
                "given_effect" => Src::Sum("notice_decided", "rows", None),
                "median_time_to_confirm_receipt" => Src::Median("order_ack", "ack", None),
                "median_time_to_give_effect" => Src::Median("notice_decided", "tta", None),
                _ => return None,
            })
        }),
        "notices" | "notices_by_source" => (
            Some((
                "source",
                if spec.name == "notices" {
                    &["article_16", "trusted_flagger"]
                } else {
                    &["article_16", "trusted_flagger", "authority_order", "own_initiative", "automated_match"]
                },
            )),
            |key| {
                let tf = key.ends_with("_tf");
                let filter = if tf { TF } else { None };
                Some(match key.trim_end_matches("_tf") {
                    "notices_received" => Src::Sum("notice_received", "rows", filter),
                    "items" => Src::Sum("notice_received", "items", filter),
                    "decided" => Src::Sum("notice_decided", "rows", filter),
                    "actions_law" => Src::Sum("notice_decided", "law", filter),
                    "actions_terms" => Src::Sum("notice_decided", "terms", filter),
                    "processed_solely_automated" => Src::Sum("notice_decided", "solely", filter),
                    "processed_partly_automated" => Src::Sum("notice_decided", "partly", filter),
                    "median_time_to_action" => Src::Median("notice_decided", "tta", filter),
                    _ => return None,
                })
            },
        ),
        "own_initiative" => (None, |key| {
            Some(match key {
                "measures" => Src::Sum("own_initiative", "rows", None),
                "after_automated_detection" => Src::Sum("own_initiative", "automated_detection", None),
                "solely_automated_decision" => Src::Sum("own_initiative", "solely", None),
                "hash_matches" => Src::Sum("own_initiative", "hash_match", None),
                other => {
                    let (k, _, _) = restriction_columns().into_iter().find(|(k, _, _)| *k == other)?;
                    Src::Sum("own_initiative", k, None)
                }
            })
        }),
        "complaints" => (None, |key| {
            Some(match key {
                "total" => Src::Sum("appeal_received", "rows", None),
                "decided" => Src::Sum("appeal_decided", "rows", None),
                "upheld" => Src::Sum("appeal_decided", "upheld", None),
                "partially_reversed" => Src::Sum("appeal_decided", "modified", None),
                "reversed" => Src::Sum("appeal_decided", "reversed", None),
                "median_time" => Src::Median("appeal_decided", "ttd", None),
                _ => return None,
            })
        }),
        "suspensions" => (None, |key| {
            Some(match key {
                "suspensions_manifestly_unfounded_notices" => Src::Sum("misuse", "suspension", None),
                "warnings_manifestly_unfounded_notices" => Src::Sum("misuse", "warning", None),
                _ => return None,
            })
        }),
        _ => return None,
    };
    let columns =
        spec.columns.iter().map(|(key, label, _)| Some((*key, *label, map(key)?))).collect::<Option<Vec<_>>>()?;
    Some(RollupTable { name: spec.name, title: spec.title, dims: spec.dims, groupings: spec.groupings, only, columns })
}
