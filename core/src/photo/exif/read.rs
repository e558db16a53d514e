//! Reading what a photo says about itself (capture time, GPS, camera, orientation, size) without decoding
//! a single pixel.
//!
//! **Reading.** The container is walked by hand (JPEG marker segments up to the first scan, PNG chunks up to
//! the first `IDAT`): every step moves forward by at least the size of a header, so a damaged file ends the
//! walk instead of looping. The EXIF block found there (JPEG `APP1 "Exif\0\0"`, PNG `eXIf`) is parsed by
//! `kamadak-exif` with `continue_on_error`, which caps the number of IFDs and never visits one twice.
//! Damaged EXIF is not an error: the fields it cannot give are simply absent (orientation 1). Only an image
//! whose own headers are unreadable (no frame header, truncated before the pixels, zero size) is an error.
//! The pixel data itself is not looked at here: a file whose compressed data is damaged passes this check
//! and fails later, when the pipeline decodes it.
//!
//! **Time.** `capture_time` comes from `DateTimeOriginal` only (not `DateTime`, which is the last edit and
//! would let an old photo look fresh to the 12-hour certification). EXIF stores local wall-clock time; the
//! zone comes from `OffsetTimeOriginal` when present. **Without it the time is read as if it were UTC**
//! (the camera's zone is unknown; cameras before EXIF 2.31, 2016, never wrote one), and
//! `capture_utc_offset` is `None` so that callers can tell.

use std::ops::Range;

use exif::{In, Tag, Value};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::photo::error::PhotoError;

/// What a photo says about itself, as read by [`read_metadata`].
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMetadata {
    /// Capture time, Unix seconds, from EXIF `DateTimeOriginal` with `OffsetTimeOriginal` when present;
    /// **without an offset the wall-clock time is taken as UTC** (see [`Self::capture_utc_offset`]).
    pub capture_time: Option<i64>,
    /// The zone of the capture time in seconds east of UTC, from `OffsetTimeOriginal`; `None` when the
    /// photo does not say (then `capture_time` was read as UTC).
    pub capture_utc_offset: Option<i32>,
    /// Latitude and longitude in degrees (south and west negative, signed from the `Ref` tags); `None`
    /// when absent, incomplete, without a reference, or out of range.
    pub gps: Option<(f64, f64)>,
    /// The camera model (`Model`), trimmed, at most 64 characters.
    pub camera_model: Option<String>,
    /// EXIF orientation 1..=8 (1 when absent or invalid): how the stored pixels must be turned to be upright.
    pub orientation: u16,
    /// Width of the stored image, before orientation.
    pub width: u32,
    /// Height of the stored image, before orientation.
    pub height: u32,
}

impl Default for PhotoMetadata {
    fn default() -> Self {
        Self {
            capture_time: None,
            capture_utc_offset: None,
            gps: None,
            camera_model: None,
            orientation: 1,
            width: 0,
            height: 0,
        }
    }
}

impl PhotoMetadata {
    /// Width and height once the orientation is applied.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Reads a photo's metadata and size without decoding its pixels (fast: only the headers are read).
///
/// Errors: [`PhotoError::Empty`], [`PhotoError::NotAnImage`], [`PhotoError::Unsupported`] (HEIC, WebP, ...,
/// with a hint), [`PhotoError::Corrupt`] (headers damaged or truncated). Damaged EXIF is never an error.
/// Never panics, never loops; time is linear in the size of the headers.
pub fn read_metadata(bytes: &[u8]) -> Result<PhotoMetadata, PhotoError> {
    let probe = probe(bytes)?;
    Ok(probe.metadata(bytes))
}

/// The image formats the pipeline decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
}

/// What the headers of a JPEG frame say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegFrame {
    /// The SOF marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive, ...).
    pub marker: u8,
    /// Bits per sample.
    pub precision: u8,
    /// Number of colour components.
    pub components: u8,
    /// Horizontal and vertical sampling factors of the first four components.
    pub sampling: [(u8, u8); 4],
}

impl JpegFrame {
    pub(crate) fn progressive(self) -> bool {
        matches!(self.marker, 0xC2 | 0xC6 | 0xCA | 0xCE)
    }

