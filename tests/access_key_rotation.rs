//! rotate-access-key end to end against moto (IAM, STS, Secrets Manager), every step of the
//! shipped runbook run by the production runner: the new key created, written to a 0600
//! credentials file and to a Secrets Manager secret, proven with STS, the old key
//! deactivated and its deletion scheduled as a follow-up with an action; then that
//! follow-up marked done through the Calendar's state and effects, which deletes the old
//! key — or refuses when the old key is Active again or was used after its deactivation.
//!
//! What moto can prove: it runs here with request authentication on (`/moto-api/reset-auth`),
//! so every request, toban's included, is checked against the signing key's secret — the
//! STS step signed with the new key passes only because the secret is right (the test
//! shows a wrong secret refused). moto does not refuse requests signed with an Inactive key,
//! and it dates a key's last use at once (AWS takes up to hours): the "used after
//! deactivation" refusal is driven by a request the test signs with the old key itself.

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{params, shipped, sqlite_env, TestEnv};
use toban::calendar::complete::Actions;
use toban::calendar::effects::{self, Handles};
use toban::calendar::model::{duties_from_config, Actor};
use toban::calendar::state::{update, CalendarMsg, CalendarState};
use toban::config::calendar::CalendarConfig;
use toban::runbook::runner::{self, HeadlessOpts};
use tokio::sync::OnceCell;

static MOTO: OnceCell<Option<String>> = OnceCell::const_new();

async fn conf() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

async fn iam() -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&conf().await)
}

/// moto with authentication on, and this process's AWS credentials those of an admin IAM
/// user (toban's steps use the standard chain: `AWS_ENDPOINT_URL` and these).
async fn moto() -> Option<String> {
    MOTO.get_or_init(|| async {
        let url = support::moto::private_moto_url()?;
        std::env::set_var("AWS_ENDPOINT_URL", &url);
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        let iam = iam().await;
        iam.create_user().user_name("toban-admin").send().await.unwrap();
        let policy = iam
            .create_policy()
            .policy_name("everything")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .send()
            .await
            .unwrap();
        iam.attach_user_policy()
            .user_name("toban-admin")
            .policy_arn(policy.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
        let key = iam
            .create_access_key()
            .user_name("toban-admin")
            .send()
            .await
            .unwrap();
        let key = key.access_key().unwrap();
        std::env::set_var("AWS_ACCESS_KEY_ID", key.access_key_id());
        std::env::set_var("AWS_SECRET_ACCESS_KEY", key.secret_access_key());
        let r = reqwest::Client::new()
            .post(format!("{url}/moto-api/reset-auth"))
            .body("0")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "turning moto's authentication on");
        Some(url)
    })
    .await
    .clone()
}

/// A user with one (old) key: `(user, old key id, old secret)`.
async fn user_with_key(name: &str) -> (String, String, String) {
    let iam = iam().await;
    let user = format!("{name}-{}", std::process::id());
    iam.create_user().user_name(&user).send().await.unwrap();
    let k = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    (
        user,
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
    )
}

async fn keys_of(user: &str) -> Vec<(String, String)> {
    iam()
        .await
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_string(),
                k.status().unwrap().as_str().to_string(),
            )
        })
        .collect()
}

/// STS GetCallerIdentity signed with this key: the ARN, or the error's code.
async fn caller(id: &str, secret: &str) -> Result<String, String> {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let creds = aws_sdk_sts::config::Credentials::new(id, secret, None, None, "test");
    let c = aws_sdk_sts::config::Builder::from(&conf().await)
        .credentials_provider(creds)
        .build();
    aws_sdk_sts::Client::from_conf(c)
        .get_caller_identity()
        .send()
        .await
        .map(|o| o.arn().unwrap().to_string())
        .map_err(|e| match e.code() {
            Some(c) => c.to_string(),
            None => format!("{e:?}"),
        })
}

fn actions(t: &TestEnv) -> Actions {
    let (books, errors) = toban::runbook::spec::load_all(&[]);
    assert!(errors.is_empty(), "{errors:?}");
    Actions {
        env: t.env.clone(),
        books: Arc::new(books),
    }
}

/// Runs the shipped rotate-access-key headless (the typed confirmation given as `--yes`
/// would give it); returns the run's printed progress.
async fn rotate(t: &TestEnv, kv: &[(&str, &str)], old: &str) -> String {
    let mut out = Vec::new();
    let code = runner::run_headless(
        &t.env,
        &shipped("rotate-access-key"),
        &params(kv),
        &HeadlessOpts {
            yes: Some(old.to_string()),
            ..Default::default()
        },
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, runner::EXIT_OK, "{text}");
    text
}

