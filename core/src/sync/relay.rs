//! Photo relay progress: bytes sent per photo and over a whole delivery run, as [`SyncEvent`]s.
//!
//! The rendition is streamed into the request through a [`CountingReader`]: what it has given out is what
//! the HTTP client has taken to send (reqwest reads 8 KiB at a time as the connection accepts them). Events
//! are throttled per photo to one per `max(64 KiB, 1 %)` of its size, plus one at the start (0 bytes) and
//! one at the end (all bytes), so a photo yields at most about a hundred events whatever its size.
//!
//! The overall figures cover the run: the total is the size of every photo due when the run started (plus
//! any photo that became due during it), the sent count grows as photos are read out. Updates and events
//! happen under one lock, so an observer sees both figures non-decreasing even when photos are relayed in
//! parallel. A photo whose upload fails keeps the bytes it had sent in the overall count (it is not retried
//! within the run), so a run that stops early ends short of its total.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use super::event::{SyncEvent, SyncObserver};

/// The least a photo must advance between two progress events.
pub const PROGRESS_STEP: u64 = 64 * 1024;

/// The overall progress of one delivery run.
pub(crate) struct RunProgress {
    observer: Option<SyncObserver>,
    overall: Mutex<Overall>,
}

struct Overall {
    sent: u64,
    total: u64,
    /// Photos counted in `total`, with the size counted.
    counted: HashMap<String, u64>,
}

impl RunProgress {
    /// A run that expects to relay `photos` (UUID, rendition size).
    pub(crate) fn new(observer: Option<SyncObserver>, photos: Vec<(String, u64)>) -> Arc<Self> {
        let total = photos.iter().map(|(_, size)| size).sum();
        Arc::new(Self {
            observer,
            overall: Mutex::new(Overall {
                sent: 0,
                total,
                counted: photos.into_iter().collect(),
            }),
        })
    }

    /// A photo's upload starts with `total` bytes: wraps its reader so that it reports progress.
    pub(crate) fn start<R: Read>(self: &Arc<Self>, uuid: &str, total: u64, reader: R) -> CountingReader<R> {
        {
            let mut overall = self
                .overall
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Counted at the start with its stored size, or new in this run: the file's size is what counts.
            let counted = overall.counted.insert(uuid.to_owned(), total).unwrap_or(0);
            overall.total = (overall.total + total).saturating_sub(counted);
            if let Some(observer) = &self.observer {
                observer(SyncEvent::Upload {
                    uuid: uuid.to_owned(),
                    bytes: total,
                });
                observer(SyncEvent::UploadProgress {
                    uuid: uuid.to_owned(),
                    bytes_sent: 0,
                    bytes_total: total,
                    overall_sent: overall.sent,
                    overall_total: overall.total,
                });
            }
        }
        CountingReader {
            inner: reader,
            uuid: uuid.to_owned(),
            sent: 0,
            reported: 0,
            total,
            step: PROGRESS_STEP.max(total / 100),
            run: self.clone(),
        }
    }

    fn advance(&self, uuid: &str, sent: u64, total: u64, delta: u64) {
        let mut overall = self
            .overall
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        overall.sent = (overall.sent + delta).min(overall.total);
        if let Some(observer) = &self.observer {
            observer(SyncEvent::UploadProgress {
                uuid: uuid.to_owned(),
                bytes_sent: sent,
                bytes_total: total,
                overall_sent: overall.sent,
                overall_total: overall.total,
            });
        }
    }
}

/// A photo's bytes on their way into the request, reporting how many have been taken.
pub(crate) struct CountingReader<R> {
    inner: R,
    uuid: String,
    sent: u64,
    reported: u64,
    total: u64,
    step: u64,
    run: Arc<RunProgress>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.sent = (self.sent + read as u64).min(self.total);
        let finished = self.sent == self.total && self.reported < self.total;
        if finished || self.sent - self.reported >= self.step {
            self.run
                .advance(&self.uuid, self.sent, self.total, self.sent - self.reported);
            self.reported = self.sent;
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress_of(events: &[SyncEvent]) -> Vec<(String, u64, u64, u64, u64)> {
        events
            .iter()
            .filter_map(SyncEvent::upload_progress)
            .map(|(uuid, sent, total, overall_sent, overall_total)| {
                (uuid.to_owned(), sent, total, overall_sent, overall_total)
            })
            .collect()
    }

    #[test]
    fn progress_is_throttled_monotonic_and_ends_at_the_totals() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let observer: SyncObserver = Arc::new(move |event| sink.lock().unwrap().push(event));
        let sizes = [1_000_000_u64, 300_000];
        let run = RunProgress::new(
            Some(observer),
            vec![("a".into(), sizes[0]), ("b".into(), sizes[1])],
        );
        for (uuid, size) in ["a", "b"].into_iter().zip(sizes) {
            let bytes = vec![7_u8; size as usize];
            let mut reader = run.start(uuid, size, bytes.as_slice());
            let mut buffer = [0_u8; 8192];
            while reader.read(&mut buffer).unwrap() > 0 {}
        }
        let events = events.lock().unwrap();
        let progress = progress_of(&events);
        let a: Vec<_> = progress.iter().filter(|event| event.0 == "a").collect();
        // 1 MB in 64 KiB steps: the start, 15 steps, the end.
        assert!((15..=18).contains(&a.len()), "{}", a.len());
        assert!(
            progress.windows(2).all(|pair| pair[0].3 <= pair[1].3),
            "overall monotonic"
        );
        for uuid in ["a", "b"] {
            let mine: Vec<_> = progress.iter().filter(|event| event.0 == uuid).collect();
            assert!(
                mine.windows(2).all(|pair| pair[0].1 < pair[1].1),
                "per photo increasing"
            );
            assert_eq!(mine.last().unwrap().1, mine.last().unwrap().2);
        }
        let last = progress.last().unwrap();
        assert_eq!((last.3, last.4), (1_300_000, 1_300_000));
    }

    #[test]
    fn a_photo_not_counted_at_the_start_grows_the_total() {
        let run = RunProgress::new(None, vec![("a".into(), 10)]);
        let mut reader = run.start("late", 20, [1_u8; 20].as_slice());
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        let overall = run.overall.lock().unwrap();
        assert_eq!((overall.sent, overall.total), (20, 30));
    }
}
