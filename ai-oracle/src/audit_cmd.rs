//! `ai-oracle audit …`: the detector over an exported audit trail, and the synthetic hospital
//! it is evaluated on (`ehr-audit`).

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use ai_oracle::audit_export::{audit_heads, export};
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
    Node,
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
    /// compared with the chain's head on the node. Without FILE, the trail is read from the
    /// node (`--from`/`--to`) and checked the same way.
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
        /// Flag accessors scoring at least this (default: tuned by `scripts/bench-audit.sh`).
        #[arg(long)]
        threshold: Option<f64>,
        /// Window length in days (1–3650).
        #[arg(long, default_value_t = 7)]
        window_days: u64,
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
                if file.is_none() {
                    let registry = deployment.contract(&chain.artifacts, "provider_registry")?;
                    let mut buffer = Vec::new();
                    export(&node, &records, &registry, from, to, &mut buffer).await?;
                    lines = ehr_audit::line::read_numbered_lines(buffer.as_slice())
                        .context("reading the node's trail")?;
                }
                lines.retain(|(_, line)| patient.as_ref().is_none_or(|p| *p == line.patient));
                let heads = audit_heads(&node, &records, &lines).await?;
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
        AuditCommand::Detect { file, json, threshold, window_days } => {
            let lines = read_trail(&file)?;
            let window_ms = window_days.clamp(1, 3_650).saturating_mul(24 * 3_600_000);
            let mut config = DetectorConfig { window_ms, ..Default::default() };
            if let Some(threshold) = threshold {
                config.threshold = threshold;
            }
            let reports = detect(&lines, &config);
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
                return Ok(());
            }
            let flagged = reports.iter().filter(|r| r.flagged).count();
            println!(
                "{} access decisions, {} accessors, {flagged} flagged (score ≥ {:.3})",
                lines.len(),
                reports.len(),
                config.threshold
            );
            for report in &reports {
                println!(
                    "{:.3} {} {:<9} {}  blocks {}–{}",
                    report.score,
                    if report.flagged { "FLAGGED" } else { "       " },
                    report.role,
                    report.accessor,
                    report.window.from_block,
                    report.window.to_block
                );
                for reason in &report.reasons {
                    println!("        - {reason}");
                }
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
