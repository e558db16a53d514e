//! The import's reader: the response read, fingerprinted and parsed in batches, on a thread of its own.
//!
//! Reading and parsing a large response is a quarter of a Full Import, and none of it needs the database.
//! So the import runs it on a second thread ([`spawn`]) that hands batches of orders over a bounded channel
//! to the thread holding the write transaction: parsing the next orders overlaps with writing these. The
//! channel holds at most [`QUEUE_BATCHES`] batches of [`BATCH_ORDERS`] orders, so memory stays flat
//! whatever the response's size, and the reader waits whenever the writer is behind.
//!
//! The reader knows the fingerprints stored when the import started: an order whose fingerprint is one of
//! them is not parsed (the writer will most likely skip it as unchanged), only its text is handed over, in
//! case the project changed earlier in the same response and the order has to be applied after all.
//! Everything is handed over in response order, errors included, so the writer sees exactly what reading
//! the response in its own thread would have shown it.

use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};

use crate::wire::{ReadError, ResponseMeta, WorkOrder, read_work_orders};

/// Orders per batch: enough that handing over costs nothing per order, few enough to keep the two threads
/// busy together from the first batch on.
pub(super) const BATCH_ORDERS: usize = 256;
/// Batches waiting in the channel at most: with the one being filled and the one being written, the
/// memory of about 4,600 orders (about 12 MB for orders of a kilobyte). Deep enough that the writer never
/// waits when the reader thread is briefly descheduled (the machine has other work too).
pub(super) const QUEUE_BATCHES: usize = 16;

/// The fingerprint of an order's exact text, mixed with the import's settings (`seed`).
pub(super) fn fingerprint(text: &str, seed: u64) -> u128 {
    xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), seed)
}

/// One element of `workOrders`, in response order.
///
/// Parsed orders are kept inline in the batch's vector: boxing them would cost an allocation per order;
/// a batch of `Known` ones wastes about 150 KB instead.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum ReadOrder {
    /// Parsed (or refused by the parser: the writer decides what the error means).
    Parsed {
        fingerprint: u128,
        order: Result<WorkOrder, serde_json::Error>,
    },
    /// Its fingerprint was stored when the import started: not parsed. The text is in the batch's `texts`.
    Known { fingerprint: u128, text: Range<usize> },
}

/// A run of consecutive orders.
#[derive(Debug, Default)]
pub(super) struct OrderBatch {
    /// The orders, in response order.
    pub orders: Vec<ReadOrder>,
    /// The texts of the [`ReadOrder::Known`] orders, one after the other.
    pub texts: String,
    /// Bytes of the body read when the batch was handed over.
    pub read: u64,
}

impl OrderBatch {
    fn with_capacity(orders: usize) -> Self {
        Self {
            orders: Vec::with_capacity(orders),
            ..Self::default()
        }
    }
}

/// Reads the response, fingerprinting every order with `seed` and parsing those whose fingerprint `known`
/// does not know, and hands them to `sink` in batches of [`BATCH_ORDERS`] (the last one may be shorter).
/// `read` says how many bytes of the body were read so far; `empty` gives the batch to fill next (one
/// handed back by the writer, so that batches are reused rather than allocated and freed). Stops at the
/// first error of `sink`.
pub(super) fn read_batches<R, E>(
    reader: R,
    seed: u64,
    known: impl Fn(u128) -> bool,
    read: impl Fn() -> u64,
    mut empty: impl FnMut() -> OrderBatch,
    mut sink: impl FnMut(OrderBatch) -> Result<(), E>,
) -> Result<ResponseMeta, ReadError<E>>
where
    R: Read,
{
    let mut batch = empty();
    let result = read_work_orders(reader, |text| {
        let fingerprint = fingerprint(text, seed);
        let order = if known(fingerprint) {
            let start = batch.texts.len();
            batch.texts.push_str(text);
            ReadOrder::Known {
                fingerprint,
                text: start..batch.texts.len(),
            }
        } else {
            ReadOrder::Parsed {
                fingerprint,
                order: WorkOrder::from_json(text),
            }
        };
        batch.orders.push(order);
        if batch.orders.len() >= BATCH_ORDERS {
            let mut full = std::mem::replace(&mut batch, empty());
            full.read = read();
            sink(full)?;
        }
        Ok(())
    });
    // What was read before a malformed part or the end of the body is handed over first: the writer
    // applies the orders before the error in order, as it would have reading the body itself.
    if !batch.orders.is_empty() {
        batch.read = read();
        sink(batch).map_err(ReadError::Callback)?;
    }
    result
}

/// A new, empty batch.
pub(super) fn new_batch() -> OrderBatch {
    OrderBatch::with_capacity(BATCH_ORDERS)
}

/// The writer stopped taking batches (it failed): the reader stops too.
#[derive(Debug)]
pub(super) struct WriterGone;

/// The reader's end of the channels: batches go out, emptied ones come back.
pub(super) struct ReaderEnd {
    batches: SyncSender<OrderBatch>,
    emptied: Receiver<OrderBatch>,
}

