//! Print the latest criterion results as a markdown table: one row per
//! benchmark group and parameter, one column per contender, and Quarry's
//! time as a ratio of the baseline contender's.
//!
//! Usage: `quarry-bench-report <criterion dir> <baseline contender> [contender order...]`
//! Benchmark ids must be `group/contender/parameter` (criterion's
//! `BenchmarkId::new(contender, parameter)` inside a group).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Median point estimate in nanoseconds, from criterion's estimates.json.
fn median_ns(estimates: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(estimates).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("median")?.get("point_estimate")?.as_f64()
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Every `<group>/<contender>/<parameter>/new/estimates.json` under `root`.
fn collect(root: &Path) -> BTreeMap<(String, String), BTreeMap<String, f64>> {
    let mut rows: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(root) else { return rows };
    for group in groups.flatten().filter(|e| e.path().is_dir()) {
        let group_name = group.file_name().to_string_lossy().into_owned();
        if group_name == "report" {
            continue;
        }
        let Ok(contenders) = std::fs::read_dir(group.path()) else { continue };
        for contender in contenders.flatten().filter(|e| e.path().is_dir()) {
            let contender_name = contender.file_name().to_string_lossy().into_owned();
            if contender_name == "report" {
                continue;
            }
            let Ok(params) = std::fs::read_dir(contender.path()) else { continue };
            for param in params.flatten().filter(|e| e.path().is_dir()) {
                let param_name = param.file_name().to_string_lossy().into_owned();
                let estimates: PathBuf = param.path().join("new").join("estimates.json");
                if let Some(ns) = median_ns(&estimates) {
                    rows.entry((group_name.clone(), param_name)).or_default().insert(contender_name.clone(), ns);
                }
            }
        }
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: quarry-bench-report <criterion dir> <baseline> [contenders...]");
        std::process::exit(2);
    };
    let baseline = args.get(1).cloned().unwrap_or_else(|| "raw".to_owned());
    let rows = collect(Path::new(root));
    let mut contenders: Vec<String> = args.iter().skip(2).cloned().collect();
    for found in rows.values().flat_map(|r| r.keys()) {
        if !contenders.contains(found) {
            contenders.push(found.clone());
        }
    }
    print!("| workload | ");
    for c in &contenders {
        print!("{c} | ");
    }
    println!("quarry / {baseline} |");
    print!("|---|");
    for _ in &contenders {
        print!("---:|");
    }
    println!("---:|");
    for ((group, param), times) in &rows {
        print!("| {group} {param} | ");
        for c in &contenders {
            match times.get(c) {
                Some(ns) => print!("{} | ", human(*ns)),
                None => print!("– | "),
            }
        }
        match (times.get("quarry"), times.get(&baseline)) {
            (Some(q), Some(b)) if *b > 0.0 => println!("{:.2} |", q / b),
            _ => println!("– |"),
        }
    }
}
