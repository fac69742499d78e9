//! Data sets through the real binary: `m4 init` (local source, download, synthetic),
//! `m4 status`, and what the built databases contain.
//!
//! The real MIMIC-IV demo is read in place from `M4_TEST_DEMO_DIR`; its README's row
//! counts are the independent truth the load must reproduce. Copies of a few demo
//! files are made in temporary folders only (altered, truncated or served over HTTP).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duckdb::Connection;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::{
    build_data_set, count, demo, demo_source_dir, m4_command, open_read_only, synthetic,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `m4 init mimic-iv-demo --src SRC` with its data in `data_dir`.
fn init_demo_from(data_dir: &Path, src: &Path) -> Output {
    run(m4_command(data_dir)
        .args(["init", "mimic-iv-demo", "--src"])
        .arg(src))
}

/// A failed or finished build must leave no temporary file behind.
fn assert_nothing_left(data_dir: &Path) {
    let left = leftovers(data_dir);
    assert!(left.is_empty(), "{left:?}");
}

/// `m4 init DATASET --src SRC` into a fresh data folder must fail with exit status
/// 2 and a message containing every one of `needles`, build no database and leave
/// nothing behind. Returns the message.
fn assert_init_fails(dataset: &str, src: &Path, needles: &[&str]) -> String {
    let data = tempfile::tempdir().expect("tempdir");
    let output = run(m4_command(data.path())
        .args(["init", dataset, "--src"])
        .arg(src));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
    assert!(!data.path().join(format!("{dataset}.duckdb")).exists());
    assert_nothing_left(data.path());
    err
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("m4 runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Row counts from the demo's README table: `hosp/admissions` → `Some(275)`;
/// a table the README marks absent → `None`.
fn readme_counts(demo: &Path) -> BTreeMap<String, Option<u64>> {
    let text = fs::read_to_string(demo.join("README.md")).expect("demo README.md");
    let mut counts = BTreeMap::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for pair in cells.windows(2) {
            let name = pair[0].trim_matches(['(', ')']);
            if !(name.starts_with("hosp/") || name.starts_with("icu/")) {
                continue;
            }
            let absent = pair[0].starts_with('(') || pair[1].contains("absent");
            let rows = pair[1]
                .split_whitespace()
                .next()
                .and_then(|n| n.replace(',', "").parse::<u64>().ok());
            counts.insert(name.to_string(), if absent { None } else { rows });
        }
    }
    assert!(counts.len() >= 30, "README table parsed: {counts:?}");
    counts
}

fn readme_count(demo: &Path, table: &str) -> u64 {
    readme_counts(demo)
        .get(table)
        .copied()
        .flatten()
        .unwrap_or_else(|| panic!("README lists `{table}`"))
}

fn schema_of(relative: &str) -> (&'static str, String) {
    let (module, table) = relative.split_once('/').expect("module/table");
    let schema = if module == "hosp" {
        "mimiciv_hosp"
    } else {
        "mimiciv_icu"
    };
    (schema, table.to_string())
}

/// Files whose name ends in `.tmp`, `.wal` or `.part`, and build folders
/// (`.<name>.build-XXXXXX`), anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.to_string_lossy().to_string();
        let file_name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".tmp")
            || name.ends_with(".wal")
            || name.ends_with(".part")
            || file_name.contains(".build-")
        {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(leftovers(&path));
        }
    }
    found
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Copies `files` (`hosp/patients.csv.gz`, ...) from the demo into a new folder.
fn demo_subset(demo: &Path, files: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in files {
        let target = dir.path().join(file);
        fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        fs::copy(demo.join(file), &target).expect("copy demo file");
    }
    dir
}

/// Writes a `SHA256SUMS.txt` for `files` under `root`, hashing their current bytes.
fn write_sums(root: &Path, files: &[&str]) {
    let lines: Vec<String> = files
        .iter()
        .map(|f| {
            let bytes = fs::read(root.join(f)).expect("read");
            format!("{} {f}\n", sha256_hex(&bytes))
        })
        .collect();
    fs::write(root.join("SHA256SUMS.txt"), lines.concat()).expect("write sums");
}

// ---------------------------------------------------------------------------
// The real demo, loaded once per test binary
// ---------------------------------------------------------------------------

#[test]
fn demo_load_reproduces_every_row_count_in_the_readme() {
    let Some((loaded, demo)) = demo("demo_load_reproduces_every_row_count_in_the_readme") else {
        return;
    };
    let conn = open_read_only(&loaded.database);
    let counts = readme_counts(&demo);
    let mut checked = 0;
    for (table, rows) in &counts {
        let (schema, name) = schema_of(table);
        let Some(rows) = rows else { continue };
        let actual = count(&conn, &format!("SELECT count(*) FROM {schema}.{name}"));
        assert_eq!(actual as u64, *rows, "{schema}.{name}");
        let recorded = count(
            &conn,
            &format!(
                "SELECT row_count FROM m4_meta.tables WHERE schema_name = '{schema}' AND table_name = '{name}' AND present"
            ),
        );
        assert_eq!(recorded as u64, *rows, "m4_meta.tables for {schema}.{name}");
        checked += 1;
    }
    assert_eq!(checked, 30);
}

