//! Unit tests: the catalogue is consistent with its SQL, and each concept gives the
//! known answer on small hand-made tables loaded into an in-memory DuckDB with the
//! registry's DDL.

use std::collections::BTreeSet;

use duckdb::Connection;

use super::*;
use crate::datasets::schema;

/// An in-memory database with the MIMIC schemas and the given raw tables (empty).
fn db(tables: &[&str]) -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory duckdb");
    conn.execute_batch(
        "CREATE SCHEMA mimiciv_hosp; CREATE SCHEMA mimiciv_icu; CREATE SCHEMA m4_meta;",
    )
    .expect("schemas");
    for name in tables {
        let table = schema::tables()
            .iter()
            .find(|t| t.qualified_name() == *name)
            .unwrap_or_else(|| panic!("{name} is not a registry table"));
        conn.execute_batch(&table.create_sql())
            .expect("create table");
    }
    conn
}

/// Every registry table, for "build everything" tests.
fn all_tables() -> Vec<String> {
    schema::tables()
        .iter()
        .map(|t| t.qualified_name())
        .collect()
}

/// `INSERT INTO table (columns) VALUES rows` with SQL literals.
fn insert(conn: &Connection, table: &str, columns: &str, rows: &[&str]) {
    let values: Vec<String> = rows.iter().map(|r| format!("({r})")).collect();
    conn.execute_batch(&format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        values.join(", ")
    ))
    .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
}

/// Builds the concepts the tables present allow; panics on a failed concept.
fn build_all(conn: &Connection, present: &[&str]) -> DerivedSummary {
    let present: Vec<String> = present.iter().map(|s| s.to_string()).collect();
    let summary = build(conn, &present, &mut |_| {}).expect("build");
    assert!(
        summary.failed.is_empty(),
        "failed concepts: {:#?}",
        summary.failed
    );
    summary
}

fn query_strings(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn one<T: duckdb::types::FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn build_order_puts_dependencies_first_and_names_are_unique() {
    let order = build_order().expect("consistent catalogue");
    assert_eq!(order.len(), catalogue().len());
    let mut seen = BTreeSet::new();
    for concept in order {
        for dep in concept.depends.iter().chain(concept.optional_depends) {
            assert!(
                seen.contains(dep),
                "{} is built before its dependency {dep}",
                concept.name
            );
        }
        assert!(seen.insert(concept.name), "{} twice", concept.name);
    }
}

#[test]
fn declared_sources_and_dependencies_are_exactly_what_the_sql_reads() {
    let raw: BTreeSet<String> = all_tables().into_iter().collect();
    for concept in catalogue() {
        let referenced = referenced_relations(concept.sql);
        let declared_raw: BTreeSet<String> = concept
            .sources
            .iter()
            .chain(concept.optional_sources)
            .map(|s| s.to_string())
            .collect();
        let declared_derived: BTreeSet<String> = concept
            .depends
            .iter()
            .chain(concept.optional_depends)
            .map(|d| format!("{SCHEMA}.{d}"))
            .collect();
        let read_raw: BTreeSet<String> = referenced
            .iter()
            .filter(|r| !r.starts_with(SCHEMA))
            .cloned()
            .collect();
        let read_derived: BTreeSet<String> = referenced
            .iter()
            .filter(|r| r.starts_with(SCHEMA))
            .cloned()
            .collect();
        assert_eq!(read_raw, declared_raw, "raw sources of {}", concept.name);
        assert_eq!(
            read_derived, declared_derived,
            "concepts read by {}",
            concept.name
        );
        for table in &read_raw {
            assert!(
                raw.contains(table),
                "{} reads {table}, not a registry table",
                concept.name
            );
        }
        assert!(
            concept.sql.starts_with("-- @table "),
            "{} must start with its `-- @table` description",
            concept.name
        );
    }
}

#[test]
fn plan_skips_what_lacks_chartevents_and_names_the_cause() {
    let present: Vec<String> = all_tables()
        .into_iter()
        .filter(|t| t != "mimiciv_icu.chartevents")
        .collect();
    let plan = plan(&present).expect("plan");
    let skipped: BTreeSet<&str> = plan
        .iter()
        .filter(|(_, skip)| skip.is_some())
        .map(|(c, _)| c.name)
        .collect();
    for name in [
        "vitalsign",
        "gcs",
        "height",
        "crrt",
        "first_day_vitalsign",
        "first_day_gcs",
    ] {
        assert!(
            skipped.contains(name),
            "{name} should be skipped without chartevents"
        );
    }
    for name in [
        "age",
        "charlson",
        "bg",
        "kdigo_creatinine",
        "kdigo_stages",
        "sofa",
        "sepsis3",
        "suspicion_of_infection",
        "weight_durations",
        "first_day_lab",
    ] {
        assert!(
            !skipped.contains(name),
            "{name} should build without chartevents"
        );
    }
    let (_, skip) = plan
        .iter()
        .find(|(c, _)| c.name == "first_day_gcs")
        .expect("in plan");
    assert_eq!(skip, &Some(Skip::MissingConcepts(vec!["gcs".into()])));
}

#[test]
fn every_concept_builds_on_empty_tables_and_every_column_is_described() {
    let tables = all_tables();
    let names: Vec<&str> = tables.iter().map(String::as_str).collect();
    let conn = db(&names);
    let summary = build_all(&conn, &names);
    assert_eq!(summary.built.len(), catalogue().len());
    for concept in catalogue() {
        let columns = table_columns(&conn, SCHEMA, concept.name).expect("columns");
        assert!(!columns.is_empty(), "{} has no columns", concept.name);
        let described: BTreeSet<&str> = concept
            .column_descriptions()
            .iter()
            .map(|(c, _)| *c)
            .collect();
        for column in &columns {
            assert!(
                described.contains(column.as_str()),
                "{}.{column} has no `-- @column` description",
                concept.name
            );
        }
        for column in &described {
            assert!(
                columns.iter().any(|c| c == column),
                "{} describes `{column}`, which it does not have",
                concept.name
            );
        }
        let comment: Option<String> = one(
            &conn,
            &format!(
                "SELECT comment FROM duckdb_tables() WHERE schema_name = '{SCHEMA}' AND table_name = '{}'",
                concept.name
            ),
        );
        assert!(
            comment.is_some_and(|c| !c.is_empty()),
            "{} has no table comment",
            concept.name
        );
    }
    let undescribed = query_strings(
        &conn,
        &format!(
            "SELECT table_name || '.' || column_name FROM duckdb_columns() \
             WHERE schema_name = '{SCHEMA}' AND (comment IS NULL OR comment = '')"
        ),
    );
    assert!(
        undescribed.is_empty(),
        "columns without a comment: {undescribed:?}"
    );
}

#[test]
fn optional_source_is_replaced_by_an_empty_table_of_the_same_shape() {
    let conn = db(&["mimiciv_hosp.labevents"]);
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 100, 50821, '2150-01-01 10:00', '80', 80",
            "2, 1, 10, 100, 50816, '2150-01-01 10:00', '40', 40",
            "3, 1, 10, 100, 52033, '2150-01-01 10:00', 'ART.', NULL",
        ],
    );
    let summary = build_all(&conn, &["mimiciv_hosp.labevents"]);
    let bg = summary
        .built
        .iter()
        .find(|b| b.name == "bg")
        .expect("bg built");
    assert_eq!(bg.without, vec!["mimiciv_icu.chartevents".to_string()]);
    let ratio: f64 = one(&conn, "SELECT pao2fio2ratio FROM mimiciv_derived.bg");
    assert!((ratio - 200.0).abs() < 1e-9, "80 / 0.40 = 200, got {ratio}");
    let specimen: String = one(&conn, "SELECT specimen FROM mimiciv_derived.bg");
    assert_eq!(specimen, "ART.");
}

