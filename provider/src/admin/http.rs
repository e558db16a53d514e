//! The admin API over HTTP, under `/admin`. JSON in and out (camelCase); errors are
//! `{"error": "..."}` with 400 (bad input), 404 (unknown user, order or item), 409 (conflict) or 500.
//!
//! | route | does |
//! |---|---|
//! | `GET /admin/health` | liveness and counters |
//! | `GET /admin/users`, `POST /admin/users`, `GET /admin/users/{username}` | logins |
//! | `GET /admin/work-orders`, `POST /admin/work-orders` | list (filters), create or replace (object or array) |
//! | `GET`, `PATCH`, `DELETE /admin/work-orders/{number}` | read, merge-patch, delete |
//! | `PUT /admin/work-orders/{number}/options` | replace options |
//! | `PATCH /admin/work-orders/{number}/services/{serviceName}` | merge-patch one service |
//! | `PUT /admin/work-orders/{number}/services/{serviceName}/survey` | set or remove its `survey`/`surveyDynamic` |
//! | `POST /admin/work-orders/{number}/assign`, `.../unassign` | assignment |
//! | `POST /admin/bulk`, `POST /admin/seed` | bulk data, demo data |
//! | `GET /admin/surveys` | received surveys (`?workOrderNumber=`, `?uuid=`) |
//! | `GET /admin/items`, `GET /admin/items/{uuid}/file`, `GET /admin/status-updates`, `GET /admin/push-events` | deliveries |
//! | `GET`, `POST`, `DELETE /admin/faults` | fault rules |
//! | `GET`, `DELETE /admin/traffic` | request-body accounting (`?endpoint=` for one endpoint); DELETE zeroes it |
//! | `GET`, `POST`, `DELETE /admin/clock` | provider clock |

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Admin;
use crate::error::ProviderError;
use crate::faults::{Endpoint, Fault};
use crate::model::{BulkSpec, ItemFilter, SurveyFilter, WorkOrderFilter};
use crate::state::ProviderState;
use crate::wire::reply;

/// The admin routes (mounted under `/admin`).
pub(crate) fn routes() -> Router<ProviderState> {
    Router::new()
        .route("/health", get(health))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", get(get_user))
        .route("/work-orders", get(list_orders).post(create_orders))
        .route(
            "/work-orders/{number}",
            get(get_order).patch(patch_order).delete(delete_order),
        )
        .route("/work-orders/{number}/options", put(set_options))
        .route("/work-orders/{number}/services/{service}", patch(patch_service))
        .route(
            "/work-orders/{number}/services/{service}/survey",
            put(set_service_survey),
        )
        .route("/work-orders/{number}/assign", post(assign))
        .route("/work-orders/{number}/unassign", post(unassign))
        .route("/bulk", post(bulk))
        .route("/seed", post(seed))
        .route("/surveys", get(list_surveys))
        .route("/items", get(list_items))
        .route("/items/{uuid}/file", get(item_file))
        .route("/status-updates", get(status_updates))
        .route("/push-events", get(push_events))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/traffic", get(traffic).delete(reset_traffic))
        .route("/clock", get(clock).post(set_clock).delete(real_clock))
        .fallback(|| async { AdminError::status(StatusCode::NOT_FOUND, "no such admin route") })
}

/// An admin failure, answered as `{"error": "..."}`.
struct AdminError(StatusCode, String);

impl AdminError {
    fn status(status: StatusCode, message: impl Into<String>) -> Response {
        AdminError(status, message.into()).into_response()
    }
}

