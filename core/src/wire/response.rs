//! Streaming reader of a getWorkOrders response body.
//!
//! A Full Import of a large provider account is tens of megabytes of JSON. The reader never holds the whole
//! document: it reads the body in large chunks, walks the top-level object itself, and hands each element of
//! `workOrders` to a callback as its exact JSON text, so the importer can fingerprint it (and skip it when
//! nothing changed) before parsing it.
//!
//! Why not `serde_json::from_reader`: it pulls the body one byte at a time through `Read` and was 60-70% of
//! an unchanged re-import. Here only the document's outer structure (the top-level object and the list's
//! commas) is scanned by hand; every value is validated by `serde_json::from_slice` — work orders by the
//! importer, which parses each one, and everything else here. An order skipped by its fingerprint is
//! byte-identical to one that was valid before.

use std::io::Read;

/// What the response said besides its work orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseMeta {
    /// Number of elements in `workOrders` (0 when it was `null`).
    pub work_orders: u64,
    /// The provider's error, when any top-level `error` was a non-empty string or an object (several are
    /// joined with `; `).
    pub error: Option<String>,
    /// The provider's clock (`serverTime`, our extension), in Unix seconds.
    pub server_time: Option<i64>,
}

/// Why a response could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    /// The body is not a getWorkOrders response.
    #[error("the response is not valid: {0}")]
    Malformed(String),
    /// The callback failed; reading stopped there.
    #[error(transparent)]
    Callback(E),
}

/// Bytes asked of the reader at a time.
const CHUNK: usize = 1 << 20;
/// A single value larger than this is refused (a work order is a few kilobytes).
const MAX_VALUE: usize = 16 << 20;

/// Reads a response from `reader`, calling `on_order` with the JSON text of each work order, in order.
///
/// The text handed over is valid UTF-8 whose extent was found by bracket matching; it is not yet checked to
/// be valid JSON: the callback parses it and reports syntax errors with [`malformed_order`].
pub fn read_work_orders<R, E, F>(reader: R, mut on_order: F) -> Result<ResponseMeta, ReadError<E>>
where
    R: Read,
    F: FnMut(&str) -> Result<(), E>,
{
    let mut scanner = Scanner {
        reader,
        buf: Vec::with_capacity(CHUNK),
        filled: 0,
        pos: 0,
        eof: false,
        read: 0,
    };
    let mut meta = ResponseMeta::default();
    let mut saw_work_orders = false;
    scanner.expect(b'{', "a JSON object with `workOrders`")?;
    if scanner.peek_non_ws()? != Some(b'}') {
        loop {
            let key = scanner.string_key()?;
            scanner.expect(b':', "`:` after a key")?;
            match key.as_str() {
                "workOrders" => {
                    saw_work_orders = true;
                    scanner.work_orders(&mut meta, &mut on_order)?;
                }
                "error" => {
                    // Any non-empty `error`, wherever it appears and however often, fails the response:
                    // a later empty one (or a `workOrders` list beside it) must not make it a success.
                    if let Some(text) = error_text(scanner.value()?) {
                        meta.error = Some(match meta.error.take() {
                            Some(earlier) => format!("{earlier}; {text}"),
                            None => text,
                        });
                    }
                }
                "serverTime" => {
                    meta.server_time = match scanner.value()? {
                        serde_json::Value::Number(n) => n.as_i64(),
                        serde_json::Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    }
                }
                _ => scanner.skip_value()?,
            }
            match scanner.next_non_ws()? {
                Some(b',') => continue,
                Some(b'}') => break,
                other => return Err(scanner.unexpected(other, "`,` or `}` in the top-level object")),
            }
        }
    } else {
        scanner.next_non_ws()?;
    }
    if let Some(byte) = scanner.next_non_ws()? {
        return Err(scanner.unexpected(Some(byte), "the end of the body"));
    }
    if scanner.read == 0 {
        return Err(ReadError::Malformed("the body is empty".into()));
    }
    if !saw_work_orders && meta.error.is_none() {
        // Reading a missing list as empty would make a Full Import remove every project.
        return Err(ReadError::Malformed(
            "the response has no `workOrders` field".into(),
        ));
    }
    Ok(meta)
}

/// The error for a work order whose text is not valid JSON: the whole response is malformed (as opposed to
/// a valid value that is not a work order, which rejects only that order).
pub fn malformed_order(index: u64, err: &serde_json::Error) -> Option<String> {
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            Some(format!("work order #{} is not valid JSON: {err}", index + 1))
        }
        _ => None,
    }
}

/// `""`, `null`, `false` and `"success"` are not errors; any other string or an object is.
fn error_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.trim().is_empty() || text.eq_ignore_ascii_case("success") => {
            None
        }
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Null | serde_json::Value::Bool(false) => None,
        other => Some(other.to_string()),
    }
}