#[test]
fn replace_relation_replaces_whole_names_only() {
    let sql =
        "FROM mimiciv_derived.crrt AS c JOIN mimiciv_derived.crrt_x x -- mimiciv_derived.crrt";
    assert_eq!(
        replace_relation(sql, "mimiciv_derived.crrt", "(E)"),
        "FROM (E) AS c JOIN mimiciv_derived.crrt_x x -- (E)"
    );
}

const AGE_TABLES: [&str; 2] = ["mimiciv_hosp.patients", "mimiciv_hosp.admissions"];

#[test]
fn age_adds_the_calendar_years_since_the_anchor_year() {
    let conn = db(&AGE_TABLES);
    insert(
        &conn,
        "mimiciv_hosp.patients",
        "subject_id, gender, anchor_age, anchor_year",
        &["1, 'F', 60, 2150", "2, 'M', 30, 2120"],
    );
    insert(
        &conn,
        "mimiciv_hosp.admissions",
        "subject_id, hadm_id, admittime",
        &[
            "1, 10, '2150-12-31 23:00'",
            "1, 11, '2153-01-01 01:00'",
            "2, 20, '2119-06-01'",
        ],
    );
    build_all(&conn, &AGE_TABLES);
    let ages = query_strings(
        &conn,
        "SELECT hadm_id || ':' || age FROM mimiciv_derived.age ORDER BY hadm_id",
    );
    assert_eq!(ages, ["10:60", "11:63", "20:29"]);
}

#[test]
fn charlson_weights_and_hierarchies() {
    let tables = [AGE_TABLES[0], AGE_TABLES[1], "mimiciv_hosp.diagnoses_icd"];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_hosp.patients",
        "subject_id, gender, anchor_age, anchor_year",
        &["1, 'F', 72, 2150", "2, 'M', 40, 2150"],
    );
    insert(
        &conn,
        "mimiciv_hosp.admissions",
        "subject_id, hadm_id, admittime",
        &["1, 10, '2150-03-01'", "2, 20, '2150-03-01'"],
    );
    // Admission 10: MI (ICD-10 I21.4), CHF (ICD-9 428.0), diabetes with and without
    // complication (E11.9, E11.2), mild and severe liver disease (K70.3, K72.1),
    // cancer and metastasis (C50.9, C78.0). Admission 20: nothing but an unrelated code.
    insert(
        &conn,
        "mimiciv_hosp.diagnoses_icd",
        "subject_id, hadm_id, seq_num, icd_code, icd_version",
        &[
            "1, 10, 1, 'I214', 10",
            "1, 10, 2, '4280', 9",
            "1, 10, 3, 'E119', 10",
            "1, 10, 4, 'E112', 10",
            "1, 10, 5, 'K703', 10",
            "1, 10, 6, 'K721', 10",
            "1, 10, 7, 'C509', 10",
            "1, 10, 8, 'C780', 10",
            "2, 20, 1, 'Z0000', 10",
        ],
    );
    build_all(&conn, &tables);
    let (age_score, mi, chf, dm, dmcc, liver, severe, cancer, meta, cci): (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) =
        conn.query_row(
            "SELECT age_score, myocardial_infarct, congestive_heart_failure, diabetes_without_cc, \
             diabetes_with_cc, mild_liver_disease, severe_liver_disease, malignant_cancer, \
             metastatic_solid_tumor, charlson_comorbidity_index FROM mimiciv_derived.charlson WHERE hadm_id = 10",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?)),
        )
        .expect("charlson row");
    assert_eq!(
        (age_score, mi, chf, dm, dmcc, liver, severe, cancer, meta),
        (3, 1, 1, 1, 1, 1, 1, 1, 1)
    );
    // 3 (age 72) + 1 + 1 + max(1, 2) + max(1, 3) + max(2, 6) = 16
    assert_eq!(cci, 16);
    let other: i32 = one(
        &conn,
        "SELECT charlson_comorbidity_index FROM mimiciv_derived.charlson WHERE hadm_id = 20",
    );
    assert_eq!(other, 0);
}

const KDIGO_TABLES: [&str; 5] = [
    "mimiciv_hosp.patients",
    "mimiciv_hosp.admissions",
    "mimiciv_icu.icustays",
    "mimiciv_hosp.labevents",
    "mimiciv_icu.outputevents",
];

