//! Tests of the photo pipeline, on the repository's photo fixtures and on hostile files built here.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use super::*;

fn photos() -> PathBuf {
    crate::photo::fixtures::dir()
}

fn read(relative: &str) -> Vec<u8> {
    std::fs::read(photos().join(relative)).unwrap()
}

/// Runs `work` on its own thread and fails the test if it panics or takes longer than `seconds`.
fn within<T: Send + 'static>(seconds: u64, name: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(Duration::from_secs(seconds)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: no answer within {seconds} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{name}: panicked ({:?})", worker.join().err())
        }
    }
}

/// Decodes one of our JPEGs to (width, height, gray pixels).
fn gray(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
    let pixels = decoder.decode().unwrap();
    let (width, height) = decoder.dimensions().unwrap();
    (width, height, pixels)
}

/// Box-downscales a gray image by `factor` in both directions.
fn shrink(width: usize, height: usize, pixels: &[u8], factor: usize) -> Raster {
    let (small_w, small_h) = (width / factor, height / factor);
    let mut small = Vec::with_capacity(small_w * small_h);
    for y in 0..small_h {
        for x in 0..small_w {
            let mut sum = 0u32;
            for dy in 0..factor {
                let row = (y * factor + dy) * width;
                sum += pixels[row + x * factor..row + (x + 1) * factor]
                    .iter()
                    .map(|&v| u32::from(v))
                    .sum::<u32>();
            }
            small.push((sum / (factor * factor) as u32) as u8);
        }
    }
    Raster {
        width: small_w as u32,
        height: small_h as u32,
        channels: 1,
        pixels: small,
    }
}

/// Mean absolute difference of two gray images after each is normalised to mean 0 and standard
/// deviation 1, in standard deviations: blind to brightness and contrast (`landscape_1.jpg` is brighter
/// than the other seven), sensitive to where things are.
fn shape_distance(a: &[u8], b: &[u8]) -> f64 {
    fn normalise(pixels: &[u8]) -> Vec<f64> {
        let n = pixels.len() as f64;
        let mean = pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (pixels.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(1e-9);
        pixels.iter().map(|&v| (f64::from(v) - mean) / std).collect()
    }
    normalise(a)
        .iter()
        .zip(normalise(b))
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / a.len() as f64
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x.abs_diff(y)))
        .sum::<f64>()
        / a.len() as f64
}

fn settings() -> ProcessSettings {
    ProcessSettings::default()
}

#[test]
fn every_orientation_comes_out_upright() {
    for kind in ["landscape", "portrait"] {
        let reference = process(&read(&format!("orientation/{kind}_1.jpg")), &settings()).unwrap();
        let (ref_w, ref_h, ref_pixels) = gray(&reference.rendition);
        let reference_small = shrink(ref_w, ref_h, &ref_pixels, 10);
        for n in 1..=8u16 {
            let name = format!("{kind}_{n}");
            let processed = process(&read(&format!("orientation/{name}.jpg")), &settings()).unwrap();
            assert_eq!(processed.metadata.orientation, n);
            let (width, height) = (processed.rendition_width, processed.rendition_height);
            assert_eq!(width > height, kind == "landscape", "{name}: {width}x{height}");
            assert_eq!((width as usize, height as usize), (ref_w, ref_h), "{name}");
            let (w, h, pixels) = gray(&processed.rendition);
            assert_eq!((w, h), (width as usize, height as usize));
            let small = shrink(w, h, &pixels, 10);
            let right = shape_distance(&small.pixels, &reference_small.pixels);
            // Measured: 0.06..0.09 (the digit drawn in each fixture differs), wrong turns 0.58..1.07.
            assert!(
                right < 0.2,
                "{name}: differs from {kind}_1 by {right:.3} standard deviations per pixel"
            );
            // The metric tells transforms apart: any other turn or flip of this output is far off.
            for wrong in 2..=8u16 {
                let turned = orient(
                    Raster {
                        pixels: small.pixels.clone(),
                        ..small
                    },
                    wrong,
                );
                if (turned.width, turned.height) == (reference_small.width, reference_small.height) {
                    let distance = shape_distance(&turned.pixels, &reference_small.pixels);
                    assert!(
                        distance > 0.4 && distance > 5.0 * right,
                        "{name} + orientation {wrong}: {distance:.3}"
                    );
                }
            }
            // The thumbnail is upright too.
            let (thumb_w, thumb_h, _) = gray(&processed.thumbnail);
            assert_eq!(thumb_w.max(thumb_h), 320);
            assert_eq!(thumb_w > thumb_h, kind == "landscape");
        }
    }
}

