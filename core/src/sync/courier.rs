//! The outbox's courier over HTTP: sends one claimed entry with the wire protocol, as the item shape in
//! [`crate::wire::upload`] says, streaming a photo's rendition from disk with progress.

use std::io::Read;
use std::sync::Arc;

use super::event::{SyncEvent, SyncObserver};
use super::relay::RunProgress;
use crate::outbox::{ClaimedEntry, Courier, DeliveryOutcome, EntryKind, EntryUpdate};
use crate::photo::files::{Kind, PhotoFiles};
use crate::store::Store;
use crate::transport::{HttpTransport, ProviderCredentials, TransportError, UploadFile};
use crate::wire::upload::status_request;

/// Sends outbox entries of one integration during one delivery run.
pub(crate) struct HttpCourier<'a> {
    pub(crate) store: &'a Store,
    pub(crate) transport: HttpTransport,
    pub(crate) credentials: ProviderCredentials,
    pub(crate) photo_files: Option<&'a PhotoFiles>,
    pub(crate) progress: Arc<RunProgress>,
    pub(crate) observer: Option<&'a SyncObserver>,
}

impl HttpCourier<'_> {
    fn send_photo(&self, uuid: &str) -> Result<(), TransportError> {
        let Some(files) = self.photo_files else {
            return Err(TransportError::Transient {
                message: "no photo directory is configured".into(),
                retry_after: None,
            });
        };
        let upload = self
            .store
            .photo_upload(uuid)
            .map_err(|err| TransportError::Permanent(format!("photo {uuid}: {err}")))?;
        let missing = |err: std::io::Error| {
            TransportError::Permanent(format!("photo {uuid}: the rendition is missing: {err}"))
        };
        let file =
            std::fs::File::open(files.path(Kind::Rendition, &upload.rendition_sha256)).map_err(missing)?;
        let length = file.metadata().map_err(missing)?.len();
        // Streamed from disk: photos in flight cost a read buffer each, not their size.
        let reader = self.progress.start(uuid, length, file.take(length));
        self.transport.upload_item(
            &self.credentials,
            &upload.item,
            Some(UploadFile {
                name: upload.file_name,
                reader: Box::new(reader),
                length,
            }),
        )
    }
}

impl HttpCourier<'_> {
    /// The item with its evidence signature (`evidenceSignature`, see `crate::evidence::detached`) when the
    /// host set a device signer. A signer failure does not hold a check-in or a survey back (a check-in is
    /// the provider's proof of presence, and its time matters): the item goes unsigned, with the reason in
    /// `evidenceSignatureError`.
    fn with_signature(&self, item: &serde_json::Value) -> serde_json::Value {
        let Some(signer) = self.store.device_signer() else {
            return item.clone();
        };
        match crate::evidence::detached::sign_item(item, &*signer) {
            Ok(signed) => signed,
            Err(err) => {
                tracing::warn!(%err, "an item goes without its evidence signature");
                let mut item = item.clone();
                if let Some(object) = item.as_object_mut() {
                    object.insert("evidenceSignatureError".into(), err.to_string().into());
                }
                item
            }
        }
    }

    /// A survey goes as an `uploadPictures` item whose file is the survey itself (`survey.json`).
    fn send_survey(&self, uuid: &str) -> Result<(), TransportError> {
        let (item, file) = self
            .store
            .survey_upload(uuid)
            .map_err(|err| TransportError::Permanent(format!("survey {uuid}: {err}")))?;
        let item = self.with_signature(&item);
        let length = file.len() as u64;
        self.transport.upload_item(
            &self.credentials,
            &item,
            Some(UploadFile {
                name: "survey.json".into(),
                reader: Box::new(std::io::Cursor::new(file)),
                length,
            }),
        )
    }
}

impl Courier for HttpCourier<'_> {
    fn send(&self, entry: &ClaimedEntry) -> DeliveryOutcome {
        let sent = match entry.kind {
            EntryKind::Status => self
                .transport
                .post_status(&self.credentials, &status_request(&entry.id, &entry.payload)),
            EntryKind::CheckIn => {
                self.transport
                    .upload_item(&self.credentials, &self.with_signature(&entry.payload), None)
            }
            EntryKind::Photo => self.send_photo(&entry.id),
            EntryKind::Survey => self.send_survey(&entry.id),
        };
        match sent {
            Ok(()) => DeliveryOutcome::Delivered,
            Err(err) => err.into(),
        }
    }

    fn recorded(&self, entry: &ClaimedEntry, _update: &EntryUpdate) {
        if entry.kind == EntryKind::Photo
            && let Some(observer) = self.observer
            && let Ok(photo) = self.store.photo(&entry.id)
        {
            observer(SyncEvent::PhotoState {
                uuid: entry.id.clone(),
                state: photo.state,
            });
        }
    }
}
