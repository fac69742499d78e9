//! `mimiciv_derived` through the real binary: every concept builds on the synthetic
//! set, the demo builds every concept its tables allow and names the others, the
//! schema carries descriptions, and `search_items` finds the right ids. Key concepts
//! are cross-checked on the real demo against answers computed here from the csv.gz
//! files (tests/csv_reader.rs), not through m4.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use duckdb::Connection;

use crate::common::{build_data_set, count, demo, m4_command, open_read_only, synthetic};
use crate::csv_reader::read_csv_gz;

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// `m4_meta.derived` as name -> (built, rows, note).
fn derived_meta(conn: &Connection) -> BTreeMap<String, (bool, i64, String)> {
    let mut stmt = conn
        .prepare("SELECT table_name, built, coalesce(row_count, 0), coalesce(note, '') FROM m4_meta.derived")
        .expect("m4_meta.derived");
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// `2150-01-02 03:04:05` (or a date) as seconds since 1970.
fn seconds(text: &str) -> i64 {
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().expect("date part"))
        .collect();
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().expect("time part"))
        .collect();
    let (y, m, day) = (d[0], d[1], d[2]);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + t[0] * 3600 + t[1] * 60 + t.get(2).copied().unwrap_or(0)
}

const HOUR: i64 = 3600;

// ---------------------------------------------------------------------------
// Synthetic: everything builds, and with rows
// ---------------------------------------------------------------------------

#[test]
fn synthetic_builds_every_concept() {
    let built = synthetic();
    let stderr = String::from_utf8_lossy(&built.init.stderr).to_string();
    assert!(
        stderr.contains("concepts built in `mimiciv_derived`"),
        "{stderr}"
    );
    assert!(!stderr.contains("failed concept"), "{stderr}");
    assert!(!stderr.contains("skipped concepts"), "{stderr}");
    let conn = open_read_only(&built.database);
    let meta = derived_meta(&conn);
    assert_eq!(meta.len(), m4::concepts::catalogue().len());
    for (name, (was_built, _, note)) in &meta {
        assert!(was_built, "{name} not built: {note}");
    }
    // The generator produces what these read: they must not be empty.
    for name in [
        "age",
        "icustay_detail",
        "icustay_times",
        "icustay_hourly",
        "weight_durations",
        "charlson",
        "bg",
        "blood_differential",
        "chemistry",
        "coagulation",
        "complete_blood_count",
        "creatinine_baseline",
        "enzyme",
        "gcs",
        "height",
        "urine_output",
        "vitalsign",
        "antibiotic",
        "norepinephrine",
        "vasopressin",
        "vasoactive_agent",
        "norepinephrine_equivalent_dose",
        "acei",
        "arb",
        "nsaid",
        "crrt",
        "ventilation",
        "first_day_bg",
        "first_day_bg_art",
        "first_day_gcs",
        "first_day_height",
        "first_day_lab",
        "first_day_sofa",
        "first_day_urine_output",
        "first_day_vitalsign",
        "first_day_weight",
        "kdigo_creatinine",
        "kdigo_uo",
        "kdigo_stages",
        "sofa",
        "apsiii",
        "lods",
        "suspicion_of_infection",
        "sepsis3",
    ] {
        let (_, rows, _) = &meta[name];
        assert!(
            *rows > 0,
            "mimiciv_derived.{name} is empty on the synthetic set"
        );
    }
    // Some signal, not only rows.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.suspicion_of_infection WHERE suspected_infection = 1"
        ) > 0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.sepsis3 WHERE sepsis3"
        ) > 0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.kdigo_stages WHERE aki_stage_uo >= 1"
        ) > 0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.first_day_sofa WHERE sofa >= 2"
        ) > 0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.gcs WHERE gcs_unable = 1"
        ) > 0
    );
    // APS III and LODS have what they score: every component somewhere, and the
    // ventilated stays' gases.
    for component in [
        "hr_score",
        "mbp_score",
        "temp_score",
        "resp_rate_score",
        "pao2_aado2_score",
        "hematocrit_score",
        "wbc_score",
        "creatinine_score",
        "uo_score",
        "bun_score",
        "sodium_score",
        "albumin_score",
        "bilirubin_score",
        "glucose_score",
        "acidbase_score",
        "gcs_score",
    ] {
        assert!(
            count(
                &conn,
                &format!("SELECT count(*) FROM mimiciv_derived.apsiii WHERE {component} > 0")
            ) > 0,
            "apsiii.{component} is never above 0 on the synthetic set"
        );
    }
    for organ in [
        "neurologic",
        "cardiovascular",
        "renal",
        "pulmonary",
        "hematologic",
        "hepatic",
    ] {
        assert!(
            count(
                &conn,
                &format!("SELECT count(*) FROM mimiciv_derived.lods WHERE {organ} > 0")
            ) > 0,
            "lods.{organ} is never above 0 on the synthetic set"
        );
    }
}