    /// Bytes a decoder needs to hold every DCT coefficient of the image (16 bits each, every component at
    /// its own resolution), which is what a progressive JPEG costs on top of its pixels.
    pub(crate) fn coefficient_bytes(self, width: u32, height: u32) -> u64 {
        let used = &self.sampling[..usize::from(self.components.clamp(1, 4))];
        let h_max = u64::from(used.iter().map(|s| s.0).max().unwrap_or(1).max(1));
        let v_max = u64::from(used.iter().map(|s| s.1).max().unwrap_or(1).max(1));
        let mcus = u64::from(width).div_ceil(8 * h_max) * u64::from(height).div_ceil(8 * v_max);
        used.iter()
            .map(|&(h, v)| mcus * 64 * u64::from(h.max(1)) * u64::from(v.max(1)) * 2)
            .sum()
    }
}

/// The result of walking the container's headers.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// Where the TIFF structure of the EXIF block is, if any.
    pub exif: Option<Range<usize>>,
    /// JPEG only.
    pub frame: Option<JpegFrame>,
}

impl Probe {
    /// The metadata: size from the headers, the rest from EXIF (absent fields when EXIF is damaged).
    pub(crate) fn metadata(&self, bytes: &[u8]) -> PhotoMetadata {
        let mut metadata = self
            .exif
            .clone()
            .and_then(|range| bytes.get(range))
            .map(parse_exif)
            .unwrap_or_default();
        metadata.width = self.width;
        metadata.height = self.height;
        metadata
    }
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const CONVERT_HINT: &str = "convert it to JPEG on the device before adding it (iOS: take the JPEG representation or set the camera \
     to \"Most Compatible\"; Android: decode it and compress the bitmap as JPEG)";

/// Recognises the format from the first bytes and walks its headers.
pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return probe_jpeg(bytes);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return probe_png(bytes);
    }
    if let Some(format) = sniff_unsupported(bytes) {
        return Err(PhotoError::Unsupported {
            format: format.to_owned(),
            hint: CONVERT_HINT.to_owned(),
        });
    }
    Err(PhotoError::NotAnImage)
}

/// Names image formats that are recognised but not decoded.
fn sniff_unsupported(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // ISO base media file: the major brand, then the compatible brands, four bytes each.
        let box_len = usize::try_from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])).ok()?;
        let end = box_len.clamp(12, 64).min(bytes.len());
        let brands = bytes[8..end]
            .chunks_exact(4)
            .filter(|brand| *brand != [0, 0, 0, 0]);
        let mut found = None;
        for brand in brands {
            match brand {
                b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => return Some("HEIC"),
                b"avif" | b"avis" => found = Some("AVIF"),
                b"mif1" | b"msf1" => found = found.or(Some("HEIF")),
                _ => {}
            }
        }
        return found;
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("WebP");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some("GIF");
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Some("TIFF (or camera raw)");
    }
    if bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some("JPEG XL");
    }
    if bytes.len() >= 18 && bytes.starts_with(b"BM") {
        let header = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
        if matches!(header, 12 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Some("BMP");
        }
    }
    None
}

fn truncated(what: &str) -> PhotoError {
    PhotoError::Corrupt(format!("the file ends inside the {what} (truncated)"))
}