fn kdigo_stay(conn: &Connection) {
    insert(
        conn,
        "mimiciv_hosp.patients",
        "subject_id, gender, anchor_age, anchor_year",
        &["1, 'M', 60, 2150"],
    );
    insert(
        conn,
        "mimiciv_hosp.admissions",
        "subject_id, hadm_id, admittime, dischtime",
        &["1, 10, '2150-01-01 00:00', '2150-01-20 00:00'"],
    );
    insert(
        conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &["1, 10, 100, '2150-01-02 00:00', '2150-01-10 00:00'"],
    );
}

fn creatinine(conn: &Connection, rows: &[(&str, f64)]) {
    let rows: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, (t, v))| format!("{i}, 1, 10, {}, 50912, '{t}', '{v}', {v}", 1000 + i))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    insert(
        conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &rows,
    );
}

#[test]
fn creatinine_from_1_0_to_2_1_within_48_hours_is_kdigo_stage_2() {
    let conn = db(&KDIGO_TABLES);
    kdigo_stay(&conn);
    creatinine(
        &conn,
        &[
            ("2150-01-02 06:00", 1.0),
            ("2150-01-03 06:00", 1.4),
            ("2150-01-03 20:00", 2.1),
        ],
    );
    build_all(&conn, &KDIGO_TABLES);
    let (low48, low7): (f64, f64) = conn
        .query_row(
            "SELECT creat_low_past_48hr, creat_low_past_7day FROM mimiciv_derived.kdigo_creatinine \
                    WHERE charttime = '2150-01-03 20:00'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((low48, low7), (1.0, 1.0));
    let stages = query_strings(
        &conn,
        "SELECT strftime(charttime, '%d %H') || ':' || aki_stage_creat || ':' || aki_stage \
         FROM mimiciv_derived.kdigo_stages ORDER BY charttime",
    );
    // 1.4 is +0.4 within 48 h (stage 1); 2.1 is 2.1 x the 7-day low (stage 2).
    assert_eq!(stages, ["02 06:0:0", "03 06:1:1", "03 20:2:2"]);
}

#[test]
fn creatinine_above_4_needs_an_acute_rise_for_stage_3() {
    let conn = db(&KDIGO_TABLES);
    kdigo_stay(&conn);
    // Stable CKD at 4.2: no rise, stage 0. Then 4.6 (a rise of 0.4 in 48 h): stage 3.
    creatinine(
        &conn,
        &[
            ("2150-01-02 06:00", 4.2),
            ("2150-01-03 06:00", 4.2),
            ("2150-01-04 06:00", 4.6),
        ],
    );
    build_all(&conn, &KDIGO_TABLES);
    let stages = query_strings(
        &conn,
        "SELECT CAST(aki_stage_creat AS VARCHAR) FROM mimiciv_derived.kdigo_stages ORDER BY charttime",
    );
    assert_eq!(stages, ["0", "0", "3"]);
}

#[test]
fn low_urine_output_for_12_hours_is_kdigo_stage_2() {
    let conn = db(&KDIGO_TABLES);
    kdigo_stay(&conn);
    // 80 kg (from an infusion's patientweight: no chartevents), 20 mL/h charted hourly
    // from hour 7 to hour 20 of the stay: 0.25 mL/kg/h, under 0.5 for more than 12 h.
    let conn2 = &conn;
    conn2
        .execute_batch(
            &schema::table("icu", "inputevents")
                .expect("registry")
                .create_sql(),
        )
        .expect("inputevents");
    insert(
        conn2,
        "mimiciv_icu.inputevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid, patientweight",
        &["1, 10, 100, '2150-01-02 01:00', '2150-01-02 02:00', 225158, 80"],
    );
    let rows: Vec<String> = (1..=20)
        .map(|h| format!("1, 10, 100, '2150-01-02 {h:02}:00', 226559, 20, 'ml'"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    insert(
        conn2,
        "mimiciv_icu.outputevents",
        "subject_id, hadm_id, stay_id, charttime, itemid, value, valueuom",
        &rows,
    );
    let mut tables = KDIGO_TABLES.to_vec();
    tables.push("mimiciv_icu.inputevents");
    build_all(conn2, &tables);
    let weight: f64 = one(
        conn2,
        "SELECT weight FROM mimiciv_derived.kdigo_uo WHERE charttime = '2150-01-02 20:00'",
    );
    assert_eq!(weight, 80.0);
    let (rate12, stage): (f64, i32) = conn2
        .query_row(
            "SELECT uo_rt_12hr, aki_stage_uo FROM mimiciv_derived.kdigo_stages \
                    WHERE charttime = '2150-01-02 20:00'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert!(
        (rate12 - 20.0 * 13.0 / 80.0 / 13.0).abs() < 1e-3,
        "rate {rate12}"
    );
    assert_eq!(stage, 2);
    // Within the first 6 hours no urine stage is given.
    let early: i32 = one(
        conn2,
        "SELECT coalesce(aki_stage_uo, 0) FROM mimiciv_derived.kdigo_stages \
                                 WHERE charttime = '2150-01-02 05:00'",
    );
    assert_eq!(early, 0);
}

const INFECTION_TABLES: [&str; 4] = [
    "mimiciv_hosp.prescriptions",
    "mimiciv_icu.icustays",
    "mimiciv_hosp.microbiologyevents",
    "mimiciv_hosp.admissions",
];

#[test]
fn a_culture_within_24_hours_after_an_antibiotic_is_a_suspected_infection_at_the_antibiotic_time() {
    let conn = db(&INFECTION_TABLES);
    insert(
        &conn,
        "mimiciv_hosp.prescriptions",
        "subject_id, hadm_id, starttime, stoptime, drug_type, drug, route",
        &[
            "1, 10, '2150-01-01 08:00', '2150-01-05 08:00', 'MAIN', 'Vancomycin', 'IV'",
            "2, 20, '2150-01-01 08:00', '2150-01-05 08:00', 'MAIN', 'CeftriaXONE', 'IV'",
            "3, 30, '2150-01-01 08:00', '2150-01-05 08:00', 'MAIN', 'Levofloxacin', 'PO'",
            "4, 40, '2150-01-01 08:00', '2150-01-02 08:00', 'MAIN', 'Erythromycin 0.5% Ophth Oint', 'BOTH EYES'",
            "5, 50, '2150-01-01 08:00', '2150-01-02 08:00', 'MAIN', 'Acetaminophen', 'PO'",
        ],
    );
    // 1: culture 20 h after the antibiotic (suspected, at the antibiotic time).
    // 2: culture 30 h before the antibiotic (suspected, at the culture time).
    // 3: culture 30 h after the antibiotic (too late: not suspected).
    insert(
        &conn,
        "mimiciv_hosp.microbiologyevents",
        "microevent_id, subject_id, hadm_id, micro_specimen_id, chartdate, charttime, spec_type_desc, org_name",
        &[
            "1, 1, 10, 501, '2150-01-02', '2150-01-02 04:00', 'BLOOD CULTURE', 'STAPH AUREUS COAG +'",
            "2, 2, 20, 502, '2149-12-31', '2149-12-31 02:00', 'URINE', NULL",
            "3, 3, 30, 503, '2150-01-02', '2150-01-02 14:00', 'SPUTUM', NULL",
        ],
    );
    build_all(&conn, &INFECTION_TABLES);
    let antibiotics = query_strings(
        &conn,
        "SELECT antibiotic FROM mimiciv_derived.antibiotic ORDER BY subject_id",
    );
    assert_eq!(antibiotics, ["Vancomycin", "CeftriaXONE", "Levofloxacin"]);
    let rows = query_strings(
        &conn,
        "SELECT subject_id || ':' || suspected_infection || ':' || coalesce(strftime(suspected_infection_time, '%Y-%m-%d %H:%M'), '-') \
         || ':' || coalesce(CAST(positive_culture AS VARCHAR), '-') \
         FROM mimiciv_derived.suspicion_of_infection ORDER BY subject_id",
    );
    assert_eq!(
        rows,
        [
            "1:1:2150-01-01 08:00:1",
            "2:1:2149-12-31 02:00:0",
            "3:0:-:-"
        ]
    );
}

#[test]
fn first_day_lab_takes_six_hours_before_to_24_hours_after_icu_admission() {
    let tables = ["mimiciv_icu.icustays", "mimiciv_hosp.labevents"];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &["1, 10, 100, '2150-01-02 12:00', '2150-01-05 00:00'"],
    );
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 1, 51222, '2150-01-02 05:00', '7', 7", // 7 h before: out
            "2, 1, 10, 2, 51222, '2150-01-02 07:00', '9', 9", // 5 h before: in
            "3, 1, 10, 3, 51222, '2150-01-03 11:00', '12', 12", // 23 h after: in
            "4, 1, 10, 4, 51222, '2150-01-03 13:00', '15', 15",
        ],
    ); // 25 h after: out
    build_all(&conn, &tables);
    let (lo, hi): (f64, f64) = conn
        .query_row(
            "SELECT hemoglobin_min, hemoglobin_max FROM mimiciv_derived.first_day_lab",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((lo, hi), (9.0, 12.0));
}

#[test]
fn norepinephrine_equivalents_follow_goradia() {
    let tables = ["mimiciv_icu.inputevents"];
    let conn = db(&tables);
    // One hour with norepinephrine 0.1 mcg/kg/min and vasopressin 2.4 units/h (0.04 U/min).
    insert(
        &conn,
        "mimiciv_icu.inputevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid, amount, rate, rateuom, patientweight, linkorderid",
        &[
            "1, 10, 100, '2150-01-01 10:00', '2150-01-01 11:00', 221906, 0.5, 0.1, 'mcg/kg/min', 80, 1",
            "1, 10, 100, '2150-01-01 10:00', '2150-01-01 11:00', 222315, 2.4, 2.4, 'units/hour', 80, 2",
        ],
    );
    build_all(&conn, &tables);
    let nee: f64 = one(
        &conn,
        "SELECT CAST(norepinephrine_equivalent_dose AS DOUBLE) FROM mimiciv_derived.norepinephrine_equivalent_dose",
    );
    // 0.1 + 0.04 U/min x 2.5 = 0.2
    assert!((nee - 0.2).abs() < 1e-9, "{nee}");
}

#[test]
fn sofa_scores_each_organ_from_its_thresholds() {
    let tables = [
        "mimiciv_icu.icustays",
        "mimiciv_hosp.labevents",
        "mimiciv_icu.inputevents",
        "mimiciv_icu.outputevents",
    ];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &["1, 10, 100, '2150-01-02 12:00', '2150-01-04 00:00'"],
    );
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 1, 51265, '2150-01-02 14:10', '45', 45", // platelets < 50: 3
            "2, 1, 10, 1, 50885, '2150-01-02 14:10', '2.5', 2.5", // bilirubin 2.0-5.9: 2
            "3, 1, 10, 1, 50912, '2150-01-02 14:10', '1.3', 1.3",
        ],
    ); // creatinine 1.2-1.9: 1
    insert(
        &conn,
        "mimiciv_icu.inputevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid, amount, rate, rateuom, patientweight, linkorderid",
        &[
            "1, 10, 100, '2150-01-02 15:00', '2150-01-02 18:00', 221906, 1, 0.05, 'mcg/kg/min', 70, 1",
        ],
    ); // norepi <= 0.1: 3
    build_all(&conn, &tables);
    let (coag, liver, renal, cardio, total): (i32, i32, i32, i32, i32) = conn
        .query_row("SELECT coagulation_24hours, liver_24hours, renal_24hours, cardiovascular_24hours, sofa_24hours \
                    FROM mimiciv_derived.sofa WHERE stay_id = 100 AND hr = 6", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("hour 6");
    assert_eq!((coag, liver, renal, cardio, total), (3, 2, 1, 3, 9));
    let first_day: i32 = one(
        &conn,
        "SELECT sofa FROM mimiciv_derived.first_day_sofa WHERE stay_id = 100",
    );
    assert_eq!(first_day, 9);
}

