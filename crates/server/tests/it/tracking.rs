use crate::support::{each_backend, notice};

#[tokio::test]
async fn only_the_right_token_sees_the_notice() {
    each_backend(|app| async move {
        let receipt = app.file(&notice("https://example.com/track"), None).await;
        let id = receipt["id"].as_str().unwrap();
        let token = receipt["tracking_token"].as_str().unwrap();

        let (status, view) = app.get(&format!("/api/v1/notices/{id}?token={token}"), None).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["id"], id);
        assert_eq!(view["status"], "received", "the receipt's word");
        assert_eq!(view["locations"][0], "https://example.com/track");
        assert!(view["decision"].is_null());

        // The header form works too.
        let resp = app
            .client
            .get(format!("{}/api/v1/notices/{id}", app.base))
            .header("X-Tracking-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);

        // A wrong token, no token, another notice's token and an unknown id all look the same.
        let other = app.file(&notice("https://example.com/other"), None).await;
        let other_token = other["tracking_token"].as_str().unwrap();
        let (_, not_found) = app.get("/api/v1/notices/00000000-0000-0000-0000-000000000000?token=x", None).await;
        for path in [
            format!("/api/v1/notices/{id}?token={}", "0".repeat(64)),
            format!("/api/v1/notices/{id}"),
            format!("/api/v1/notices/{id}?token="),
            format!("/api/v1/notices/{id}?token={other_token}"),
        ] {
            let (status, body) = app.get(&path, None).await;
            assert_eq!(status, 404, "{path}");
            assert_eq!(body, not_found, "{path} must learn nothing");
        }
    })
    .await;
}
