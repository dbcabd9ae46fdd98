//! Child processes for tests: stdout and stderr captured to a log file that failure messages
//! quote, killed (SIGKILL) and reaped when dropped so that a panicking test leaks none.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running child process and its log.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `cmd` with stdin closed and stdout and stderr appended to `log` (one file, in
    /// append mode so that neither overwrites the other).
    pub fn spawn(name: impl Into<String>, mut cmd: Command, log: PathBuf) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("cannot open the log {}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
        Proc {
            name: name.into(),
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Its log's last 40 lines, headed by its name.
    pub fn tail(&self) -> String {
        let all = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = all.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "--- {} ({})\n{}",
            self.name,
            self.log.display(),
            lines[from..].join("\n")
        )
    }

    /// `Some(status)` if the process has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// SIGKILL and reap; the log stays to be read.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits up to `within` for the exit status; `None` (and SIGKILL) if it
    /// did not exit in time.
    pub fn terminate(mut self, within: Duration) -> Option<ExitStatus> {
        let mut c = self.child.take().expect("running");
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM {}", c.id());
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(s) = c.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last lines of every process's log, for failure messages.
pub fn logs<'a>(procs: impl IntoIterator<Item = &'a Proc>) -> String {
    procs
        .into_iter()
        .map(Proc::tail)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_goes_to_the_log_and_sigterm_ends_the_process() {
        let dir = std::env::temp_dir().join(format!("testkit-proc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exec sleep 30"]);
        let p = Proc::spawn("sh", cmd, dir.join("sh.log"));
        let log = p.log.clone();
        crate::poll::until(Duration::from_secs(10), Duration::from_millis(10), || {
            let t = p.tail();
            if t.contains("out") && t.contains("err") {
                Ok(())
            } else {
                Err(format!("both lines in the log\n{t}"))
            }
        });
        let status = p
            .terminate(Duration::from_secs(10))
            .expect("exits on SIGTERM");
        assert!(!status.success());
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "out\nerr\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
