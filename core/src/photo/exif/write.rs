//! Writing the minimal EXIF block of a rendition.
//!
//! **Writing.** `exif_segment` builds the complete `APP1` payload for a rendition: `Exif\0\0`, then a
//! big-endian TIFF structure written by hand (about 300 bytes), word-aligned as the TIFF rules ask:
//!
//! ```text
//! TIFF header  "MM" 0x002A, offset of IFD0 = 8
//! IFD0         Orientation 1, X/YResolution 72/1, ResolutionUnit inch, YCbCrPositioning centred,
//!              ExifIFDPointer, GPSInfoIFDPointer (if GPS kept)
//! Exif IFD     ExifVersion "0232", DateTimeOriginal "YYYY:MM:DD HH:MM:SS" and OffsetTimeOriginal "+HH:MM"
//!              (if kept and known), ComponentsConfiguration, FlashpixVersion, ColorSpace sRGB,
//!              PixelX/YDimension (the rendition's size)
//! GPS IFD      GPSVersionID 2.3.0.0, GPSLatitudeRef N|S, GPSLatitude d/1 m/1 s*10^6/10^6, same for longitude
//! ```
//!
//! The descriptive tags are the ones the EXIF standard requires (`exiftool -validate` reports none
//! missing); they describe the rendition, not the original.
//! Nothing else of the original's metadata survives (camera serials, thumbnails, maker notes, XMP).

use time::{OffsetDateTime, UtcOffset};

use crate::photo::exif::read::PhotoMetadata;

/// One TIFF directory entry: tag, type, count and the value's big-endian bytes.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

const BYTE: u16 = 1;
const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const UNDEFINED: u16 = 7;

impl Entry {
    fn ascii(tag: u16, text: &str) -> Self {
        let mut value = text.as_bytes().to_vec();
        value.push(0);
        Self {
            tag,
            kind: ASCII,
            count: value.len() as u32,
            value,
        }
    }

    fn long(tag: u16, value: u32) -> Self {
        Self {
            tag,
            kind: LONG,
            count: 1,
            value: value.to_be_bytes().to_vec(),
        }
    }

    fn degrees(tag: u16, degrees: f64) -> Self {
        // Whole degrees, whole minutes, seconds in millionths (about 0.03 mm): exact to well below GPS noise.
        let micro_arcseconds = (degrees.abs() * 3_600_000_000.0).round() as u64;
        let (whole_degrees, rest) = (micro_arcseconds / 3_600_000_000, micro_arcseconds % 3_600_000_000);
        let (minutes, micro_seconds) = (rest / 60_000_000, rest % 60_000_000);
        let mut value = Vec::with_capacity(24);
        for (numerator, denominator) in [(whole_degrees, 1u64), (minutes, 1), (micro_seconds, 1_000_000)] {
            value.extend_from_slice(&(numerator as u32).to_be_bytes());
            value.extend_from_slice(&(denominator as u32).to_be_bytes());
        }
        Self {
            tag,
            kind: RATIONAL,
            count: 3,
            value,
        }
    }

    fn external_len(&self) -> usize {
        if self.value.len() <= 4 {
            0
        } else {
            self.value.len().next_multiple_of(2)
        }
    }
}

fn ifd_len(entries: &[Entry]) -> usize {
    2 + 12 * entries.len() + 4 + entries.iter().map(Entry::external_len).sum::<usize>()
}

/// Appends one IFD (entries sorted by tag, next-IFD offset 0) followed by the values that do not fit in
/// their entry. Offsets count from the start of the TIFF header, which is `tiff[0]`.
fn write_ifd(tiff: &mut Vec<u8>, entries: &[Entry]) {
    let mut external = tiff.len() + 2 + 12 * entries.len() + 4;
    tiff.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    for entry in entries {
        tiff.extend_from_slice(&entry.tag.to_be_bytes());
        tiff.extend_from_slice(&entry.kind.to_be_bytes());
        tiff.extend_from_slice(&entry.count.to_be_bytes());
        if entry.value.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..entry.value.len()].copy_from_slice(&entry.value);
            tiff.extend_from_slice(&inline);
        } else {
            tiff.extend_from_slice(&(external as u32).to_be_bytes());
            external += entry.external_len();
        }
    }
    tiff.extend_from_slice(&0u32.to_be_bytes());
    for entry in entries.iter().filter(|entry| entry.value.len() > 4) {
        tiff.extend_from_slice(&entry.value);
        if entry.value.len() % 2 == 1 {
            tiff.push(0);
        }
    }
}

