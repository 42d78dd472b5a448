//! Certificate pinning for a gateway on this machine (IBKR's Client Portal gateway serves a
//! self-signed certificate at `https://localhost:5000`, which no trust store knows).
//!
//! A [`TlsPin`] belongs to one connector and one gateway (`host:port`): it holds the SHA-256
//! fingerprint of the certificate the gateway must present ([`Fingerprint`]), or none yet.
//! [`client_config`] builds a rustls configuration whose only verifier is [`PinVerifier`]:
//! - the presented end-entity certificate is accepted iff its fingerprint equals the pin, and
//!   only under the configured host name (the client carrying it sends nothing to any other
//!   origin: the IBKR transport refuses other URLs and follows no redirect);
//! - with no pin yet (trust on first use), the first certificate presented becomes the pin of
//!   this connector, and [`PinState::learned`] tells the owner to store it;
//! - a different certificate is refused during the handshake — before a byte of HTTP, a
//!   cookie or a WebSocket upgrade is sent — and recorded ([`PinState::refused`]), so the
//!   transport can report [`super::BrokerError::CertificateChanged`] with both fingerprints;
//! - the handshake's signatures are still verified with the crypto provider's algorithms, so
//!   the server proves it holds the pinned certificate's private key.
//!
//! Chains, names in the certificate and validity dates are not looked at: the pin is the
//! exact certificate, which is what a self-signed gateway certificate can offer. The HTTP
//! client and the WebSocket of one connector share one [`TlsPin`], so they share one pin.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use url::Url;

use super::BrokerError;

/// The SHA-256 fingerprint of a DER certificate. Shown as `AA:BB:…` (32 upper-case hex
/// pairs); parsed from that, from plain hex, with or without a `SHA-256`/`sha256:` prefix,
/// or as `openssl x509 -fingerprint -sha256` prints it (`sha256 Fingerprint=AA:…`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a text is not a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 fingerprint: expected 64 hexadecimal digits (32 pairs, `AA:BB:…`), found {found}")]
pub struct BadFingerprint {
    found: String,
}

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `openssl x509 -fingerprint -sha256` prints `sha256 Fingerprint=AA:…`: the value is
        // what follows the last `=`.
        let t = s.rsplit('=').next().unwrap_or(s).trim();
        let lower = t.to_ascii_lowercase();
        let rest = ["sha-256", "sha256"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .map(|r| r.trim_start_matches([':', '=', ' ']))
            .unwrap_or(&lower);
        let hex: Vec<char> = rest
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        let bad = || BadFingerprint {
            found: if hex.iter().all(char::is_ascii_hexdigit) {
                format!("{} digits", hex.len())
            } else {
                "other characters".into()
            },
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let hi = pair[0].to_digit(16).ok_or_else(bad)?;
            let lo = pair[1].to_digit(16).ok_or_else(bad)?;
            out[i] = u8::try_from(hi * 16 + lo).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

/// What a [`TlsPin`] knows. Watch it with [`TlsPin::subscribe`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinState {
    /// The certificate every handshake must present; `None` until first use.
    pub pinned: Option<Fingerprint>,
    /// `pinned` was taken on first use by this connector (the owner should store it).
    pub learned: bool,
    /// The last certificate presented that was not the pinned one.
    pub refused: Option<Fingerprint>,
    /// How many handshakes were refused so far (a request compares before and after).
    pub refusals: u64,
}

/// The pin of one gateway (`host:port`), shared by a connector's HTTP client and WebSocket.
#[derive(Debug)]
pub struct TlsPin {
    /// The host as the handshake names it (`localhost`, `127.0.0.1`, `::1`), lower-case.
    host: String,
    port: u16,
    state: watch::Sender<PinState>,
}

impl TlsPin {
    /// A pin for the origin of `url` (an `https://` URL with a host), holding `pinned` (or
    /// none: the first certificate presented will be pinned).
    pub fn for_url(url: &Url, pinned: Option<Fingerprint>) -> Result<Arc<Self>, BrokerError> {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(BrokerError::Config("the gateway URL has no host".into())),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| BrokerError::Config("the gateway URL has no port".into()))?;
        let state = PinState {
            pinned,
            ..PinState::default()
        };
        Ok(Arc::new(Self {
            host,
            port,
            state: watch::Sender::new(state),
        }))
    }

    /// `host:port` (IPv6 in brackets), what the pin belongs to.
    pub fn origin(&self) -> String {
        origin_label(&self.host, self.port)
    }

    /// Whether `url` is this pin's gateway (same host and port; the scheme is the caller's).
    pub fn covers(&self, url: &Url) -> bool {
        TlsPin::for_url(url, None)
            .map(|other| other.host == self.host && other.port == self.port)
            .unwrap_or(false)
    }

    /// The pinned fingerprint, if any.
    pub fn pinned(&self) -> Option<Fingerprint> {
        self.state.borrow().pinned
    }

    /// A copy of the state.
    pub fn state(&self) -> PinState {
        self.state.borrow().clone()
    }

    /// A receiver told of every change (a pin learned, a certificate refused).
    pub fn subscribe(&self) -> watch::Receiver<PinState> {
        self.state.subscribe()
    }

    /// Handshakes refused so far.
    pub fn refusals(&self) -> u64 {
        self.state.borrow().refusals
    }

    /// The error for a request that failed while a handshake was refused after `before`
    /// refusals; `None` if no refusal happened since.
    pub fn changed_since(&self, before: u64) -> Option<BrokerError> {
        let s = self.state.borrow();
        if s.refusals <= before {
            return None;
        }
        let (pinned, presented) = (s.pinned?, s.refused?);
        Some(BrokerError::CertificateChanged {
            origin: self.origin(),
            pinned: pinned.to_string(),
            presented: presented.to_string(),
        })
    }

    /// Checks a presented certificate: the pin's, or the first one seen (which becomes the pin).
    fn check(&self, presented: Fingerprint) -> bool {
        let mut ok = false;
        self.state.send_if_modified(|s| match s.pinned {
            Some(p) if p == presented => {
                ok = true;
                false
            }
            Some(_) => {
                s.refused = Some(presented);
                s.refusals += 1;
                true
            }
            None => {
                s.pinned = Some(presented);
                s.learned = true;
                ok = true;
                true
            }
        });
        ok
    }

    fn names(&self, name: &ServerName<'_>) -> bool {
        name.to_str().eq_ignore_ascii_case(&self.host)
    }
}