impl From<ProviderError> for AdminError {
    fn from(err: ProviderError) -> Self {
        let status = match &err {
            ProviderError::InvalidInput(_) | ProviderError::Json(_) | ProviderError::NonLoopback(_) => {
                StatusCode::BAD_REQUEST
            }
            ProviderError::NotFound { .. } => StatusCode::NOT_FOUND,
            ProviderError::Conflict(_) => StatusCode::CONFLICT,
            ProviderError::Io(_) | ProviderError::Database(_) | ProviderError::Thread(_) => {
                tracing::error!(error = %err, "admin request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        AdminError(status, err.to_string())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        reply::json(self.0, &json!({"error": self.1}))
    }
}

type AdminResult = Result<Response, AdminError>;

fn ok<T: Serialize>(status: StatusCode, value: &T) -> AdminResult {
    // Serialized straight to text, not through a `Value`, whose map would collapse the repeated
    // header names an `exactBody` fault may hold.
    let text = serde_json::to_string(value).map_err(ProviderError::from)?;
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Parses a JSON request body.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, AdminError> {
    if bytes.is_empty() {
        return Err(AdminError(
            StatusCode::BAD_REQUEST,
            "a JSON body is required".to_owned(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|err| AdminError(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")))
}

/// Parses query parameters.
fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, AdminError> {
    Query::<T>::try_from_uri(
        &format!("/?{}", raw.unwrap_or_default())
            .parse()
            .map_err(|_| AdminError(StatusCode::BAD_REQUEST, "invalid query string".to_owned()))?,
    )
    .map(|Query(value)| value)
    .map_err(|err| AdminError(StatusCode::BAD_REQUEST, err.body_text()))
}

/// Runs an admin operation on the blocking pool.
async fn run<T, F>(state: &ProviderState, f: F) -> Result<T, AdminError>
where
    T: Send + 'static,
    F: FnOnce(Admin) -> Result<T, ProviderError> + Send + 'static,
{
    Ok(state.blocking(move |state| f(state.admin())).await?)
}

async fn health(State(state): State<ProviderState>) -> AdminResult {
    ok(StatusCode::OK, &run(&state, |admin| admin.health()).await?)
}

#[derive(serde::Deserialize)]
struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    token: String,
}

async fn create_user(State(state): State<ProviderState>, bytes: Bytes) -> AdminResult {
    let user: NewUser = body(&bytes)?;
    let info = run(&state, move |admin| {
        admin.create_user(&user.username, &user.password, &user.token)
    })
    .await?;
    ok(StatusCode::CREATED, &info)
}

async fn list_users(State(state): State<ProviderState>) -> AdminResult {
    ok(StatusCode::OK, &run(&state, |admin| admin.users()).await?)
}

async fn get_user(State(state): State<ProviderState>, Path(username): Path<String>) -> AdminResult {
    let user = run(&state, move |admin| {
        admin
            .user(&username)?
            .ok_or_else(|| ProviderError::not_found("user", username))
    })
    .await?;
    ok(StatusCode::OK, &user)
}

async fn list_orders(State(state): State<ProviderState>, uri: axum::http::Uri) -> AdminResult {
    let filter: WorkOrderFilter = query(uri.query())?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.list_work_orders(&filter)).await?,
    )
}

/// Creates or replaces one order (object body) or several (array body, applied in order).
async fn create_orders(State(state): State<ProviderState>, bytes: Bytes) -> AdminResult {
    match body::<Value>(&bytes)? {
        Value::Array(docs) => {
            let infos = run(&state, move |admin| {
                docs.into_iter()
                    .map(|doc| admin.create_work_order(doc))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
            ok(StatusCode::OK, &infos)
        }
        doc => ok(
            StatusCode::OK,
            &run(&state, move |admin| admin.create_work_order(doc)).await?,
        ),
    }
}

async fn get_order(State(state): State<ProviderState>, Path(number): Path<String>) -> AdminResult {
    let record = run(&state, move |admin| {
        admin
            .work_order(&number)?
            .ok_or_else(|| ProviderError::not_found("work order", number))
    })
    .await?;
    ok(StatusCode::OK, &record)
}

async fn patch_order(
    State(state): State<ProviderState>,
    Path(number): Path<String>,
    bytes: Bytes,
) -> AdminResult {
    let patch: Value = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.patch_work_order(&number, patch)).await?,
    )
}

async fn delete_order(State(state): State<ProviderState>, Path(number): Path<String>) -> AdminResult {
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.delete_work_order(&number)).await?,
    )
}

async fn set_options(
    State(state): State<ProviderState>,
    Path(number): Path<String>,
    bytes: Bytes,
) -> AdminResult {
    let options: Value = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.set_options(&number, options)).await?,
    )
}

async fn patch_service(
    State(state): State<ProviderState>,
    Path((number, service)): Path<(String, String)>,
    bytes: Bytes,
) -> AdminResult {
    let patch: Value = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.patch_service(&number, &service, patch)).await?,
    )
}