#[test]
fn expand_query_resolves_abbreviations() {
    assert_eq!(expand_query("HR"), ["hr", "heart rate"]);
    assert!(expand_query("map").contains(&"arterial blood pressure mean".to_string()));
    assert!(expand_query("SpO2").contains(&"o2 saturation pulseoxymetry".to_string()));
    assert_eq!(expand_query("serum cr"), ["serum cr", "serum creatinine"]);
    assert_eq!(expand_query("  Heart-Rate!! "), ["heart rate"]);
    assert!(expand_query("").is_empty());
}

#[test]
fn search_items_finds_labels_by_word_prefix_and_counts_use() {
    let tables = [
        "mimiciv_icu.d_items",
        "mimiciv_hosp.d_labitems",
        "mimiciv_hosp.labevents",
    ];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.d_items",
        "itemid, label, abbreviation, linksto, category, unitname",
        &[
            "220045, 'Heart Rate', 'HR', 'chartevents', 'Routine Vital Signs', 'bpm'",
            "220046, 'Heart rate Alarm - High', 'HR Alarm - High', 'chartevents', 'Alarms', 'bpm'",
            "224639, 'Daily Weight', 'Daily Weight', 'chartevents', 'General', 'kg'",
        ],
    );
    insert(
        &conn,
        "mimiciv_hosp.d_labitems",
        "itemid, label, fluid, category",
        &[
            "50912, 'Creatinine', 'Blood', 'Chemistry'",
            "51082, 'Creatinine, Urine', 'Urine', 'Chemistry'",
            "50800, 'Specimen Type', 'Blood', 'Blood Gas'",
        ],
    );
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, specimen_id, itemid, valuenum, valueuom",
        &[
            "1, 1, 1, 50912, 1.0, 'mg/dL'",
            "2, 1, 2, 50912, 1.1, 'mg/dL'",
        ],
    );
    let present: Vec<String> = tables.iter().map(|s| s.to_string()).collect();
    index_sources(&conn, &present).expect("index");
    let hr = search_items(&conn, "hr", 10).expect("search");
    assert_eq!(hr[0].id, "220045", "{hr:#?}");
    assert_eq!(hr[0].recorded_in, "mimiciv_icu.chartevents");
    assert_eq!(hr[0].unit.as_deref(), Some("bpm"));
    assert!(hr.iter().all(|m| m.id != "224639"));
    let cr = search_items(&conn, "cr", 10).expect("search");
    assert_eq!(cr[0].id, "50912");
    assert_eq!(cr[0].rows, Some(2));
    assert_eq!(cr[0].unit.as_deref(), Some("mg/dL"));
    assert!(cr.iter().any(|m| m.id == "51082"));
    // Bound, not spliced: a quote is just a character.
    assert!(
        search_items(&conn, "x' OR '1'='1", 10)
            .expect("search")
            .is_empty()
    );
}

