//! The tool registry: declarations for the model, argument validation
//! against each tool's JSON schema, and per-person availability.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::{Integration, Tool};

use crate::agent::llm::ToolDeclaration;

struct Entry {
    tool: Arc<dyn Tool>,
    validator: jsonschema::Validator,
}

/// Every tool Nudge knows, by name.
pub struct ToolRegistry {
    tools: BTreeMap<&'static str, Entry>,
    /// The provider clients behind the integration tools, for the jobs
    /// that read a calendar on their own (the evening's leave-by offer).
    integrations: Option<crate::integrations::Integrations>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidationError {
    #[error("there is no tool named {0}")]
    UnknownTool(String),
    #[error("invalid arguments for {tool}: {reason}")]
    InvalidArguments { tool: String, reason: String },
}

impl ToolRegistry {
    /// A registry of the given tools. A tool whose schema does not compile
    /// is a programming error caught by the registry's own tests.
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> Self {
        let tools = tools
            .into_iter()
            .filter_map(|tool| match jsonschema::validator_for(&tool.parameters()) {
                Ok(validator) => Some((tool.name(), Entry { tool, validator })),
                Err(e) => {
                    tracing::error!(tool = tool.name(), error = %e, "tool schema does not compile; tool disabled");
                    None
                }
            })
            .collect();
        ToolRegistry {
            tools,
            integrations: None,
        }
    }

    /// The built-in tools over `store/`.
    pub fn builtin() -> Self {
        let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
        tools.extend(super::reminders::tools());
        tools.extend(super::tasks::tools());
        tools.extend(super::rolling::tools());
        tools.extend(super::lists::tools());
        tools.extend(super::expenses::tools());
        tools.extend(super::memory::tools());
        tools.extend(super::knowledge::tools());
        tools.extend(super::profile::tools());
        tools.extend(super::follow_through::tools());
        tools.extend(super::focus::tools());
        tools.extend(super::leave_by::tools());
        Self::new(tools)
    }

    /// [`ToolRegistry::with_providers`] with the providers' public
    /// endpoints.
    pub fn with_integrations(oauth: Option<crate::oauth::OAuthService>) -> Self {
        let http = oauth
            .as_ref()
            .map_or_else(reqwest::Client::new, |o| o.http().clone());
        Self::with_providers(crate::integrations::Integrations::new(
            oauth,
            crate::config::IntegrationsConfig::default(),
            http,
        ))
    }

    /// The built-in tools, `connect_integration` and
    /// `disconnect_integration` (answering "not set up here" without
    /// OAuth), `web_search`, `youtube_search` (with an API key), and the
    /// calendar tools (offered once a calendar is connected).
    pub fn with_providers(integrations: crate::integrations::Integrations) -> Self {
        let mut registry = Self::builtin();
        registry.integrations = Some(integrations.clone());
        let tools = super::integrations::tools(integrations.oauth().cloned())
            .into_iter()
            .chain(super::calendar::tools(&integrations))
            .chain(super::mail::tools(&integrations))
            .chain(super::web_search::tools(&integrations))
            .chain(super::youtube::tools(&integrations));
        for tool in tools {
            if let Ok(validator) = jsonschema::validator_for(&tool.parameters()) {
                registry
                    .tools
                    .insert(tool.name(), Entry { tool, validator });
            }
        }
        registry
    }

    /// The provider clients, when this registry has them.
    pub fn integrations(&self) -> Option<&crate::integrations::Integrations> {
        self.integrations.as_ref()
    }

    /// Replaces `search_knowledge` with one that embeds queries with the
    /// configured provider (hybrid retrieval; full text without one).
    pub fn with_knowledge(
        mut self,
        embedder: Option<crate::knowledge::online::QueryEmbedder>,
    ) -> Self {
        let tool = super::knowledge::search_tool(embedder);
        if let Ok(validator) = jsonschema::validator_for(&tool.parameters()) {
            self.tools.insert(tool.name(), Entry { tool, validator });
        }
        self
    }

    /// Adds `export_my_data`, `delete_my_account` and
    /// `cancel_account_deletion` (see `tools::privacy`).
    pub fn with_privacy(
        mut self,
        links: Option<crate::privacy::ExportLinks>,
        grace: std::time::Duration,
    ) -> Self {
        for tool in super::privacy::tools(links, grace) {
            if let Ok(validator) = jsonschema::validator_for(&tool.parameters()) {
                self.tools.insert(tool.name(), Entry { tool, validator });
            }
        }
        self
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).map(|e| e.tool.clone())
    }

    /// The tools this person may use: built-ins, plus integration tools for
    /// the integrations they have connected.
    pub fn declarations_for(&self, connected: &HashSet<Integration>) -> Vec<ToolDeclaration> {
        self.tools
            .values()
            .filter(|e| e.tool.available(connected))
            .map(|e| ToolDeclaration {
                name: e.tool.name().to_string(),
                description: e.tool.description().to_string(),
                parameters: e.tool.parameters(),
            })
            .collect()
    }

    /// Checks a call before it runs: the tool exists, is offered to this
    /// person, and its arguments match its schema.
    pub fn validate(
        &self,
        name: &str,
        args: &Value,
        connected: &HashSet<Integration>,
    ) -> Result<Arc<dyn Tool>, ValidationError> {
        let entry = self
            .tools
            .get(name)
            .filter(|e| e.tool.available(connected))
            .ok_or_else(|| ValidationError::UnknownTool(name.to_string()))?;
        let reasons: Vec<String> = entry
            .validator
            .iter_errors(args)
            .take(3)
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() {
                    e.to_string()
                } else {
                    format!("{path}: {e}")
                }
            })
            .collect();
        if !reasons.is_empty() {
            return Err(ValidationError::InvalidArguments {
                tool: name.to_string(),
                reason: reasons.join("; "),
            });
        }
        Ok(entry.tool.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_builtin_schema_compiles_and_is_offered() {
        let registry = ToolRegistry::builtin();
        let declared = registry.declarations_for(&HashSet::new());
        assert_eq!(declared.len(), registry.len());
        assert!(registry.len() >= 22, "{}", registry.len());
        for d in &declared {
            assert_eq!(d.parameters["type"], "object", "{}", d.name);
            assert!(!d.description.is_empty());
        }
    }

    #[test]
    fn arguments_are_checked_against_the_schema() {
        let registry = ToolRegistry::builtin();
        let none = HashSet::new();
        assert!(
            registry
                .validate("add_list_items", &json!({"items": ["milk"]}), &none)
                .is_ok()
        );
        let err = registry
            .validate("add_list_items", &json!({"items": "milk"}), &none)
            .err()
            .unwrap();
        assert!(
            matches!(err, ValidationError::InvalidArguments { .. }),
            "{err}"
        );
        assert!(
            registry
                .validate("log_expense", &json!({"category": "x"}), &none)
                .is_err()
        );
        assert_eq!(
            registry.validate("rm_rf", &json!({}), &none).err(),
            Some(ValidationError::UnknownTool("rm_rf".into()))
        );
    }
}
