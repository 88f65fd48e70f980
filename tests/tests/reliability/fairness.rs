//! Fairness of the pool (RELIABILITY.md §2.3, `fairness`): 64 tasks each
//! acquire and release 50 times on a pool of two, holding the connection
//! for a statement and a millisecond each time. Waiters are served in
//! turn, so no acquire waits longer than 10× the median wait: a pool that
//! let the most recent waiter, or whichever task polls first, take a freed
//! slot would starve some tasks for the whole run.
//!
//! The bound is a ratio of waits measured in the same run, each about 32
//! holds long, so a slow or loaded machine stretches both sides of it.

use std::time::{Duration, Instant};

use crate::common::*;

const TASKS: usize = 64;
const ACQUIRES_PER_TASK: usize = 50;

both!(async fn no_waiter_starves_on_a_busy_pool(db) {
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let engine = db.engine.clone();
            tokio::spawn(async move {
                let mut waits = Vec::with_capacity(ACQUIRES_PER_TASK);
                for k in 0..ACQUIRES_PER_TASK {
                    let asked = Instant::now();
                    let mut conn = engine.acquire().await?;
                    waits.push(asked.elapsed());
                    let n: i64 = select(lit((task * ACQUIRES_PER_TASK + k) as i64)).fetch_scalar(&mut conn).await?;
                    assert_eq!(n, (task * ACQUIRES_PER_TASK + k) as i64);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Ok::<_, Error>(waits)
            })
        })
        .collect();
    let mut waits = Vec::with_capacity(TASKS * ACQUIRES_PER_TASK);
    for task in tasks {
        waits.extend(task.await.expect("a task panicked")?);
    }
    assert_eq!(waits.len(), TASKS * ACQUIRES_PER_TASK);
    waits.sort();
    let median = waits[waits.len() / 2];
    let longest = waits[waits.len() - 1];
    assert!(
        longest <= median * 10,
        "an acquire waited {longest:?}, over 10× the median wait of {median:?} (64 tasks on a pool of two)"
    );
    db.assert_healthy().await;
    Ok(())
});
