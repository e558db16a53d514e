//! Reused and stale photos, pure: a perceptual hash of a photo's thumbnail ([`perceptual_hash`]), the
//! near-duplicate index ([`ReuseIndex`]) and the flag rules ([`reuse_flag`], [`taken_before_assignment`]).
//!
//! The hash is a DCT hash (pHash): the thumbnail in grey, box-filtered to 32x32, its 2-D DCT, and one bit
//! per coefficient of the 8x8 lowest frequencies (DC left out) above their median. Low frequencies survive
//! re-encoding, resizing and slight crops; distinct photos of the same kind of scene differ in about half
//! of the bits. Two photos are near-duplicates within [`MATCH_DISTANCE`] bits.

use serde::Serialize;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::model::Timestamp;

/// Most differing bits for two photos to be near-duplicates. Chosen on the fixture set (see
/// `docs/EVIDENCE.md`): a re-encoded or half-size copy is 0 bits away, one cropped by 5 % on two sides
/// 10; the 78 pairs of distinct fixture photos are at least 22 apart.
pub const MATCH_DISTANCE: u32 = 12;
/// A capture this long before the project reached the device is still not flagged (clock drift).
pub const ASSIGNMENT_MARGIN_S: i64 = 600;
/// Largest thumbnail decoded for hashing (a thumbnail is 320 px; a hostile one is refused).
const MAX_THUMBNAIL_EDGE: usize = 4096;
const SIDE: usize = 32;

/// The perceptual hash of a JPEG thumbnail, or `None` when it cannot be decoded.
pub fn perceptual_hash(thumbnail_jpeg: &[u8]) -> Option<u64> {
    let options = DecoderOptions::default()
        .set_max_width(MAX_THUMBNAIL_EDGE)
        .set_max_height(MAX_THUMBNAIL_EDGE)
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(thumbnail_jpeg), options);
    let pixels = decoder.decode().ok()?;
    let (width, height) = decoder.dimensions()?;
    if width == 0 || height == 0 || pixels.len() < width * height {
        return None;
    }
    Some(hash_gray(&pixels[..width * height], width, height))
}

/// The hash of 8-bit grey pixels (rows packed).
pub fn hash_gray(pixels: &[u8], width: usize, height: usize) -> u64 {
    // Box filter to 32x32: every source pixel counts once (area average), so small shifts move little.
    let mut small = [0f64; SIDE * SIDE];
    let mut counts = [0u32; SIDE * SIDE];
    for y in 0..height {
        let row = y * SIDE / height;
        for x in 0..width {
            let cell = row * SIDE + x * SIDE / width;
            small[cell] += f64::from(pixels[y * width + x]);
            counts[cell] += 1;
        }
    }
    for (value, count) in small.iter_mut().zip(counts) {
        *value /= f64::from(count.max(1));
    }
    // 2-D DCT-II, only the 8x8 low frequencies are needed: rows first, then columns.
    let cosines: Vec<f64> = (0..8)
        .flat_map(|u| {
            (0..SIDE).map(move |x| {
                (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * SIDE) as f64).cos()
            })
        })
        .collect();
    let mut rows = [0f64; SIDE * 8];
    for y in 0..SIDE {
        for u in 0..8 {
            rows[y * 8 + u] = (0..SIDE)
                .map(|x| small[y * SIDE + x] * cosines[u * SIDE + x])
                .sum();
        }
    }
    let mut low = [0f64; 64];
    for v in 0..8 {
        for u in 0..8 {
            low[v * 8 + u] = (0..SIDE).map(|y| rows[y * 8 + u] * cosines[v * SIDE + y]).sum();
        }
    }
    let mut sorted: Vec<f64> = low[1..].to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    low.iter().enumerate().skip(1).fold(0u64, |bits, (index, value)| {
        if *value > median {
            bits | (1 << index)
        } else {
            bits
        }
    })
}

/// Differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The hashes of the cache in memory, for near-duplicate look-ups. A linear scan of XOR and popcount: 100,000
/// hashes take well under a millisecond (measured by the `evidence` bench), simpler and as fast at this
/// size as a BK-tree, and it never degrades with the distance threshold.
#[derive(Debug, Default, Clone)]
pub struct ReuseIndex {
    hashes: Vec<u64>,
    rows: Vec<i64>,
    /// The highest row id loaded: rows are loaded incrementally.
    pub loaded_up_to: i64,
}

impl ReuseIndex {
    /// Adds a hash of the photo row `row`.
    pub fn insert(&mut self, row: i64, hash: u64) {
        self.hashes.push(hash);
        self.rows.push(row);
        self.loaded_up_to = self.loaded_up_to.max(row);
    }

