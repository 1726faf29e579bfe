use serde_json::json;
use staydown_domain::misuse::MisusePolicy;
use staydown_domain::roles::Role;

use crate::support::{TestApp, notice};

/// DSA Art. 23(2): warned after the second manifestly unfounded notice, suspended after the third;
/// a suspended notifier gets a clear 403 and nothing is stored.
#[tokio::test]
async fn unfounded_notices_earn_a_warning_then_a_suspension() {
    for backend in staydown_testkit::backends().await {
        let settings = staydown_server::Settings {
            public_url: "http://staydown.test".into(),
            misuse: MisusePolicy { warn_after: 2, suspend_after: 3, ..MisusePolicy::default() },
            // Twelve notices at once below, from one address.
            public_notice_burst: 100,
            ..staydown_server::Settings::default()
        };
        let app = TestApp::start_with(backend, settings).await;
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        let unfounded = json!({"explanation": "There is no image at this address.", "manifestly_unfounded": true});
        let mut kinds = Vec::new();
        for i in 0..3 {
            app.file(&notice(&format!("https://social.example/nothing/{i}")), None).await;
            let case_id = app.only_case(&reviewer).await;
            let (status, body) =
                app.post(&format!("/api/v1/cases/{case_id}/decision"), &unfounded, Some(&reviewer)).await;
            assert_eq!(status, 201, "{body}");
            kinds.push(
                body["misuse_measures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["kind"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(kinds, [vec![], vec!["warning".to_owned()], vec!["suspension".to_owned()]]);

        let before = app.store().count_notices().await.unwrap();
        let (status, body) = app.post("/api/v1/notices", &notice("https://social.example/real"), None).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with("/notifier-suspended"));
        assert!(body["detail"].as_str().unwrap().contains("3 of 3 notices"), "{body}");
        assert_eq!(app.store().count_notices().await.unwrap(), before);

        // Filed at once with others' notices (group commit checks a batch's notifiers in the
        // transaction that would file it, issue 16): only the suspended notifier's is refused.
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for i in 0..12 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut body = notice(&format!("https://social.example/batch/{i}"));
                if i != 5 {
                    body["notifier"]["email"] = json!(format!("other.{i}@example.org"));
                }
                app.post("/api/v1/notices", &body, None).await
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            if status == 403 {
                assert!(body["type"].as_str().unwrap().ends_with("/notifier-suspended"), "{body}");
            }
            statuses.push(status);
        }
        let refused: Vec<usize> = (0..12).filter(|&i| statuses[i] == 403).collect();
        assert_eq!(refused, [5], "{statuses:?}");
        assert!(statuses.iter().enumerate().all(|(i, &s)| i == 5 || s == 201), "{statuses:?}");
        assert_eq!(app.store().count_notices().await.unwrap(), before + 11);
        assert_eq!(app.store().verify_audit().await.unwrap().broken, None);
        let app = std::sync::Arc::into_inner(app).unwrap();

        // Someone else is not affected; the suspension ends after its period.
        let mut other = notice("https://social.example/real");
        other["notifier"]["email"] = json!("someone.else@example.org");
        app.file(&other, None).await;
        app.advance(time::Duration::days(31));
        app.file(&notice("https://social.example/real-2"), None).await;

        app.deliver().await;
        let subjects: Vec<String> = app.sent.lock().unwrap().iter().map(|m| m.subject.clone()).collect();
        assert!(subjects.iter().any(|s| s == "A warning about your reports"), "{subjects:?}");
        assert!(subjects.iter().any(|s| s == "Your reports are suspended"), "{subjects:?}");
        let auditor = app.key(Role::Auditor, "auditor").await;
        let (status, measures) = app.get("/api/v1/misuse", Some(&auditor)).await;
        assert_eq!(status, 200);
        assert_eq!(measures.as_array().unwrap().len(), 2);
        assert!(!measures.to_string().contains("test.person@example.org"), "notifiers are pseudonymous here");
    }
}