/// A cursor over the body with a growable window; values are scanned in place and the window is compacted
/// between values.
struct Scanner<R> {
    reader: R,
    /// The window is `buf[..filled]`; the bytes after it are initialised (zeroed once, or read before) and
    /// are read into again, so that each read does not zero a megabyte first.
    buf: Vec<u8>,
    filled: usize,
    pos: usize,
    eof: bool,
    read: u64,
}

impl<R: Read> Scanner<R> {
    /// Makes at least one more byte available after the window; false at the end of the body.
    fn fill<E>(&mut self) -> Result<bool, ReadError<E>> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > CHUNK && self.pos * 2 > self.filled {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
        }
        let start = self.filled;
        if self.buf.len() < start + CHUNK {
            self.buf.resize(start + CHUNK, 0);
        }
        let count = loop {
            match self.reader.read(&mut self.buf[start..start + CHUNK]) {
                Ok(count) => break count,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(ReadError::Malformed(format!("reading the body failed: {err}")));
                }
            }
        };
        // A reader that claims more than it was given is not trusted past the buffer.
        self.filled = start + count.min(CHUNK);
        self.read += count as u64;
        self.eof = count == 0;
        Ok(count > 0)
    }

    fn peek_non_ws<E>(&mut self) -> Result<Option<u8>, ReadError<E>> {
        loop {
            while let Some(&byte) = self.buf[..self.filled].get(self.pos) {
                if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                    return Ok(Some(byte));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn next_non_ws<E>(&mut self) -> Result<Option<u8>, ReadError<E>> {
        let byte = self.peek_non_ws()?;
        if byte.is_some() {
            self.pos += 1;
        }
        Ok(byte)
    }

    fn unexpected<E>(&self, found: Option<u8>, expected: &str) -> ReadError<E> {
        let found = match found {
            None if self.read == 0 => return ReadError::Malformed("the body is empty".into()),
            None => "the end of the body (it ends too early)".to_owned(),
            Some(byte) if byte.is_ascii_graphic() => format!("`{}`", byte as char),
            Some(byte) => format!("byte 0x{byte:02x}"),
        };
        let offset = self.read - (self.filled - self.pos) as u64;
        ReadError::Malformed(format!("expected {expected} at byte {offset}, found {found}"))
    }

    fn expect<E>(&mut self, wanted: u8, what: &str) -> Result<(), ReadError<E>> {
        match self.next_non_ws()? {
            Some(byte) if byte == wanted => Ok(()),
            other => Err(self.unexpected(other, what)),
        }
    }

    /// Finds the value starting at the next non-blank byte and returns its range in `buf`.
    fn scan_value<E>(&mut self) -> Result<std::ops::Range<usize>, ReadError<E>> {
        if self.peek_non_ws()?.is_none() {
            return Err(self.unexpected(None, "a value"));
        }
        loop {
            let start = self.pos;
            match extent(&self.buf[start..self.filled]) {
                Extent::Complete(length) => {
                    self.pos = start + length;
                    return Ok(start..self.pos);
                }
                Extent::Incomplete if self.filled - start > MAX_VALUE => {
                    return Err(ReadError::Malformed(format!(
                        "a value is larger than {MAX_VALUE} bytes"
                    )));
                }
                Extent::Incomplete => {
                    // `fill` keeps the bytes from `self.pos` on (it may move them to the front).
                    if !self.fill()? {
                        let rest = &self.buf[self.pos..self.filled];
                        if rest
                            .first()
                            .is_some_and(|byte| !matches!(byte, b'{' | b'[' | b'"'))
                        {
                            // A scalar that ends the body: let the JSON parser judge it.
                            let start = self.pos;
                            self.pos = self.filled;
                            return Ok(start..self.pos);
                        }
                        return Err(self.unexpected(None, "the rest of a value"));
                    }
                }
            }
        }
    }

    fn value<E>(&mut self) -> Result<serde_json::Value, ReadError<E>> {
        let range = self.scan_value()?;
        serde_json::from_slice(&self.buf[range]).map_err(|err| ReadError::Malformed(err.to_string()))
    }

    fn skip_value<E>(&mut self) -> Result<(), ReadError<E>> {
        let range = self.scan_value()?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&self.buf[range])
            .map(drop)
            .map_err(|err| ReadError::Malformed(err.to_string()))
    }

    fn string_key<E>(&mut self) -> Result<String, ReadError<E>> {
        if self.peek_non_ws()? != Some(b'"') {
            let found = self.peek_non_ws()?;
            return Err(self.unexpected(found, "a key string"));
        }
        let range = self.scan_value()?;
        serde_json::from_slice(&self.buf[range]).map_err(|err| ReadError::Malformed(err.to_string()))
    }

    fn work_orders<E, F>(&mut self, meta: &mut ResponseMeta, on_order: &mut F) -> Result<(), ReadError<E>>
    where
        F: FnMut(&str) -> Result<(), E>,
    {
        match self.peek_non_ws()? {
            Some(b'[') => self.pos += 1,
            Some(b'n') => {
                return match self.value()? {
                    serde_json::Value::Null => Ok(()),
                    _ => Err(ReadError::Malformed("`workOrders` must be a list or null".into())),
                };
            }
            _ => return Err(ReadError::Malformed("`workOrders` must be a list or null".into())),
        }
        if self.peek_non_ws()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let range = self.scan_value()?;
            let text = std::str::from_utf8(&self.buf[range]).map_err(|err| {
                ReadError::Malformed(format!(
                    "work order #{} is not valid UTF-8: {err}",
                    meta.work_orders + 1
                ))
            })?;
            meta.work_orders += 1;
            on_order(text).map_err(ReadError::Callback)?;
            match self.next_non_ws()? {
                Some(b',') => continue,
                Some(b']') => return Ok(()),
                other => return Err(self.unexpected(other, "`,` or `]` in `workOrders`")),
            }
        }
    }
}