    /// How many hashes it holds.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Rows within `max_distance` of `hash`, nearest first (at most `limit`).
    pub fn near(&self, hash: u64, max_distance: u32, limit: usize) -> Vec<(i64, u32)> {
        let mut found: Vec<(i64, u32)> = self
            .hashes
            .iter()
            .zip(&self.rows)
            .filter_map(|(other, row)| {
                let distance = distance(hash, *other);
                (distance <= max_distance).then_some((*row, distance))
            })
            .collect();
        found.sort_by_key(|(row, distance)| (*distance, *row));
        found.truncate(limit);
        found
    }
}

/// A near-duplicate found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its UUID.
    pub uuid: String,
    /// Its project row.
    pub project_id: Option<i64>,
    /// It was relayed (or is being relayed) already.
    pub relayed: bool,
    /// Differing bits.
    pub distance: u32,
}

/// A photo that may be a reused one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReuseFlag {
    /// The matching photo's UUID.
    pub matching_photo: String,
    /// Differing bits (0: identical to the eye).
    pub distance: u32,
}

/// The `possible_reuse` rule: the nearest candidate from another project, or one of the same project
/// relayed earlier (a second photo of the same view in one job is normal until the first is sent).
pub fn reuse_flag(project_id: Option<i64>, candidates: &[Candidate]) -> Option<ReuseFlag> {
    candidates
        .iter()
        .filter(|candidate| candidate.project_id != project_id || candidate.relayed)
        .min_by_key(|candidate| candidate.distance)
        .map(|candidate| ReuseFlag {
            matching_photo: candidate.uuid.clone(),
            distance: candidate.distance,
        })
}

/// The `taken_before_assignment` rule: the capture time precedes the moment the project reached the
/// device (its first import or its creation), by more than [`ASSIGNMENT_MARGIN_S`].
pub fn taken_before_assignment(capture_time: Option<Timestamp>, assigned_at: Option<Timestamp>) -> bool {
    matches!((capture_time, assigned_at), (Some(taken), Some(assigned)) if taken + ASSIGNMENT_MARGIN_S < assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_near_hashes_nearest_first() {
        let mut index = ReuseIndex::default();
        index.insert(1, 0);
        index.insert(2, 0b111);
        index.insert(3, u64::MAX);
        assert_eq!(index.near(0b1, 3, 10), vec![(1, 1), (2, 2)]);
        assert_eq!(index.loaded_up_to, 3);
    }

    #[test]
    fn reuse_is_another_project_or_an_earlier_relay_of_the_same_one() {
        let candidate = |project, relayed, distance| Candidate {
            uuid: format!("p{project}-{distance}"),
            project_id: Some(project),
            relayed,
            distance,
        };
        assert_eq!(reuse_flag(Some(1), &[candidate(1, false, 0)]), None);
        assert_eq!(
            reuse_flag(Some(1), &[candidate(1, true, 3), candidate(2, false, 5)]),
            Some(ReuseFlag {
                matching_photo: "p1-3".into(),
                distance: 3
            })
        );
    }

    #[test]
    fn a_photo_taken_before_the_project_arrived_is_flagged() {
        assert!(taken_before_assignment(
            Some(1_000),
            Some(1_000 + ASSIGNMENT_MARGIN_S + 1)
        ));
        assert!(!taken_before_assignment(
            Some(1_000),
            Some(1_000 + ASSIGNMENT_MARGIN_S)
        ));
        assert!(!taken_before_assignment(None, Some(5_000)));
        assert!(!taken_before_assignment(Some(1_000), None));
    }

    #[test]
    fn the_hash_survives_a_small_change_and_not_a_different_picture() {
        let (w, h) = (64, 48);
        let gradient: Vec<u8> = (0..w * h).map(|i| ((i % w) * 4 + (i / w)) as u8).collect();
        let noisy: Vec<u8> = gradient
            .iter()
            .enumerate()
            .map(|(i, p)| p.saturating_add((i % 3) as u8))
            .collect();
        let other: Vec<u8> = (0..w * h)
            .map(|i| if (i / w / 8 + i % w / 8) % 2 == 0 { 30 } else { 220 })
            .collect();
        let a = hash_gray(&gradient, w, h);
        assert!(distance(a, hash_gray(&noisy, w, h)) <= 4);
        assert!(distance(a, hash_gray(&other, w, h)) > MATCH_DISTANCE);
    }
}
