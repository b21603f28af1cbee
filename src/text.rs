//! Text from records and manifests, made safe to show, and identifiers checked.
//!
//! A record arrives from an untrusted server: any string in it (an election id, a file name, a
//! contest or option name, a parser's message quoting the input) may carry terminal control
//! sequences or bidirectional overrides that rewrite what an auditor sees (a forged "all checks
//! pass" followed by an escape that hides the failures). Everything evote prints for a person
//! goes through [`terminal_safe`]; machine output (`--json`) is escaped by its own format.
//!
//! Names a voter reads (titles, options) must also look like what they are: [`check_name_text`]
//! refuses text that is not in Unicode normalization form C, and control, bidirectional or
//! invisible formatting characters; [`confusable`] compares two names by their Unicode
//! confusable skeletons (UTS #39), so "Аlice" with a Cyrillic А and "Alice" are one name to it.

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

/// Whether `c` has no place in a name a voter reads: controls (C0, C1, DEL), line and paragraph
/// separators, bidirectional formatting characters, and the invisible (default-ignorable)
/// characters that would let two names differ without looking different: soft hyphen,
/// combining grapheme joiner, zero-width space and joiners, word joiner and invisible
/// operators, variation selectors, Hangul fillers, the byte-order mark, interlinear annotation
/// marks, musical formatting and tag characters.
fn is_invisible_or_control(c: char) -> bool {
    is_unsafe(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes hex digits (either case) two per byte; `None` for anything else, a sign or a space
/// included (`u8::from_str_radix` alone would take `"+f"`).
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16);
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
            _ => None,
        })
        .collect()
}

/// Why a name a voter reads is refused, if it is: not in normalization form C (the same text
/// in two encodings), or holding a control, bidirectional or invisible character (named by its
/// code point).
///
/// # Errors
/// The reason, for the caller's error.
pub fn check_name_text(name: &str) -> Result<(), String> {
    if let Some(c) = name.chars().find(|c| is_invisible_or_control(*c)) {
        return Err(format!(
            "contains U+{:04X}, a control, bidirectional or invisible formatting character",
            u32::from(c)
        ));
    }
    if !unicode_normalization::is_nfc(name) {
        return Err("is not in Unicode normalization form C (NFC)".into());
    }
    Ok(())
}

/// Whether two names look alike: their UTS #39 confusable skeletons are equal (which exact
/// equality implies). Case is significant, as in the skeletons.
pub fn confusable(a: &str, b: &str) -> bool {
    unicode_security::skeleton(a).eq(unicode_security::skeleton(b))
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
    fn hex_decodes_only_hex_digits() {
        assert_eq!(from_hex("00ff7A"), Some(vec![0, 255, 0x7a]));
        assert_eq!(from_hex(""), Some(vec![]));
        for bad in ["+f", "0", "0g", " 0f", "-1", "f\u{0}", "\u{e9}a"] {
            assert_eq!(from_hex(bad), None, "{bad:?}");
        }
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
    }

    #[test]
    fn names_that_look_alike_or_hide_characters_are_found() {
        // Composed and decomposed "Café": one is not NFC.
        assert!(check_name_text("Caf\u{e9}").is_ok());
        assert!(check_name_text("Cafe\u{301}").is_err());
        // Cyrillic А beside Latin A; digit one beside letter l.
        assert!(confusable("\u{410}lice", "Alice"));
        assert!(confusable("Candidate 1", "Candidate l"));
        assert!(!confusable("Candidate 1", "Candidate 2"));
        for hidden in [
            "\u{202E}ecilA",
            "Al\u{200B}ice",
            "Alice\u{FEFF}",
            "A\u{0}",
            "a\u{2066}b",
        ] {
            assert!(check_name_text(hidden).is_err(), "{hidden:?}");
        }
        // Ukrainian and English stay fully usable, apostrophes included.
        for name in [
            "Так / Yes",
            "Ні / No",
            "Олена Петренко",
            "Мар\u{2019}яна Коваль",
            "Мар'яна Коваль",
            "Ґанна Їжакевич",
            "Mary O'Neil",
        ] {
            assert!(check_name_text(name).is_ok(), "{name}");
        }
        assert!(!confusable("Так / Yes", "Ні / No"));
        assert!(!confusable("Олена Петренко", "Ґанна Їжакевич"));
    }

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
