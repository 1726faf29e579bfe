use serde_json::json;
use staydown_domain::roles::Role;

use crate::support::{each_backend, error_fields, notice, parse_time};

fn order(deadline: Option<time::OffsetDateTime>) -> serde_json::Value {
    let mut body = notice("https://host.example/img/77");
    body["notifier"] = serde_json::Value::Null;
    body["order"] = json!({
        "kind": "atkm_csam",
        "reference": "ATKM-2026-0042",
        "legal_basis": "Wet bestuursrechtelijke aanpak online kinderpornografisch materiaal",
    });
    if let Some(d) = deadline {
        body["order"]["deadline"] = json!(d.format(&time::format_description::well_known::Rfc3339).unwrap());
    }
    body
}

#[tokio::test]
async fn flaggers_and_authorities_get_priority_and_deadlines() {
    each_backend(|app| async move {
        let flagger = app.key(Role::TrustedFlagger, "Offlimits").await;
        let authority = app.key(Role::Authority, "ATKM").await;
        let reviewer = app.key(Role::Reviewer, "R").await;

        let public = app.file(&notice("https://a.example/1"), None).await;
        let mut tf_body = notice("https://a.example/2");
        tf_body["notifier"] = serde_json::Value::Null; // the key identifies the flagger
        let tf = app.file(&tf_body, Some(&flagger)).await;
        let atkm = app.file(&order(None), Some(&authority)).await;

        let hours =
            |r: &serde_json::Value| (parse_time(&r["deadline"]) - parse_time(&r["received_at"])).whole_minutes();
        assert_eq!((tf["priority"].as_u64(), hours(&tf)), (Some(1), 4 * 60));
        assert_eq!((atkm["priority"].as_u64(), hours(&atkm)), (Some(0), 60));
        assert!(public.get("priority").is_none());

        let queue = app.queue(&reviewer).await;
        let sources: Vec<&str> = queue.iter().map(|c| c["sources"][0].as_str().unwrap()).collect();
        assert_eq!(sources, ["authority_order", "trusted_flagger", "article_16"]);
        assert_eq!(queue.iter().map(|c| c["priority"].as_u64().unwrap()).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(queue.iter().all(|c| c["overdue"] == false));

        // Past the authority's deadline the case shows as overdue.
        app.advance(time::Duration::minutes(61));
        let queue = app.queue(&reviewer).await;
        assert_eq!(queue[0]["overdue"], true);
        assert_eq!(queue[1]["overdue"], false);
    })
    .await;
}

#[tokio::test]
async fn an_order_deadline_earlier_than_the_policy_wins() {
    each_backend(|app| async move {
        let authority = app.key(Role::Authority, "ATKM").await;
        let due = app.state.now() + time::Duration::minutes(20);
        let receipt = app.file(&order(Some(due)), Some(&authority)).await;
        let deadline = parse_time(&receipt["deadline"]);
        assert!((deadline - due).abs() < time::Duration::seconds(1), "{deadline} vs {due}");
    })
    .await;
}

#[tokio::test]
async fn orders_are_for_authorities_and_authorities_file_orders() {
    each_backend(|app| async move {
        let authority = app.key(Role::Authority, "ATKM").await;
        let (status, problem) = app.post("/api/v1/notices", &order(None), None).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&problem), ["notifier.name", "notifier.email", "order"]);
        let mut bare = order(None);
        bare["order"] = serde_json::Value::Null;
        let (status, problem) = app.post("/api/v1/notices", &bare, Some(&authority)).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&problem), ["order"]);
        bare["order"] = json!({"kind": "sv_125p"});
        let (_, problem) = app.post("/api/v1/notices", &bare, Some(&authority)).await;
        assert_eq!(error_fields(&problem), ["order.reference", "order.legal_basis"]);
    })
    .await;
}

#[tokio::test]
async fn the_queue_is_for_reviewers() {
    each_backend(|app| async move {
        let flagger = app.key(Role::TrustedFlagger, "TF").await;
        let (status, problem) = app.get("/api/v1/queue", None).await;
        assert_eq!((status, problem["type"].as_str()), (401, Some("/problems/unauthorized")));
        let (status, problem) = app.get("/api/v1/queue", Some(&flagger)).await;
        assert_eq!((status, problem["type"].as_str()), (403, Some("/problems/forbidden")));
        for role in [Role::Reviewer, Role::SeniorReviewer, Role::Admin] {
            let key = app.key(role, "staff").await;
            assert_eq!(app.get("/api/v1/queue", Some(&key)).await.0, 200, "{role:?}");
        }
        let (status, _) = app.get("/api/v1/queue", Some("sd_000000000000_nope")).await;
        assert_eq!(status, 401);
    })
    .await;
}
