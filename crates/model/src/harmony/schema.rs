//! JSON Schema to the TypeScript-like types of harmony's `# Tools` section.
//!
//! This reproduces openai-harmony 0.0.8's `json_schema_to_typescript` character for character, quirks included
//! (the model was trained on its output): `anyOf`/`allOf` render as `any`; a nested object's description goes
//! above its opening brace; nested properties are indented by four spaces, `oneOf` variants by three; defaults
//! of string enums are written unquoted, other string defaults quoted; descriptions are not re-wrapped. The
//! render goldens (`tests/harmony_render.rs`) pin each construct against harmony itself.

use std::fmt::Write;
use std::io;

use serde::Serialize;
use serde_json::Value;

/// The TypeScript-like type of `schema`, indented by `indent` where it spans lines.
pub fn typescript(schema: &Value, indent: &str) -> String {
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        return one_of(variants, indent);
    }
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let names: Vec<&str> = types.iter().filter_map(Value::as_str).map(number_for_integer).collect();
        if !names.is_empty() {
            return names.join(" | ");
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => object(schema, indent),
        Some("string") => string(schema),
        Some("number" | "integer") => "number".into(),
        Some("boolean") => "boolean".into(),
        Some("array") => match schema.get("items") {
            Some(items) => format!("{}[]", typescript(items, indent)),
            None => "Array<any>".into(),
        },
        _ => "any".into(),
    }
}

fn number_for_integer(name: &str) -> &str {
    if name == "integer" { "number" } else { name }
}

/// A `oneOf` that is the whole schema: each variant on its own line after ` | `, comments trailing.
fn one_of(variants: &[Value], indent: &str) -> String {
    let mut out = String::new();
    for variant in variants {
        let _ = write!(out, "\n{indent} | {}", nullable(variant, typescript(variant, &format!("{indent}   "))));
        let mut comments = Vec::new();
        if let Some(description) = str_field(variant, "description") {
            comments.push(description.to_string());
        }
        if let Some(default) = variant.get("default") {
            comments.push(match default.as_str() {
                Some(text) if !is_enum(variant) => format!("default: \"{text}\""),
                _ => format!("default: {}", json(default)),
            });
        }
        if !comments.is_empty() {
            let _ = write!(out, " // {}", comments.join(" "));
        }
    }
    out
}

fn object(schema: &Value, indent: &str) -> String {
    let mut out = String::new();
    if let Some(description) = str_field(schema, "description") {
        let _ = writeln!(out, "{indent}// {description}");
    }
    out.push_str("{\n");
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (key, property) in properties {
            let optional = if required.contains(&key.as_str()) { "" } else { "?" };
            property_comments(&mut out, property, indent);
            match property.get("oneOf") {
                Some(Value::Array(variants)) => property_one_of(&mut out, key, optional, property, variants, indent),
                has_one_of => {
                    let ty = nullable(property, typescript(property, &format!("{indent}    ")));
                    let _ = write!(out, "{indent}{key}{optional}: {ty},");
                    if let (None, Some(default)) = (has_one_of, property.get("default")) {
                        let _ = write!(out, " // default: {}", property_default(property, default));
                    }
                    out.push('\n');
                }
            }
        }
    }
    let _ = write!(out, "{indent}}}");
    out
}

/// The title, description (unless the property is a `oneOf`, which places its own) and examples above a
/// property.
fn property_comments(out: &mut String, property: &Value, indent: &str) {
    if let Some(title) = str_field(property, "title") {
        let _ = write!(out, "{indent}// {title}\n{indent}//\n");
    }
    if property.get("oneOf").is_none()
        && let Some(description) = str_field(property, "description")
    {
        let _ = writeln!(out, "{indent}// {description}");
    }
    if let Some(examples) = property.get("examples").and_then(Value::as_array)
        && !examples.is_empty()
    {
        let _ = writeln!(out, "{indent}// Examples:");
        for example in examples.iter().filter_map(Value::as_str) {
            let _ = writeln!(out, "{indent}// - \"{example}\"");
        }
    }
}

/// A property whose schema is a `oneOf`: description and default above the name, one variant per line.
fn property_one_of(out: &mut String, key: &str, optional: &str, property: &Value, variants: &[Value], indent: &str) {
    let description = str_field(property, "description");
    // The property's description is left out when the first variant repeats it.
    let first_repeats =
        description.is_some() && variants.first().and_then(|v| str_field(v, "description")) == description;
    let described_above = !first_repeats && description.is_some();
    if described_above && let Some(description) = description {
        let _ = writeln!(out, "{indent}// {description}");
    }
    if let Some(default) = property.get("default") {
        let _ = writeln!(out, "{indent}// default: {}", property_default(property, default));
    }
    let _ = writeln!(out, "{indent}{key}{optional}:");
    for (i, variant) in variants.iter().enumerate() {
        let _ = write!(out, "{indent} | {}", nullable(variant, typescript(variant, &format!("{indent}   "))));
        let mut comments = Vec::new();
        if !(i == 0 && described_above)
            && let Some(variant_description) = str_field(variant, "description")
            && Some(variant_description) != description
        {
            comments.push(variant_description.to_string());
        }
        if let Some(default) = variant.get("default") {
            comments.push(format!("default: {}", property_default(variant, default)));
        }
        if !comments.is_empty() {
            let _ = write!(out, " // {}", comments.join(" "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{indent},");
}

/// A property's default as harmony writes it: strings quoted, except the values of string enums.
fn property_default(schema: &Value, default: &Value) -> String {
    match default.as_str() {
        Some(text) if is_enum(schema) => text.to_string(),
        Some(text) => format!("\"{text}\""),
        None => json(default),
    }
}

/// Compact JSON as harmony 0.0.8 writes it (serde_json 1.0.140): floats in ryu's shortest form (`1e21`, where
/// later serde_json versions write `1e+21`).
fn json(value: &Value) -> String {
    struct Ryu;
    impl serde_json::ser::Formatter for Ryu {
        fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
            writer.write_all(ryu::Buffer::new().format_finite(value).as_bytes())
        }
    }
    let mut out = Vec::new();
    let written = value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, Ryu));
    match (written, String::from_utf8(out)) {
        (Ok(()), Ok(text)) => text,
        // Not reachable: a `Value` always serializes, to UTF-8.
        _ => value.to_string(),
    }
}

fn string(schema: &Value) -> String {
    let values: Vec<String> = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(|v| format!("\"{v}\"")).collect())
        .unwrap_or_default();
    if values.is_empty() { "string".into() } else { values.join(" | ") }
}

/// Appends ` | null` to the type of a `nullable: true` schema, unless it already names null.
fn nullable(schema: &Value, ty: String) -> String {
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) && !ty.contains("null") {
        format!("{ty} | null")
    } else {
        ty
    }
}

fn is_enum(schema: &Value) -> bool {
    schema.get("enum").and_then(Value::as_array).is_some_and(|values| !values.is_empty())
}

fn str_field<'a>(schema: &'a Value, field: &str) -> Option<&'a str> {
    schema.get(field).and_then(Value::as_str)
}
