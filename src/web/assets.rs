//! The web app as it is served, prepared once at start-up from the files embedded in the binary.
//!
//! Why one page: a phone 150 ms away pays a round trip for every step of a dependency chain, and
//! a page that names its script and stylesheet is a chain of two (the page, then what it names).
//! So the page carries everything its first screen needs: the modules bundled into one script
//! (without their comments and indentation), the stylesheets joined into one sheet, the boot
//! script and the icon, all written into `index.html`. Its Content-Security-Policy allows exactly
//! those inline elements by their hashes and nothing else inline. The page is revalidated by its
//! `ETag` (an unchanged reload costs one bodiless `304`); once the service worker (`web/sw.js`)
//! is installed, a visit costs no round trip at all: the worker is served with the page's version
//! written into it, so each build is a new worker that caches its own page. Text is
//! gzip-compressed here once rather than on every request.
//!
//! If the modules cannot be bundled (a syntax the bundler does not take), the app is served as
//! its separate files instead, and the reason is logged; a unit test bundles the real app, so
//! that never reaches a release unnoticed.

use super::bundle::bundle;
use super::compact::compact;
use super::CONTENT_SECURITY_POLICY;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;
use include_dir::Dir;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// One servable file.
#[derive(Debug)]
pub struct Asset {
    pub body: Vec<u8>,
    /// The same, gzip-compressed (text worth compressing only).
    pub gzip: Option<Vec<u8>>,
    /// A strong validator: a hash of `body`, quoted.
    pub etag: String,
    pub content_type: &'static str,
    /// The page's own Content-Security-Policy (its inline elements' hashes), where it has one.
    pub policy: Option<String>,
}

/// Every file the app serves, by path (no leading `/`).
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

/// The app's entry module, the classic script that must run before any stylesheet, the icon
/// and the service worker.
const ENTRY: &str = "js/main.js";
const BOOT: &str = "js/theme-boot.js";
const ICON: &str = "favicon.svg";
const WORKER: &str = "sw.js";

impl Assets {
    /// Prepares `dir` (the embedded `web/`).
    pub fn build(dir: &Dir<'_>) -> Self {
        let mut files = HashMap::new();
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        collect(dir, &mut files, &mut texts);
        match bundled(&texts) {
            Ok(Bundled {
                page,
                policy,
                worker,
            }) => {
                let mut page = asset("index.html", page.into_bytes());
                page.policy = Some(policy);
                files.insert("index.html".into(), page);
                files.insert(WORKER.into(), asset(WORKER, worker.into_bytes()));
            }
            Err(err) => {
                tracing::error!(error = %err, "the web app's modules cannot be bundled; serving them one by one");
            }
        }
        Self { files }
    }

    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }
}

/// Every embedded file as it is (served under its own name, revalidated), and the text ones.
fn collect(
    dir: &Dir<'_>,
    files: &mut HashMap<String, Asset>,
    texts: &mut BTreeMap<String, String>,
) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if let Some(text) = file.contents_utf8() {
            texts.insert(path.clone(), text.to_owned());
        }
        files.insert(path.clone(), asset(&path, file.contents().to_vec()));
    }
    for sub in dir.dirs() {
        collect(sub, files, texts);
    }
}

/// The page with everything written into it, its policy, and the worker that caches it.
#[derive(Debug)]
struct Bundled {
    page: String,
    policy: String,
    worker: String,
}

fn bundled(texts: &BTreeMap<String, String>) -> Result<Bundled, String> {
    let modules: BTreeMap<String, String> = texts
        .iter()
        .filter(|(path, _)| path.starts_with("js/") && path.ends_with(".js"))
        .map(|(p, s)| (p.clone(), s.clone()))
        .collect();
    let script = compact(&bundle(&modules, ENTRY).map_err(|e| e.to_string())?);
    let index = texts.get("index.html").ok_or("no index.html")?;
    let sheets: Vec<&str> = index.lines().filter_map(|line| stylesheet(line)).collect();
    let mut sheet = String::new();
    for href in &sheets {
        let css = texts
            .get(href.trim_start_matches('/'))
            .ok_or_else(|| format!("index.html names a missing stylesheet {href}"))?;
        sheet.push_str(css);
        sheet.push('\n');
    }
    let boot = texts.get(BOOT).ok_or("no theme-boot.js")?;
    let icon = texts.get(ICON).ok_or("no favicon.svg")?;
    let icon_uri = format!("data:image/svg+xml;base64,{}", BASE64.encode(icon));
    let boot_element = inline("script", "", boot)?;
    let sheet_element = inline("style", "", &sheet)?;
    let script_element = inline("script", " type=\"module\"", &script)?;

    let mut page = String::with_capacity(index.len() + script.len() + sheet.len() + boot.len());
    let mut sheet_written = false;
    let mut found = (false, false);
    for line in index.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let element = match line.trim() {
            "<script src=\"/js/theme-boot.js\"></script>" => {
                found.0 = true;
                Some(boot_element.as_str())
            }
            "<script type=\"module\" src=\"/js/main.js\"></script>" => {
                found.1 = true;
                Some(script_element.as_str())
            }
            _ if stylesheet(line).is_some() => {
                if sheet_written {
                    continue;
                }
                sheet_written = true;
                Some(sheet_element.as_str())
            }
            _ => None,
        };
        page.push_str(indent);
        match element {
            Some(element) => page.push_str(element),
            None => page.push_str(
                &line
                    .trim_start()
                    .replace("href=\"/favicon.svg\"", &format!("href=\"{icon_uri}\"")),
            ),
        }
        page.push('\n');
    }
    if found != (true, true) {
        return Err(
            "index.html does not load /js/main.js and /js/theme-boot.js as expected".into(),
        );
    }
    let policy = CONTENT_SECURITY_POLICY
        .replacen(
            "script-src 'self'",
            &format!("script-src 'self' {} {}", allowed(boot), allowed(&script)),
            1,
        )
        .replacen(
            "style-src 'self'",
            &format!("style-src 'self' {}", allowed(&sheet)),
            1,
        );
    let worker = worker(
        texts.get(WORKER).ok_or("no sw.js")?,
        &hex_digest(page.as_bytes())[..16],
    )?;
    Ok(Bundled {
        page,
        policy,
        worker,
    })
}

