//! The admin API, in-process ([`Admin`]) and over HTTP under `/admin` (routes listed in the README).
//!
//! Every method is synchronous and short (a SQLite transaction), except bulk generation, which takes
//! about a second per 100,000 orders. Call them from tests, the CLI or a blocking task; the HTTP
//! handlers run them on tokio's blocking pool.

pub(crate) mod http;

use serde_json::Value;

use crate::error::ProviderError;
use crate::faults::{Endpoint, Fault};
use crate::model::{
    BulkReport, BulkSpec, Health, ItemFilter, PushEvent, ReceivedItem, ReceivedSurvey, SeedReport,
    StatusUpdate, SurveyFilter, UploadTraffic, UserInfo, WorkOrderFilter, WorkOrderInfo, WorkOrderRecord,
};
use crate::seed;
use crate::state::ProviderState;
use crate::store::{items, orders, users};

/// In-process admin operations on one emulator instance. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Admin {
    state: ProviderState,
}

pub use crate::store::users::password_sha1;

// Defined here rather than in `state` so that the state does not depend on the admin API (the admin API
// is a view over the state, not a part of it).
impl ProviderState {
    /// The in-process admin API of this instance.
    pub fn admin(&self) -> Admin {
        Admin::new(self.clone())
    }
}

impl Admin {
    pub(crate) fn new(state: ProviderState) -> Self {
        Self { state }
    }

    // ----- clock -----

    /// Provider time in Unix seconds.
    pub fn now(&self) -> i64 {
        self.state.store().clock().now()
    }

    /// Pins the provider clock at `at` (Unix seconds), or returns to real time with `None`.
    pub fn set_time(&self, at: Option<i64>) {
        self.state.store().clock().set(at);
    }

    /// Whether the provider clock is pinned (see [`Admin::set_time`]).
    pub fn is_time_pinned(&self) -> bool {
        self.state.store().clock().is_pinned()
    }

    /// Moves the provider clock by `secs` (pinned or not); returns the new time.
    pub fn advance_time(&self, secs: i64) -> i64 {
        self.state.store().clock().advance(secs)
    }

    // ----- users -----

    /// Creates a login. The password is stored as its SHA-1, like the wire sends it. A taken username
    /// is [`ProviderError::Conflict`].
    pub fn create_user(
        &self,
        username: &str,
        password: &str,
        token: &str,
    ) -> Result<UserInfo, ProviderError> {
        let username = username.trim();
        if username.is_empty() {
            return Err(ProviderError::invalid("username must not be empty"));
        }
        let hash = password_sha1(password);
        self.state
            .store()
            .write(|tx, now| Ok(users::insert(tx, now, username, &hash, token.trim())?.info()))
    }

    /// One login, if it exists.
    pub fn user(&self, username: &str) -> Result<Option<UserInfo>, ProviderError> {
        self.state
            .store()
            .read(|conn| Ok(users::find(conn, username)?.map(|u| u.info())))
    }

    /// Every login.
    pub fn users(&self) -> Result<Vec<UserInfo>, ProviderError> {
        self.state.store().read(users::list)
    }

    // ----- work orders -----