#[test]
fn no_derived_skips_the_concepts_and_derived_only_builds_them_on_the_existing_database() {
    let built = build_data_set("synthetic", &["--no-derived"]);
    {
        let conn = open_read_only(&built.database);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'mimiciv_derived'"
            ),
            0
        );
        // The raw tables are described all the same.
        let comment: String = conn
            .query_row(
                "SELECT comment FROM duckdb_tables() WHERE schema_name = 'mimiciv_hosp' AND table_name = 'admissions'",
                [],
                |r| r.get(0),
            )
            .expect("comment");
        assert!(comment.contains("hospital admission"), "{comment}");
    }
    // `m4 doctor` says the concepts are missing and how to build them.
    let (derived, findings) = doctor_derived(&built.data_dir);
    assert_eq!(derived["built"], 0, "{derived}");
    let finding = findings
        .iter()
        .find(|f| f["subject"] == "data set synthetic")
        .unwrap_or_else(|| panic!("no finding for the missing concepts: {findings:?}"));
    let message = finding["message"].as_str().unwrap_or_default();
    assert!(message.contains("no derived concepts"), "{message}");
    let fix = finding["fix"].as_str().unwrap_or_default();
    assert!(fix.ends_with("init synthetic --derived-only"), "{fix}");
    let output = m4_command(&built.data_dir)
        .args(["init", "synthetic", "--derived-only"])
        .output()
        .expect("m4 init --derived-only");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("concepts built in `mimiciv_derived`"),
        "{stderr}"
    );
    let conn = open_read_only(&built.database);
    assert!(count(&conn, "SELECT count(*) FROM mimiciv_derived.kdigo_stages") > 0);
    assert!(count(&conn, "SELECT count(*) FROM mimiciv_hosp.patients") == 100);
    drop(conn);
    let (derived, findings) = doctor_derived(&built.data_dir);
    let known = m4::concepts::catalogue().len();
    assert_eq!(derived["built"], known, "{derived}");
    assert_eq!(derived["known"], known, "{derived}");
    assert!(
        !findings
            .iter()
            .any(|f| f["subject"] == "data set synthetic"),
        "{findings:?}"
    );
}

/// `m4 doctor --json`: the synthetic set's `derived_concepts` and all the findings.
fn doctor_derived(data_dir: &Path) -> (serde_json::Value, Vec<serde_json::Value>) {
    let output = m4_command(data_dir)
        .args(["doctor", "--json"])
        .output()
        .expect("m4 doctor");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("m4 doctor --json prints JSON");
    let synthetic = report["datasets"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["name"] == "synthetic"))
        .expect("the synthetic data set in the report")
        .clone();
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    (synthetic["derived_concepts"].clone(), findings)
}

#[test]
fn derived_only_on_a_data_set_never_initialised_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = m4_command(dir.path())
        .args(["init", "synthetic", "--derived-only"])
        .output()
        .expect("m4");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("run `m4 init NAME` first"), "{stderr}");
}