/// `host:port`, with an IPv6 host in brackets.
fn origin_label(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A rustls client configuration that trusts exactly `pin` (see the module docs).
pub fn client_config(pin: &Arc<TlsPin>) -> Result<rustls::ClientConfig, BrokerError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| BrokerError::Config(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinVerifier {
            pin: pin.clone(),
            provider,
        }))
        .with_no_client_auth();
    Ok(config)
}

/// Accepts the pinned certificate only (see the module docs).
#[derive(Debug)]
pub struct PinVerifier {
    pin: Arc<TlsPin>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.pin.names(server_name) {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName,
            ));
        }
        if self.pin.check(Fingerprint::of(end_entity.as_ref())) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn fingerprints_print_as_pairs_and_parse_leniently() {
        let fp = Fingerprint::of(b"certificate");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert!(shown.chars().all(|c| c == ':' || c.is_ascii_hexdigit()));
        assert_eq!(shown, shown.to_ascii_uppercase());
        for text in [
            shown.clone(),
            shown.to_ascii_lowercase(),
            shown.replace(':', ""),
            format!("SHA-256 {shown}"),
            format!("sha256:{}", shown.replace(':', "").to_ascii_lowercase()),
            format!("  SHA256={shown} "),
            format!("sha256 Fingerprint={shown}\n"),
        ] {
            assert_eq!(text.parse::<Fingerprint>(), Ok(fp), "{text}");
        }
        for bad in [
            "",
            "AA:BB",
            &shown[..shown.len() - 3],
            &shown.replace('A', "G"),
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
        assert!(format!("{fp:?}").contains(&shown));
    }

    #[test]
    fn first_use_pins_and_a_different_certificate_is_refused() {
        let pin = TlsPin::for_url(&url("https://localhost:5000/v1/api"), None).unwrap();
        assert_eq!(pin.origin(), "localhost:5000");
        let (a, b) = (Fingerprint::of(b"a"), Fingerprint::of(b"b"));
        let mut rx = pin.subscribe();
        assert!(pin.check(a));
        assert!(rx.has_changed().unwrap());
        let s = rx.borrow_and_update().clone();
        assert_eq!((s.pinned, s.learned, s.refused), (Some(a), true, None));
        assert!(pin.check(a), "the pinned certificate again");
        assert!(!rx.has_changed().unwrap(), "nothing new");
        let before = pin.refusals();
        assert!(pin.changed_since(before).is_none());
        assert!(!pin.check(b));
        assert_eq!(pin.state().refused, Some(b));
        match pin.changed_since(before) {
            Some(BrokerError::CertificateChanged {
                origin,
                pinned,
                presented,
            }) => {
                assert_eq!(origin, "localhost:5000");
                assert_eq!((pinned, presented), (a.to_string(), b.to_string()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pin_covers_its_host_and_port_only() {
        let pin = TlsPin::for_url(&url("https://127.0.0.1:5000/v1/api"), None).unwrap();
        assert!(pin.covers(&url("wss://127.0.0.1:5000/v1/api/ws")));
        assert!(!pin.covers(&url("wss://127.0.0.1:5001/v1/api/ws")));
        assert!(!pin.covers(&url("wss://localhost:5000/v1/api/ws")));
        assert!(pin.names(&ServerName::try_from("127.0.0.1").unwrap()));
        assert!(!pin.names(&ServerName::try_from("localhost").unwrap()));
        let v6 = TlsPin::for_url(&url("https://[::1]:5000/"), None).unwrap();
        assert_eq!(v6.origin(), "[::1]:5000");
        assert!(v6.names(&ServerName::try_from("::1").unwrap()));
        let name = TlsPin::for_url(&url("https://LocalHost:5000/"), None).unwrap();
        assert!(name.names(&ServerName::try_from("localhost").unwrap()));
    }
}
