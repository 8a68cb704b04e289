//! The explorer's runs: one scenario simulated at a time, in the background, in rounds of
//! replications, so the first answer comes within a second and the intervals tighten as more
//! complete. A newer run cancels the older one between rounds. After a round of K replications
//! the results are exactly those of `crisis-sim run -r K` (the same seed and the same
//! (replication, policy) jobs), and after the last round those of the scenario as written.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use super::form::Settings;
use super::view::{self, View};
use crate::experiment::{self, PolicyInfo, Results, ScenarioInfo};

/// Runs kept for download and comparison (the oldest go first).
const KEPT_RUNS: usize = 16;

/// Replications of the first round: two, the fewest that give an interval.
const FIRST_ROUND: u32 = 2;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Done,
    Cancelled,
    Failed,
}

/// What a run has so far.
#[derive(Clone, Debug)]
pub struct Progress {
    pub state: State,
    /// Replications whose results are in `results`.
    pub done: u32,
    pub total: u32,
    pub results: Option<Arc<Results>>,
    pub view: Option<Arc<View>>,
    pub error: Option<String>,
    /// Milliseconds from the start to the first answer, and to the last.
    pub first_answer_ms: Option<u64>,
    pub last_answer_ms: Option<u64>,
}

/// One run of one set of the form's values.
pub struct Run {
    pub id: u64,
    pub settings: Settings,
    /// When the change arrived (answer times count from here).
    queued: Instant,
    cancel: AtomicBool,
    progress: Mutex<Progress>,
}

impl Run {
    /// A copy of what the run has so far.
    pub fn progress(&self) -> Progress {
        lock(&self.progress).clone()
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        change(&mut lock(&self.progress));
    }
}

/// A lock that outlives a panicked holder (a run's thread that panicked leaves its last
/// answer readable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The runs of one explorer. One worker thread simulates, one run at a time: a change that
/// arrives while another waits replaces it, and the one being simulated stops at the end of
/// its round. However many requests come, at most one round runs and one run waits.
pub struct Runs {
    next_id: Mutex<u64>,
    kept: Mutex<VecDeque<Arc<Run>>>,
    /// The newest run not yet started.
    waiting: Arc<(Mutex<Option<Arc<Run>>>, Condvar)>,
}

impl Default for Runs {
    fn default() -> Self {
        let waiting: Arc<(Mutex<Option<Arc<Run>>>, Condvar)> = Arc::default();
        let queue = Arc::clone(&waiting);
        std::thread::spawn(move || {
            let (next, wake) = &*queue;
            loop {
                let run = {
                    let mut next = lock(next);
                    loop {
                        if let Some(run) = next.take() {
                            break run;
                        }
                        next = wake
                            .wait(next)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                };
                simulate(&run);
            }
        });
        Self {
            next_id: Mutex::new(0),
            kept: Mutex::new(VecDeque::new()),
            waiting,
        }
    }
}

impl Runs {
    /// Queues a run of `settings`, cancelling every older one.
    pub fn start(&self, settings: Settings) -> Arc<Run> {
        let id = {
            let mut next = lock(&self.next_id);
            *next += 1;
            *next
        };
        let total = settings.scenario.replications;
        let run = Arc::new(Run {
            id,
            settings,
            queued: Instant::now(),
            cancel: AtomicBool::new(false),
            progress: Mutex::new(Progress {
                state: State::Running,
                done: 0,
                total,
                results: None,
                view: None,
                error: None,
                first_answer_ms: None,
                last_answer_ms: None,
            }),
        });
        {
            let mut kept = lock(&self.kept);
            for older in kept.iter() {
                older.cancel();
            }
            kept.push_back(Arc::clone(&run));
            while kept.len() > KEPT_RUNS {
                kept.pop_front();
            }
        }
        let (next, wake) = &*self.waiting;
        if let Some(replaced) = lock(next).replace(Arc::clone(&run)) {
            // Never started: nothing of it to show.
            replaced.update(|p| p.state = State::Cancelled);
        }
        wake.notify_one();
        run
    }

    /// The run `id`, if it is still kept.
    pub fn get(&self, id: u64) -> Option<Arc<Run>> {
        lock(&self.kept).iter().find(|run| run.id == id).cloned()
    }
}

/// The replications of each round: two, then as many more as there are worker threads (at
/// least two), up to the total.
pub fn rounds(total: u32, threads: usize) -> Vec<u32> {
    let step = u32::try_from(threads.max(2)).unwrap_or(u32::MAX);
    let mut ends = Vec::new();
    let mut end = FIRST_ROUND.min(total);
    while end < total {
        ends.push(end);
        end = end.saturating_add(step).min(total);
    }
    ends.push(total);
    ends
}

/// Runs the rounds, publishing the results after each, until done or cancelled.
fn simulate(run: &Run) {
    let started = run.queued;
    let scenario = &run.settings.scenario;
    let seed = scenario.seed;
    let figures = experiment::figure_defs(scenario);
    let policies: Vec<PolicyInfo> = scenario.policies.iter().map(PolicyInfo::of).collect();
    // What `crisis-sim run` warns about before it runs, kept in its results.json too.
    let warnings: Vec<String> = crate::stats::load::analyse(scenario)
        .warnings
        .iter()
        .map(|w| format!("{w}."))
        .collect();
    let mut summaries: BTreeMap<(u64, usize), Vec<f64>> = BTreeMap::new();
    let mut from = 0u32;
    for end in rounds(scenario.replications, rayon::current_num_threads()) {
        if run.cancel.load(Ordering::SeqCst) {
            run.update(|p| p.state = State::Cancelled);
            return;
        }
        let jobs: Vec<(u64, usize)> = (u64::from(from)..u64::from(end))
            .flat_map(|r| (0..policies.len()).map(move |p| (r, p)))
            .collect();
        match experiment::run_jobs(scenario, None, seed, &jobs, None, &|_| {}) {
            Ok(done) => {
                for summary in done {
                    summaries.insert((summary.replication, summary.policy), summary.values);
                }
            }
            Err(error) => {
                run.update(|p| {
                    p.state = State::Failed;
                    p.error = Some(error.to_string());
                });
                return;
            }
        }
        from = end;
        let replications: Vec<u64> = (0..u64::from(end)).collect();
        let mut results = Results::assemble(
            ScenarioInfo::of(scenario),
            seed,
            None,
            figures.clone(),
            policies.clone(),
            &summaries,
            &replications,
        );
        results.warnings = warnings.clone();
        let view = view::of(&results);
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        run.update(|p| {
            p.done = end;
            p.results = Some(Arc::new(results));
            p.view = Some(Arc::new(view));
            p.first_answer_ms.get_or_insert(elapsed);
            p.last_answer_ms = Some(elapsed);
        });
    }
    run.update(|p| p.state = State::Done);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_start_with_two_and_end_at_the_total() {
        assert_eq!(rounds(10, 2), vec![2, 4, 6, 8, 10]);
        assert_eq!(rounds(10, 4), vec![2, 6, 10]);
        assert_eq!(rounds(2, 8), vec![2]);
        assert_eq!(rounds(1, 8), vec![1]);
        assert_eq!(rounds(7, 1), vec![2, 4, 6, 7]);
    }
}
