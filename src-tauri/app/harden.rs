//! Process hardening done before anything else runs.

/// Marks the process as not dumpable (Linux). The process holds the unwrapped data-encryption
/// key and, briefly, master passwords and API secrets in memory: a non-dumpable process writes
/// no core dump on a crash (core files end up in crash reporters and bug reports), and other
/// processes of the same user cannot `ptrace` it or read its `/proc/<pid>/mem`, which closes the
/// easiest way for unrelated malware running as the user to lift the key. Root can still attach.
/// The WebKit helper processes are separate executables (dumpability resets on `exec`) and hold
/// no secrets.
#[cfg(target_os = "linux")]
pub fn process() -> std::io::Result<()> {
    let zero: libc::c_ulong = 0;
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) reads only its integer arguments and changes a flag
    // of this process; no memory of ours is touched.
    let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, zero, zero, zero, zero) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Does nothing outside Linux (macOS and Windows restrict debugging by other means).
#[cfg(not(target_os = "linux"))]
pub fn process() -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    #[test]
    fn the_process_is_no_longer_dumpable() {
        super::process().unwrap();
        // SAFETY: PR_GET_DUMPABLE takes no pointer and returns the flag.
        let flag = unsafe { libc::prctl(libc::PR_GET_DUMPABLE) };
        assert_eq!(flag, 0);
    }
}
