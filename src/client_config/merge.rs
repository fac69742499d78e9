//! Putting m4's entry into the text of a client's JSON configuration, keeping
//! everything else as the user wrote it: other servers and settings, the order of
//! every key (serde_json's `preserve_order`), the indent, the line endings and the
//! final newline. A file already laid out the way Claude Desktop writes it comes
//! back byte for byte apart from m4's entry. Pure: reading and writing the file
//! is `write`'s job.

use serde::Serialize;
use serde_json::{Map, Value};

/// Why an existing configuration file cannot take m4's entry.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("is not valid JSON ({0})")]
    Syntax(serde_json::Error),
    #[error("has `{key}` that is not a JSON object")]
    NotAnObject { key: String },
}

/// What merging did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The file already holds exactly this entry.
    Unchanged,
    /// A new entry; the file's new text.
    Added(String),
    /// An entry of that name was replaced; the file's new text.
    Updated(String),
}

/// Puts `entry` under `servers_key.name` in the JSON text `existing` (absent or blank:
/// a new file), keeping every other key and server. Pure: the caller does the I/O.
pub fn merge_entry(
    existing: Option<&str>,
    servers_key: &str,
    name: &str,
    entry: &Value,
) -> Result<Merge, MergeError> {
    let style = existing.map(Style::of).unwrap_or_default();
    let mut root = match existing.map(str::trim) {
        None | Some("") => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text).map_err(MergeError::Syntax)? {
            Value::Object(map) => map,
            _ => {
                return Err(MergeError::NotAnObject {
                    key: "(top level)".to_string(),
                });
            }
        },
    };
    let servers = root
        .entry(servers_key.to_string())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| MergeError::NotAnObject {
            key: servers_key.to_string(),
        })?;
    let previous = servers.insert(name.to_string(), entry.clone());
    if previous.as_ref() == Some(entry) {
        return Ok(Merge::Unchanged);
    }
    let text = style.render(&Value::Object(root));
    Ok(match previous {
        None => Merge::Added(text),
        Some(_) => Merge::Updated(text),
    })
}

/// The layout of the user's file that m4 can keep when it writes the file again:
/// the indent unit, the line ending and whether the file ends with one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Style {
    indent: String,
    line_ending: &'static str,
    final_newline: bool,
}

impl Default for Style {
    /// What Claude Desktop itself writes (`JSON.stringify(config, null, 2)`), plus a
    /// final newline.
    fn default() -> Style {
        Style {
            indent: "  ".to_string(),
            line_ending: "\n",
            final_newline: true,
        }
    }
}

impl Style {
    /// The style of `text`: the indent of its first indented line (two spaces when
    /// it has none, e.g. a file on one line).
    fn of(text: &str) -> Style {
        let indent = text
            .lines()
            .map(|line| {
                let body = line.trim_start_matches([' ', '\t']);
                (&line[..line.len() - body.len()], body)
            })
            .find(|(indent, body)| !indent.is_empty() && !body.trim().is_empty())
            .map(|(indent, _)| indent.to_string());
        Style {
            indent: indent.unwrap_or_else(|| Style::default().indent),
            line_ending: if text.contains("\r\n") { "\r\n" } else { "\n" },
            final_newline: text.trim().is_empty() || text.ends_with('\n'),
        }
    }

    fn render(&self, value: &Value) -> String {
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        // Serialising a `Value` into memory cannot fail: its keys are strings.
        let _ = value.serialize(&mut serializer);
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if self.final_newline {
            text.push('\n');
        }
        if self.line_ending != "\n" {
            // JSON strings hold no raw newline, so every one is a line break.
            text = text.replace('\n', self.line_ending);
        }
        text
    }
}

