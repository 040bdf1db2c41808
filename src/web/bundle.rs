//! Joins the web app's ES modules into one script, once, when the server starts.
//!
//! Why: a browser loading 110 modules discovers them level by level (each import is found only
//! once its importer arrived), so a phone 150 ms away waits a dozen round trips before the first
//! screen. One script is one request, cached for good under a name that changes with its content.
//! A bundler from the JavaScript world would need Node at build time; `cargo run` must work on a
//! fresh machine without it, and the app's modules keep to a small, regular subset of the syntax
//! (named imports and exports of relative modules, no cycles), so this does only that subset and
//! refuses anything else with a message naming the module and line.
//!
//! Each module becomes a function scope that returns its exports, evaluated in dependency order:
//! the same order and the same once-only evaluation the browser gives modules, with every
//! module's top-level names kept apart. (Bindings are copied when the importer runs, not live:
//! the subset has no `export let`, which is where that would show.)

use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("{module}:{line}: {what}")]
    Syntax {
        module: String,
        line: usize,
        what: String,
    },
    #[error("{0} imports a module that is not in the app: {1}")]
    Missing(String, String),
    #[error("the modules import each other in a cycle through {0}")]
    Cycle(String),
}

/// One module, split into what it imports, what it exports and its own code.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    /// (module path, [(imported name, local name)]).
    imports: Vec<(String, Vec<(String, String)>)>,
    /// (exported name, local name).
    exports: Vec<(String, String)>,
    /// The source with import statements removed and `export` keywords dropped.
    body: String,
}

/// The bundle of the module graph reached from `entry`; `modules` maps paths (`js/main.js`) to
/// sources.
pub fn bundle(modules: &BTreeMap<String, String>, entry: &str) -> Result<String, BundleError> {
    let mut parsed = BTreeMap::new();
    let mut order = Vec::new();
    visit(modules, entry, &mut parsed, &mut Vec::new(), &mut order)?;
    let index: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, path)| (path.as_str(), i))
        .collect();
    let mut out =
        String::from("// The web app's modules, bundled by the server (src/web/bundle.rs).\n");
    for (i, path) in order.iter().enumerate() {
        let module: &Parsed = &parsed[path];
        let _ = writeln!(out, "const __m{i} = (() => {{ // {path}");
        for (from, names) in &module.imports {
            let bindings: Vec<String> = names.iter().map(binding).collect();
            let _ = writeln!(
                out,
                "const {{ {} }} = __m{};",
                bindings.join(", "),
                index[from.as_str()]
            );
        }
        out.push_str(&module.body);
        let exports: Vec<String> = module.exports.iter().map(binding).collect();
        let _ = writeln!(out, "\nreturn {{ {} }};\n}})();", exports.join(", "));
    }
    Ok(out)
}

/// `name` (the same name in both objects) or `name: local`, in a destructuring or an object.
fn binding((name, local): &(String, String)) -> String {
    if name == local {
        name.clone()
    } else {
        format!("{name}: {local}")
    }
}

/// Depth-first: a module's imports are placed before it.
fn visit(
    modules: &BTreeMap<String, String>,
    path: &str,
    parsed: &mut BTreeMap<String, Parsed>,
    stack: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), BundleError> {
    if parsed.contains_key(path) {
        return Ok(());
    }
    if stack.iter().any(|p| p == path) {
        return Err(BundleError::Cycle(path.to_owned()));
    }
    let source = modules.get(path).ok_or_else(|| {
        BundleError::Missing(stack.last().cloned().unwrap_or_default(), path.into())
    })?;
    let module = parse(path, source)?;
    stack.push(path.to_owned());
    for (from, _) in &module.imports {
        visit(modules, from, parsed, stack, order)?;
    }
    stack.pop();
    parsed.insert(path.to_owned(), module);
    order.push(path.to_owned());
    Ok(())
}

/// Splits one module. Statements are recognised at the start of a line, as the app writes them.
fn parse(path: &str, source: &str) -> Result<Parsed, BundleError> {
    let error = |line: usize, what: &str| BundleError::Syntax {
        module: path.to_owned(),
        line,
        what: what.to_owned(),
    };
    let mut parsed = Parsed::default();
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let number = i + 1;
        if line.starts_with("import ") || line == "import" {
            // Gather the statement up to its `;` (a long import list spans lines).
            let mut statement = String::from(line);
            while !statement.trim_end().ends_with(';') {
                i += 1;
                let next = lines
                    .get(i)
                    .ok_or_else(|| error(number, "an import without its ';'"))?;
                statement.push(' ');
                statement.push_str(next);
            }
            let (names, from) = import_parts(&statement).ok_or_else(|| {
                error(
                    number,
                    "only `import { a, b as c } from './m.js';` is bundled",
                )
            })?;
            parsed.imports.push((resolve(path, &from), names));
        } else if let Some(rest) = line.strip_prefix("export ") {
            if rest.starts_with('{') {
                let mut statement = String::from(rest);
                while !statement.contains('}') {
                    i += 1;
                    let next = lines
                        .get(i)
                        .ok_or_else(|| error(number, "an export list without its '}'"))?;
                    statement.push(' ');
                    statement.push_str(next);
                }
                if statement.contains(" from ") {
                    // A re-export: imported under a name of its own (it binds nothing in the
                    // module), exported under the name asked for.
                    while !statement.trim_end().ends_with(';') {
                        i += 1;
                        let next = lines
                            .get(i)
                            .ok_or_else(|| error(number, "a re-export without its ';'"))?;
                        statement.push(' ');
                        statement.push_str(next);
                    }
                    let (names, from) =
                        import_parts(&format!("import {statement}")).ok_or_else(|| {
                            error(
                                number,
                                "only `export { a, b as c } from './m.js';` re-exports",
                            )
                        })?;
                    let mut aliased = Vec::new();
                    for (name, exported) in names {
                        let local = format!("__reexport_{exported}");
                        parsed.exports.push((exported, local.clone()));
                        aliased.push((name, local));
                    }
                    parsed.imports.push((resolve(path, &from), aliased));
                } else {
                    let inner = statement
                        .trim_start_matches('{')
                        .split('}')
                        .next()
                        .unwrap_or_default();
                    for (local, name) in name_list(inner) {
                        parsed.exports.push((name, local));
                    }
                }
                parsed.body.push('\n');
            } else {
                let name = declared_name(rest).ok_or_else(|| {
                    error(
                        number,
                        "only named functions, classes and consts are exported",
                    )
                })?;
                parsed.exports.push((name.clone(), name));
                parsed.body.push_str(rest);
                parsed.body.push('\n');
            }
        } else {
            parsed.body.push_str(line);
            parsed.body.push('\n');
        }
        i += 1;
    }
    Ok(parsed)
}