/// Walks the JPEG marker segments up to the first scan, collecting the frame header and the EXIF block.
fn probe_jpeg(bytes: &[u8]) -> Result<Probe, PhotoError> {
    let mut pos = 2;
    let mut exif = None;
    let mut frame: Option<(JpegFrame, u32, u32)> = None;
    loop {
        match bytes.get(pos) {
            None => return Err(truncated("JPEG headers, before any image data")),
            Some(0xFF) => {}
            Some(_) => {
                return Err(PhotoError::Corrupt(format!(
                    "JPEG marker expected at byte {pos}, found other data"
                )));
            }
        }
        // Fill bytes (0xFF) may precede a marker.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(truncated("JPEG headers, before any image data"));
        };
        pos += 1;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 => return Err(PhotoError::Corrupt("the JPEG ends before any image data".into())),
            0x00 => {
                return Err(PhotoError::Corrupt(format!(
                    "invalid JPEG marker at byte {}",
                    pos - 2
                )));
            }
            _ => {}
        }
        let length = match bytes.get(pos..pos + 2) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => return Err(truncated("JPEG headers")),
        };
        if length < 2 {
            return Err(PhotoError::Corrupt(format!(
                "JPEG segment with length {length} at byte {pos}"
            )));
        }
        let end = pos + length;
        let payload = bytes.get(pos + 2..end).ok_or_else(|| truncated("JPEG headers"))?;
        match marker {
            0xDA => {
                // The end marker cannot occur inside compressed data (0xFF is stuffed there), so without it
                // the file was cut short: a partial copy or an interrupted write. Data appended after the
                // image (a motion photo's video) keeps it: only a missing end means truncation.
                let ends = bytes.ends_with(&[0xFF, 0xD9])
                    || bytes[pos..].windows(2).rev().any(|pair| pair == [0xFF, 0xD9]);
                if !ends {
                    return Err(truncated("JPEG image data (no end marker)"));
                }
                break;
            }
            0xE1 if exif.is_none() && payload.len() > 6 && payload.starts_with(b"Exif\0") => {
                exif = Some(pos + 8..end);
            }
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && frame.is_none() => {
                let &[precision, h1, h0, w1, w0, components, ..] = payload else {
                    return Err(PhotoError::Corrupt("the JPEG frame header is too short".into()));
                };
                let height = u32::from(u16::from_be_bytes([h1, h0]));
                let width = u32::from(u16::from_be_bytes([w1, w0]));
                if width == 0 || height == 0 {
                    return Err(PhotoError::Corrupt(format!(
                        "the JPEG declares {width}x{height} pixels (a zero size is not supported)"
                    )));
                }
                let mut sampling = [(1, 1); 4];
                for (slot, component) in sampling.iter_mut().zip(payload[6..].chunks_exact(3)) {
                    *slot = (component[1] >> 4, component[1] & 0x0F);
                }
                frame = Some((
                    JpegFrame {
                        marker,
                        precision,
                        components,
                        sampling,
                    },
                    width,
                    height,
                ));
            }
            _ => {}
        }
        pos = end;
    }
    let (frame, width, height) = frame
        .ok_or_else(|| PhotoError::Corrupt("the JPEG has no frame header before its image data".into()))?;
    Ok(Probe {
        format: Format::Jpeg,
        width,
        height,
        exif,
        frame: Some(frame),
    })
}

/// Reads the PNG header (`IHDR`, which must come first) and looks for an `eXIf` chunk before the pixels.
fn probe_png(bytes: &[u8]) -> Result<Probe, PhotoError> {
    let header = bytes.get(8..33).ok_or_else(|| truncated("PNG header"))?;
    if &header[0..8] != b"\0\0\0\x0dIHDR" {
        return Err(PhotoError::Corrupt(
            "the PNG does not start with its header chunk".into(),
        ));
    }
    let width = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let height = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(PhotoError::Corrupt(format!(
            "the PNG declares an invalid size of {width}x{height} pixels"
        )));
    }
    let mut exif = None;
    let mut pos = 33;
    while let Some(&[l3, l2, l1, l0, t0, t1, t2, t3]) = bytes.get(pos..pos + 8) {
        let length = u32::from_be_bytes([l3, l2, l1, l0]) as usize;
        let kind = [t0, t1, t2, t3];
        if &kind == b"IDAT" || &kind == b"IEND" {
            break;
        }
        let Some(end) = (pos + 8).checked_add(length).filter(|end| *end <= bytes.len()) else {
            break;
        };
        if &kind == b"eXIf" && exif.is_none() {
            // Some writers keep the JPEG-style prefix.
            let start = if bytes[pos + 8..end].starts_with(b"Exif\0\0") {
                pos + 14
            } else {
                pos + 8
            };
            exif = Some(start..end);
        }
        pos = end + 4;
    }
    Ok(Probe {
        format: Format::Png,
        width,
        height,
        exif,
        frame: None,
    })
}

