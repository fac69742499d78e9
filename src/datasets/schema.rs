//! The MIMIC-IV v2.2 table definitions (31 tables: 22 in `hosp`, 9 in `icu`), the one
//! place m4 states table names, column names, column order and column types.
//!
//! Transcribed from mimic-code's PostgreSQL DDL (`mimic-iv/buildmimic/postgres/create.sql`,
//! the v2.2 revision with the `provider`/`caregiver` columns) and checked against the
//! demo's csv.gz headers. PostgreSQL types are mapped to DuckDB's: `FLOAT` (8 bytes in
//! PostgreSQL) → `DOUBLE`, `REAL` → `REAL`, `TIMESTAMP(n)` → `TIMESTAMP`, `CHAR(n)`,
//! `VARCHAR(n)` and `TEXT` → `VARCHAR` (DuckDB neither pads nor enforces lengths).
//! This module does not read files or open databases.

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// DuckDB type name, as `information_schema.columns.data_type` reports it.
    pub sql_type: &'static str,
}

/// One MIMIC-IV table and where PhysioNet puts its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// PhysioNet's module folder: `hosp` or `icu`.
    pub module: &'static str,
    pub name: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    /// DuckDB schema holding the table (`mimiciv_hosp`, `mimiciv_icu`).
    pub fn schema(&self) -> &'static str {
        match self.module {
            "hosp" => "mimiciv_hosp",
            _ => "mimiciv_icu",
        }
    }

    /// `mimiciv_hosp.patients`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema(), self.name)
    }

    /// The file's path relative to the data set's root, `hosp/patients.csv.gz`.
    pub fn relative_path(&self) -> String {
        format!("{}/{}.csv.gz", self.module, self.name)
    }

    /// The column named `name`, compared case-insensitively (the full data set spells
    /// some headers in upper case, e.g. `procedureevents.ORIGINALAMOUNT`).
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
    }

    /// `CREATE TABLE` statement in DDL column order.
    pub fn create_sql(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("\"{}\" {}", c.name, c.sql_type))
            .collect();
        format!(
            "CREATE TABLE {} ({})",
            self.qualified_name(),
            columns.join(", ")
        )
    }
}

/// Every table, `hosp` first, alphabetical within a module (PhysioNet's listing order).
pub fn tables() -> &'static [Table] {
    &TABLES
}

/// Looks up a table by module and name.
pub fn table(module: &str, name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.module == module && t.name == name)
}

const fn c(name: &'static str, sql_type: &'static str) -> Column {
    Column { name, sql_type }
}

const INT: &str = "INTEGER";
const SMALL: &str = "SMALLINT";
const TEXT: &str = "VARCHAR";
const TS: &str = "TIMESTAMP";
const DATE: &str = "DATE";
const DBL: &str = "DOUBLE";
const REAL: &str = "FLOAT";