/// `<tag attributes>text</tag>`, refused if the text could end the element early or switch the
/// HTML parser into one of its script-escape states.
fn inline(tag: &str, attributes: &str, text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    for bad in [format!("</{tag}"), "<!--".into(), "<script".into()] {
        if lower.contains(&bad) {
            return Err(format!("the inline {tag} would contain `{bad}`"));
        }
    }
    Ok(format!("<{tag}{attributes}>{text}</{tag}>"))
}

/// The policy source that allows one inline element with exactly `text` as its content.
fn allowed(text: &str) -> String {
    format!(
        "'sha256-{}'",
        BASE64.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The service worker with this build's page version written in.
fn worker(source: &str, version: &str) -> Result<String, String> {
    const VERSION_LINE: &str = "const VERSION = 'dev';";
    if !source.contains(VERSION_LINE) {
        return Err(format!(
            "sw.js lacks `{VERSION_LINE}` for the server to fill in"
        ));
    }
    Ok(source.replace(VERSION_LINE, &format!("const VERSION = '{version}';")))
}

/// The `href` of a line that links one stylesheet.
fn stylesheet(line: &str) -> Option<&str> {
    let line = line.trim();
    let rest = line.strip_prefix("<link rel=\"stylesheet\" href=\"")?;
    rest.split('"').next()
}

fn hex_digest(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn asset(path: &str, body: Vec<u8>) -> Asset {
    let content_type = content_type(path.rsplit_once('.').map(|(_, e)| e));
    let compressible = content_type.starts_with("text/") || content_type == "image/svg+xml";
    let gzip = (compressible && body.len() > 1024).then(|| gzip(&body));
    Asset {
        etag: format!("\"{}\"", &hex_digest(&body)[..32]),
        gzip,
        body,
        content_type,
        policy: None,
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

pub fn content_type(extension: Option<&str>) -> &'static str {
    match extension {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The content of every `<tag …>…</tag>` in `html`.
    fn contents<'a>(html: &'a str, open: &str, tag: &str) -> Vec<&'a str> {
        html.split(open)
            .skip(1)
            .filter_map(|rest| rest.split(&format!("</{tag}>")).next())
            .collect()
    }

    #[test]
    fn the_real_app_is_one_page_whose_policy_allows_exactly_its_inline_elements() {
        let (mut files, mut texts) = (HashMap::new(), BTreeMap::new());
        collect(&super::super::ASSETS, &mut files, &mut texts);
        if let Err(err) = bundled(&texts) {
            panic!("the app does not bundle: {err}");
        }
        let assets = Assets::build(&super::super::ASSETS);
        let index = assets.get("index.html").expect("the page");
        let html = std::str::from_utf8(&index.body).unwrap();
        for old in [
            "src=\"/js/",
            "href=\"/app.css\"",
            "href=\"/favicon.svg\"",
            "/assets/",
        ] {
            assert!(!html.contains(old), "{old} is still named");
        }
        assert!(html.contains("<link rel=\"icon\" href=\"data:image/svg+xml;base64,"));
        let scripts: Vec<&str> = contents(html, "<script>", "script")
            .into_iter()
            .chain(contents(html, "<script type=\"module\">", "script"))
            .collect();
        let styles = contents(html, "<style>", "style");
        assert_eq!((scripts.len(), styles.len()), (2, 1));
        assert_eq!(html.matches("<script").count(), 2);
        assert!(!html.contains("rel=\"stylesheet\""));
        let policy = index.policy.as_deref().expect("the page's own policy");
        for text in scripts.iter().chain(&styles) {
            assert!(
                policy.contains(&allowed(text)),
                "not allowed: {}",
                &text[..40]
            );
        }
        assert_eq!(policy.matches("'sha256-").count(), 3, "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(index.gzip.as_ref().unwrap().len() < index.body.len() / 3);
        // The worker caches this page, under this build's version.
        let worker = assets.get("sw.js").expect("the service worker");
        let worker = std::str::from_utf8(&worker.body).unwrap();
        assert!(!worker.contains("const VERSION = 'dev';"));
        assert!(worker.contains(&format!(
            "const VERSION = '{}';",
            &hex_digest(&index.body)[..16]
        )));
        // The files stay served under their own names too, without a policy of their own.
        assert!(assets.get("js/main.js").is_some_and(|a| a.policy.is_none()));
    }

    #[test]
    fn text_that_would_end_its_element_early_is_not_written_inline() {
        assert!(inline("script", "", "const a = '</SCRIPT>';").is_err());
        assert!(inline("style", "", "a::after { content: '</style>' }").is_err());
        assert!(inline("script", "", "if (a <!--b) {}").is_err());
        assert_eq!(
            inline("script", " type=\"module\"", "go();").unwrap(),
            "<script type=\"module\">go();</script>"
        );
    }
}
