//! The MCP tools: their arguments (whose doc comments and ranges become the JSON
//! schema the model reads), descriptions, and what each asks of the engine.
//!
//! Tool names follow the Python M4 server so prompts and habits carry over.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ErrorData, GetPromptRequestParams, GetPromptResponse, ListPromptsResult,
    ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{CallContext, M4Server, ToolError, ToolOutput};
use crate::config::DEFAULT_CALL_ROWS;
use crate::datasets;
use crate::engine::{LabItem as EngineLabItem, Limits, QueryResult, ToolQuery};
use crate::format;

/// What the model is told when it connects.
const INSTRUCTIONS: &str = "m4 answers questions about MIMIC-IV, an intensive-care database, \
with read-only SQL over DuckDB. Workflow: 1) get_database_schema to see the tables \
(schemas mimiciv_hosp, mimiciv_icu, and mimiciv_derived for clinical concepts such as \
sepsis3, kdigo_stages, first_day_sofa, charlson); 2) get_table_info on the tables you need, to \
learn their columns (with descriptions) and see sample rows; search_items to find the itemid \
or code for a vital sign, lab test or diagnosis; 3) execute_query with one SELECT. The \
resource m4://mimic-iv/primer explains the stay hierarchy and time shifting. Always schema-qualify \
tables (mimiciv_hosp.patients). Results are capped (rows and bytes) and say when they were \
truncated: aggregate in SQL (COUNT, AVG, GROUP BY) rather than fetching raw rows. Item \
labels live in dictionary tables (mimiciv_hosp.d_labitems, mimiciv_icu.d_items): join them. \
list_datasets shows which data sets exist; a result from the synthetic data set is not real \
patient data and must not be reported as such.";

/// execute_query's description; [`fit_to_limits`] adds the caps of this server.
const EXECUTE_QUERY_DESCRIPTION: &str = "Run ONE read-only SQL query and get a table back. Dialect: DuckDB SQL on local data sets; GoogleSQL on mimic-iv-bigquery (BigQuery; SELECT or WITH ... SELECT only, checked by a free dry run, with a cost cap). Allowed on DuckDB: SELECT, WITH ... SELECT, VALUES, DESCRIBE, SHOW, SUMMARIZE; anything that writes, reads files or changes settings is refused. Schema-qualify tables (mimiciv_hosp.admissions). Example: SELECT gender, count(*) AS n FROM mimiciv_hosp.patients GROUP BY gender.";

