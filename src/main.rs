use std::process::ExitCode;

use clap::Parser;

use toban::app::{self, AppContext};
use toban::cli::{BackupsCommand, Cli, Command, ConfigCommand, RunbookCommand};
use toban::config::{LoadOptions, Loaded};

fn main() -> ExitCode {
    // The supervisor of a runbook command step: a separate process that outlives toban.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str)
        == Some(toban::runbook::exec::supervise::SUPERVISE_SUBCOMMAND)
    {
        return ExitCode::from(toban::runbook::exec::supervise::supervise_main(&args[2..]) as u8);
    }
    let cli = Cli::parse();
    let demo = if cli.demo {
        match toban::demo::Demo::create() {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("toban: cannot create the demo environment: {e:#}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let paths = match &demo {
        Some(d) => toban::config::Paths::under(d.path()),
        None => toban::config::Paths::discover(),
    };
    let mut opts = LoadOptions::from_env(paths.clone());
    opts.config_path = cli.config.clone();
    opts.theme = cli.theme.clone();
    opts.keymap = cli.keymap.clone();
    let data_dir = paths.data_dir.clone();
    let state_dir = paths.state_dir.clone();
    let _log = init_logging(&state_dir);

    if let Some(Command::Config {
        command: ConfigCommand::Check,
    }) = cli.command
    {
        return ExitCode::from(toban::cli::config_check::run(&opts) as u8);
    }
    let Loaded {
        config,
        theme,
        keymap,
        mut problems,
    } = toban::config::load(&opts);
    let (runbooks, runbook_problems) =
        toban::runbook::spec::load_all(&config.runbooks.all_dirs(&paths));
    problems.extend(runbook_problems);
    let runbooks = std::sync::Arc::new(runbooks);

    match cli.command {
        Some(Command::Status { json }) => {
            for p in &problems {
                eprintln!("toban: {p}");
            }
            let mut out = std::io::stdout().lock();
            match toban::cli::status::run(&config, &data_dir, &problems, json, &mut out) {
                Ok(code) => ExitCode::from(code as u8),
                Err(_) => ExitCode::from(3),
            }
        }
        Some(Command::Backups {
            command: BackupsCommand::Verify { service, json },
        }) => {
            for p in &problems {
                eprintln!("toban: {p}");
            }
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("toban: cannot start the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            rt.block_on(async {
                let store = match toban::store::Store::open(
                    config.database_url.as_deref(),
                    &data_dir,
                )
                .await
                {
                    Ok(s) => Some(s),
                    Err(e) => {
                        eprintln!("toban: results will not be recorded: {e:#}");
                        None
                    }
                };
                let mut out = std::io::stdout().lock();
                let verified = toban::backups::cli::verify_command(
                    &config.backups,
                    &config.timezone,
                    store.as_ref(),
                    service.as_deref(),
                    json,
                    &mut out,
                )
                .await;
                match verified {
                    Ok(code) => ExitCode::from(code as u8),
                    Err(e) => {
                        eprintln!("toban: {e:#}");
                        ExitCode::from(2)
                    }
                }
            })
        }
        Some(Command::Alarms {
            state,
            source,
            json,
        }) => ExitCode::from(toban::alarms::cli::main(
            &config,
            &data_dir,
            state.as_deref(),
            source.as_deref(),
            json,
        ) as u8),
        Some(Command::Config { .. }) => unreachable!("handled above"),
        Some(Command::Services { json }) => {
            let mut out = std::io::stdout().lock();
            match toban::services::cli::main(&config, json, &mut out) {
                Ok(code) => ExitCode::from(code as u8),
                Err(e) => {
                    eprintln!("toban: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Some(Command::Logs(args)) => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let code = toban::logs::cli::main(args, &config.logs, &mut out, &mut std::io::stderr());
            ExitCode::from(code)
        }
        Some(Command::Calendar(args)) => ExitCode::from(toban::calendar::cli::main(
            args,
            &config,
            &data_dir,
            cli.read_only || config.read_only,
            &problems,
            &runbooks,
        ) as u8),
        Some(Command::Runbook { command }) => {
            for p in &problems {
                eprintln!("toban: {p}");
            }
            if cli.read_only || config.read_only {
                if let RunbookCommand::Run {
                    dry_run: false,
                    name,
                    ..
                } = &command
                {
                    eprintln!("toban: read-only mode: `{name}` can only be run with --dry-run");
                    return ExitCode::from(2);
                }
            }
            runbook_command(command, &config, &runbooks, &data_dir)
        }
        None => {
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("toban: cannot start the runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            let ctx = AppContext {
                config,
                theme,
                keymap,
                problems: problems.iter().map(|p| p.to_string()).collect(),
                data_dir,
                read_only: cli.read_only,
                demo: demo.is_some(),
                runbooks,
            };
            match rt.block_on(app::run(ctx)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("toban: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn runbook_command(
    command: RunbookCommand,
    config: &toban::config::Config,
    books: &[toban::runbook::spec::Runbook],
    data_dir: &std::path::Path,
) -> ExitCode {
    use toban::runbook::cli as rb;
    let mut out = std::io::stdout();
    let code = match command {
        RunbookCommand::List => rb::list(&mut out, books),
        RunbookCommand::Show { name } => rb::show(&mut out, books, &name),
        RunbookCommand::Run { .. }
        | RunbookCommand::History { .. }
        | RunbookCommand::Abort { .. }
        | RunbookCommand::Resume { .. } => {
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("toban: cannot start the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            rt.block_on(async {
                let store = match toban::store::Store::open(config.database_url.as_deref(), data_dir).await {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("toban: runbooks are recorded in the state store, which is unavailable: {e:#}");
                        return 2;
                    }
                };
                let env = toban::runbook::runner::RunEnv {
                    store: store.clone(),
                    executor: std::sync::Arc::new(toban::runbook::steps::SupervisedExecutor),
                    runs_dir: data_dir.join("runs"),
                    connections: config.runbooks.connections.clone(),
                    engines: toban::services::engines(&config.services).into_iter().collect(),
                };
                // Secrets of runs that ended or were abandoned go before anything else runs.
                for line in toban::runbook::runner::sweep_secrets(&env).await {
                    tracing::info!("{line}");
                }
                match command {
                    RunbookCommand::Resume { run, step, yes } => {
                        rb::resume(&mut out, &env, books, &run, step.map(Into::into), &yes).await
                    }
                    RunbookCommand::Abort { run, reason } => {
                        rb::abort(&mut out, &env, books, &run, reason.as_deref()).await
                    }
                    RunbookCommand::Run { name, dry_run, drill, sets, yes } => {
                        let opts = toban::runbook::runner::HeadlessOpts { dry_run, drill, yes };
                        rb::run(&mut out, &env, books, &name, &sets, &opts).await
                    }
                    RunbookCommand::History { run, limit } => {
                        rb::history(&mut out, &store, run.as_deref(), limit).await
                    }
                    _ => unreachable!("listed above"),
                }
            })
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn init_logging(
    state_dir: &std::path::Path,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(state_dir).ok()?;
    let file = app::log_file::open(state_dir).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOBAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
