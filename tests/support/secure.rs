//! A secured broker for the TLS and SASL tests: a plaintext Tansu behind
//! `tests/python/secure_front.py`, which serves TLS (Python's ssl, i.e. OpenSSL) and the broker's
//! side of SASL PLAIN and SCRAM-SHA-256/512, then relays the Kafka protocol to Tansu untouched.
//! Tansu advertises the front's address, so every connection a client opens goes through it.
//!
//! Why a front: the Tansu these tests run serves no TLS, offers no PLAIN and stores no SCRAM user
//! (docs/ARCHITECTURE.md, "Security"); no other Kafka broker is installable from the registries
//! the tests may use. librdkafka (the producer) logs in through the same front, so the front's SASL
//! is checked against a reference client in every run.
//!
//! [`Certificates`] makes a throwaway CA, a certificate for `127.0.0.1` and `localhost` signed by
//! it, and an unrelated CA (for the "untrusted" case), with rcgen.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::python::PythonEnv;
use crate::tansu::{Tansu, TansuOptions};

/// PEM files of a test PKI, in a folder that lives as long as this value.
pub struct Certificates {
    /// The CA that signed the server certificate.
    pub ca: PathBuf,
    /// A CA that signed nothing here: trusting only it must fail the handshake.
    pub other_ca: PathBuf,
    /// The server's certificate chain and key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    _dir: tempfile::TempDir,
}

fn authority(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

impl Certificates {
    /// Makes the CA, the server certificate (for `127.0.0.1` and `localhost`) and the other CA.
    pub fn generate() -> Result<Self, String> {
        let text = |e: rcgen::Error| e.to_string();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let ca_key = KeyPair::generate().map_err(text)?;
        let ca_params = authority("Streamglass test CA").map_err(text)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(text)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().map_err(text)?;
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).map_err(text)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "streamglass test broker");
        let server_cert = server.signed_by(&server_key, &issuer).map_err(text)?;
        let other_key = KeyPair::generate().map_err(text)?;
        let other_ca = authority("Some other CA")
            .and_then(|p| p.self_signed(&other_key))
            .map_err(text)?;
        let write = |name: &str, pem: String| -> Result<PathBuf, String> {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        };
        Ok(Self {
            ca: write("ca.pem", ca_cert.pem())?,
            other_ca: write("other-ca.pem", other_ca.pem())?,
            server_cert: write("server.pem", server_cert.pem())?,
            server_key: write("server.key", server_key.serialize_pem())?,
            _dir: dir,
        })
    }
}

/// What the front asks of clients.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// Serve TLS with these files (certificate chain, key).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Require SASL, with these users (name, password) for every mechanism.
    pub users: Vec<(String, String)>,
}

/// `secure_front.py`, running; stopped when dropped.
pub struct SecureFront {
    child: Child,
    /// `127.0.0.1:PORT`, where clients connect.
    pub addr: String,
    log: PathBuf,
}

impl SecureFront {
    /// Starts the front on `port`, relaying to `upstream`, and waits until it listens.
    pub fn start(
        env: &PythonEnv,
        port: u16,
        upstream: &str,
        security: &Security,
        log_dir: &Path,
    ) -> Result<Self, String> {
        let script = crate::workspace_root().join("tests/python/secure_front.py");
        let log = log_dir.join("secure_front.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut command = Command::new(env.python());
        command
            .arg(&script)
            .args(["--listen-port", &port.to_string(), "--upstream", upstream]);
        if let Some((cert, key)) = &security.tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        for (user, password) in &security.users {
            command.arg("--user").arg(format!("{user}:{password}"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
        let front = Self {
            child,
            addr: format!("127.0.0.1:{port}"),
            log,
        };
        crate::wait_for_port(&front.addr, Duration::from_secs(30))
            .map_err(|e| format!("{e}\n{}", front.log_tail()))?;
        Ok(front)
    }

    /// The end of the front's log (logins, refusals), for failure messages.
    pub fn log_tail(&self) -> String {
        crate::log_tail(&self.log)
    }
}

impl Drop for SecureFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Tansu broker reachable only through a [`SecureFront`].
pub struct SecureBroker {
    pub front: SecureFront,
    pub tansu: Tansu,
    _dir: tempfile::TempDir,
}

impl SecureBroker {
    /// Starts Tansu advertising the front's address, then the front.
    pub fn start(env: &PythonEnv, security: &Security) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let front_port = crate::free_port().map_err(|e| e.to_string())?;
        let options = TansuOptions {
            advertised: Some(format!("127.0.0.1:{front_port}")),
            ..TansuOptions::default()
        };
        let tansu = Tansu::start_with(&env.tansu()?, &options)?;
        let front = SecureFront::start(env, front_port, &tansu.addr, security, dir.path())?;
        Ok(Self {
            front,
            tansu,
            _dir: dir,
        })
    }

    /// Where clients connect: the front.
    pub fn bootstrap(&self) -> &str {
        &self.front.addr
    }
}