#[test]
fn every_raw_table_and_column_has_a_description() {
    let described = descriptions::raw_tables();
    for table in schema::tables() {
        let d = described
            .iter()
            .find(|d| d.table == table.qualified_name())
            .unwrap_or_else(|| panic!("{} has no description", table.qualified_name()));
        assert!(
            !d.description.is_empty(),
            "{} has an empty description",
            d.table
        );
        for column in table.columns {
            assert!(
                d.columns
                    .iter()
                    .any(|(c, text)| c == column.name && !text.is_empty()),
                "{}.{} has no description",
                d.table,
                column.name
            );
        }
        for (column, _) in &d.columns {
            assert!(
                table.column(column).is_some(),
                "{} describes unknown column {column}",
                d.table
            );
        }
    }
}

#[test]
fn resources_cover_the_primer_and_every_concept() {
    let resources = resources::resources();
    assert_eq!(resources.len(), catalogue().len() + 1);
    assert!(resources[0].text.contains("anchor_age"));
    let kdigo = resources
        .iter()
        .find(|r| r.name == "mimiciv_derived.kdigo_stages")
        .expect("kdigo");
    assert!(kdigo.text.contains("KDIGO"));
    assert!(kdigo.text.contains("aki_stage_smoothed"));
    assert!(!resources::prompts().is_empty());
    for prompt in resources::prompts() {
        assert!(
            !prompt.template.trim().is_empty(),
            "{} has no text",
            prompt.name
        );
    }
}

#[test]
fn gcs_carries_components_forward_for_six_hours_and_scores_the_tube_as_unable() {
    let tables = ["mimiciv_icu.chartevents"];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.chartevents",
        "subject_id, hadm_id, stay_id, charttime, itemid, value, valuenum",
        &[
            "1, 10, 100, '2150-01-01 08:00', 220739, 'Spontaneously', 4",
            "1, 10, 100, '2150-01-01 08:00', 223900, 'Confused', 4",
            "1, 10, 100, '2150-01-01 08:00', 223901, 'Obeys Commands', 6",
            // One hour later only the motor response: eyes 4 and verbal 4 carried.
            "1, 10, 100, '2150-01-01 09:00', 223901, 'Localizes Pain', 5",
            // Nine hours later: nothing within 6 h to carry; missing parts count normal.
            "1, 10, 100, '2150-01-01 18:00', 223901, 'Flex-withdraws', 4",
            // Intubated: verbal not assessable.
            "1, 10, 100, '2150-01-02 08:00', 220739, 'To Pain', 2",
            "1, 10, 100, '2150-01-02 08:00', 223900, 'No Response-ETT', 1",
            "1, 10, 100, '2150-01-02 08:00', 223901, 'Abnormal Flexion', 3",
        ],
    );
    build_all(&conn, &tables);
    let rows = query_strings(
        &conn,
        "SELECT gcs || ':' || gcs_motor || ':' || coalesce(CAST(gcs_verbal AS VARCHAR), '-') || ':' || \
         coalesce(CAST(gcs_eyes AS VARCHAR), '-') || ':' || gcs_unable FROM mimiciv_derived.gcs ORDER BY charttime",
    );
    assert_eq!(
        rows,
        [
            "14.0:6.0:4.0:4.0:0",
            "13.0:5.0:4.0:4.0:0",
            "13.0:4.0:-:-:0",
            "15.0:3.0:0.0:2.0:1"
        ]
    );
}

