//! How the web app is served (issue 19): one page naming a bundled script, one stylesheet and
//! a boot script under content-hashed names that browsers keep for good; the page itself is
//! revalidated by its `ETag` (a warm reload costs one small `304`); text goes gzip-compressed
//! to browsers that take it.

mod common;

use common::spawn_app;

#[tokio::test]
async fn the_page_names_hashed_assets_kept_for_good_and_is_itself_revalidated() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let page = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let header = |reply: &reqwest::Response, name: &str| {
        reply
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let etag = header(&page, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let html = page.text().await.unwrap();
    let assets: Vec<String> = html
        .split("=\"/assets/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("/assets/{name}"))
        .collect();
    assert_eq!(
        assets.len(),
        4,
        "script, sheet, boot script, icon: {assets:?}"
    );
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("rel=\"stylesheet\"").count(), 1, "{html}");

    // A warm reload: the browser shows its ETag and gets a bodiless 304.
    let again = http
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    for path in &assets {
        let plain = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(plain.status().as_u16(), 200, "{path}");
        assert_eq!(
            header(&plain, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        let body = plain.bytes().await.unwrap();
        if path.ends_with(".js") && path.contains("/app.") {
            let zipped = http
                .get(app.url(path))
                .header("accept-encoding", "gzip, br")
                .send()
                .await
                .unwrap();
            assert_eq!(header(&zipped, "content-encoding"), "gzip");
            assert_eq!(header(&zipped, "vary"), "accept-encoding");
            let compressed = zipped.bytes().await.unwrap();
            assert!(
                compressed.len() * 3 < body.len(),
                "{} of {}",
                compressed.len(),
                body.len()
            );
            let mut unzipped = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(compressed.as_ref()),
                &mut unzipped,
            )
            .unwrap();
            assert_eq!(unzipped, body, "the same script");
            let refused = http
                .get(app.url(path))
                .header("accept-encoding", "gzip;q=0")
                .send()
                .await
                .unwrap();
            assert_eq!(header(&refused, "content-encoding"), "");
        }
    }
    // The modules stay reachable under their own names (revalidated, not kept for good).
    let module = http.get(app.url("/js/main.js")).send().await.unwrap();
    assert_eq!(header(&module, "cache-control"), "no-cache");
}
