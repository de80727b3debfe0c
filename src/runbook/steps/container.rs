//! `container`: start, stop or restart containers through the shared engine client (Docker
//! or Podman, `DOCKER_HOST` honoured).

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, FieldUse, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};

/// How long a container gets to stop before the engine kills it.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    pub action: ContainerAction,
    pub names: Vec<String>,
    /// The engine by its `[services]` name; empty: the local engine (`DOCKER_HOST`, the
    /// current Docker context, the usual sockets).
    #[serde(default)]
    pub engine: String,
    #[serde(default = "two_minutes", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerAction {
    Start,
    Stop,
    Restart,
}

impl ContainerAction {
    fn verb(self) -> String {
        format!("{self:?}").to_lowercase()
    }
}

impl StepKind for Container {
    const NAME: &'static str = "container";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut f = Field::each("names", &self.names, FieldUse::Public);
        f.push(Field::public("engine", &self.engine));
        f
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(Container {
            names: r.list(&self.names)?,
            engine: r.text(&self.engine)?,
            ..self.clone()
        })
    }

    fn describe(&self) -> Vec<String> {
        let on = if self.engine.is_empty() {
            String::new()
        } else {
            format!(" on engine {}", self.engine)
        };
        vec![format!(
            "{} container(s){on}: {}",
            self.action.verb(),
            self.names.join(", ")
        )]
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let at = match cx.engine_endpoint(&self.engine) {
                Ok(at) => at,
                Err(e) => return Outcome::fail(e),
            };
            cx.bounded(run(self, at)).await
        })
    }
}

async fn run(c: Container, at: Option<crate::providers::docker::Endpoint>) -> Outcome {
    let engine = match crate::providers::docker::Engine::connect_at(at.as_ref()).await {
        Ok(e) => e,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let mut done = Vec::new();
    for name in &c.names {
        let r = match c.action {
            ContainerAction::Start => engine.start(name).await,
            ContainerAction::Stop => engine.stop(name, STOP_GRACE).await,
            ContainerAction::Restart => engine.restart(name, STOP_GRACE).await,
        };
        if let Err(e) = r {
            return Outcome::fail(format!("{}: {e}", c.action.verb()));
        }
        done.push(name.clone());
    }
    Outcome::done(format!(
        "{} {} ({})",
        c.action.verb(),
        done.join(", "),
        engine.describe()
    ))
}
