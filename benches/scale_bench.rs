//! Scale benchmark: `m4 init synthetic --scale F` at several sizes, then typical
//! research queries through the real binary's MCP tools (`execute_query`,
//! `search_items`), to say what to expect on the full MIMIC-IV.
//!
//! For each scale it reports the build's wall and CPU time, rows/s and MB/s of
//! csv.gz loaded, peak memory (`VmHWM` of the `m4 init` process, polled), peak disk
//! of the data folder during the build, the database size, and each query's latency
//! from request written to reply read: the first call after the server started
//! (cold) and the median of the next ones (warm). The data folders are temporary and
//! removed afterwards. It asserts nothing about speed; it fails only if a build fails.
//!
//! Run (sizes are scale factors; 600 is about 32 million chartevents rows):
//!
//! ```text
//! cargo build --release --bench scale_bench
//! M4_SCALE_BENCH_SIZES=20,120,600 M4_SCALE_BENCH_DIR=$HOME/.cache/m4-scale \
//!     $(ls target/release/deps/scale_bench-* | grep -v '\.d$') --bench
//! ```
//!
//! (Built with `--release` so that it reuses the compiled DuckDB; see `m4_bench`.)
//!
//! `M4_SCALE_BENCH_SIZES` defaults to `1,5,20` (a minute); `M4_SCALE_BENCH_DIR` to the
//! system temporary folder; `M4_SCALE_BENCH_RUNS` (default 5) is the warm runs per query.
//! Linux only for memory (`/proc`); elsewhere memory shows as `-`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{McpChild, m4_command};

/// What a research session typically asks, by name: (name, tool, arguments).
fn queries() -> Vec<(&'static str, &'static str, Value)> {
    let sql = |text: &str| json!({ "sql_query": text });
    vec![
        (
            "stays by care unit",
            "execute_query",
            sql(
                "SELECT first_careunit, count(*) AS stays, round(avg(los), 2) AS mean_los_days \
                 FROM mimiciv_icu.icustays GROUP BY first_careunit ORDER BY stays DESC",
            ),
        ),
        (
            "first-day labs joined to stays",
            "execute_query",
            sql(
                "SELECT d.label, count(DISTINCT i.stay_id) AS stays, round(avg(l.valuenum), 2) AS mean, \
                 round(median(l.valuenum), 2) AS median \
                 FROM mimiciv_icu.icustays i \
                 JOIN mimiciv_hosp.labevents l ON l.hadm_id = i.hadm_id \
                   AND l.charttime >= i.intime - INTERVAL 6 HOUR AND l.charttime < i.intime + INTERVAL 1 DAY \
                 JOIN mimiciv_hosp.d_labitems d ON d.itemid = l.itemid \
                 GROUP BY d.label ORDER BY d.label",
            ),
        ),
        (
            "window over cohort's heart rate",
            "execute_query",
            sql(
                "WITH cohort AS (SELECT i.stay_id FROM mimiciv_icu.icustays i \
                   JOIN mimiciv_hosp.patients p ON p.subject_id = i.subject_id \
                   WHERE i.first_careunit LIKE '%MICU%' AND p.anchor_age >= 65), \
                 hr AS (SELECT c.stay_id, avg(c.valuenum) OVER (PARTITION BY c.stay_id ORDER BY c.charttime \
                   ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS hr3 \
                   FROM mimiciv_icu.chartevents c JOIN cohort USING (stay_id) WHERE c.itemid = 220045) \
                 SELECT count(DISTINCT stay_id) AS stays, count(*) AS readings, \
                   count(DISTINCT stay_id) FILTER (WHERE hr3 > 100) AS stays_with_sustained_tachycardia FROM hr",
            ),
        ),
        (
            "one stay's chart timeline",
            "execute_query",
            sql(
                "SELECT charttime, itemid, value, valuenum FROM mimiciv_icu.chartevents \
                 WHERE stay_id = 93000050 ORDER BY charttime, itemid LIMIT 50",
            ),
        ),
        (
            "search_items(\"heart rate\")",
            "search_items",
            json!({ "query": "heart rate" }),
        ),
        (
            "first-day SOFA by care unit",
            "execute_query",
            sql(
                "SELECT i.first_careunit, count(*) AS stays, round(avg(s.sofa), 2) AS mean_sofa, \
                 count(*) FILTER (WHERE s.sofa >= 2) AS sofa_2_plus \
                 FROM mimiciv_derived.first_day_sofa s JOIN mimiciv_icu.icustays i USING (stay_id) \
                 GROUP BY 1 ORDER BY 1",
            ),
        ),
        (
            "chartevents by item (full scan)",
            "execute_query",
            sql(
                "SELECT itemid, count(*) AS n, round(avg(valuenum), 1) AS mean \
                 FROM mimiciv_icu.chartevents GROUP BY itemid ORDER BY itemid",
            ),
        ),
    ]
}

