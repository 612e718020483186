//! A substrate-contracts-node dev chain for tests: started on free loopback ports with a
//! temporary base path, stopped (and its chain deleted) on drop.
//!
//! `EHR_NODE_URL` points the harness at an already running node instead; `CONTRACTS_NODE`
//! names the node binary (default: `substrate-contracts-node` on PATH). The flags are those of
//! `scripts/node.sh`: RPC and p2p on 127.0.0.1 only, no mDNS, telemetry or Prometheus.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// How long a starting node gets to answer RPC.
const START_TIMEOUT: Duration = Duration::from_secs(90);

static STARTED: AtomicU32 = AtomicU32::new(0);

/// A dev node: started by this process, or an existing one named by `EHR_NODE_URL`.
#[derive(Debug)]
pub struct DevNode {
    url: String,
    rpc_port: u16,
    child: Option<Child>,
    base_path: Option<PathBuf>,
    log: Option<PathBuf>,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether the node's RPC answers `system_health` on `127.0.0.1:port`.
pub fn rpc_answers(port: u16) -> bool {
    let body = r#"{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}"#;
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.contains("\"result\"")
}

impl DevNode {
    /// The node of `EHR_NODE_URL`, or a fresh dev node whose log goes to `log_dir`.
    pub fn start(log_dir: &Path) -> Result<Self> {
        if let Ok(url) = std::env::var("EHR_NODE_URL") {
            return Ok(DevNode { url, rpc_port: 0, child: None, base_path: None, log: None });
        }
        let binary = std::env::var("CONTRACTS_NODE").unwrap_or_else(|_| "substrate-contracts-node".into());
        let rpc_port = free_port()?;
        let p2p_port = free_port()?;
        let n = STARTED.fetch_add(1, Ordering::SeqCst);
        let base_path = std::env::temp_dir().join(format!("ehr-node-{}-{n}", std::process::id()));
        std::fs::create_dir_all(log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
        let log = log_dir.join(format!("node-{}-{n}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(&binary)
            .args(["--dev", "--rpc-port", &rpc_port.to_string()])
            .args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
            .args(["--no-mdns", "--no-telemetry", "--no-prometheus", "--base-path"])
            .arg(&base_path)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| {
                format!("starting {binary} (run scripts/setup.sh, or set CONTRACTS_NODE or EHR_NODE_URL)")
            })?;
        let mut node = DevNode {
            url: format!("ws://127.0.0.1:{rpc_port}"),
            rpc_port,
            child: Some(child),
            base_path: Some(base_path),
            log: Some(log),
        };
        node.wait_until_ready()?;
        Ok(node)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if rpc_answers(self.rpc_port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("the node exited during start-up ({status}); log:\n{}", self.log_tail());
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!("the node's RPC did not answer within {START_TIMEOUT:?}; log:\n{}", self.log_tail())
    }

    /// The node's WebSocket URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this process started the node (and so may stop it).
    pub fn is_own(&self) -> bool {
        self.child.is_some()
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else { return String::new() };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops the node (SIGKILL: its chain is thrown away) and deletes its base path.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(base) = self.base_path.take() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        self.stop();
    }
}