#[test]
fn demo_has_its_known_patients_admissions_and_icu_stays() {
    let Some((loaded, _)) = demo("demo_has_its_known_patients_admissions_and_icu_stays") else {
        return;
    };
    let conn = open_read_only(&loaded.database);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients"),
        100
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.admissions"),
        275
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_icu.icustays"),
        140
    );
    // Typed columns, not text: date arithmetic and numeric filters work.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_hosp.admissions WHERE dischtime - admittime < INTERVAL 0 SECOND"
        ),
        0
    );
    let synthetic: bool = conn
        .query_row("SELECT synthetic FROM m4_meta.dataset", [], |r| r.get(0))
        .expect("m4_meta.dataset");
    assert!(!synthetic);
}

#[test]
fn demo_columns_follow_the_registry_ddl() {
    let Some((loaded, _)) = demo("demo_columns_follow_the_registry_ddl") else {
        return;
    };
    let conn = open_read_only(&loaded.database);
    assert_columns_follow_registry(&conn, &["mimiciv_icu.chartevents"]);
}

#[test]
fn demo_init_and_status_name_the_missing_chartevents() {
    let Some((loaded, _)) = demo("demo_init_and_status_name_the_missing_chartevents") else {
        return;
    };
    assert!(
        stderr(&loaded.init).contains("mimiciv_icu.chartevents"),
        "init output names the missing table: {}",
        stderr(&loaded.init)
    );
    let conn = open_read_only(&loaded.database);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM m4_meta.tables WHERE NOT present AND table_name = 'chartevents'"
        ),
        1
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM m4_meta.tables"), 31);
    drop(conn);

    let status = run(m4_command(&loaded.data_dir).arg("status"));
    assert!(status.status.success(), "{}", stderr(&status));
    let out = stdout(&status);
    assert!(out.contains("mimic-iv-demo: initialised"), "{out}");
    assert!(
        out.contains("missing tables: mimiciv_icu.chartevents"),
        "{out}"
    );
    assert!(out.contains("30 of 31 loaded"), "{out}");
    assert!(out.contains("mimic-iv: not initialised"), "{out}");
}

#[test]
fn query_command_counts_demo_admissions() {
    let Some((loaded, demo)) = demo("query_command_counts_demo_admissions") else {
        return;
    };
    let expected = readme_count(&demo, "hosp/admissions");
    let output = run(m4_command(&loaded.data_dir)
        .args(["--dataset", "mimic-iv-demo", "query"])
        .arg("select count(*) from mimiciv_hosp.admissions"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&expected.to_string()),
        "{}",
        stdout(&output)
    );
}

// ---------------------------------------------------------------------------
// Synthetic
// ---------------------------------------------------------------------------

/// A hash of every table's rows in a fixed order.
fn table_hashes(conn: &Connection) -> BTreeMap<String, (i64, String)> {
    let mut hashes = BTreeMap::new();
    for table in m4::datasets::schema::tables() {
        let name = table.qualified_name();
        let (rows, hash) = conn
            .query_row(
                &format!(
                    "SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)), '')) FROM {name} t"
                ),
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .unwrap_or_else(|e| panic!("hash {name}: {e}"));
        hashes.insert(name, (rows, hash));
    }
    hashes
}

#[test]
fn synthetic_generation_is_deterministic() {
    let first = synthetic();
    let second = build_data_set("synthetic", &[]);
    let a = table_hashes(&open_read_only(&first.database));
    let b = table_hashes(&open_read_only(&second.database));
    assert_eq!(a, b);
    assert!(a.values().filter(|(rows, _)| *rows > 0).count() >= 10);
}

#[test]
fn synthetic_has_every_table_with_the_registry_columns_and_types() {
    let conn = open_read_only(&synthetic().database);
    assert_columns_follow_registry(&conn, &[]);
    for required in [
        "mimiciv_hosp.patients",
        "mimiciv_hosp.admissions",
        "mimiciv_icu.icustays",
        "mimiciv_hosp.labevents",
        "mimiciv_hosp.d_labitems",
        "mimiciv_icu.chartevents",
        "mimiciv_icu.d_items",
        "mimiciv_hosp.diagnoses_icd",
        "mimiciv_hosp.d_icd_diagnoses",
        "mimiciv_hosp.prescriptions",
    ] {
        assert!(
            count(&conn, &format!("SELECT count(*) FROM {required}")) > 0,
            "{required} has rows"
        );
    }
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients"),
        100
    );
}

