//! `search_items`: finding the item id or code for a clinical idea ("heart rate",
//! "creatinine", "sepsis") in the five MIMIC-IV dictionaries, so that a model writes
//! `itemid = 220045` instead of guessing.
//!
//! [`expand_query`] is pure: it normalises the query and adds the spelled-out forms of
//! common bedside abbreviations. The SQL (`search_items.sql`) runs once per term with
//! the term as a bound parameter; user text never becomes SQL. Usage counts come from
//! `m4_meta.item_usage` (`item_usage.sql`), built with the database.

use std::collections::BTreeMap;

use duckdb::Connection;

use super::{ConceptError, db_error, empty_relation, replace_relation, table_exists};

const SEARCH_SQL: &str = include_str!("search_items.sql");
const USAGE_SQL: &str = include_str!("item_usage.sql");

/// The dictionaries `search_items` reads.
const DICTIONARIES: [&str; 5] = [
    "mimiciv_icu.d_items",
    "mimiciv_hosp.d_labitems",
    "mimiciv_hosp.d_icd_diagnoses",
    "mimiciv_hosp.d_icd_procedures",
    "mimiciv_hosp.d_hcpcs",
];

/// The event tables `item_usage.sql` counts.
const EVENT_TABLES: [&str; 10] = [
    "mimiciv_hosp.labevents",
    "mimiciv_icu.chartevents",
    "mimiciv_icu.inputevents",
    "mimiciv_icu.ingredientevents",
    "mimiciv_icu.outputevents",
    "mimiciv_icu.procedureevents",
    "mimiciv_icu.datetimeevents",
    "mimiciv_hosp.diagnoses_icd",
    "mimiciv_hosp.procedures_icd",
    "mimiciv_hosp.hcpcsevents",
];

/// Abbreviations clinicians type, and what MIMIC-IV's labels call them.
#[rustfmt::skip]
const ABBREVIATIONS: &[(&str, &[&str])] = &[
    ("hr", &["heart rate"]),
    ("pulse", &["heart rate"]),
    ("map", &["arterial blood pressure mean", "non invasive blood pressure mean"]),
    ("mbp", &["arterial blood pressure mean", "non invasive blood pressure mean"]),
    ("bp", &["blood pressure"]),
    ("sbp", &["arterial blood pressure systolic", "non invasive blood pressure systolic"]),
    ("dbp", &["arterial blood pressure diastolic", "non invasive blood pressure diastolic"]),
    ("abp", &["arterial blood pressure"]),
    ("nibp", &["non invasive blood pressure"]),
    ("rr", &["respiratory rate"]),
    ("resp", &["respiratory rate"]),
    ("temp", &["temperature"]),
    ("spo2", &["o2 saturation pulseoxymetry"]),
    ("sao2", &["arterial o2 saturation", "oxygen saturation"]),
    ("sat", &["o2 saturation"]),
    ("fio2", &["inspired o2 fraction"]),
    ("peep", &["peep set", "total peep level"]),
    ("gcs", &["gcs"]),
    ("cvp", &["central venous pressure"]),
    ("icp", &["intracranial pressure"]),
    ("uo", &["foley", "void", "urine"]),
    ("wt", &["weight"]),
    ("ht", &["height"]),
    ("wbc", &["white blood cells"]),
    ("rbc", &["red blood cells"]),
    ("hgb", &["hemoglobin"]),
    ("hb", &["hemoglobin"]),
    ("hct", &["hematocrit"]),
    ("plt", &["platelet count"]),
    ("plts", &["platelet count"]),
    ("cr", &["creatinine"]),
    ("creat", &["creatinine"]),
    ("scr", &["creatinine"]),
    ("bun", &["urea nitrogen"]),
    ("na", &["sodium"]),
    ("k", &["potassium"]),
    ("cl", &["chloride"]),
    ("hco3", &["bicarbonate"]),
    ("bicarb", &["bicarbonate"]),
    ("mg", &["magnesium"]),
    ("phos", &["phosphate"]),
    ("ca", &["calcium"]),
    ("glu", &["glucose"]),
    ("bili", &["bilirubin"]),
    ("tbili", &["bilirubin total"]),
    ("alt", &["alanine aminotransferase"]),
    ("ast", &["asparate aminotransferase", "aspartate aminotransferase"]),
    ("alp", &["alkaline phosphatase"]),
    ("ldh", &["lactate dehydrogenase"]),
    ("inr", &["inr"]),
    ("ptt", &["ptt"]),
    ("lac", &["lactate"]),
    ("abg", &["blood gas"]),
    ("pao2", &["po2"]),
    ("paco2", &["pco2"]),
    ("trop", &["troponin"]),
    ("bnp", &["ntprobnp", "natriuretic"]),
    ("crp", &["c reactive protein"]),
    ("norepi", &["norepinephrine"]),
    ("levophed", &["norepinephrine"]),
    ("epi", &["epinephrine"]),
    ("vaso", &["vasopressin"]),
    ("neo", &["phenylephrine"]),
    ("abx", &["antibiotic"]),
    ("afib", &["atrial fibrillation"]),
    ("mi", &["myocardial infarction"]),
    ("chf", &["heart failure"]),
    ("aki", &["acute kidney failure"]),
    ("ckd", &["chronic kidney disease"]),
    ("esrd", &["end stage renal disease"]),
    ("copd", &["chronic obstructive pulmonary disease"]),
    ("uti", &["urinary tract infection"]),
    ("dm", &["diabetes mellitus"]),
    ("htn", &["hypertension"]),
    ("ards", &["acute respiratory distress"]),
    ("pe", &["pulmonary embolism"]),
    ("dvt", &["deep vein thrombosis", "venous embolism and thrombosis"]),
    ("cabg", &["coronary artery bypass"]),
    ("ett", &["endotracheal tube"]),
    ("crrt", &["crrt"]),
];

