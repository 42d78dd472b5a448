//! Helpers for the black-box tests: a [`Profile`] is a temp data dir; its methods run the real
//! `brokerdesk` binary against it and return the [`Run`] (exit code, stdout, stderr).
//!
//! Commands are written as one string split on whitespace (`"account show Alpaca"`); the
//! `*_args` forms take a slice when a value contains spaces.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use brokerdesk_sim::{oanda, Faults, SimServer};
use serde_json::Value;
use tempfile::TempDir;

/// The master password of every test profile.
pub const PW: &str = "correct horse battery staple";

/// The `USER` every test runs as, which names the profile in otpauth URIs.
pub const PROFILE_NAME: &str = "bdtest";

/// One finished invocation.
#[derive(Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Parses stdout, which must be exactly one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts success; returns the JSON document.
    pub fn ok(&self) -> Value {
        assert_eq!(
            self.code, 0,
            "failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.json()
    }

    /// Asserts the exit code and the error code; returns the error object.
    pub fn expect_error(&self, exit: i32, code: &str) -> Value {
        let v = self.json();
        let msg = format!("stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert_eq!(v["error"]["code"], code, "{msg}");
        assert_eq!(self.code, exit, "{msg}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{msg}"
        );
        v["error"].clone()
    }

    /// Returns the `field` of every field error.
    pub fn field_paths(&self) -> Vec<String> {
        let fields = self.json()["error"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        fields
            .iter()
            .filter_map(|f| f["field"].as_str().map(String::from))
            .collect()
    }
}

/// A temp data dir and the commands run against it.
pub struct Profile {
    pub dir: TempDir,
}

impl Profile {
    pub fn new() -> Self {
        Profile {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Returns a command on this data dir, with none of our variables inherited.
    pub fn command(&self, args: &[&str], password: Option<&str>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_brokerdesk"));
        c.arg("--data-dir").arg(self.dir.path()).args(args);
        c.env("BROKERDESK_NO_KEYCHAIN", "1");
        // The profile's name in authenticator apps (otpauth://totp/Brokerdesk:<name>).
        c.env("USER", PROFILE_NAME).env_remove("USERNAME");
        for v in [
            "BROKERDESK_DATA_DIR",
            "BROKERDESK_PASSWORD",
            "BROKERDESK_NEW_PASSWORD",
            "BROKERDESK_LOG",
        ] {
            c.env_remove(v);
        }
        if let Some(p) = password {
            c.env("BROKERDESK_PASSWORD", p);
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs with `password` in the environment and `stdin` piped in (else stdin is empty).
    pub fn run_args(&self, args: &[&str], password: Option<&str>, stdin: Option<&str>) -> Run {
        let mut c = self.command(args, password);
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().expect("spawn brokerdesk");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        Run::from(child.wait_with_output().expect("wait"))
    }

    /// Runs a whitespace-separated command line.
    pub fn run_with(&self, cmd: &str, password: Option<&str>, stdin: Option<&str>) -> Run {
        self.run_args(&cmd.split_whitespace().collect::<Vec<_>>(), password, stdin)
    }

    /// Runs a command line (human output) with the test password.
    pub fn human(&self, cmd: &str) -> Run {
        self.run_with(cmd, Some(PW), None)
    }

    /// Runs `--json` + a command line with the test password.
    pub fn json(&self, cmd: &str) -> Run {
        self.run_with(&format!("--json {cmd}"), Some(PW), None)
    }

    /// Runs `--json` + `args` with the test password and expects success.
    pub fn ok_args(&self, args: &[&str]) -> Value {
        let full: Vec<&str> = std::iter::once("--json")
            .chain(args.iter().copied())
            .collect();
        self.run_args(&full, Some(PW), None).ok()
    }

    /// Runs `--json` + a command line with the test password and expects success.
    pub fn ok(&self, cmd: &str) -> Value {
        self.json(cmd).ok()
    }

    /// `account add --no-verify` + the command line `args`, its one `-` secret read from stdin.
    pub fn add_with_secret(&self, args: &str, secret: &str) -> Value {
        let full: Vec<&str> = ["--json", "account", "add", "--no-verify"]
            .into_iter()
            .chain(args.split_whitespace())
            .collect();
        self.run_args(&full, Some(PW), Some(secret)).ok()
    }

    /// Creates the vault with the test password.
    pub fn init(&self) -> Value {
        self.ok("init")
    }

    /// Returns the profile's database file.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("brokerdesk.db")
    }

    /// Runs SQL on the profile's database with the sqlite3 shell (what an attacker with the
    /// file could do, or a test closing the step-up window without waiting 15 minutes).
    pub fn sqlite(&self, sql: &str) {
        let out = Command::new("sqlite3")
            .arg(self.db())
            .arg(sql)
            .output()
            .expect("run sqlite3");
        assert!(
            out.status.success(),
            "sqlite3 {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Returns the masked credentials of an account document.
pub fn masks(account: &Value) -> Vec<String> {
    let creds = account["credentials"]
        .as_array()
        .expect("credentials array");
    creds
        .iter()
        .map(|c| c["masked"].as_str().expect("masked").to_string())
        .collect()
}

/// Returns the names in a list document.
pub fn names(list: &Value) -> Vec<String> {
    let items = list.as_array().expect("array");
    items
        .iter()
        .filter_map(|a| a["name"].as_str().map(String::from))
        .collect()
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Returns every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The OANDA simulator on 127.0.0.1 (50 ms prices, 500 ms heartbeats) with the runtime that
/// serves it; `rt` also runs a test's own HTTP calls to it.
pub struct Sim {
    pub rt: tokio::runtime::Runtime,
    server: Option<SimServer>,
}

impl Sim {
    pub fn start() -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let faults = Faults::new();
        let state = oanda::SimState::demo(faults.clone())
            .with_intervals(Duration::from_millis(50), Duration::from_millis(500));
        let server = rt
            .block_on(SimServer::start(oanda::router(state), faults, 0))
            .unwrap();
        Self {
            rt,
            server: Some(server),
        }
    }

    pub fn url(&self) -> String {
        self.server.as_ref().unwrap().url()
    }

    pub fn faults(&self) -> &std::sync::Arc<Faults> {
        self.server.as_ref().unwrap().faults()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}