/// Figures of one `m4 init synthetic --scale F`.
#[derive(Debug, Default)]
struct Build {
    scale: String,
    patients: u64,
    chartevents: u64,
    labevents: u64,
    /// Rows over every table loaded.
    rows: u64,
    csv_gz_bytes: f64,
    generate_s: f64,
    load_s: f64,
    derived_s: f64,
    derived_rows: u64,
    wall_s: f64,
    cpu_s: Option<f64>,
    peak_rss_kib: Option<u64>,
    /// Largest sampled `VmRSS` in each phase: generating files, loading tables, building concepts.
    phase_rss_kib: [u64; 3],
    peak_disk_bytes: u64,
    database_bytes: u64,
}

/// One query's latencies at one scale, or the error it gave.
type Latency = Result<(Duration, Duration), String>;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run only under bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sizes: Vec<String> = std::env::var("M4_SCALE_BENCH_SIZES")
        .unwrap_or_else(|_| "1,5,20".to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let parent = std::env::var_os("M4_SCALE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    fs::create_dir_all(&parent).expect("create M4_SCALE_BENCH_DIR");
    let runs: usize = std::env::var("M4_SCALE_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let queries = queries();
    let mut builds = Vec::new();
    let mut latencies: Vec<Vec<Latency>> = Vec::new();
    for scale in &sizes {
        let data = tempfile::Builder::new()
            .prefix("m4-scale-bench-")
            .tempdir_in(&parent)
            .expect("tempdir");
        println!("== scale {scale} in {}", data.path().display());
        let build = init(data.path(), scale);
        print_build(&build);
        let measured = measure_queries(data.path(), &queries, runs);
        for ((name, _, _), latency) in queries.iter().zip(&measured) {
            println!("  {name:<34} {}", show_latency(latency));
        }
        builds.push(build);
        latencies.push(measured);
        // The data folder goes here, before the next (larger) size is built.
        drop(data);
    }
    print_summary(&builds, &queries, &latencies);
}

/// Runs `m4 init synthetic --scale F`, polling its memory and the folder's size.
fn init(data_dir: &Path, scale: &str) -> Build {
    let log = data_dir.join("init.log");
    let mut child = m4_command(data_dir)
        .args(["init", "synthetic", "--scale", scale])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start m4 init");
    let started = Instant::now();
    let pid = child.id();
    let (mut peak_rss, mut cpu, mut peak_disk) = (None, None, 0);
    let mut phase_rss = [0; 3];
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for m4 init") {
            break status;
        }
        peak_rss = proc_field(pid, "VmHWM:").or(peak_rss);
        if let (Some(rss), Some(phase)) = (
            proc_field(pid, "VmRSS:"),
            phase(&fs::read_to_string(&log).unwrap_or_default()),
        ) {
            phase_rss[phase] = phase_rss[phase].max(rss);
        }
        cpu = cpu_seconds(pid).or(cpu);
        peak_disk = peak_disk.max(folder_size(data_dir));
        std::thread::sleep(Duration::from_millis(200));
    };
    let wall_s = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "m4 init synthetic --scale {scale} failed:\n{text}"
    );
    let mut build = parse_log(&text);
    build.scale = scale.to_string();
    build.wall_s = wall_s;
    build.cpu_s = cpu;
    build.peak_rss_kib = peak_rss;
    build.phase_rss_kib = phase_rss;
    build.peak_disk_bytes = peak_disk;
    build.database_bytes = fs::metadata(data_dir.join("synthetic.duckdb"))
        .map(|m| m.len())
        .unwrap_or(0);
    build
}

/// Which phase a build is in, from what it has printed so far: 0 generating the
/// csv.gz files, 1 loading them, 2 building `mimiciv_derived`; `None` when finishing.
fn phase(log: &str) -> Option<usize> {
    if log.contains("\nderived: ") {
        None
    } else if log.contains("built mimiciv_derived.") {
        Some(2)
    } else if log.contains("\ngenerated ") {
        Some(1)
    } else {
        Some(0)
    }
}

