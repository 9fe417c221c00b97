use std::process::ExitCode;

use boxoffice::app::{Application, pool_settings, shutdown_signal};
use boxoffice::config::{Command, Config, LogFormat};
use boxoffice::store::{SqlStore, Store};
use boxoffice::{check, import};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Config::load();
    init_logging(&cli.config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("boxoffice: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                Application::build(&cli.config)
                    .await?
                    .run_until(shutdown_signal())
                    .await?;
                Ok(true)
            }
            Command::Check { repair } => {
                let store =
                    SqlStore::connect(&cli.config.database_url, &pool_settings(&cli.config))
                        .await?;
                let consistent = check::run(&store, repair).await;
                store.close().await;
                consistent
            }
            Command::ImportMongo { dir, dry_run } => {
                let store = if dry_run {
                    None
                } else {
                    Some(
                        SqlStore::connect(&cli.config.database_url, &pool_settings(&cli.config))
                            .await?,
                    )
                };
                let summary = import::run(store.as_ref().map(|s| s as &dyn Store), &dir).await;
                if let Some(store) = &store {
                    store.close().await;
                }
                print!("{}", summary?.render());
                Ok(true)
            }
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("boxoffice: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|error| {
        eprintln!(
            "boxoffice: RUST_LOG={:?} is not a valid filter ({error}); using info",
            config.log
        );
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
