//! Table names: m4's canonical `mimiciv_hosp.patients` → BigQuery's fully
//! qualified, backticked `` `physionet-data.mimiciv_3_1_hosp.patients` ``.
//!
//! A small GoogleSQL tokenizer decides what is a table reference: nothing inside
//! a string literal (`'…'`, `"…"`, `'''…'''`, `"""…"""`, with `r`/`b` prefixes),
//! a comment (`--`, `#`, `/* */`) or a backticked identifier other than a whole
//! `` `mimiciv_hosp.patients` `` is ever touched, and a name given an `AS` alias
//! (`… AS mimiciv_hosp`) keeps meaning the alias. Fully qualified names are left
//! as written (an unquoted dashed data project is backticked, which GoogleSQL
//! accepts either way). This module only rewrites text; it decides nothing about
//! what may run (BigQuery's dry run does).

use std::collections::HashSet;

/// Where the canonical schemas live on BigQuery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMap {
    /// The project holding the data (`physionet-data`).
    pub data_project: String,
    /// Canonical schema (`mimiciv_hosp`) → BigQuery dataset (`mimiciv_3_1_hosp`).
    pub datasets: Vec<(String, String)>,
}

impl NameMap {
    /// The BigQuery dataset for canonical schema `schema`, any case.
    pub fn dataset_for(&self, schema: &str) -> Option<&str> {
        self.datasets
            .iter()
            .find(|(canonical, _)| canonical.eq_ignore_ascii_case(schema))
            .map(|(_, dataset)| dataset.as_str())
    }

    /// The canonical schema for BigQuery dataset `dataset` in the data project.
    pub fn canonical_for(&self, dataset: &str) -> Option<&str> {
        self.datasets
            .iter()
            .find(|(_, actual)| actual.eq_ignore_ascii_case(dataset))
            .map(|(canonical, _)| canonical.as_str())
    }

    /// `` `project.dataset.table` `` for a canonical schema and a table.
    pub fn qualified(&self, dataset: &str, table: &str) -> String {
        format!("`{}.{}.{}`", self.data_project, dataset, table)
    }
}

/// One lexical piece of GoogleSQL, as a byte range of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Space,
    Comment,
    /// A string or bytes literal, any quoting.
    Literal,
    /// `` `…` ``.
    Quoted,
    /// A bare identifier or keyword.
    Word,
    Number,
    Punct,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Splits `sql` into tokens covering every byte. Never fails: an unterminated
/// literal or comment runs to the end of the text (BigQuery then reports it).
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let kind = if c.is_ascii_whitespace() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            Kind::Space
        } else if c == b'#' || (c == b'-' && bytes.get(i + 1) == Some(&b'-')) {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            Kind::Comment
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            Kind::Comment
        } else if c == b'\'' || c == b'"' {
            i = literal_end(bytes, i);
            Kind::Literal
        } else if let Some(quote_at) = literal_prefix(bytes, i) {
            i = literal_end(bytes, quote_at);
            Kind::Literal
        } else if c == b'`' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'`' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            Kind::Quoted
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Kind::Word
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Kind::Number
        } else {
            // One character (a multi-byte one whole).
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
            Kind::Punct
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    tokens
}

/// Where the quote of a prefixed literal (`r'…'`, `b"…"`, `rb'''…'''`) starts.
fn literal_prefix(bytes: &[u8], i: usize) -> Option<usize> {
    let is_prefix = |b: u8| matches!(b.to_ascii_lowercase(), b'r' | b'b');
    let mut j = i;
    while j < bytes.len() && j < i + 2 && is_prefix(bytes[j]) {
        j += 1;
    }
    // `rr'…'` and `bb'…'` are not literals; a word boundary must come before.
    let prefix_ok = j > i
        && (j - i == 1 || !bytes[i].eq_ignore_ascii_case(&bytes[i + 1]))
        && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
    (prefix_ok && matches!(bytes.get(j), Some(b'\'' | b'"'))).then_some(j)
}

