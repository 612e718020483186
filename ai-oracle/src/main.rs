//! `ai-oracle`: score FHIR R4 clinical data with validated risk models, and run the oracle on a
//! real chain: read documents through the record vault (audited), seal explained score reports,
//! post signed attestations that carry no score.

use std::path::{Path, PathBuf};

use ai_oracle::{
    attest::{self, OracleKey},
    fhir::{self, ClinicalExtract, ExtractOptions},
    model::RiskModel,
    RiskScore,
};
use anyhow::{anyhow, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use ehr_client::args::ChainArgs;
use serde::Serialize;

mod audit_cmd;
mod chain_cmd;

/// Off-chain AI risk oracle for the EHR contracts.
#[derive(Parser)]
#[command(name = "ai-oracle", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an ed25519 signing key into a key file (mode 0600); prints the public key.
    Keygen {
        /// Where to write the key.
        #[arg(long, default_value = "oracle.key")]
        out: PathBuf,
        /// Overwrite an existing key file.
        #[arg(long)]
        force: bool,
        /// Also print the secret seed (hex). Never do this on a shared terminal.
        #[arg(long)]
        print_secret: bool,
    },
    /// List the models with their ids, versions and model hashes (what the admin approves).
    Models,
    /// Score a FHIR R4 file (Bundle, array of resources, or a single resource).
    Score {
        /// The FHIR JSON file.
        fhir: PathBuf,
        #[command(flatten)]
        options: ScoreOptions,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deploy the contract suite to a node (or verify and reuse the one in the deployment file),
    /// register the oracle as an Analytics provider, its signer key and its model hash.
    Deploy {
        #[command(flatten)]
        chain: ChainArgs,
        /// The admin's secret URI (dev chains: //Alice).
        #[arg(long, env = "EHR_ADMIN_SURI", default_value = "//Alice", hide_env_values = true)]
        admin: String,
        #[command(flatten)]
        oracle: OracleArgs,
        /// Model ids to approve (default: every model the oracle ships).
        #[arg(long = "model")]
        models: Vec<String>,
        /// Time-lock of the contracts' upgrades, in blocks, for a fresh deployment (default:
        /// one day of 6-second blocks).
        #[arg(long, default_value_t = ehr_types::api::DEFAULT_UPGRADE_DELAY)]
        upgrade_delay: u32,
    },
    /// Read a patient's record through the vault (the oracle's audited request first), score
    /// it, sign the attestation and post it to the node.
    Post {
        /// The patient's account (SS58 or 0x-hex).
        #[arg(long)]
        patient: String,
        /// The record's id in the patient's chart.
        #[arg(long)]
        record: u32,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        oracle: OracleArgs,
        #[command(flatten)]
        options: ScoreOptions,
    },
    /// Operator mode: follow the chain, score every new record the oracle may read, post.
    Run {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        oracle: OracleArgs,
        #[command(flatten)]
        options: ScoreOptions,
        /// The oracle's state (SQLite): the chain cursor, every record seen and where it
        /// stands, the signed batch in flight. A restart resumes from it.
        #[arg(long, default_value = "oracle-state.sqlite3")]
        state: PathBuf,
        /// Milliseconds between looks for new blocks.
        #[arg(long, default_value_t = 500)]
        poll_ms: u64,
        /// Consecutive node failures tolerated (with exponential backoff) before exiting.
        #[arg(long, default_value_t = 8)]
        max_retries: u32,
        /// Exit once this block has been followed and no record is due.
        #[arg(long)]
        until_block: Option<u32>,
        /// Which blocks' records to queue: `finalized` (never a record a reorg drops) or
        /// `best` (no finality lag; a record of a block that is later reorged out may be scored
        /// and then refused as not anchored).
        #[arg(long, value_enum, default_value = "finalized")]
        follow: ai_oracle::node::Follow,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "EHR_ORACLE_LOG_JSON")]
        log_json: bool,
        /// Serve Prometheus `/metrics` and `/health` here (e.g. 127.0.0.1:9615).
        #[arg(long, env = "EHR_ORACLE_METRICS_LISTEN")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// A TOML file of these settings (keys as the long options, with `_` for `-`; secrets
        /// such as the oracle account stay in the environment). The command line and the
        /// environment override it.
        #[arg(long, env = "EHR_ORACLE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Audit analytics: the anomaly detector over an exported access trail, and the synthetic
    /// hospital it is evaluated on.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
}

