//! The CLI at a real terminal (a pseudo-terminal from `openpty`): passwords are asked for at
//! hidden prompts and never appear in what the terminal shows, a new password is typed twice,
//! and two different entries change nothing.

#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{Profile, PW};

const NEW_PW: &str = "orchid lantern quietly tumbles";

/// A command running on the slave side of a fresh pseudo-terminal; what the terminal shows
/// (everything the command writes, plus whatever the line discipline echoes) arrives on
/// `screen`.
struct Terminal {
    child: Child,
    master: File,
    screen: mpsc::Receiver<Vec<u8>>,
    seen: String,
}

impl Terminal {
    fn run(p: &Profile, args: &[&str]) -> Self {
        let (mut master_fd, mut slave_fd) = (0, 0);
        // SAFETY: openpty fills in two new descriptors; the null pointers ask for defaults.
        let rc = unsafe {
            libc::openpty(
                &mut master_fd,
                &mut slave_fd,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both descriptors were just opened and are owned here only.
        let (master, slave) = unsafe {
            (
                OwnedFd::from_raw_fd(master_fd),
                OwnedFd::from_raw_fd(slave_fd),
            )
        };
        let mut c = p.command(args, None);
        c.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = c.spawn().expect("spawn brokerdesk");
        let master = File::from(master);
        let mut reader = master.try_clone().unwrap();
        let (tx, screen) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child and every slave descriptor are gone.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            child,
            master,
            screen,
            seen: String::new(),
        }
    }

    /// Waits (10 s at most) until the terminal has shown `text` since the start.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.seen.contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => panic!(
                    "the terminal never showed {text:?}; it showed {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Types a line, as a user would after the prompt appeared.
    fn type_line(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    /// Waits for the command to end; returns its exit code and all the terminal showed.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        while let Ok(bytes) = self.screen.recv_timeout(Duration::from_millis(300)) {
            self.seen.push_str(&String::from_utf8_lossy(&bytes));
        }
        (status.code().unwrap_or(-1), self.seen)
    }
}

/// Runs `args` at a terminal, typing each answer once its prompt shows; returns the exit
/// code and all the terminal showed.
fn answer(p: &Profile, args: &[&str], dialogue: &[(&str, &str)]) -> (i32, String) {
    let mut t = Terminal::run(p, args);
    for (prompt, typed) in dialogue {
        t.expect(prompt);
        t.type_line(typed);
    }
    t.finish()
}

const ASK: &str = "Master password: ";
const ASK_NEW: &str = "New master password: ";
const ASK_AGAIN: &str = "Repeat the new master password: ";

#[test]
fn passwords_are_asked_at_hidden_prompts_and_never_shown() {
    let p = Profile::new();
    // No keychain here: `init` at a terminal asks for a new password, twice.
    let (code, screen) = answer(&p, &["init"], &[(ASK_NEW, PW), (ASK_AGAIN, PW)]);
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("protected by a master password"),
        "{screen}"
    );
    assert!(!screen.contains(PW), "the password was shown: {screen:?}");

    // Changing it: the current one, then the new one twice; a mismatch changes nothing.
    let (code, screen) = answer(
        &p,
        &["vault", "change-password"],
        &[
            (ASK, PW),
            (ASK_NEW, NEW_PW),
            (ASK_AGAIN, "orchid lantern quietly tumble"),
        ],
    );
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains("differ; nothing was changed"), "{screen}");
    assert!(
        !screen.contains(PW) && !screen.contains("orchid"),
        "shown: {screen:?}"
    );
    assert!(p
        .run_with("--json account list", Some(PW), None)
        .ok()
        .is_array());

    let (code, screen) = answer(
        &p,
        &["vault", "change-password"],
        &[(ASK, PW), (ASK_NEW, NEW_PW), (ASK_AGAIN, NEW_PW)],
    );
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains(PW) && !screen.contains(NEW_PW),
        "shown: {screen:?}"
    );
    let s = p.run_with("--json account list", Some(NEW_PW), None).ok();
    assert!(s.is_array(), "{s}");
}
