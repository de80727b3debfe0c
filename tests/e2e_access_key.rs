//! rotate-access-key by keys in the binary at 80x24 against moto (AWS through the standard
//! chain: `AWS_ENDPOINT_URL`, the README's way to point toban at another endpoint): the
//! runbook opened from the list, every parameter typed into its form, each step answered;
//! then the old key's deletion done early from the Calendar tab's agenda (the follow-up is
//! due in 7 days; `]` moves the agenda a week on), and moto asked that the old key is gone.

mod support;

use support::tmux::Tui;

async fn iam() -> aws_sdk_iam::Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    aws_sdk_iam::Client::new(&conf)
}

async fn keys_of(user: &str) -> Vec<String> {
    iam()
        .await
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key_metadata()
        .iter()
        .map(|k| k.access_key_id().unwrap().to_string())
        .collect()
}

/// Every screen of the walk must fit 80 columns without cutting a word off at the edge.
fn readable(screen: String) -> String {
    if let Some(p) = std::env::var_os("TOBAN_E2E_DUMP") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        writeln!(f, "{screen}\n=====").unwrap();
    }
    for l in screen.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(l) <= 80,
            "a line wider than 80 columns:\n{screen}"
        );
    }
    screen
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_access_key_from_the_console_and_delete_the_old_key_from_the_calendar() {
    let Some(url) = support::moto::moto_url() else {
        return;
    };
    let Some(tui) = Tui::start("access-key") else {
        return;
    };
    std::env::set_var("AWS_ENDPOINT_URL", &url);
    let user = format!("ci-cd-user-e2e-{}", std::process::id());
    let iam = iam().await;
    iam.create_user().user_name(&user).send().await.unwrap();
    let old = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap()
        .access_key()
        .unwrap()
        .access_key_id()
        .to_string();
    let key_file = tui.home().join("aws-credentials");

    std::fs::create_dir_all(tui.config_dir()).unwrap();
    std::fs::write(
        tui.config_dir().join("config.toml"),
        "[calendar]\npresets = []\n",
    )
    .unwrap();
    tui.launch(
        80,
        24,
        &[],
        &[
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    tui.wait_for("1 Overview");

    // The runbook list: the fourth entry is rotate-access-key (its description shows).
    tui.key("R");
    readable(tui.wait_for("rotate-access-key"));
    for _ in 0..3 {
        tui.key("Down");
    }
    readable(tui.wait_for("Seed 002's procedure through the AWS API"));
    tui.key("Enter");
    readable(tui.wait_for("Rotate an IAM access key — before it starts"));

    // Every parameter typed: user, old key, file, secret (none here: empty), region.
    let fields: [&str; 5] = [&user, &old, key_file.to_str().unwrap(), "", "us-east-1"];
    for v in fields {
        tui.key("C-u");
        if !v.is_empty() {
            tui.type_text(v);
        }
        tui.key("Down");
    }
    readable(tui.screen());
    tui.key("Enter");

    // Step by step, as the wizard runs a rotation: Enter runs each step; the typed
    // confirmation wants the old key's id.
    for title in [
        "The new key has a place to go",
        "List the user's keys",
        "Create the new key",
        "Write the new key to the file",
        "The new key works",
        "Other places that hold the key",
    ] {
        readable(tui.wait_for_within(title, 60));
        tui.key("Enter");
    }
    readable(tui.wait_for_within("Deactivate the old key", 60));
    tui.type_text(&old);
    tui.key("Enter");
    for title in [
        "Make the old key Inactive",
        "Schedule the old key's deletion",
    ] {
        readable(tui.wait_for_within(title, 60));
        tui.key("Enter");
    }
    let end = readable(tui.wait_for_within("Run finished: every step done", 60));
    assert!(!end.contains("aws_secret_access_key"), "{end}");
    tui.key("Escape");

    // The new key is in the file; moto has both, the old one Inactive.
    let body = std::fs::read_to_string(&key_file).unwrap();
    let new_id = body
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap()
        .to_string();
    let mut keys = keys_of(&user).await;
    keys.sort();
    let mut want = vec![old.clone(), new_id.clone()];
    want.sort();
    assert_eq!(keys, want);

    // The Calendar: a week on, the follow-up; done with a note runs its action.
    tui.key("5");
    readable(tui.wait_for("Calendar"));
    tui.key("]");
    readable(tui.wait_for("Delete old access key"));
    tui.key("d");
    readable(tui.wait_for("A note for the history"));
    tui.type_text("nothing broke in a week");
    tui.key("Enter");
    let done = readable(tui.wait_for_within("deleted", 60));
    assert!(done.contains(&old) || done.contains("deleted"), "{done}");
    assert_eq!(keys_of(&user).await, vec![new_id]);
    assert_eq!(tui.quit(), 0);
}