/// `import { a, b as c } from './m.js';` → ([(a, a), (b, c)], "./m.js").
fn import_parts(statement: &str) -> Option<(Vec<(String, String)>, String)> {
    let rest = statement.strip_prefix("import")?.trim_start();
    let rest = rest.strip_prefix('{')?;
    let (inner, rest) = rest.split_once('}')?;
    let rest = rest.trim_start().strip_prefix("from")?.trim();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let from = rest[1..].split(quote).next()?;
    if !from.starts_with("./") {
        return None;
    }
    Some((name_list(inner), from.to_owned()))
}

/// `a, b as c` → [(a, a), (b, c)].
fn name_list(inner: &str) -> Vec<(String, String)> {
    inner
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once(" as ") {
            Some((name, local)) => (name.trim().to_owned(), local.trim().to_owned()),
            None => (part.to_owned(), part.to_owned()),
        })
        .collect()
}

/// The name a declaration after `export ` declares.
fn declared_name(rest: &str) -> Option<String> {
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let rest = ["function* ", "function ", "class ", "const "]
        .iter()
        .find_map(|keyword| rest.strip_prefix(keyword))?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// `./x.js` imported by `js/dir/m.js` → `js/dir/x.js` (the app's modules are one folder).
fn resolve(importer: &str, from: &str) -> String {
    let dir = importer.rsplit_once('/').map_or("", |(dir, _)| dir);
    let name = from.trim_start_matches("./");
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
            .collect()
    }

    #[test]
    fn imports_come_first_and_each_module_keeps_its_own_names() {
        let app = modules(&[
            (
                "js/main.js",
                "import { greet, NAME as who } from './a.js';\nimport {\n  twice,\n} from './b.js';\nconst local = 1;\ngreet(who, twice(local));\n",
            ),
            ("js/a.js", "import { twice } from './b.js';\nconst local = 2;\nexport const NAME = 'x';\nexport async function greet(n, k) { return twice(k) + n + local; }\n"),
            ("js/b.js", "const local = 3;\nfunction twice(n) { return 2 * n + local - local; }\nexport { twice };\nexport { NAME as OTHER } from './c.js';\n"),
            ("js/c.js", "export const NAME = 'c';\n"),
        ]);
        let out = bundle(&app, "js/main.js").unwrap();
        let b = out.find("// js/b.js").unwrap();
        let a = out.find("// js/a.js").unwrap();
        let main = out.find("// js/main.js").unwrap();
        assert!(b < a && a < main, "{out}");
        assert_eq!(
            out.matches("// js/b.js").count(),
            1,
            "evaluated once: {out}"
        );
        assert!(out.contains("const { greet, NAME: who } = __m2;"), "{out}");
        assert!(out.contains("const { twice } = __m1;"), "{out}");
        assert!(
            out.contains("const { NAME: __reexport_OTHER } = __m0;"),
            "{out}"
        );
        assert!(
            out.contains("return { twice, OTHER: __reexport_OTHER };"),
            "{out}"
        );
        assert!(out.contains("return { NAME, greet };"), "{out}");
        assert!(out.contains("async function greet"), "{out}");
        assert!(!out.contains("export "), "{out}");
        assert!(!out.contains("import "), "{out}");
    }

    #[test]
    fn what_the_subset_does_not_have_is_refused_by_module_and_line() {
        for (source, what) in [
            ("import x from './a.js';\n", "only `import"),
            ("export default 1;\n", "only named"),
            ("export let x = 1;\n", "only named"),
            (
                "export { a } from 'https://elsewhere/a.js';\n",
                "re-exports",
            ),
        ] {
            let app = modules(&[("js/main.js", source), ("js/a.js", "export const a = 1;\n")]);
            let err = bundle(&app, "js/main.js").unwrap_err().to_string();
            assert!(
                err.starts_with("js/main.js:1: ") && err.contains(what),
                "{err}"
            );
        }
        let cyclic = modules(&[
            ("js/main.js", "import { a } from './a.js';\n"),
            (
                "js/a.js",
                "import { b } from './main.js';\nexport const a = 1;\n",
            ),
        ]);
        assert_eq!(
            bundle(&cyclic, "js/main.js"),
            Err(BundleError::Cycle("js/main.js".into()))
        );
        let missing = modules(&[("js/main.js", "import { a } from './gone.js';\n")]);
        assert!(matches!(
            bundle(&missing, "js/main.js"),
            Err(BundleError::Missing(..))
        ));
    }
}