/// The search terms for `query`: the normalised query itself, then the spelled-out
/// forms of each abbreviation it is or contains (word by word), without duplicates.
pub fn expand_query(query: &str) -> Vec<String> {
    let normalised = normalise(query);
    let mut terms = Vec::new();
    if normalised.is_empty() {
        return terms;
    }
    terms.push(normalised.clone());
    let words: Vec<&str> = normalised.split(' ').collect();
    for (i, word) in words.iter().enumerate() {
        if let Some((_, expansions)) = ABBREVIATIONS.iter().find(|(a, _)| a == word) {
            for expansion in *expansions {
                let mut replaced = words.clone();
                replaced[i] = *expansion;
                let term = replaced.join(" ");
                if !terms.contains(&term) {
                    terms.push(term);
                }
            }
        }
    }
    terms
}

/// Lower case; every run of characters other than ASCII letters and digits becomes
/// one space; trimmed (the same normalisation the SQL applies to labels).
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// One dictionary entry that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemMatch {
    /// The item id (`220045`) or code (`N179`).
    pub id: String,
    /// 9 or 10 for ICD codes, `None` otherwise.
    pub icd_version: Option<i16>,
    pub label: String,
    pub category: Option<String>,
    /// The dictionary's unit, or the unit most often recorded with the item.
    pub unit: Option<String>,
    /// `mimiciv_icu.d_items`, `mimiciv_hosp.d_labitems`, ...
    pub dictionary: String,
    /// The table whose rows use it (`mimiciv_icu.chartevents`).
    pub recorded_in: String,
    /// Rows of `recorded_in` using it in this data set; `None` when unknown (the table
    /// is absent, or the database predates `m4_meta.item_usage`).
    pub rows: Option<u64>,
    /// The search term that found it.
    pub term: String,
}

/// A dictionary entry: (dictionary, id, ICD version).
type EntryKey = (String, String, Option<i16>);
/// A match with its rank and the position of the term that found it.
type Ranked = (i32, usize, ItemMatch);

/// Up to `limit` dictionary entries matching `query` or the expansions of its
/// abbreviations, best first: exact and leading matches before others, then the
/// entries most used in this data set.
pub fn search_items(
    conn: &Connection,
    query: &str,
    limit: usize,
) -> Result<Vec<ItemMatch>, ConceptError> {
    let terms = expand_query(query);
    let limit = limit.clamp(1, 500);
    let mut sql = super::body(SEARCH_SQL);
    for dictionary in DICTIONARIES {
        if !table_exists(conn, dictionary)? {
            sql = replace_relation(&sql, dictionary, &empty_relation(dictionary, 0));
        }
    }
    if !table_exists(conn, "m4_meta.item_usage")? {
        sql = replace_relation(
            &sql,
            "m4_meta.item_usage",
            "(SELECT CAST(NULL AS VARCHAR) AS recorded_in, CAST(NULL AS VARCHAR) AS id, \
             CAST(NULL AS SMALLINT) AS icd_version, CAST(NULL AS BIGINT) AS row_count, \
             CAST(NULL AS VARCHAR) AS unit WHERE false)",
        );
    }
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_error("prepare search_items"))?;
    let mut best: BTreeMap<EntryKey, Ranked> = BTreeMap::new();
    for (order, term) in terms.iter().enumerate() {
        let rows = stmt
            .query_map(duckdb::params![term, limit as i64], |r| {
                Ok((
                    r.get::<_, i32>(8)?,
                    ItemMatch {
                        dictionary: r.get(0)?,
                        id: r.get(1)?,
                        icd_version: r.get(2)?,
                        label: r.get(3)?,
                        category: r.get(4)?,
                        unit: r.get(5)?,
                        recorded_in: r.get(6)?,
                        rows: r.get::<_, Option<i64>>(7)?.map(|n| n as u64),
                        term: term.clone(),
                    },
                ))
            })
            .map_err(db_error("run search_items"))?;
        for row in rows {
            let (rank, item) = row.map_err(db_error("read search_items"))?;
            let key = (item.dictionary.clone(), item.id.clone(), item.icd_version);
            let better = best
                .get(&key)
                .is_none_or(|(r, o, _)| (rank, order) < (*r, *o));
            if better {
                best.insert(key, (rank, order, item));
            }
        }
    }
    let mut out: Vec<Ranked> = best.into_values().collect();
    out.sort_by(|a, b| {
        (
            a.0,
            std::cmp::Reverse(a.2.rows.unwrap_or(0)),
            a.1,
            &a.2.label,
        )
            .cmp(&(
                b.0,
                std::cmp::Reverse(b.2.rows.unwrap_or(0)),
                b.1,
                &b.2.label,
            ))
    });
    Ok(out.into_iter().take(limit).map(|(_, _, m)| m).collect())
}

/// Builds `m4_meta.item_usage` for the event tables present.
pub(crate) fn build_item_usage(conn: &Connection) -> Result<(), ConceptError> {
    let mut sql = super::body(USAGE_SQL);
    for table in EVENT_TABLES {
        if !table_exists(conn, table)? {
            sql = replace_relation(&sql, table, &empty_relation(table, 0));
        }
    }
    conn.execute_batch(&format!(
        "CREATE SCHEMA IF NOT EXISTS m4_meta; \
         CREATE OR REPLACE TABLE m4_meta.item_usage AS\n{sql}\n;"
    ))
    .map_err(db_error("count item usage into `m4_meta.item_usage`"))
}