/// Reads the figures `m4 init` prints on stderr.
fn parse_log(text: &str) -> Build {
    let mut build = Build::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("generating SYNTHETIC data (scale ") {
            build.patients = number_after(rest, ": ").unwrap_or(0.0) as u64;
        } else if let Some(rest) = line.strip_prefix("generated ") {
            // "generated 1,884,172 rows, 33.7 MB of csv.gz (10.1 s)"
            let mut words = rest.split_whitespace();
            let _rows = words.next();
            let _ = words.next();
            let size: f64 = words.next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
            let unit = words.next().unwrap_or("B");
            build.csv_gz_bytes = size * unit_bytes(unit);
            build.generate_s = seconds_in_parens(rest);
        } else if let Some(rest) = line.strip_prefix("loaded ") {
            // "loaded mimiciv_icu.chartevents: 1,081,283 rows (3.5 s)"
            let rows = number_after(rest, ": ").unwrap_or(0.0) as u64;
            build.rows += rows;
            build.load_s += seconds_in_parens(rest);
            if rest.starts_with("mimiciv_icu.chartevents:") {
                build.chartevents = rows;
            } else if rest.starts_with("mimiciv_hosp.labevents:") {
                build.labevents = rows;
            }
        } else if let Some(rest) = line.strip_prefix("derived: ") {
            // "derived: 63 of 63 concepts built in `mimiciv_derived` (1,477,864 rows, 16.4 s)"
            if let Some(inner) = rest.rsplit_once('(').map(|(_, inner)| inner) {
                build.derived_rows = leading_number(inner).unwrap_or(0.0) as u64;
                build.derived_s = inner
                    .rsplit_once(", ")
                    .and_then(|(_, s)| leading_number(s))
                    .unwrap_or(0.0);
            }
        }
    }
    build
}

fn unit_bytes(unit: &str) -> f64 {
    match unit {
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    }
}

