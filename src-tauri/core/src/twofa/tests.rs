use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::TimeZone;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::*;
use crate::error::Code;
use crate::vault::keychain::MemoryKeyStore;
use crate::vault::Vault;

/// An RFC 6238 implementation independent of totp-rs, to produce the codes a phone would.
fn phone_code(secret: &[u8], unix: i64) -> String {
    let counter = (unix / 30) as u64;
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("hmac key");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

fn secret_from_uri(uri: &str) -> Vec<u8> {
    let s = uri
        .split("secret=")
        .nth(1)
        .expect("secret")
        .split('&')
        .next()
        .expect("secret");
    base32_decode(s)
}

fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("base32") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    vault: Arc<Vault>,
    twofa: TwoFactor,
    now: Arc<AtomicI64>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let vault = Arc::new(Vault::new(store.clone(), Arc::new(MemoryKeyStore::new())));
    vault.init(None).await.expect("init");
    let now = Arc::new(AtomicI64::new(1_800_000_000));
    let clock_now = now.clone();
    let clock: Clock = Arc::new(move || {
        Utc.timestamp_opt(clock_now.load(Ordering::SeqCst), 0)
            .single()
            .expect("time")
    });
    let twofa = TwoFactor::new(store.clone(), vault.clone(), "test", "trader").with_clock(clock);
    Env {
        _dir: dir,
        store,
        vault,
        twofa,
        now,
    }
}

impl Env {
    fn t(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }
    async fn enabled(&self) -> (Vec<u8>, BackupCodes) {
        let key = self.vault.unlocked().await.expect("key");
        let setup = self.twofa.setup(&key).await.expect("setup");
        let secret = secret_from_uri(&setup.otpauth_uri);
        let codes = self
            .twofa
            .enable(&key, &phone_code(&secret, self.t()))
            .await
            .expect("enable");
        self.advance(30);
        (secret, codes)
    }
}

#[tokio::test]
async fn setup_gives_an_authenticator_compatible_uri_and_qr() {
    let e = env().await;
    let key = e.vault.unlocked().await.expect("key");
    let s = e.twofa.setup(&key).await.expect("setup");
    assert!(
        s.otpauth_uri
            .starts_with("otpauth://totp/Brokerdesk:trader?"),
        "{}",
        s.otpauth_uri
    );
    assert!(s.otpauth_uri.contains("issuer=Brokerdesk"));
    assert_eq!(secret_from_uri(&s.otpauth_uri).len(), 20, "160-bit secret");
    assert_eq!(base32_decode(&s.secret), secret_from_uri(&s.otpauth_uri));
    assert!(
        s.qr_svg.starts_with("<?xml") || s.qr_svg.starts_with("<svg"),
        "svg"
    );
    let st = e.twofa.status().await.expect("status");
    assert!(st.pending && !st.enabled);
    // The secret is stored sealed, never in plaintext.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_sealed FROM twofa")
        .fetch_one(e.store.pool())
        .await
        .expect("row");
    let secret = secret_from_uri(&s.otpauth_uri);
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_slice()));
}

#[tokio::test]
async fn qr_png_decodes_back_to_the_same_uri() {
    let uri = "otpauth://totp/Brokerdesk:trader?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Brokerdesk";
    let png_bytes = qr::png(uri, 6).expect("png");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("decode");
    assert_eq!(content, uri);
}

#[tokio::test]
async fn enable_needs_a_valid_code_and_issues_ten_backup_codes() {
    let e = env().await;
    let key = e.vault.unlocked().await.expect("key");
    assert_eq!(
        e.twofa
            .enable(&key, "123456")
            .await
            .expect_err("not set up")
            .code(),
        Code::TwofaNotSetUp
    );
    let setup = e.twofa.setup(&key).await.expect("setup");
    let secret = secret_from_uri(&setup.otpauth_uri);
    let wrong = if phone_code(&secret, e.t()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        e.twofa.enable(&key, wrong).await.expect_err("wrong").code(),
        Code::WrongCode
    );
    assert!(!e.twofa.is_enabled().await.expect("q"));
    let codes = e
        .twofa
        .enable(&key, &phone_code(&secret, e.t()))
        .await
        .expect("enable");
    assert_eq!(codes.codes.len(), 10);
    let st = e.twofa.status().await.expect("status");
    assert!(st.enabled && st.step_up_until.is_some());
    assert_eq!(st.backup_codes_remaining, 10);
    assert_eq!(
        e.twofa.setup(&key).await.expect_err("again").code(),
        Code::TwofaAlreadyEnabled
    );
    // Only salted hashes are stored.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM twofa_backup_codes")
        .fetch_all(e.store.pool())
        .await
        .expect("q");
    for c in &codes.codes {
        assert!(stored
            .iter()
            .all(|h| !h.windows(c.len()).any(|w| w == c.as_bytes())));
    }
}

