use staydown_domain::audit::AuditBreak;
use staydown_testkit::backends;

use crate::support::{TestApp, notice};

async fn app_with_notices(backend: staydown_testkit::Backend) -> TestApp {
    let app = TestApp::start(backend).await;
    for i in 0..3 {
        app.file(&notice(&format!("https://example.com/a/{i}")), None).await;
    }
    // 3 notices × (notice.received + case.opened)
    let report = app.store().verify_audit().await.unwrap();
    assert_eq!((report.entries, report.broken), (6, None));
    app
}

#[tokio::test]
async fn every_intake_step_is_audited() {
    for backend in backends().await {
        let app = TestApp::start(backend).await;
        let receipt = app.file(&notice("https://example.com/audited"), None).await;
        let entries = app.store().audit_for(&format!("notice:{}", receipt["id"].as_str().unwrap())).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "notice.received");
        assert_eq!(entries[0].actor, "public");
        // No personal data in the chain, so erasing it never breaks the chain.
        assert!(!entries[0].detail.contains("test.person@example.org"));
        assert!(!entries[0].detail.contains("Test Person"));
    }
}

#[tokio::test]
async fn verification_finds_a_changed_a_deleted_and_a_swapped_row() {
    for backend in backends().await {
        let app = app_with_notices(backend).await;
        app.store()
            .danger_execute("UPDATE audit_log SET detail = '{\"source\":\"forged\"}' WHERE seq = 3")
            .await
            .unwrap();
        assert_eq!(
            app.store().verify_audit().await.unwrap().broken,
            Some(AuditBreak::Altered { seq: 3 }),
            "{backend:?}"
        );

        let app = app_with_notices(backend).await;
        app.store().danger_execute("DELETE FROM audit_log WHERE seq = 2").await.unwrap();
        assert_eq!(
            app.store().verify_audit().await.unwrap().broken,
            Some(AuditBreak::Gap { expected_seq: 2, found_seq: 3 }),
            "{backend:?}"
        );

        // Swap two entries' positions (their sequence numbers).
        let app = app_with_notices(backend).await;
        for sql in [
            "UPDATE audit_log SET seq = -1 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = 5",
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
        ] {
            app.store().danger_execute(sql).await.unwrap();
        }
        assert_eq!(
            app.store().verify_audit().await.unwrap().broken,
            Some(AuditBreak::BrokenLink { seq: 4 }),
            "{backend:?}"
        );

        // Removing the newest entries is caught by the head record.
        let app = app_with_notices(backend).await;
        app.store().danger_execute("DELETE FROM audit_log WHERE seq = 6").await.unwrap();
        assert_eq!(
            app.store().verify_audit().await.unwrap().broken,
            Some(AuditBreak::Truncated { last_seq: 5, head_seq: 6 }),
            "{backend:?}"
        );
    }
}
