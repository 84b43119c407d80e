//! Tool schemas translated into the subset of OpenAPI that Gemini's
//! `Schema` accepts.
//!
//! Our tools declare full JSON Schema, and the registry validates every
//! call against it; Gemini refuses a declaration with any keyword its
//! `Schema` lacks (`400 Unknown name "exclusiveMinimum"`), which would fail
//! every turn that offers tools. So the declaration sent to Gemini keeps
//! the keywords of [`ALLOWED_KEYWORDS`], rewrites the ones with a close
//! equivalent (an exclusive bound becomes an inclusive one plus a word in
//! the description, `oneOf` becomes `anyOf`, `const` a one-value `enum`,
//! `["string", "null"]` a nullable string) and drops the rest. Nothing is
//! lost in safety: arguments are still checked against the original schema
//! before a tool runs, and a refusal goes back to the model.

use serde_json::{Map, Value, json};

/// Every keyword of the Gemini API's `Schema` object (v1beta REST
/// reference, checked against the `google-genai` SDK's `types.Schema`,
/// late 2026). The SDK also has `additionalProperties`, `defs` and `ref`,
/// which only Vertex AI accepts, so they are not sent.
pub const ALLOWED_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// The `format`s Gemini documents, per type; any other format is said in
/// the description instead.
fn format_supported(kind: Option<&str>, format: &str) -> bool {
    matches!(
        (kind, format),
        (Some("string"), "enum" | "date-time")
            | (Some("number"), "float" | "double")
            | (Some("integer"), "int32" | "int64")
    )
}

/// The `parameters` of a function declaration, or `None` for a tool that
/// takes no arguments: Gemini has refused `properties: {}` in the past, and
/// an absent `parameters` is the documented way to declare none.
pub fn parameters(schema: &Value) -> Option<Value> {
    let translated = translate(schema);
    let no_properties = translated
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let is_object = translated.get("type").and_then(Value::as_str) == Some("object");
    if is_object && no_properties {
        return None;
    }
    Some(translated)
}

/// One schema node, recursively.
pub fn translate(schema: &Value) -> Value {
    let Some(source) = schema.as_object() else {
        // `true`/`false` schemas and other oddities: anything goes.
        return json!({});
    };
    let mut out = Map::new();
    let mut notes: Vec<String> = Vec::new();

    // `type` may be a list in JSON Schema; Gemini takes one type plus
    // `nullable`.
    let kind: Option<String> = match source.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if names.contains(&"null") {
                out.insert("nullable".into(), Value::Bool(true));
            }
            let real: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
            match real.as_slice() {
                [one] => Some((*one).to_owned()),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(kind) = &kind {
        out.insert("type".into(), Value::String(kind.clone()));
    }

    for (key, value) in source {
        match key.as_str() {
            "type" => {}
            "properties" => {
                if let Some(props) = value.as_object() {
                    let props: Map<String, Value> = props
                        .iter()
                        .map(|(name, s)| (name.clone(), translate(s)))
                        .collect();
                    out.insert("properties".into(), Value::Object(props));
                }
            }
            "items" => {
                // Tuple-style `items: [...]` has no equivalent; the first
                // schema is the best single description.
                let item = match value {
                    Value::Array(list) => list.first().cloned().unwrap_or(json!({})),
                    other => other.clone(),
                };
                out.insert("items".into(), translate(&item));
            }
            "anyOf" | "oneOf" => {
                if let Some(list) = value.as_array() {
                    out.insert(
                        "anyOf".into(),
                        Value::Array(list.iter().map(translate).collect()),
                    );
                }
            }
            "enum" => {
                // Gemini's enum is a list of strings.
                if value
                    .as_array()
                    .is_some_and(|list| list.iter().all(Value::is_string))
                {
                    out.insert("enum".into(), value.clone());
                } else {
                    notes.push(format!("one of {value}"));
                }
            }
            "const" => match value {
                Value::String(_) => {
                    out.insert("enum".into(), Value::Array(vec![value.clone()]));
                }
                other => notes.push(format!("always {other}")),
            },
            "exclusiveMinimum" => {
                if let Some(n) = value.as_f64() {
                    out.entry("minimum").or_insert_with(|| value.clone());
                    notes.push(format!("more than {}", number(n)));
                }
            }
            "exclusiveMaximum" => {
                if let Some(n) = value.as_f64() {
                    out.entry("maximum").or_insert_with(|| value.clone());
                    notes.push(format!("less than {}", number(n)));
                }
            }
            "format" => match value.as_str() {
                Some(f) if format_supported(kind.as_deref(), f) => {
                    out.insert("format".into(), value.clone());
                }
                Some(f) => notes.push(format!("format {f}")),
                None => {}
            },
            // An empty `required` says nothing; Gemini is spared it.
            "required" if value.as_array().is_some_and(|r| !r.is_empty()) => {
                out.insert("required".into(), value.clone());
            }
            "required" => {}
            "minimum" | "maximum" => {
                // Overrides a bound derived from an exclusive one.
                out.insert(key.clone(), value.clone());
            }
            key if ALLOWED_KEYWORDS.contains(&key) => {
                out.insert(key.to_owned(), value.clone());
            }
            // `additionalProperties`, `$schema`, `$ref`, `uniqueItems`,
            // `multipleOf`…: no equivalent; the registry still enforces them.
            _ => {}
        }
    }

    if !notes.is_empty() {
        let note = notes.join("; ");
        let description = match out.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d} ({note})"),
            _ => format!("({note})"),
        };
        out.insert("description".into(), Value::String(description));
    }
    Value::Object(out)
}

