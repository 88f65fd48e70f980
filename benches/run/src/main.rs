//! The end-to-end benchmark runner behind `just bench`.
//!
//! 1. Creates the data (`e2e-bench setup`): a PostgreSQL database of its
//!    own and an SQLite file.
//! 2. Starts one worker process per contender: Quarry, tokio-postgres,
//!    rusqlite and tokio-rusqlite from `e2e-bench`, sqlx from `sqlx-bench`
//!    (a separate workspace, since it links another SQLite).
//! 3. Checks that every contender returns the same result for every workload.
//! 4. Picks each workload's iterations per sample (from the raw driver's
//!    speed, the same for every contender), then runs rounds: in each round,
//!    for each workload, each contender runs one short sample, in an order
//!    that rotates from round to round. The wall-clock figure is the median
//!    of a contender's per-round samples.
//! 5. Runs each contender's workload under `valgrind --tool=callgrind` and
//!    counts the client's instructions per operation (counters zeroed after
//!    connecting and warming up, dumped after the operations).
//! 6. Prints one table, saves it to `target/e2e/results.md` with the raw
//!    samples beside it, and removes the data.
//!
//! Environment: `QUARRY_BENCH_QUICK=1` (fewer, shorter rounds, fewer
//! operations under callgrind), `QUARRY_BENCH_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/quarry_bench`; the database is
//! dropped and created), `QUARRY_BENCH_ROUNDS`, `QUARRY_BENCH_ONLY`
//! (`postgres` or `sqlite`), `QUARRY_BENCH_WORKLOADS` (comma-separated
//! names: `select,join,insert,copy,lookups`), `QUARRY_BENCH_CALLGRIND=0` to
//! skip instruction counts, `QUARRY_BENCH_JOBS` (parallel callgrind runs, 1: parallel runs disturb each other, e.g. SQLite readers retrying while another process checkpoints).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// A library under test on one backend.
#[derive(Clone, Debug)]
struct Contender {
    /// The column it is reported in: `quarry`, `raw`, `rusqlite`, `sqlx`.
    column: &'static str,
    /// Its name in the table.
    label: &'static str,
    /// The worker binary and the contender name it takes.
    binary: PathBuf,
    name: &'static str,
    backend: Backend,
}

impl Contender {
    fn target<'a>(&self, cfg: &'a Config) -> &'a str {
        match self.backend {
            Backend::Postgres => &cfg.pg_url,
            Backend::Sqlite => &cfg.sqlite_path,
        }
    }
}

/// A workload and its parameter on one backend.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Cell {
    backend: Backend,
    workload: &'static str,
    param: usize,
}

impl Cell {
    fn label(&self) -> String {
        match self.workload {
            "select" => format!("select {} users", self.param),
            "join" => format!("join, {} users", self.param),
            "insert" => format!("insert {} rows", self.param),
            "copy" => format!("COPY {} rows", self.param),
            "lookups" => "64 tasks × 200 lookups, pool of 8".to_owned(),
            w => format!("{w} {}", self.param),
        }
    }
}