/// Parses a TIFF-structured EXIF block, keeping whatever can be read.
fn parse_exif(tiff: &[u8]) -> PhotoMetadata {
    let mut metadata = PhotoMetadata::default();
    let parsed = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|err| err.distill_partial_result(|_ignored| {}));
    let Ok(exif) = parsed else {
        return metadata;
    };
    let field = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|field| &field.value);
    let ascii = |tag: Tag| match field(tag) {
        Some(Value::Ascii(values)) => values.first().map(Vec::as_slice),
        _ => None,
    };

    metadata.orientation = field(Tag::Orientation)
        .and_then(|value| value.get_uint(0))
        .and_then(|value| u16::try_from(value).ok())
        .filter(|value| (1..=8).contains(value))
        .unwrap_or(1);

    metadata.camera_model = ascii(Tag::Model).and_then(clean_text);

    if let Some(local) = ascii(Tag::DateTimeOriginal).and_then(parse_datetime) {
        let offset = ascii(Tag::OffsetTimeOriginal).and_then(parse_offset);
        let zone = offset
            .and_then(|seconds| UtcOffset::from_whole_seconds(seconds).ok())
            .unwrap_or(UtcOffset::UTC);
        metadata.capture_time = Some(local.assume_offset(zone).unix_timestamp());
        metadata.capture_utc_offset = offset;
    }

    let coordinate = |value: Tag, reference: Tag, positive: u8, negative: u8, max: f64| {
        let degrees = dms_to_degrees(field(value)?)?;
        let sign = match ascii(reference)?.first()?.to_ascii_uppercase() {
            byte if byte == positive => 1.0,
            byte if byte == negative => -1.0,
            _ => return None,
        };
        (degrees <= max).then_some(sign * degrees)
    };
    let latitude = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'N', b'S', 90.0);
    let longitude = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'E', b'W', 180.0);
    metadata.gps = latitude.zip(longitude);
    metadata
}

