//! Process hygiene for a command line that handles secrets.
//!
//! - Non-dumpable (Linux `PR_SET_DUMPABLE = 0`, like the app): no core dump and no ptrace by
//!   other processes of the same user, so an unlocked data key or a typed password cannot be
//!   read out of a running `brokerdesk`.
//! - SIGPIPE back to its default: `brokerdesk audit list | head` ends quietly when `head`
//!   stops reading, as Unix tools do, instead of panicking on a closed stdout.
//! - Hidden prompts: a password typed on a terminal is not echoed.

use std::io::{IsTerminal, Write};

/// Applies the process settings; returns a warning to print when one could not be applied.
pub fn process() -> Option<String> {
    #[cfg(unix)]
    // SAFETY: restoring SIGPIPE's default disposition at start, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_DUMPABLE takes plain integer arguments.
        let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
        if rc != 0 {
            return Some(format!(
                "could not mark the process non-dumpable: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    None
}

/// Whether this process can prompt (stdin and stderr are a terminal).
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks `question` on stderr and reads one line from the terminal without echoing it.
pub fn prompt_hidden(question: &str) -> std::io::Result<String> {
    // Echo goes off before the question shows: a user (or a script) typing as soon as it
    // appears is never echoed.
    let echo = Echo::off();
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    drop(echo);
    eprintln!();
    read?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(line)
}

/// Terminal echo switched off until dropped.
struct Echo {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl Echo {
    fn off() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on fd 0 with a zeroed termios they fill in.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) != 0 {
                    return Self { saved: None };
                }
                let saved = t;
                t.c_lflag &= !libc::ECHO;
                t.c_lflag |= libc::ECHONL;
                if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                    return Self { saved: None };
                }
                Self { saved: Some(saved) }
            }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.saved {
            // SAFETY: restores the attributes read in `off`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &saved);
            }
        }
    }
}