/// `0` rather than `0.0` in a description.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Every keyword in `schema` (recursively) that Gemini's `Schema` lacks,
/// as JSON pointers; empty when the schema is acceptable.
pub fn unknown_keywords(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(schema, "", &mut found);
    found
}

fn walk(schema: &Value, at: &str, found: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        found.push(format!("{at} (not an object)"));
        return;
    };
    for (key, value) in map {
        let here = format!("{at}/{key}");
        if !ALLOWED_KEYWORDS.contains(&key.as_str()) {
            found.push(here.clone());
            continue;
        }
        match key.as_str() {
            "properties" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    walk(sub, &format!("{here}/{name}"), found);
                }
            }
            "items" => walk(value, &here, found),
            "anyOf" => {
                for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                    walk(sub, &format!("{here}/{i}"), found);
                }
            }
            "type" => {
                let ok = value.as_str().is_some_and(|t| {
                    matches!(
                        t,
                        "string" | "number" | "integer" | "boolean" | "array" | "object" | "null"
                    )
                });
                if !ok {
                    found.push(format!("{here} = {value}"));
                }
            }
            "format" => {
                let kind = map.get("type").and_then(Value::as_str);
                if !value.as_str().is_some_and(|f| format_supported(kind, f)) {
                    found.push(format!("{here} = {value}"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::agent::tools::{Integration, ToolRegistry};

    fn every_integration() -> HashSet<Integration> {
        [
            Integration::Google,
            Integration::Microsoft,
            Integration::Notion,
            Integration::GoogleMail,
            Integration::MicrosoftMail,
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn every_declared_tool_translates_to_keywords_gemini_knows() {
        // With every integration tool too (calendar, searches, connect).
        let config = crate::config::IntegrationsConfig {
            youtube_api_key: Some("key".into()),
            ..Default::default()
        };
        let registry = ToolRegistry::with_providers(crate::integrations::Integrations::new(
            None,
            config,
            reqwest::Client::new(),
        ));
        let declarations = registry.declarations_for(&every_integration());
        assert_eq!(declarations.len(), registry.len());
        let mut without_parameters = Vec::new();
        for tool in &declarations {
            match parameters(&tool.parameters) {
                Some(schema) => {
                    let unknown = unknown_keywords(&schema);
                    assert!(unknown.is_empty(), "{}: {unknown:?}", tool.name);
                    assert_eq!(schema["type"], "object", "{}", tool.name);
                    // Every argument the tool takes is still declared.
                    let before: Vec<&String> = tool.parameters["properties"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .collect();
                    let after: Vec<&String> =
                        schema["properties"].as_object().unwrap().keys().collect();
                    assert_eq!(before, after, "{}", tool.name);
                    assert_eq!(
                        schema.get("required"),
                        tool.parameters.get("required"),
                        "{}",
                        tool.name
                    );
                }
                None => without_parameters.push(tool.name.as_str()),
            }
        }
        // The no-argument tools send no `parameters` at all.
        without_parameters.sort_unstable();
        assert!(!without_parameters.is_empty());
        for name in &without_parameters {
            let schema = &registry.get(name).unwrap().parameters();
            assert!(
                schema["properties"].as_object().is_none_or(Map::is_empty),
                "{name} takes arguments"
            );
        }
    }

    #[test]
    fn the_untranslated_expense_schema_is_caught() {
        let registry = ToolRegistry::builtin();
        let raw = registry.get("log_expense").unwrap().parameters();
        assert_eq!(
            unknown_keywords(&raw),
            ["/properties/amount/exclusiveMinimum"]
        );
    }

    #[test]
    fn exclusive_bounds_become_inclusive_with_a_word() {
        let out = translate(
            &json!({"type": "number", "exclusiveMinimum": 0, "description": "How much."}),
        );
        assert_eq!(
            out,
            json!({"type": "number", "minimum": 0, "description": "How much. (more than 0)"})
        );
        let out = translate(&json!({"type": "integer", "minimum": 1, "exclusiveMaximum": 10}));
        assert_eq!(
            out,
            json!({"type": "integer", "minimum": 1, "maximum": 10, "description": "(less than 10)"})
        );
    }

    #[test]
    fn json_schema_shapes_gemini_lacks_are_rewritten() {
        let out = translate(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "when": {"type": ["string", "null"], "format": "date"},
                "kind": {"const": "daily"},
                "size": {"oneOf": [{"type": "integer"}, {"type": "string", "format": "uri"}]},
                "level": {"type": "integer", "enum": [1, 2, 3]},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "minItems": 1}
            },
            "required": []
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "when": {"type": "string", "nullable": true, "description": "(format date)"},
                    "kind": {"enum": ["daily"]},
                    "size": {"anyOf": [{"type": "integer"}, {"type": "string", "description": "(format uri)"}]},
                    "level": {"type": "integer", "description": "(one of [1,2,3])"},
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}
                }
            })
        );
        assert!(
            unknown_keywords(&out).is_empty(),
            "{:?}",
            unknown_keywords(&out)
        );
    }

    #[test]
    fn no_argument_tools_have_no_parameters() {
        assert_eq!(
            parameters(&json!({"type": "object", "properties": {}})),
            None
        );
        assert_eq!(parameters(&json!({"type": "object"})), None);
        assert!(
            parameters(&json!({"type": "object", "properties": {"a": {"type": "string"}}}))
                .is_some()
        );
    }
}