struct Config {
    pg_url: String,
    sqlite_path: String,
    rounds: usize,
    sample_target: Duration,
    callgrind: bool,
    callgrind_max_ops: u64,
    jobs: usize,
    out_dir: PathBuf,
    quick: bool,
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(c: &Contender, cfg: &Config) -> Worker {
        let mut child = Command::new(&c.binary)
            .args(["worker", c.name, c.target(cfg)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", c.binary.display()));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut w = Worker { child, stdin, stdout };
        let line = w.read_line();
        assert_eq!(line, "ready", "{} did not start: {line:?}", c.label);
        w
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("worker output");
        line.trim().to_owned()
    }

    fn ask(&mut self, command: &str) -> Vec<String> {
        writeln!(self.stdin, "{command}").expect("worker input");
        self.stdin.flush().expect("worker input");
        let line = self.read_line();
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if words.first().map(String::as_str) != Some("ok") {
            panic!("worker answered {line:?} to {command:?} (did it crash? see its stderr above)");
        }
        words[1..].to_vec()
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn human_ns(ns: f64) -> String {
    if !ns.is_finite() {
        "–".to_owned()
    } else if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn human_count(n: f64) -> String {
    if !n.is_finite() {
        "–".to_owned()
    } else if n >= 1e9 {
        format!("{:.2} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn cells(only: Option<&str>, workloads: Option<&[String]>) -> Vec<Cell> {
    let mut out = Vec::new();
    let wanted = |w: &str| workloads.is_none_or(|ws| ws.iter().any(|x| x == w));
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let on = match only {
            Some("postgres") => backend == Backend::Postgres,
            Some("sqlite") => backend == Backend::Sqlite,
            _ => true,
        };
        if !on {
            continue;
        }
        let mut add = |workload: &'static str, params: &[usize]| {
            if wanted(workload) {
                for &param in params {
                    out.push(Cell { backend, workload, param });
                }
            }
        };
        add("select", &[1, 100, 10_000]);
        add("join", &[1, 1_000]);
        add("insert", &[1, 100, 10_000]);
        if backend == Backend::Postgres {
            add("copy", &[1, 100, 10_000]);
        }
        add("lookups", &[0]);
    }
    out
}

fn contenders(backend: Backend, e2e: &Path, sqlx: &Path) -> Vec<Contender> {
    let c = |column, label, binary: &Path, name| Contender { column, label, binary: binary.to_owned(), name, backend };
    match backend {
        Backend::Postgres => vec![
            c("quarry", "Quarry", e2e, "quarry-pg"),
            c("raw", "tokio-postgres", e2e, "tokio-postgres"),
            c("sqlx", "sqlx", sqlx, "sqlx-pg"),
        ],
        Backend::Sqlite => vec![
            c("quarry", "Quarry", e2e, "quarry-sqlite"),
            c("raw", "tokio-rusqlite", e2e, "tokio-rusqlite"),
            c("rusqlite", "rusqlite (sync)", e2e, "rusqlite"),
            c("sqlx", "sqlx", sqlx, "sqlx-sqlite"),
        ],
    }
}

fn run_setup(e2e: &Path, cfg: &Config, command: &str) {
    let status = Command::new(e2e).args([command, &cfg.pg_url, &cfg.sqlite_path]).status().expect("e2e-bench setup");
    assert!(status.success(), "e2e-bench {command} failed");
}

/// Instructions per operation of `c` on `cell`, counted by callgrind.
fn count_instructions(c: &Contender, cell: &Cell, ops: u64, cfg: &Config) -> Result<f64, String> {
    let dir = cfg.out_dir.join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let stem = format!("{}-{}-{}", c.name, cell.workload, cell.param);
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&format!("{stem}.out")) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let out_file = dir.join(format!("{stem}.out"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&c.binary)
        .args(["callgrind", c.name, c.target(cfg), cell.workload, &cell.param.to_string(), &ops.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running valgrind: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        return Err(format!("callgrind run failed: {}", tail.into_iter().rev().collect::<Vec<_>>().join("\n")));
    }
    // The client request's dump is `<file>.1` (the final dump at exit is `<file>`).
    let dump = dir.join(format!("{stem}.out.1"));
    let text = std::fs::read_to_string(&dump).map_err(|e| format!("reading {}: {e}", dump.display()))?;
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no totals in {}", dump.display()))?;
    Ok(total / ops as f64)
}

struct Results {
    /// Median ns per operation, by (cell, contender name).
    time: HashMap<(Cell, &'static str), f64>,
    /// Instructions per operation.
    instr: HashMap<(Cell, &'static str), f64>,
    iters: HashMap<Cell, u64>,
}

fn ratio(a: Option<&f64>, b: Option<&f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && *b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_owned(),
    }
}

fn table(cells: &[Cell], all: &HashMap<Backend, Vec<Contender>>, r: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "| workload | Quarry | raw driver | rusqlite (sync) | sqlx | Quarry / raw | Quarry / sqlx |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut last = None;
    for cell in cells {
        if last != Some(cell.backend) {
            let raw = if cell.backend == Backend::Postgres { "tokio-postgres" } else { "tokio-rusqlite" };
            s.push_str(&format!("| **{}** (raw = {raw}) | | | | | | |\n", cell.backend.name()));
            last = Some(cell.backend);
        }
        let by_column = |column: &str| all[&cell.backend].iter().find(|c| c.column == column).map(|c| c.name);
        let fig = |column: &str| match by_column(column) {
            Some(name) => {
                let t = r.time.get(&(cell.clone(), name)).copied().unwrap_or(f64::NAN);
                let i = r.instr.get(&(cell.clone(), name)).copied().unwrap_or(f64::NAN);
                format!("{} · {}", human_ns(t), human_count(i))
            }
            None => String::new(),
        };
        let both = |column: &str| {
            let (Some(q), Some(o)) = (by_column("quarry"), by_column(column)) else { return "–".to_owned() };
            let key = |n| (cell.clone(), n);
            format!(
                "{} · {}",
                ratio(r.time.get(&key(q)), r.time.get(&key(o))),
                ratio(r.instr.get(&key(q)), r.instr.get(&key(o)))
            )
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            cell.label(),
            fig("quarry"),
            fig("raw"),
            fig("rusqlite"),
            fig("sqlx"),
            both("raw"),
            both("sqlx"),
        ));
    }
    s.push_str(
        "\nEach figure: median wall-clock time per operation · client instructions per operation (callgrind).\n\
         Ratios: time · instructions.\n",
    );
    s
}

fn main() {
    let quick = env_flag("QUARRY_BENCH_QUICK");
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let benches = here.parent().expect("benches/").to_owned();
    let out_dir = benches.join("target/e2e");
    std::fs::create_dir_all(&out_dir).expect("output directory");
    let cfg = Config {
        pg_url: std::env::var("QUARRY_BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/quarry_bench".to_owned()),
        sqlite_path: out_dir.join("bench.db").display().to_string(),
        rounds: std::env::var("QUARRY_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(if quick {
            5
        } else {
            15
        }),
        sample_target: if quick { Duration::from_millis(25) } else { Duration::from_millis(60) },
        callgrind: std::env::var("QUARRY_BENCH_CALLGRIND").map_or(true, |v| v != "0"),
        callgrind_max_ops: if quick { 20 } else { 100 },
        jobs: std::env::var("QUARRY_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(1),
        out_dir: out_dir.clone(),
        quick,
    };
    let e2e = benches.join("target/release/e2e-bench");
    let sqlx = benches.join("sqlx/target/release/sqlx-bench");
    for bin in [&e2e, &sqlx] {
        assert!(bin.exists(), "{} is missing: build it first (just bench builds both)", bin.display());
    }
    let only = std::env::var("QUARRY_BENCH_ONLY").ok();
    let workloads: Option<Vec<String>> =
        std::env::var("QUARRY_BENCH_WORKLOADS").ok().map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let cells = cells(only.as_deref(), workloads.as_deref());
    let backends: Vec<Backend> = {
        let mut b: Vec<Backend> = cells.iter().map(|c| c.backend).collect();
        b.dedup();
        b
    };
    let all: HashMap<Backend, Vec<Contender>> = backends.iter().map(|b| (*b, contenders(*b, &e2e, &sqlx))).collect();
    let started = Instant::now();
    eprintln!(
        "bench: {} workloads, {} rounds of {} ms samples{}",
        cells.len(),
        cfg.rounds,
        cfg.sample_target.as_millis(),
        if cfg.quick { " (quick)" } else { "" }
    );

    run_setup(&e2e, &cfg, "setup");
    let mut workers: HashMap<&'static str, Worker> = HashMap::new();
    for b in &backends {
        for c in &all[b] {
            workers.insert(c.name, Worker::start(c, &cfg));
        }
    }

    // Every contender must return the same result.
    let mut failures = Vec::new();
    for cell in &cells {
        let mut answers: Vec<(&str, String)> = Vec::new();
        for c in &all[&cell.backend] {
            let w = workers.get_mut(c.name).expect("worker");
            let a = w.ask(&format!("verify {} {}", cell.workload, cell.param));
            answers.push((c.label, a.join(" ")));
        }
        if answers.iter().any(|(_, a)| *a != answers[0].1) {
            failures.push(format!("{} {}: {answers:?}", cell.backend.name(), cell.label()));
        }
    }
    if !failures.is_empty() {
        for w in workers.into_values() {
            w.quit();
        }
        run_setup(&e2e, &cfg, "cleanup");
        eprintln!("contenders disagree:\n{}", failures.join("\n"));
        std::process::exit(1);
    }
    eprintln!("bench: every contender returns the same results ({:.0?})", started.elapsed());

    // Iterations per sample, from the raw driver's speed.
    let mut results = Results { time: HashMap::new(), instr: HashMap::new(), iters: HashMap::new() };
    for cell in &cells {
        let raw = all[&cell.backend].iter().find(|c| c.column == "raw").expect("raw contender");
        let w = workers.get_mut(raw.name).expect("worker");
        let mut iters = 1u64;
        loop {
            let ns: f64 = w.ask(&format!("sample {} {} {iters}", cell.workload, cell.param))[0].parse().expect("ns");
            if ns >= cfg.sample_target.as_nanos() as f64 || iters >= 1 << 20 {
                break;
            }
            let want = (cfg.sample_target.as_nanos() as f64 / (ns / iters as f64)).ceil() as u64;
            iters = want.clamp(iters * 2, iters * 100);
        }
        results.iters.insert(cell.clone(), iters);
    }

    // Interleaved rounds.
    let mut samples: HashMap<(Cell, &'static str), Vec<f64>> = HashMap::new();
    for round in 0..=cfg.rounds {
        for cell in &cells {
            let list = &all[&cell.backend];
            let iters = results.iters[cell];
            for k in 0..list.len() {
                let c = &list[(k + round) % list.len()];
                let w = workers.get_mut(c.name).expect("worker");
                let ns: f64 =
                    w.ask(&format!("sample {} {} {iters}", cell.workload, cell.param))[0].parse().expect("ns");
                // Round 0 warms everything up and is not kept.
                if round > 0 {
                    samples.entry((cell.clone(), c.name)).or_default().push(ns / iters as f64);
                }
            }
        }
        if round > 0 {
            eprintln!("bench: round {round}/{} done ({:.0?})", cfg.rounds, started.elapsed());
        }
    }
    for w in workers.into_values() {
        w.quit();
    }
    let mut raw_lines = String::from("backend\tworkload\tparam\tcontender\titers\tns_per_op samples\n");
    for ((cell, name), v) in &mut samples {
        raw_lines.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            cell.backend.name(),
            cell.workload,
            cell.param,
            name,
            results.iters[cell],
            v.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(" ")
        ));
        let m = median(v);
        results.time.insert((cell.clone(), *name), m);
    }
    std::fs::write(out_dir.join("samples.tsv"), raw_lines).expect("write samples");

    // Instructions per operation, under callgrind, `jobs` at a time.
    if cfg.callgrind {
        let mut queue: Vec<(Cell, Contender, u64)> = Vec::new();
        for cell in &cells {
            let ops = (results.iters[cell] / 4).clamp(1, cfg.callgrind_max_ops);
            for c in &all[&cell.backend] {
                queue.push((cell.clone(), c.clone(), ops));
            }
        }
        // Write workloads run one at a time (a contender's workloads share
        // its insert table); everything else runs `jobs` at a time.
        let total = queue.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let queue = std::sync::Mutex::new(queue);
        let found = std::sync::Mutex::new(HashMap::new());
        let write_lock = std::sync::Mutex::new(());
        std::thread::scope(|s| {
            for _ in 0..cfg.jobs.max(1) {
                s.spawn(|| {
                    loop {
                        let Some((cell, c, ops)) = queue.lock().expect("queue").pop() else { break };
                        let writes = matches!(cell.workload, "insert" | "copy");
                        let _guard = writes.then(|| write_lock.lock().expect("lock"));
                        match count_instructions(&c, &cell, ops, &cfg) {
                            Ok(n) => {
                                found.lock().expect("results").insert((cell.clone(), c.name), n);
                            }
                            Err(e) => eprintln!("bench: callgrind {} {}: {e}", c.label, cell.label()),
                        }
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        eprintln!(
                            "bench: callgrind {n}/{total}: {} {} ({:.0?})",
                            c.label,
                            cell.label(),
                            started.elapsed()
                        );
                    }
                });
            }
        });
        results.instr = found.into_inner().expect("results");
    }
    run_setup(&e2e, &cfg, "cleanup");

    let out = table(&cells, &all, &results);
    let header = format!(
        "{} rounds, samples of ~{} ms (iterations per sample from the raw driver), {} s in all{}\n\n",
        cfg.rounds,
        cfg.sample_target.as_millis(),
        started.elapsed().as_secs(),
        if cfg.quick { ", quick mode" } else { "" }
    );
    std::fs::write(out_dir.join("results.md"), format!("{header}{out}")).expect("write results");
    println!("\n{header}{out}");
    println!("(saved to {})", out_dir.join("results.md").display());
}
