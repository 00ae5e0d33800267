//! trunk writes a fresh build into a staging folder; only files whose content changed go into
//! `dist/` (and are compressed again). An unchanged client leaves `dist/` untouched, so the
//! relay, which embeds it, is not rebuilt and relinked for nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::precompress::{self, beside, SUFFIXES};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Synced {
    /// Files new or changed in `dist/`.
    pub changed: usize,
    /// Files gone from the build and removed from `dist/`.
    pub removed: usize,
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// Adds a second trunk build (`other`, whose page trunk names `index.html`) to `staging`: its
/// page as `page`, and every file `staging` does not have yet (shared ones are the same).
pub fn add_build(other: &Path, page: &str, staging: &Path) -> Result<()> {
    for source in files_under(other)? {
        let relative = source.strip_prefix(other)?;
        let target = if relative == Path::new("index.html") {
            staging.join(page)
        } else {
            staging.join(relative)
        };
        if target.exists() && relative != Path::new("index.html") {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&source, &target)
            .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
    }
    Ok(())
}

/// Make `dist` hold what `staging` holds (plus compressed copies), touching only what changed.
pub fn sync(staging: &Path, dist: &Path) -> Result<Synced> {
    let mut synced = Synced::default();
    let mut wanted = HashSet::new();
    for source in files_under(staging)? {
        let relative = source.strip_prefix(staging)?.to_path_buf();
        let target = dist.join(&relative);
        wanted.insert(target.clone());
        let bytes = std::fs::read(&source)?;
        let compressed_present = !precompress::compressible(&target)
            || SUFFIXES.iter().any(|s| beside(&target, s).exists());
        if std::fs::read(&target).ok().as_deref() == Some(&bytes[..]) && compressed_present {
            if precompress::compressible(&target) {
                wanted.extend(SUFFIXES.iter().map(|s| beside(&target, s)));
            }
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &bytes)?;
        if precompress::compress_beside(&target)? {
            wanted.extend(SUFFIXES.iter().map(|s| beside(&target, s)));
        }
        synced.changed += 1;
    }
    for old in files_under(dist)? {
        if !wanted.contains(&old) {
            std::fs::remove_file(&old)?;
            synced.removed += 1;
        }
    }
    Ok(synced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_build_adds_its_page_and_its_own_files_only() -> Result<()> {
        let root = std::env::temp_dir().join(format!("xtask-add-{}", std::process::id()));
        let (staging, desk) = (root.join("staging"), root.join("desk"));
        std::fs::create_dir_all(staging.join("lang"))?;
        std::fs::create_dir_all(desk.join("lang"))?;
        std::fs::write(staging.join("index.html"), "family")?;
        std::fs::write(staging.join("lang/tr.json"), "{}")?;
        std::fs::write(desk.join("index.html"), "desk")?;
        std::fs::write(desk.join("desk-1.wasm"), "wasm")?;
        std::fs::write(desk.join("lang/tr.json"), "{}")?;
        add_build(&desk, "desk.html", &staging)?;
        assert_eq!(
            std::fs::read_to_string(staging.join("index.html"))?,
            "family"
        );
        assert_eq!(std::fs::read_to_string(staging.join("desk.html"))?, "desk");
        assert!(staging.join("desk-1.wasm").exists());
        assert_eq!(files_under(&staging)?.len(), 4);
        std::fs::remove_dir_all(&root)?;
        Ok(())
    }

    #[test]
    fn only_what_changed_is_written_and_what_went_is_removed() -> Result<()> {
        let root = std::env::temp_dir().join(format!("xtask-sync-{}", std::process::id()));
        let (staging, dist) = (root.join("staging"), root.join("dist"));
        std::fs::create_dir_all(staging.join("vendor"))?;
        std::fs::write(staging.join("index.html"), "<html>".repeat(100))?;
        std::fs::write(staging.join("app-1.js"), "let a = 1;\n".repeat(100))?;
        std::fs::write(staging.join("vendor/logo.png"), [7u8; 50])?;
        assert_eq!(
            sync(&staging, &dist)?,
            Synced {
                changed: 3,
                removed: 0
            }
        );
        assert!(dist.join("app-1.js.br").exists() && dist.join("index.html.gz").exists());

        let written = std::fs::metadata(dist.join("app-1.js"))?.modified()?;
        assert_eq!(sync(&staging, &dist)?, Synced::default(), "nothing changed");
        assert_eq!(
            std::fs::metadata(dist.join("app-1.js"))?.modified()?,
            written
        );

        // A new build: the script got a new hashed name, the page changed with it.
        std::fs::remove_file(staging.join("app-1.js"))?;
        std::fs::write(staging.join("app-2.js"), "let a = 2;\n".repeat(100))?;
        std::fs::write(staging.join("index.html"), "<html lang=de>".repeat(100))?;
        assert_eq!(
            sync(&staging, &dist)?,
            Synced {
                changed: 2,
                removed: 3
            }
        );
        assert!(!dist.join("app-1.js").exists() && !dist.join("app-1.js.gz").exists());
        assert!(dist.join("app-2.js.br").exists() && dist.join("vendor/logo.png").exists());
        std::fs::remove_dir_all(&root)?;
        Ok(())
    }
}