/// The end of a literal whose quote starts at `i`.
fn literal_end(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        let b = bytes[j];
        if b == b'\\' {
            // An escape; in a raw literal too, a backslash keeps the next quote from closing it.
            j += 2;
            continue;
        }
        if b == quote {
            if !triple {
                return j + 1;
            }
            if bytes.get(j + 1) == Some(&quote) && bytes.get(j + 2) == Some(&quote) {
                return j + 3;
            }
        }
        if b == b'\n' && !triple {
            // A one-line literal cannot span lines; BigQuery reports it.
            return j;
        }
        j += 1;
    }
    bytes.len()
}

/// `sql` with every canonical table reference replaced by its BigQuery name.
/// Idempotent: rewriting the result again changes nothing.
pub fn rewrite(sql: &str, names: &NameMap) -> String {
    let tokens = tokenize(sql);
    let text = |t: &Token| &sql[t.start..t.end];
    let aliases = aliases(sql, &tokens, names);
    let mut out = String::with_capacity(sql.len() + 64);
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let after_dot = i > 0 && text(&tokens[i - 1]) == ".";
        // `mimiciv_hosp.patients`, `mimiciv_hosp.`patients``, `` `mimiciv_hosp`.patients ``.
        if !after_dot
            && let Some(dataset) = schema_token(sql, &token, names)
            && !aliases.contains(&bare(text(&token)).to_ascii_lowercase())
            && tokens.get(i + 1).is_some_and(|t| text(t) == ".")
            && let Some(table) = tokens.get(i + 2).and_then(|t| name_token(sql, t))
        {
            let more = tokens.get(i + 3).is_some_and(|t| text(t) == ".")
                && tokens
                    .get(i + 4)
                    .is_some_and(|t| name_token(sql, t).is_some());
            if more {
                // `mimiciv_hosp.patients.subject_id`: a column of the table, whose
                // implicit alias on BigQuery is the bare table name.
                out.push_str(text(&tokens[i + 2]));
            } else {
                out.push_str(&names.qualified(dataset, table));
            }
            i += 3;
            continue;
        }
        // `` `mimiciv_hosp.patients` `` as one quoted name.
        if token.kind == Kind::Quoted && !after_dot {
            let inner = bare(text(&token));
            if let Some((schema, table)) = inner.split_once('.')
                && !table.contains('.')
                && !table.is_empty()
                && let Some(dataset) = names.dataset_for(schema)
                && !aliases.contains(&schema.to_ascii_lowercase())
            {
                out.push_str(&names.qualified(dataset, table));
                i += 1;
                continue;
            }
        }
        // `physionet-data.mimiciv_3_1_hosp.patients` unquoted: backtick the path.
        if token.kind == Kind::Word
            && !after_dot
            && let Some(end) = dashed_project_path(sql, &tokens, i, &names.data_project)
        {
            out.push('`');
            out.push_str(&sql[token.start..tokens[end - 1].end]);
            out.push('`');
            i = end;
            continue;
        }
        out.push_str(text(&token));
        i += 1;
    }
    out
}

/// The dataset for a token naming a canonical schema (bare or backticked).
fn schema_token<'n>(sql: &str, token: &Token, names: &'n NameMap) -> Option<&'n str> {
    let text = &sql[token.start..token.end];
    match token.kind {
        Kind::Word => names.dataset_for(text),
        Kind::Quoted if !bare(text).contains('.') => names.dataset_for(bare(text)),
        _ => None,
    }
}

/// The name a bare or backticked single-part identifier token holds.
fn name_token<'s>(sql: &'s str, token: &Token) -> Option<&'s str> {
    let text = &sql[token.start..token.end];
    match token.kind {
        Kind::Word => Some(text),
        Kind::Quoted if !bare(text).contains('.') && !bare(text).is_empty() => Some(bare(text)),
        _ => None,
    }
}

/// The inside of a backticked identifier (or the text itself).
fn bare(text: &str) -> &str {
    text.strip_prefix('`')
        .and_then(|t| t.strip_suffix('`'))
        .unwrap_or(text)
}

