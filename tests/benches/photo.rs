//! Benchmark: the photo pipeline (`fieldsync_core::photo::process`) on real phone JPEGs, compared in the same
//! run with libvips' `vipsthumbnail` making the same 2048 px, quality 85 rendition from the same files; peak
//! memory over 100 photos in sequence; and how fast hostile files are refused.
//!
//! `cargo bench -p fieldsync-tests --bench photo` (`FIELDSYNC_BENCH_PHOTO_RUNS=N` runs per file, default 9;
//! photos from `FIELDSYNC_PHOTO_FIXTURES`, else the repository's `fixtures/photos`).
//! `vipsthumbnail` comes from Debian's `libvips-tools`; without it the comparison is skipped with a note.
//!
//! Targets: <= 120 ms per photo and <= 1.5x vipsthumbnail; peak memory (VmHWM) <= 100 MB while processing
//! 100 photos; a PNG decompression bomb refused within 50 ms.
//!
//! Our time includes reading the file (`process_file`), as vipsthumbnail's does. vipsthumbnail is timed as a
//! process, so its time includes starting the process and loading libvips; that overhead is measured
//! separately (`vipsthumbnail --version`) and shown subtracted too. libvips uses every core by default and
//! shrinks JPEGs while decoding (libjpeg-turbo DCT scaling); it is also measured with `VIPS_CONCURRENCY=1`,
//! since our pipeline is single-threaded.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fieldsync_core::photo::process::{PhotoError, ProcessSettings, process, process_file};

/// Set in the child that measures peak memory: the number of photos to process.
const CHILD: &str = "FIELDSYNC_PHOTO_BENCH_CHILD";

fn photos_dir() -> Result<PathBuf> {
    fieldsync_tests::photos::photo_fixtures()
}

/// The phone JPEGs, largest first.
fn phone_jpegs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = fieldsync_tests::photos::phone_jpegs(dir)?;
    files.sort_by_key(|path| std::cmp::Reverse(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)));
    Ok(files)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// CPU time used so far by this process and by its waited-for children, from `/proc/self/stat` (in clock
/// ticks of 10 ms; summed over many runs it is precise enough, and unlike wall time it does not grow when
/// other work shares the machine).
fn cpu_times() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|field| field.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let at = |index: usize| Duration::from_millis(10 * fields.get(index).copied().unwrap_or(0));
    (at(11) + at(12), at(13) + at(14))
}

/// Median wall time of `runs` runs after a warm-up, and the mean CPU time per run (own plus children's).
fn time_runs(runs: usize, mut work: impl FnMut() -> Result<()>) -> Result<(Duration, Duration)> {
    work()?; // warm-up: page cache, allocator
    let mut samples = Vec::with_capacity(runs);
    let (own, children) = cpu_times();
    for _ in 0..runs {
        let started = Instant::now();
        work()?;
        samples.push(started.elapsed());
    }
    let (own_after, children_after) = cpu_times();
    let cpu = (own_after.saturating_sub(own) + children_after.saturating_sub(children)) / runs as u32;
    Ok((median(samples), cpu))
}