/// Counts that are 0 when a synthetic set keeps MIMIC-IV's referential integrity and key uniqueness.
pub(crate) const SYNTHETIC_INTEGRITY: &[&str] = &[
    "SELECT count(*) FROM mimiciv_hosp.admissions a WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.patients p WHERE p.subject_id = a.subject_id)",
    "SELECT count(*) FROM mimiciv_icu.icustays i WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = i.hadm_id AND a.subject_id = i.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.labevents l WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = l.hadm_id AND a.subject_id = l.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.labevents l WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.d_labitems d WHERE d.itemid = l.itemid)",
    "SELECT count(*) FROM mimiciv_icu.chartevents c WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.icustays i WHERE i.stay_id = c.stay_id AND i.hadm_id = c.hadm_id AND i.subject_id = c.subject_id)",
    "SELECT count(*) FROM mimiciv_icu.chartevents c WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.d_items d WHERE d.itemid = c.itemid)",
    "SELECT count(*) FROM mimiciv_icu.chartevents c WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.caregiver g WHERE g.caregiver_id = c.caregiver_id)",
    "SELECT count(*) FROM mimiciv_hosp.diagnoses_icd d WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = d.hadm_id AND a.subject_id = d.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.diagnoses_icd d WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.d_icd_diagnoses c WHERE c.icd_code = d.icd_code AND c.icd_version = d.icd_version)",
    "SELECT count(*) FROM mimiciv_hosp.prescriptions r WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = r.hadm_id AND a.subject_id = r.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.admissions a WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.provider p WHERE p.provider_id = a.admit_provider_id)",
    "SELECT count(*) FROM mimiciv_hosp.transfers t WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = t.hadm_id AND a.subject_id = t.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.microbiologyevents m WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = m.hadm_id AND a.subject_id = m.subject_id)",
    "SELECT count(*) FROM mimiciv_hosp.services s WHERE NOT EXISTS (SELECT 1 FROM mimiciv_hosp.admissions a WHERE a.hadm_id = s.hadm_id AND a.subject_id = s.subject_id)",
    "SELECT count(*) FROM mimiciv_icu.inputevents e WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.icustays i WHERE i.stay_id = e.stay_id AND i.hadm_id = e.hadm_id)",
    "SELECT count(*) FROM mimiciv_icu.outputevents e WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.icustays i WHERE i.stay_id = e.stay_id AND i.hadm_id = e.hadm_id)",
    "SELECT count(*) FROM mimiciv_icu.procedureevents e WHERE NOT EXISTS (SELECT 1 FROM mimiciv_icu.icustays i WHERE i.stay_id = e.stay_id AND i.hadm_id = e.hadm_id)",
    // Keys are unique where MIMIC's are.
    "SELECT count(*) - count(DISTINCT subject_id) FROM mimiciv_hosp.patients",
    "SELECT count(*) - count(DISTINCT transfer_id) FROM mimiciv_hosp.transfers",
    "SELECT count(*) - count(DISTINCT pharmacy_id) FROM mimiciv_hosp.prescriptions",
    "SELECT count(*) - count(DISTINCT microevent_id) FROM mimiciv_hosp.microbiologyevents",
    "SELECT count(*) - count(DISTINCT hadm_id) FROM mimiciv_hosp.admissions",
    "SELECT count(*) - count(DISTINCT stay_id) FROM mimiciv_icu.icustays",
    "SELECT count(*) - count(DISTINCT labevent_id) FROM mimiciv_hosp.labevents",
];

#[test]
fn synthetic_keeps_referential_integrity() {
    let conn = open_read_only(&synthetic().database);
    for sql in SYNTHETIC_INTEGRITY {
        assert_eq!(count(&conn, sql), 0, "{sql}");
    }
}

#[test]
fn synthetic_values_are_plausible() {
    let conn = open_read_only(&synthetic().database);
    let violations = [
        "SELECT count(*) FROM mimiciv_hosp.patients WHERE anchor_age NOT BETWEEN 18 AND 91 OR gender NOT IN ('F', 'M')",
        "SELECT count(*) FROM mimiciv_hosp.admissions WHERE NOT admittime < dischtime",
        "SELECT count(*) FROM mimiciv_hosp.admissions WHERE deathtime IS NOT NULL AND hospital_expire_flag <> 1",
        "SELECT count(*) FROM mimiciv_icu.icustays i JOIN mimiciv_hosp.admissions a USING (hadm_id) WHERE NOT (i.intime < i.outtime AND i.intime >= a.admittime AND i.outtime <= a.dischtime)",
        "SELECT count(*) FROM mimiciv_icu.icustays WHERE abs(los - epoch(outtime - intime) / 86400.0) > 0.001",
        "SELECT count(*) FROM mimiciv_hosp.labevents l JOIN mimiciv_hosp.admissions a USING (hadm_id) WHERE l.charttime NOT BETWEEN a.admittime AND a.dischtime",
        "SELECT count(*) FROM mimiciv_icu.chartevents c JOIN mimiciv_icu.icustays i USING (stay_id) WHERE c.charttime NOT BETWEEN i.intime AND i.outtime",
        "SELECT count(*) FROM mimiciv_hosp.prescriptions r JOIN mimiciv_hosp.admissions a USING (hadm_id) WHERE NOT (r.starttime >= a.admittime AND r.starttime < r.stoptime AND r.stoptime <= a.dischtime)",
        // Clinical ranges: sodium, potassium, hemoglobin; heart rate, SpO2, temperature.
        "SELECT count(*) FROM mimiciv_hosp.labevents l JOIN mimiciv_hosp.d_labitems d USING (itemid) WHERE (d.label = 'Sodium' AND l.valuenum NOT BETWEEN 110 AND 170) OR (d.label = 'Potassium' AND l.valuenum NOT BETWEEN 2 AND 8) OR (d.label = 'Hemoglobin' AND l.valuenum NOT BETWEEN 3 AND 22)",
        "SELECT count(*) FROM mimiciv_icu.chartevents c JOIN mimiciv_icu.d_items d USING (itemid) WHERE (d.label = 'Heart Rate' AND c.valuenum NOT BETWEEN 20 AND 250) OR (d.label LIKE 'O2 saturation%' AND c.valuenum NOT BETWEEN 50 AND 100) OR (d.label = 'Temperature Fahrenheit' AND c.valuenum NOT BETWEEN 90 AND 110)",
        // Text-only results (a blood gas's specimen type, 52033) have no valuenum, as in MIMIC.
        "SELECT count(*) FROM mimiciv_hosp.labevents WHERE valuenum IS NULL AND itemid <> 52033",
    ];
    for sql in violations {
        assert_eq!(count(&conn, sql), 0, "{sql}");
    }
    // Ranges are spread, not constant.
    assert!(
        count(
            &conn,
            "SELECT count(DISTINCT valuenum) FROM mimiciv_hosp.labevents l JOIN mimiciv_hosp.d_labitems d USING (itemid) WHERE d.label = 'Sodium'"
        ) > 10
    );
}

