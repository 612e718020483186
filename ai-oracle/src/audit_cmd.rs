//! `ai-oracle audit …`: the detector over an exported audit trail, and the synthetic hospital
//! it is evaluated on (`ehr-audit`).

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use ai_oracle::{
    alerts,
    audit_export::{audit_heads, export},
};
use anyhow::{Context, Result};
use clap::Subcommand;
use ehr_audit::{
    detect,
    sim::{self, SimConfig},
    DetectorConfig,
};
use ehr_client::{
    args::{BlockRange, ChainArgs},
    deploy::Deployment,
    ss58, Node,
};

/// Audit analytics over the access trail (the JSON Lines export format of `ehr-audit`).
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Export the records contract's access decisions from a node as JSON Lines, one decision
    /// a line, oldest first.
    Export {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        blocks: BlockRange,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify the per-patient audit hash chains of a trail: complete (no link removed or cut
    /// off) and unaltered. Names the first line of each problem; exits non-zero on any.
    ///
    /// With FILE, the file is checked and, unless `--offline`, each patient's last link is
    /// compared with the chain's head on the node as of block `--to` (the block the export
    /// ended with, which `audit export` prints; default: the best block). Without FILE, the
    /// trail is read from the node (`--from`/`--to`) and checked the same way, also for every
    /// patient registered in those blocks, so a patient whose every line is missing is found.
    Verify {
        /// An exported trail (`-` for standard input); default: read it from the node.
        file: Option<PathBuf>,
        /// Only this patient's chain (SS58).
        #[arg(long)]
        patient: Option<String>,
        /// Do not ask the node for the chains' heads (the end of each chain stays unchecked).
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        blocks: BlockRange,
    },
    /// Score every accessor of an exported trail (JSON Lines, one access decision a line):
    /// score in [0, 1], flagged or not, and the reasons against its role's peers.
    Detect {
        /// The trail (`-` for standard input).
        file: PathBuf,
        /// Print JSON (one object per accessor, most suspicious first) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        detector: DetectorArgs,
        /// Post the flagged accessors as signed alerts to the risk-scores contract (skipping
        /// an accessor's window that overlaps an alert already raised for it).
        #[arg(long)]
        post: bool,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        oracle: crate::OracleArgs,
    },
    /// Follow the chain like `run`: read each new block's access decisions, score the trail as
    /// it grows, and post each accessor's newly flagged window as a signed alert (once: alerts
    /// already on chain count).
    Watch {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        oracle: crate::OracleArgs,
        #[command(flatten)]
        detector: DetectorArgs,
        /// First block to read (e.g. the deployment's block).
        #[arg(long, default_value_t = 0)]
        from: u32,
        /// Exit once this block has been read and scored.
        #[arg(long)]
        until_block: Option<u32>,
        /// Which head to follow: `finalized` (never a decision a reorg drops) or `best`.
        #[arg(long, value_enum, default_value = "finalized")]
        follow: ai_oracle::node::Follow,
        /// Milliseconds between looks for new blocks.
        #[arg(long, default_value_t = 2_000)]
        poll_ms: u64,
        /// Days of decisions kept and scored (1–3650).
        #[arg(long, default_value_t = 120)]
        history_days: u64,
        /// Report flagged accessors in the log without posting them.
        #[arg(long)]
        no_post: bool,
    },
    /// Write a synthetic hospital's trail (seeded, with injected attacks) in the export format,
    /// and optionally who the attackers are.
    Simulate {
        /// Where to write the trail.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the labels (JSON: accessor → attack or null).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Patients (at least 10).
        #[arg(long, default_value_t = 2_000)]
        patients: usize,
        /// Departments (2–12).
        #[arg(long, default_value_t = 8)]
        departments: usize,
        /// Doctors per department.
        #[arg(long, default_value_t = 10)]
        doctors: usize,
        /// Days of traffic (at least 28).
        #[arg(long, default_value_t = 120)]
        days: u32,
        /// Attackers of each kind.
        #[arg(long, default_value_t = 3)]
        attackers: usize,
    },
}

/// The detector's settings on the command line.
#[derive(clap::Args)]
pub struct DetectorArgs {
    /// Flag accessors scoring at least this (default: tuned by `scripts/bench-audit.sh`).
    #[arg(long)]
    threshold: Option<f64>,
    /// Window length in days (1–3650).
    #[arg(long, default_value_t = 7)]
    window_days: u64,
}

impl DetectorArgs {
    fn config(&self) -> DetectorConfig {
        let window_ms = self.window_days.clamp(1, 3_650).saturating_mul(DAY_MS);
        let mut config = DetectorConfig { window_ms, ..Default::default() };
        if let Some(threshold) = self.threshold {
            config.threshold = threshold;
        }
        config
    }
}

const DAY_MS: u64 = 24 * 3_600_000;

/// The node, the contracts and the oracle's keys for posting alerts.
struct Poster {
    node: Node,
    records: ehr_client::ContractRef,
    registry: ehr_client::ContractRef,
    scores: ehr_client::ContractRef,
    key: ai_oracle::attest::OracleKey,
    account: ehr_client::Keypair,
}

impl Poster {
    async fn connect(chain: &ChainArgs, oracle: &crate::OracleArgs) -> Result<Poster> {
        let node = Node::connect(&chain.node).await?;
        let deployment = Deployment::load(&chain.deployment)?;
        Ok(Poster {
            records: deployment.contract(&chain.artifacts, "patient_records")?,
            registry: deployment.contract(&chain.artifacts, "provider_registry")?,
            scores: deployment.contract(&chain.artifacts, "risk_scores")?,
            key: ai_oracle::attest::OracleKey::load(&oracle.key)?,
            account: ehr_client::keypair(&oracle.account).context("--oracle-account")?,
            node,
        })
    }
}

/// Runs an `audit` subcommand.
pub fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Export { chain, blocks: BlockRange { from, to }, out } => {
            crate::runtime()?.block_on(async {
                let node = Node::connect(&chain.node).await?;
                let deployment = Deployment::load(&chain.deployment)?;
                let records = deployment.contract(&chain.artifacts, "patient_records")?;
                let registry = deployment.contract(&chain.artifacts, "provider_registry")?;
                let exported = match &out {
                    Some(path) => {
                        let file =
                            File::create(path).with_context(|| format!("creating {}", path.display()))?;
                        let mut writer = BufWriter::new(file);
                        let exported = export(&node, &records, &registry, from, to, &mut writer).await?;
                        writer.flush()?;
                        exported
                    }
                    None => {
                        export(&node, &records, &registry, from, to, &mut std::io::stdout().lock()).await?
                    }
                };
                eprintln!(
                    "exported {} access decisions of blocks {from}..={} ({} blocks)",
                    exported.lines, exported.to, exported.blocks
                );
                Ok::<(), anyhow::Error>(())
            })?;
        }
        AuditCommand::Verify { file, patient, offline, chain, blocks: BlockRange { from, to } } => {
            if file.is_none() && offline {
                anyhow::bail!(
                    "--offline needs a FILE to verify: without one the trail is read from the node"
                );
            }
            if let Some(patient) = &patient {
                ehr_types::ss58::decode(patient).with_context(|| format!("--patient {patient}"))?;
            }
            let report = crate::runtime()?.block_on(async {
                let mut lines = match &file {
                    Some(path) => read_numbered_trail(path)?,
                    None => Vec::new(),
                };
                if offline {
                    lines.retain(|(_, line)| patient.as_ref().is_none_or(|p| *p == line.patient));
                    return Ok::<_, anyhow::Error>(ehr_audit::chain::verify(&lines, None));
                }
                let node = Node::connect(&chain.node).await?;
                let deployment = Deployment::load(&chain.deployment)?;
                let records = deployment.contract(&chain.artifacts, "patient_records")?;
                // The heads as of the trail's last block, of every patient it should cover.
                let (to, registered) = if file.is_none() {
                    let registry = deployment.contract(&chain.artifacts, "provider_registry")?;
                    let mut buffer = Vec::new();
                    let exported = export(&node, &records, &registry, from, to, &mut buffer).await?;
                    lines = ehr_audit::line::read_numbered_lines(buffer.as_slice())
                        .context("reading the node's trail")?;
                    (exported.to, exported.registered.iter().map(ss58).collect())
                } else {
                    (
                        match to {
                            Some(to) => to,
                            None => node.best_block().await?.0,
                        },
                        Vec::new(),
                    )
                };
                let at =
                    node.block_hash(to).await?.with_context(|| format!("block {to} is not on the chain"))?;
                lines.retain(|(_, line)| patient.as_ref().is_none_or(|p| *p == line.patient));
                let patients: Vec<String> = match &patient {
                    Some(patient) => vec![patient.clone()],
                    None => lines
                        .iter()
                        .filter(|(_, line)| line.seq.is_some_and(|seq| seq > 0))
                        .map(|(_, line)| line.patient.clone())
                        .chain(registered)
                        .collect(),
                };
                let heads = audit_heads(&node, &records, patients, Some(at)).await?;
                Ok(ehr_audit::chain::verify(&lines, Some(&heads)))
            })?;
            for problem in &report.problems {
                println!("{problem}");
            }
            let source = file.as_ref().map_or("the node's trail".to_string(), |f| f.display().to_string());
            if report.is_intact() {
                println!(
                    "{source}: {} patients' audit chains, {} links: complete and unaltered{} ({} decisions in no chain)",
                    report.patients,
                    report.links,
                    if offline {
                        ", up to each chain's last link in the trail (offline: the heads were not checked)".to_string()
                    } else {
                        format!(", {} ending at the head on the node", report.heads_checked)
                    },
                    report.unchained
                );
                return Ok(());
            }
            anyhow::bail!("{source}: {} problems in the audit chains", report.problems.len());
        }
        AuditCommand::Watch {
            chain,
            oracle,
            detector,
            from,
            until_block,
            follow,
            poll_ms,
            history_days,
            no_post,
        } => {
            let filter =
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::io::stderr)
                .init();
            crate::runtime()?.block_on(async {
                let p = Poster::connect(&chain, &oracle).await?;
                let watcher = alerts::Watcher {
                    node: &p.node,
                    records: &p.records,
                    registry: &p.registry,
                    scores: &p.scores,
                    key: &p.key,
                    account: &p.account,
                };
                let options = alerts::WatchOptions {
                    from,
                    until_block,
                    follow,
                    poll: std::time::Duration::from_millis(poll_ms),
                    config: detector.config(),
                    history_ms: history_days.clamp(1, 3_650).saturating_mul(DAY_MS),
                    post: !no_post,
                };
                let posted = alerts::watch(watcher, options).await?;
                println!("posted {} alerts", posted.len());
                Ok::<(), anyhow::Error>(())
            })?;
        }
        AuditCommand::Detect { file, json, detector, post, chain, oracle } => {
            let lines = read_trail(&file)?;
            // Posting takes every flagged window, not only each accessor's worst.
            let config = DetectorConfig { all_windows: post, ..detector.config() };
            let reports = detect(&lines, &config);
            if post {
                crate::runtime()?.block_on(async {
                    let p = Poster::connect(&chain, &oracle).await?;
                    let caller = ehr_client::account_of(&p.account);
                    let posted: Vec<_> = alerts::raised_alerts(&p.node, &p.scores, &caller)
                        .await?
                        .into_iter()
                        .map(|stored| stored.alert)
                        .collect();
                    let new = alerts::new_alerts(&reports, &posted, &config)?;
                    let ids = alerts::post_all(&p.node, &p.scores, &p.key, &p.account, &new).await?;
                    for (id, alert) in ids.iter().zip(&new) {
                        eprintln!("posted {}", alerts::describe(*id, alert));
                    }
                    eprintln!(
                        "posted {} alerts ({} flagged accessors)",
                        ids.len(),
                        reports.iter().filter(|r| r.flagged).count()
                    );
                    Ok::<(), anyhow::Error>(())
                })?;
            }
            let mut text = String::new();
            if json {
                text = serde_json::to_string_pretty(&reports)? + "\n";
            } else {
                use std::fmt::Write as _;
                let flagged = reports.iter().filter(|r| r.flagged).count();
                writeln!(
                    text,
                    "{} access decisions, {} accessors, {flagged} flagged (score ≥ {:.3})",
                    lines.len(),
                    reports.len(),
                    config.threshold
                )?;
                for report in &reports {
                    writeln!(
                        text,
                        "{:.3} {} {:<9} {}  blocks {}–{}",
                        report.score,
                        if report.flagged { "FLAGGED" } else { "       " },
                        report.role,
                        report.accessor,
                        report.window.from_block,
                        report.window.to_block
                    )?;
                    for reason in &report.reasons {
                        writeln!(text, "        - {reason}")?;
                    }
                }
            }
            // A reader that stops early (`| head`) is not an error.
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(err).context("writing the report")
                }
                _ => {}
            }
        }
        AuditCommand::Simulate { out, labels, seed, patients, departments, doctors, days, attackers } => {
            let config = SimConfig {
                seed,
                patients,
                departments,
                doctors_per_department: doctors,
                days,
                attackers_per_kind: attackers,
            };
            let traffic = sim::generate(&config);
            let mut writer =
                BufWriter::new(File::create(&out).with_context(|| format!("creating {}", out.display()))?);
            for line in &traffic.lines {
                writeln!(writer, "{}", line.to_json())?;
            }
            writer.flush()?;
            if let Some(path) = labels {
                std::fs::write(&path, serde_json::to_string_pretty(&traffic.labels)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let attackers = traffic.labels.values().filter(|k| k.is_some()).count();
            println!(
                "wrote {} access decisions of {} accounts ({attackers} attackers) to {}",
                traffic.lines.len(),
                traffic.labels.len(),
                out.display()
            );
        }
    }
    Ok(())
}

fn read_numbered_trail(path: &Path) -> Result<Vec<(usize, ehr_audit::AuditLine)>> {
    let lines = if path == Path::new("-") {
        ehr_audit::line::read_numbered_lines(std::io::stdin().lock())
    } else {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        ehr_audit::line::read_numbered_lines(BufReader::new(file))
    };
    lines.with_context(|| format!("reading the audit trail {}", path.display()))
}

fn read_trail(path: &Path) -> Result<Vec<ehr_audit::AuditLine>> {
    Ok(read_numbered_trail(path)?.into_iter().map(|(_, line)| line).collect())
}
