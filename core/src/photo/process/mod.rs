//! The photo pipeline: the original's bytes in, an upload rendition and a thumbnail out. Pure: no files
//! (except [`process_file`]'s read), no database, no network; one photo at a time, memory bounded.
//!
//! Steps, each sized before anything is allocated:
//! 1. **Refuse early.** Empty input, a file over [`DecodeLimits::max_file_bytes`], an unrecognised or
//!    unsupported format, and (from the headers alone, see [`super::exif`]) more pixels than
//!    [`DecodeLimits::max_pixels`] or an estimated peak memory over [`DecodeLimits::max_alloc_bytes`]. A PNG
//!    bomb or a JPEG declaring 30000x30000 pixels is refused here, before any pixel is inflated.
//! 2. **Decode** JPEG with `zune-jpeg` in strict mode (damaged or truncated compressed data is an error,
//!    not a grey smear), PNG with `image` under explicit `image::Limits` (alpha is flattened onto white).
//!    Grayscale stays one channel. Progressive JPEGs cost their DCT coefficients on top of their pixels;
//!    the estimate counts them.
//! 3. **Resize** with `fast_image_resize` (Lanczos3, SIMD) so the long edge is at most
//!    [`ProcessSettings::long_edge`]; never upscaled. The full-size pixels are freed right after.
//! 4. **Orient**: the EXIF orientation (all eight) is applied to the small image, so the output is upright.
//! 5. **Thumbnail** from the upright rendition, before any stamp (at 320 px a stamp is unreadable).
//! 6. **Stamp** (optional): a dark band with the given text at the bottom (see `process/stamp.rs`).
//! 7. **Encode** both with `jpeg-encoder` (4:2:0 below quality 90). The rendition gets a minimal EXIF block
//!    written by hand: orientation 1, and the capture time and GPS position when kept and known; everything
//!    else of the original's metadata is dropped (maker notes, serials, XMP, its thumbnail, ICC profile).
//!    The thumbnail has no metadata.
//!
//! Formats: **JPEG** and **PNG** are processed (PNG for screenshots and scans; it is bounded like JPEG).
//! **HEIC** (the iPhone default), HEIF/AVIF, WebP, GIF, TIFF/raw and JPEG XL are refused with
//! [`PhotoError::Unsupported`] and a hint to convert to JPEG on the device: no maintained pure-Rust HEVC
//! decoder exists, and the platforms convert cheaply (the relay sends JPEG anyway).
//!
//! A JPEG downscaled during decoding (DCT scaling, as libjpeg's `scale_denom`) was measured and not adopted:
//! `jpeg-decoder`'s 1/2-scale decode of a 4608x1976 photo took 47 ms on one core against 39 ms for a full
//! `zune-jpeg` decode, so the ~10 ms saved in resizing is spent in decoding, and it only applies when the
//! long edge is at least twice the target (not to the common 4000x3000 photo at 2048 px).

use std::io::{Cursor, Read};
use std::path::Path;

use fast_image_resize as fr;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;
use zune_jpeg::errors::DecodeErrors;

pub use super::error::PhotoError;
use super::exif::{self, Format, PhotoMetadata, Probe};

// A private child of this module: the stamp is an implementation detail of the pipeline.
mod stamp;

/// Bounds on what an untrusted original may cost. All are checked from the headers, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest original accepted, in bytes (default 64 MiB).
    pub max_file_bytes: u64,
    /// Most pixels (width x height) accepted (default 64,000,000).
    pub max_pixels: u64,
    /// Most memory the pipeline may need for one photo, estimated from the headers: decoded pixels,
    /// progressive JPEG coefficients, the resize buffers and the rendition (default 256 MiB).
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 64 << 20,
            max_pixels: 64_000_000,
            max_alloc_bytes: 256 << 20,
        }
    }
}