/// Marks the open follow-up done with a note the way the Calendar tab does: select it,
/// `done`, run the effect. Returns the notice.
async fn done_from_the_calendar(t: &TestEnv, note: &str) -> String {
    let now = Utc::now();
    let (duties, problems) = duties_from_config(&CalendarConfig::default());
    let mut s = CalendarState::new(
        duties,
        problems,
        chrono_tz::UTC,
        Duration::hours(1),
        14,
        now,
    );
    let records = t.env.store.calendar_records(now, 400, &[]).await.unwrap();
    update(&mut s, CalendarMsg::Records(records), now);
    s.set_filter("Delete old access key");
    assert!(s.selected_row().is_some(), "the follow-up is on the agenda");
    assert_eq!(s.selected_action().as_deref(), Some("delete-access-key"));
    let by = Actor {
        user: "carol".into(),
        ssh_client: None,
    };
    let fx = s.done(note, &by);
    assert_eq!(fx.len(), 1);
    let (tx, _rx) = tokio::sync::mpsc::channel::<toban::state::Msg>(4);
    let refresh = toban::calendar::provider::spawn(
        t.env.store.clone(),
        Vec::new(),
        std::time::Duration::from_secs(3600),
        tx,
        tokio_util::sync::CancellationToken::new(),
    );
    let h = Handles {
        store: t.env.store.clone(),
        refresh,
        actions: Some(actions(t)),
    };
    let answer = effects::run(fx[0].clone(), &h).await.unwrap();
    update(&mut s, answer, Utc::now());
    s.notice.clone().unwrap_or_default()
}