// ---------------------------------------------------------------------------
// The real demo
// ---------------------------------------------------------------------------

#[test]
fn demo_builds_every_concept_its_tables_allow_and_names_the_rest() {
    let Some((built, _)) = demo("demo_builds_every_concept_its_tables_allow_and_names_the_rest")
    else {
        return;
    };
    let stderr = String::from_utf8_lossy(&built.init.stderr).to_string();
    assert!(!stderr.contains("failed concept"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("skipped concepts (need `mimiciv_icu.chartevents`)"))
        .unwrap_or_else(|| panic!("the skipped concepts are named:\n{stderr}"));
    let conn = open_read_only(&built.database);
    let meta = derived_meta(&conn);
    for name in [
        "vitalsign",
        "gcs",
        "height",
        "crrt",
        "first_day_vitalsign",
        "first_day_gcs",
        "first_day_height",
        "apsiii",
        "lods",
        "sapsii",
        "oasis",
    ] {
        assert!(line.contains(name), "{name} missing from: {line}");
        let (was_built, _, note) = &meta[name];
        assert!(!was_built);
        assert!(note.contains("mimiciv_icu.chartevents"), "{name}: {note}");
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mimiciv_derived' AND table_name = '{name}'"
                )
            ),
            0
        );
    }
    for name in [
        "age",
        "charlson",
        "bg",
        "chemistry",
        "complete_blood_count",
        "blood_differential",
        "coagulation",
        "enzyme",
        "cardiac_marker",
        "inflammation",
        "creatinine_baseline",
        "kdigo_creatinine",
        "kdigo_uo",
        "kdigo_stages",
        "first_day_lab",
        "antibiotic",
        "norepinephrine",
        "vasoactive_agent",
        "norepinephrine_equivalent_dose",
        "suspicion_of_infection",
        "icustay_detail",
        "sofa",
        "first_day_sofa",
        "sepsis3",
        "ventilation",
        "weight_durations",
    ] {
        let (was_built, rows, note) = &meta[name];
        assert!(was_built, "{name} not built on the demo: {note}");
        assert!(*rows > 0, "{name} is empty on the demo");
    }
    // Every built concept answers a query.
    for (name, (was_built, rows, _)) in &meta {
        if *was_built {
            assert_eq!(
                count(
                    &conn,
                    &format!("SELECT count(*) FROM mimiciv_derived.{name}")
                ),
                *rows
            );
        }
    }
}

#[test]
fn demo_schema_describes_every_table_and_column() {
    let Some((built, _)) = demo("demo_schema_describes_every_table_and_column") else {
        return;
    };
    let conn = open_read_only(&built.database);
    let tables = strings(
        &conn,
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() \
         WHERE schema_name IN ('mimiciv_hosp', 'mimiciv_icu', 'mimiciv_derived') AND coalesce(comment, '') = ''",
    );
    assert!(
        tables.is_empty(),
        "tables without a description: {tables:?}"
    );
    let columns = strings(
        &conn,
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() \
         WHERE schema_name IN ('mimiciv_hosp', 'mimiciv_icu', 'mimiciv_derived') AND coalesce(comment, '') = ''",
    );
    assert!(
        columns.is_empty(),
        "columns without a description: {columns:?}"
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'mimiciv_derived'"
        ) > 300
    );
}

