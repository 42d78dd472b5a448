//! Bounds on text that comes from outside (brokers' error messages, reasons) before it is
//! stored, shown or sent to the desktop: a hostile endpoint must not fill the disk or a
//! notification with megabytes.

/// The most characters of a broker's text kept anywhere (history, reasons, messages).
pub const MAX_EXTERNAL_TEXT: usize = 500;

/// Returns `s` cut to at most `max` characters (on a character boundary), with `…` marking
/// a cut.
pub fn cap(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => {
            let mut out = s[..end].to_string();
            out.push('…');
            out
        }
    }
}

/// A URL without user-info, query or fragment (where a token could hide).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u)
            if u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none() =>
        {
            raw.to_string()
        }
        Ok(mut u) => {
            let query = if u.query().is_some() { "?…" } else { "" };
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            format!("{u}{query}")
        }
        // Not a URL: keep the scheme and host part only.
        Err(_) => raw
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole_and_long_text_is_cut_on_a_character() {
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("abcd", 3), "abc…");
        assert_eq!(cap("ééééé", 2), "éé…");
        assert_eq!(cap("", 0), "");
    }

    #[test]
    fn urls_lose_user_info_query_and_fragment() {
        assert_eq!(
            redact_url("https://user:pw@api.example.com/v3?token=abc#x"),
            "https://api.example.com/v3?…"
        );
        assert_eq!(
            redact_url("https://api.example.com/v3"),
            "https://api.example.com/v3"
        );
        assert_eq!(redact_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(redact_url("not a url?token=1"), "not a url");
        assert_eq!(redact_url("x//user:pw@host/p"), "host/p");
    }
}
