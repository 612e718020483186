//! The vault's benchmark (run through `scripts/bench-vault.sh`): HPKE data-key wraps and
//! unwraps per second, sealing throughput, and, against a real `ehr-vault` process on loopback
//! in front of a real substrate-contracts-node, upload and fetch latency (p50, p99) and
//! throughput for 10 KB and 1 MB documents. Every upload and fetch includes the vault's
//! on-chain checks (the anchor and its author; consent at the best block and the audited
//! request); a fetch also includes the client's hash check and decryption.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use ehr_client::{account_of, deploy, dev_node::DevNode, keypair, Keypair, Node, Submitted};
use ehr_envelope::{Envelope, KeyPair};
use ehr_types::{
    AccessDecision, AddRecordOutcome, ProviderRole, RecordCategory, RecordsError, RegistryError, Scope,
};
use ehr_vault::client::VaultClient;

struct VaultProcess(Child);

impl Drop for VaultProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn row(what: &str, size: usize, mut times: Vec<Duration>, total: Duration) {
    times.sort();
    let n = times.len();
    println!(
        "{what:<8} {:>7} {n:>5} {:>10.2} {:>10.2} {:>10.1} {:>10.2}",
        if size >= 1 << 20 { format!("{} MB", size >> 20) } else { format!("{} KB", size >> 10) },
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        n as f64 / total.as_secs_f64(),
        (n * size) as f64 / total.as_secs_f64() / (1 << 20) as f64,
    );
}