/// The number (with thousands commas) that starts `text`.
fn leading_number(text: &str) -> Option<f64> {
    let digits: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

fn number_after(text: &str, marker: &str) -> Option<f64> {
    text.split_once(marker)
        .and_then(|(_, rest)| leading_number(rest))
}

/// `... (3.5 s)` → 3.5.
fn seconds_in_parens(text: &str) -> f64 {
    text.rsplit_once('(')
        .and_then(|(_, inner)| leading_number(inner))
        .unwrap_or(0.0)
}

/// A `kB` field of `/proc/<pid>/status`.
fn proc_field(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds of a running process (clock ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => folder_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Each query once cold (first call after the server started), then `runs` times warm.
fn measure_queries(
    data_dir: &Path,
    queries: &[(&'static str, &'static str, Value)],
    runs: usize,
) -> Vec<Latency> {
    let mut server = McpChild::spawn(data_dir, &[("M4_DATASET", "synthetic")]);
    server.initialize();
    // Opens the database; not counted.
    server.call_tool("execute_query", json!({ "sql_query": "SELECT 1" }));
    let timed = |server: &mut McpChild, tool: &str, args: &Value| {
        let started = Instant::now();
        let result = server.call_tool(tool, args.clone());
        let elapsed = started.elapsed();
        if common::is_tool_error(&result) {
            Err(common::tool_text(&result)
                .lines()
                .next()
                .unwrap_or("")
                .to_string())
        } else {
            Ok(elapsed)
        }
    };
    let mut out = Vec::new();
    for (_, tool, args) in queries {
        let cold = match timed(&mut server, tool, args) {
            Ok(cold) => cold,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let mut warm = Vec::with_capacity(runs);
        let mut failed = None;
        for _ in 0..runs {
            match timed(&mut server, tool, args) {
                Ok(d) => warm.push(d),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => out.push(Err(e)),
            None => {
                warm.sort();
                out.push(Ok((cold, warm[warm.len() / 2])));
            }
        }
    }
    if let Some(kib) = proc_field(server.pid(), "VmHWM:") {
        println!(
            "  server peak RSS after the queries: {:.0} MiB",
            kib as f64 / 1024.0
        );
    }
    server.close();
    out
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

fn show_latency(latency: &Latency) -> String {
    match latency {
        Ok((cold, warm)) => format!("cold {} ms, warm {} ms", ms(*cold), ms(*warm)),
        Err(e) => format!("error: {e}"),
    }
}

fn mib(bytes: f64) -> String {
    format!("{:.0} MiB", bytes / (1024.0 * 1024.0))
}

fn print_build(b: &Build) {
    println!(
        "  {} patients; {} rows ({} chartevents, {} labevents); {} of csv.gz",
        b.patients,
        b.rows,
        b.chartevents,
        b.labevents,
        mib(b.csv_gz_bytes)
    );
    println!(
        "  init {:.1} s wall ({} CPU): generate {:.1} s, load {:.1} s ({:.0} rows/s, {:.1} MB/s of csv.gz), derived {:.1} s ({} rows)",
        b.wall_s,
        b.cpu_s
            .map(|s| format!("{s:.0} s"))
            .unwrap_or_else(|| "-".into()),
        b.generate_s,
        b.load_s,
        b.rows as f64 / b.load_s.max(1e-9),
        b.csv_gz_bytes / 1e6 / b.load_s.max(1e-9),
        b.derived_s,
        b.derived_rows
    );
    println!(
        "  init peak RSS {} (generate {}, load {}, derived {}); peak disk {}; database {}",
        b.peak_rss_kib
            .map(|k| mib(k as f64 * 1024.0))
            .unwrap_or_else(|| "-".into()),
        mib(b.phase_rss_kib[0] as f64 * 1024.0),
        mib(b.phase_rss_kib[1] as f64 * 1024.0),
        mib(b.phase_rss_kib[2] as f64 * 1024.0),
        mib(b.peak_disk_bytes as f64),
        mib(b.database_bytes as f64)
    );
}

/// Markdown tables for the README, one column per scale.
fn print_summary(builds: &[Build], queries: &[(&str, &str, Value)], latencies: &[Vec<Latency>]) {
    println!();
    let header: Vec<String> = builds
        .iter()
        .map(|b| format!("scale {}", b.scale))
        .collect();
    println!("| | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(builds.len()));
    let row = |name: &str, cell: &dyn Fn(&Build) -> String| {
        let cells: Vec<String> = builds.iter().map(cell).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    let thousands = |n: u64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        out
    };
    row("patients", &|b| thousands(b.patients));
    row("chartevents rows", &|b| thousands(b.chartevents));
    row("labevents rows", &|b| thousands(b.labevents));
    row("rows, all tables", &|b| thousands(b.rows));
    row("csv.gz generated", &|b| mib(b.csv_gz_bytes));
    row("generate (s)", &|b| format!("{:.0}", b.generate_s));
    row("load tables (s)", &|b| format!("{:.0}", b.load_s));
    row("load rows/s", &|b| {
        thousands((b.rows as f64 / b.load_s.max(1e-9)) as u64)
    });
    row("load MB/s of csv.gz", &|b| {
        format!("{:.1}", b.csv_gz_bytes / 1e6 / b.load_s.max(1e-9))
    });
    row("derived concepts (s)", &|b| format!("{:.0}", b.derived_s));
    row("`m4 init` total, wall (s)", &|b| format!("{:.0}", b.wall_s));
    row("`m4 init` CPU (s)", &|b| {
        b.cpu_s
            .map(|s| format!("{s:.0}"))
            .unwrap_or_else(|| "-".into())
    });
    row("`m4 init` peak RSS", &|b| {
        b.peak_rss_kib
            .map(|k| mib(k as f64 * 1024.0))
            .unwrap_or_else(|| "-".into())
    });
    for (i, phase) in ["generating", "loading", "derived concepts"]
        .iter()
        .enumerate()
    {
        row(&format!("peak RSS while {phase}"), &|b| {
            mib(b.phase_rss_kib[i] as f64 * 1024.0)
        });
    }
    row("peak disk during init", &|b| mib(b.peak_disk_bytes as f64));
    row("database size", &|b| mib(b.database_bytes as f64));
    println!();
    println!(
        "| query (cold / warm median, ms) | {} |",
        header.join(" | ")
    );
    println!("|---|{}", "---:|".repeat(builds.len()));
    for (i, (name, _, _)) in queries.iter().enumerate() {
        let cells: Vec<String> = latencies
            .iter()
            .map(|per_scale| match &per_scale[i] {
                Ok((cold, warm)) => format!("{} / {}", ms(*cold), ms(*warm)),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}
