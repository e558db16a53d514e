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
//! 6. **Stamp** (optional): a dark band with the given text at the bottom (see `stamp.rs`).
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

use super::exif::{self, Format, PhotoMetadata, Probe};

// A private child of this module: the stamp is an implementation detail of the pipeline.
#[path = "stamp.rs"]
mod stamp;

/// Why a photo cannot be read or processed. Messages are meant for the person who took the photo.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than [`DecodeLimits::max_file_bytes`].
    #[error("the file is {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The image declares more pixels than [`DecodeLimits::max_pixels`].
    #[error("the image is {width}x{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// Processing the image would need more memory than [`DecodeLimits::max_alloc_bytes`] (estimated from
    /// its headers before decoding).
    #[error(
        "processing this {width}x{height} image needs about {needed} bytes of memory, more than the limit of \
         {limit} bytes"
    )]
    TooMuchMemory {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The estimate.
        needed: u64,
        /// The limit.
        limit: u64,
    },
    /// A recognised image format (or variant) this pipeline does not decode; `hint` says what to do.
    #[error("{format} images are not supported: {hint}")]
    Unsupported {
        /// The format, e.g. `HEIC`.
        format: String,
        /// What the host or the person can do.
        hint: String,
    },
    /// The image is damaged or truncated.
    #[error("the image is damaged: {0}")]
    Corrupt(String),
    /// The bytes are not an image (JPEG or PNG expected).
    #[error("the file is not an image (a JPEG or PNG photo is expected)")]
    NotAnImage,
    /// The rendition or thumbnail could not be produced.
    #[error("the processed photo could not be written: {0}")]
    Encode(String),
    /// The file could not be read ([`process_file`] only).
    #[error("the photo file could not be read: {0}")]
    Io(String),
}

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
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
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
mod tests {
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn photos() -> PathBuf {
        crate::photo::test_fixtures()
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
        let text =
            b"Invoice 42\nThis is not a photo, just some text that was picked by mistake.\n".repeat(10);
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
}