#[test]
fn documented_dialysis_is_kdigo_stage_3() {
    let mut tables = KDIGO_TABLES.to_vec();
    tables.push("mimiciv_icu.procedureevents");
    let conn = db(&tables);
    kdigo_stay(&conn);
    creatinine(&conn, &[("2150-01-02 06:00", 1.0)]);
    insert(
        &conn,
        "mimiciv_icu.procedureevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid",
        &["1, 10, 100, '2150-01-03 10:00', '2150-01-03 14:00', 225441"],
    );
    build_all(&conn, &tables);
    let rows = query_strings(
        &conn,
        "SELECT strftime(charttime, '%d %H') || ':' || aki_stage || ':' || aki_stage_smoothed \
         FROM mimiciv_derived.kdigo_stages ORDER BY charttime",
    );
    // The start of the dialysis is stage 3 (its end is not a running dialysis).
    assert_eq!(rows, ["02 06:0:0", "03 10:3:3"]);
}

#[test]
fn docs_list_every_concept_as_the_sql_headers_say() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/derived-concepts.md");
    let generated = resources::catalogue_markdown();
    if std::env::var_os("M4_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs")).expect("docs folder");
        std::fs::write(&path, &generated).expect("write docs");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/derived-concepts.md is out of date; run `M4_BLESS=1 cargo test --release --lib concepts`"
    );
}

#[test]
fn meld_follows_kamath_with_the_unos_sodium_correction() {
    let tables = [
        "mimiciv_icu.icustays",
        "mimiciv_hosp.labevents",
        "mimiciv_icu.procedureevents",
    ];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &[
            "1, 10, 100, '2150-01-02 12:00', '2150-01-05 00:00'",
            "2, 20, 200, '2150-01-02 12:00', '2150-01-05 00:00'",
        ],
    );
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 1, 50912, '2150-01-02 14:00', '2.0', 2.0",
            "2, 1, 10, 1, 50885, '2150-01-02 14:00', '3.0', 3.0",
            "3, 1, 10, 2, 51237, '2150-01-02 14:00', '1.5', 1.5",
            "4, 1, 10, 1, 50983, '2150-01-02 14:00', '130', 130",
            // Stay 200: normal labs but on dialysis, so creatinine counts 4.0.
            "5, 2, 20, 3, 50912, '2150-01-02 14:00', '0.8', 0.8",
        ],
    );
    insert(
        &conn,
        "mimiciv_icu.procedureevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid",
        &["2, 20, 200, '2150-01-02 16:00', '2150-01-02 20:00', 225441"],
    );
    build_all(&conn, &tables);
    let (initial, meld): (f64, f64) = conn
        .query_row(
            "SELECT meld_initial, meld FROM mimiciv_derived.meld WHERE stay_id = 100",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    // 10 x round(0.957 ln 2 + 0.378 ln 3 + 1.120 ln 1.5 + 0.643, 1) = 22;
    // MELD-Na = 22 + 1.32 x 7 - 0.033 x 22 x 7 = 26.158.
    assert!((initial - 22.0).abs() < 1e-9, "{initial}");
    assert!((meld - 26.158).abs() < 1e-9, "{meld}");
    let (rrt, initial): (i32, f64) = conn
        .query_row(
            "SELECT rrt, meld_initial FROM mimiciv_derived.meld WHERE stay_id = 200",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    // 10 x round(0.957 ln 4 + 0.643, 1) = 10 x round(1.9697, 1) = 20.
    assert_eq!((rrt, initial), (1, 20.0));
}

#[test]
fn sepsis3_is_a_suspected_infection_with_sofa_2_or_more_from_48_hours_before_to_24_after() {
    let tables = [
        "mimiciv_icu.icustays",
        "mimiciv_hosp.labevents",
        "mimiciv_icu.inputevents",
        "mimiciv_icu.outputevents",
        "mimiciv_hosp.prescriptions",
        "mimiciv_hosp.microbiologyevents",
    ];
    let conn = db(&tables);
    insert(
        &conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &[
            "1, 10, 100, '2150-01-02 12:00', '2150-01-05 00:00'",
            "2, 20, 200, '2150-01-02 12:00', '2150-01-05 00:00'",
        ],
    );
    // Stay 100: platelets 45 K/uL at 14:10 (coagulation 3); stay 200: normal platelets.
    insert(
        &conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 1, 51265, '2150-01-02 14:10', '45', 45",
            "2, 2, 20, 2, 51265, '2150-01-02 14:10', '250', 250",
        ],
    );
    // Both: an antibiotic at 15:30 and a blood culture two hours later.
    insert(
        &conn,
        "mimiciv_hosp.prescriptions",
        "subject_id, hadm_id, starttime, stoptime, drug_type, drug, route",
        &[
            "1, 10, '2150-01-02 15:30', '2150-01-04 15:30', 'MAIN', 'Piperacillin-Tazobactam', 'IV'",
            "2, 20, '2150-01-02 15:30', '2150-01-04 15:30', 'MAIN', 'Piperacillin-Tazobactam', 'IV'",
        ],
    );
    insert(
        &conn,
        "mimiciv_hosp.microbiologyevents",
        "microevent_id, subject_id, hadm_id, micro_specimen_id, chartdate, charttime, spec_type_desc",
        &[
            "1, 1, 10, 501, '2150-01-02', '2150-01-02 17:30', 'BLOOD CULTURE'",
            "2, 2, 20, 502, '2150-01-02', '2150-01-02 17:30', 'BLOOD CULTURE'",
        ],
    );
    build_all(&conn, &tables);
    let rows = query_strings(
        &conn,
        "SELECT stay_id || ':' || strftime(suspected_infection_time, '%H:%M') || ':' || \
         coalesce(strftime(sofa_time, '%H:%M'), '-') || ':' || coalesce(CAST(sofa_score AS VARCHAR), '-') || ':' || sepsis3 \
         FROM mimiciv_derived.sepsis3 ORDER BY stay_id",
    );
    // Stay 100: the first hour with SOFA >= 2 ends at 15:00 (the platelets' hour).
    // Stay 200: no dysfunction; the highest SOFA (0) of the window, at its first hour
    // (hour -24 of the stay, ending 13:00 the day before).
    assert_eq!(rows, ["100:15:30:15:00:3:true", "200:15:30:13:00:0:false"]);
}