fn us(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn vips_available() -> bool {
    Command::new("vipsthumbnail")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn vipsthumbnail(args: &[&str], single_thread: bool) -> Result<()> {
    let mut command = Command::new("vipsthumbnail");
    command.args(args).stdout(Stdio::null());
    if single_thread {
        command.env("VIPS_CONCURRENCY", "1");
    }
    let status = command.status().context("running vipsthumbnail")?;
    ensure!(status.success(), "vipsthumbnail {args:?} failed: {status}");
    Ok(())
}

/// VmHWM (peak resident memory) of this process, in kB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The child: processes `count` photos in sequence (cycling over the phone JPEGs) and prints its peak memory.
fn child(count: usize) -> Result<()> {
    let files = phone_jpegs(&photos_dir()?)?;
    let settings = ProcessSettings::default();
    let before = peak_rss_kb().unwrap_or(0);
    let mut output_bytes = 0;
    for index in 0..count {
        let processed = process_file(&files[index % files.len()], &settings)?;
        output_bytes += processed.rendition.len() + processed.thumbnail.len();
    }
    println!(
        "VmHWM_before_kb={before} VmHWM_kb={} photos={count} output_bytes={output_bytes}",
        peak_rss_kb().unwrap_or(0)
    );
    Ok(())
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

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A valid 1-bit grayscale PNG of black pixels whose IDAT is a hand-made deflate stream (fixed Huffman codes:
/// one literal zero, then 258-byte back-references at distance 1): 20000x20000 pixels in about 300 KB.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let raw = u64::from(height) * (1 + u64::from(width).div_ceil(8));
    let mut out = vec![0x78, 0x01];
    let (mut acc, mut count) = (0u64, 0u32);
    let mut put = |value: u32, bits: u32, out: &mut Vec<u8>| {
        acc |= u64::from(value) << count;
        count += bits;
        while count >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            count -= 8;
        }
    };
    // Huffman codes go most significant bit first.
    let code = |code: u32, bits: u32| code.reverse_bits() >> (32 - bits);
    put(1, 1, &mut out); // last block
    put(1, 2, &mut out); // fixed codes
    put(code(0x30, 8), 8, &mut out); // literal 0
    let mut left = raw - 1;
    while left >= 258 {
        put(code(0xC5, 8), 8, &mut out); // length 258
        put(0, 5, &mut out); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        put(code(0x30, 8), 8, &mut out);
    }
    put(0, 7, &mut out); // end of block
    put(0, 7, &mut out); // flush
    let adler = (((raw % 65521) as u32) << 16) | 1;
    out.extend_from_slice(&adler.to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"IDAT", &out);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A real JPEG whose frame header was patched to declare `side` x `side` pixels.
fn huge_jpeg(source: &[u8], side: u16) -> Result<Vec<u8>> {
    let mut jpeg = source.to_vec();
    let sof = jpeg
        .windows(2)
        .position(|pair| pair[0] == 0xFF && matches!(pair[1], 0xC0..=0xC2))
        .context("no SOF")?;
    jpeg[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    Ok(jpeg)
}

/// Median and worst time to refuse `bytes`, which must be refused.
fn refusal(bytes: &[u8], runs: usize) -> Result<(Duration, Duration, String)> {
    let settings = ProcessSettings::default();
    let mut samples = Vec::with_capacity(runs);
    let mut message = String::new();
    for _ in 0..runs {
        let started = Instant::now();
        let result = process(bytes, &settings);
        samples.push(started.elapsed());
        match result {
            Ok(_) => bail!("a hostile file was accepted"),
            Err(err @ (PhotoError::TooManyPixels { .. } | PhotoError::TooMuchMemory { .. })) => {
                message = err.to_string();
            }
            Err(other) => bail!("refused for the wrong reason: {other}"),
        }
    }
    let worst = samples.iter().max().copied().unwrap_or_default();
    Ok((median(samples), worst, message))
}

fn main() -> Result<()> {
    if let Some(count) = std::env::var_os(CHILD) {
        return child(count.to_string_lossy().parse().context("child photo count")?);
    }
    let runs: usize = std::env::var("FIELDSYNC_BENCH_PHOTO_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(9)
        .max(1);
    let dir = photos_dir()?;
    let files = phone_jpegs(&dir)?;
    let settings = ProcessSettings::default();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let out_dir = tempfile::tempdir()?;
    let vips_out = format!("{}[Q=85]", out_dir.path().join("vips.jpg").display());

    let vips = vips_available();
    let startup = if vips {
        Some(time_runs(runs, || vipsthumbnail(&["--version"], false))?.0)
    } else {
        println!(
            "note: vipsthumbnail not found (Debian: apt-get install libvips-tools); the comparison is skipped"
        );
        None
    };

    println!("Photo pipeline, 2048 px long edge, quality 85, thumbnail 320 px; median of {runs} runs\n");
    println!(
        "| file | original | ours (CPU) | vipsthumbnail (CPU) | vips - startup | vips 1 thread | ours / vips | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut worst_ours = Duration::ZERO;
    let mut all_pass = true;
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let processed = process_file(path, &settings)?;
        let original = format!(
            "{}x{} {:.1} MB -> {}x{}",
            processed.metadata.width,
            processed.metadata.height,
            std::fs::metadata(path)?.len() as f64 / 1e6,
            processed.rendition_width,
            processed.rendition_height
        );
        let (ours, ours_cpu) = time_runs(runs, || {
            process_file(path, &settings)?;
            Ok(())
        })?;
        worst_ours = worst_ours.max(ours);
        let path_text = path.to_string_lossy().into_owned();
        let vips_args = [path_text.as_str(), "--size", "2048x2048", "-o", vips_out.as_str()];
        let (vips_cell, net_cell, single_cell, ratio_cell, ok) = match startup {
            Some(startup) => {
                let (vips_time, vips_cpu) = time_runs(runs, || vipsthumbnail(&vips_args, false))?;
                let (single, _) = time_runs(runs, || vipsthumbnail(&vips_args, true))?;
                let ratio = ours.as_secs_f64() / vips_time.as_secs_f64();
                let net = vips_time.saturating_sub(startup);
                let ratio_net = ours.as_secs_f64() / net.as_secs_f64().max(1e-6);
                let ok = ours <= Duration::from_millis(120) && ratio <= 1.5;
                (
                    format!("{:.1} ms ({:.0} ms)", ms(vips_time), ms(vips_cpu)),
                    format!("{:.1} ms", ms(net)),
                    format!("{:.1} ms", ms(single)),
                    format!("{ratio:.2}x ({ratio_net:.2}x without startup)"),
                    ok,
                )
            }
            None => {
                let ok = ours <= Duration::from_millis(120);
                ("-".into(), "-".into(), "-".into(), "-".into(), ok)
            }
        };
        all_pass &= ok;
        println!(
            "| {name} | {original} | {:.1} ms ({:.0} ms) | {vips_cell} | {net_cell} | {single_cell} | {ratio_cell} | {} |",
            ms(ours),
            ms(ours_cpu),
            verdict(ok)
        );
    }
    if let Some(startup) = startup {
        println!(
            "\nvipsthumbnail process startup (`vipsthumbnail --version`): {:.1} ms per run",
            ms(startup)
        );
    }

    // Peak memory, in a fresh child process so that this process's own work does not count.
    let child_out = Command::new(std::env::current_exe()?)
        .env(CHILD, "100")
        .stderr(Stdio::inherit())
        .output()
        .context("re-running the benchmark as the memory child")?;
    ensure!(
        child_out.status.success(),
        "memory child failed: {}",
        child_out.status
    );
    let report = String::from_utf8_lossy(&child_out.stdout);
    let field = |key: &str| -> Option<u64> {
        report
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
    };
    let (before_kb, peak_kb) = (
        field("VmHWM_before_kb").unwrap_or(0),
        field("VmHWM_kb").unwrap_or(0),
    );
    let peak_mb = peak_kb as f64 / 1024.0;

    // Hostile input.
    let bomb = png_bomb(20_000, 20_000);
    let (bomb_median, bomb_worst, bomb_message) = refusal(&bomb, 50)?;
    let source = std::fs::read(dir.join("orientation/landscape_1.jpg"))?;
    let jpeg = huge_jpeg(&source, 30_000)?;
    let (jpeg_median, jpeg_worst, jpeg_message) = refusal(&jpeg, 50)?;

    println!("\n| scenario | measured | target | |");
    println!("|---|---|---|---|");
    println!(
        "| slowest phone photo (median) | {:.1} ms | <= 120 ms and <= 1.5x vipsthumbnail | {} |",
        ms(worst_ours),
        verdict(all_pass)
    );
    println!(
        "| peak memory (VmHWM), 100 photos in sequence | {peak_mb:.1} MB (process at start: {:.1} MB) | <= 100 MB | {} |",
        before_kb as f64 / 1024.0,
        verdict(peak_kb > 0 && peak_mb <= 100.0)
    );
    println!(
        "| PNG bomb, 20000x20000, {} KB | median {:.2} us, worst {:.2} us | <= 50 ms | {} |",
        bomb.len() / 1024,
        us(bomb_median),
        us(bomb_worst),
        verdict(bomb_worst <= Duration::from_millis(50))
    );
    println!(
        "| JPEG declaring 30000x30000, {} KB | median {:.2} us, worst {:.2} us | (refused) | {} |",
        jpeg.len() / 1024,
        us(jpeg_median),
        us(jpeg_worst),
        verdict(jpeg_worst <= Duration::from_millis(50))
    );
    println!("\nrefusals: PNG bomb: {bomb_message}; JPEG: {jpeg_message}");
    Ok(())
}