/// The writer's end of the channels: batches come in, emptied ones go back.
pub(super) struct WriterEnd {
    /// The batches, in response order.
    pub batches: Receiver<OrderBatch>,
    emptied: Sender<OrderBatch>,
}

impl WriterEnd {
    /// Hands an applied batch back to be filled again.
    pub fn give_back(&self, mut batch: OrderBatch) {
        batch.orders.clear();
        batch.texts.clear();
        // The reader may have finished already: the batch is then simply dropped.
        let _ = self.emptied.send(batch);
    }
}

/// A bounded channel of batches (the reader waits while [`QUEUE_BATCHES`] are waiting), and the way back.
pub(super) fn channel() -> (ReaderEnd, WriterEnd) {
    let (batches, receiver) = sync_channel(QUEUE_BATCHES);
    let (emptied, returned) = std::sync::mpsc::channel();
    (
        ReaderEnd {
            batches,
            emptied: returned,
        },
        WriterEnd {
            batches: receiver,
            emptied,
        },
    )
}

/// [`read_batches`] into the channel (the reader thread's work).
pub(super) fn send_batches<R: Read>(
    reader: R,
    seed: u64,
    known: impl Fn(u128) -> bool,
    read: impl Fn() -> u64,
    end: ReaderEnd,
) -> Result<ResponseMeta, ReadError<WriterGone>> {
    let ReaderEnd { batches, emptied } = end;
    read_batches(
        reader,
        seed,
        known,
        read,
        || emptied.try_recv().unwrap_or_else(|_| new_batch()),
        |batch| batches.send(batch).map_err(|_| WriterGone),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(orders: usize) -> String {
        let orders: Vec<String> = (0..orders)
            .map(|n| format!(r#"{{"workOrderNumber": "{n}", "city": "X"}}"#))
            .collect();
        format!(r#"{{"workOrders": [{}], "serverTime": 5}}"#, orders.join(","))
    }

    #[test]
    fn batches_hold_every_order_in_order_and_known_ones_as_text() {
        let text = body(BATCH_ORDERS * 2 + 3);
        let known = fingerprint(r#"{"workOrderNumber": "7", "city": "X"}"#, 9);
        let mut batches = Vec::new();
        let meta = read_batches(
            text.as_bytes(),
            9,
            |fingerprint| fingerprint == known,
            || 0,
            new_batch,
            |batch| {
                batches.push(batch);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(meta.work_orders, (BATCH_ORDERS * 2 + 3) as u64);
        assert_eq!(meta.server_time, Some(5));
        let sizes: Vec<usize> = batches.iter().map(|batch| batch.orders.len()).collect();
        assert_eq!(sizes, vec![BATCH_ORDERS, BATCH_ORDERS, 3]);
        let mut numbers = Vec::new();
        for batch in &batches {
            for order in &batch.orders {
                match order {
                    ReadOrder::Parsed { order, .. } => {
                        numbers.push(order.as_ref().unwrap().work_order_number.clone().unwrap());
                    }
                    ReadOrder::Known { fingerprint, text } => {
                        assert_eq!(*fingerprint, known);
                        assert_eq!(
                            &batch.texts[text.clone()],
                            r#"{"workOrderNumber": "7", "city": "X"}"#
                        );
                        numbers.push("known".into());
                    }
                }
            }
        }
        assert_eq!(numbers.len(), BATCH_ORDERS * 2 + 3);
        assert_eq!(numbers[6], "6");
        assert_eq!(numbers[7], "known");
        assert_eq!(numbers[BATCH_ORDERS * 2 + 2], (BATCH_ORDERS * 2 + 2).to_string());
    }

    #[test]
    fn orders_before_a_malformed_part_are_handed_over_before_the_error() {
        let text = r#"{"workOrders": [{"workOrderNumber": "1"}, {"workOrderNumber": "2"} {"#;
        let mut orders = 0;
        let result = read_batches(
            text.as_bytes(),
            0,
            |_| false,
            || 0,
            new_batch,
            |batch| {
                orders += batch.orders.len();
                Ok::<(), ()>(())
            },
        );
        assert!(matches!(result, Err(ReadError::Malformed(_))), "{result:?}");
        assert_eq!(orders, 2);
    }

    #[test]
    fn a_failing_sink_stops_the_reading() {
        let text = body(BATCH_ORDERS * 3);
        let mut calls = 0;
        let result = read_batches(
            text.as_bytes(),
            0,
            |_| false,
            || 0,
            new_batch,
            |_| {
                calls += 1;
                Err("stop")
            },
        );
        assert!(matches!(result, Err(ReadError::Callback("stop"))), "{result:?}");
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_writer_that_hangs_up_stops_the_reader_thread() {
        let text = body(BATCH_ORDERS * (QUEUE_BATCHES + 4));
        let (reader_end, writer_end) = channel();
        let reader =
            std::thread::spawn(move || send_batches(text.as_bytes(), 0, |_| false, || 0, reader_end));
        let first = writer_end.batches.recv().unwrap();
        assert_eq!(first.orders.len(), BATCH_ORDERS);
        writer_end.give_back(first);
        drop(writer_end);
        assert!(matches!(
            reader.join().unwrap(),
            Err(ReadError::Callback(WriterGone))
        ));
    }
}
