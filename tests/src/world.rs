//! The one end-to-end test world: the provider emulator on 127.0.0.1 with a vendor and work orders, and a
//! [`Device`] (a [`Store`], secrets and a [`SyncEngine`] on a temporary directory) linked to it.
//!
//! Every e2e test module builds on these instead of its own setup. What a test checks stays in the test.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{ImportKind, ImportReport, IntegrationEdit, NewIntegration, ProjectId};
use fieldsync_core::photo::files::PhotoFiles;
use fieldsync_core::photo::{EvidenceType, default_settings};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::{AddPhoto, CheckIn, CheckInRequest, Photo};
use fieldsync_core::sync::{SyncEngine, SyncEvent};
use fieldsync_core::{Error, SecretKind, SecretStore, Store};
use fieldsync_provider::{ProviderConfig, RunningProvider};
use serde_json::{Value, json};

/// The integration code of the device's integration.
pub const CODE: &str = "ACME";
/// The vendor's user name at the provider.
pub const USER: &str = "vendor1";
/// The vendor's password at the provider.
pub const PASSWORD: &str = "pw1";
/// Where the standard orders are (Springfield, IL).
pub const HOME: (f64, f64) = (39.78170, -89.65010);

/// The emulator with a default configuration and no user yet.
pub fn emulator() -> RunningProvider {
    fieldsync_provider::start(ProviderConfig::default()).expect("the emulator starts")
}

/// The emulator with the vendor [`USER`] / [`PASSWORD`] (no token) and `orders` (see [`order`]).
pub fn provider_with_orders(orders: impl IntoIterator<Item = Value>) -> RunningProvider {
    let provider = emulator();
    provider
        .admin()
        .create_user(USER, PASSWORD, "")
        .expect("the vendor is created");
    for order in orders {
        provider
            .admin()
            .create_work_order(order)
            .expect("the order is created");
    }
    provider
}

/// A work order `number` at [`HOME`] with one task, "Lawn Cut", assigned to [`USER`].
pub fn order(number: &str) -> Value {
    json!({"workOrderNumber": number, "address1": "412 Elm St", "city": "Springfield", "state": "IL",
        "zip": "62701", "gpsLatitude": HOME.0, "gpsLongitude": HOME.1,
        "services": [{"serviceName": "Lawn Cut"}], "assignedTo": USER})
}

/// [`order`] with the top-level fields of `changes` replaced or added.
pub fn order_with(number: &str, changes: Value) -> Value {
    let mut order = order(number);
    if let (Some(fields), Value::Object(changes)) = (order.as_object_mut(), changes) {
        fields.extend(changes);
    }
    order
}

/// The project of order `number` in the integration [`CODE`].
pub fn project(number: &str) -> ProjectId {
    ProjectId::parse(&format!("{CODE}::{number}")).expect("a valid project id")
}

/// A fix at `latitude`, `longitude` taken at `at_s` (Unix seconds): 6 m accurate, at 182 m, not mocked.
pub fn fix(latitude: f64, longitude: f64, at_s: i64) -> LocationFix {
    LocationFix {
        latitude,
        longitude,
        accuracy_m: 6.0,
        altitude_m: Some(182.0),
        fix_time_ms: at_s * 1000,
        is_mock: false,
    }
}

/// A file of the repository's photo fixtures, e.g. `phone/jolla.jpg`.
pub fn fixture_photo(path: &str) -> PathBuf {
    crate::photos::photo_fixtures()
        .expect("the photo fixtures are there")
        .join(path)
}

/// How a device's engine is set up beyond the defaults (kept so that [`Device::restart`] sets it up again).
pub type Configure = fn(SyncEngine) -> SyncEngine;

/// One device: a temporary directory holding the cache (`device.db`) and, when asked for, the photo store
/// (`photos/`); an in-memory secret store with the integration's password; a sync engine recording its
/// events.
pub struct Device {
    /// The device's directory (removed when the device is dropped).
    pub dir: tempfile::TempDir,
    /// The cache database.
    pub path: PathBuf,
    /// The device's secrets.
    pub secrets: Arc<MemorySecretStore>,
    /// The cache.
    pub store: Arc<Store>,
    /// The sync engine on [`Self::store`] and [`Self::secrets`].
    pub engine: Arc<SyncEngine>,
    /// The photo store, when the device takes photos.
    pub photos: Option<PhotoFiles>,
    /// Every event the engine reported, in order.
    pub events: Arc<Mutex<Vec<SyncEvent>>>,
    configure: Configure,
}

impl Device {
    /// A device with the integration [`CODE`] for [`USER`] at `base_url` and its [`PASSWORD`]; no photos.
    pub fn new(base_url: &str) -> Self {
        Self::open(NewIntegration::new(CODE, base_url, USER), PASSWORD)
    }

    /// A device with `integration` and its `password`; no photos.
    pub fn open(integration: NewIntegration, password: &str) -> Self {
        Self::build(integration, password, false, |engine| engine)
    }

