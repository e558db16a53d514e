//! The optional date stamp: a darkened band across the bottom of the rendition with one to three lines of
//! white text (typically the capture time and the address), drawn with a built-in 5x7 bitmap font so that no
//! system font is needed and the result is the same on every device.
//!
//! The font covers ASCII letters (lower case is drawn as upper case), digits and common punctuation; Latin
//! letters with accents are drawn without them; anything else becomes `?`. The text is scaled with the
//! image (about 1/220 of the short edge per font pixel: 42 px letters on a 2048x1536 rendition), shrunk to fit the width, and cut with `..` when
//! even the smallest size does not fit. The band starts on a multiple of 16 rows so that every JPEG block
//! above it encodes exactly as in the unstamped image.

/// Font pixels per glyph cell, horizontally (5 drawn + 1 gap) and vertically per line (7 drawn + 2 gap).
const CELL_W: usize = 6;
const LINE_H: usize = 9;
/// Most lines drawn; further lines are ignored.
const MAX_LINES: usize = 3;

/// The 5x7 glyph of a character, one row per byte, bit 4 the leftmost pixel.
fn glyph(c: char) -> [u8; 7] {
    match fold(c) {
        ' ' => [0; 7],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        ';' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '\'' => [0x0C, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00],
        '"' => [0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '*' => [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        '@' => [0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04],
        '°' => [0x0C, 0x12, 0x12, 0x0C, 0x00, 0x00, 0x00],
        '·' => [0x00, 0x00, 0x00, 0x0C, 0x0C, 0x00, 0x00],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04], // '?'
    }
}

/// Upper case, Latin accents dropped, tabs as spaces.
fn fold(c: char) -> char {
    let c = c.to_uppercase().next().unwrap_or(c);
    match c {
        'À'..='Å' => 'A',
        'Ç' | 'Ć' | 'Č' => 'C',
        'È'..='Ë' | 'Ě' | 'Ę' => 'E',
        'Ì'..='Ï' => 'I',
        'Ñ' | 'Ń' | 'Ň' => 'N',
        'Ò'..='Ö' | 'Ø' | 'Ő' => 'O',
        'Ù'..='Ü' | 'Ů' | 'Ű' => 'U',
        'Ý' | 'Ÿ' => 'Y',
        'Š' | 'Ś' => 'S',
        'Ž' | 'Ź' | 'Ż' => 'Z',
        'Ł' => 'L',
        'Ř' => 'R',
        'Ď' => 'D',
        'Ť' => 'T',
        'ẞ' => 'S',
        '\t' => ' ',
        other => other,
    }
}

/// The lines to draw: split on newlines, trimmed, empty ones dropped, at most [`MAX_LINES`].
fn lines(text: &str) -> Vec<Vec<char>> {
    text.lines()
        .map(|line| {
            line.trim()
                .chars()
                .filter(|c| !c.is_control())
                .collect::<Vec<char>>()
        })
        .filter(|line| !line.is_empty())
        .take(MAX_LINES)
        .collect()
}

/// Where the stamp goes: font scale, band top row, and the lines (already cut to fit).
struct Layout {
    scale: usize,
    band_top: usize,
    lines: Vec<Vec<char>>,
}

fn layout(width: usize, height: usize, text: &str) -> Option<Layout> {
    let mut lines = lines(text);
    if lines.is_empty() || width < CELL_W + 2 || height < LINE_H + 2 {
        return None;
    }
    let longest = lines.iter().map(Vec::len).max().unwrap_or(1);
    let preferred = (width.min(height) / 220).max(1);
    // Margin of one cell on each side.
    let fitting = width / (CELL_W * (longest + 2));
    let scale = preferred.min(fitting).max(1);
    let capacity = (width / (CELL_W * scale)).saturating_sub(2).max(1);
    for line in &mut lines {
        if line.len() > capacity {
            line.truncate(capacity.saturating_sub(2));
            line.extend(['.', '.']);
        }
    }
    let band_height = scale * (LINE_H * lines.len() + 2);
    if band_height >= height {
        return None;
    }
    let band_top = ((height - band_height) / 16) * 16;
    Some(Layout {
        scale,
        band_top,
        lines,
    })
}

/// Draws the stamp into an upright 8-bit image (`channels` 1 or 3, rows packed). Returns the first row of
/// the band, or `height` when nothing was drawn (empty text, or an image too small for it).
pub(crate) fn draw(pixels: &mut [u8], width: u32, height: u32, channels: usize, text: &str) -> u32 {
    let (width, height) = (width as usize, height as usize);
    let Some(Layout {
        scale,
        band_top,
        lines,
    }) = layout(width, height, text)
    else {
        return height as u32;
    };
    let stride = width * channels;
    // Darken the band to about 30 % so that white text reads on any photo.
    for value in &mut pixels[band_top * stride..height * stride] {
        *value = ((u16::from(*value) * 77) >> 8) as u8;
    }
    let band_height = height - band_top;
    let text_height = scale * (LINE_H * lines.len() - 2);
    let mut top = band_top + (band_height - text_height) / 2;
    for line in &lines {
        let mut left = scale * CELL_W;
        for &c in line {
            let rows = glyph(c);
            for (glyph_row, bits) in rows.iter().enumerate() {
                for glyph_col in 0..5 {
                    if bits & (0x10 >> glyph_col) == 0 {
                        continue;
                    }
                    for y in top + glyph_row * scale..top + (glyph_row + 1) * scale {
                        let start = y * stride + (left + glyph_col * scale) * channels;
                        let end = start + scale * channels;
                        if let Some(span) = pixels.get_mut(start..end.min((y + 1) * stride)) {
                            span.fill(255);
                        }
                    }
                }
            }
            left += scale * CELL_W;
        }
        top += scale * LINE_H;
    }
    band_top as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_is_at_the_bottom_aligned_and_the_text_fits() {
        let (width, height) = (2048usize, 1536usize);
        let mut pixels = vec![128u8; width * height * 3];
        let top = draw(
            &mut pixels,
            width as u32,
            height as u32,
            3,
            "2024-05-01 14:03 +02:00\n12 Elm St, Springfield",
        ) as usize;
        assert!(
            top < height && top.is_multiple_of(16) && height - top < height / 8,
            "{top}"
        );
        assert!(pixels[..top * width * 3].iter().all(|&value| value == 128));
        let band = &pixels[top * width * 3..];
        assert!(band.contains(&255) && band.contains(&38));
        assert!(band.iter().all(|&value| value == 255 || value == 38));
    }

    #[test]
    fn long_or_odd_text_never_writes_outside_the_image() {
        for (width, height) in [(8, 12), (40, 30), (320, 240), (17, 2000)] {
            let mut pixels = vec![0u8; width * height];
            let text = "Ünïcödé ✓ 東京 1234567890 ".repeat(20) + "\n\n\nline2\nline3\nline4";
            let top = draw(&mut pixels, width as u32, height as u32, 1, &text);
            assert!(top as usize <= height);
        }
        let mut pixels = vec![0u8; 100 * 100];
        assert_eq!(draw(&mut pixels, 100, 100, 1, " \n \t"), 100);
    }

    #[test]
    fn letters_fold_to_the_font() {
        assert_eq!(glyph('a'), glyph('A'));
        assert_eq!(glyph('é'), glyph('E'));
        assert_eq!(glyph('東'), glyph('?'));
    }
}
