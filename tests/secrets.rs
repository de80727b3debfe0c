//! Replacing a secret where the application reads it: a private file, or AWS Secrets
//! Manager (moto on loopback).

mod support;

use std::os::unix::fs::PermissionsExt;

use toban::secrets::{Secret, SecretTarget};

#[tokio::test]
async fn file_secret_is_replaced_atomically_never_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db-password");
    std::fs::write(&path, "old\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let target = SecretTarget::File {
        path: path.clone(),
        field: None,
    };
    target.write(&Secret::new("n3w'pa;ss")).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "n3w'pa;ss");
    // The owner's and group's permissions kept, the others' taken away.
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(target.read().await.unwrap().expose(), "n3w'pa;ss");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[tokio::test]
async fn json_field_is_replaced_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("database.json");
    std::fs::write(&path, r#"{"username":"app","password":"old","port":5432}"#).unwrap();
    let target = SecretTarget::File {
        path: path.clone(),
        field: Some("password".into()),
    };
    target.write(&Secret::new("fresh")).await.unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["password"], "fresh");
    assert_eq!(v["username"], "app");
    assert_eq!(v["port"], 5432);
}

#[test]
fn secrets_never_show_in_debug_output() {
    let s = Secret::new("hunter2");
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[tokio::test]
async fn aws_secrets_manager_field_is_rotated() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&url)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&conf);
    let id = format!("goal-mandala/production/database-{}", std::process::id());
    client
        .create_secret()
        .name(&id)
        .secret_string(r#"{"username":"goal_mandala_user","password":"old","port":5432}"#)
        .send()
        .await
        .unwrap();
    let target = SecretTarget::AwsSecretsManager {
        secret_id: id.clone(),
        field: Some("password".into()),
        region: Some("us-east-1".into()),
        endpoint_url: Some(url),
    };
    assert_eq!(target.read().await.unwrap().expose(), "old");
    target.write(&Secret::new("rotated-value")).await.unwrap();
    let raw = client
        .get_secret_value()
        .secret_id(&id)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(raw.secret_string().unwrap()).unwrap();
    assert_eq!(v["password"], "rotated-value");
    assert_eq!(v["username"], "goal_mandala_user", "other fields kept");
    assert!(target.describe().contains(&id) && !target.describe().contains("rotated"));
}

#[tokio::test]
async fn aws_missing_secret_is_a_clear_error() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let target = SecretTarget::AwsSecretsManager {
        secret_id: "does-not-exist".into(),
        field: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url),
    };
    let e = target.write(&Secret::new("x")).await.unwrap_err();
    assert!(format!("{e:#}").contains("does-not-exist"), "{e:#}");
}