    /// A device taking photos (`photos/` in its directory) with `integration`, whose password is
    /// [`PASSWORD`], and its engine set up by `configure`.
    pub fn with_photos(integration: NewIntegration, configure: Configure) -> Self {
        Self::build(integration, PASSWORD, true, configure)
    }

    fn build(integration: NewIntegration, password: &str, photos: bool, configure: Configure) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("device.db");
        let secrets = Arc::new(MemorySecretStore::default());
        secrets
            .set(
                &integration.code,
                SecretKind::PasswordSha1,
                &password_sha1(password),
            )
            .expect("the password is stored");
        let store = Arc::new(Store::open(&path).expect("the cache opens"));
        store
            .create_integration(integration)
            .expect("the integration is created");
        let photos =
            photos.then(|| PhotoFiles::open(dir.path().join("photos")).expect("the photo store opens"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let engine = engine(&dir, &store, &secrets, photos.as_ref(), &events, configure);
        Self {
            dir,
            path,
            secrets,
            store,
            engine,
            photos,
            events,
            configure,
        }
    }

    /// Closes everything and opens the database again, as a restarted app does (same secrets, same setup).
    pub fn restart(self) -> Self {
        let Self {
            dir,
            path,
            secrets,
            store,
            engine: old,
            photos,
            events,
            configure,
        } = self;
        drop(old);
        drop(store);
        let store = Arc::new(Store::open(&path).expect("the cache opens again"));
        let engine = engine(&dir, &store, &secrets, photos.as_ref(), &events, configure);
        Self {
            dir,
            path,
            secrets,
            store,
            engine,
            photos,
            events,
            configure,
        }
    }

    /// Closes the cache and the engine and hands back the directory (with the database at `device.db`), for
    /// a test that runs child processes on it.
    pub fn close(self) -> (tempfile::TempDir, PathBuf) {
        (self.dir, self.path)
    }

    /// A Full Import of the integration [`CODE`].
    pub fn full_import(&self) -> ImportReport {
        self.engine
            .refresh(CODE, ImportKind::FullImport)
            .expect("the full import succeeds")
    }

    /// Points the integration [`CODE`] at another provider URL.
    pub fn point_at(&self, url: &str) {
        let edit = IntegrationEdit {
            base_url: Some(url.to_owned()),
            ..Default::default()
        };
        self.store
            .edit_integration(CODE, &edit)
            .expect("the integration is edited");
    }

    /// Checks in at order `number` with a fix 11 m from [`HOME`] taken at `fix_time_s` (Unix seconds), badge
    /// `B-7731`, user `jane`, the device's clock 2 s later.
    pub fn check_in(&self, number: &str, fix_time_s: i64) -> Result<CheckIn, Error> {
        self.store.check_in(&CheckInRequest {
            project: project(number),
            fix: fix(HOME.0 + 0.0001, HOME.1, fix_time_s),
            badge: Some("B-7731".into()),
            user: Some("jane".into()),
            device_time: fix_time_s + 2,
            device_id: "device-1".into(),
        })
    }

    /// The photo store (for a device made by [`Device::with_photos`]).
    pub fn photo_files(&self) -> &PhotoFiles {
        self.photos.as_ref().expect("a device taking photos")
    }

    /// Adds `file` as a photo of task "Lawn Cut" of order `number` and processes the pending photos, as the
    /// app does right after taking one. The photo as stored after processing, with `duplicate` as the add
    /// said.
    pub fn add_photo(
        &self,
        number: &str,
        file: &Path,
        evidence: EvidenceType,
        fix: Option<LocationFix>,
    ) -> Result<Photo, Error> {
        let request = AddPhoto {
            project: project(number),
            task: "Lawn Cut".into(),
            evidence,
            source: file,
            fix,
            device_id: "phone-1".into(),
            device_time: fieldsync_core::model::now(),
        };
        let settings = default_settings();
        let files = self.photo_files();
        let photo = self.store.add_photo(files, &request, &settings.limits)?;
        self.store
            .process_pending_photos(files, &settings)
            .expect("pending photos are processed");
        Ok(Photo {
            duplicate: photo.duplicate,
            ..self.store.photo(&photo.uuid).expect("the photo is stored")
        })
    }
}

fn engine(
    dir: &tempfile::TempDir,
    store: &Arc<Store>,
    secrets: &Arc<MemorySecretStore>,
    photos: Option<&PhotoFiles>,
    events: &Arc<Mutex<Vec<SyncEvent>>>,
    configure: Configure,
) -> Arc<SyncEngine> {
    let mut engine = SyncEngine::new(store.clone(), secrets.clone(), dir.path());
    if let Some(files) = photos {
        engine = engine.with_photo_files(files.clone());
    }
    let recorded = events.clone();
    engine = engine.with_observer(Arc::new(move |event| {
        recorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(event)
    }));
    Arc::new(configure(engine))
}

/// The emulator and one device linked to it. Derefs to the [`Device`].
pub struct World {
    /// The provider emulator.
    pub provider: RunningProvider,
    /// The device.
    pub device: Device,
}

impl Deref for World {
    type Target = Device;

    fn deref(&self) -> &Device {
        &self.device
    }
}