#[test]
fn synthetic_is_labelled_synthetic_everywhere() {
    let built = synthetic();
    assert!(
        stderr(&built.init).contains("SYNTHETIC"),
        "{}",
        stderr(&built.init)
    );
    let conn = open_read_only(&built.database);
    let (synthetic, source): (bool, String) = conn
        .query_row("SELECT synthetic, source FROM m4_meta.dataset", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("m4_meta.dataset");
    assert!(synthetic);
    assert!(source.contains("SYNTHETIC"), "{source}");
    drop(conn);
    let status = run(m4_command(&built.data_dir).arg("status"));
    let out = stdout(&status);
    assert!(out.contains("synthetic: initialised"), "{out}");
    assert!(
        out.contains("SYNTHETIC data generated by m4, not real patient data"),
        "{out}"
    );
    assert_nothing_left(&built.data_dir);
    assert!(
        !built.data_dir.join("downloads/synthetic").exists(),
        "the generator's scratch files are removed"
    );
}

fn assert_columns_follow_registry(conn: &Connection, absent: &[&str]) {
    for table in m4::datasets::schema::tables() {
        let name = table.qualified_name();
        let mut statement = conn
            .prepare(
                "SELECT column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            )
            .expect("prepare");
        let columns: Vec<(String, String)> = statement
            .query_map([table.schema(), table.name], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        if absent.contains(&name.as_str()) {
            assert!(columns.is_empty(), "{name} should be absent");
            continue;
        }
        let expected: Vec<(String, String)> = table
            .columns
            .iter()
            .map(|c| (c.name.to_string(), c.sql_type.to_string()))
            .collect();
        assert_eq!(columns, expected, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Failures: checksums, truncation, missing tables, bad headers
// ---------------------------------------------------------------------------

const SMALL: [&str; 3] = [
    "hosp/patients.csv.gz",
    "hosp/admissions.csv.gz",
    "icu/icustays.csv.gz",
];

#[test]
fn checksum_mismatch_fails_naming_the_file() {
    let Some(demo) = demo_source_dir("checksum_mismatch_fails_naming_the_file") else {
        return;
    };
    let src = demo_subset(&demo, &SMALL);
    write_sums(src.path(), &SMALL);
    let mut altered = fs::read(src.path().join("hosp/admissions.csv.gz")).expect("read");
    altered.extend_from_slice(b"tampered");
    fs::write(src.path().join("hosp/admissions.csv.gz"), altered).expect("write");
    assert_init_fails(
        "mimic-iv-demo",
        src.path(),
        &["admissions.csv.gz", "does not match its checksum", "hint:"],
    );
}

#[test]
fn truncated_gzip_fails_naming_the_file() {
    let Some(demo) = demo_source_dir("truncated_gzip_fails_naming_the_file") else {
        return;
    };
    let src = demo_subset(&demo, &["hosp/patients.csv.gz", "hosp/labevents.csv.gz"]);
    let path = src.path().join("hosp/labevents.csv.gz");
    let bytes = fs::read(&path).expect("read");
    fs::write(&path, &bytes[..bytes.len() / 3]).expect("truncate");
    assert_init_fails("mimic-iv-demo", src.path(), &["labevents.csv.gz", "hint:"]);
}

#[test]
fn failed_init_leaves_the_earlier_database_untouched() {
    let Some(demo) = demo_source_dir("failed_init_leaves_the_earlier_database_untouched") else {
        return;
    };
    let data = tempfile::tempdir().expect("tempdir");
    let good = demo_subset(&demo, &SMALL);
    let output = init_demo_from(data.path(), good.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let database = data.path().join("mimic-iv-demo.duckdb");
    let before = fs::read(&database).expect("database written");

    // A bad source: admissions truncated mid-stream, loaded after patients.
    let bad = demo_subset(&demo, &SMALL);
    let path = bad.path().join("hosp/admissions.csv.gz");
    let bytes = fs::read(&path).expect("read");
    fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let output = init_demo_from(data.path(), bad.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    assert_eq!(fs::read(&database).expect("still there"), before);
    let conn = open_read_only(&database);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.admissions") as u64,
        readme_count(&demo, "hosp/admissions")
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_icu.icustays") as u64,
        readme_count(&demo, "icu/icustays")
    );
    drop(conn);
    assert_nothing_left(data.path());
}

#[test]
fn missing_tables_are_named_and_the_rest_loads() {
    let Some(demo) = demo_source_dir("missing_tables_are_named_and_the_rest_loads") else {
        return;
    };
    let src = demo_subset(&demo, &SMALL);
    write_sums(src.path(), &SMALL);
    let data = tempfile::tempdir().expect("tempdir");
    let output = init_demo_from(data.path(), src.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("3 of 31 tables loaded"), "{err}");
    for missing in [
        "mimiciv_hosp.labevents",
        "mimiciv_icu.chartevents",
        "mimiciv_hosp.d_labitems",
    ] {
        assert!(err.contains(missing), "{missing} named in: {err}");
    }

    let conn = open_read_only(&data.path().join("mimic-iv-demo.duckdb"));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients") as u64,
        readme_count(&demo, "hosp/patients")
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM m4_meta.tables WHERE NOT present"
        ),
        28
    );
    drop(conn);
    let status = stdout(&run(m4_command(data.path()).arg("status")));
    assert!(status.contains("3 of 31 loaded"), "{status}");
    assert!(status.contains("mimiciv_hosp.labevents"), "{status}");
}

#[test]
fn unknown_header_column_is_named_with_its_file() {
    let src = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(src.path().join("hosp")).expect("mkdir");
    let file = src.path().join("hosp/patients.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        fs::File::create(&file).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(
        b"subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod,shoe_size\n1,F,50,2150,2011 - 2013,,42\n",
    )
    .expect("write");
    gz.finish().expect("finish");
    assert_init_fails(
        "mimic-iv-demo",
        src.path(),
        &["shoe_size", "patients.csv.gz", "hint:"],
    );
}

#[test]
fn empty_source_folder_is_an_error_with_the_expected_layout() {
    let src = tempfile::tempdir().expect("tempdir");
    assert_init_fails(
        "mimic-iv",
        src.path(),
        &["no MIMIC-IV table files found", "hosp/patients.csv.gz"],
    );
}

#[test]
fn full_mimic_without_src_explains_credentialed_access() {
    let data = tempfile::tempdir().expect("tempdir");
    let output = run(m4_command(data.path()).args(["init", "mimic-iv"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("credentialed"), "{err}");
    assert!(err.contains("m4 init mimic-iv --src DIR"), "{err}");
}

// ---------------------------------------------------------------------------
// Downloader, against a local HTTP server
// ---------------------------------------------------------------------------

/// (path, range start) of every request a [`TestServer`] answered, in order.
type RequestLog = Mutex<Vec<(String, Option<u64>)>>;

/// How a [`TestServer`] misbehaves for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The first response promises the whole body, sends half and closes.
    Cut,
    /// The first response sends half the body, then goes silent with the
    /// connection open until the client gives up.
    Stall,
    /// Every response sends its headers, then goes silent.
    StallAlways,
}

/// A minimal HTTP/1.1 file server, one thread per connection: GET with optional
/// `Range: bytes=N-`, 404 for absent files, and the given faults.
struct TestServer {
    base_url: String,
    requests: Arc<RequestLog>,
}

fn serve(root: PathBuf, faults: Vec<(&str, Fault)>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}/", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    let faults: Vec<(String, Fault)> = faults
        .into_iter()
        .map(|(path, fault)| (path.to_string(), fault))
        .collect();
    let faults = Arc::new(Mutex::new(faults));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (root, faults, log) = (root.clone(), Arc::clone(&faults), Arc::clone(&log));
            std::thread::spawn(move || {
                let _ = answer(stream, &root, &faults, &log);
            });
        }
    });
    TestServer { base_url, requests }
}

/// The fault to play for `path` now; one-shot faults are used up.
fn take_fault(faults: &Mutex<Vec<(String, Fault)>>, path: &str) -> Option<Fault> {
    let mut faults = faults.lock().expect("faults");
    let i = faults.iter().position(|(p, _)| p == path)?;
    let fault = faults[i].1;
    if fault != Fault::StallAlways {
        faults.remove(i);
    }
    Some(fault)
}

fn answer(
    mut stream: TcpStream,
    root: &Path,
    faults: &Mutex<Vec<(String, Fault)>>,
    log: &RequestLog,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let mut range_start = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("range: bytes=") {
            range_start = value.trim().trim_end_matches('-').parse::<u64>().ok();
        }
    }
    log.lock().expect("log").push((path.clone(), range_start));
    let Ok(mut body) = fs::read(root.join(&path)) else {
        return stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    };
    let total = body.len() as u64;
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    if let Some(start) = range_start {
        if start >= total {
            return stream.write_all(format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
        }
        head = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\n",
            total - 1
        );
        body = body.split_off(start as usize);
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    let sent = match take_fault(faults, &path) {
        None => return stream.write_all(&body),
        Some(Fault::Cut) => {
            stream.write_all(&body[..body.len() / 2])?;
            stream.flush()?;
            return stream.shutdown(std::net::Shutdown::Both);
        }
        Some(Fault::Stall) => body.len() / 2,
        Some(Fault::StallAlways) => 0,
    };
    stream.write_all(&body[..sent])?;
    stream.flush()?;
    // Silent, with the connection open, until the client closes it (EOF) or a
    // minute has passed (a client without an idle timeout fails its test first).
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    Ok(())
}

#[test]
fn download_resumes_after_a_cut_short_response() {
    let Some(demo) = demo_source_dir("download_resumes_after_a_cut_short_response") else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    write_sums(mirror.path(), &SMALL);
    let server = serve(
        mirror.path().to_path_buf(),
        vec![("hosp/admissions.csv.gz", Fault::Cut)],
    );
    let data = tempfile::tempdir().expect("tempdir");

    let output = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", &server.base_url)
        .args(["init", "mimic-iv-demo"]));
    assert!(output.status.success(), "{}", stderr(&output));

    let requests = server.requests.lock().expect("log").clone();
    let resumed: Vec<_> = requests
        .iter()
        .filter(|(path, start)| path == "hosp/admissions.csv.gz" && start.is_some_and(|s| s > 0))
        .collect();
    assert_eq!(
        resumed.len(),
        1,
        "one ranged request resumed it: {requests:?}"
    );
    let downloaded = data
        .path()
        .join("downloads/mimic-iv-demo/hosp/admissions.csv.gz");
    assert_eq!(
        fs::read(&downloaded).expect("downloaded"),
        fs::read(demo.join("hosp/admissions.csv.gz")).expect("original")
    );
    let conn = open_read_only(&data.path().join("mimic-iv-demo.duckdb"));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.admissions") as u64,
        readme_count(&demo, "hosp/admissions")
    );
    let source: String = conn
        .query_row("SELECT source FROM m4_meta.dataset", [], |r| r.get(0))
        .expect("source");
    assert_eq!(source, server.base_url);
    drop(conn);
    assert_nothing_left(data.path());

    // A second run finds the files verified and downloads nothing again.
    let before = server.requests.lock().expect("log").len();
    let again = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", &server.base_url)
        .args(["init", "mimic-iv-demo"]));
    assert!(again.status.success(), "{}", stderr(&again));
    let after: Vec<_> = server.requests.lock().expect("log")[before..].to_vec();
    assert_eq!(after, vec![("SHA256SUMS.txt".to_string(), None)]);
}

