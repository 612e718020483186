//! `ehr`: the patient's and the providers' command line.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use ehr_cli::{
    describe_entry, identity, parse_category, parse_purpose, parse_review_reason, parse_role, parse_verdict,
    Endpoints, Session,
};
use ehr_client::{
    args::{BlockRange, ChainArgs},
    parse_account, ss58, Keypair,
};
use ehr_types::{
    emergency::{EmergencyPolicy, EmergencyPurpose, ReviewReason, ReviewVerdict},
    CategorySet, ProviderRole, RecordCategory, RecordId, Scope,
};

/// The patient's and the providers' command line: keys in private files, records sealed on
/// this machine before they leave it, consent and audit on chain, documents through the vault.
#[derive(Parser)]
#[command(name = "ehr", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a new identity: a chain account file and/or an encryption key file, both
    /// readable by their owner only (mode 0600). Existing files are never overwritten.
    Keygen {
        /// Where to write the new chain account (an sr25519 secret).
        #[arg(long, value_name = "FILE")]
        account_out: Option<PathBuf>,
        /// Where to write the new X25519 encryption key.
        #[arg(long, value_name = "FILE")]
        key_out: Option<PathBuf>,
    },
    /// What a patient does with their chart.
    #[command(subcommand)]
    Patient(PatientCommand),
    /// What a provider (doctor, nurse, lab, ...) does.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// What the provider registry's admin does.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// What a compliance auditor does: review emergency accesses, acknowledge alerts.
    #[command(subcommand)]
    Auditor(AuditorCommand),
}

#[derive(Subcommand)]
enum AuditorCommand {
    /// Lists emergency (break-glass) cases: who opened which, until when, its review deadline
    /// and review (default: the unreviewed ones).
    Cases {
        #[command(flatten)]
        connection: Connection,
        /// Every case, reviewed ones too.
        #[arg(long)]
        all: bool,
    },
    /// Reviews an emergency case, once: accepted or flagged, with a reason code.
    Review {
        #[command(flatten)]
        connection: Connection,
        /// The case's id.
        case: u32,
        /// accepted or flagged.
        #[arg(long, value_parser = parse_verdict)]
        verdict: ReviewVerdict,
        /// emergency-documented, consent-unobtainable, no-emergency-documented,
        /// no-care-relationship, excessive-access or other.
        #[arg(long, value_parser = parse_review_reason)]
        reason: ReviewReason,
    },
    /// Raises every emergency case unreviewed past its deadline (anyone may).
    RaiseOverdue(#[command(flatten)] Connection),
    /// Lists the audit analytics' alerts (default: the unacknowledged ones).
    Alerts {
        #[command(flatten)]
        connection: Connection,
        /// Every alert, acknowledged ones too.
        #[arg(long)]
        all: bool,
    },
    /// Acknowledges an alert, once.
    Ack {
        #[command(flatten)]
        connection: Connection,
        /// The alert's id.
        id: u32,
    },
}

// The variants' names are the subcommands users type (`ehr admin register-provider`).
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand)]
enum AdminCommand {
    /// Registers a provider with a role.
    RegisterProvider {
        #[command(flatten)]
        connection: Connection,
        /// The provider's account (SS58 or 0x-hex).
        provider: String,
        /// Doctor, Lab, Pharmacy, Insurer or Analytics.
        #[arg(long, value_parser = parse_role)]
        role: ProviderRole,
    },
    /// Suspends a provider: every grant it holds stops working at once.
    SuspendProvider {
        #[command(flatten)]
        connection: Connection,
        /// The provider's account.
        provider: String,
    },
    /// Reinstates a suspended provider (its earlier grants stay void until patients grant again).
    ReinstateProvider {
        #[command(flatten)]
        connection: Connection,
        /// The provider's account.
        provider: String,
    },
    /// Sets the emergency-access policy: the longest emergency access and the review deadline,
    /// in blocks, for cases opened from now on.
    EmergencyPolicy {
        #[command(flatten)]
        connection: Connection,
        /// Longest emergency access, in blocks (1–14400).
        #[arg(long)]
        max_blocks: u32,
        /// Blocks after an access ends by which an auditor must review it (1–432000).
        #[arg(long)]
        review_blocks: u32,
    },
    /// Publishes the institution's emergency X25519 public key (from the key file the vault
    /// runs with, `ehr-vault --emergency-key`).
    EmergencyKey {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
    },
    /// After an upgrade to storage version 3: deletes the risk scores earlier versions kept in
    /// the clear, found in the risk-scores contract's old `ScoreAccepted` events (anyone may).
    PurgeLegacyScores {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        blocks: BlockRange,
    },
}