#[tokio::test]
async fn skew_replay_and_step_up_window() {
    let e = env().await;
    let (secret, _) = e.enabled().await;
    let key = e.vault.unlocked().await.expect("key");
    // The step-up from enabling expires after 15 minutes.
    e.advance(15 * 60);
    assert_eq!(
        e.twofa
            .require_step_up(false)
            .await
            .expect_err("expired")
            .code(),
        Code::StepUpRequired
    );
    // A code from the previous step (phone clock 30 s behind) is accepted.
    let code = phone_code(&secret, e.t() - 30);
    e.twofa.verify(&key, &code).await.expect("skew -1");
    e.twofa.require_step_up(false).await.expect("window open");
    // The same code again is a replay.
    assert_eq!(
        e.twofa
            .verify(&key, &code)
            .await
            .expect_err("replay")
            .code(),
        Code::CodeReplayed
    );
    // A code two steps off is refused.
    e.advance(60);
    assert_eq!(
        e.twofa
            .verify(&key, &phone_code(&secret, e.t() - 90))
            .await
            .expect_err("far")
            .code(),
        Code::WrongCode
    );
    e.twofa
        .verify(&key, &phone_code(&secret, e.t() + 30))
        .await
        .expect("skew +1");
    e.advance(14 * 60);
    e.twofa
        .require_step_up(false)
        .await
        .expect("still within 15 minutes");
    e.advance(61);
    assert_eq!(
        e.twofa
            .require_step_up(false)
            .await
            .expect_err("expired")
            .code(),
        Code::StepUpRequired
    );
}

/// The window is this process's: another `TwoFactor` over the same database (another
/// process) has none, and the database holds none. Turning 2FA off and new backup codes need
/// a code entered for them: within a minute of it, and once.
#[tokio::test]
async fn the_window_is_the_processs_own_and_some_actions_need_their_own_code() {
    let e = env().await;
    let (secret, _) = e.enabled().await;
    let key = e.vault.unlocked().await.expect("key");
    e.twofa
        .require_step_up(false)
        .await
        .expect("open after enabling");
    let other = TwoFactor::new(e.store.clone(), e.vault.clone(), "test", "trader");
    assert_eq!(
        other
            .require_step_up(false)
            .await
            .expect_err("no window")
            .code(),
        Code::StepUpRequired
    );
    assert!(other.status().await.expect("s").step_up_until.is_none());
    let stored: Option<String> = sqlx::query_scalar("SELECT step_up_until FROM twofa")
        .fetch_one(e.store.pool())
        .await
        .expect("q");
    assert!(stored.is_none(), "the window is not in the database");

    // A fresh code serves one own-code action, once.
    e.advance(60);
    e.twofa
        .verify(&key, &phone_code(&secret, e.t()))
        .await
        .expect("verify");
    e.twofa.require_step_up(true).await.expect("fresh code");
    assert_eq!(
        e.twofa
            .require_step_up(true)
            .await
            .expect_err("used")
            .code(),
        Code::StepUpRequired
    );
    e.twofa
        .require_step_up(false)
        .await
        .expect("the window stays open");
    // A code a minute and more old serves no own-code action.
    e.advance(60);
    e.twofa
        .verify(&key, &phone_code(&secret, e.t()))
        .await
        .expect("verify");
    e.advance(61);
    assert_eq!(
        e.twofa
            .require_step_up(true)
            .await
            .expect_err("stale")
            .code(),
        Code::StepUpRequired
    );
    // Locking ends it.
    e.twofa.end_step_up();
    assert_eq!(
        e.twofa
            .require_step_up(false)
            .await
            .expect_err("ended")
            .code(),
        Code::StepUpRequired
    );
}