#[test]
fn demo_search_items_finds_heart_rate_and_creatinine() {
    let Some((built, _)) = demo("demo_search_items_finds_heart_rate_and_creatinine") else {
        return;
    };
    let conn = open_read_only(&built.database);
    let hr = m4::concepts::search_items(&conn, "heart rate", 10).expect("search");
    assert_eq!(hr[0].id, "220045", "{hr:#?}");
    assert_eq!(hr[0].recorded_in, "mimiciv_icu.chartevents");
    let hr_abbrev = m4::concepts::search_items(&conn, "HR", 10).expect("search");
    assert!(
        hr_abbrev.iter().take(3).any(|m| m.id == "220045"),
        "{hr_abbrev:#?}"
    );
    let cr = m4::concepts::search_items(&conn, "creatinine", 10).expect("search");
    assert!(cr.iter().take(3).any(|m| m.id == "50912"), "{cr:#?}");
    let serum = cr.iter().find(|m| m.id == "50912").expect("50912");
    assert!(serum.rows.is_some_and(|n| n > 1000), "{serum:?}");
    assert_eq!(serum.unit.as_deref(), Some("mg/dL"));
    let cr_abbrev = m4::concepts::search_items(&conn, "cr", 10).expect("search");
    assert!(
        cr_abbrev.iter().take(5).any(|m| m.id == "50912"),
        "{cr_abbrev:#?}"
    );
    for (query, id) in [
        ("map", "220052"),
        ("spo2", "220277"),
        ("wbc", "51301"),
        ("lactate", "50813"),
        ("norepi", "221906"),
    ] {
        let found = m4::concepts::search_items(&conn, query, 10).expect("search");
        assert!(
            found.iter().take(5).any(|m| m.id == id),
            "{query}: {found:#?}"
        );
    }
    let sepsis = m4::concepts::search_items(&conn, "sepsis", 20).expect("search");
    assert!(
        sepsis
            .iter()
            .any(|m| m.id == "A419" && m.icd_version == Some(10)),
        "{sepsis:#?}"
    );
}

// Cross-checks against the csv.gz files -------------------------------------

#[test]
fn demo_age_matches_the_csv() {
    let Some((built, src)) = demo("demo_age_matches_the_csv") else {
        return;
    };
    let patients: HashMap<String, (i64, i64)> = read_csv_gz(&src.join("hosp/patients.csv.gz"))
        .into_iter()
        .map(|r| {
            (
                r["subject_id"].clone(),
                (
                    r["anchor_age"].parse().expect("age"),
                    r["anchor_year"].parse().expect("year"),
                ),
            )
        })
        .collect();
    let mut expected = BTreeSet::new();
    for adm in read_csv_gz(&src.join("hosp/admissions.csv.gz")) {
        let (anchor_age, anchor_year) = patients[&adm["subject_id"]];
        let year: i64 = adm["admittime"][..4].parse().expect("year");
        expected.insert(format!(
            "{}:{}",
            adm["hadm_id"],
            anchor_age + year - anchor_year
        ));
    }
    let conn = open_read_only(&built.database);
    let actual: BTreeSet<String> = strings(
        &conn,
        "SELECT hadm_id || ':' || age FROM mimiciv_derived.age",
    )
    .into_iter()
    .collect();
    assert_eq!(actual, expected);
}

#[test]
fn demo_charlson_matches_the_csv_for_its_simplest_categories() {
    let Some((built, src)) = demo("demo_charlson_matches_the_csv_for_its_simplest_categories")
    else {
        return;
    };
    // Myocardial infarction, metastatic tumour and AIDS (Quan 2005), by prefix.
    let categories: [(&str, &[&str], &[&str]); 3] = [
        (
            "myocardial_infarct",
            &["410", "412"],
            &["I21", "I22", "I252"],
        ),
        (
            "metastatic_solid_tumor",
            &["196", "197", "198", "199"],
            &["C77", "C78", "C79", "C80"],
        ),
        (
            "aids",
            &["042", "043", "044"],
            &["B20", "B21", "B22", "B24"],
        ),
    ];
    let diagnoses = read_csv_gz(&src.join("hosp/diagnoses_icd.csv.gz"));
    let conn = open_read_only(&built.database);
    for (column, icd9, icd10) in categories {
        let expected: BTreeSet<String> = diagnoses
            .iter()
            .filter(|d| {
                let prefixes = if d["icd_version"] == "9" { icd9 } else { icd10 };
                prefixes.iter().any(|p| d["icd_code"].starts_with(p))
            })
            .map(|d| d["hadm_id"].clone())
            .collect();
        let actual: BTreeSet<String> = strings(
            &conn,
            &format!(
                "SELECT CAST(hadm_id AS VARCHAR) FROM mimiciv_derived.charlson WHERE {column} = 1"
            ),
        )
        .into_iter()
        .collect();
        assert_eq!(actual, expected, "{column}");
    }
    let admissions = read_csv_gz(&src.join("hosp/admissions.csv.gz")).len() as i64;
    assert_eq!(
        count(&conn, "SELECT count(*) FROM mimiciv_derived.charlson"),
        admissions
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mimiciv_derived.charlson WHERE charlson_comorbidity_index NOT BETWEEN 0 AND 37"
        ),
        0
    );
}