/// How to process a photo. [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSettings {
    /// Longest edge of the rendition in pixels (default 2048); smaller photos keep their size.
    pub long_edge: u32,
    /// JPEG quality 1..=100 of the rendition and the thumbnail (default 85).
    pub quality: u8,
    /// Longest edge of the thumbnail in pixels (default 320); never larger than the rendition.
    pub thumbnail_edge: u32,
    /// Keep the capture time (`DateTimeOriginal`, `OffsetTimeOriginal`) in the rendition's EXIF (default true).
    pub keep_capture_time: bool,
    /// Keep the GPS latitude and longitude in the rendition's EXIF (default true).
    pub keep_gps: bool,
    /// Text of a date stamp drawn at the bottom of the rendition (time and address, up to three lines
    /// separated by `\n`); `None` (the default) draws nothing. Some providers forbid overlays.
    pub date_stamp: Option<String>,
    /// Bounds on the original.
    pub limits: DecodeLimits,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        Self {
            long_edge: 2048,
            quality: 85,
            thumbnail_edge: 320,
            keep_capture_time: true,
            keep_gps: true,
            date_stamp: None,
            limits: DecodeLimits::default(),
        }
    }
}

/// A processed photo.
#[derive(Clone)]
pub struct Processed {
    /// The upload rendition: JPEG, upright, long edge at most [`ProcessSettings::long_edge`], with a minimal
    /// EXIF block (orientation 1; capture time and GPS as kept).
    pub rendition: Vec<u8>,
    /// Its width in pixels.
    pub rendition_width: u32,
    /// Its height in pixels.
    pub rendition_height: u32,
    /// A JPEG thumbnail, upright, long edge [`ProcessSettings::thumbnail_edge`] (or less for small
    /// photos), without metadata or stamp.
    pub thumbnail: Vec<u8>,
    /// What the original said about itself.
    pub metadata: PhotoMetadata,
}

impl std::fmt::Debug for Processed {
    /// Sizes instead of bytes: a rendition in a log line would be megabytes of numbers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processed")
            .field("rendition_bytes", &self.rendition.len())
            .field("rendition_width", &self.rendition_width)
            .field("rendition_height", &self.rendition_height)
            .field("thumbnail_bytes", &self.thumbnail.len())
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// Processes a photo held in memory. See the module documentation for the steps and the errors.
pub fn process(bytes: &[u8], settings: &ProcessSettings) -> Result<Processed, PhotoError> {
    let limits = &settings.limits;
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(PhotoError::TooLarge {
            bytes: size,
            limit: limits.max_file_bytes,
        });
    }
    let probe = exif::probe(bytes)?;
    check_pixels(probe.width, probe.height, limits)?;
    let metadata = probe.metadata(bytes);
    let long_edge = settings.long_edge.clamp(1, u32::from(u16::MAX));

    let decoded = match probe.format {
        Format::Jpeg => decode_jpeg(bytes, &probe, long_edge, limits)?,
        Format::Png => decode_png(bytes, &probe, long_edge, limits)?,
    };
    let (width, height) = fit(decoded.width, decoded.height, long_edge);
    let resized = resize(decoded, width, height)?;
    let mut upright = orient(resized, metadata.orientation);

    let (thumb_width, thumb_height) = fit(upright.width, upright.height, settings.thumbnail_edge.max(1));
    let thumbnail = if (thumb_width, thumb_height) == (upright.width, upright.height) {
        encode(&upright, settings.quality, None)?
    } else {
        let small = resize_view(&upright, thumb_width, thumb_height)?;
        encode(&small, settings.quality, None)?
    };

    if let Some(text) = settings.date_stamp.as_deref() {
        stamp::draw(
            &mut upright.pixels,
            upright.width,
            upright.height,
            upright.channels,
            text,
        );
    }
    let segment = exif::exif_segment(
        &metadata,
        settings.keep_capture_time,
        settings.keep_gps,
        upright.width,
        upright.height,
    );
    let rendition = encode(&upright, settings.quality, segment)?;
    Ok(Processed {
        rendition,
        rendition_width: upright.width,
        rendition_height: upright.height,
        thumbnail,
        metadata,
    })
}

/// Reads a photo file and processes it. The size is checked before reading (a 200 MB file is refused
/// without reading it), and the read stops at the limit should the file grow meanwhile.
pub fn process_file(path: &Path, settings: &ProcessSettings) -> Result<Processed, PhotoError> {
    let bytes = read_limited(path, settings.limits.max_file_bytes)?;
    process(&bytes, settings)
}

