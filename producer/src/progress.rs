//! Progress display: a bar with ETA on a terminal, one plain line per pass otherwise (logs,
//! CI, nightly jobs).

use indicatif::{ProgressBar, ProgressStyle};
use shared::protocol::JobStatus;
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
    last_passes: u32,
}

impl Progress {
    pub fn new(tasks: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(tasks);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} tasks, {msg} (ETA {eta})",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            last_passes: 0,
        }
    }

    pub fn update(&mut self, s: &JobStatus) {
        let msg = format!(
            "pass {}/{}, {:.2} Msamples/s",
            s.passes_done,
            s.passes_total,
            s.samples_per_second / 1e6
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(s.tasks_done);
                bar.set_message(msg);
            }
            None if s.passes_done > self.last_passes => {
                let eta = s.eta_seconds.map_or("?".into(), |e| format!("{e:.0}s"));
                eprintln!("{}/{} tasks, {msg}, ETA {eta}", s.tasks_done, s.tasks_total);
            }
            None => {}
        }
        self.last_passes = s.passes_done;
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
