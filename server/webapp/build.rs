//! Builds the PWA in `mobile-pwa/` with npm when its sources changed, and writes the
//! list of built files for `include_bytes!`, so the one binary serves the app.
//!
//! A failed or skipped build (`RESERV_PWA_BUILD=skip`) never fails the Rust build: the
//! server must start without the app, and then says at `/` how to build it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let app = manifest.join("../../mobile-pwa");
    // Only the inputs of the npm build, never `dist/` itself: the build writes it, and
    // watching it would make every cargo run build again.
    for input in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
        "scripts",
    ] {
        println!("cargo:rerun-if-changed={}", app.join(input).display());
    }
    println!("cargo:rerun-if-changed=../api/schema.graphql");
    println!("cargo:rerun-if-env-changed=RESERV_PWA_BUILD");

    if env::var("RESERV_PWA_BUILD").as_deref() != Ok("skip")
        && let Err(problem) = build_app(&app)
    {
        println!("cargo:warning=the PWA was not built ({problem}); / will say how to build it");
    }
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    if let Err(error) = fs::write(out.join("assets.rs"), asset_table(&app.join("dist"))) {
        println!("cargo:warning=cannot write the asset table: {error}");
    }
}

fn build_app(app: &Path) -> Result<(), String> {
    let lock = app.join("package-lock.json");
    let installed = app.join("node_modules/.package-lock.json");
    if !installed.exists() || modified(&lock) > modified(&installed) {
        npm(app, &["ci", "--no-audit", "--no-fund"])?;
    }
    npm(app, &["run", "build"])
}

fn npm(app: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(app)
        .status()
        .map_err(|error| format!("npm could not start: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm {} failed with {status}", args.join(" ")))
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|meta| meta.modified()).ok()
}

/// `pub static ASSETS: &[(&str, &[u8])]`, one entry per file in `dist/`, by URL path.
fn asset_table(dist: &Path) -> String {
    let mut files = Vec::new();
    collect(dist, dist, &mut files);
    files.sort();
    let mut table = String::from("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (url, file) in files {
        table.push_str(&format!("    ({url:?}, include_bytes!({file:?})),\n"));
    }
    table.push_str("];\n");
    table
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let url = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
            files.push((url, path.to_string_lossy().into_owned()));
        }
    }
}