/// Trims NULs and spaces, drops control characters, caps the length; `None` when nothing is left.
fn clean_text(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let cleaned: String = text
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Degrees, minutes, seconds (one to three rationals) to decimal degrees; `None` on a zero denominator,
/// a negative or non-finite value.
fn dms_to_degrees(value: &Value) -> Option<f64> {
    let parts: Vec<f64> = match value {
        Value::Rational(parts) => parts
            .iter()
            .take(3)
            .map(|part| (part.denom != 0).then(|| part.to_f64()))
            .collect::<Option<_>>()?,
        Value::SRational(parts) => parts
            .iter()
            .take(3)
            .map(|part| (part.denom != 0).then(|| part.to_f64()))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    if parts.is_empty() {
        return None;
    }
    let degrees = parts
        .iter()
        .zip([1.0, 60.0, 3600.0])
        .map(|(part, divisor)| part / divisor)
        .sum::<f64>();
    (degrees.is_finite() && parts.iter().all(|part| *part >= 0.0)).then_some(degrees)
}

fn digits(raw: &[u8]) -> Option<u32> {
    raw.iter().try_fold(0u32, |acc, byte| {
        byte.is_ascii_digit().then(|| acc * 10 + u32::from(byte - b'0'))
    })
}

/// `YYYY:MM:DD HH:MM:SS` (also with `-` in the date or `T` before the time); blank or zero dates are `None`.
fn parse_datetime(raw: &[u8]) -> Option<PrimitiveDateTime> {
    let raw = raw.get(..19)?;
    let separators_ok = matches!(raw[4], b':' | b'-')
        && raw[7] == raw[4]
        && matches!(raw[10], b' ' | b'T')
        && raw[13] == b':'
        && raw[16] == b':';
    if !separators_ok {
        return None;
    }
    let year = i32::try_from(digits(&raw[0..4])?).ok()?;
    let month = Month::try_from(u8::try_from(digits(&raw[5..7])?).ok()?).ok()?;
    let day = u8::try_from(digits(&raw[8..10])?).ok()?;
    let hour = u8::try_from(digits(&raw[11..13])?).ok()?;
    let minute = u8::try_from(digits(&raw[14..16])?).ok()?;
    // A leap second (60) is read as 59.
    let second = u8::try_from(digits(&raw[17..19])?).ok()?.min(59);
    if year < 1900 {
        return None;
    }
    Some(PrimitiveDateTime::new(
        Date::from_calendar_date(year, month, day).ok()?,
        Time::from_hms(hour, minute, second).ok()?,
    ))
}

/// `+HH:MM` / `-HH:MM` (or without the colon) to seconds east of UTC.
fn parse_offset(raw: &[u8]) -> Option<i32> {
    let sign = match raw.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match raw.get(1..)? {
        [h1, h0, b':', m1, m0, ..] | [h1, h0, m1, m0, ..] => (digits(&[*h1, *h0])?, digits(&[*m1, *m0])?),
        _ => return None,
    };
    (hours <= 18 && minutes < 60).then(|| sign * i32::try_from(hours * 3600 + minutes * 60).unwrap_or(0))
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::PathBuf;

    use super::*;

    fn photos() -> PathBuf {
        crate::photo::fixtures::dir()
    }

    fn read(relative: &str) -> Vec<u8> {
        std::fs::read(photos().join(relative)).unwrap()
    }

    #[test]
    fn gps_and_capture_time_of_the_nikon_photos_are_plausible() {
        let mut count = 0;
        for entry in std::fs::read_dir(photos().join("gps")).unwrap() {
            let path = entry.unwrap().path();
            let metadata = read_metadata(&std::fs::read(&path).unwrap()).unwrap();
            let (lat, lon) = metadata
                .gps
                .unwrap_or_else(|| panic!("{} has GPS", path.display()));
            // All taken around Arezzo, Tuscany.
            assert!(
                (43.46..43.47).contains(&lat) && (11.87..11.89).contains(&lon),
                "{path:?}: {lat}, {lon}"
            );
            let time = metadata.capture_time.unwrap();
            // 2008-10-22 between 16:00 and 17:30, read as UTC (the camera wrote no offset).
            assert!((1_224_691_200..1_224_696_600).contains(&time), "{path:?}: {time}");
            assert_eq!(metadata.capture_utc_offset, None);
            assert_eq!(metadata.camera_model.as_deref(), Some("COOLPIX P6000"));
            assert_eq!(
                (metadata.width, metadata.height, metadata.orientation),
                (640, 480, 1)
            );
            count += 1;
        }
        assert_eq!(count, 9);
    }

    #[test]
    fn metadata_matches_exiftool() {
        // Reference values from exiftool 12.57 (Debian libimage-exiftool-perl), run on the fixtures:
        // `exiftool -n -GPSLatitude -GPSLongitude -DateTimeOriginal -OffsetTimeOriginal -Model FILE`.
        // DSCN0010.jpg: 43.4674483333333 11.8851266666639, 2008:10:22 16:28:39, no offset, COOLPIX P6000
        // (raw rationals 43/1 28/1 281400000/100000000 and 11/1 53/1 645599999/100000000).
        let nikon = read_metadata(&read("gps/DSCN0010.jpg")).unwrap();
        let (lat, lon) = nikon.gps.unwrap();
        assert!(
            (lat - 43.4674483333333).abs() < 1e-9 && (lon - 11.8851266666639).abs() < 1e-9,
            "{lat} {lon}"
        );
        assert_eq!(nikon.capture_time, Some(1_224_692_919)); // 2008-10-22T16:28:39Z
        // HMD_Nokia_8.3_5G.jpg: 60.1467055555556 24.9067722222222, 2022:08:14 14:12:31 +03:00, Nokia 8.3 5G.
        let nokia = read_metadata(&read("phone/HMD_Nokia_8.3_5G.jpg")).unwrap();
        let (lat, lon) = nokia.gps.unwrap();
        assert!(
            (lat - 60.1467055555556).abs() < 1e-9 && (lon - 24.9067722222222).abs() < 1e-9,
            "{lat} {lon}"
        );
        assert_eq!(nokia.capture_time, Some(1_660_475_551)); // 2022-08-14T11:12:31Z
        assert_eq!(nokia.capture_utc_offset, Some(3 * 3600));
        assert_eq!(nokia.camera_model.as_deref(), Some("Nokia 8.3 5G"));
        assert_eq!((nokia.width, nokia.height), (4608, 1976));
        // jolla.jpg: 3264x2448, 2014:09:21 16:00:56, no GPS.
        let jolla = read_metadata(&read("phone/jolla.jpg")).unwrap();
        assert_eq!((jolla.width, jolla.height, jolla.gps), (3264, 2448, None));
        assert_eq!(jolla.capture_time, Some(1_411_315_256));
    }

    #[test]
    fn orientation_and_stored_size_are_read() {
        for n in 1..=8u16 {
            let landscape = read_metadata(&read(&format!("orientation/landscape_{n}.jpg"))).unwrap();
            assert_eq!(landscape.orientation, n);
            let (width, height) = landscape.upright_size();
            assert!(width > height, "landscape_{n}: {width}x{height}");
            let portrait = read_metadata(&read(&format!("orientation/portrait_{n}.jpg"))).unwrap();
            let (width, height) = portrait.upright_size();
            assert!(width < height, "portrait_{n}: {width}x{height}");
        }
    }

    #[test]
    fn heic_is_refused_with_a_hint_to_convert() {
        match read_metadata(&read("phone/iphone_13_pro_max.HEIC")) {
            Err(PhotoError::Unsupported { format, hint }) => {
                assert_eq!(format, "HEIC");
                assert!(hint.contains("JPEG"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_formats_and_non_images_are_told_apart() {
        assert!(matches!(read_metadata(b""), Err(PhotoError::Empty)));
        assert!(matches!(
            read_metadata(b"hello, this is text\n"),
            Err(PhotoError::NotAnImage)
        ));
        assert!(matches!(
            read_metadata(b"GIF89a\x01\0\x01\0"),
            Err(PhotoError::Unsupported { .. })
        ));
        assert!(matches!(
            read_metadata(b"RIFF\0\0\0\0WEBPVP8 "),
            Err(PhotoError::Unsupported { .. })
        ));
        // An MP4 video is not an image.
        assert!(matches!(
            read_metadata(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"),
            Err(PhotoError::NotAnImage)
        ));
        assert!(matches!(
            read_metadata(&[0xFF, 0xD8, 0xFF]),
            Err(PhotoError::Corrupt(_))
        ));
        assert!(matches!(
            read_metadata(&[0xFF, 0xD8, 0xFF, 0xD9]),
            Err(PhotoError::Corrupt(_))
        ));
        // Cut inside the compressed data: no end marker.
        let jolla = read("phone/jolla.jpg");
        assert!(matches!(
            read_metadata(&jolla[..jolla.len() - 2]),
            Err(PhotoError::Corrupt(_))
        ));
        // Data after the end marker (as motion photos append their video) is fine.
        let mut appended = jolla.clone();
        appended.extend_from_slice(&[0x42; 1000]);
        assert_eq!(read_metadata(&appended).unwrap().width, 3264);
    }

    /// A tiny JPEG-shaped file (SOI, APP1 with `tiff`, SOF0 of 8x8, SOS, EOI): enough for `read_metadata`.
    pub(in crate::photo::exif) fn jpeg_with_exif(tiff: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1];
        bytes.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        bytes.extend_from_slice(b"Exif\0\0");
        bytes.extend_from_slice(tiff);
        bytes.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0, 0xFF, 0xD9]);
        bytes
    }

    /// A valid EXIF block as the writer produces it (`write::exif_segment` without its `Exif\0\0` prefix):
    /// taken 2023-11-14 17:13:20 at -05:00, at 39.78, -89.65, for an 8x8 rendition. The writer's tests check
    /// that it still writes exactly these bytes.
    pub(in crate::photo::exif) const WRITTEN_TIFF: &[u8] = b"\
        \x4d\x4d\x00\x2a\x00\x00\x00\x08\x00\x07\x01\x12\x00\x03\x00\x00\x00\x01\x00\x01\x00\x00\x01\x1a\
        \x00\x05\x00\x00\x00\x01\x00\x00\x00\x62\x01\x1b\x00\x05\x00\x00\x00\x01\x00\x00\x00\x6a\x01\x28\
        \x00\x03\x00\x00\x00\x01\x00\x02\x00\x00\x02\x13\x00\x03\x00\x00\x00\x01\x00\x01\x00\x00\x87\x69\
        \x00\x04\x00\x00\x00\x01\x00\x00\x00\x72\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\xf4\x00\x00\
        \x00\x00\x00\x00\x00\x48\x00\x00\x00\x01\x00\x00\x00\x48\x00\x00\x00\x01\x00\x08\x90\x00\x00\x07\
        \x00\x00\x00\x04\x30\x32\x33\x32\x90\x03\x00\x02\x00\x00\x00\x14\x00\x00\x00\xd8\x90\x11\x00\x02\
        \x00\x00\x00\x07\x00\x00\x00\xec\x91\x01\x00\x07\x00\x00\x00\x04\x01\x02\x03\x00\xa0\x00\x00\x07\
        \x00\x00\x00\x04\x30\x31\x30\x30\xa0\x01\x00\x03\x00\x00\x00\x01\x00\x01\x00\x00\xa0\x02\x00\x04\
        \x00\x00\x00\x01\x00\x00\x00\x08\xa0\x03\x00\x04\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00\x00\
        \x32\x30\x32\x33\x3a\x31\x31\x3a\x31\x34\x20\x31\x37\x3a\x31\x33\x3a\x32\x30\x00\x2d\x30\x35\x3a\
        \x30\x30\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00\x04\x02\x03\x00\x00\x00\x01\x00\x02\x00\x00\
        \x00\x02\x4e\x00\x00\x00\x00\x02\x00\x05\x00\x00\x00\x03\x00\x00\x01\x36\x00\x03\x00\x02\x00\x00\
        \x00\x02\x57\x00\x00\x00\x00\x04\x00\x05\x00\x00\x00\x03\x00\x00\x01\x4e\x00\x00\x00\x00\x00\x00\
        \x00\x27\x00\x00\x00\x01\x00\x00\x00\x2e\x00\x00\x00\x01\x02\xdc\x6c\x00\x00\x0f\x42\x40\x00\x00\
        \x00\x59\x00\x00\x00\x01\x00\x00\x00\x27\x00\x00\x00\x01\x00\x00\x00\x00\x00\x0f\x42\x40";

    #[test]
    fn damaged_exif_gives_metadata_without_those_fields() {
        let tiff = WRITTEN_TIFF;
        let whole = read_metadata(&jpeg_with_exif(tiff)).unwrap();
        assert!(whole.capture_time.is_some() && whole.gps.is_some());
        // Every truncation, and every single-byte corruption, of a valid block: no panic, size still read.
        for cut in 0..tiff.len() {
            let metadata = read_metadata(&jpeg_with_exif(&tiff[..cut])).unwrap();
            assert_eq!((metadata.width, metadata.height), (8, 8));
            assert!((1..=8).contains(&metadata.orientation));
        }
        for index in 0..tiff.len() {
            for value in [0x00, 0x01, 0x7F, 0xFF] {
                let mut damaged = tiff.to_vec();
                damaged[index] = value;
                let metadata = read_metadata(&jpeg_with_exif(&damaged)).unwrap();
                assert!((1..=8).contains(&metadata.orientation));
                if let Some((lat, lon)) = metadata.gps {
                    assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0);
                }
            }
        }
        // An IFD0 whose next-IFD pointer points at itself, with a huge entry count: no loop, no field.
        let looping = b"MM\0\x2a\0\0\0\x08\xff\xff\0\0\0\0\0\0\0\x08";
        assert_eq!(read_metadata(&jpeg_with_exif(looping)).unwrap().orientation, 1);
        let mut self_pointer = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0".to_vec();
        self_pointer.extend_from_slice(&8u32.to_be_bytes());
        let metadata = read_metadata(&jpeg_with_exif(&self_pointer)).unwrap();
        assert!((1..=8).contains(&metadata.orientation));
    }

    #[test]
    fn times_and_offsets_parse_strictly() {
        let parse =
            |text: &str| parse_datetime(text.as_bytes()).map(|time| time.assume_utc().unix_timestamp());
        assert_eq!(parse("2008:10:22 16:28:39"), Some(1_224_692_919));
        assert_eq!(parse("2008-10-22T16:28:39"), Some(1_224_692_919));
        for bad in [
            "    :  :     :  :  ",
            "0000:00:00 00:00:00",
            "2008:13:22 16:28:39",
            "2008:10:22",
            "2008:10-22 16:28:39",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse_offset(b"+03:00"), Some(10_800));
        assert_eq!(parse_offset(b"-09:30"), Some(-34_200));
        assert_eq!(parse_offset(b"+0530"), Some(19_800));
        for bad in ["   :  ", "03:00", "+25:00", "+03:75", ""] {
            assert_eq!(parse_offset(bad.as_bytes()), None, "{bad}");
        }
    }
}