#[tokio::test]
async fn backup_codes_are_single_use_and_regeneration_invalidates() {
    let e = env().await;
    let (_, codes) = e.enabled().await;
    let key = e.vault.unlocked().await.expect("key");
    let first = codes.codes[0].to_uppercase();
    e.twofa.verify(&key, &first).await.expect("backup code");
    assert_eq!(e.twofa.status().await.expect("s").backup_codes_remaining, 9);
    assert_eq!(
        e.twofa.verify(&key, &first).await.expect_err("used").code(),
        Code::WrongCode
    );
    let fresh = e
        .twofa
        .regenerate_backup_codes(&crate::api::guard::Authorized::for_tests(
            crate::api::guard::Sensitive::RegenerateBackupCodes,
        ))
        .await
        .expect("regenerate");
    assert_eq!(
        e.twofa.status().await.expect("s").backup_codes_remaining,
        10
    );
    assert_eq!(
        e.twofa
            .verify(&key, &codes.codes[1])
            .await
            .expect_err("old")
            .code(),
        Code::WrongCode
    );
    e.twofa
        .verify(&key, &fresh.codes[3])
        .await
        .expect("new code");
}

#[tokio::test]
async fn five_failures_lock_out_with_growing_delay_that_survives_a_restart() {
    let e = env().await;
    let (secret, _) = e.enabled().await;
    let key = e.vault.unlocked().await.expect("key");
    let wrong = |t: i64| {
        if phone_code(&secret, t) == "000000" {
            "111111".to_string()
        } else {
            "000000".to_string()
        }
    };
    for i in 1..=4 {
        let err = e
            .twofa
            .verify(&key, &wrong(e.t()))
            .await
            .expect_err("wrong");
        assert_eq!(err.code(), Code::WrongCode);
        assert!(
            err.to_string()
                .contains(&format!("{} attempts left", 5 - i)),
            "{err}"
        );
    }
    assert_eq!(
        e.twofa
            .verify(&key, &wrong(e.t()))
            .await
            .expect_err("5th")
            .code(),
        Code::TwofaLockedOut
    );
    // Even the right code is refused while locked out.
    assert_eq!(
        e.twofa
            .verify(&key, &phone_code(&secret, e.t()))
            .await
            .expect_err("locked")
            .code(),
        Code::TwofaLockedOut
    );

    // "Restart": a new TwoFactor over the same store sees the same lockout.
    let clock_now = e.now.clone();
    let clock: Clock = Arc::new(move || {
        Utc.timestamp_opt(clock_now.load(Ordering::SeqCst), 0)
            .single()
            .expect("time")
    });
    let restarted =
        TwoFactor::new(e.store.clone(), e.vault.clone(), "test", "trader").with_clock(clock);
    let st = restarted.status().await.expect("status");
    assert!(st.locked_until.is_some());
    assert_eq!(
        restarted
            .verify(&key, &phone_code(&secret, e.t()))
            .await
            .expect_err("locked")
            .code(),
        Code::TwofaLockedOut
    );

    // After the first lockout (60 s), five more failures with no success in between lock out
    // for longer (120 s).
    e.advance(61);
    for _ in 0..5 {
        e.advance(1);
        let _ = restarted.verify(&key, &wrong(e.t())).await;
    }
    e.advance(61);
    assert_eq!(
        restarted
            .verify(&key, &phone_code(&secret, e.t()))
            .await
            .expect_err("2nd lockout is longer")
            .code(),
        Code::TwofaLockedOut
    );
    e.advance(60);
    restarted
        .verify(&key, &phone_code(&secret, e.t()))
        .await
        .expect("after 120 s");

    // A success resets the escalation: the next lockout is back to 60 s.
    for _ in 0..5 {
        e.advance(1);
        let _ = restarted.verify(&key, &wrong(e.t())).await;
    }
    e.advance(61);
    restarted
        .verify(&key, &phone_code(&secret, e.t()))
        .await
        .expect("a 60 s lockout again");
}