const SCORE_TABLES: [&str; 6] = [
    "mimiciv_icu.icustays",
    "mimiciv_icu.chartevents",
    "mimiciv_hosp.labevents",
    "mimiciv_icu.outputevents",
    "mimiciv_icu.procedureevents",
    "mimiciv_hosp.diagnoses_icd",
];

/// Three stays with known first-day values, for APS III and LODS.
/// - 100: intubated from 12:30 (FiO2 60 %), every APS III component abnormal.
/// - 200: not ventilated, creatinine 2.5 mg/dL with 300 mL urine (acute renal failure),
///   eyes closed, a gas on FiO2 60 % (scored by its PaO2: not intubated).
/// - 300: as 200 but coded with end-stage renal disease (chronic dialysis: no ARF).
fn score_stays(conn: &Connection) {
    insert(
        conn,
        "mimiciv_icu.icustays",
        "subject_id, hadm_id, stay_id, intime, outtime",
        &[
            "1, 10, 100, '2150-01-02 12:00', '2150-01-05 00:00'",
            "2, 20, 200, '2150-01-02 12:00', '2150-01-05 00:00'",
            "3, 30, 300, '2150-01-02 12:00', '2150-01-05 00:00'",
        ],
    );
    insert(
        conn,
        "mimiciv_icu.chartevents",
        "subject_id, hadm_id, stay_id, charttime, itemid, value, valuenum",
        &[
            "1, 10, 100, '2150-01-02 13:00', 220045, '45', 45",
            "1, 10, 100, '2150-01-02 14:00', 220045, '108', 108",
            "1, 10, 100, '2150-01-02 13:00', 220052, '55', 55",
            "1, 10, 100, '2150-01-02 14:00', 220052, '85', 85",
            "1, 10, 100, '2150-01-02 13:00', 220050, '65', 65",
            "1, 10, 100, '2150-01-02 14:00', 220050, '150', 150",
            "1, 10, 100, '2150-01-02 13:00', 223762, '38.0', 38.0",
            "1, 10, 100, '2150-01-02 14:00', 223762, '40.2', 40.2",
            "1, 10, 100, '2150-01-02 13:00', 220210, '10', 10",
            "1, 10, 100, '2150-01-02 14:00', 220210, '20', 20",
            "1, 10, 100, '2150-01-02 15:00', 220739, 'To Speech', 3",
            "1, 10, 100, '2150-01-02 15:00', 223900, 'Confused', 4",
            "1, 10, 100, '2150-01-02 15:00', 223901, 'Localizes Pain', 5",
            "2, 20, 200, '2150-01-02 13:00', 220210, '10', 10",
            "2, 20, 200, '2150-01-02 15:00', 220739, 'No Response', 1",
            "2, 20, 200, '2150-01-02 15:00', 223900, 'No Response', 1",
            "2, 20, 200, '2150-01-02 15:00', 223901, 'Flex-withdraws', 4",
            "3, 30, 300, '2150-01-02 13:00', 220210, '10', 10",
        ],
    );
    insert(
        conn,
        "mimiciv_hosp.labevents",
        "labevent_id, subject_id, hadm_id, specimen_id, itemid, charttime, value, valuenum",
        &[
            "1, 1, 10, 1, 51221, '2150-01-02 14:00', '38', 38",
            "2, 1, 10, 1, 51301, '2150-01-02 14:00', '22', 22",
            "3, 1, 10, 1, 51265, '2150-01-02 14:00', '40', 40",
            "4, 1, 10, 2, 50912, '2150-01-02 14:00', '1.7', 1.7",
            "5, 1, 10, 2, 51006, '2150-01-02 14:00', '45', 45",
            "6, 1, 10, 2, 50983, '2150-01-02 14:00', '130', 130",
            "7, 1, 10, 2, 50862, '2150-01-02 14:00', '2.2', 2.2",
            "8, 1, 10, 2, 50931, '2150-01-02 14:00', '250', 250",
            "9, 1, 10, 3, 50885, '2150-01-02 14:00', '3.5', 3.5",
            // Stay 100's gases: one before ICU admission on room air, one intubated.
            "10, 1, 10, 4, 52033, '2150-01-02 11:00', 'ART.', NULL",
            "11, 1, 10, 4, 50821, '2150-01-02 11:00', '65', 65",
            "12, 1, 10, 4, 50818, '2150-01-02 11:00', '40', 40",
            "13, 1, 10, 4, 50820, '2150-01-02 11:00', '7.40', 7.40",
            "14, 1, 10, 5, 52033, '2150-01-02 16:00', 'ART.', NULL",
            "15, 1, 10, 5, 50821, '2150-01-02 16:00', '80', 80",
            "16, 1, 10, 5, 50818, '2150-01-02 16:00', '35', 35",
            "17, 1, 10, 5, 50820, '2150-01-02 16:00', '7.25', 7.25",
            "18, 1, 10, 5, 50816, '2150-01-02 16:00', '60', 60",
            "20, 2, 20, 6, 50912, '2150-01-02 14:00', '2.5', 2.5",
            "21, 2, 20, 7, 51274, '2150-01-02 14:00', '16', 16",
            "22, 2, 20, 8, 52033, '2150-01-02 16:00', 'ART.', NULL",
            "23, 2, 20, 8, 50821, '2150-01-02 16:00', '60', 60",
            "24, 2, 20, 8, 50818, '2150-01-02 16:00', '40', 40",
            "25, 2, 20, 8, 50820, '2150-01-02 16:00', '7.40', 7.40",
            "26, 2, 20, 8, 50816, '2150-01-02 16:00', '60', 60",
            "30, 3, 30, 9, 50912, '2150-01-02 14:00', '2.5', 2.5",
        ],
    );
    insert(
        conn,
        "mimiciv_icu.outputevents",
        "subject_id, hadm_id, stay_id, charttime, itemid, value, valueuom",
        &[
            "1, 10, 100, '2150-01-02 18:00', 226559, 700, 'ml'",
            "2, 20, 200, '2150-01-02 18:00', 226559, 300, 'ml'",
            "3, 30, 300, '2150-01-02 18:00', 226559, 300, 'ml'",
        ],
    );
    insert(
        conn,
        "mimiciv_icu.procedureevents",
        "subject_id, hadm_id, stay_id, starttime, endtime, itemid",
        &["1, 10, 100, '2150-01-02 12:30', '2150-01-03 10:00', 225792"],
    );
    insert(
        conn,
        "mimiciv_hosp.diagnoses_icd",
        "subject_id, hadm_id, seq_num, icd_code, icd_version",
        &["2, 20, 1, 'I10', 10", "3, 30, 1, 'N186', 10"],
    );
}