#[test]
fn download_resumes_a_part_file_left_by_an_earlier_run() {
    let Some(demo) = demo_source_dir("download_resumes_a_part_file_left_by_an_earlier_run") else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    write_sums(mirror.path(), &SMALL);
    let server = serve(mirror.path().to_path_buf(), Vec::new());
    let data = tempfile::tempdir().expect("tempdir");
    let original = fs::read(demo.join("hosp/patients.csv.gz")).expect("read");
    let part = data
        .path()
        .join("downloads/mimic-iv-demo/hosp/patients.csv.gz.part");
    fs::create_dir_all(part.parent().expect("parent")).expect("mkdir");
    fs::write(&part, &original[..original.len() / 3]).expect("write part");

    let output = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", &server.base_url)
        .args(["init", "mimic-iv-demo"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = server.requests.lock().expect("log").clone();
    assert!(
        requests.contains(&(
            "hosp/patients.csv.gz".to_string(),
            Some((original.len() / 3) as u64)
        )),
        "{requests:?}"
    );
    assert_eq!(
        fs::read(
            data.path()
                .join("downloads/mimic-iv-demo/hosp/patients.csv.gz")
        )
        .expect("file"),
        original
    );
}

#[test]
fn download_detects_a_checksum_mismatch() {
    let Some(demo) = demo_source_dir("download_detects_a_checksum_mismatch") else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    write_sums(mirror.path(), &SMALL);
    // The file changes after its checksum was published.
    let path = mirror.path().join("hosp/patients.csv.gz");
    let mut bytes = fs::read(&path).expect("read");
    bytes.extend_from_slice(b"tampered");
    fs::write(&path, bytes).expect("write");
    let server = serve(mirror.path().to_path_buf(), Vec::new());
    let data = tempfile::tempdir().expect("tempdir");

    let output = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", &server.base_url)
        .args(["init", "mimic-iv-demo"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("patients.csv.gz"), "{err}");
    assert!(err.contains("does not match its checksum"), "{err}");
    assert!(!data.path().join("mimic-iv-demo.duckdb").exists());
    assert_nothing_left(data.path());
}

#[test]
fn download_rejects_a_mirror_whose_checksums_differ_from_physionet() {
    let Some(demo) =
        demo_source_dir("download_rejects_a_mirror_whose_checksums_differ_from_physionet")
    else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    let path = mirror.path().join("hosp/patients.csv.gz");
    let mut bytes = fs::read(&path).expect("read");
    bytes.extend_from_slice(b"tampered");
    fs::write(&path, bytes).expect("write");
    // The mirror lists the tampered file's own hash: only the pinned list can tell.
    write_sums(mirror.path(), &SMALL);
    let server = serve(mirror.path().to_path_buf(), Vec::new());
    let data = tempfile::tempdir().expect("tempdir");

    let output = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", &server.base_url)
        .args(["init", "mimic-iv-demo"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("hosp/patients.csv.gz"), "{err}");
    assert!(err.contains("M4_MIMIC_DEMO_URL"), "{err}");
}

#[test]
fn unreachable_mirror_fails_with_a_hint() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let data = tempfile::tempdir().expect("tempdir");
    let output = run(m4_command(data.path())
        .env("M4_MIMIC_DEMO_URL", format!("http://127.0.0.1:{port}/"))
        .args(["init", "mimic-iv-demo"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("could not download"), "{err}");
    assert!(err.contains("--src"), "{err}");
}

/// Runs `cmd` to completion, or kills it and fails the test after `limit`: a test
/// of a hang must not hang.
fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("m4 starts");
    // Drain both pipes on threads, so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&err.join().expect("stderr")).into_owned();
            panic!("m4 still ran after {limit:?}; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

/// The idle limit the download tests give m4 instead of its 30 s.
const TEST_IDLE_MS: &str = "400";

#[test]
fn download_resumes_after_the_server_goes_silent_mid_body() {
    let Some(demo) = demo_source_dir("download_resumes_after_the_server_goes_silent_mid_body")
    else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    write_sums(mirror.path(), &SMALL);
    let server = serve(
        mirror.path().to_path_buf(),
        vec![("hosp/admissions.csv.gz", Fault::Stall)],
    );
    let data = tempfile::tempdir().expect("tempdir");

    let output = output_within(
        m4_command(data.path())
            .env("M4_MIMIC_DEMO_URL", &server.base_url)
            .env("M4_TEST_DOWNLOAD_IDLE_MS", TEST_IDLE_MS)
            .args(["init", "mimic-iv-demo"]),
        Duration::from_secs(60),
    );
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("stalled"), "the stall is reported: {err}");
    let requests = server.requests.lock().expect("log").clone();
    assert!(
        requests
            .iter()
            .any(|(path, start)| path == "hosp/admissions.csv.gz" && start.is_some_and(|s| s > 0)),
        "a ranged request resumed it: {requests:?}"
    );
    assert_eq!(
        fs::read(
            data.path()
                .join("downloads/mimic-iv-demo/hosp/admissions.csv.gz")
        )
        .expect("downloaded"),
        fs::read(demo.join("hosp/admissions.csv.gz")).expect("original")
    );
    assert_nothing_left(data.path());
}

#[test]
fn download_from_a_server_that_always_goes_silent_fails_naming_the_file_and_the_mirror_variable() {
    let Some(demo) = demo_source_dir(
        "download_from_a_server_that_always_goes_silent_fails_naming_the_file_and_the_mirror_variable",
    ) else {
        return;
    };
    let mirror = demo_subset(&demo, &SMALL);
    write_sums(mirror.path(), &SMALL);
    let server = serve(
        mirror.path().to_path_buf(),
        vec![("hosp/patients.csv.gz", Fault::StallAlways)],
    );
    let data = tempfile::tempdir().expect("tempdir");

    let started = Instant::now();
    let output = output_within(
        m4_command(data.path())
            .env("M4_MIMIC_DEMO_URL", &server.base_url)
            .env("M4_TEST_DOWNLOAD_IDLE_MS", TEST_IDLE_MS)
            .args(["init", "mimic-iv-demo"]),
        Duration::from_secs(60),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    for needle in ["patients.csv.gz", "stalled", "M4_MIMIC_DEMO_URL", "hint:"] {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
    let attempts = server
        .requests
        .lock()
        .expect("log")
        .iter()
        .filter(|(path, _)| path == "hosp/patients.csv.gz")
        .count();
    assert_eq!(attempts, 5, "a bounded number of attempts");
    // Five silent attempts of 0.4 s each, plus start-up: far from a hang.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!data.path().join("mimic-iv-demo.duckdb").exists());
}

// ---------------------------------------------------------------------------
// Writing to a closed pipe
// ---------------------------------------------------------------------------

#[test]
fn status_into_a_closed_pipe_ends_quietly_with_success() {
    let data = tempfile::tempdir().expect("tempdir");
    // `m4 status | head -0`: the reading end is gone before m4 writes a byte.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = m4_command(data.path())
        .arg("status")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("m4 runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

// ---------------------------------------------------------------------------
// One build at a time per data set
// ---------------------------------------------------------------------------

/// Holds `<data_dir>/<dataset>.lock` the way a running build does.
fn hold_build_lock(data_dir: &Path, dataset: &str) -> fs::File {
    let mut lock = fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data_dir.join(format!("{dataset}.lock")))
        .expect("open the lock file");
    lock.lock().expect("take the lock");
    lock.set_len(0).expect("truncate");
    write!(lock, "pid {}\ntest holder\n", std::process::id()).expect("write holder");
    lock
}

/// A running m4 whose stderr lines arrive on a channel, so a test can wait for one.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("m4 starts");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most a minute) for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no `{needle}` on stderr; got:\n{}", self.seen.join("\n"));
                }
            }
        }
    }

    /// Waits for the exit; returns whether it succeeded, stdout, and all of stderr.
    fn finish(mut self) -> (bool, String, String) {
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let status = self.child.wait().expect("wait");
        self.seen.extend(self.lines.iter());
        (status.success(), stdout, self.seen.join("\n"))
    }
}

#[test]
fn init_waits_for_the_build_lock_and_names_its_holder() {
    let data = tempfile::tempdir().expect("tempdir");
    let lock = hold_build_lock(data.path(), "synthetic");
    let mut init = Running::spawn(m4_command(data.path()).args(["init", "synthetic"]));
    let line = init.wait_for("waiting for another build of `synthetic`");
    assert!(
        line.contains(&format!("pid {}: test holder", std::process::id())),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !data.path().join("synthetic.duckdb").exists(),
        "nothing is built while another build holds the lock"
    );
    drop(lock);
    let (ok, _, err) = init.finish();
    assert!(ok, "{err}");
    let conn = open_read_only(&data.path().join("synthetic.duckdb"));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients"),
        100
    );
    drop(conn);
    assert_nothing_left(data.path());
}

#[test]
fn first_use_waits_for_a_running_build_and_uses_what_it_built() {
    let data = tempfile::tempdir().expect("tempdir");
    let lock = hold_build_lock(data.path(), "synthetic");
    let mut query = Running::spawn(
        m4_command(data.path()).args(["query", "select count(*) AS n from mimiciv_hosp.patients"]),
    );
    query.wait_for("waiting for another build of `synthetic`");
    // The holder finishes its build: here, a copy of the shared one.
    fs::copy(&synthetic().database, data.path().join("synthetic.duckdb")).expect("copy");
    drop(lock);
    let (ok, out, err) = query.finish();
    assert!(ok, "{err}");
    assert!(out.contains("| 100 |"), "{out}");
    assert!(
        err.contains("built by the other process meanwhile"),
        "{err}"
    );
    assert!(
        !err.contains("generating SYNTHETIC"),
        "no second build: {err}"
    );
}

#[test]
fn two_first_uses_at_once_build_the_synthetic_set_once() {
    let data = tempfile::tempdir().expect("tempdir");
    let sql = "select count(*) AS n from mimiciv_hosp.patients";
    let a = Running::spawn(m4_command(data.path()).args(["query", sql]));
    let b = Running::spawn(m4_command(data.path()).args(["query", sql]));
    let (a_ok, a_out, a_err) = a.finish();
    let (b_ok, b_out, b_err) = b.finish();
    assert!(a_ok && b_ok, "{a_err}\n---\n{b_err}");
    assert!(
        a_out.contains("| 100 |") && b_out.contains("| 100 |"),
        "{a_out}{b_out}"
    );
    let builds = [&a_err, &b_err]
        .iter()
        .filter(|err| err.contains("generating SYNTHETIC"))
        .count();
    assert_eq!(builds, 1, "{a_err}\n---\n{b_err}");
    assert_nothing_left(data.path());
}

#[test]
fn two_inits_at_once_in_one_data_folder_both_succeed() {
    let data = tempfile::tempdir().expect("tempdir");
    let a = Running::spawn(m4_command(data.path()).args(["init", "synthetic"]));
    let b = Running::spawn(m4_command(data.path()).args(["init", "synthetic"]));
    let (a_ok, _, a_err) = a.finish();
    let (b_ok, _, b_err) = b.finish();
    assert!(a_ok && b_ok, "{a_err}\n---\n{b_err}");
    let conn = open_read_only(&data.path().join("synthetic.duckdb"));
    assert_eq!(
        table_hashes(&conn),
        table_hashes(&open_read_only(&synthetic().database))
    );
    drop(conn);
    assert_nothing_left(data.path());
}

#[test]
fn init_removes_a_killed_builds_files_but_not_a_servers_spill_folder() {
    let data = tempfile::tempdir().expect("tempdir");
    let stale = data.path().join(".synthetic.build-Xk3q9a");
    fs::create_dir_all(stale.join("hosp")).expect("mkdir");
    fs::write(stale.join("synthetic.duckdb"), b"half a database").expect("write");
    fs::write(stale.join("synthetic.duckdb.wal"), b"wal").expect("write");
    // DuckDB's spill folder for a server reading synthetic.duckdb.
    let spill = data.path().join("synthetic.duckdb.tmp");
    fs::create_dir_all(&spill).expect("mkdir");
    fs::write(spill.join("duckdb_temp_storage-0.tmp"), b"spilled").expect("write");

    let (ok, _, err) = crate::common::run_m4(data.path(), &["init", "synthetic"], &[]);
    assert!(ok, "{err}");
    assert!(!stale.exists(), "{err}");
    assert!(err.contains("left by an interrupted build"), "{err}");
    assert_eq!(
        fs::read(spill.join("duckdb_temp_storage-0.tmp")).expect("spill file kept"),
        b"spilled"
    );
    let conn = open_read_only(&data.path().join("synthetic.duckdb"));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients"),
        100
    );
}