#[tokio::test]
async fn disable_removes_the_secret_and_codes() {
    let e = env().await;
    e.enabled().await;
    e.twofa
        .disable(&crate::api::guard::Authorized::for_tests(
            crate::api::guard::Sensitive::DisableTwofa,
        ))
        .await
        .expect("disable");
    let st = e.twofa.status().await.expect("s");
    assert!(!st.enabled && !st.pending);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM twofa_backup_codes")
        .fetch_one(e.store.pool())
        .await
        .expect("q");
    assert_eq!(n, 0);
    e.twofa
        .require_step_up(false)
        .await
        .expect("no 2FA, no step-up");
}

#[tokio::test]
async fn key_rotation_reseals_the_totp_secret() {
    let e = env().await;
    let (secret, _) = e.enabled().await;
    e.vault.rotate_key().await.expect("rotate");
    let key = e.vault.unlocked().await.expect("key");
    e.twofa
        .verify(&key, &phone_code(&secret, e.t()))
        .await
        .expect("still verifies");
}

/// Regression: 20 wrong codes at once used to read the failure count before taking the
/// write lock, so updates were lost and the lockout stopped escalating. Now all count: four
/// are wrong codes, the fifth starts the lockout, and it and every later one are refused as
/// locked out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_all_count_and_lock_out_once() {
    let e = env().await;
    let (secret, _) = e.enabled().await;
    let key = e.vault.unlocked().await.expect("key");
    let good = phone_code(&secret, e.t());
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (twofa, key) = (e.twofa.clone(), key.clone());
            tokio::spawn(async move { twofa.verify(&key, wrong).await })
        })
        .collect();
    let mut wrong_codes = 0;
    let mut locked = 0;
    for t in tasks {
        match t.await.expect("join") {
            Err(TwofaError::WrongCode { .. }) => wrong_codes += 1,
            Err(TwofaError::LockedOut { .. }) => locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    let max = i32::try_from(MAX_FAILURES).unwrap();
    assert_eq!((wrong_codes, locked), (max - 1, 20 - (max - 1)));
    let status = e.twofa.status().await.expect("status");
    assert!(status.locked_until.is_some());
    // The right code is refused too until the lockout ends; the next lockout is longer.
    assert!(matches!(
        e.twofa.verify(&key, &good).await,
        Err(TwofaError::LockedOut { .. })
    ));
    let lockouts: i64 = sqlx::query_scalar("SELECT lockouts FROM twofa WHERE id = 1")
        .fetch_one(e.store.pool())
        .await
        .expect("lockouts");
    assert_eq!(lockouts, 1);
}

/// What the clipboard may be given by reference: the secret of a setup not yet confirmed
/// (never once 2FA is on) and the backup codes this process issued, for 10 minutes.
#[tokio::test]
async fn the_pending_secret_and_fresh_backup_codes_can_be_copied_and_nothing_else() {
    let e = env().await;
    let key = e.vault.unlocked().await.expect("key");
    let none = e.twofa.pending_secret(&key).await.unwrap_err();
    assert_eq!(none.code(), Code::TwofaNotSetUp);
    assert_eq!(e.twofa.issued_codes().unwrap_err().code(), Code::NotFound);

    let setup = e.twofa.setup(&key).await.expect("setup");
    let pending = e.twofa.pending_secret(&key).await.expect("pending secret");
    assert_eq!(pending.expose(), setup.secret);

    let (_, codes) = e.enabled().await;
    let on = e.twofa.pending_secret(&key).await.unwrap_err();
    assert_eq!(on.code(), Code::NotFound, "{on}");
    assert_eq!(
        e.twofa.issued_codes().expect("fresh codes").expose(),
        codes.codes.join("\n")
    );
    e.advance(CODES_COPYABLE_FOR.num_seconds() - 30);
    assert!(e.twofa.issued_codes().is_ok(), "still within 10 minutes");
    e.advance(1);
    let late = e.twofa.issued_codes().unwrap_err();
    assert_eq!(late.code(), Code::NotFound);
    assert!(late.to_string().contains("10 minutes"), "{late}");
}