/// Every file under `dir`, read as bytes.
fn files(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn rotates_writes_proves_deactivates_and_the_calendar_deletes_the_old_key() {
    if moto().await.is_none() {
        return;
    }
    let t = sqlite_env().await;
    let (user, old, _) = user_with_key("ci-cd-user").await;
    let sm = aws_sdk_secretsmanager::Client::new(&conf().await);
    let secret_id = format!("ci/aws-key-{}", std::process::id());
    sm.create_secret()
        .name(&secret_id)
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    let file = t.path("aws-credentials");
    let file_s = file.to_str().unwrap();

    let printed = rotate(
        &t,
        &[
            ("iam_user", &user),
            ("old_key_id", &old),
            ("key_file", file_s),
            ("aws_secret_id", &secret_id),
            ("aws_region", "us-east-1"),
        ],
        &old,
    )
    .await;

    // The new key: in the file (0600, AWS credentials format) and in the secret.
    let body = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let field = |name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap_or_else(|| panic!("{name} in {body}"))
    };
    let (new_id, new_secret) = (field("aws_access_key_id"), field("aws_secret_access_key"));
    assert_ne!(new_id, old);
    let stored = sm
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(v["aws_access_key_id"], new_id.as_str());
    assert_eq!(v["aws_secret_access_key"], new_secret.as_str());

    // What was written works: a request signed with it is the user (authentication is on,
    // so a wrong secret is refused — the runbook's own STS step passed the same test).
    let arn = caller(&new_id, &new_secret).await.unwrap();
    assert!(arn.ends_with(&format!(":user/{user}")), "{arn}");
    // (moto wraps STS errors in a shape the SDK does not parse: the code is in the body.)
    let wrong = caller(&new_id, "not-the-secret").await.unwrap_err();
    assert!(wrong.contains("SignatureDoesNotMatch"), "{wrong}");
    let mut keys = keys_of(&user).await;
    keys.sort();
    let mut want = vec![
        (new_id.clone(), "Active".into()),
        (old.clone(), "Inactive".into()),
    ];
    want.sort();
    assert_eq!(keys, want);

    // The progress names the new key's id, never its secret; nothing toban keeps holds it.
    assert!(printed.contains(&new_id), "{printed}");
    assert!(
        printed.contains(&format!("{new_id} works: it signs as {user}")),
        "{printed}"
    );
    assert!(!printed.contains(&new_secret), "{printed}");
    let mut kept = Vec::new();
    files(&t.path("data"), &mut kept);
    assert!(!kept.is_empty());
    for (p, bytes) in &kept {
        assert!(
            !contains(bytes, &new_secret),
            "the secret is in {}",
            p.display()
        );
    }

    // The deletion is a follow-up 7 days out that carries its action.
    let f = t.env.store.calendar_followups(Utc::now()).await.unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].due - f[0].created).num_hours(), 7 * 24);
    let a = f[0].action.as_ref().expect("the follow-up's action");
    assert_eq!(a.name, "delete-access-key");
    assert_eq!(a.params["key_id"], old);
    assert_eq!(a.params["iam_user"], user);
    assert!(!a.params["inactive_since"].is_empty());

    // Done from the Calendar: the old key is deleted, the new one stays.
    let notice = done_from_the_calendar(&t, "nothing broke in a week").await;
    assert!(notice.contains(&format!("deleted {old}")), "{notice}");
    assert_eq!(
        keys_of(&user).await,
        vec![(new_id.clone(), "Active".into())]
    );
    let events = t
        .env
        .store
        .duty_events(Utc::now() - Duration::days(1))
        .await
        .unwrap();
    let e = events
        .iter()
        .find(|e| e.duty_id == format!("followup-{}", f[0].id))
        .expect("the done record");
    let note = e.note.as_deref().unwrap();
    assert!(
        note.starts_with("nothing broke in a week; action: deleted"),
        "{note}"
    );
    let run = e.run_id.clone().expect("the action's run");
    let audit = t.env.store.run_audit(&run).await.unwrap();
    assert!(
        audit.iter().any(|a| a.detail.contains("succeeded")),
        "{audit:#?}"
    );
    assert!(t.env.store.open_followups().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_calendar_refuses_to_delete_a_key_that_is_active_or_was_used() {
    if moto().await.is_none() {
        return;
    }
    let t = sqlite_env().await;
    let (user, old, old_secret) = user_with_key("deploy-user").await;
    let file = t.path("aws-credentials");
    rotate(
        &t,
        &[
            ("iam_user", &user),
            ("old_key_id", &old),
            ("key_file", file.to_str().unwrap()),
            ("aws_region", "us-east-1"),
        ],
        &old,
    )
    .await;

    // Someone turned the old key back on: refused, the key kept, the follow-up open.
    iam()
        .await
        .update_access_key()
        .user_name(&user)
        .access_key_id(&old)
        .status(aws_sdk_iam::types::StatusType::Active)
        .send()
        .await
        .unwrap();
    let notice = done_from_the_calendar(&t, "").await;
    assert!(
        notice.contains("not done") && notice.contains(&format!("{old} is Active")),
        "{notice}"
    );
    assert!(keys_of(&user).await.iter().any(|(k, _)| *k == old));
    assert_eq!(t.env.store.open_followups().await.unwrap().len(), 1);

    // Inactive again, but something used it after its deactivation: refused too.
    iam()
        .await
        .update_access_key()
        .user_name(&user)
        .access_key_id(&old)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    caller(&old, &old_secret).await.unwrap();
    let notice = done_from_the_calendar(&t, "").await;
    assert!(
        notice.contains("was used at") && notice.contains("after it was deactivated"),
        "{notice}"
    );
    assert!(keys_of(&user).await.iter().any(|(k, _)| *k == old));
    assert_eq!(t.env.store.open_followups().await.unwrap().len(), 1);
}

#[tokio::test]
async fn toban_calendar_done_runs_the_action_on_the_same_path() {
    if moto().await.is_none() {
        return;
    }
    // The store where the binary looks for it: $XDG_DATA_HOME/toban.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d/toban");
    let store = toban::store::Store::open(None, &data).await.unwrap();
    common::use_toban_supervisor();
    let t = TestEnv {
        env: toban::runbook::runner::RunEnv {
            store: store.clone(),
            executor: Arc::new(toban::runbook::steps::SupervisedExecutor),
            runs_dir: data.join("runs"),
            connections: Default::default(),
            engines: Default::default(),
        },
        dir,
    };
    let (user, old, _) = user_with_key("cli-user").await;
    let file = t.path("aws-credentials");
    rotate(
        &t,
        &[
            ("iam_user", &user),
            ("old_key_id", &old),
            ("key_file", file.to_str().unwrap()),
        ],
        &old,
    )
    .await;
    let f = store.calendar_followups(Utc::now()).await.unwrap();
    let h = t.dir.path();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
        .args(["calendar", "done", &format!("followup-{}", f[0].id)])
        .args(["--note", "from a script"])
        .env("HOME", h)
        .env("XDG_CONFIG_HOME", h.join("c"))
        .env("XDG_DATA_HOME", h.join("d"))
        .env("XDG_STATE_HOME", h.join("s"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("action: deleted {old}")), "{text}");
    assert!(keys_of(&user).await.iter().all(|(k, _)| *k != old));
    assert!(store.open_followups().await.unwrap().is_empty());
}