fn per_second(n: u32, f: impl Fn()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

async fn submit<A: ink::scale::Encode, R: ink::scale::Decode>(
    node: &Node,
    contract: &ehr_client::ContractRef,
    signer: &Keypair,
    message: &str,
    args: A,
) -> Result<R> {
    let submitted: Submitted<R> = node.submit(contract, signer, message, &args).await?;
    Ok(submitted.dry_run.value)
}

#[tokio::main]
async fn main() -> Result<()> {
    let artifacts =
        PathBuf::from(std::env::var("EHR_ARTIFACTS_DIR").unwrap_or_else(|_| "target/contracts".into()));
    let work = std::env::temp_dir().join(format!("ehr-bench-vault-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    // Crypto alone.
    let keys = KeyPair::generate();
    let (sealed, data_key) = Envelope::seal(b"x", &[1; 32]);
    let hash = sealed.content_hash();
    let wrapped = data_key.wrap_for(&keys.public(), &hash)?;
    let wraps = per_second(2_000, || {
        data_key.wrap_for(&keys.public(), &hash).unwrap();
    });
    let unwraps = per_second(2_000, || {
        wrapped.unwrap(&keys, &hash).unwrap();
    });
    let mb = vec![0x42u8; 1 << 20];
    let seal_rate = per_second(50, || {
        Envelope::seal(&mb, &[1; 32]);
    });
    println!("HPKE (X25519-HKDF-SHA256, ChaCha20-Poly1305) data-key wraps:   {wraps:>8.0} /s");
    println!("HPKE data-key unwraps:                                         {unwraps:>8.0} /s");
    println!("XChaCha20-Poly1305 sealing (1 MB documents):                   {seal_rate:>8.1} MB/s");

    // A node, the suite, a patient and a doctor with a read grant, and the vault.
    let (dev_node, url) = match std::env::var("EHR_NODE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let node = DevNode::start(&work)?;
            let url = node.url().to_string();
            (Some(node), url)
        }
    };
    let node = Node::connect(&url).await?;
    let (admin, patient, doctor) = (keypair("//Alice")?, keypair("//Bob")?, keypair("//Charlie")?);
    let deployment_file = work.join("deployment.json");
    let (deployment, _) =
        deploy::deploy_or_reuse(&node, &artifacts, &admin, &deployment_file, 10, None).await?;
    let records = deployment.contract(&artifacts, "patient_records")?;
    let registry = deployment.contract(&artifacts, "provider_registry")?;
    let (patient_id, doctor_id) = (account_of(&patient), account_of(&doctor));
    let (patient_keys, doctor_keys) = (KeyPair::generate(), KeyPair::generate());
    let _: Result<(), RegistryError> =
        submit(&node, &registry, &admin, "register_provider", (doctor_id, ProviderRole::Doctor)).await?;
    let _: Result<(), RecordsError> = submit(&node, &records, &patient, "register_patient", ()).await?;
    let _: Result<(), RecordsError> =
        submit(&node, &records, &patient, "set_encryption_key", (patient_keys.public().0,)).await?;
    let _: Result<(), RegistryError> =
        submit(&node, &registry, &doctor, "set_encryption_key", (doctor_keys.public().0,)).await?;
    let labs = RecordCategory::LabResult;
    let _: Result<(), RecordsError> =
        submit(&node, &records, &patient, "grant_access", (doctor_id, Scope::read(&[labs]), None::<u32>))
            .await?;

    let vault_bin =
        std::env::current_exe()?.parent().and_then(Path::parent).context("target dir")?.join("ehr-vault");
    let mut child = Command::new(&vault_bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--node",
            &url,
            "--audit-window",
            "1000",
            "--max-body-bytes",
            "8388608",
        ])
        .arg("--deployment")
        .arg(&deployment_file)
        .arg("--artifacts")
        .arg(&artifacts)
        .arg("--data")
        .arg(work.join("vault-data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", vault_bin.display()))?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)?;
    let _vault = VaultProcess(child);
    let Some(addr) = line.trim().strip_prefix("listening on ") else {
        bail!("ehr-vault did not start: {line}")
    };
    let vault = VaultClient::new(&format!("http://{addr}"));
    let pid: [u8; 32] = *AsRef::<[u8; 32]>::as_ref(&patient_id);

    println!();
    println!("vault on loopback, node {url}; latency in ms, sequential requests");
    println!(
        "{:<8} {:>7} {:>5} {:>10} {:>10} {:>10} {:>10}",
        "op", "size", "n", "p50 ms", "p99 ms", "req/s", "MB/s"
    );
    for (size, n) in [(10 << 10, 200usize), (1 << 20, 40)] {
        let document = vec![0x61u8; size];
        // Anchor n envelopes first (one transaction each; the chain's part, not the vault's).
        let mut envelopes = Vec::new();
        for _ in 0..n {
            let (envelope, wrapped) =
                Envelope::seal_for(&document, &pid, &[patient_keys.public(), doctor_keys.public()])?;
            let hash = envelope.content_hash();
            let locator = format!("vault://{}", hex::encode(hash)).into_bytes();
            let added: Result<AddRecordOutcome, RecordsError> = submit(
                &node,
                &records,
                &patient,
                "add_record",
                (patient_id, labs, hash, locator, None::<u32>),
            )
            .await?;
            if !matches!(added, Ok(AddRecordOutcome::Added(_))) {
                bail!("add_record: {added:?}");
            }
            envelopes
                .push((envelope, vec![(patient_id, wrapped[0].clone()), (doctor_id, wrapped[1].clone())]));
        }
        let mut times = Vec::new();
        let start = Instant::now();
        for (envelope, keys) in &envelopes {
            let t = Instant::now();
            vault.upload(&patient, &patient_id, envelope, keys).await?;
            times.push(t.elapsed());
        }
        row("upload", size, times, start.elapsed());

        let decision: Result<AccessDecision, RecordsError> =
            submit(&node, &records, &doctor, "request_access", (patient_id, labs)).await?;
        if decision != Ok(AccessDecision::Granted) {
            bail!("request_access: {decision:?}");
        }
        let mut times = Vec::new();
        let start = Instant::now();
        for (envelope, _) in &envelopes {
            let t = Instant::now();
            let (fetched, key) = vault.fetch(&doctor, &patient_id, &envelope.content_hash()).await?;
            let opened = fetched.open_with(&key, &doctor_keys, &pid)?;
            times.push(t.elapsed());
            assert_eq!(opened.len(), size);
        }
        row("fetch", size, times, start.elapsed());

        // Eight clients at once.
        let start = Instant::now();
        let hashes: Vec<[u8; 32]> = envelopes.iter().map(|(e, _)| e.content_hash()).collect();
        let tasks: Vec<_> = hashes
            .chunks(hashes.len().div_ceil(8))
            .map(|chunk| {
                let (vault, doctor, chunk) = (vault.clone(), keypair("//Charlie").unwrap(), chunk.to_vec());
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    for hash in chunk {
                        let t = Instant::now();
                        vault.fetch(&doctor, &patient_id, &hash).await.unwrap();
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await?);
        }
        row("fetch×8", size, times, start.elapsed());
    }
    drop(dev_node);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
