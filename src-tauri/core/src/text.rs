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
}
