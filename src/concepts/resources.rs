//! Texts for MCP resources and prompts: a MIMIC-IV primer and one page per derived
//! concept (definition, columns, sources, citation), generated from the catalogue.
//! The server decides how to expose them; this module only provides the text.

use super::{SCHEMA, catalogue};

/// One resource: a stable URI, a name, a one-line description and markdown text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub uri: String,
    pub name: String,
    pub description: String,
    pub text: String,
}

const PRIMER: &str = include_str!("resources/primer.md");

/// The primer first, then one resource per concept in catalogue order.
pub fn resources() -> Vec<Resource> {
    let mut out = vec![Resource {
        uri: "m4://mimic-iv/primer".into(),
        name: "MIMIC-IV primer".into(),
        description: "How MIMIC-IV is organised: subjects, admissions, ICU stays, time shifting, where vitals, labs, drugs and outcomes live, common pitfalls".into(),
        text: PRIMER.to_string(),
    }];
    for concept in catalogue() {
        let mut text = format!(
            "# {SCHEMA}.{}\n\n{}\n\nFamily: {}. Built from: {}.\n",
            concept.name,
            concept.description(),
            concept.family.folder(),
            concept
                .sources
                .iter()
                .chain(concept.optional_sources)
                .map(|s| format!("`{s}`"))
                .chain(
                    concept
                        .depends
                        .iter()
                        .chain(concept.optional_depends)
                        .map(|d| format!("`{SCHEMA}.{d}`"))
                )
                .collect::<Vec<_>>()
                .join(", ")
        );
        text.push_str("\n## Columns\n\n");
        for (column, description) in concept.column_descriptions() {
            text.push_str(&format!("- `{column}`: {description}\n"));
        }
        let notes: Vec<String> = concept
            .header()
            .lines()
            .filter(|l| !l.trim_start().starts_with('@'))
            .map(str::to_string)
            .collect();
        text.push_str("\n## Definition\n\n");
        text.push_str(notes.join("\n").trim());
        text.push('\n');
        out.push(Resource {
            uri: format!("m4://mimic-iv/derived/{}", concept.name),
            name: format!("{SCHEMA}.{}", concept.name),
            description: concept.description().to_string(),
            text,
        });
    }
    out
}

/// One prompt template for a recurring task: name, description, and the text with
/// `{argument}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub name: &'static str,
    pub description: &'static str,
    pub arguments: &'static [(&'static str, &'static str)],
    pub template: &'static str,
}

/// The prompts for recurring research tasks.
pub fn prompts() -> &'static [Prompt] {
    &PROMPTS
}

static PROMPTS: [Prompt; 3] = [
    Prompt {
        name: "build_cohort",
        description: "Build a cohort of ICU stays (first ICU stay, adults by default) and describe it",
        arguments: &[(
            "criteria",
            "Inclusion criteria in words, e.g. 'adults with sepsis on their first ICU stay'",
        )],
        template: include_str!("resources/prompt_build_cohort.md"),
    },
    Prompt {
        name: "compute_score",
        description: "Compute a severity score (SOFA, SAPS II, OASIS, APS III, LODS, Charlson, ...) for a cohort from mimiciv_derived",
        arguments: &[
            ("score", "The score, e.g. first_day_sofa, sapsii, charlson"),
            ("cohort", "The cohort in words"),
        ],
        template: include_str!("resources/prompt_compute_score.md"),
    },
    Prompt {
        name: "compare_outcome",
        description: "Compare an outcome (mortality, length of stay, ...) between groups of a cohort",
        arguments: &[
            ("outcome", "e.g. hospital mortality"),
            ("groups", "e.g. AKI stage 2-3 vs none in the first 48 h"),
        ],
        template: include_str!("resources/prompt_compare_outcome.md"),
    },
];

/// `docs/derived-concepts.md`: every concept with its family, sources, description and
/// the header's notes (definition, citation, differences from mimic-code), generated
/// from the catalogue so that the docs cannot drift from the SQL.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# mimiciv_derived: the concepts m4 builds\n\n\
         Generated from `src/concepts/` (each concept's SQL header); do not edit by hand:\n\
         run `M4_BLESS=1 cargo test --release --lib concepts` after changing a concept.\n\n\
         Table and column names follow mimic-code's MIMIC-IV concepts and PhysioNet's\n\
         BigQuery `mimiciv_derived`. The SQL is m4's own, written from the cited definitions;\n\
         where m4's reading differs from mimic-code's tables, the concept says so below.\n\
         A concept whose sources are missing is skipped by `m4 init` and named in its report\n\
         (the MIMIC-IV demo lacks `mimiciv_icu.chartevents`); an optional source that is\n\
         missing is replaced by an empty table, and the report says `built without ...`.\n",
    );
    let mut family = None;
    for concept in catalogue() {
        if family != Some(concept.family) {
            family = Some(concept.family);
            out.push_str(&format!("\n## {}\n", concept.family.folder()));
        }
        let needs: Vec<String> = concept
            .sources
            .iter()
            .map(|s| format!("`{s}`"))
            .chain(concept.depends.iter().map(|d| format!("`{d}`")))
            .collect();
        let optional: Vec<String> = concept
            .optional_sources
            .iter()
            .map(|s| format!("`{s}`"))
            .chain(concept.optional_depends.iter().map(|d| format!("`{d}`")))
            .collect();
        out.push_str(&format!(
            "\n### {}\n\n{}\n\nNeeds: {}.",
            concept.name,
            concept.description(),
            if needs.is_empty() {
                "nothing".to_string()
            } else {
                needs.join(", ")
            }
        ));
        if !optional.is_empty() {
            out.push_str(&format!(" Uses when present: {}.", optional.join(", ")));
        }
        out.push_str(&format!(" SQL: `src/concepts/{}`.\n\n", concept.file()));
        let notes: Vec<String> = concept
            .header()
            .lines()
            .filter(|l| !l.trim_start().starts_with('@') && !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    out
}
