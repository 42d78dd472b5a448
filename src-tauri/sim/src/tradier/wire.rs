//! Tradier's formats: JSON when the request says `Accept: application/json`, XML otherwise
//! (Tradier's default, the trap every new client falls into), and the error bodies.
//!
//! Handlers build JSON only; [`negotiate`] rewrites a JSON answer as XML when the request did
//! not ask for JSON, so both forms always agree. The XML follows Tradier's mapping: the one
//! top-level key is the root element, an array becomes repeated elements named after its key,
//! `null` an empty element.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A JSON answer with `Content-Type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let headers = [(header::CONTENT_TYPE, "application/json")];
    (status, headers, body.to_string()).into_response()
}

/// A validation error: `{"errors":{"error":[…]}}`, or a single string when there is one
/// message and `single` is set (Tradier sends both shapes).
pub(crate) fn errors(status: StatusCode, messages: Vec<String>, single: bool) -> Response {
    let error = match messages.as_slice() {
        [one] if single => json!(one),
        _ => json!(messages),
    };
    json_response(status, &json!({"errors": {"error": error}}))
}

/// Whether the request asked for JSON.
fn wants_json(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

/// Renders JSON answers as XML unless the request asked for JSON.
pub(crate) async fn negotiate(req: Request, next: Next) -> Response {
    let json = wants_json(&req);
    let resp = next.run(req).await;
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, 8 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let xml = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => to_xml(&v),
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml;charset=UTF-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(xml))
}

/// Renders a JSON document as Tradier's XML.
pub(crate) fn to_xml(v: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                element(&mut out, k, v);
            }
        }
        other => element(&mut out, "response", other),
    }
    out
}

fn element(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Object(m) => {
            open(out, name);
            for (k, v) in m {
                element(out, k, v);
            }
            close(out, name);
        }
        Value::String(s) => {
            open(out, name);
            escape(out, s);
            close(out, name);
        }
        Value::Number(_) | Value::Bool(_) => {
            open(out, name);
            out.push_str(&v.to_string());
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// Either one value or several: Tradier collapses a one-element list to the element itself.
pub(crate) fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(items)
    }
}

/// Formats a time as Tradier does (`2018-06-01T12:02:29.682Z`).
pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_mirrors_the_json() {
        let v = json!({"profile": {"account": [{"account_number": "VA1"}, {"account_number": "VA2"}],
            "id": "id-x", "name": "A & B", "none": null}});
        assert_eq!(
            to_xml(&v),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><profile>\
             <account><account_number>VA1</account_number></account>\
             <account><account_number>VA2</account_number></account>\
             <id>id-x</id><name>A &amp; B</name><none/></profile>"
        );
    }

    #[test]
    fn one_element_lists_collapse() {
        assert_eq!(one_or_many(vec![json!(1)]), json!(1));
        assert_eq!(one_or_many(vec![json!(1), json!(2)]), json!([1, 2]));
    }
}
