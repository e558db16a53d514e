//! Redaction of the integration's secrets from text that comes from outside (a provider's error message, a
//! proxy's `Location`, a body echoed back), before it is stored, logged or returned.
//!
//! A provider that echoes the request in its errors (`password=<sha1> token=...`) would otherwise put the
//! credentials into `last_error`, the outbox and the terminal. Redaction happens where the text enters:
//! the transport (it holds the credentials) and the sync engine (for what the import reports).

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: a one- or two-character token would blank out every
/// occurrence of those letters in a message, and is no secret worth the name anyway.
const MIN_SECRET_LEN: usize = 4;

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`], compared ASCII
/// case-insensitively (a SHA-1 hex may come back upper-case). Empty and very short secrets are ignored.
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut secrets: Vec<String> = secrets
        .iter()
        .map(|secret| secret.as_ref().to_ascii_lowercase())
        .filter(|secret| secret.len() >= MIN_SECRET_LEN)
        .collect();
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    let mut text = text.to_owned();
    for secret in &secrets {
        // ASCII lower-casing keeps every byte offset, so a match in the lowered copy is a match (on char
        // boundaries) in the original.
        let mut out = String::with_capacity(text.len());
        let lowered = text.to_ascii_lowercase();
        let mut rest = 0;
        for (start, matched) in lowered.match_indices(secret.as_str()) {
            out.push_str(&text[rest..start]);
            out.push_str(REDACTED);
            rest = start + matched.len();
        }
        out.push_str(&text[rest..]);
        text = out;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item6_secrets_are_redacted_case_insensitively() {
        let sha = "00cafd126182e8a9e7c01bb2f0dfd00496be724f";
        let text = format!(
            "bad login password={} token=tok-secret pushkey=PK123456 again {sha}",
            sha.to_ascii_uppercase()
        );
        let redacted = redact(&text, &[sha, "tok-secret", "pk123456"]);
        assert_eq!(
            redacted,
            "bad login password=[redacted] token=[redacted] pushkey=[redacted] again [redacted]"
        );
    }

    #[test]
    fn item6_empty_and_tiny_secrets_change_nothing() {
        assert_eq!(redact("a token: ab", &["", "ab"]), "a token: ab");
    }

    #[test]
    fn item6_redaction_keeps_non_ascii_text_intact() {
        assert_eq!(
            redact("Überprüfung fehlgeschlagen: SECRETé ünd", &["secreté"]),
            "Überprüfung fehlgeschlagen: [redacted] ünd"
        );
    }
}