/// Reads a file of at most `max_bytes` bytes: [`PhotoError::TooLarge`] without reading when it is larger,
/// [`PhotoError::Empty`] when it is empty.
pub fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, PhotoError> {
    let io = |err: std::io::Error| PhotoError::Io(err.to_string());
    let not_regular = || PhotoError::Io(format!("{} is not a regular file", path.display()));
    // Checked before the open (a FIFO would block it) and on the opened file (a device reports 0 bytes).
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    let size = metadata.len();
    if size > max_bytes {
        return Err(PhotoError::TooLarge {
            bytes: size,
            limit: max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let read = bytes.len() as u64;
    if read > max_bytes {
        return Err(PhotoError::TooLarge {
            bytes: read,
            limit: max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    Ok(bytes)
}

/// 8-bit pixels, rows packed, 1 (gray) or 3 (RGB) channels.
struct Raster {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

fn check_pixels(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), PhotoError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// The size that fits `edge` on the long side, keeping the aspect ratio; never larger than the input.
fn fit(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= edge {
        return (width, height);
    }
    let scale = f64::from(edge) / f64::from(long);
    let side = |value: u32| ((f64::from(value) * scale).round() as u32).clamp(1, edge);
    if width >= height {
        (edge, side(height))
    } else {
        (side(width), edge)
    }
}

/// Checks the estimated peak memory of processing a `width` x `height` image decoded to `decoded` bytes
/// with `channels` channels, plus `extra` bytes the decoder needs on top.
fn check_memory(
    width: u32,
    height: u32,
    channels: u64,
    decoded: u64,
    extra: u64,
    long_edge: u32,
    limits: &DecodeLimits,
) -> Result<(), PhotoError> {
    let (target_width, target_height) = fit(width, height, long_edge);
    let resized = u64::from(target_width) * u64::from(target_height) * channels;
    // fast_image_resize's vertical pass writes a source-wide, target-high intermediate image.
    let intermediate = if (target_width, target_height) == (width, height) {
        0
    } else {
        u64::from(width) * u64::from(target_height) * channels
    };
    // The resized image, and its rotated copy when the orientation swaps the axes.
    let needed = decoded + extra + intermediate + 2 * resized;
    if needed > limits.max_alloc_bytes {
        return Err(PhotoError::TooMuchMemory {
            width,
            height,
            needed,
            limit: limits.max_alloc_bytes,
        });
    }
    Ok(())
}

fn jpeg_error(err: DecodeErrors) -> PhotoError {
    match err {
        DecodeErrors::Unsupported(scheme) => PhotoError::Unsupported {
            format: format!("JPEG ({scheme:?})"),
            hint: "save it again as a standard (baseline or progressive, 8-bit) JPEG".into(),
        },
        DecodeErrors::ExhaustedData => {
            PhotoError::Corrupt("the JPEG data ends early (truncated file)".into())
        }
        other => PhotoError::Corrupt(format!("invalid JPEG data ({other})")),
    }
}

fn decode_jpeg(
    bytes: &[u8],
    probe: &Probe,
    long_edge: u32,
    limits: &DecodeLimits,
) -> Result<Raster, PhotoError> {
    let frame = probe
        .frame
        .ok_or_else(|| PhotoError::Corrupt("the JPEG has no frame header".into()))?;
    let (out_colorspace, channels) = if frame.components == 1 {
        (ColorSpace::Luma, 1)
    } else {
        (ColorSpace::RGB, 3)
    };
    let pixels = u64::from(probe.width) * u64::from(probe.height);
    let coefficients = if frame.progressive() {
        frame.coefficient_bytes(probe.width, probe.height)
    } else {
        0
    };
    check_memory(
        probe.width,
        probe.height,
        channels,
        pixels * channels,
        coefficients,
        long_edge,
        limits,
    )?;

    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(probe.width as usize)
        .set_max_height(probe.height as usize)
        .jpeg_set_out_colorspace(out_colorspace);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(jpeg_error)?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| PhotoError::Corrupt("no JPEG frame".into()))?;
    let (width, height) = (width as u32, height as u32);
    if (width, height) != (probe.width, probe.height) {
        return Err(PhotoError::Corrupt(
            "the JPEG declares two different sizes".into(),
        ));
    }
    let channels = decoder
        .output_colorspace()
        .map_or(3, |space| space.num_components());
    let len = decoder
        .output_buffer_size()
        .ok_or_else(|| PhotoError::Corrupt("no JPEG frame".into()))?;
    if len != width as usize * height as usize * channels {
        return Err(PhotoError::Corrupt(format!(
            "unexpected JPEG output layout ({channels} channels)"
        )));
    }
    let mut pixels = vec![0u8; len];
    decoder.decode_into(&mut pixels).map_err(jpeg_error)?;
    Ok(Raster {
        width,
        height,
        channels,
        pixels,
    })
}

fn image_error(err: image::ImageError, width: u32, height: u32, limits: &DecodeLimits) -> PhotoError {
    match err {
        // Our own estimate is checked first, so this is the decoder's count going over.
        image::ImageError::Limits(_) => PhotoError::TooMuchMemory {
            width,
            height,
            needed: limits.max_alloc_bytes + 1,
            limit: limits.max_alloc_bytes,
        },
        image::ImageError::Unsupported(unsupported) => PhotoError::Unsupported {
            format: "PNG variant".into(),
            hint: format!("{unsupported}; save it again as a standard 8-bit PNG or as JPEG"),
        },
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Corrupt("the PNG data ends early (truncated file)".into())
        }
        other => PhotoError::Corrupt(format!("invalid PNG data ({other})")),
    }
}

fn decode_png(
    bytes: &[u8],
    probe: &Probe,
    long_edge: u32,
    limits: &DecodeLimits,
) -> Result<Raster, PhotoError> {
    use image::{DynamicImage, ImageDecoder};

    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(image_limits);
    let decoder = reader
        .into_decoder()
        .map_err(|err| image_error(err, probe.width, probe.height, limits))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let pixels = u64::from(width) * u64::from(height);
    let color = decoder.color_type();
    let direct = matches!(color, image::ColorType::L8 | image::ColorType::Rgb8);
    // Anything but 8-bit gray or RGB is converted once: its 8-bit RGBA or RGB copy, then the flattened RGB.
    let conversion = if direct { 0 } else { pixels * 7 };
    let channels = if color.has_color() { 3 } else { 1 };
    check_memory(
        width,
        height,
        channels,
        decoder.total_bytes(),
        conversion,
        long_edge,
        limits,
    )?;

    let image = DynamicImage::from_decoder(decoder).map_err(|err| image_error(err, width, height, limits))?;
    Ok(match image {
        DynamicImage::ImageLuma8(gray) => Raster {
            width,
            height,
            channels: 1,
            pixels: gray.into_raw(),
        },
        DynamicImage::ImageRgb8(rgb) => Raster {
            width,
            height,
            channels: 3,
            pixels: rgb.into_raw(),
        },
        other if other.color().has_alpha() => {
            // Transparent areas become white, as on a page.
            let rgba = other.into_rgba8().into_raw();
            let mut pixels = Vec::with_capacity(rgba.len() / 4 * 3);
            for pixel in rgba.chunks_exact(4) {
                let alpha = u16::from(pixel[3]);
                for &value in &pixel[..3] {
                    pixels.push(((u16::from(value) * alpha + 255 * (255 - alpha) + 127) / 255) as u8);
                }
            }
            Raster {
                width,
                height,
                channels: 3,
                pixels,
            }
        }
        other if !other.color().has_color() => Raster {
            width,
            height,
            channels: 1,
            pixels: other.into_luma8().into_raw(),
        },
        other => Raster {
            width,
            height,
            channels: 3,
            pixels: other.into_rgb8().into_raw(),
        },
    })
}

fn pixel_type(channels: usize) -> fr::PixelType {
    if channels == 1 {
        fr::PixelType::U8
    } else {
        fr::PixelType::U8x3
    }
}

/// Resizes, consuming (and so freeing) the source; returns it unchanged when the size is the same.
fn resize(source: Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
    if (source.width, source.height) == (width, height) {
        return Ok(source);
    }
    resize_view(&source, width, height)
}

fn resize_view(source: &Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
    let mut pixels = vec![0_u8; width as usize * height as usize * source.channels];
    // Typed per pixel format: the dynamic `Resizer::resize` instantiates every pixel format and filter the
    // crate knows (about 2 MB of the mobile library) where we need grey and RGB.
    match pixel_type(source.channels) {
        fr::PixelType::U8 => resize_into::<fr::pixels::U8>(source, width, height, &mut pixels),
        _ => resize_into::<fr::pixels::U8x3>(source, width, height, &mut pixels),
    }
    .map_err(|err| PhotoError::Encode(format!("resize: {err}")))?;
    Ok(Raster {
        width,
        height,
        channels: source.channels,
        pixels,
    })
}

fn resize_into<P: fr::PixelTrait>(
    source: &Raster,
    width: u32,
    height: u32,
    target: &mut [u8],
) -> Result<(), Box<dyn std::error::Error>> {
    let view = fr::images::TypedImageRef::<P>::from_buffer(source.width, source.height, &source.pixels)?;
    let mut resized = fr::images::TypedImage::<P>::from_buffer(width, height, target)?;
    let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new().resize_typed(&view, &mut resized, &options)?;
    Ok(())
}

/// Applies an EXIF orientation (1..=8) so that the image is upright. 2, 3 and 4 work in place; 5..=8 swap
/// the axes and write a new buffer, tile by tile to stay cache friendly.
fn orient(raster: Raster, orientation: u16) -> Raster {
    let Raster {
        width,
        height,
        channels,
        mut pixels,
    } = raster;
    let (w, h, c) = (width as usize, height as usize, channels);
    let stride = w * c;
    let mirror = |pixels: &mut [u8]| {
        for row in pixels.chunks_exact_mut(stride) {
            for x in 0..w / 2 {
                let (left, right) = row.split_at_mut((w - 1 - x) * c);
                left[x * c..(x + 1) * c].swap_with_slice(&mut right[..c]);
            }
        }
    };
    let flip = |pixels: &mut [u8]| {
        for y in 0..h / 2 {
            let (top, bottom) = pixels.split_at_mut((h - 1 - y) * stride);
            top[y * stride..(y + 1) * stride].swap_with_slice(&mut bottom[..stride]);
        }
    };
    match orientation {
        2 => mirror(&mut pixels),
        3 => {
            mirror(&mut pixels);
            flip(&mut pixels);
        }
        4 => flip(&mut pixels),
        5..=8 => {
            // Output is h wide and w high; (x, y) in the output comes from (column, row) of the input.
            let source = |x: usize, y: usize| match orientation {
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let mut out = vec![0u8; pixels.len()];
            const TILE: usize = 64;
            for tile_y in (0..w).step_by(TILE) {
                for tile_x in (0..h).step_by(TILE) {
                    for y in tile_y..(tile_y + TILE).min(w) {
                        for x in tile_x..(tile_x + TILE).min(h) {
                            let (column, row) = source(x, y);
                            let from = (row * w + column) * c;
                            let to = (y * h + x) * c;
                            out[to..to + c].copy_from_slice(&pixels[from..from + c]);
                        }
                    }
                }
            }
            return Raster {
                width: height,
                height: width,
                channels,
                pixels: out,
            };
        }
        _ => {}
    }
    Raster {
        width,
        height,
        channels,
        pixels,
    }
}

fn encode(raster: &Raster, quality: u8, exif: Option<Vec<u8>>) -> Result<Vec<u8>, PhotoError> {
    let encoding = |err: jpeg_encoder::EncodingError| PhotoError::Encode(err.to_string());
    let too_big = || {
        PhotoError::Encode(format!(
            "{}x{} is too large for JPEG",
            raster.width, raster.height
        ))
    };
    let width = u16::try_from(raster.width).map_err(|_| too_big())?;
    let height = u16::try_from(raster.height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(raster.pixels.len() / 6 + 1024);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    if let Some(segment) = exif {
        encoder.add_app_segment(1, segment).map_err(encoding)?;
    }
    let color = if raster.channels == 1 {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    encoder
        .encode(&raster.pixels, width, height, color)
        .map_err(encoding)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