/// The settings `run --config FILE` may hold.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    node: Option<String>,
    deployment: Option<PathBuf>,
    artifacts: Option<PathBuf>,
    key: Option<PathBuf>,
    encryption_key: Option<PathBuf>,
    vault: Option<String>,
    model: Option<String>,
    state: Option<PathBuf>,
    poll_ms: Option<u64>,
    follow: Option<ai_oracle::node::Follow>,
    max_retries: Option<u32>,
    log_json: Option<bool>,
    metrics_listen: Option<std::net::SocketAddr>,
}

/// Fills the `run` settings left at their defaults from `--config FILE`: the command line and
/// the environment win over the file, the file over the defaults.
fn apply_config(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<()> {
    let Command::Run {
        chain,
        oracle,
        options,
        state,
        poll_ms,
        follow,
        max_retries,
        log_json,
        metrics_listen,
        config,
        ..
    } = &mut cli.command
    else {
        return Ok(());
    };
    let Some(path) = config else { return Ok(()) };
    let text =
        std::fs::read_to_string(&*path).with_context(|| format!("reading --config {}", path.display()))?;
    let file: RunFile = toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
    let run = matches.subcommand_matches("run").context("run's arguments")?;
    let unset =
        |id: &str| matches!(run.value_source(id), None | Some(clap::parser::ValueSource::DefaultValue));
    macro_rules! fill {
        ($id:literal, $field:expr, $value:expr) => {
            if let Some(value) = $value {
                if unset($id) {
                    $field = value;
                }
            }
        };
    }
    fill!("node", chain.node, file.node);
    fill!("deployment", chain.deployment, file.deployment);
    fill!("artifacts", chain.artifacts, file.artifacts);
    fill!("key", oracle.key, file.key);
    fill!("encryption_key", oracle.encryption_key, file.encryption_key);
    fill!("vault", oracle.vault, file.vault);
    fill!("model", options.model, file.model);
    fill!("state", *state, file.state);
    fill!("poll_ms", *poll_ms, file.poll_ms);
    fill!("follow", *follow, file.follow);
    fill!("max_retries", *max_retries, file.max_retries);
    fill!("log_json", *log_json, file.log_json);
    fill!("metrics_listen", *metrics_listen, file.metrics_listen.map(Some));
    Ok(())
}

/// The oracle's keys.
#[derive(clap::Args)]
struct OracleArgs {
    /// The oracle's ed25519 key file (`ai-oracle keygen`).
    #[arg(long, default_value = "oracle.key")]
    key: PathBuf,
    /// Secret URI of the account that submits the oracle's batches and pays their fees.
    #[arg(long = "oracle-account", env = "EHR_ORACLE_SURI", default_value = "//Eve", hide_env_values = true)]
    account: String,
    /// The oracle's X25519 encryption key file (`ehr keygen --key-out`): `deploy` publishes its
    /// public half in the registry; documents are sealed for it and opened with it.
    #[arg(long, env = "EHR_ORACLE_ENCRYPTION_KEY", default_value = "oracle-encryption.key")]
    encryption_key: PathBuf,
    /// The record vault's URL.
    #[arg(long, env = "EHR_VAULT_URL", default_value = "http://127.0.0.1:8470")]
    vault: String,
}

#[derive(clap::Args)]
struct ScoreOptions {
    /// Model id (see `ai-oracle models`).
    #[arg(long, default_value = ai_oracle::pce::PooledCohortEquations::ID)]
    model: String,
    /// Score as of this date (YYYY-MM-DD): age and staleness are judged then. Default for
    /// `post` and `run`: the scoring time; for `score` and `attest`: the date of the newest
    /// required input.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

/// A score with everything needed to check it.
#[derive(Serialize)]
struct ScoreReport<'a> {
    file: String,
    input_hash: String,
    model_hash: String,
    description: &'static str,
    as_of: NaiveDate,
    risk_percent: f64,
    risk_ppm: u32,
    #[serde(flatten)]
    score: &'a RiskScore,
    inputs: &'a ai_oracle::RiskInputs,
    sources: &'a [fhir::Source],
}

fn main() {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let parsed = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(anyhow::Error::from);
    let result = parsed.and_then(|mut cli| {
        apply_config(&mut cli, &matches)?;
        run(cli)
    });
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { out, force, print_secret } => {
            let key = OracleKey::generate().map_err(|e| anyhow!("no randomness from the OS: {e}"))?;
            key.save(&out, force)?;
            println!("wrote {} (mode 0600)", out.display());
            println!("public key 0x{}", hex::encode(key.public()));
            if print_secret {
                println!("secret seed 0x{}", key.secret_hex());
            }
        }
        Command::Audit(command) => audit_cmd::run(command)?,
        Command::Models => {
            for model in ai_oracle::models() {
                println!(
                    "{} v{}  model hash 0x{}",
                    model.id(),
                    model.version(),
                    hex::encode(model.model_hash())
                );
                println!("    {}", model.description());
            }
        }
        Command::Score { fhir, options, json } => {
            let Scored { document, model, extract, score } = score_file(&fhir, &options)?;
            let report = report(&fhir, &document, model.as_ref(), &extract, &score);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
        Command::Deploy { chain, admin, oracle, models, upgrade_delay } => {
            runtime()?.block_on(chain_cmd::deploy(chain, admin, oracle, models, upgrade_delay))?
        }
        Command::Post { patient, record, chain, oracle, options } => {
            runtime()?.block_on(chain_cmd::post(patient, record, chain, oracle, options))?
        }
        Command::Run {
            chain,
            oracle,
            options,
            state,
            poll_ms,
            max_retries,
            until_block,
            follow,
            log_json,
            metrics_listen,
            ..
        } => {
            let filter =
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
            if log_json {
                tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
            } else {
                tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_ansi(false)
                    .with_writer(std::io::stderr)
                    .init();
            }
            let run = ai_oracle::node::RunOptions {
                state,
                poll: std::time::Duration::from_millis(poll_ms),
                max_retries,
                until_block,
                follow,
                metrics_listen,
            };
            runtime()?.block_on(chain_cmd::run(chain, oracle, options, run))?
        }
    }
    Ok(())
}

/// A FHIR file, what was extracted from it, and its score.
struct Scored {
    document: Vec<u8>,
    model: Box<dyn RiskModel>,
    extract: ClinicalExtract,
    score: RiskScore,
}

/// Reads, extracts and scores a FHIR file.
fn score_file(path: &Path, options: &ScoreOptions) -> Result<Scored> {
    let model = ai_oracle::model(&options.model).ok_or_else(|| {
        let ids: Vec<_> = ai_oracle::models().iter().map(|m| m.id()).collect();
        anyhow!("unknown model {:?}; known models: {}", options.model, ids.join(", "))
    })?;
    let document = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let extract_options = ExtractOptions { as_of: options.as_of, ..ExtractOptions::default() };
    let extract =
        fhir::extract_json(&document, extract_options).with_context(|| format!("{}", path.display()))?;
    let score = model.score(&extract.inputs).with_context(|| format!("{}", path.display()))?;
    Ok(Scored { document, model, extract, score })
}

fn report<'a>(
    path: &Path,
    document: &[u8],
    model: &dyn RiskModel,
    extract: &'a ClinicalExtract,
    score: &'a RiskScore,
) -> ScoreReport<'a> {
    ScoreReport {
        file: path.display().to_string(),
        input_hash: format!("0x{}", hex::encode(attest::input_hash(document))),
        model_hash: format!("0x{}", hex::encode(model.model_hash())),
        description: model.description(),
        as_of: extract.as_of,
        risk_percent: score.risk * 100.0,
        risk_ppm: score.risk_ppm(),
        score,
        inputs: &extract.inputs,
        sources: &extract.sources,
    }
}

fn print_report(r: &ScoreReport<'_>) {
    println!("{}", r.file);
    println!("  input sha256   {}", r.input_hash);
    println!(
        "  model          {} v{} ({} equation)",
        r.score.model_id, r.score.model_version, r.score.equation
    );
    println!("  model hash     {}", r.model_hash);
    println!("  as of          {}", r.as_of);
    println!("  10-year risk   {:.2} %  ({:?})  = {} ppm", r.risk_percent, r.score.band, r.risk_ppm);
    println!("  inputs");
    for s in r.sources {
        println!("    {:<26} {:<22} {:<28} {}", s.input, s.original, s.resource, s.code);
    }
    println!("  contributions to the linear predictor (equation mean {:.4})", r.score.mean_linear_predictor);
    println!("    {:<32} {:>12} {:>10} {:>13}", "term", "coefficient", "value", "contribution");
    for c in &r.score.contributions {
        println!("    {:<32} {:>12.4} {:>10.4} {:>13.4}", c.term, c.coefficient, c.value, c.contribution);
    }
    println!("    {:<32} {:>12} {:>10} {:>13.4}", "sum", "", "", r.score.linear_predictor);
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}
