//! The door to argon2. Every password hash or check holds `m_cost` KiB (19 MiB on the defaults)
//! while it runs, so how many run at once decides the server's memory: unbounded, forty
//! concurrent logins took a build to gigabytes that stayed after the burst. [`HashingGate`]
//! lets at most `concurrency` run (one per CPU core by default — more would not finish sooner,
//! only hold more memory), lets at most `queue` more wait their turn, and refuses anything
//! beyond with [`AuthError::Busy`] and an estimate of when to try again.
//!
//! The hashes run on as many dedicated threads, not on tokio's blocking pool (which grows to
//! hundreds of threads under a burst, each with an allocator arena of its own). Each thread
//! keeps its argon2 working memory between hashes ([`Scratch`]) and gives it back after
//! [`IDLE_RELEASE`] without work, so the memory argon2 holds is `concurrency × m_cost` during a
//! burst and nothing once it is over.
//!
//! A slot is held until its hash has finished, not until its caller stops waiting: a client
//! that disconnects mid-login does not free a slot whose work is still running.

use super::working_memory::Scratch;
use super::AuthError;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self as std_mpsc, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// How long a hashing thread keeps its working memory without work.
pub const IDLE_RELEASE: Duration = Duration::from_secs(10);

/// How many password hashes may run at once, and how many may wait for a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once (each holds argon2's memory while it runs).
    pub concurrency: usize,
    /// Requests waiting for a turn; the next one is refused.
    pub queue: usize,
}

impl HashingLimits {
    /// `concurrency` 0 means one per CPU core.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            concurrency: if concurrency == 0 { cores } else { concurrency },
            queue,
        }
    }
}

impl Default for HashingLimits {
    /// One hash per core, 64 waiting.
    fn default() -> Self {
        Self::new(0, 64)
    }
}

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;
type IdleWorkers = Arc<Mutex<Vec<std_mpsc::Sender<Job>>>>;

