//! The web app as it is served, prepared once at start-up from the files embedded in the binary:
//! the modules bundled into one script, the stylesheets into one sheet, both (and the boot script
//! and icon) under names that carry a hash of their content, and `index.html` rewritten to name
//! them. Hashed files never change under their name, so browsers keep them for good and a reload
//! asks for nothing but `index.html`, which is revalidated by its `ETag`. Text is gzip-compressed
//! here once rather than on every request.
//!
//! If the modules cannot be bundled (a syntax the bundler does not take), the app is served as
//! its separate files instead, and the reason is logged; a unit test bundles the real app, so
//! that never reaches a release unnoticed.

use super::bundle::bundle;
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
    /// Under a content-hashed name: cacheable for good.
    pub immutable: bool,
}

/// Every file the app serves, by path (no leading `/`).
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

/// The app's entry module and the classic script that must run before any stylesheet.
const ENTRY: &str = "js/main.js";
const BOOT: &str = "js/theme-boot.js";
const ICON: &str = "favicon.svg";

impl Assets {
    /// Prepares `dir` (the embedded `web/`).
    pub fn build(dir: &Dir<'_>) -> Self {
        let mut files = HashMap::new();
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        collect(dir, &mut files, &mut texts);
        match bundled(&texts) {
            Ok(served) => {
                for (path, body) in served {
                    let immutable = path.starts_with("assets/");
                    files.insert(path.clone(), asset(&path, body, immutable));
                }
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
        files.insert(path.clone(), asset(&path, file.contents().to_vec(), false));
    }
    for sub in dir.dirs() {
        collect(sub, files, texts);
    }
}

/// The hashed bundle, sheet, boot script and icon, and `index.html` naming them.
fn bundled(texts: &BTreeMap<String, String>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let modules: BTreeMap<String, String> = texts
        .iter()
        .filter(|(path, _)| path.starts_with("js/") && path.ends_with(".js"))
        .map(|(p, s)| (p.clone(), s.clone()))
        .collect();
    let script = bundle(&modules, ENTRY).map_err(|e| e.to_string())?;
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
    let script_name = hashed("app", "js", script.as_bytes());
    let sheet_name = hashed("app", "css", sheet.as_bytes());
    let boot_name = hashed("theme-boot", "js", boot.as_bytes());
    let icon_name = hashed("favicon", "svg", icon.as_bytes());
    let mut html = String::with_capacity(index.len());
    let mut sheet_linked = false;
    for line in index.lines() {
        if stylesheet(line).is_some() {
            if !sheet_linked {
                sheet_linked = true;
                html.push_str(&format!(
                    "  <link rel=\"stylesheet\" href=\"/{sheet_name}\">\n"
                ));
            }
            continue;
        }
        let line = line
            .replace("src=\"/js/main.js\"", &format!("src=\"/{script_name}\""))
            .replace(
                "src=\"/js/theme-boot.js\"",
                &format!("src=\"/{boot_name}\""),
            )
            .replace("href=\"/favicon.svg\"", &format!("href=\"/{icon_name}\""));
        html.push_str(&line);
        html.push('\n');
    }
    if !html.contains(&script_name) || !html.contains(&boot_name) {
        return Err(
            "index.html does not load /js/main.js and /js/theme-boot.js as expected".into(),
        );
    }
    Ok(vec![
        ("index.html".into(), html.into_bytes()),
        (script_name, script.into_bytes()),
        (sheet_name, sheet.into_bytes()),
        (boot_name, boot.clone().into_bytes()),
        (icon_name, icon.clone().into_bytes()),
    ])
}

/// The `href` of a line that links one stylesheet.
fn stylesheet(line: &str) -> Option<&str> {
    let line = line.trim();
    let rest = line.strip_prefix("<link rel=\"stylesheet\" href=\"")?;
    rest.split('"').next()
}

/// `assets/<stem>.<16 hex digits of its hash>.<extension>`.
fn hashed(stem: &str, extension: &str, body: &[u8]) -> String {
    format!("assets/{stem}.{}.{extension}", &hex_digest(body)[..16])
}

fn hex_digest(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn asset(path: &str, body: Vec<u8>, immutable: bool) -> Asset {
    let content_type = content_type(path.rsplit_once('.').map(|(_, e)| e));
    let compressible = content_type.starts_with("text/") || content_type == "image/svg+xml";
    let gzip = (compressible && body.len() > 1024).then(|| gzip(&body));
    Asset {
        etag: format!("\"{}\"", &hex_digest(&body)[..32]),
        gzip,
        body,
        content_type,
        immutable,
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

    #[test]
    fn the_real_app_bundles_and_its_page_names_only_hashed_files() {
        let (mut files, mut texts) = (HashMap::new(), BTreeMap::new());
        collect(&super::super::ASSETS, &mut files, &mut texts);
        if let Err(err) = bundled(&texts) {
            panic!("the app does not bundle: {err}");
        }
        let assets = Assets::build(&super::super::ASSETS);
        let index = assets.get("index.html").expect("the page");
        let html = std::str::from_utf8(&index.body).unwrap();
        assert!(!index.immutable);
        for old in [
            "src=\"/js/main.js\"",
            "src=\"/js/theme-boot.js\"",
            "href=\"/app.css\"",
            "href=\"/favicon.svg\"",
        ] {
            assert!(!html.contains(old), "{old} is still named");
        }
        let named: Vec<&str> = html
            .split("\"/assets/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(named.len(), 4, "{named:?}");
        for name in named {
            let asset = assets.get(&format!("assets/{name}")).expect(name);
            assert!(asset.immutable);
        }
        assert_eq!(html.matches("rel=\"stylesheet\"").count(), 1);
        let script = html
            .split("src=\"/")
            .filter_map(|rest| rest.split('"').next())
            .find(|name| name.starts_with("assets/app."))
            .expect("the bundle is loaded");
        assert!(script.ends_with(".js") && script.len() == "assets/app.".len() + 16 + 3);
        let bundle = assets.get(script).unwrap();
        assert!(bundle.gzip.as_ref().unwrap().len() < bundle.body.len() / 2);
        // The files stay served under their own names too.
        assert!(assets.get("js/main.js").is_some_and(|a| !a.immutable));
    }
}
