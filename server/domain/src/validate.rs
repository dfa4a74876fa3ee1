//! Small checks shared by the input rules of several entities.

use crate::{DomainError, Result};

/// Trims `value` and refuses it when empty or longer than `max_chars`.
pub(crate) fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    bounded_text(field, trimmed, max_chars)
}

/// Trims `value` and refuses it when longer than `max_chars` or when it holds a control
/// character other than newline and tab; empty is allowed. Windows line ends become
/// plain newlines, so that text pasted from any system is stored the same way.
pub(crate) fn bounded_text(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let trimmed = value.trim().replace("\r\n", "\n");
    if let Some((position, control)) = trimmed
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(DomainError::validation(
            field,
            format!(
                "holds the control character U+{:04X} at position {}; only text, newlines and tabs are allowed",
                u32::from(control),
                position + 1
            ),
        ));
    }
    let length = trimmed.chars().count();
    if length > max_chars {
        return Err(DomainError::validation(
            field,
            format!("is {length} characters long; at most {max_chars} are allowed"),
        ));
    }
    Ok(trimmed)
}

/// Like [`bounded_text`], turning an empty result into `None`.
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(text) => {
            let text = bounded_text(field, text, max_chars)?;
            Ok((!text.is_empty()).then_some(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_refuses_blank() {
        assert_eq!(
            required_text("name", "  Solgården ", 10).ok(),
            Some("Solgården".into())
        );
        let err = required_text("name", "   ", 10).err();
        assert_eq!(
            err,
            Some(DomainError::validation("name", "must not be empty"))
        );
    }

    #[test]
    fn control_characters_are_refused_but_newlines_and_tabs_kept() {
        let message = required_text("name", "Anna\0Berg", 40)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "name: holds the control character U+0000 at position 5; only text, newlines and tabs are allowed"
            )
        );
        assert!(bounded_text("note", "rad ett\x1b[31m", 40).is_err());
        assert_eq!(
            bounded_text("note", "rad ett\r\n\trad två", 40).ok(),
            Some("rad ett\n\trad två".into())
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(bounded_text("name", "åäöåäö", 6).is_ok());
        let message = bounded_text("name", "åäöåäöx", 6)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("name: is 7 characters long; at most 6 are allowed")
        );
    }
}
