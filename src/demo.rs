//! `--demo`: a real, throw-away environment in a temporary folder so a newcomer sees a
//! working console with nothing configured.

use std::path::{Path, PathBuf};

pub struct Demo {
    pub root: tempfile::TempDir,
}

impl Demo {
    pub fn create() -> anyhow::Result<Demo> {
        let root = tempfile::Builder::new().prefix("toban-demo-").tempdir()?;
        for d in ["config", "data", "state"] {
            std::fs::create_dir_all(root.path().join(d))?;
        }
        let tree =
            crate::backups::demo::make_demo_tree(&root.path().join("env"), chrono::Utc::now())?;
        let mut config = demo_config(root.path());
        config.push_str(&format!(
            "\n[backups]\nroots = [{:?}]\n",
            tree.backups_root.display().to_string()
        ));
        config.push_str(&crate::services::demo::demo_section(
            &root.path().join("env/services"),
            chrono::Utc::now(),
        )?);
        std::fs::write(root.path().join("config/config.toml"), config)?;
        Ok(Demo { root })
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.path().join("config/config.toml")
    }
}

fn demo_config(root: &Path) -> String {
    format!(
        "# toban --demo: a throw-away environment in {root}\n\
         database_url = \"sqlite://{root}/data/toban.db?mode=rwc\"\n\n\
         [host]\ninterval = \"2s\"\n",
        root = root.display()
    )
}
