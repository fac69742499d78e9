//! MCP resources and prompts: the MIMIC-IV primer, one page per derived concept,
//! and templates for recurring research tasks. The texts are `concepts`'; this
//! module only maps them onto MCP's types and errors.

use rmcp::model::{
    ErrorData, GetPromptResult, ListPromptsResult, ListResourcesResult, Prompt, PromptArgument,
    PromptMessage, ReadResourceResult, Resource, ResourceContents, Role,
};
use serde_json::{Map, Value};

use crate::concepts::resources as texts;

const MARKDOWN: &str = "text/markdown";

/// Every resource, the primer first.
pub(super) fn list() -> ListResourcesResult {
    ListResourcesResult::with_all_items(
        texts::resources()
            .into_iter()
            .map(|resource| {
                Resource::new(resource.uri, resource.name)
                    .with_description(resource.description)
                    .with_mime_type(MARKDOWN)
            })
            .collect(),
    )
}

/// The text of the resource at `uri`.
pub(super) fn read(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    texts::resources()
        .into_iter()
        .find(|resource| resource.uri == uri)
        .map(|resource| {
            ReadResourceResult::new(vec![
                ResourceContents::text(resource.text, resource.uri).with_mime_type(MARKDOWN),
            ])
        })
        .ok_or_else(|| {
            ErrorData::resource_not_found(
                format!(
                    "no resource `{}`; resources/list names them (m4://mimic-iv/primer, m4://mimic-iv/derived/<concept>)",
                    uri.chars().take(200).collect::<String>()
                ),
                None,
            )
        })
}

/// Every prompt with its arguments.
pub(super) fn prompts() -> ListPromptsResult {
    ListPromptsResult::with_all_items(
        texts::prompts()
            .iter()
            .map(|prompt| {
                let arguments = prompt
                    .arguments
                    .iter()
                    .map(|(name, description)| {
                        PromptArgument::new(*name)
                            .with_description(*description)
                            .with_required(true)
                    })
                    .collect();
                Prompt::new(prompt.name, Some(prompt.description), Some(arguments))
            })
            .collect(),
    )
}

/// The prompt `name` with its `{argument}` placeholders filled in.
pub(super) fn prompt(
    name: &str,
    arguments: Option<&Map<String, Value>>,
) -> Result<GetPromptResult, ErrorData> {
    let prompt = texts::prompts()
        .iter()
        .find(|prompt| prompt.name == name)
        .ok_or_else(|| {
            ErrorData::invalid_params(
                format!(
                    "no prompt `{}`; prompts/list names them",
                    name.chars().take(100).collect::<String>()
                ),
                None,
            )
        })?;
    let mut text = prompt.template.to_string();
    for (argument, _) in prompt.arguments {
        let value = arguments
            .and_then(|given| given.get(*argument))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("prompt `{}` needs the argument `{argument}`", prompt.name),
                    None,
                )
            })?;
        text = text.replace(&format!("{{{argument}}}"), value);
    }
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(prompt.description),
    )
}