/// The local wall-clock text of a capture time in its zone, `YYYY:MM:DD HH:MM:SS`.
fn format_local(capture_time: i64, offset: i32) -> Option<String> {
    let zone = UtcOffset::from_whole_seconds(offset).ok()?;
    let local = OffsetDateTime::from_unix_timestamp(capture_time)
        .ok()?
        .to_offset(zone);
    (0..=9999).contains(&local.year()).then(|| {
        format!(
            "{:04}:{:02}:{:02} {:02}:{:02}:{:02}",
            local.year(),
            u8::from(local.month()),
            local.day(),
            local.hour(),
            local.minute(),
            local.second()
        )
    })
}

fn format_offset(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The `APP1` payload (`Exif\0\0` + TIFF) for a `width` x `height` rendition: orientation 1, the capture time
/// (local time and its offset, as the original had them) and the GPS position when kept and known, and the
/// few descriptive tags the EXIF standard requires (resolution 72 dpi, YCbCr positioning, EXIF and
/// Flashpix versions, components, sRGB colour space, pixel dimensions), so that strict readers such as
/// `exiftool -validate` find nothing missing. `None` when there is nothing to keep: the rendition then
/// carries no EXIF at all (its orientation is 1 by default).
pub(crate) fn exif_segment(
    metadata: &PhotoMetadata,
    keep_capture_time: bool,
    keep_gps: bool,
    width: u32,
    height: u32,
) -> Option<Vec<u8>> {
    let time = keep_capture_time
        .then_some(metadata.capture_time)
        .flatten()
        .and_then(|time| {
            Some((
                format_local(time, metadata.capture_utc_offset.unwrap_or(0))?,
                metadata.capture_utc_offset,
            ))
        });
    let gps = keep_gps
        .then_some(metadata.gps)
        .flatten()
        .filter(|(lat, lon)| lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0);
    if time.is_none() && gps.is_none() {
        return None;
    }
    let short = |tag: u16, value: u16| Entry {
        tag,
        kind: SHORT,
        count: 1,
        value: value.to_be_bytes().to_vec(),
    };
    let undefined = |tag: u16, value: &[u8; 4]| Entry {
        tag,
        kind: UNDEFINED,
        count: 4,
        value: value.to_vec(),
    };
    let dpi = |tag: u16| Entry {
        tag,
        kind: RATIONAL,
        count: 1,
        value: [0, 0, 0, 72, 0, 0, 0, 1].to_vec(),
    };

    // Entries in ascending tag order, as TIFF requires.
    let mut exif_entries = vec![undefined(0x9000, b"0232")];
    if let Some((local, offset)) = time {
        exif_entries.push(Entry::ascii(0x9003, &local));
        if let Some(offset) = offset {
            exif_entries.push(Entry::ascii(0x9011, &format_offset(offset)));
        }
    }
    exif_entries.extend([
        undefined(0x9101, &[1, 2, 3, 0]),
        undefined(0xA000, b"0100"),
        short(0xA001, 1),
        Entry::long(0xA002, width),
        Entry::long(0xA003, height),
    ]);
    let gps_entries: Vec<Entry> = gps
        .map(|(lat, lon)| {
            vec![
                Entry {
                    tag: 0x0000,
                    kind: BYTE,
                    count: 4,
                    value: vec![2, 3, 0, 0],
                },
                Entry::ascii(0x0001, if lat < 0.0 { "S" } else { "N" }),
                Entry::degrees(0x0002, lat),
                Entry::ascii(0x0003, if lon < 0.0 { "W" } else { "E" }),
                Entry::degrees(0x0004, lon),
            ]
        })
        .unwrap_or_default();

    let mut ifd0 = vec![
        short(0x0112, 1),
        dpi(0x011A),
        dpi(0x011B),
        short(0x0128, 2),
        short(0x0213, 1),
        Entry::long(0x8769, 0),
    ];
    if !gps_entries.is_empty() {
        ifd0.push(Entry::long(0x8825, 0));
    }
    // The pointers are inline values, so the sizes are known before their values are.
    let exif_offset = 8 + ifd_len(&ifd0);
    let gps_offset = exif_offset + ifd_len(&exif_entries);
    for entry in &mut ifd0 {
        match entry.tag {
            0x8769 => entry.value = (exif_offset as u32).to_be_bytes().to_vec(),
            0x8825 => entry.value = (gps_offset as u32).to_be_bytes().to_vec(),
            _ => {}
        }
    }

    let mut segment = Vec::with_capacity(6 + gps_offset + ifd_len(&gps_entries));
    segment.extend_from_slice(b"Exif\0\0");
    let mut tiff = Vec::with_capacity(gps_offset + ifd_len(&gps_entries));
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    write_ifd(&mut tiff, &ifd0);
    write_ifd(&mut tiff, &exif_entries);
    if !gps_entries.is_empty() {
        write_ifd(&mut tiff, &gps_entries);
    }
    segment.extend_from_slice(&tiff);
    Some(segment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::exif::read::read_metadata;
    use crate::photo::exif::read::tests::{WRITTEN_TIFF, jpeg_with_exif};

    #[test]
    fn written_exif_reads_back_the_same() {
        let cases = [
            (
                Some(1_660_475_551),
                Some(3 * 3600),
                Some((60.1467055555556, 24.9067722222222)),
            ),
            (Some(1_224_692_919), None, Some((-33.8688, 151.2093))),
            (Some(0), Some(-(9 * 3600 + 30 * 60)), Some((0.0, -0.000001))),
            (None, None, Some((89.999999, -179.999999))),
            (Some(1_700_000_000), Some(0), None),
        ];
        for (capture_time, capture_utc_offset, gps) in cases {
            let original = PhotoMetadata {
                capture_time,
                capture_utc_offset,
                gps,
                ..PhotoMetadata::default()
            };
            let segment = exif_segment(&original, true, true, 8, 8).unwrap();
            assert!(segment.len() < 400, "{}", segment.len());
            let back = read_metadata(&jpeg_with_exif(&segment[6..])).unwrap();
            assert_eq!(back.capture_time, capture_time);
            assert_eq!(
                back.capture_utc_offset,
                if capture_time.is_some() {
                    capture_utc_offset
                } else {
                    None
                }
            );
            assert_eq!(back.orientation, 1);
            match (gps, back.gps) {
                (Some((lat, lon)), Some((back_lat, back_lon))) => {
                    assert!(
                        (lat - back_lat).abs() < 1e-9 && (lon - back_lon).abs() < 1e-9,
                        "{gps:?} {:?}",
                        back.gps
                    );
                }
                (expected, found) => assert_eq!(expected, found),
            }
        }
        let full = PhotoMetadata {
            capture_time: Some(1),
            gps: Some((1.0, 2.0)),
            camera_model: Some("Secret Cam".into()),
            ..PhotoMetadata::default()
        };
        let time_only = read_metadata(&jpeg_with_exif(
            &exif_segment(&full, true, false, 8, 8).unwrap()[6..],
        ))
        .unwrap();
        assert_eq!(
            (time_only.capture_time, time_only.gps, time_only.camera_model),
            (Some(1), None, None)
        );
        let gps_only = read_metadata(&jpeg_with_exif(
            &exif_segment(&full, false, true, 8, 8).unwrap()[6..],
        ))
        .unwrap();
        assert_eq!((gps_only.capture_time, gps_only.gps), (None, Some((1.0, 2.0))));
        assert_eq!(exif_segment(&full, false, false, 8, 8), None);
    }

    #[test]
    fn the_written_block_is_the_one_the_reader_tests_are_built_on() {
        let metadata = PhotoMetadata {
            capture_time: Some(1_700_000_000),
            capture_utc_offset: Some(-5 * 3600),
            gps: Some((39.78, -89.65)),
            ..PhotoMetadata::default()
        };
        let segment = exif_segment(&metadata, true, true, 8, 8).unwrap();
        assert_eq!(&segment[..6], b"Exif\0\0");
        assert_eq!(&segment[6..], WRITTEN_TIFF);
    }

    #[test]
    fn offsets_are_written_as_signed_hours_and_minutes() {
        assert_eq!(format_offset(-34_200), "-09:30");
        assert_eq!(format_offset(19_800), "+05:30");
        assert_eq!(format_offset(0), "+00:00");
    }
}