/// Demo ICU stays: stay_id -> (subject_id, intime, outtime) in seconds.
fn demo_stays(src: &Path) -> HashMap<String, (String, i64, i64)> {
    read_csv_gz(&src.join("icu/icustays.csv.gz"))
        .into_iter()
        .map(|r| {
            (
                r["stay_id"].clone(),
                (
                    r["subject_id"].clone(),
                    seconds(&r["intime"]),
                    seconds(&r["outtime"]),
                ),
            )
        })
        .collect()
}

/// Demo lab values of `itemid`: subject_id -> [(charttime, valuenum)].
fn demo_labs(src: &Path, itemid: &str) -> HashMap<String, Vec<(i64, f64)>> {
    let mut out: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
    for r in read_csv_gz(&src.join("hosp/labevents.csv.gz")) {
        if r["itemid"] == itemid
            && let Ok(v) = r["valuenum"].parse::<f64>()
        {
            out.entry(r["subject_id"].clone())
                .or_default()
                .push((seconds(&r["charttime"]), v));
        }
    }
    out
}

#[test]
fn demo_kdigo_creatinine_matches_the_csv() {
    let Some((built, src)) = demo("demo_kdigo_creatinine_matches_the_csv") else {
        return;
    };
    let stays = demo_stays(&src);
    let creat = demo_labs(&src, "50912");
    let mut expected = BTreeSet::new();
    for (stay, (subject, intime, outtime)) in &stays {
        // Mean per charttime within [intime - 7 d, outtime], values <= 150.
        let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for (t, v) in creat.get(subject).into_iter().flatten() {
            if *t >= intime - 7 * 24 * HOUR && t <= outtime && *v <= 150.0 {
                by_time.entry(*t).or_default().push(*v);
            }
        }
        let series: Vec<(i64, f64)> = by_time
            .into_iter()
            .map(|(t, vs)| (t, vs.iter().sum::<f64>() / vs.len() as f64))
            .collect();
        for (t, v) in &series {
            let low = |window: i64| {
                series
                    .iter()
                    .filter(|(u, _)| u < t && *u >= t - window)
                    .map(|(_, w)| *w)
                    .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.min(w))))
            };
            let fmt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
            expected.insert(format!(
                "{stay}:{t}:{v:.3}:{}:{}",
                fmt(low(48 * HOUR)),
                fmt(low(7 * 24 * HOUR))
            ));
        }
    }
    let conn = open_read_only(&built.database);
    let actual: BTreeSet<String> = strings(
        &conn,
        "SELECT stay_id || ':' || epoch(charttime)::BIGINT || ':' || printf('%.3f', creat) || ':' || \
         coalesce(printf('%.3f', creat_low_past_48hr), '-') || ':' || coalesce(printf('%.3f', creat_low_past_7day), '-') \
         FROM mimiciv_derived.kdigo_creatinine",
    )
    .into_iter()
    .collect();
    assert!(expected.len() > 100, "the demo has creatinine in ICU stays");
    assert_eq!(actual, expected);
}

