//! Point the embedded assets at the built client (`dist/`), or at an empty placeholder so
//! that the relay builds (and its unit tests run) before the client has been built.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("..").join("dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-env-changed=SPRECHSTUNDE_DIST");
    let folder = match std::env::var("SPRECHSTUNDE_DIST") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) if dist.join("index.html").exists() => dist,
        Err(_) => {
            let placeholder =
                PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("no-client");
            let _ = std::fs::create_dir_all(&placeholder);
            placeholder
        }
    };
    if folder.join("index.html").exists() {
        println!(
            "cargo:rerun-if-changed={}",
            folder.join("index.html").display()
        );
    }
    println!("cargo:rustc-env=SPRECHSTUNDE_ASSETS={}", folder.display());
}
