//! Progress display: a bar with ETA on a terminal, one plain line per pass and per tenth of
//! the work otherwise (logs, CI, nightly jobs). How far a job is, its speed and its ETA are
//! the merger's, from samples merged: tasks differ in size (the first pass is small).

use indicatif::{ProgressBar, ProgressStyle};
use shared::protocol::JobStatus;
use std::io::IsTerminal;

/// The bar's length: progress in thousandths of the job's samples.
const STEPS: u64 = 1000;

pub struct Progress {
    bar: Option<ProgressBar>,
    last_passes: u32,
    /// The last tenth of the work a plain line was printed for.
    last_tenth: u32,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(STEPS);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
                    .expect("a valid template"),
            );
            bar.set_message("waiting for the first result");
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            last_passes: 0,
            last_tenth: 0,
        }
    }

    pub fn update(&mut self, s: &JobStatus) {
        // No figures before the first result: a speed or an ETA of nothing is no figure.
        if s.tasks_done == 0 {
            return;
        }
        let msg = describe(s);
        let tenth = (s.progress * 10.0).floor() as u32;
        match &self.bar {
            Some(bar) => {
                bar.set_position((s.progress * STEPS as f64).round() as u64);
                bar.set_message(msg);
            }
            None if s.passes_done > self.last_passes || tenth > self.last_tenth => {
                eprintln!("{msg}");
            }
            None => {}
        }
        self.last_passes = s.passes_done;
        self.last_tenth = tenth;
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `37%, pass 2/4, 20/64 tasks, 1.21 Msamples/s, ETA 12.3s`, after `frames 2/6, ` in a sequence.
pub fn describe(s: &JobStatus) -> String {
    let speed = if s.samples_per_second > 0.0 {
        format!("{:.2} Msamples/s", s.samples_per_second / 1e6)
    } else {
        "speed ?".to_string()
    };
    let eta = s.eta_seconds.map_or("?".into(), |e| format!("{e:.1}s"));
    let frames = if s.frames.len() > 1 {
        let done = s
            .frames
            .iter()
            .filter(|f| f.state == shared::protocol::FrameState::Done)
            .count();
        format!("frames {done}/{}, ", s.frames.len())
    } else {
        String::new()
    };
    format!(
        "{frames}{:.0}%, pass {}/{}, {}/{} tasks, {speed}, ETA {eta}",
        s.progress * 100.0,
        s.passes_done,
        s.passes_total,
        s.tasks_done,
        s.tasks_total
    )
}