/// How far the JSON value at the start of `bytes` extends.
#[derive(Debug, PartialEq, Eq)]
enum Extent {
    /// The value is the first `n` bytes.
    Complete(usize),
    /// More bytes are needed to find its end.
    Incomplete,
}

/// Finds the end of the value at the start of `bytes` by matching brackets outside strings. A scalar ends
/// at the first delimiter. Syntax inside the value is not checked here (the JSON parser does that). Most of
/// an order's bytes are inside strings: those are skipped with `memchr2` to the next quote or backslash.
fn extent(bytes: &[u8]) -> Extent {
    let mut depth = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                // To the closing quote: the next quote that no backslash escapes.
                let mut at = index + 1;
                loop {
                    let Some(offset) = memchr::memchr2(b'"', b'\\', bytes.get(at..).unwrap_or_default())
                    else {
                        return Extent::Incomplete;
                    };
                    if bytes[at + offset] == b'"' {
                        index = at + offset;
                        break;
                    }
                    // A backslash escapes the byte after it.
                    at += offset + 2;
                }
                if depth == 0 {
                    return Extent::Complete(index + 1);
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return Extent::Complete(index),
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Extent::Complete(index + 1);
                }
            }
            b',' | b' ' | b'\n' | b'\r' | b'\t' if depth == 0 => return Extent::Complete(index),
            _ => {}
        }
        index += 1;
    }
    Extent::Incomplete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(body: &str) -> Result<(ResponseMeta, Vec<String>), ReadError<()>> {
        let mut orders = Vec::new();
        let meta = read_work_orders(body.as_bytes(), |raw| {
            orders.push(raw.to_owned());
            Ok(())
        })?;
        Ok((meta, orders))
    }

    #[test]
    fn orders_stream_in_order() {
        let (meta, orders) = collect(
            r#"{"error": "", "workOrders": [{"workOrderNumber": "1"}, {"workOrderNumber": 2}], "serverTime": 99}"#,
        )
        .unwrap();
        assert_eq!(
            orders,
            vec![r#"{"workOrderNumber": "1"}"#, r#"{"workOrderNumber": 2}"#]
        );
        assert_eq!(
            meta,
            ResponseMeta {
                work_orders: 2,
                error: None,
                server_time: Some(99)
            }
        );
    }

    #[test]
    fn elements_keep_their_exact_text_across_chunk_boundaries() {
        let order = |n: usize| {
            format!(
                r#"{{"workOrderNumber": "{n}", "note": "a \"quoted\" }} ] , {} x"}}"#,
                "y".repeat(n * 37 % 5000)
            )
        };
        let orders: Vec<String> = (0..3000).map(order).collect();
        let body = format!("{{\"workOrders\":[{}],\"error\":null}}", orders.join(" ,\n"));
        assert!(body.len() > 3 * CHUNK);
        let (meta, seen) = collect(&body).unwrap();
        assert_eq!(meta.work_orders, 3000);
        assert_eq!(seen, orders);
    }

    #[test]
    fn null_orders_are_empty_but_missing_orders_are_malformed() {
        assert_eq!(collect(r#"{"workOrders": null}"#).unwrap().1.len(), 0);
        assert_eq!(collect(r#"{"workOrders": []}"#).unwrap().1.len(), 0);
        assert_eq!(collect(" {\"workOrders\" :\n[ ] } \n").unwrap().1.len(), 0);
        for body in [
            "{}",
            r#"{"error": null}"#,
            r#"{"message": "Service Unavailable"}"#,
        ] {
            assert!(
                matches!(collect(body), Err(ReadError::Malformed(_))),
                "{body} was accepted"
            );
        }
        let (meta, _) = collect(r#"{"error": "maintenance"}"#).unwrap();
        assert_eq!(
            meta.error.as_deref(),
            Some("maintenance"),
            "a provider error without orders is reported as such"
        );
    }

    #[test]
    fn an_error_field_is_reported() {
        let (meta, _) = collect(r#"{"workOrders": [], "error": "bad token"}"#).unwrap();
        assert_eq!(meta.error.as_deref(), Some("bad token"));
        let (meta, _) = collect(r#"{"workOrders": [], "error": {"code": 5}}"#).unwrap();
        assert_eq!(meta.error.as_deref(), Some(r#"{"code":5}"#));
    }

    /// Item: an ambiguous error body counted as success (the last `error` key won).
    #[test]
    fn any_non_empty_error_fails_the_response_whatever_its_position() {
        for body in [
            r#"{"error": "bad token", "error": "", "workOrders": []}"#,
            r#"{"error": "", "error": "bad token", "workOrders": []}"#,
            r#"{"error": "bad token", "workOrders": [{"workOrderNumber": "1"}], "error": null}"#,
            r#"{"workOrders": [{"workOrderNumber": "1"}], "error": "bad token"}"#,
            r#"{"error": "bad token", "workOrders": [], "error": "success"}"#,
        ] {
            let (meta, _) = collect(body).unwrap();
            assert_eq!(meta.error.as_deref(), Some("bad token"), "{body}");
        }
        let (meta, _) = collect(r#"{"error": "one", "workOrders": [], "error": {"code": 2}}"#).unwrap();
        assert_eq!(meta.error.as_deref(), Some(r#"one; {"code":2}"#));
        let (meta, _) = collect(r#"{"error": "", "workOrders": [], "error": null}"#).unwrap();
        assert_eq!(meta.error, None);
    }

    #[test]
    fn bodies_that_are_not_responses_are_malformed() {
        for body in [
            "",
            "[]",
            "3",
            "\"x\"",
            "{\"workOrders\": 3}",
            "{\"workOrders\": [1",
            "{\"workOrders\": [{}",
            "{\"workOrders\": [{} {}]}",
            "{\"workOrders\": []} trailing",
            "{\"workOrders\": [], }",
            "{workOrders: []}",
            "{\"workOrders\" []}",
            "{\"workOrders\": [], \"x\": tru}",
            "{\"workOrders\": [], \"x\": \"unterminated}",
            "<html>",
        ] {
            assert!(
                matches!(collect(body), Err(ReadError::Malformed(_))),
                "{body:?} was accepted"
            );
        }
        let Err(ReadError::Malformed(message)) = collect("") else {
            panic!()
        };
        assert_eq!(message, "the body is empty");
        let Err(ReadError::Malformed(message)) = collect("   ") else {
            panic!()
        };
        assert!(message.contains("empty") || message.contains("end"), "{message}");
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let body = b"{\"workOrders\": [{\"city\": \"\xff\xfe\"}]}";
        let result = read_work_orders(&body[..], |_| Ok::<(), ()>(()));
        assert!(matches!(result, Err(ReadError::Malformed(_))));
    }

    #[test]
    fn a_callback_failure_stops_reading() {
        let mut seen = 0;
        let result = read_work_orders(r#"{"workOrders": [{}, {}, {}]}"#.as_bytes(), |_| {
            seen += 1;
            if seen == 2 { Err("full disk") } else { Ok(()) }
        });
        assert!(matches!(result, Err(ReadError::Callback("full disk"))));
        assert_eq!(seen, 2);
    }

    #[test]
    fn extents_follow_brackets_outside_strings() {
        assert_eq!(
            extent(br#"{"a": "}]\"", "b": [1, {}]}, next"#),
            Extent::Complete(27)
        );
        assert_eq!(extent(b"123, 4"), Extent::Complete(3));
        assert_eq!(extent(b"null]"), Extent::Complete(4));
        assert_eq!(extent(br#""x\\" rest"#), Extent::Complete(5));
        assert_eq!(extent(br#"{"a": "unfinished"#), Extent::Incomplete);
        assert_eq!(extent(br#"{"a": "ends with a backslash\"#), Extent::Incomplete);
        assert_eq!(extent(br#"{"a": "\"\\"}, x"#), Extent::Complete(13));
        assert_eq!(extent(br#""""#), Extent::Complete(2));
        assert_eq!(extent(b"12"), Extent::Incomplete);
    }

    #[test]
    fn scalars_in_the_list_are_handed_over_for_rejection() {
        let (_, orders) = collect(r#"{"workOrders": [7, "x", null, true]}"#).unwrap();
        assert_eq!(orders, ["7", "\"x\"", "null", "true"]);
    }
}
