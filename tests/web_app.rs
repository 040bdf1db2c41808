//! How the web app is served (issue 19): one page that carries its bundled script, its sheet
//! and its boot script inline, allowed by their hashes in the page's own Content-Security-Policy;
//! the page is revalidated by its `ETag` (an unchanged reload costs one small `304`) and goes
//! gzip-compressed to browsers that take it; the service worker that caches it names its
//! version and is revalidated too.

mod common;

use base64::Engine;
use common::spawn_app;
use sha2::{Digest, Sha256};

fn header(reply: &reqwest::Response, name: &str) -> String {
    reply
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The content of every element opened by `open` (through its `</tag>`).
fn contents<'a>(html: &'a str, open: &str, tag: &str) -> Vec<&'a str> {
    html.split(open)
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{tag}>")).next())
        .collect()
}

#[tokio::test]
async fn the_page_carries_the_app_inline_allowed_by_hash_and_is_revalidated() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let page = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let etag = header(&page, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let policy = header(&page, "content-security-policy");
    let html = page.text().await.unwrap();

    // Nothing the first screen needs is a request of its own.
    assert!(!html.contains(" src=\""), "a script is loaded by name");
    assert!(
        !html.contains("rel=\"stylesheet\""),
        "a sheet is loaded by name"
    );
    let inline: Vec<&str> = contents(&html, "<script>", "script")
        .into_iter()
        .chain(contents(&html, "<script type=\"module\">", "script"))
        .chain(contents(&html, "<style>", "style"))
        .collect();
    assert_eq!(inline.len(), 3, "boot script, app script, sheet");
    assert!(inline[1].contains("createJoinView"), "the app's modules");
    // The policy allows exactly these three inline elements, by hash, and nothing else inline.
    for text in &inline {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
    }
    assert_eq!(policy.matches("'sha256-").count(), 3, "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    // Any other response keeps the strict policy without hashes.
    let other = http.get(app.url("/js/main.js")).send().await.unwrap();
    assert!(!header(&other, "content-security-policy").contains("sha256"));

    // A warm reload without the service worker: the browser shows its ETag, gets a bodiless 304.
    let again = http
        .get(app.url("/room/general"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // Compressed for browsers that take gzip, not for those that refuse it.
    let zipped = http
        .get(app.url("/"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert_eq!(header(&zipped, "vary"), "accept-encoding");
    let compressed = zipped.bytes().await.unwrap();
    assert!(
        compressed.len() * 3 < html.len(),
        "{} of {}",
        compressed.len(),
        html.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(compressed.as_ref()),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, html.as_bytes(), "the same page");
    let refused = http
        .get(app.url("/"))
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&refused, "content-encoding"), "");

    // The service worker: revalidated like the page, carrying this build's version.
    let worker = http.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(header(&worker, "cache-control"), "no-cache");
    assert!(header(&worker, "content-type").starts_with("text/javascript"));
    let worker = worker.text().await.unwrap();
    assert!(!worker.contains("const VERSION = 'dev';"), "{worker}");
    assert!(worker.contains("const VERSION = '"));

    // The modules stay reachable under their own names (revalidated).
    let module = http.get(app.url("/js/main.js")).send().await.unwrap();
    assert_eq!(header(&module, "cache-control"), "no-cache");
}