#[test]
fn capture_time_and_gps_are_kept_in_the_rendition_and_nothing_else() {
    for entry in std::fs::read_dir(photos().join("gps")).unwrap() {
        let path = entry.unwrap().path();
        let processed = process_file(&path, &settings()).unwrap();
        let original = &processed.metadata;
        assert!(original.gps.is_some() && original.capture_time.is_some());
        let back = exif::read_metadata(&processed.rendition).unwrap();
        assert_eq!(back.capture_time, original.capture_time, "{path:?}");
        let ((lat, lon), (back_lat, back_lon)) = (original.gps.unwrap(), back.gps.unwrap());
        assert!(
            (lat - back_lat).abs() < 1e-8 && (lon - back_lon).abs() < 1e-8,
            "{path:?}"
        );
        assert_eq!((back.camera_model, back.orientation), (None, 1));
        assert_eq!((back.width, back.height), (640, 480));
        // The thumbnail carries no metadata at all.
        let thumb = exif::read_metadata(&processed.thumbnail).unwrap();
        assert_eq!((thumb.capture_time, thumb.gps), (None, None));
    }
    let nokia = read("phone/HMD_Nokia_8.3_5G.jpg");
    let private = ProcessSettings {
        keep_gps: false,
        ..settings()
    };
    let back = exif::read_metadata(&process(&nokia, &private).unwrap().rendition).unwrap();
    assert_eq!(
        (back.capture_time, back.capture_utc_offset, back.gps),
        (Some(1_660_475_551), Some(10_800), None)
    );
    let bare = ProcessSettings {
        keep_gps: false,
        keep_capture_time: false,
        ..settings()
    };
    let rendition = process(&nokia, &bare).unwrap().rendition;
    assert!(!rendition.windows(6).any(|window| window == b"Exif\0\0"));
    assert_eq!(exif::read_metadata(&rendition).unwrap().capture_time, None);
}