/// `value` as m4 prints a new file or a snippet: two-space indent, final newline.
pub(super) fn pretty(value: &Value) -> String {
    Style::default().render(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry() -> Value {
        json!({"command": "/opt/m4/bin/m4", "args": ["serve"]})
    }

    fn parse(merge: &Merge) -> Value {
        match merge {
            Merge::Added(text) | Merge::Updated(text) => serde_json::from_str(text).unwrap(),
            Merge::Unchanged => panic!("expected a change"),
        }
    }

    #[test]
    fn merge_into_absent_or_blank_file_creates_servers_object() {
        for existing in [None, Some(""), Some("  \n")] {
            let merged = merge_entry(existing, "mcpServers", "m4", &entry()).unwrap();
            assert!(matches!(merged, Merge::Added(_)));
            assert_eq!(parse(&merged), json!({"mcpServers": {"m4": entry()}}));
        }
    }

    #[test]
    fn merge_keeps_other_servers_and_top_level_keys() {
        let existing = r#"{"globalShortcut": "Ctrl+Space",
            "mcpServers": {"other": {"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}}}}"#;
        let merged = merge_entry(Some(existing), "mcpServers", "m4", &entry()).unwrap();
        let value = parse(&merged);
        assert_eq!(value["globalShortcut"], "Ctrl+Space");
        assert_eq!(
            value["mcpServers"]["other"],
            json!({"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}})
        );
        assert_eq!(value["mcpServers"]["m4"], entry());
    }

    #[test]
    fn merge_of_same_entry_is_unchanged_and_a_different_one_is_an_update() {
        let first = merge_entry(None, "mcpServers", "m4", &entry()).unwrap();
        let Merge::Added(text) = first else {
            panic!("expected Added")
        };
        assert_eq!(
            merge_entry(Some(&text), "mcpServers", "m4", &entry()).unwrap(),
            Merge::Unchanged
        );
        let other = json!({"command": "/elsewhere/m4", "args": ["serve"]});
        let updated = merge_entry(Some(&text), "mcpServers", "m4", &other).unwrap();
        assert!(matches!(updated, Merge::Updated(_)));
        assert_eq!(parse(&updated)["mcpServers"]["m4"], other);
    }

    #[test]
    fn merge_uses_the_clients_servers_key() {
        let merged = merge_entry(Some(r#"{"inputs": []}"#), "servers", "m4", &entry()).unwrap();
        assert_eq!(
            parse(&merged),
            json!({"inputs": [], "servers": {"m4": entry()}})
        );
    }

    #[test]
    fn merge_rejects_malformed_json_and_non_objects() {
        assert!(matches!(
            merge_entry(Some("{\"mcpServers\": {"), "mcpServers", "m4", &entry()),
            Err(MergeError::Syntax(_))
        ));
        assert!(matches!(
            merge_entry(Some("[1, 2]"), "mcpServers", "m4", &entry()),
            Err(MergeError::NotAnObject { .. })
        ));
        let err =
            merge_entry(Some(r#"{"mcpServers": []}"#), "mcpServers", "m4", &entry()).unwrap_err();
        assert!(err.to_string().contains("`mcpServers`"), "{err}");
    }

    fn any_server() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        (
            "[a-z/ ]{1,12}",
            proptest::collection::vec("\\PC{0,8}", 0..3),
            proptest::option::of(proptest::collection::btree_map(
                "[A-Z_]{1,8}",
                "\\PC{0,8}",
                0..3,
            )),
        )
            .prop_map(|(command, args, env)| match env {
                Some(env) => json!({"command": command, "args": args, "env": env}),
                None => json!({"command": command, "args": args}),
            })
    }

    proptest::proptest! {
        #[test]
        fn merge_keeps_every_other_server_and_is_idempotent(
            servers in proptest::collection::btree_map("\\PC{1,10}", any_server(), 0..6),
            extra in proptest::option::of("\\PC{0,10}"),
        ) {
            let mut root = Map::new();
            root.insert("mcpServers".into(), json!(servers));
            if let Some(extra) = &extra {
                root.insert("globalShortcut".into(), json!(extra));
            }
            let existing = serde_json::to_string(&Value::Object(root.clone())).unwrap();

            let merged = merge_entry(Some(&existing), "mcpServers", "m4", &entry()).unwrap();

            let text = match &merged {
                Merge::Unchanged => {
                    proptest::prop_assert_eq!(servers.get("m4"), Some(&entry()));
                    existing.clone()
                }
                Merge::Added(text) | Merge::Updated(text) => text.clone(),
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            for (name, server) in servers.iter().filter(|(name, _)| name.as_str() != "m4") {
                proptest::prop_assert_eq!(&value["mcpServers"][name], server);
            }
            proptest::prop_assert_eq!(&value["mcpServers"]["m4"], &entry());
            proptest::prop_assert_eq!(value.get("globalShortcut"), root.get("globalShortcut"));
            proptest::prop_assert_eq!(
                merge_entry(Some(&text), "mcpServers", "m4", &entry()).unwrap(),
                Merge::Unchanged
            );
        }
    }

    #[test]
    fn merge_keeps_the_users_key_order_and_layout_byte_for_byte() {
        // Four-space indent, keys in no sorted order, no final newline.
        let before_close = "{\n    \"mcpServers\": {\n        \"zeta\": {\n            \"env\": {\n                \"B\": \"1\",\n                \"A\": \"2\"\n            },\n            \"command\": \"z\",\n            \"args\": []\n        }";
        let after_close = "\n    },\n    \"globalShortcut\": \"Ctrl+Space\"\n}";
        let existing = format!("{before_close}{after_close}");
        let Merge::Added(text) =
            merge_entry(Some(&existing), "mcpServers", "m4", &entry()).unwrap()
        else {
            panic!("expected Added")
        };
        let added = ",\n        \"m4\": {\n            \"command\": \"/opt/m4/bin/m4\",\n            \"args\": [\n                \"serve\"\n            ]\n        }";
        assert_eq!(text, format!("{before_close}{added}{after_close}"));
    }

    #[test]
    fn an_updated_entry_keeps_its_place_and_crlf_files_stay_crlf() {
        let existing = "{\r\n\t\"mcpServers\": {\r\n\t\t\"b\": {},\r\n\t\t\"m4\": {},\r\n\t\t\"a\": {}\r\n\t}\r\n}\r\n";
        let Merge::Updated(text) =
            merge_entry(Some(existing), "mcpServers", "m4", &entry()).unwrap()
        else {
            panic!("expected Updated")
        };
        assert_eq!(
            text,
            "{\r\n\t\"mcpServers\": {\r\n\t\t\"b\": {},\r\n\t\t\"m4\": {\r\n\t\t\t\"command\": \"/opt/m4/bin/m4\",\r\n\t\t\t\"args\": [\r\n\t\t\t\t\"serve\"\r\n\t\t\t]\r\n\t\t},\r\n\t\t\"a\": {}\r\n\t}\r\n}\r\n"
        );
    }

    #[test]
    fn an_entry_with_the_same_content_in_another_key_order_is_unchanged() {
        let existing =
            r#"{"mcpServers": {"m4": {"args": ["serve"], "command": "/opt/m4/bin/m4"}}}"#;
        assert_eq!(
            merge_entry(Some(existing), "mcpServers", "m4", &entry()).unwrap(),
            Merge::Unchanged
        );
    }
}