static TABLES: [Table; 31] = [
    Table {
        module: "hosp",
        name: "admissions",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("admittime", TS),
            c("dischtime", TS),
            c("deathtime", TS),
            c("admission_type", TEXT),
            c("admit_provider_id", TEXT),
            c("admission_location", TEXT),
            c("discharge_location", TEXT),
            c("insurance", TEXT),
            c("language", TEXT),
            c("marital_status", TEXT),
            c("race", TEXT),
            c("edregtime", TS),
            c("edouttime", TS),
            c("hospital_expire_flag", SMALL),
        ],
    },
    Table {
        module: "hosp",
        name: "d_hcpcs",
        columns: &[
            c("code", TEXT),
            c("category", SMALL),
            c("long_description", TEXT),
            c("short_description", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "d_icd_diagnoses",
        columns: &[
            c("icd_code", TEXT),
            c("icd_version", SMALL),
            c("long_title", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "d_icd_procedures",
        columns: &[
            c("icd_code", TEXT),
            c("icd_version", SMALL),
            c("long_title", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "d_labitems",
        columns: &[
            c("itemid", INT),
            c("label", TEXT),
            c("fluid", TEXT),
            c("category", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "diagnoses_icd",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("seq_num", INT),
            c("icd_code", TEXT),
            c("icd_version", SMALL),
        ],
    },
    Table {
        module: "hosp",
        name: "drgcodes",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("drg_type", TEXT),
            c("drg_code", TEXT),
            c("description", TEXT),
            c("drg_severity", SMALL),
            c("drg_mortality", SMALL),
        ],
    },
    Table {
        module: "hosp",
        name: "emar",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("emar_id", TEXT),
            c("emar_seq", INT),
            c("poe_id", TEXT),
            c("pharmacy_id", INT),
            c("enter_provider_id", TEXT),
            c("charttime", TS),
            c("medication", TEXT),
            c("event_txt", TEXT),
            c("scheduletime", TS),
            c("storetime", TS),
        ],
    },
    Table {
        module: "hosp",
        name: "emar_detail",
        columns: &[
            c("subject_id", INT),
            c("emar_id", TEXT),
            c("emar_seq", INT),
            c("parent_field_ordinal", TEXT),
            c("administration_type", TEXT),
            c("pharmacy_id", INT),
            c("barcode_type", TEXT),
            c("reason_for_no_barcode", TEXT),
            c("complete_dose_not_given", TEXT),
            c("dose_due", TEXT),
            c("dose_due_unit", TEXT),
            c("dose_given", TEXT),
            c("dose_given_unit", TEXT),
            c("will_remainder_of_dose_be_given", TEXT),
            c("product_amount_given", TEXT),
            c("product_unit", TEXT),
            c("product_code", TEXT),
            c("product_description", TEXT),
            c("product_description_other", TEXT),
            c("prior_infusion_rate", TEXT),
            c("infusion_rate", TEXT),
            c("infusion_rate_adjustment", TEXT),
            c("infusion_rate_adjustment_amount", TEXT),
            c("infusion_rate_unit", TEXT),
            c("route", TEXT),
            c("infusion_complete", TEXT),
            c("completion_interval", TEXT),
            c("new_iv_bag_hung", TEXT),
            c("continued_infusion_in_other_location", TEXT),
            c("restart_interval", TEXT),
            c("side", TEXT),
            c("site", TEXT),
            c("non_formulary_visual_verification", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "hcpcsevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("chartdate", DATE),
            c("hcpcs_cd", TEXT),
            c("seq_num", INT),
            c("short_description", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "labevents",
        columns: &[
            c("labevent_id", INT),
            c("subject_id", INT),
            c("hadm_id", INT),
            c("specimen_id", INT),
            c("itemid", INT),
            c("order_provider_id", TEXT),
            c("charttime", TS),
            c("storetime", TS),
            c("value", TEXT),
            c("valuenum", DBL),
            c("valueuom", TEXT),
            c("ref_range_lower", DBL),
            c("ref_range_upper", DBL),
            c("flag", TEXT),
            c("priority", TEXT),
            c("comments", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "microbiologyevents",
        columns: &[
            c("microevent_id", INT),
            c("subject_id", INT),
            c("hadm_id", INT),
            c("micro_specimen_id", INT),
            c("order_provider_id", TEXT),
            c("chartdate", TS),
            c("charttime", TS),
            c("spec_itemid", INT),
            c("spec_type_desc", TEXT),
            c("test_seq", INT),
            c("storedate", TS),
            c("storetime", TS),
            c("test_itemid", INT),
            c("test_name", TEXT),
            c("org_itemid", INT),
            c("org_name", TEXT),
            c("isolate_num", SMALL),
            c("quantity", TEXT),
            c("ab_itemid", INT),
            c("ab_name", TEXT),
            c("dilution_text", TEXT),
            c("dilution_comparison", TEXT),
            c("dilution_value", DBL),
            c("interpretation", TEXT),
            c("comments", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "omr",
        columns: &[
            c("subject_id", INT),
            c("chartdate", DATE),
            c("seq_num", INT),
            c("result_name", TEXT),
            c("result_value", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "patients",
        columns: &[
            c("subject_id", INT),
            c("gender", TEXT),
            c("anchor_age", SMALL),
            c("anchor_year", SMALL),
            c("anchor_year_group", TEXT),
            c("dod", DATE),
        ],
    },
    Table {
        module: "hosp",
        name: "pharmacy",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("pharmacy_id", INT),
            c("poe_id", TEXT),
            c("starttime", TS),
            c("stoptime", TS),
            c("medication", TEXT),
            c("proc_type", TEXT),
            c("status", TEXT),
            c("entertime", TS),
            c("verifiedtime", TS),
            c("route", TEXT),
            c("frequency", TEXT),
            c("disp_sched", TEXT),
            c("infusion_type", TEXT),
            c("sliding_scale", TEXT),
            c("lockout_interval", TEXT),
            c("basal_rate", REAL),
            c("one_hr_max", TEXT),
            c("doses_per_24_hrs", REAL),
            c("duration", REAL),
            c("duration_interval", TEXT),
            c("expiration_value", INT),
            c("expiration_unit", TEXT),
            c("expirationdate", TS),
            c("dispensation", TEXT),
            c("fill_quantity", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "poe",
        columns: &[
            c("poe_id", TEXT),
            c("poe_seq", INT),
            c("subject_id", INT),
            c("hadm_id", INT),
            c("ordertime", TS),
            c("order_type", TEXT),
            c("order_subtype", TEXT),
            c("transaction_type", TEXT),
            c("discontinue_of_poe_id", TEXT),
            c("discontinued_by_poe_id", TEXT),
            c("order_provider_id", TEXT),
            c("order_status", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "poe_detail",
        columns: &[
            c("poe_id", TEXT),
            c("poe_seq", INT),
            c("subject_id", INT),
            c("field_name", TEXT),
            c("field_value", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "prescriptions",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("pharmacy_id", INT),
            c("poe_id", TEXT),
            c("poe_seq", INT),
            c("order_provider_id", TEXT),
            c("starttime", TS),
            c("stoptime", TS),
            c("drug_type", TEXT),
            c("drug", TEXT),
            c("formulary_drug_cd", TEXT),
            c("gsn", TEXT),
            c("ndc", TEXT),
            c("prod_strength", TEXT),
            c("form_rx", TEXT),
            c("dose_val_rx", TEXT),
            c("dose_unit_rx", TEXT),
            c("form_val_disp", TEXT),
            c("form_unit_disp", TEXT),
            c("doses_per_24_hrs", REAL),
            c("route", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "procedures_icd",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("seq_num", INT),
            c("chartdate", DATE),
            c("icd_code", TEXT),
            c("icd_version", SMALL),
        ],
    },
    Table {
        module: "hosp",
        name: "provider",
        columns: &[c("provider_id", TEXT)],
    },
    Table {
        module: "hosp",
        name: "services",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("transfertime", TS),
            c("prev_service", TEXT),
            c("curr_service", TEXT),
        ],
    },
    Table {
        module: "hosp",
        name: "transfers",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("transfer_id", INT),
            c("eventtype", TEXT),
            c("careunit", TEXT),
            c("intime", TS),
            c("outtime", TS),
        ],
    },
    Table {
        module: "icu",
        name: "caregiver",
        columns: &[c("caregiver_id", INT)],
    },
    Table {
        module: "icu",
        name: "chartevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("charttime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("value", TEXT),
            c("valuenum", DBL),
            c("valueuom", TEXT),
            c("warning", SMALL),
        ],
    },
    Table {
        module: "icu",
        name: "d_items",
        columns: &[
            c("itemid", INT),
            c("label", TEXT),
            c("abbreviation", TEXT),
            c("linksto", TEXT),
            c("category", TEXT),
            c("unitname", TEXT),
            c("param_type", TEXT),
            c("lownormalvalue", DBL),
            c("highnormalvalue", DBL),
        ],
    },
    Table {
        module: "icu",
        name: "datetimeevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("charttime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("value", TS),
            c("valueuom", TEXT),
            c("warning", SMALL),
        ],
    },
    Table {
        module: "icu",
        name: "icustays",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("first_careunit", TEXT),
            c("last_careunit", TEXT),
            c("intime", TS),
            c("outtime", TS),
            c("los", DBL),
        ],
    },
    Table {
        module: "icu",
        name: "ingredientevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("starttime", TS),
            c("endtime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("amount", DBL),
            c("amountuom", TEXT),
            c("rate", DBL),
            c("rateuom", TEXT),
            c("orderid", INT),
            c("linkorderid", INT),
            c("statusdescription", TEXT),
            c("originalamount", DBL),
            c("originalrate", DBL),
        ],
    },
    Table {
        module: "icu",
        name: "inputevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("starttime", TS),
            c("endtime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("amount", DBL),
            c("amountuom", TEXT),
            c("rate", DBL),
            c("rateuom", TEXT),
            c("orderid", INT),
            c("linkorderid", INT),
            c("ordercategoryname", TEXT),
            c("secondaryordercategoryname", TEXT),
            c("ordercomponenttypedescription", TEXT),
            c("ordercategorydescription", TEXT),
            c("patientweight", DBL),
            c("totalamount", DBL),
            c("totalamountuom", TEXT),
            c("isopenbag", SMALL),
            c("continueinnextdept", SMALL),
            c("statusdescription", TEXT),
            c("originalamount", DBL),
            c("originalrate", DBL),
        ],
    },
    Table {
        module: "icu",
        name: "outputevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("charttime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("value", DBL),
            c("valueuom", TEXT),
        ],
    },
    Table {
        module: "icu",
        name: "procedureevents",
        columns: &[
            c("subject_id", INT),
            c("hadm_id", INT),
            c("stay_id", INT),
            c("caregiver_id", INT),
            c("starttime", TS),
            c("endtime", TS),
            c("storetime", TS),
            c("itemid", INT),
            c("value", DBL),
            c("valueuom", TEXT),
            c("location", TEXT),
            c("locationcategory", TEXT),
            c("orderid", INT),
            c("linkorderid", INT),
            c("ordercategoryname", TEXT),
            c("ordercategorydescription", TEXT),
            c("patientweight", DBL),
            c("isopenbag", SMALL),
            c("continueinnextdept", SMALL),
            c("statusdescription", TEXT),
            c("originalamount", DBL),
            c("originalrate", DBL),
        ],
    },
];

/// How a csv file's header lines up with a table's DDL columns.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderMismatch {
    /// A header the DDL does not define.
    Unknown(String),
    /// A DDL column the header lacks.
    Missing(&'static str),
    /// The same column twice.
    Duplicate(String),
}

/// Maps each header (file order) to its DDL column, case-insensitively; every DDL
/// column must appear exactly once.
pub fn match_header(
    table: &Table,
    header: &[String],
) -> Result<Vec<&'static Column>, HeaderMismatch> {
    let mut matched: Vec<&'static Column> = Vec::with_capacity(header.len());
    for name in header {
        let column = table
            .column(name)
            .ok_or_else(|| HeaderMismatch::Unknown(name.trim().to_string()))?;
        if matched.iter().any(|m| m.name == column.name) {
            return Err(HeaderMismatch::Duplicate(name.trim().to_string()));
        }
        matched.push(column);
    }
    if let Some(missing) = table
        .columns
        .iter()
        .find(|c| !matched.iter().any(|m| m.name == c.name))
    {
        return Err(HeaderMismatch::Missing(missing.name));
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn registry_has_22_hosp_and_9_icu_tables_with_unique_names() {
        let hosp = tables().iter().filter(|t| t.module == "hosp").count();
        let icu = tables().iter().filter(|t| t.module == "icu").count();
        assert_eq!((hosp, icu), (22, 9));
        for t in tables() {
            assert_eq!(
                tables().iter().filter(|u| u.name == t.name).count(),
                1,
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn header_matches_columns_case_insensitively_in_file_order() {
        let t = table("hosp", "d_labitems").expect("d_labitems is registered");
        let matched =
            match_header(t, &header(&["LABEL", "itemid", "Category", "fluid"])).expect("matches");
        let names: Vec<&str> = matched.iter().map(|c| c.name).collect();
        assert_eq!(names, ["label", "itemid", "category", "fluid"]);
    }

    #[test]
    fn procedureevents_upper_case_headers_match() {
        let t = table("icu", "procedureevents").expect("registered");
        let mut names: Vec<String> = t.columns.iter().map(|c| c.name.to_string()).collect();
        let n = names.len();
        names[n - 2] = "ORIGINALAMOUNT".into();
        names[n - 1] = "ORIGINALRATE".into();
        assert!(match_header(t, &names).is_ok());
    }

    #[test]
    fn header_with_unknown_column_is_named() {
        let t = table("hosp", "provider").expect("registered");
        assert_eq!(
            match_header(t, &header(&["provider_id", "shoe_size"])),
            Err(HeaderMismatch::Unknown("shoe_size".into()))
        );
    }

    #[test]
    fn header_missing_a_ddl_column_is_named() {
        let t = table("hosp", "d_labitems").expect("registered");
        assert_eq!(
            match_header(t, &header(&["itemid", "label", "fluid"])),
            Err(HeaderMismatch::Missing("category"))
        );
    }

    #[test]
    fn duplicate_header_is_rejected() {
        let t = table("hosp", "provider").expect("registered");
        assert_eq!(
            match_header(t, &header(&["provider_id", "PROVIDER_ID"])),
            Err(HeaderMismatch::Duplicate("PROVIDER_ID".into()))
        );
    }
}
