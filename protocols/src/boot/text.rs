//! Checks for operator text that ends up inside an iPXE script.
//!
//! iPXE reads a script line by line (`src/image/script.c`): `\n` ends a line, a trailing `\r`
//! is dropped and a trailing `\` joins the next line. Each line is split into words at
//! `isspace()` (space, `\t`, `\n`, `\v`, `\f`, `\r`; `src/core/exec.c`, `split_command`); a
//! word that is exactly `||`, `&&` or `;` ends the command and starts another, and a word
//! starting with `#` turns the rest of the line into a comment (`command_terminator`). Every
//! word is then expanded (`expand_settings`): `${name}` is replaced by the firmware's setting
//! `name`, repeatedly, so an expanded value is expanded again.
//!
//! Cairn therefore accepts, in params and image paths, printable ASCII only (no control
//! character can start a line or split a word differently than Cairn does), no separator
//! word, no comment word and no `${`. With those rules a value is always exactly the words
//! Cairn renders, on the line Cairn renders, whatever it contains.

use std::fmt;

/// A field of a request body is unacceptable. Display: `<field>: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's path in the body, e.g. `params`, `hosts[2]`, `file.content`.
    pub field: String,
    /// What is wrong, for a human.
    pub reason: String,
    /// Whether the problem is the value's size (HTTP 413) rather than its content (400).
    pub too_large: bool,
}

impl FieldError {
    /// A content problem (HTTP 400).
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
            too_large: false,
        }
    }

    /// A size problem (HTTP 413).
    pub fn too_large(field: impl Into<String>, len: usize, max: usize) -> FieldError {
        FieldError {
            field: field.into(),
            reason: format!("{len} bytes, at most {max} allowed"),
            too_large: true,
        }
    }

    /// The HTTP status this error maps to: 413 for sizes, else 400.
    pub fn status(&self) -> u16 {
        if self.too_large { 413 } else { 400 }
    }
}

/// Fails when `value` is longer than `max` bytes.
pub(crate) fn check_len(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.len() > max {
        return Err(FieldError::too_large(field, value.len(), max));
    }
    Ok(())
}

/// Names a rejected character for an error message.
struct CharName(char);

impl fmt::Display for CharName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            '\n' => "newline",
            '\r' => "carriage return",
            '\t' => "tab",
            '\u{0b}' => "vertical tab",
            '\u{0c}' => "form feed",
            '\0' => "NUL",
            '\u{7f}' => "DEL",
            c if c.is_control() => "control character",
            _ => "non-ASCII character",
        };
        write!(f, "{name} U+{:04X}", self.0 as u32)
    }
}

/// Every character must be printable ASCII; spaces only where `spaces` says.
pub(crate) fn check_printable(field: &str, value: &str, spaces: bool) -> Result<(), FieldError> {
    for (pos, c) in value.char_indices() {
        if c == ' ' && !spaces {
            return Err(FieldError::invalid(
                field,
                format!(
                    "space at byte {pos} is not allowed: iPXE would split the value in two \
                     (write it as %20)"
                ),
            ));
        }
        if !(' '..='~').contains(&c) {
            let what = CharName(c);
            let why = if c.is_ascii_control() {
                "iPXE would read it as a line break or word separator"
            } else {
                "only printable ASCII is accepted (percent-encode URLs)"
            };
            return Err(FieldError::invalid(
                field,
                format!("{what} at byte {pos} is not allowed: {why}"),
            ));
        }
    }
    Ok(())
}

/// One space-free word: not a separator, not a comment, no settings expansion.
pub(crate) fn check_word(field: &str, word: &str) -> Result<(), FieldError> {
    if matches!(word, "||" | "&&" | ";") {
        return Err(FieldError::invalid(
            field,
            format!(
                "{word:?} is an iPXE command separator: it would end the command and run another"
            ),
        ));
    }
    if word.starts_with('#') {
        return Err(FieldError::invalid(
            field,
            format!(
                "{word:?}: a word starting with '#' begins an iPXE comment and would cut the \
                 rest of the line"
            ),
        ));
    }
    if word.contains("${") {
        return Err(FieldError::invalid(
            field,
            format!(
                "{word:?}: \"${{\" would make iPXE substitute one of its own settings (DHCP \
                 options, credentials) before booting; Cairn does not pass settings expansion \
                 through"
            ),
        ));
    }
    Ok(())
}

/// All of [`check_printable`] (spaces allowed) and [`check_word`] for each word.
pub(crate) fn check_ipxe_words(field: &str, value: &str) -> Result<(), FieldError> {
    check_printable(field, value, true)?;
    value
        .split(' ')
        .filter(|w| !w.is_empty())
        .try_for_each(|w| check_word(field, w))
}

/// Text that is shown or stored but never executed (names, keys, descriptions): no control
/// characters, so it can neither break a YAML line nor forge a log line.
pub(crate) fn check_single_line(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    check_len(field, value, max)?;
    if let Some((pos, c)) = value.char_indices().find(|(_, c)| c.is_control()) {
        return Err(FieldError::invalid(
            field,
            format!("{} at byte {pos} is not allowed", CharName(c)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_characters() {
        assert!(
            check_ipxe_words("params", "console=ttyS0,115200 ds=nocloud-net;s=http://h/").is_ok()
        );
        for bad in ["a\nb", "a\rb", "a\tb", "é", "a\u{7f}"] {
            assert!(check_ipxe_words("params", bad).is_err(), "{bad:?}");
        }
        for bad in [
            "a || b",
            "a && b",
            "a ; b",
            "#!ipxe",
            "x #c",
            "a=${net0/ip}",
        ] {
            let e = check_ipxe_words("params", bad).unwrap_err();
            assert_eq!(e.field, "params");
            assert_eq!(e.status(), 400);
        }
        let e = check_ipxe_words("params", "quiet\nchain http://evil").unwrap_err();
        assert_eq!(
            e.to_string(),
            "params: newline U+000A at byte 5 is not allowed: iPXE would read it as a line \
             break or word separator"
        );
        assert!(check_printable("kernel", "http://h/a b", false).is_err());
    }

    #[test]
    fn sizes_map_to_413() {
        let e = check_len("params", "abcd", 3).unwrap_err();
        assert_eq!(
            (e.status(), e.to_string().as_str()),
            (413, "params: 4 bytes, at most 3 allowed")
        );
    }
}