/// Canonical schema names the query uses as aliases (`AS mimiciv_hosp`, or a
/// CTE `mimiciv_hosp AS (`), lower case: their uses are not table names.
fn aliases(sql: &str, tokens: &[Token], names: &NameMap) -> HashSet<String> {
    let significant: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t.kind, Kind::Space | Kind::Comment))
        .collect();
    let text = |t: &Token| sql[t.start..t.end].to_string();
    let mut found = HashSet::new();
    for (k, token) in significant.iter().enumerate() {
        let Some(name) = name_token(sql, token) else {
            continue;
        };
        if names.dataset_for(name).is_none() {
            continue;
        }
        let before_as = k > 0 && text(significant[k - 1]).eq_ignore_ascii_case("as");
        let cte = significant
            .get(k + 1)
            .is_some_and(|t| text(t).eq_ignore_ascii_case("as"))
            && significant.get(k + 2).is_some_and(|t| text(t) == "(");
        if before_as || cte {
            found.insert(name.to_ascii_lowercase());
        }
    }
    found
}

/// For `physionet-data.ds.table` written unquoted from token `i`: the token
/// index just past the path, when its dashed head is the data project.
fn dashed_project_path(sql: &str, tokens: &[Token], i: usize, project: &str) -> Option<usize> {
    if !project.contains('-') {
        return None;
    }
    let mut j = i;
    let mut head = String::new();
    // word (- word|number)*
    loop {
        let token = tokens.get(j)?;
        if !matches!(token.kind, Kind::Word | Kind::Number) {
            return None;
        }
        head.push_str(&sql[token.start..token.end]);
        j += 1;
        match tokens.get(j) {
            Some(t) if &sql[t.start..t.end] == "-" => {
                head.push('-');
                j += 1;
            }
            _ => break,
        }
    }
    if !head.eq_ignore_ascii_case(project) {
        return None;
    }
    // . dataset . table
    for _ in 0..2 {
        if tokens.get(j).map(|t| &sql[t.start..t.end]) != Some(".") {
            return None;
        }
        let part = tokens.get(j + 1)?;
        if part.kind != Kind::Word {
            return None;
        }
        j += 2;
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> NameMap {
        NameMap {
            data_project: "physionet-data".into(),
            datasets: vec![
                ("mimiciv_hosp".into(), "mimiciv_3_1_hosp".into()),
                ("mimiciv_icu".into(), "mimiciv_3_1_icu".into()),
                ("mimiciv_derived".into(), "mimiciv_3_1_derived".into()),
            ],
        }
    }

    fn rw(sql: &str) -> String {
        rewrite(sql, &names())
    }

    #[test]
    fn table_references_become_fully_qualified_backticked_names() {
        assert_eq!(
            rw(
                "SELECT * FROM mimiciv_hosp.patients p JOIN mimiciv_icu.icustays USING (subject_id)"
            ),
            "SELECT * FROM `physionet-data.mimiciv_3_1_hosp.patients` p JOIN `physionet-data.mimiciv_3_1_icu.icustays` USING (subject_id)"
        );
        assert_eq!(
            rw("select 1 from MIMICIV_DERIVED.sepsis3"),
            "select 1 from `physionet-data.mimiciv_3_1_derived.sepsis3`"
        );
        for quoted in [
            "`mimiciv_hosp.patients`",
            "`mimiciv_hosp`.patients",
            "mimiciv_hosp.`patients`",
            "`mimiciv_hosp`.`patients`",
        ] {
            assert_eq!(
                rw(&format!("SELECT * FROM {quoted}")),
                "SELECT * FROM `physionet-data.mimiciv_3_1_hosp.patients`",
                "{quoted}"
            );
        }
    }

    #[test]
    fn literals_comments_and_other_quoted_names_are_untouched() {
        for sql in [
            "SELECT 'mimiciv_hosp.patients'",
            "SELECT \"mimiciv_hosp.patients\"",
            "SELECT '''a\nmimiciv_hosp.patients'''",
            "SELECT \"\"\"mimiciv_hosp.patients\"\"\"",
            "SELECT r'\\'mimiciv_hosp.patients'",
            "SELECT rb\"mimiciv_hosp.x\"",
            "SELECT 'it\\'s mimiciv_hosp.patients'",
            "SELECT 1 -- mimiciv_hosp.patients",
            "SELECT 1 # mimiciv_hosp.patients",
            "SELECT /* mimiciv_hosp.patients */ 1",
            "SELECT `x mimiciv_hosp.patients`",
            "SELECT `my-proj.mimiciv_hosp.patients`",
            "SELECT * FROM `physionet-data.mimiciv_3_1_hosp.patients`",
            "SELECT * FROM other.mimiciv_hosp.patients",
        ] {
            assert_eq!(rw(sql), sql);
        }
    }

    #[test]
    fn aliases_named_like_a_schema_are_left_alone() {
        let sql = "SELECT mimiciv_hosp.subject_id FROM t AS mimiciv_hosp";
        assert_eq!(rw(sql), sql);
        let sql = "WITH mimiciv_icu AS (SELECT 1 AS x) SELECT mimiciv_icu.x FROM mimiciv_icu";
        assert_eq!(rw(sql), sql);
    }

    #[test]
    fn a_three_part_column_path_keeps_the_table_alias() {
        assert_eq!(
            rw("SELECT mimiciv_hosp.patients.subject_id FROM mimiciv_hosp.patients"),
            "SELECT patients.subject_id FROM `physionet-data.mimiciv_3_1_hosp.patients`"
        );
    }

    #[test]
    fn an_unquoted_dashed_data_project_is_backticked() {
        assert_eq!(
            rw("SELECT * FROM physionet-data.mimiciv_3_1_hosp.patients"),
            "SELECT * FROM `physionet-data.mimiciv_3_1_hosp.patients`"
        );
        // Subtraction with spaces is not a path.
        assert_eq!(rw("SELECT physionet - data.x"), "SELECT physionet - data.x");
    }

    #[test]
    fn unterminated_text_does_not_panic() {
        for sql in ["'abc", "/* x", "`abc", "r'", "'''ab", "é-- ü", "\\", "b"] {
            let _ = rw(sql);
        }
    }

    /// Pieces of a query: (text, whether it is a canonical table reference that must be rewritten).
    fn piece() -> impl Strategy<Value = (String, Option<String>)> {
        let table = "[a-z][a-z_]{0,8}";
        let schema = prop_oneof![
            Just("mimiciv_hosp"),
            Just("mimiciv_icu"),
            Just("mimiciv_derived")
        ];
        let junk = "[a-z0-9 _.,()*=<>+]{0,12}";
        prop_oneof![
            (schema.clone(), table).prop_map(|(s, t)| {
                let dataset = format!("mimiciv_3_1_{}", s.trim_start_matches("mimiciv_"));
                (
                    format!(" {s}.{t} "),
                    Some(format!("`physionet-data.{dataset}.{t}`")),
                )
            }),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" '{s}.{t}' "), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" \"\"\"{s}.{t}\"\"\" "), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" r'{s}.{t}\\' x' "), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" -- {s}.{t}\n"), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" # {s}.{t}\n"), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" /* {s}.{t} */ "), None)),
            (schema.clone(), table).prop_map(|(s, t)| (format!(" `x {s}.{t}` "), None)),
            (schema, table).prop_map(|(s, t)| (format!(" {t} AS x{s} "), None)),
            junk.prop_map(|j| (format!(" {j} "), None)),
        ]
    }

    proptest! {
        #[test]
        fn every_reference_is_rewritten_and_nothing_else(pieces in proptest::collection::vec(piece(), 0..12)) {
            let sql: String = pieces.iter().map(|(text, _)| text.as_str()).collect();
            let expected: String = pieces
                .iter()
                .map(|(text, rewritten)| match rewritten {
                    Some(name) => format!(" {name} "),
                    None => text.clone(),
                })
                .collect();
            let out = rw(&sql);
            prop_assert_eq!(&out, &expected);
            prop_assert_eq!(rw(&out), out.clone(), "idempotent");
        }

        #[test]
        fn any_text_tokenizes_into_the_whole_text(sql in "\\PC{0,64}") {
            let tokens = tokenize(&sql);
            let joined: String = tokens.iter().map(|t| &sql[t.start..t.end]).collect();
            prop_assert_eq!(joined, sql.clone());
            let _ = rw(&sql);
        }
    }
}