/// Starts a hashing thread; it runs the jobs sent to it until every sender is gone.
fn start_worker(n: usize, keep_blocks: usize) -> std::io::Result<std_mpsc::Sender<Job>> {
    let (tx, rx) = std_mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name(format!("parlor-argon2-{n}"))
        .spawn(move || {
            let mut scratch = Scratch::new(keep_blocks);
            loop {
                match rx.recv_timeout(IDLE_RELEASE) {
                    Ok(job) => job(&mut scratch),
                    Err(RecvTimeoutError::Timeout) => scratch.release(),
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        })?;
    Ok(tx)
}

/// Bounded, queued access to argon2 on a few dedicated threads.
pub struct HashingGate {
    threads: usize,
    queue: usize,
    /// One permit per idle thread in `idle`.
    running: Arc<Semaphore>,
    idle: IdleWorkers,
    waiting: AtomicUsize,
    /// How long the last hash took, in microseconds (for the retry estimate).
    last_micros: Arc<AtomicU64>,
}

impl HashingGate {
    /// `keep_blocks`: the working memory each thread keeps, in argon2 blocks (1 KiB each) —
    /// the configured parameters' block count.
    pub fn new(limits: HashingLimits, keep_blocks: usize) -> Self {
        let workers: Vec<_> = (0..limits.concurrency.max(1))
            .filter_map(|n| match start_worker(n, keep_blocks) {
                Ok(worker) => Some(worker),
                Err(err) => {
                    tracing::error!(error = %err, "could not start a password hashing thread");
                    None
                }
            })
            .collect();
        Self {
            threads: workers.len(),
            queue: limits.queue,
            running: Arc::new(Semaphore::new(workers.len())),
            idle: Arc::new(Mutex::new(workers)),
            waiting: AtomicUsize::new(0),
            last_micros: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Runs `work` on a hashing thread, with that thread's working memory, once one is free;
    /// refuses at once when the queue is full.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Scratch) -> T + Send + 'static,
    {
        let permit = self.enter().await?;
        let worker = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .ok_or_else(|| AuthError::Hashing("no idle hashing thread for a permit".into()))?;
        let (tx, rx) = oneshot::channel();
        let (idle, last_micros, me) = (
            Arc::clone(&self.idle),
            Arc::clone(&self.last_micros),
            worker.clone(),
        );
        let job: Job = Box::new(move |scratch| {
            let started = Instant::now();
            // A panic stays in this job: the thread, its slot and its place in `idle` remain.
            let out = panic::catch_unwind(AssertUnwindSafe(|| work(scratch)));
            let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            last_micros.store(took, Ordering::Relaxed);
            // Idle again before the slot is given back, whether or not anyone still waits.
            idle.lock().unwrap_or_else(PoisonError::into_inner).push(me);
            drop(permit);
            let _ = tx.send(out);
        });
        worker
            .send(job)
            .map_err(|_| AuthError::Hashing("a hashing thread is gone".into()))?;
        match rx.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(_)) => Err(AuthError::Hashing("password hashing panicked".into())),
            Err(_) => Err(AuthError::Hashing("a hashing thread stopped".into())),
        }
    }

    /// A running slot, after waiting in the queue if there is room in it.
    async fn enter(&self) -> Result<OwnedSemaphorePermit, AuthError> {
        if let Ok(permit) = Arc::clone(&self.running).try_acquire_owned() {
            return Ok(permit);
        }
        let joined = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting < self.queue).then_some(waiting + 1)
            });
        if joined.is_err() {
            return Err(AuthError::Busy(self.retry_after_secs()));
        }
        // Leaves the queue however the wait ends (a turn, or a caller that gave up).
        let _leave = Waiting(&self.waiting);
        Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Hashing("the hashing gate is closed".into()))
    }

    /// About how long until the queue has room again: a full queue's worth of hashes, at the
    /// last hash's speed, spread over the threads (at least a second).
    fn retry_after_secs(&self) -> u64 {
        let per_hash = Duration::from_micros(self.last_micros.load(Ordering::Relaxed));
        let rounds = u32::try_from(self.queue / self.threads.max(1) + 1).unwrap_or(u32::MAX);
        per_hash.saturating_mul(rounds).as_secs().saturating_add(1)
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn holding(release: &Arc<AtomicBool>) -> impl FnOnce(&mut Scratch) + Send + 'static {
        let release = Arc::clone(release);
        move |_| {
            while !release.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    #[tokio::test]
    async fn beyond_the_running_slots_and_the_queue_work_is_refused() {
        let gate = Arc::new(HashingGate::new(HashingLimits::new(1, 1), 8));
        let release = Arc::new(AtomicBool::new(false));
        let running = tokio::spawn({
            let (gate, job) = (Arc::clone(&gate), holding(&release));
            async move { gate.run(job).await }
        });
        while gate.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn({
            let (gate, job) = (Arc::clone(&gate), holding(&release));
            async move { gate.run(job).await }
        });
        while gate.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        match gate.run(|_| ()).await {
            Err(AuthError::Busy(secs)) => assert!(secs >= 1),
            other => panic!("a third job is refused, not {other:?}"),
        }
        release.store(true, Ordering::Release);
        running.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        assert_eq!(gate.run(|_| 7).await.unwrap(), 7, "free again");
        assert_eq!(gate.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_free_a_running_slot() {
        let gate = Arc::new(HashingGate::new(HashingLimits::new(1, 0), 8));
        let release = Arc::new(AtomicBool::new(false));
        let abandoned = tokio::spawn({
            let (gate, job) = (Arc::clone(&gate), holding(&release));
            async move { gate.run(job).await }
        });
        while gate.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        assert!(
            matches!(gate.run(|_| ()).await, Err(AuthError::Busy(_))),
            "the work is still running"
        );
        release.store(true, Ordering::Release);
        while gate.running.available_permits() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(gate.run(|_| 1).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_panicking_hash_is_an_error_and_the_thread_stays() {
        let gate = HashingGate::new(HashingLimits::new(1, 0), 8);
        let failed = gate.run(|_| -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(AuthError::Hashing(_))), "{failed:?}");
        assert_eq!(gate.run(|_| 2).await.unwrap(), 2);
    }

    #[test]
    fn zero_concurrency_means_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(HashingLimits::new(0, 5).concurrency, cores);
        assert_eq!(HashingLimits::new(3, 5).concurrency, 3);
    }
}