/// Where the chain, the contracts and the vault are, and who the user is.
#[derive(Args, Clone)]
struct Connection {
    #[command(flatten)]
    chain: ChainArgs,
    /// The vault's URL.
    #[arg(long, env = "EHR_VAULT_URL", default_value = "http://127.0.0.1:8470")]
    vault: String,
    /// The user's chain account file (from `ehr keygen --account-out`).
    #[arg(long, env = "EHR_ACCOUNT_FILE", value_name = "FILE", conflicts_with = "suri")]
    account: Option<PathBuf>,
    /// The user's chain account as a secret URI instead (e.g. `//Alice` on a dev chain).
    #[arg(long, env = "EHR_SURI", hide_env_values = true)]
    suri: Option<String>,
}

/// The user's encryption key file.
#[derive(Args, Clone)]
struct KeyArg {
    /// The user's X25519 encryption key file (from `ehr keygen --key-out`).
    #[arg(long, env = "EHR_KEY_FILE", value_name = "FILE")]
    key: PathBuf,
}

#[derive(Subcommand)]
enum PatientCommand {
    /// Registers the account as a patient.
    Register(#[command(flatten)] Connection),
    /// Publishes (or rotates) the patient's encryption key on chain.
    PublishKey {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Seals a document for the patient and every provider that may read its category now,
    /// anchors it on chain and stores it in the vault.
    Upload {
        #[command(flatten)]
        connection: Connection,
        /// The record's category (e.g. LabResult, lab-result).
        #[arg(long, value_parser = parse_category)]
        category: RecordCategory,
        /// The document.
        file: PathBuf,
    },
    /// Grants a provider access, then shares (re-wraps) the records its read scope covers.
    Grant {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// The provider's account (SS58 or 0x-hex).
        provider: String,
        /// Categories it may read, comma-separated.
        #[arg(long, value_delimiter = ',', value_parser = parse_category)]
        read: Vec<RecordCategory>,
        /// Categories it may add records of, comma-separated.
        #[arg(long, value_delimiter = ',', value_parser = parse_category)]
        write: Vec<RecordCategory>,
        /// The grant ends this many blocks from now (default: until revoked).
        #[arg(long, value_name = "BLOCKS")]
        expires_in: Option<u32>,
    },
    /// Revokes a provider's grant and deletes its keys in the vault.
    Revoke {
        #[command(flatten)]
        connection: Connection,
        /// The provider's account.
        provider: String,
    },
    /// Erases a record: tombstoned on chain, its envelope and keys destroyed in the vault.
    Erase {
        #[command(flatten)]
        connection: Connection,
        /// The record's id.
        id: RecordId,
    },
    /// Lists the patient's records.
    Records(#[command(flatten)] Connection),
    /// Reads one of the patient's records, decrypted.
    Read {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// The record's id.
        id: RecordId,
        /// Write the document here (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Opens and checks the patient's latest sealed risk score: the report from the vault,
    /// decrypted, its result opening the on-chain commitment, the oracle's signature verified.
    Score {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// The model's id (`ai-oracle models`).
        #[arg(long, default_value = ai_oracle::pce::PooledCohortEquations::ID)]
        model: String,
    },
    /// Opts in to (or, with --off, out of) the institution's emergency key: the chart's records
    /// are also wrapped for it, so that a Doctor under open, audited emergency access can read
    /// them when the patient cannot grant; opting out deletes those keys in the vault.
    EmergencyOptIn {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// Opt out instead.
        #[arg(long)]
        off: bool,
    },
    /// Shows who asked for what in the patient's chart, granted or denied, and every consent
    /// change, from the chain's events.
    Audit {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        blocks: BlockRange,
    },
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Publishes (or rotates) the provider's encryption key in the registry.
    PublishKey {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Requests access to a patient's record (audited on chain, granted or denied), fetches it
    /// from the vault and decrypts it.
    Fetch {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// The patient's account.
        patient: String,
        /// The record's id.
        id: RecordId,
        /// Write the document here (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Opens and checks a patient's latest sealed risk score (with a `RiskAssessment` read
    /// grant; the request is audited): commitment opened, the oracle's signature verified.
    Score {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        key: KeyArg,
        /// The patient's account.
        patient: String,
        /// The model's id (`ai-oracle models`).
        #[arg(long, default_value = ai_oracle::pce::PooledCohortEquations::ID)]
        model: String,
    },
    /// Opens emergency (break-glass) read access to a patient who gave no grant (Doctors only):
    /// bounded, never extended, every read audited as an emergency, reviewed by an auditor.
    Emergency {
        #[command(flatten)]
        connection: Connection,
        /// The patient's account.
        patient: String,
        /// HL7 purpose of use: ETREAT (emergency treatment) or BTG (break the glass).
        #[arg(long, value_parser = parse_purpose, default_value = "etreat")]
        purpose: EmergencyPurpose,
        /// How long, in blocks (at most the policy's maximum).
        #[arg(long)]
        blocks: u32,
    },
    /// Closes the caller's emergency access before it expires.
    CloseEmergency {
        #[command(flatten)]
        connection: Connection,
        /// The case's id.
        case: u32,
    },
    /// Adds a record to a patient's chart with a write grant: sealed for the patient and its
    /// current readers, anchored (audited) and stored in the vault.
    AddRecord {
        #[command(flatten)]
        connection: Connection,
        /// The patient's account.
        patient: String,
        /// The record's category.
        #[arg(long, value_parser = parse_category)]
        category: RecordCategory,
        /// The document.
        file: PathBuf,
    },
}

impl Connection {
    fn signer(&self) -> Result<Keypair> {
        match (&self.account, &self.suri) {
            (Some(path), _) => identity::read_account_file(path),
            (None, Some(suri)) => ehr_client::keypair(suri).context("--suri"),
            (None, None) => bail!("who is acting? pass --account FILE (from `ehr keygen`) or --suri"),
        }
    }

    async fn session(&self) -> Result<Session> {
        let signer = self.signer()?;
        let endpoints = Endpoints {
            node: self.chain.node.clone(),
            deployment: self.chain.deployment.clone(),
            artifacts: self.chain.artifacts.clone(),
            vault: self.vault.clone(),
        };
        Session::connect(&endpoints, signer).await
    }
}

fn read_document(path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn write_document(out: Option<&PathBuf>, document: &[u8]) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, document).with_context(|| format!("writing {}", path.display())),
        None => std::io::Write::write_all(&mut std::io::stdout(), document).context("writing the document"),
    }
}

fn account(text: &str, what: &str) -> Result<ehr_types::AccountId> {
    parse_account(text).with_context(|| format!("{what} {text:?}"))
}

fn report_stored(s: &Session, stored: &ehr_cli::Stored) {
    let name = |account: &ehr_types::AccountId| {
        if *account == s.records.address {
            "the institution's emergency key".to_string()
        } else {
            ss58(account)
        }
    };
    println!(
        "record {} stored, envelope sha256 0x{}, sealed for {}",
        stored.id,
        hex::encode(stored.content_hash),
        stored.recipients.iter().map(name).collect::<Vec<_>>().join(", ")
    );
    for skipped in &stored.skipped {
        println!("not sealed for {} (it has published no encryption key)", ss58(skipped));
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Keygen { account_out, key_out } => {
            if account_out.is_none() && key_out.is_none() {
                bail!("nothing to write: pass --account-out FILE and/or --key-out FILE");
            }
            let signer = account_out.as_deref().map(identity::new_account_file).transpose()?;
            let keys = key_out.as_deref().map(identity::new_key_file).transpose()?;
            println!("{}", identity::describe(signer.as_ref(), keys.as_ref()));
        }
        Command::Patient(command) => match command {
            PatientCommand::Register(c) => {
                let s = c.session().await?;
                s.register_patient().await?;
                println!("registered patient {}", ss58(&s.account));
            }
            PatientCommand::PublishKey { connection: c, key } => {
                let keys = identity::read_key_file(&key.key)?;
                c.session().await?.publish_key(&keys, true).await?;
                println!("published encryption key {}", keys.public());
            }
            PatientCommand::Upload { connection, category, file } => {
                let document = read_document(&file)?;
                let s = connection.session().await?;
                let patient = s.account;
                report_stored(&s, &s.add_record(&patient, category, &document).await?);
            }
            PatientCommand::Grant { connection, key, provider, read, write, expires_in } => {
                let keys = identity::read_key_file(&key.key)?;
                let provider = account(&provider, "provider")?;
                let scope = Scope { read: CategorySet::of(&read), write: CategorySet::of(&write) };
                let s = connection.session().await?;
                let expires_at = match expires_in {
                    Some(blocks) => Some(s.node.best_block().await?.0.saturating_add(blocks)),
                    None => None,
                };
                let shared = s.grant(&provider, scope, expires_at, &keys).await?;
                println!(
                    "granted {} read {read:?} write {write:?}; {shared} record(s) shared",
                    ss58(&provider)
                );
            }
            PatientCommand::Revoke { connection, provider } => {
                let provider = account(&provider, "provider")?;
                let removed = connection.session().await?.revoke(&provider).await?;
                println!("revoked {}; {removed} key(s) deleted in the vault", ss58(&provider));
            }
            PatientCommand::Erase { connection, id } => {
                connection.session().await?.erase(id).await?;
                println!("record {id} erased: tombstoned on chain, envelope and keys destroyed");
            }
            PatientCommand::Records(c) => {
                let s = c.session().await?;
                for r in s.records_of(&s.account).await? {
                    println!(
                        "{:>4}  {:<14} block {:>6}  by {}  {}",
                        r.id,
                        format!("{:?}", r.category),
                        r.added_at,
                        ss58(&r.author),
                        match r.erased_at {
                            Some(block) => format!("erased in block {block}"),
                            None => String::from_utf8_lossy(&r.locator).into_owned(),
                        }
                    );
                }
            }
            PatientCommand::Read { connection, key, id, out } => {
                let keys = identity::read_key_file(&key.key)?;
                let s = connection.session().await?;
                let patient = s.account;
                write_document(out.as_ref(), &s.read_record(&patient, id, &keys).await?)?;
            }
            PatientCommand::Score { connection, key, model } => {
                let keys = identity::read_key_file(&key.key)?;
                let s = connection.session().await?;
                let patient = s.account;
                print_score(&s.read_score(&patient, &model_hash(&model)?, &keys).await?);
            }
            PatientCommand::EmergencyOptIn { connection, key, off } => {
                let keys = identity::read_key_file(&key.key)?;
                let count = connection.session().await?.set_emergency_opt_in(!off, &keys).await?;
                if off {
                    println!("opted out of the emergency key; {count} emergency key(s) deleted in the vault");
                } else {
                    println!("opted in to the emergency key; {count} record(s) wrapped for it");
                }
            }
            PatientCommand::Audit { connection, blocks: BlockRange { from, to } } => {
                let s = connection.session().await?;
                for entry in s.audit_trail(&s.account, from, to).await? {
                    println!("{}", describe_entry(&entry));
                }
            }
        },
        Command::Provider(command) => match command {
            ProviderCommand::PublishKey { connection: c, key } => {
                let keys = identity::read_key_file(&key.key)?;
                c.session().await?.publish_key(&keys, false).await?;
                println!("published encryption key {}", keys.public());
            }
            ProviderCommand::Fetch { connection, key, patient, id, out } => {
                let keys = identity::read_key_file(&key.key)?;
                let patient = account(&patient, "patient")?;
                let s = connection.session().await?;
                write_document(out.as_ref(), &s.read_record(&patient, id, &keys).await?)?;
            }
            ProviderCommand::Score { connection, key, patient, model } => {
                let keys = identity::read_key_file(&key.key)?;
                let patient = account(&patient, "patient")?;
                let s = connection.session().await?;
                print_score(&s.read_score(&patient, &model_hash(&model)?, &keys).await?);
            }
            ProviderCommand::Emergency { connection, patient, purpose, blocks } => {
                let patient = account(&patient, "patient")?;
                let s = connection.session().await?;
                let case = s.open_emergency(&patient, purpose, blocks).await?;
                println!(
                    "emergency access {case} to {} open for {blocks} blocks ({purpose:?}); every read is audited \
                     as an emergency and an auditor reviews it",
                    ss58(&patient)
                );
            }
            ProviderCommand::CloseEmergency { connection, case } => {
                connection.session().await?.close_emergency(case).await?;
                println!("emergency access {case} closed");
            }
            ProviderCommand::AddRecord { connection, patient, category, file } => {
                let document = read_document(&file)?;
                let patient = account(&patient, "patient")?;
                let s = connection.session().await?;
                report_stored(&s, &s.add_record(&patient, category, &document).await?);
            }
        },
        Command::Auditor(command) => match command {
            AuditorCommand::Cases { connection, all } => {
                let s = connection.session().await?;
                let now = s.node.best_block().await?.0;
                for (id, case) in s.emergencies(!all).await? {
                    let review = match case.review {
                        Some(r) => format!(
                            "{:?} ({:?}) by {} in block {}",
                            r.verdict,
                            r.reason,
                            ss58(&r.auditor),
                            r.reviewed_at
                        ),
                        None if case.is_overdue(now) => format!("OVERDUE since block {}", case.review_due),
                        None => format!("to review by block {}", case.review_due),
                    };
                    println!(
                        "case {id}: {} opened by {} ({:?}) in block {}, {} block {}; {review}",
                        ss58(&case.patient),
                        ss58(&case.clinician),
                        case.purpose,
                        case.opened_at,
                        if case.is_open(now) { "open until" } else { "ended in" },
                        case.expires_at
                    );
                }
            }
            AuditorCommand::Review { connection, case, verdict, reason } => {
                connection.session().await?.review_emergency(case, verdict, reason).await?;
                println!("emergency case {case} reviewed: {verdict:?} ({reason:?})");
            }
            AuditorCommand::RaiseOverdue(connection) => {
                let raised = connection.session().await?.raise_overdue().await?;
                println!("{raised} overdue review(s) raised");
            }
            AuditorCommand::Alerts { connection, all } => {
                for (id, stored) in connection.session().await?.alerts(!all).await? {
                    let a = &stored.alert;
                    println!(
                        "alert {id}: {} score ≤ {}/10 for {:?}, window {} .. {} (raised in block {}){}",
                        ss58(&a.accessor),
                        a.score_bucket,
                        a.reasons.reasons(),
                        utc(a.window_start_ms),
                        utc(a.window_end_ms),
                        stored.raised_at,
                        stored
                            .acknowledged
                            .map(|(by, block)| format!(", acknowledged by {} in block {block}", ss58(&by)))
                            .unwrap_or_default()
                    );
                }
            }
            AuditorCommand::Ack { connection, id } => {
                connection.session().await?.acknowledge_alert(id).await?;
                println!("alert {id} acknowledged");
            }
        },
        Command::Admin(command) => match command {
            AdminCommand::RegisterProvider { connection, provider, role } => {
                let provider = account(&provider, "provider")?;
                connection.session().await?.register_provider(&provider, role).await?;
                println!("registered {} as {role:?}", ss58(&provider));
            }
            AdminCommand::SuspendProvider { connection, provider } => {
                let provider = account(&provider, "provider")?;
                connection.session().await?.set_provider_suspended(&provider, true).await?;
                println!("suspended {}", ss58(&provider));
            }
            AdminCommand::ReinstateProvider { connection, provider } => {
                let provider = account(&provider, "provider")?;
                connection.session().await?.set_provider_suspended(&provider, false).await?;
                println!("reinstated {}", ss58(&provider));
            }
            AdminCommand::EmergencyPolicy { connection, max_blocks, review_blocks } => {
                let policy = EmergencyPolicy { max_blocks, review_blocks };
                connection.session().await?.set_emergency_policy(policy).await?;
                println!("emergency access: at most {max_blocks} blocks, reviewed within {review_blocks} blocks after");
            }
            AdminCommand::EmergencyKey { connection, key } => {
                let keys = identity::read_key_file(&key.key)?;
                connection.session().await?.set_emergency_key(&keys.public()).await?;
                println!("published the emergency key {}", keys.public());
            }
            AdminCommand::PurgeLegacyScores { connection, blocks: BlockRange { from, to } } => {
                let (found, deleted) = connection.session().await?.purge_legacy_scores(from, to).await?;
                println!("{found} legacy score keys found, {deleted} clear-text scores deleted");
            }
        },
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The hash of the oracle model `id`.
fn model_hash(id: &str) -> Result<[u8; 32]> {
    let model = ai_oracle::model(id).ok_or_else(|| {
        let ids: Vec<_> = ai_oracle::models().iter().map(|m| m.id()).collect();
        anyhow!("unknown model {id:?}; known models: {}", ids.join(", "))
    })?;
    Ok(model.model_hash())
}

fn print_score(score: &ehr_cli::CheckedScore) {
    let (stored, report) = (&score.stored, &score.report);
    println!(
        "{}: 10-year risk {:.2} % ({:?}), {} ppm",
        report.model_id,
        report.risk() * 100.0,
        report.result.band,
        report.result.risk_ppm
    );
    println!(
        "  commitment 0x{} opened; signature of oracle key 0x{} verified (nonce {}, block {})",
        hex::encode(stored.commitment),
        hex::encode(stored.signer),
        stored.nonce,
        stored.accepted_at
    );
    println!("  report record {} (sha256 0x{})", stored.report_record, hex::encode(stored.report_hash));
    println!("  inputs: {}", report.sources.join(", "));
    println!("  contributions to the linear predictor:");
    for term in &report.terms {
        println!("    {:<32} {:>10.4}", term.term, term.contribution);
    }
}

/// Unix milliseconds as an ISO 8601 UTC time.
fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| format!("{ms} ms"), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
