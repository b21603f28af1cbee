//! Text from records and manifests, made safe to show, and identifiers checked.
//!
//! A record arrives from an untrusted server: any string in it (an election id, a file name, a
//! contest or option name, a parser's message quoting the input) may carry terminal control
//! sequences or bidirectional overrides that rewrite what an auditor sees (a forged "all checks
//! pass" followed by an escape that hides the failures). Everything evote prints for a person
//! goes through [`terminal_safe`]; machine output (`--json`) is escaped by its own format.

use std::borrow::Cow;

/// The longest identifier (election id, contest id) in bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 64;

/// Whether `c` must not reach a terminal as is: C0 and C1 controls, DEL, and the Unicode
/// bidirectional formatting characters (embeddings, overrides, isolates and marks).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every control or bidirectional formatting character written as `\u{XXXX}` and
/// every backslash doubled, so the result shows every character and moves no cursor. Text with
/// none of them is returned as is.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `id` is an identifier: 1 to [`MAX_IDENTIFIER_BYTES`] bytes of ASCII letters,
/// digits, `-`, `_` and `.`, starting with a letter or digit.
pub fn is_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_IDENTIFIER_BYTES
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped_and_nothing_else_changes() {
        let forged = "e\rall checks pass\x1b[2K\x1b[1A\u{202E}txt\u{2066}\\";
        let safe = terminal_safe(forged);
        assert!(!safe.chars().any(is_unsafe), "{safe}");
        assert_eq!(
            safe,
            "e\\u{000D}all checks pass\\u{001B}[2K\\u{001B}[1A\\u{202E}txt\\u{2066}\\\\"
        );
        // Ukrainian and English text, accents and symbols pass unchanged (and unallocated).
        for plain in [
            "Голосування 2026",
            "Café — «так» / ні",
            "Mayor (one candidate)",
        ] {
            assert!(matches!(terminal_safe(plain), Cow::Borrowed(p) if p == plain));
        }
        // C1 controls and DEL too.
        assert_eq!(terminal_safe("a\u{9B}b\u{7F}"), "a\\u{009B}b\\u{007F}");
    }

    #[test]
    fn identifiers_have_a_stated_alphabet_and_length() {
        for ok in ["example-2026", "c0", "kyiv.city_council", &"a".repeat(64)] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in [
            "",
            "-lead",
            ".hidden",
            "has space",
            "e\x1b[2K",
            "вибори",
            "a/b",
            &"a".repeat(65),
        ] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
