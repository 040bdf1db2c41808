//! Rebuilds the binary when the embedded web app (`web/`) changes: `include_dir!` does not tell
//! cargo which files it reads.

fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=migrations");
}