/// Cross-checks the hand-written EXIF with an independent reader when `exiftool` is installed (Debian
/// `libimage-exiftool-perl`); skipped with a note otherwise.
#[test]
fn exiftool_reads_the_written_exif_without_warnings() {
    let Ok(version) = std::process::Command::new("exiftool").arg("-ver").output() else {
        eprintln!("note: exiftool not installed; cross-check skipped");
        return;
    };
    assert!(version.status.success());
    let processed = process(&read("phone/HMD_Nokia_8.3_5G.jpg"), &settings()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rendition.jpg");
    std::fs::write(&path, &processed.rendition).unwrap();
    let output = std::process::Command::new("exiftool")
        .args(["-n", "-s3", "-validate", "-IFD0:Orientation", "-IFD0:Model"])
        .args([
            "-ExifIFD:DateTimeOriginal",
            "-ExifIFD:OffsetTimeOriginal",
            "-GPS:GPSLatitude",
        ])
        .args([
            "-GPS:GPSLongitude",
            "-ExifIFD:ExifImageWidth",
            "-ExifIFD:ExifImageHeight",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    // "0 0 0": no errors, warnings or minor warnings; then the values (Model is absent: stripped).
    assert_eq!(
        lines[..4],
        ["0 0 0", "1", "2022:08:14 14:12:31", "+03:00"],
        "{text}"
    );
    let lat: f64 = lines[4].parse().unwrap();
    let lon: f64 = lines[5].parse().unwrap();
    assert!(
        (lat - 60.1467055555556).abs() < 1e-8 && (lon - 24.9067722222222).abs() < 1e-8,
        "{text}"
    );
    assert_eq!(lines[6..], ["2048", "878"], "{text}");
}

#[test]
fn phone_photos_are_resized_never_upscaled() {
    let nokia = process(&read("phone/HMD_Nokia_8.3_5G.jpg"), &settings()).unwrap();
    assert_eq!((nokia.rendition_width, nokia.rendition_height), (2048, 878));
    let jolla = process(&read("phone/jolla.jpg"), &settings()).unwrap();
    assert_eq!((jolla.rendition_width, jolla.rendition_height), (2048, 1536));
    let (w, h, _) = gray(&jolla.thumbnail);
    assert_eq!((w, h), (320, 240));
    assert!(jolla.rendition.len() < 1 << 20, "{}", jolla.rendition.len());

    let small = read("orientation/landscape_1.jpg");
    let kept = process(&small, &settings()).unwrap();
    assert_eq!((kept.rendition_width, kept.rendition_height), (600, 450));
    let halved = process(
        &small,
        &ProcessSettings {
            long_edge: 300,
            thumbnail_edge: 1000,
            ..settings()
        },
    )
    .unwrap();
    assert_eq!((halved.rendition_width, halved.rendition_height), (300, 225));
    // A thumbnail larger than the rendition is the rendition's size.
    assert_eq!(gray(&halved.thumbnail).0, 300);
}

#[test]
fn heic_is_refused_with_a_hint() {
    match process(&read("phone/iphone_13_pro_max.HEIC"), &settings()) {
        Err(err @ PhotoError::Unsupported { .. }) => {
            let message = err.to_string();
            assert!(
                message.starts_with("HEIC images are not supported") && message.contains("JPEG"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_fixtures_fail_clearly_or_succeed_never_panic_or_hang() {
    let mut seen = 0;
    for entry in std::fs::read_dir(photos().join("invalid")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let (metadata, processed) = within(120, &name, move || {
            (
                exif::read_metadata(&bytes),
                process(&bytes, &ProcessSettings::default()),
            )
        });
        match (name.as_str(), &processed) {
            // Its compressed data is damaged (libjpeg and vips refuse it too): refused, not a grey smear.
            ("corrupted.jpg", Err(PhotoError::Corrupt(message))) => {
                assert!(!message.is_empty());
                // Its headers and EXIF are fine, so the quick check passes.
                assert_eq!(metadata.unwrap().width, 3648);
            }
            // The others carry XMP (not EXIF) in APP1, which trips some EXIF readers: fine here.
            (_, Ok(processed)) => {
                let metadata = metadata.unwrap();
                assert_eq!(metadata.orientation, 1);
                assert_eq!(processed.metadata, metadata);
                assert!(processed.rendition_width > 0 && !processed.thumbnail.is_empty());
            }
            (_, other) => panic!("{name}: {other:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 8);
}

fn sof_position(jpeg: &[u8]) -> usize {
    jpeg.windows(2)
        .position(|pair| pair[0] == 0xFF && matches!(pair[1], 0xC0..=0xC2))
        .unwrap()
}

#[test]
fn hostile_jpegs_are_refused_before_decoding() {
    let original = read("orientation/landscape_1.jpg");
    // 30000x30000 declared in the frame header of a real, small JPEG.
    let mut huge = original.clone();
    let sof = sof_position(&huge);
    huge[sof + 5..sof + 7].copy_from_slice(&30000u16.to_be_bytes());
    huge[sof + 7..sof + 9].copy_from_slice(&30000u16.to_be_bytes());
    let result = within(10, "30000x30000", move || {
        process(&huge, &ProcessSettings::default())
    });
    assert!(
        matches!(
            result,
            Err(PhotoError::TooManyPixels {
                width: 30000,
                height: 30000,
                limit: 64_000_000
            })
        ),
        "{result:?}"
    );

    // Under the pixel limit but over the memory limit.
    let tight = ProcessSettings {
        limits: DecodeLimits {
            max_alloc_bytes: 1 << 20,
            ..DecodeLimits::default()
        },
        ..ProcessSettings::default()
    };
    assert!(matches!(
        process(&original, &tight),
        Err(PhotoError::TooMuchMemory {
            width: 600,
            height: 450,
            ..
        })
    ));

    // Truncated: in the compressed data, and in the headers.
    for cut in [original.len() / 2, original.len() - 3, sof + 4, 100, 3] {
        let truncated = original[..cut].to_vec();
        let result = within(10, "truncated", move || {
            process(&truncated, &ProcessSettings::default())
        });
        assert!(
            matches!(result, Err(PhotoError::Corrupt(_))),
            "cut at {cut}: {result:?}"
        );
    }

    assert!(matches!(process(&[], &settings()), Err(PhotoError::Empty)));
    let text = b"Invoice 42\nThis is not a photo, just some text that was picked by mistake.\n".repeat(10);
    assert!(matches!(process(&text, &settings()), Err(PhotoError::NotAnImage)));
    let small_limit = ProcessSettings {
        limits: DecodeLimits {
            max_file_bytes: 1000,
            ..DecodeLimits::default()
        },
        ..ProcessSettings::default()
    };
    assert!(matches!(
        process(&original, &small_limit),
        Err(PhotoError::TooLarge { limit: 1000, .. })
    ));
}

#[test]
fn a_200_mb_file_is_refused_by_its_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.jpg");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no data blocks are written, so only the declared size is large.
    file.set_len(200_000_000).unwrap();
    drop(file);
    let result = within(5, "200 MB", move || {
        process_file(&path, &ProcessSettings::default())
    });
    assert!(
        matches!(
            result,
            Err(PhotoError::TooLarge {
                bytes: 200_000_000,
                limit: 67_108_864
            })
        ),
        "{result:?}"
    );
    let empty = dir.path().join("empty.jpg");
    std::fs::File::create(&empty).unwrap();
    assert!(matches!(
        process_file(&empty, &settings()),
        Err(PhotoError::Empty)
    ));
    assert!(matches!(
        process_file(&dir.path().join("missing.jpg"), &settings()),
        Err(PhotoError::Io(_))
    ));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A valid 1-bit grayscale PNG of `width` x `height` black pixels whose IDAT is a hand-made deflate
/// stream (fixed Huffman codes: one literal zero, then back-references of 258 bytes at distance 1),
/// so a 20000x20000 image (50 MB of rows) takes about 300 KB: a decompression bomb.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        count: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, count: u32) {
            self.acc |= u64::from(value) << self.count;
            self.count += count;
            while self.count >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.count -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u32, length: u32) {
            self.put(code.reverse_bits() >> (32 - length), length);
        }
    }
    let raw = u64::from(height) * (1 + u64::from(width).div_ceil(8));
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        count: 0,
    };
    bits.put(1, 1); // last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    let mut left = raw - 1;
    while left >= 258 {
        bits.code(0xC5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7); // flush to a byte
    let mut zlib = bits.out;
    let adler = (((raw % 65521) as u32) << 16) | 1;
    zlib.extend_from_slice(&adler.to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn png_bombs_are_refused_from_the_header() {
    // The generator makes valid PNGs: a small one decodes (black).
    let small = process(&png_bomb(64, 48), &settings()).unwrap();
    assert_eq!((small.rendition_width, small.rendition_height), (64, 48));
    assert!(gray(&small.rendition).2.iter().all(|&value| value < 8));

    let bomb = png_bomb(20_000, 20_000);
    assert!(bomb.len() < 400_000, "{}", bomb.len());
    let result = within(10, "PNG bomb", move || {
        process(&bomb, &ProcessSettings::default())
    });
    assert!(
        matches!(
            result,
            Err(PhotoError::TooManyPixels {
                width: 20_000,
                height: 20_000,
                ..
            })
        ),
        "{result:?}"
    );

    // A 1x1 PNG whose header was patched to 20000x20000 (CRC fixed): refused the same way.
    let mut patched = Vec::new();
    image::DynamicImage::new_luma8(1, 1)
        .write_to(&mut Cursor::new(&mut patched), image::ImageFormat::Png)
        .unwrap();
    patched[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    patched[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32(&patched[12..29]);
    patched[29..33].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        process(&patched, &settings()),
        Err(PhotoError::TooManyPixels {
            width: 20_000,
            height: 20_000,
            ..
        })
    ));
    // Lying the other way (header says 1x1 more data follows) or truncated: an error, never a panic.
    let mut short = Vec::new();
    image::DynamicImage::new_rgb8(300, 200)
        .write_to(&mut Cursor::new(&mut short), image::ImageFormat::Png)
        .unwrap();
    for cut in [short.len() / 2, 40, 20] {
        assert!(
            matches!(process(&short[..cut], &settings()), Err(PhotoError::Corrupt(_))),
            "cut {cut}"
        );
    }
}

#[test]
fn png_with_transparency_is_flattened_on_white() {
    let mut rgba = image::RgbaImage::new(40, 30);
    for (x, _, pixel) in rgba.enumerate_pixels_mut() {
        *pixel = if x < 20 {
            image::Rgba([255, 0, 0, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        };
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(rgba)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let processed = process(&png, &settings()).unwrap();
    let (w, _, pixels) = gray(&processed.rendition);
    assert!(
        pixels[w - 5] > 245,
        "transparent becomes white: {}",
        pixels[w - 5]
    );
    assert!(pixels[5] < 120, "red stays dark in gray: {}", pixels[5]);

    let mut gray_png = Vec::new();
    image::DynamicImage::new_luma16(50, 50)
        .write_to(&mut Cursor::new(&mut gray_png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(process(&gray_png, &settings()).unwrap().rendition_width, 50);
}

#[test]
fn grayscale_jpeg_stays_grayscale() {
    let mut jpeg = Vec::new();
    let pixels: Vec<u8> = (0..64 * 32).map(|i| (i % 256) as u8).collect();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&pixels, 64, 32, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let processed = process(&jpeg, &settings()).unwrap();
    assert_eq!((processed.rendition_width, processed.rendition_height), (64, 32));
    // One component in the frame header of the output.
    let sof = sof_position(&processed.rendition);
    assert_eq!(processed.rendition[sof + 9], 1);
}

#[test]
fn progressive_and_cmyk_jpegs_are_processed() {
    let (width, height) = (3000u16, 40u16);
    let rgb: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut progressive = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut progressive, 80);
    encoder.set_progressive(true);
    encoder
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let frame = exif::probe(&progressive).unwrap().frame.unwrap();
    assert!(frame.progressive());
    let processed = process(&progressive, &settings()).unwrap();
    assert_eq!(
        (processed.rendition_width, processed.rendition_height),
        (2048, 27)
    );

    let cmyk: Vec<u8> = (0..64 * 48 * 4)
        .map(|i| if i % 4 == 3 { 0 } else { 200 })
        .collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&cmyk, 64, 48, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let processed = process(&jpeg, &settings()).unwrap();
    assert_eq!((processed.rendition_width, processed.rendition_height), (64, 48));
    let sof = sof_position(&processed.rendition);
    assert_eq!(processed.rendition[sof + 9], 3, "CMYK becomes RGB");
}

#[test]
fn the_memory_estimate_counts_progressive_coefficients() {
    // A 4000x3000 4:2:0 progressive JPEG: 16-bit coefficients for Y at full and Cb, Cr at quarter size.
    let frame = exif::JpegFrame {
        marker: 0xC2,
        precision: 8,
        components: 3,
        sampling: [(2, 2), (1, 1), (1, 1), (1, 1)],
    };
    assert_eq!(
        frame.coefficient_bytes(4000, 3000),
        2 * (4000 * 3008 + 2 * 2000 * 1504)
    );
    let baseline_444 = exif::JpegFrame {
        marker: 0xC0,
        sampling: [(1, 1); 4],
        ..frame
    };
    assert!(!baseline_444.progressive());
    assert_eq!(baseline_444.coefficient_bytes(8, 8), 3 * 64 * 2);
    // 12 MP fits the default 256 MiB; 40 MP progressive does not.
    let limits = DecodeLimits::default();
    let decoded = 4000 * 3000 * 3;
    assert!(
        check_memory(
            4000,
            3000,
            3,
            decoded,
            frame.coefficient_bytes(4000, 3000),
            2048,
            &limits
        )
        .is_ok()
    );
    let (w, h) = (7300, 5475);
    let result = check_memory(
        w,
        h,
        3,
        u64::from(w * h * 3),
        frame.coefficient_bytes(w, h),
        2048,
        &limits,
    );
    assert!(
        matches!(result, Err(PhotoError::TooMuchMemory { .. })),
        "{result:?}"
    );
}

#[test]
fn the_date_stamp_changes_only_the_bottom_band() {
    let original = read("orientation/landscape_1.jpg");
    let plain = process(&original, &settings()).unwrap();
    let stamped = process(
        &original,
        &ProcessSettings {
            date_stamp: Some("2022-08-14 14:12 +03:00\n1 Elm St, Springfield".into()),
            ..settings()
        },
    )
    .unwrap();
    assert_eq!(
        plain.thumbnail, stamped.thumbnail,
        "the thumbnail is made before the stamp"
    );
    let (w, h, a) = gray(&plain.rendition);
    let (_, _, b) = gray(&stamped.rendition);
    let row_diff = |y: usize| mean_abs_diff(&a[y * w..(y + 1) * w], &b[y * w..(y + 1) * w]);
    let first_changed = (0..h).find(|&y| row_diff(y) > 0.0).unwrap();
    assert!(
        first_changed >= h - h / 6,
        "first changed row {first_changed} of {h}"
    );
    // Above the band (minus one block row for chroma upsampling) the pixels are identical.
    let band_top = first_changed.div_ceil(16) * 16;
    assert!((0..band_top.saturating_sub(16)).all(|y| row_diff(y) == 0.0));
    // The band is darker and carries bright text.
    let band_mean = |pixels: &[u8]| pixels[band_top * w..].iter().map(|&v| f64::from(v)).sum::<f64>();
    assert!(band_mean(&b) < band_mean(&a) * 0.8);
    assert!(b[band_top * w..].iter().filter(|&&v| v > 200).count() > w);
    // The EXIF is the same as without the stamp.
    assert_eq!(
        exif::read_metadata(&stamped.rendition).unwrap(),
        exif::read_metadata(&plain.rendition).unwrap()
    );
}

#[test]
fn orientation_transforms_match_their_definitions() {
    // 3x2 image, one channel, values 0..6: a b c / d e f.
    let source = || Raster {
        width: 3,
        height: 2,
        channels: 1,
        pixels: vec![0, 1, 2, 3, 4, 5],
    };
    let cases: [(u16, (u32, u32), [u8; 6]); 8] = [
        (1, (3, 2), [0, 1, 2, 3, 4, 5]),
        (2, (3, 2), [2, 1, 0, 5, 4, 3]),
        (3, (3, 2), [5, 4, 3, 2, 1, 0]),
        (4, (3, 2), [3, 4, 5, 0, 1, 2]),
        (5, (2, 3), [0, 3, 1, 4, 2, 5]),
        (6, (2, 3), [3, 0, 4, 1, 5, 2]),
        (7, (2, 3), [5, 2, 4, 1, 3, 0]),
        (8, (2, 3), [2, 5, 1, 4, 0, 3]),
    ];
    for (orientation, size, expected) in cases {
        let out = orient(source(), orientation);
        assert_eq!(
            ((out.width, out.height), out.pixels.as_slice()),
            (size, &expected[..]),
            "{orientation}"
        );
    }
    let rgb = Raster {
        width: 2,
        height: 1,
        channels: 3,
        pixels: vec![1, 2, 3, 4, 5, 6],
    };
    assert_eq!(orient(rgb, 2).pixels, vec![4, 5, 6, 1, 2, 3]);
}

#[test]
fn fit_keeps_the_long_edge_exact() {
    assert_eq!(fit(4608, 1976, 2048), (2048, 878));
    assert_eq!(fit(3024, 4032, 2048), (1536, 2048));
    assert_eq!(fit(65535, 1, 2048), (2048, 1));
    assert_eq!(fit(100, 50, 2048), (100, 50));
}