#[test]
fn apsiii_weights_each_worst_value_as_knaus_1991() {
    let conn = db(&SCORE_TABLES);
    score_stays(&conn);
    build_all(&conn, &SCORE_TABLES);
    let rows = query_strings(
        &conn,
        "SELECT concat_ws(' ', stay_id, apsiii, hr_score, mbp_score, temp_score, resp_rate_score, \
         pao2_aado2_score, hematocrit_score, wbc_score, creatinine_score, uo_score, bun_score, \
         sodium_score, albumin_score, bilirubin_score, glucose_score, acidbase_score, \
         coalesce(CAST(gcs_score AS VARCHAR), '-')) FROM mimiciv_derived.apsiii ORDER BY stay_id",
    );
    // 100: heart rate 45 (5; the higher of 45 -> 5 and 108 -> 1), mean pressure 55 (15),
    // temperature 40.2 (4), respiratory rate 10 while intubated (0), A-aDO2 on FiO2 60 %
    // 0.6 x 713 - 35 / 0.8 - 80 = 304 (9; the PaO2 of 65 before intubation gives 5),
    // haematocrit 38 (3), white cells 22 (1), creatinine 1.7 without ARF (4), urine
    // 700 mL (7), BUN 45 (11), sodium 130 (2), albumin 2.2 (6), bilirubin 3.5 (6),
    // glucose 250 (3), pH 7.25 with PaCO2 35 (6), eyes open, confused, localising (8).
    // 200: respiratory rate 10 not ventilated (8), PaO2 60 on FiO2 60 % not intubated (5),
    // creatinine 2.5 with 300 mL urine (ARF: 10), urine (15), pH 7.40 / PaCO2 40 (0),
    // eyes closed, no verbal response, withdrawing (33).
    // 300: as 200 without gas or GCS, and chronic dialysis: creatinine scores 7.
    // Missing components are NULL, counted 0 in the total.
    assert_eq!(
        rows,
        [
            "100 90 5 15 4 0 9 3 1 4 7 11 2 6 6 3 6 8",
            "200 71 8 5 10 15 0 33",
            "300 30 8 7 15 -",
        ]
    );
    let prob: f64 = one(
        &conn,
        "SELECT apsiii_prob FROM mimiciv_derived.apsiii WHERE stay_id = 100",
    );
    // 1 / (1 + exp(-(-4.4360 + 0.04726 x 90)))
    assert!((prob - 0.454_476).abs() < 1e-5, "{prob}");
}

#[test]
fn lods_scores_six_organs_as_le_gall_1996() {
    let conn = db(&SCORE_TABLES);
    score_stays(&conn);
    build_all(&conn, &SCORE_TABLES);
    let rows = query_strings(
        &conn,
        "SELECT concat_ws(' ', stay_id, lods, coalesce(CAST(neurologic AS VARCHAR), '-'), \
         coalesce(CAST(cardiovascular AS VARCHAR), '-'), coalesce(CAST(renal AS VARCHAR), '-'), \
         coalesce(CAST(pulmonary AS VARCHAR), '-'), coalesce(CAST(hematologic AS VARCHAR), '-'), \
         coalesce(CAST(hepatic AS VARCHAR), '-')) FROM mimiciv_derived.lods ORDER BY stay_id",
    );
    // 100: GCS 12 (1); systolic 65 (3); BUN 45, creatinine 1.7, urine 700 mL (3);
    // ventilated with PaO2/FiO2 80 / 0.6 = 133 (3; the gas before intubation does not
    // count); platelets 40 (1); bilirubin 3.5 (1). Total 12.
    // 200: GCS 6 (3); no vital signs; urine 300 mL (5); not ventilated, so its gas with
    // PaO2/FiO2 100 scores 0; no blood count; prothrombin time 16 s (1). Total 9.
    // 300: urine 300 mL (5).
    assert_eq!(
        rows,
        [
            "100 12 1 3 3 3 1 1",
            "200 9 3 - 5 0 - 1",
            "300 5 - - 5 0 - -"
        ]
    );
    let probs: Vec<f64> = {
        let mut stmt = conn
            .prepare("SELECT lods_prob FROM mimiciv_derived.lods ORDER BY stay_id")
            .expect("query");
        stmt.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    // 1 / (1 + exp(-(-3.4043 + 0.4173 x LODS))) for 12 and 9.
    assert!((probs[0] - 0.832_479).abs() < 1e-5, "{probs:?}");
    assert!((probs[1] - 0.586_957).abs() < 1e-5, "{probs:?}");
}