/// Largest `limit` the convenience tools accept (also in each schema's `maximum`).
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DatasetArg {
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TableInfoArgs {
    /// Table name, preferably schema-qualified, e.g. `mimiciv_hosp.patients` or `mimiciv_icu.icustays`.
    pub table_name: String,
    /// Also return a few sample rows (default true).
    pub show_sample: Option<bool>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExecuteQueryArgs {
    /// One read-only DuckDB SQL query (SELECT, WITH ... SELECT, VALUES, DESCRIBE, SHOW, SUMMARIZE),
    /// e.g. `SELECT gender, count(*) FROM mimiciv_hosp.patients GROUP BY gender`.
    pub sql_query: String,
    /// Most rows to return, from 1 to the server's cap (see `maximum`); default 100.
    /// Ask for fewer to keep the answer short, for more only when the rows
    /// themselves are needed: aggregating in SQL is almost always better.
    #[schemars(range(min = 1))]
    pub max_rows: Option<i64>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct IcuStaysArgs {
    /// Only this patient's stays (`subject_id`); omit for all patients.
    pub patient_id: Option<i64>,
    /// Maximum rows, 1 to 1000 (default 10).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

/// A lab test given by its `itemid` or by (part of) its label.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum LabItem {
    /// `itemid` from mimiciv_hosp.d_labitems, e.g. 50912 (creatinine).
    Id(i64),
    /// Label text, matched case-insensitively as a substring, e.g. "creatinine"; digits alone are an itemid.
    Label(String),
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LabResultsArgs {
    /// Only this patient's results (`subject_id`); omit for all patients.
    pub patient_id: Option<i64>,
    /// The lab test: an itemid (50912) or a label ("creatinine"); omit for all tests.
    pub lab_item: Option<LabItem>,
    /// Maximum rows, 1 to 1000 (default 20).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchItemsArgs {
    /// What to look for, in words or common abbreviations: "heart rate", "hr", "map",
    /// "spo2", "creatinine", "wbc", "sepsis", "norepinephrine".
    pub query: String,
    /// Maximum matches, 1 to 100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<i64>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RaceDistributionArgs {
    /// Number of race categories to return, 1 to 1000 (default 10).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// Data set to use (see list_datasets); default: the server's data set.
    pub dataset: Option<String>,
}

/// Checks a `limit` argument and says which bound is enforced.
fn limit_arg(limit: Option<i64>, default: u32) -> Result<u32, ToolError> {
    let limit = limit.unwrap_or(default.into());
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit as u32)
    } else {
        Err(ToolError::InvalidArgument(format!(
            "`limit` must be between 1 and {MAX_LIMIT}; got {limit}. For more rows, aggregate with execute_query."
        )))
    }
}

/// Checks execute_query's `max_rows` against the server's cap.
fn max_rows_arg(max_rows: Option<i64>, cap: usize) -> Result<usize, ToolError> {
    let Some(asked) = max_rows else {
        return Ok(DEFAULT_CALL_ROWS.min(cap));
    };
    match usize::try_from(asked) {
        Ok(rows) if (1..=cap).contains(&rows) => Ok(rows),
        _ => Err(ToolError::InvalidArgument(format!(
            "`max_rows` must be between 1 and {cap} (this server's cap); got {asked}. \
             For an answer over more rows, aggregate in SQL (COUNT, GROUP BY, AVG) instead."
        ))),
    }
}

/// Sets what depends on the server's limits in the tools' schemas: the range of
/// execute_query's `max_rows`, and the caps its description names.
pub(super) fn fit_to_limits(
    mut router: ToolRouter<M4Server>,
    limits: &Limits,
) -> ToolRouter<M4Server> {
    if let Some(route) = router.map.get_mut("execute_query") {
        let schema = Arc::make_mut(&mut route.attr.input_schema);
        if let Some(max_rows) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("max_rows"))
            .and_then(serde_json::Value::as_object_mut)
        {
            max_rows.insert("maximum".to_string(), json!(limits.max_rows));
            max_rows.insert(
                "default".to_string(),
                json!(DEFAULT_CALL_ROWS.min(limits.max_rows)),
            );
        }
        route.attr.description = Some(
            format!(
                "{EXECUTE_QUERY_DESCRIPTION} Results are capped at {} rows unless you pass max_rows \
                 (up to {}), at {} bytes of table, and at {} s: aggregate in SQL instead of \
                 fetching raw rows. SQL errors come back with the engine's own message so you can fix the query.",
                DEFAULT_CALL_ROWS.min(limits.max_rows),
                limits.max_rows,
                limits.max_bytes,
                limits.timeout.as_secs()
            )
            .into(),
        );
    }
    router
}

/// A query result as tool output; `max_rows` is the row limit it ran under.
fn table_output(context: &CallContext, result: QueryResult, max_rows: usize) -> ToolOutput {
    let limits = context.limits();
    let (rows, truncated) = (result.row_count(), result.truncated.is_some());
    let rendered = format::render(result, max_rows, limits.max_bytes);
    ToolOutput {
        text: rendered.text,
        structured: Some(rendered.structured),
        rows,
        truncated,
    }
}

#[tool_router(vis = "pub(super)")]
impl M4Server {
    #[tool(
        description = "List the data sets m4 knows (MIMIC-IV demo, full MIMIC-IV, synthetic), which are initialised, and which one tools use by default. Use it when the user asks what data is available or wants another data set; pass its name as `dataset` to other tools.",
        annotations(
            title = "List data sets",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_datasets(&self, cancel: CancellationToken) -> CallToolResult {
        let server = self.clone();
        self.call("list_datasets", None, cancel, move |_context| {
            // Only whether each database file exists: opening them here would
            // clash with this process's own read-only instances.
            let store = &server.state.store;
            let default = store.choose(None)?.name;
            let specs = datasets::all();
            let mut text = String::new();
            format::push_row(&mut text, ["data set", "initialised", "default", "description"].into_iter());
            format::push_row(&mut text, ["---"; 4].into_iter());
            let mut items = Vec::new();
            for spec in specs {
                let initialised = store.is_initialised(spec);
                let is_default = spec.name == default;
                format::push_row(
                    &mut text,
                    [
                        spec.name,
                        if initialised { "yes" } else { "no" },
                        if is_default { "yes" } else { "" },
                        spec.description,
                    ]
                    .into_iter(),
                );
                items.push(json!({
                    "name": spec.name,
                    "dialect": spec.dialect(),
                    "initialised": initialised,
                    "default": is_default,
                    "synthetic": spec.synthetic,
                    "description": spec.description,
                }));
            }
            text.push_str(
                "\nA data set that is not initialised is built by the user with `m4 init <name>` in a terminal.\n",
            );
            Ok(ToolOutput {
                text,
                structured: Some(json!({ "datasets": items })),
                rows: specs.len(),
                truncated: false,
            })
        })
        .await
    }

    #[tool(
        description = "List every table (schema-qualified, e.g. mimiciv_hosp.patients) with its row count. Start here: then call get_table_info on the tables you need, then execute_query.",
        annotations(
            title = "Database schema",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_database_schema(
        &self,
        Parameters(args): Parameters<DatasetArg>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("get_database_schema", args.dataset, cancel, |context| {
            let tables = context.engine()?.tables()?;
            let mut text = format!(
                "Data set `{}`: {} tables\n\n",
                context.spec.name,
                tables.len()
            );
            format::push_row(&mut text, ["table", "rows", "description"].into_iter());
            format::push_row(&mut text, ["---"; 3].into_iter());
            for table in &tables {
                let rows = table.rows.to_string();
                format::push_row(
                    &mut text,
                    [
                        table.qualified_name().as_str(),
                        rows.as_str(),
                        table.description.as_deref().unwrap_or(""),
                    ]
                    .into_iter(),
                );
            }
            Ok(ToolOutput {
                text,
                structured: Some(json!({"dataset": context.spec.name, "tables": tables})),
                rows: tables.len(),
                truncated: false,
            })
        })
        .await
    }

    #[tool(
        description = "Describe one table: its columns (name, type, nullable) and, unless show_sample is false, 3 sample rows. Accepts `mimiciv_hosp.patients`, `hosp.patients` or a bare `patients`; an unknown name gets the closest real table names.",
        annotations(
            title = "Table info",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_table_info(
        &self,
        Parameters(args): Parameters<TableInfoArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("get_table_info", args.dataset, cancel, move |context| {
            let engine = context.engine()?;
            let table = engine.resolve_table(&args.table_name)?;
            let info = engine.table_info(&table)?;
            let mut text = format!("Table `{}` ({} rows)", table.qualified_name(), table.rows);
            if let Some(description) = &table.description {
                text.push_str(": ");
                text.push_str(description);
            }
            text.push_str("\n\n");
            format::push_row(
                &mut text,
                ["column", "type", "nullable", "description"].into_iter(),
            );
            format::push_row(&mut text, ["---"; 4].into_iter());
            for column in &info.columns {
                format::push_row(
                    &mut text,
                    [
                        column.name.as_str(),
                        column.type_name.as_str(),
                        if column.nullable { "yes" } else { "no" },
                        column.description.as_deref().unwrap_or(""),
                    ]
                    .into_iter(),
                );
            }
            let mut structured = json!({"table": info});
            let mut sample_rows = 0;
            if args.show_sample.unwrap_or(true) {
                let sample = context.run_tool(ToolQuery::SampleRows {
                    table: &table,
                    limit: 3,
                })?;
                sample_rows = sample.row_count();
                let limits = context.limits();
                let rendered = format::render(sample, limits.max_rows, limits.max_bytes);
                text.push_str("\nSample rows:\n\n");
                text.push_str(&rendered.text);
                structured["sample"] = rendered.structured;
            }
            Ok(ToolOutput {
                text,
                structured: Some(structured),
                rows: sample_rows,
                truncated: false,
            })
        })
        .await
    }

    #[tool(
        description = "Run ONE read-only SQL query (DuckDB SQL locally, GoogleSQL on mimic-iv-bigquery) and get a table back. Results are capped (rows, bytes, time): aggregate in SQL instead of fetching raw rows.",
        annotations(
            title = "Execute SQL query",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn execute_query(
        &self,
        Parameters(args): Parameters<ExecuteQueryArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("execute_query", args.dataset, cancel, move |context| {
            tracing::debug!(sql = %args.sql_query, "execute_query");
            let max_rows = max_rows_arg(args.max_rows, context.limits().max_rows)?;
            let result = context.run_sql(&args.sql_query, max_rows)?;
            Ok(table_output(context, result, max_rows))
        })
        .await
    }

    #[tool(
        description = "ICU stays from mimiciv_icu.icustays (subject_id, hadm_id, stay_id, care units, intime, outtime, length of stay in days), for one patient or all, ordered by patient and admission time.",
        annotations(
            title = "ICU stays",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_icu_stays(
        &self,
        Parameters(args): Parameters<IcuStaysArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("get_icu_stays", args.dataset, cancel, move |context| {
            let limit = limit_arg(args.limit, 10)?;
            let result = context.run_tool(ToolQuery::IcuStays {
                patient_id: args.patient_id,
                limit,
            })?;
            Ok(table_output(context, result, context.limits().max_rows))
        })
        .await
    }

    #[tool(
        description = "Lab results from mimiciv_hosp.labevents joined with their labels from mimiciv_hosp.d_labitems, for one patient or all, one lab test or all. lab_item is an itemid (50912) or part of a label (\"creatinine\", case-insensitive).",
        annotations(
            title = "Lab results",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_lab_results(
        &self,
        Parameters(args): Parameters<LabResultsArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("get_lab_results", args.dataset, cancel, move |context| {
            let limit = limit_arg(args.limit, 20)?;
            let item = match &args.lab_item {
                None => None,
                Some(LabItem::Id(id)) => Some(EngineLabItem::Id(*id)),
                Some(LabItem::Label(text)) => Some(match text.trim().parse::<i64>() {
                    Ok(id) => EngineLabItem::Id(id),
                    Err(_) => EngineLabItem::Label(text.trim()),
                }),
            };
            let result = context.run_tool(ToolQuery::LabResults {
                patient_id: args.patient_id,
                item,
                limit,
            })?;
            Ok(table_output(context, result, context.limits().max_rows))
        })
        .await
    }

    #[tool(
        description = "Distribution of race across hospital admissions (mimiciv_hosp.admissions): each race with its number of admissions and of distinct patients, most frequent first.",
        annotations(
            title = "Race distribution",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_race_distribution(
        &self,
        Parameters(args): Parameters<RaceDistributionArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call(
            "get_race_distribution",
            args.dataset,
            cancel,
            move |context| {
                let limit = limit_arg(args.limit, 10)?;
                let result = context.run_tool(ToolQuery::RaceDistribution { limit })?;
                Ok(table_output(context, result, context.limits().max_rows))
            },
        )
        .await
    }
    #[tool(
        description = "Find the codes for a clinical idea before writing SQL: searches the item dictionaries (mimiciv_icu.d_items for charted vitals and ICU events, mimiciv_hosp.d_labitems for labs, d_icd_diagnoses, d_icd_procedures, d_hcpcs) by label, case-insensitively, with abbreviations such as hr, map, spo2, wbc, cr expanded. Each match gives the id (itemid or code), label, category, unit, the table that records it and how many rows use it in this data set. Example: search_items(\"heart rate\") → itemid 220045 in mimiciv_icu.chartevents; then filter with itemid = 220045.",
        annotations(
            title = "Search items and codes",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn search_items(
        &self,
        Parameters(args): Parameters<SearchItemsArgs>,
        cancel: CancellationToken,
    ) -> CallToolResult {
        self.call("search_items", args.dataset, cancel, move |context| {
            let limit = match args.limit.unwrap_or(20) {
                limit @ 1..=100 => limit as usize,
                other => {
                    return Err(ToolError::InvalidArgument(format!(
                        "`limit` must be between 1 and 100; got {other}."
                    )));
                }
            };
            if args.query.trim().is_empty() {
                return Err(ToolError::InvalidArgument(
                    "`query` is empty: say what to look for, e.g. \"heart rate\" or \"creatinine\".".to_string(),
                ));
            }
            let matches = context.engine()?.search_items(&args.query, limit)?;
            let mut text = String::new();
            format::push_row(
                &mut text,
                ["id", "label", "category", "unit", "recorded in", "rows", "dictionary"].into_iter(),
            );
            format::push_row(&mut text, ["---"; 7].into_iter());
            let mut items = Vec::new();
            for item in &matches {
                let id = match item.icd_version {
                    Some(version) => format!("{} (ICD-{version})", item.id),
                    None => item.id.clone(),
                };
                let rows = item.rows.map_or_else(|| "?".to_string(), |n| n.to_string());
                format::push_row(
                    &mut text,
                    [
                        id.as_str(),
                        item.label.as_str(),
                        item.category.as_deref().unwrap_or(""),
                        item.unit.as_deref().unwrap_or(""),
                        item.recorded_in.as_str(),
                        rows.as_str(),
                        item.dictionary.as_str(),
                    ]
                    .into_iter(),
                );
                items.push(json!({
                    "id": item.id,
                    "icd_version": item.icd_version,
                    "label": item.label,
                    "category": item.category,
                    "unit": item.unit,
                    "recorded_in": item.recorded_in,
                    "rows": item.rows,
                    "dictionary": item.dictionary,
                }));
            }
            if matches.is_empty() {
                text = format!(
                    "No item or code matches `{}`. Try a synonym or a shorter word (\"pressure\" rather than \"blood pressure measurement\").\n",
                    args.query.trim()
                );
            }
            Ok(ToolOutput {
                text,
                structured: Some(json!({ "items": items })),
                rows: matches.len(),
                truncated: false,
            })
        })
        .await
    }
}

impl M4Server {
    /// What the model is told when it connects: the dialect of the default data set too.
    fn instructions(&self) -> String {
        match self.state.store.choose(None) {
            Ok(spec) if spec.remote() => format!(
                "{INSTRUCTIONS} The default data set is {}: its SQL dialect is GoogleSQL (BigQuery), not DuckDB. {}",
                spec.name,
                super::BIGQUERY_NOTE
            ),
            _ => INSTRUCTIONS.to_string(),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for M4Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            rmcp::model::Implementation::new("m4", env!("CARGO_PKG_VERSION"))
                .with_title("m4: MIMIC-IV over MCP"),
        )
        .with_instructions(self.instructions())
    }

    /// Every tool call, on behalf of the HTTP request's user when there is one.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        let server = self.for_caller(super::http::caller(&context));
        let call = rmcp::handler::server::tool::ToolCallContext::new(&server, request, context);
        server.tool_router.call(call).await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(super::resources::list())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        super::resources::read(&request.uri).map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(super::resources::prompts())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        super::resources::prompt(&request.name, request.arguments.as_ref()).map(Into::into)
    }
}