/// `{"survey": "templateId" | null, "surveyDynamic": {...} | null}`: a field absent or `null` is removed.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServiceSurvey {
    #[serde(default)]
    survey: Option<String>,
    #[serde(default)]
    survey_dynamic: Option<Value>,
}

async fn set_service_survey(
    State(state): State<ProviderState>,
    Path((number, service)): Path<(String, String)>,
    bytes: Bytes,
) -> AdminResult {
    let request: ServiceSurvey = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| {
            admin.set_service_survey(
                &number,
                &service,
                request.survey.as_deref(),
                request.survey_dynamic.filter(|template| !template.is_null()),
            )
        })
        .await?,
    )
}

#[derive(serde::Deserialize)]
struct AssignRequest {
    username: String,
}

async fn assign(State(state): State<ProviderState>, Path(number): Path<String>, bytes: Bytes) -> AdminResult {
    let request: AssignRequest = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.assign(&number, &request.username)).await?,
    )
}

async fn unassign(State(state): State<ProviderState>, Path(number): Path<String>) -> AdminResult {
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.unassign(&number)).await?,
    )
}

async fn bulk(State(state): State<ProviderState>, bytes: Bytes) -> AdminResult {
    let spec: BulkSpec = body(&bytes)?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.bulk_generate_with(&spec)).await?,
    )
}

async fn seed(State(state): State<ProviderState>) -> AdminResult {
    ok(StatusCode::OK, &run(&state, |admin| admin.seed_demo()).await?)
}

async fn list_items(State(state): State<ProviderState>, uri: axum::http::Uri) -> AdminResult {
    let filter: ItemFilter = query(uri.query())?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.received_items(&filter)).await?,
    )
}

async fn list_surveys(State(state): State<ProviderState>, uri: axum::http::Uri) -> AdminResult {
    let filter: SurveyFilter = query(uri.query())?;
    ok(
        StatusCode::OK,
        &run(&state, move |admin| admin.surveys(&filter)).await?,
    )
}

async fn item_file(State(state): State<ProviderState>, Path(uuid): Path<String>) -> AdminResult {
    let bytes = run(&state, move |admin| {
        admin
            .item_file(&uuid)?
            .ok_or_else(|| ProviderError::not_found("item file", uuid))
    })
    .await?;
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

async fn status_updates(State(state): State<ProviderState>) -> AdminResult {
    ok(
        StatusCode::OK,
        &run(&state, |admin| admin.status_updates()).await?,
    )
}

async fn push_events(State(state): State<ProviderState>) -> AdminResult {
    ok(StatusCode::OK, &run(&state, |admin| admin.push_events()).await?)
}

async fn list_faults(State(state): State<ProviderState>) -> AdminResult {
    ok(StatusCode::OK, &state.admin().faults())
}

/// Adds one rule (object body) or several (array body, in order).
async fn add_fault(State(state): State<ProviderState>, bytes: Bytes) -> AdminResult {
    // Parsed straight from the text, not through a `Value`, so that a repeated header name in an
    // `exactBody` fault is kept.
    let invalid =
        |err: serde_json::Error| AdminError(StatusCode::BAD_REQUEST, format!("invalid fault: {err}"));
    let faults: Vec<Fault> = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(AdminError(
                StatusCode::BAD_REQUEST,
                "a JSON body is required".to_owned(),
            ));
        }
        Some(b'[') => serde_json::from_slice(&bytes).map_err(invalid)?,
        Some(_) => vec![serde_json::from_slice(&bytes).map_err(invalid)?],
    };
    let admin = state.admin();
    for fault in faults {
        admin.set_fault(fault)?;
    }
    ok(StatusCode::OK, &admin.faults())
}