#[test]
fn demo_first_day_lab_matches_the_csv() {
    let Some((built, src)) = demo("demo_first_day_lab_matches_the_csv") else {
        return;
    };
    let stays = demo_stays(&src);
    let conn = open_read_only(&built.database);
    // (itemid, first_day_lab column, keep value): creatinine <= 150 and > 0; WBC > 0.
    for (itemid, column) in [
        ("50912", "creatinine_max"),
        ("51301", "wbc_max"),
        ("50885", "bilirubin_total_max"),
    ] {
        let labs = demo_labs(&src, itemid);
        let mut expected = BTreeSet::new();
        for (stay, (subject, intime, _)) in &stays {
            let max = labs
                .get(subject)
                .into_iter()
                .flatten()
                .filter(|(t, v)| {
                    *t >= intime - 6 * HOUR && *t <= intime + 24 * HOUR && *v > 0.0 && *v <= 150.0
                })
                .map(|(_, v)| *v)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            expected.insert(format!(
                "{stay}:{}",
                max.map_or("-".to_string(), |x| format!("{x:.3}"))
            ));
        }
        let actual: BTreeSet<String> = strings(
            &conn,
            &format!("SELECT stay_id || ':' || coalesce(printf('%.3f', {column}), '-') FROM mimiciv_derived.first_day_lab"),
        )
        .into_iter()
        .collect();
        assert_eq!(actual, expected, "{column}");
    }
}

#[test]
fn demo_suspicion_of_infection_matches_the_csv() {
    let Some((built, src)) = demo("demo_suspicion_of_infection_matches_the_csv") else {
        return;
    };
    // Cultures from the csv: subject -> [(time or None, date)].
    let mut cultures: HashMap<String, BTreeMap<String, (Option<i64>, i64)>> = HashMap::new();
    for r in read_csv_gz(&src.join("hosp/microbiologyevents.csv.gz")) {
        let time = (!r["charttime"].is_empty()).then(|| seconds(&r["charttime"]));
        let date = seconds(&r["chartdate"][..10]);
        cultures
            .entry(r["subject_id"].clone())
            .or_default()
            .insert(r["micro_specimen_id"].clone(), (time, date));
    }
    let conn = open_read_only(&built.database);
    // The antibiotics m4 found are the input; the windows are checked here.
    let antibiotics = strings(
        &conn,
        "SELECT subject_id || '|' || ab_id || '|' || strftime(antibiotic_time, '%Y-%m-%d %H:%M:%S') || '|' || suspected_infection \
         || '|' || coalesce(strftime(suspected_infection_time, '%Y-%m-%d %H:%M:%S'), '-') FROM mimiciv_derived.suspicion_of_infection",
    );
    assert!(antibiotics.len() > 100, "the demo has antibiotics");
    let mut suspected = 0;
    for row in &antibiotics {
        let parts: Vec<&str> = row.split('|').collect();
        let (subject, ab_time) = (parts[0], seconds(parts[2]));
        let ab_date = ab_time.div_euclid(86_400) * 86_400;
        let mut before: Option<i64> = None; // earliest culture in the 72 h before
        let mut after = false;
        for (time, date) in cultures
            .get(subject)
            .map(|m| m.values().copied().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match time {
                Some(t) if ab_time > t && ab_time <= t + 72 * HOUR => {
                    before = Some(before.map_or(t, |b| b.min(t)))
                }
                Some(t) if ab_time <= t && ab_time >= t - 24 * HOUR => after = true,
                None if ab_date >= date && ab_date <= date + 3 * 24 * HOUR => {
                    before = Some(before.map_or(date, |b| b.min(date)))
                }
                None if ab_date >= date - 24 * HOUR && ab_date < date => after = true,
                _ => {}
            }
        }
        let (flag, onset) = match (before, after) {
            (Some(t), _) => ("1", t),
            (None, true) => ("1", ab_time),
            (None, false) => ("0", 0),
        };
        assert_eq!(parts[3], flag, "{row}");
        if flag == "1" {
            suspected += 1;
            assert_eq!(seconds(parts[4]), onset, "{row}");
        }
    }
    assert!(
        suspected > 20,
        "the demo has suspected infections ({suspected})"
    );
}
