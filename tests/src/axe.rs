//! Accessibility checks with axe-core (installed from npm into `tests/vendor` by
//! `cargo xtask test`): injected into the page under test by the harness, never served.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::browser::Browser;

fn axe_source() -> Result<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vendor/node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path)
        .with_context(|| format!("{path} is missing: `cargo xtask test` installs it"))
}

#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then((results) => {
  done(results.violations.map((v) => ({
    id: v.id,
    impact: v.impact || '',
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  })));
}, (e) => done({ error: String(e) }));
"#;

impl Browser {
    /// The serious and critical WCAG violations axe finds on the page as it is now.
    pub async fn serious_accessibility_violations(&self) -> Result<Vec<Violation>> {
        let loaded = self.eval("return typeof axe !== 'undefined';").await?;
        if loaded != Value::Bool(true) {
            self.client.execute(&axe_source()?, vec![]).await?;
        }
        let value = self.client.execute_async(RUN_AXE, vec![]).await?;
        if let Some(error) = value.get("error") {
            bail!("axe failed: {error}");
        }
        let all: Vec<Violation> =
            serde_json::from_value(value).context("unexpected axe result shape")?;
        Ok(all
            .into_iter()
            .filter(|v| v.impact == "serious" || v.impact == "critical")
            .collect())
    }
}
