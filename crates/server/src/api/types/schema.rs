//! A structural check of the JSON Schemas clients send as tool parameters and response formats: the
//! keywords the model is shown (`type`, `properties`, `required`, `items`, `enum`, the combinators, ...)
//! must have the shapes JSON Schema gives them. It is not a full meta-schema validation; it catches what is
//! not a schema at all (`"type": "banana"`, `"properties": 5`, `"required": "city"`), as OpenAI does.

use serde_json::Value;

const TYPES: [&str; 7] = ["object", "array", "string", "number", "integer", "boolean", "null"];

/// Deepest nesting checked; deeper schemas are refused rather than walked.
const MAX_DEPTH: usize = 64;

/// `Ok` when `schema` reads as a JSON Schema; else what is wrong and where (`properties.city.type`).
pub fn check_schema(schema: &Value) -> Result<(), String> {
    check(schema, &mut Vec::new())
}

fn at(path: &[String]) -> String {
    if path.is_empty() { "the top level".to_string() } else { format!("'{}'", path.join(".")) }
}

fn check(schema: &Value, path: &mut Vec<String>) -> Result<(), String> {
    if path.len() > MAX_DEPTH {
        return Err(format!("the schema is nested deeper than {MAX_DEPTH} levels"));
    }
    let object = match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(object) => object,
        other => return Err(format!("at {}, a schema must be an object or a boolean, not {other}", at(path))),
    };
    for (key, value) in object {
        path.push(key.clone());
        match key.as_str() {
            "type" => check_type(value, path)?,
            "properties" | "$defs" | "definitions" | "patternProperties" => match value {
                Value::Object(map) => {
                    for (name, sub) in map {
                        path.push(name.clone());
                        check(sub, path)?;
                        path.pop();
                    }
                }
                _ => return Err(format!("at {}, expected an object of schemas", at(path))),
            },
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => match value {
                Value::Array(schemas) if !schemas.is_empty() => check_all(schemas, path)?,
                _ => return Err(format!("at {}, expected a non-empty array of schemas", at(path))),
            },
            "items" => match value {
                Value::Array(schemas) => check_all(schemas, path)?,
                sub => check(sub, path)?,
            },
            "additionalProperties" | "not" | "contains" | "propertyNames" | "if" | "then" | "else" => {
                check(value, path)?
            }
            other => {
                if let Some(expected) = wrong_shape(other, value) {
                    return Err(format!("at {}, expected {expected}", at(path)));
                }
            }
        }
        path.pop();
    }
    Ok(())
}

/// Checks each schema of a list, its index in the path.
fn check_all(schemas: &[Value], path: &mut Vec<String>) -> Result<(), String> {
    for (i, sub) in schemas.iter().enumerate() {
        path.push(i.to_string());
        check(sub, path)?;
        path.pop();
    }
    Ok(())
}

/// What a keyword of a simple shape should hold, when `value` does not.
fn wrong_shape(keyword: &str, value: &Value) -> Option<&'static str> {
    let (fine, expected) = match keyword {
        "required" => {
            (value.as_array().is_some_and(|names| names.iter().all(Value::is_string)), "an array of property names")
        }
        "enum" => (value.is_array(), "an array of values"),
        "description" | "title" | "$ref" | "pattern" | "format" | "$schema" | "$id" | "$comment" => {
            (value.is_string(), "a string")
        }
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
            (value.is_number(), "a number")
        }
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties" => {
            (value.is_u64(), "a non-negative integer")
        }
        _ => (true, ""),
    };
    (!fine).then_some(expected)
}

fn check_type(value: &Value, path: &[String]) -> Result<(), String> {
    let known = |v: &Value| v.as_str().is_some_and(|t| TYPES.contains(&t));
    let fine = match value {
        Value::String(_) => known(value),
        Value::Array(types) => !types.is_empty() && types.iter().all(known),
        _ => false,
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "at {}, {value} is not a type: expected one of {} (or an array of them)",
            at(path),
            TYPES.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_pass() {
        for schema in [
            json!({}),
            json!({"type": "object", "properties": {"city": {"type": "string", "description": "A city"}}, "required": ["city"]}),
            json!({"type": ["string", "null"], "enum": ["a", null]}),
            json!({"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/x"}]}, "$defs": {"x": true}}),
            json!({"type": "object", "additionalProperties": false, "properties": {"n": {"type": "number", "default": 1}}}),
        ] {
            assert_eq!(check_schema(&schema), Ok(()), "{schema}");
        }
    }

    #[test]
    fn what_is_not_a_schema_is_named() {
        for (schema, place) in [
            (json!({"type": "banana"}), "'type'"),
            (json!({"properties": 5}), "'properties'"),
            (json!({"required": "city"}), "'required'"),
            (json!({"properties": {"city": {"type": 3}}}), "'properties.city.type'"),
            (json!({"anyOf": []}), "'anyOf'"),
            (json!({"items": {"items": "x"}}), "'items.items'"),
            (json!({"type": []}), "'type'"),
        ] {
            let error = check_schema(&schema).unwrap_err();
            assert!(error.contains(place), "{schema}: {error}");
        }
        let mut deep = json!({});
        for _ in 0..100 {
            deep = json!({"items": deep});
        }
        assert!(check_schema(&deep).unwrap_err().contains("deeper"));
    }
}
