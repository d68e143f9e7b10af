//! The GraphQL explorer at `GET /graphql`: a page, a script and a style sheet of our own,
//! compiled into the binary, so it works on a machine without internet (the usual explorers
//! load their scripts from a CDN). Strict CSP: nothing but this server, no inline script.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("explorer/index.html");
const SCRIPT: &str = include_str!("explorer/explorer.js");
const STYLE: &str = include_str!("explorer/explorer.css");

/// Only this origin, no inline code, no framing.
pub(super) const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

pub(super) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub(super) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explorer_loads_nothing_from_another_origin_and_has_no_inline_script() {
        for text in [PAGE, SCRIPT, STYLE] {
            assert!(!text.contains("http://") && !text.contains("https://"), "a URL to another origin");
            assert!(!text.contains("//cdn") && !text.contains("@import"));
        }
        // Every <script> has a src of this server and no body.
        for part in PAGE.split("<script").skip(1) {
            let tag = &part[..part.find('>').unwrap()];
            assert!(tag.contains("src=\"/graphql/"), "{tag}");
            assert!(part[part.find('>').unwrap() + 1..].trim_start().starts_with("</script>"));
        }
        // No inline event handlers (` onclick=` and the like).
        let handler = PAGE.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(!handler, "no inline event handlers");
    }
}