    /// Creates or replaces a work order from a wire-shaped JSON object (`workOrderNumber` required, a
    /// string or an integer; every other field optional, so orders a client must reject can be made).
    /// `assignedTo` names the login it is assigned to (`null` or `""` unassigns; absent keeps the
    /// current assignment). A deleted order with the same number comes back. Bumps `updated_at`.
    pub fn create_work_order(&self, order: Value) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::upsert(tx, now, order, None))
    }

    /// One order with its metadata (deleted ones included), if it exists.
    pub fn work_order(&self, number: &str) -> Result<Option<WorkOrderRecord>, ProviderError> {
        self.state.store().read(|conn| orders::get(conn, number))
    }

    /// Orders matching a filter, by number.
    pub fn list_work_orders(&self, filter: &WorkOrderFilter) -> Result<Vec<WorkOrderRecord>, ProviderError> {
        self.state.store().read(|conn| orders::list(conn, filter))
    }

    /// Applies a JSON merge patch (RFC 7386: `null` removes a field) to an order. `assignedTo` in the
    /// patch reassigns or unassigns. Bumps `updated_at`.
    pub fn patch_work_order(&self, number: &str, patch: Value) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::patch(tx, now, number, patch))
    }

    /// Replaces an order's `options` object (check-in and QA options such as `check_in_required`).
    pub fn set_options(&self, number: &str, options: Value) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::set_options(tx, now, number, options))
    }

    /// Applies a JSON merge patch (RFC 7386: `null` removes a field) to one service of an order, the
    /// first whose `serviceName` is `service_name` (any field: `survey`, `surveyDynamic`, `options`,
    /// `instructions`, ...). An unknown order or service is [`ProviderError::NotFound`]. Bumps
    /// `updated_at`.
    pub fn patch_service(
        &self,
        number: &str,
        service_name: &str,
        patch: Value,
    ) -> Result<WorkOrderInfo, ProviderError> {
        if !patch.is_object() {
            return Err(ProviderError::invalid("a service patch must be a JSON object"));
        }
        self.state.store().write(|tx, now| {
            orders::edit_service(tx, now, number, service_name, |service| {
                let mut value = Value::Object(std::mem::take(service));
                orders::merge_patch(&mut value, &patch);
                if let Value::Object(object) = value {
                    *service = object;
                }
                Ok(())
            })
        })
    }

    /// Gives one service (task) of an order its survey: `survey` (a template id the vendor keeps in its
    /// library) and `surveyDynamic` (an inline template), each set when `Some` and removed when `None`.
    /// The template is stored as given, not checked (a client must cope with a bad one). Bumps
    /// `updated_at`.
    pub fn set_service_survey(
        &self,
        number: &str,
        service_name: &str,
        survey_id: Option<&str>,
        survey_dynamic: Option<Value>,
    ) -> Result<WorkOrderInfo, ProviderError> {
        self.state.store().write(|tx, now| {
            orders::edit_service(tx, now, number, service_name, |service| {
                match survey_id {
                    Some(id) => service.insert("survey".to_owned(), Value::String(id.to_owned())),
                    None => service.remove("survey"),
                };
                match survey_dynamic {
                    Some(template) => service.insert("surveyDynamic".to_owned(), template),
                    None => service.remove("surveyDynamic"),
                };
                Ok(())
            })
        })
    }

    /// Assigns an order to a login; a previous assignee will see it `Cancelled`.
    pub fn assign(&self, number: &str, username: &str) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::assign(tx, now, number, username))
    }

    /// Unassigns an order; its assignee will see it `Cancelled` on its next incremental pull.
    pub fn unassign(&self, number: &str) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::unassign(tx, now, number))
    }

    /// Deletes an order; its assignee will see it `Deleted` on its next incremental pull.
    pub fn delete_work_order(&self, number: &str) -> Result<WorkOrderInfo, ProviderError> {
        self.state
            .store()
            .write(|tx, now| orders::delete(tx, now, number))
    }

    /// Generates `count` realistic orders (two services each, about 700 bytes of JSON) assigned to
    /// `username`, numbered `BLK-0000001`, ... continuing across calls.
    pub fn bulk_generate(&self, username: &str, count: u32) -> Result<BulkReport, ProviderError> {
        self.bulk_generate_with(&BulkSpec {
            username: username.to_owned(),
            count,
            prefix: None,
            seed: None,
        })
    }

    /// Bulk generation with a number prefix and a content seed.
    pub fn bulk_generate_with(&self, spec: &BulkSpec) -> Result<BulkReport, ProviderError> {
        self.state
            .store()
            .write(|tx, now| seed::bulk_insert(tx, now, spec))
    }

    /// Seeds the demo data set: login `vendor1` / `secret1` / `tok-1` (created if missing) and eleven
    /// work orders (lawn cuts, winterizations, inspections, debris removal, and three property
    /// inspections with a survey: `WO-100109` by template id, `WO-100110` inline, `WO-100111` a rework
    /// with previous answers) assigned to it, due in the days after the provider's today. Idempotent:
    /// running it again refreshes the same orders.
    pub fn seed_demo(&self) -> Result<SeedReport, ProviderError> {
        self.state.store().write(|tx, now| seed::demo(tx, now))
    }

    // ----- what the client delivered -----

    /// Received items (pictures, surveys, check-ins) matching a filter, in order of arrival.
    pub fn received_items(&self, filter: &ItemFilter) -> Result<Vec<ReceivedItem>, ProviderError> {
        self.state.store().read(|conn| items::list_items(conn, filter))
    }

    /// Received items of `fileType` `picture`.
    pub fn received_pictures(&self) -> Result<Vec<ReceivedItem>, ProviderError> {
        self.received_items(&ItemFilter {
            file_type: Some("picture".to_owned()),
            ..ItemFilter::default()
        })
    }

    /// Received check-ins (`fileType` `checkin`).
    pub fn received_checkins(&self) -> Result<Vec<ReceivedItem>, ProviderError> {
        self.received_items(&ItemFilter {
            file_type: Some("checkin".to_owned()),
            ..ItemFilter::default()
        })
    }

    /// Received surveys (items of `fileType` `survey`) matching a filter, in order of arrival, with
    /// their template, answers and the photo items they reference (received before them or missing).
    pub fn surveys(&self, filter: &SurveyFilter) -> Result<Vec<ReceivedSurvey>, ProviderError> {
        self.state.store().read(|conn| items::list_surveys(conn, filter))
    }

    /// The bytes received with an item: `None` for an unknown uuid or an item without a file.
    pub fn item_file(&self, uuid: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        let sha1 = self.state.store().read(|conn| items::item_sha1(conn, uuid))?;
        match sha1.flatten() {
            Some(sha1) => self.state.files().get(&sha1),
            None => Ok(None),
        }
    }

    /// Every status update received, in order of arrival.
    pub fn status_updates(&self) -> Result<Vec<StatusUpdate>, ProviderError> {
        self.state.store().read(items::list_status)
    }

    /// Every push key hit, in order of arrival.
    pub fn push_events(&self) -> Result<Vec<PushEvent>, ProviderError> {
        self.state.store().read(items::list_push)
    }

    // ----- faults -----

    /// Adds a fault rule (after the existing ones; see [`crate::faults`]).
    pub fn set_fault(&self, fault: Fault) -> Result<(), ProviderError> {
        self.state.faults().add(fault)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults().clear(None);
    }

    /// Removes the fault rules aimed at one endpoint.
    pub fn clear_faults_for(&self, endpoint: Endpoint) {
        self.state.faults().clear(Some(endpoint));
    }

    /// The active fault rules with their remaining counts.
    pub fn faults(&self) -> Vec<Fault> {
        self.state.faults().list()
    }

    /// How many `trickle` responses are still being sent. It falls back to zero once each trickle's
    /// client has disconnected (or the server stopped), which is how a test checks that a trickle
    /// does not outlive its client.
    pub fn active_trickles(&self) -> usize {
        self.state.faults().trickling()
    }

    // ----- request bodies -----

    /// Request-body accounting summed over every wire endpoint: bytes read, requests whose body is
    /// being read, requests abandoned by their client mid-body. Every request is counted, under a
    /// `slowBody` fault or not. To see a cancelled upload from the provider's side: upload under a
    /// `slowBody` fault, wait for `body_bytes_received > 0` and `in_flight == 1`, cancel the client,
    /// then `in_flight` falls to 0, `abandoned` goes up by one and `body_bytes_received` stops growing.
    pub fn upload_traffic(&self) -> UploadTraffic {
        self.state.traffic().total()
    }

    /// Request-body accounting of one wire endpoint (see [`Admin::upload_traffic`]).
    pub fn upload_traffic_for(&self, endpoint: Endpoint) -> UploadTraffic {
        self.state.traffic().of(endpoint)
    }

    /// Zeroes the byte, request and abandonment counts of every endpoint (`in_flight` counts live
    /// requests and is kept).
    pub fn reset_upload_traffic(&self) {
        self.state.traffic().reset();
    }

    // ----- health -----

    /// Liveness and counters.
    pub fn health(&self) -> Result<Health, ProviderError> {
        let clock = self.state.store().clock();
        self.state.store().read(|conn| {
            let (work_orders, deleted_work_orders) = orders::counts(conn)?;
            let (items, status_updates, push_events) = items::counts(conn)?;
            Ok(Health {
                ok: true,
                server_time: clock.now(),
                clock_pinned: clock.is_pinned(),
                users: users::count(conn)?,
                work_orders,
                deleted_work_orders,
                items,
                status_updates,
                push_events,
                active_trickles: u64::try_from(self.active_trickles()).unwrap_or(u64::MAX),
            })
        })
    }
}