#[derive(serde::Deserialize)]
struct ClearFaults {
    endpoint: Option<String>,
}

async fn clear_faults(State(state): State<ProviderState>, uri: axum::http::Uri) -> AdminResult {
    let request: ClearFaults = query(uri.query())?;
    let admin = state.admin();
    match request.endpoint.as_deref() {
        None | Some("") => admin.clear_faults(),
        Some(name) => {
            let endpoint = Endpoint::parse(name)
                .ok_or_else(|| AdminError(StatusCode::BAD_REQUEST, format!("unknown endpoint {name}")))?;
            admin.clear_faults_for(endpoint);
        }
    }
    ok(StatusCode::OK, &admin.faults())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficQuery {
    endpoint: Option<String>,
}

/// `{"bodyBytesReceived", "inFlight", "abandoned", "requests"}` for one endpoint (`?endpoint=`), or
/// overall with the same fields per endpoint under `endpoints`.
fn traffic_view(admin: &Admin, endpoint: Option<&str>) -> AdminResult {
    match endpoint {
        None | Some("") => {
            let mut view = serde_json::to_value(admin.upload_traffic()).map_err(ProviderError::from)?;
            let endpoints: serde_json::Map<String, Value> = Endpoint::ALL
                .into_iter()
                .map(|endpoint| {
                    serde_json::to_value(admin.upload_traffic_for(endpoint))
                        .map(|counts| (endpoint.name().to_owned(), counts))
                })
                .collect::<Result<_, _>>()
                .map_err(ProviderError::from)?;
            view["endpoints"] = Value::Object(endpoints);
            ok(StatusCode::OK, &view)
        }
        Some(name) => {
            let endpoint = Endpoint::parse(name)
                .ok_or_else(|| AdminError(StatusCode::BAD_REQUEST, format!("unknown endpoint {name}")))?;
            ok(StatusCode::OK, &admin.upload_traffic_for(endpoint))
        }
    }
}

async fn traffic(State(state): State<ProviderState>, uri: axum::http::Uri) -> AdminResult {
    let request: TrafficQuery = query(uri.query())?;
    traffic_view(&state.admin(), request.endpoint.as_deref())
}

/// Zeroes the counts of every endpoint; answers the overall view.
async fn reset_traffic(State(state): State<ProviderState>) -> AdminResult {
    let admin = state.admin();
    admin.reset_upload_traffic();
    traffic_view(&admin, None)
}

fn clock_view(admin: &Admin) -> AdminResult {
    ok(
        StatusCode::OK,
        &json!({"serverTime": admin.now(), "pinned": admin.is_time_pinned()}),
    )
}

async fn clock(State(state): State<ProviderState>) -> AdminResult {
    clock_view(&state.admin())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockRequest {
    pin_at: Option<i64>,
    advance_secs: Option<i64>,
}

/// `{"pinAt": N}` pins the clock; `{"advanceSecs": N}` moves it (both may be given: pin, then advance).
async fn set_clock(State(state): State<ProviderState>, bytes: Bytes) -> AdminResult {
    let request: ClockRequest = body(&bytes)?;
    let admin = state.admin();
    if let Some(at) = request.pin_at {
        admin.set_time(Some(at));
    }
    if let Some(secs) = request.advance_secs {
        admin.advance_time(secs);
    }
    clock_view(&admin)
}

async fn real_clock(State(state): State<ProviderState>) -> AdminResult {
    let admin = state.admin();
    admin.set_time(None);
    clock_view(&admin)
}
