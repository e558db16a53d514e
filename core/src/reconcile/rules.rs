//! The rules for one pulled work order, as a pure function.
//!
//! `reconcile(existing, order, settings)` decides what the cache should hold for one work order. Every rule
//! of DOMAIN.md's "Reconciling a pulled project" lives here, and `docs/RECONCILE.md` explains each one with
//! the decisions we took where the domain is silent. Field groups:
//!
//! - **integration-owned** (`clientStatus`, `clientDueDate`, `clientInstructions`): applied by every import.
//! - **provider data** (address, coordinates, start date, attribute echoes): applied by every import when
//!   sent. The vendor cannot edit them, so there is nothing local to protect.
//! - **shared** (`workOrderInfo`, `reference`, `options`, tasks, `description`, `instructions`, `dueDate`,
//!   a RUSH/REWORK `status`; for internal integrations also `assignedTo`): set when the project is created
//!   and, with Auto Admin on, overwritten by every later import; with Auto Admin off local values survive,
//!   and only `description`, `instructions`, `dueDate` and `status` are filled where the project has none.
//!   A non-empty service list replaces the tasks (same-named tasks keep what the service omits).
//!   External integrations take `assignedTo` only from Default Assign To.

use crate::model::{DefaultAssignTo, Mode, Project, Rejection, Task, WorkType};
use crate::wire::{Service, WorkOrder};

/// Longest work-order number accepted.
const MAX_NUMBER_LEN: usize = 64;

/// The client status given to a project the provider unassigned from the vendor.
pub const CANCELLED: &str = "Cancelled";
/// The client status given to a project the provider deleted.
pub const DELETED: &str = "Deleted";

/// The integration settings that shape an import.
#[derive(Debug, Clone, Copy)]
pub struct ReconcileSettings<'a> {
    /// The integration code.
    pub integration: &'a str,
    /// Internal or external.
    pub mode: Mode,
    /// Auto Admin.
    pub auto_admin: bool,
    /// The Default Work Type, resolved.
    pub default_work_type: Option<&'a WorkType>,
    /// Default Assign To.
    pub default_assign_to: &'a DefaultAssignTo,
    /// The day of the import, for a work type's relative due date.
    pub today: time::Date,
}

/// What one work order does to the cache.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new project.
    Created(Project),
    /// An existing project changed.
    Updated(Project),
    /// An existing project became `Cancelled` (only that field changed).
    Cancelled(Project),
    /// An existing project became `Deleted` (only that field changed).
    Deleted(Project),
    /// Nothing changes.
    Unchanged,
    /// The order cannot be applied.
    Rejected(Rejection),
}

/// Which rules wrote the cached project last, as far as its vendor fields are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CachedBy {
    /// The current rules (or no project yet): Auto Admin decides about every shared field.
    #[default]
    CurrentRules,
    /// Rules from before external integrations took `description`, `instructions`, `dueDate` and `status`
    /// from the wire. A non-empty value there may be a vendor's edit (nothing recorded which), so this one
    /// import only fills those four where they are missing, whatever Auto Admin says.
    EarlierRules,
}

/// Decides what the cache holds for `order`, given the project it already has (if any).
pub fn reconcile(existing: Option<&Project>, order: &WorkOrder, settings: &ReconcileSettings) -> Change {
    reconcile_cached(existing, CachedBy::CurrentRules, order, settings)
}

/// [`reconcile`] for a project that may have been written by earlier rules (see [`CachedBy`]).
pub fn reconcile_cached(
    existing: Option<&Project>,
    cached_by: CachedBy,
    order: &WorkOrder,
    settings: &ReconcileSettings,
) -> Change {
    reconcile_owned(existing, cached_by, order.clone(), settings)
}

/// [`reconcile_cached`] that consumes the order: its values move into the project instead of being copied
/// (the import's path; same rules).
pub fn reconcile_owned(
    existing: Option<&Project>,
    cached_by: CachedBy,
    mut order: WorkOrder,
    settings: &ReconcileSettings,
) -> Change {
    let number = order.work_order_number.take().unwrap_or_default();
    reconcile_numbered(existing, cached_by, &number, order, settings)
}

/// [`reconcile_owned`] for an order whose number was taken out of it (`number`, empty when it had none):
/// the importer keeps that `String` as the key of its record of the order, so it is not copied for that.
pub(crate) fn reconcile_numbered(
    existing: Option<&Project>,
    cached_by: CachedBy,
    number: &str,
    mut order: WorkOrder,
    settings: &ReconcileSettings,
) -> Change {
    let order = &mut order;
    let reject = |reason: String| {
        Change::Rejected(Rejection {
            work_order_number: number.to_owned(),
            reason,
            kept: existing.is_some(),
        })
    };
    if number.is_empty() {
        return reject("workOrderNumber is missing".into());
    }
    if number.len() > MAX_NUMBER_LEN || number.chars().any(char::is_control) {
        return reject(format!(
            "workOrderNumber must be 1 to {MAX_NUMBER_LEN} printable characters"
        ));
    }
    if !order.problems.is_empty() {
        return reject(order.problems.join("; "));
    }
    if order
        .services
        .iter()
        .flatten()
        .any(|service| service.name.is_none())
    {
        return reject("a service has no serviceName".into());
    }

    if let Some(terminal) = terminal_client_status(order.client_status.as_deref()) {
        // Unassigned or deleted at the provider: the vendor keeps the project; only clientStatus changes.
        return match existing {
            None => Change::Unchanged,
            Some(project) if project.client_status.as_deref() == Some(terminal) => Change::Unchanged,
            Some(project) => {
                let mut project = project.clone();
                project.client_status = Some(terminal.to_owned());
                if terminal == CANCELLED {
                    Change::Cancelled(project)
                } else {
                    Change::Deleted(project)
                }
            }
        };
    }

    match existing {
        None => create(number, order, settings).map_or_else(reject, Change::Created),
        Some(project) => {
            let updated = update(project, cached_by, order, settings);
            if &updated == project {
                Change::Unchanged
            } else {
                Change::Updated(updated)
            }
        }
    }
}

/// `Cancelled` (also spelled `Canceled`) or `Deleted`, in any case, normalised.
pub fn terminal_client_status(client_status: Option<&str>) -> Option<&'static str> {
    let status = client_status?.trim();
    if status.eq_ignore_ascii_case("cancelled") || status.eq_ignore_ascii_case("canceled") {
        Some(CANCELLED)
    } else if status.eq_ignore_ascii_case("deleted") {
        Some(DELETED)
    } else {
        None
    }
}

fn create(number: &str, order: &mut WorkOrder, settings: &ReconcileSettings) -> Result<Project, String> {
    let mut project = Project::new(settings.integration, number);
    apply_integration_owned(&mut project, order);
    apply_provider_data(&mut project, order);
    apply_shared(&mut project, order, settings.mode, VendorFields::Overwrite);
    if project.assigned_to.is_none() {
        // Default Assign To applies to projects created after it was set, never to existing ones.
        project.assigned_to = settings.default_assign_to.assignee().map(str::to_owned);
    }
    if let Some(work_type) = settings.default_work_type {
        apply_work_type(&mut project, work_type, settings.today, true, true);
    }
    let missing: Vec<&str> = [
        ("address1", project.address1.is_none()),
        ("city", project.city.is_none()),
        ("state", project.state.is_none()),
        ("zip", project.zip.is_none()),
        ("at least one service", project.tasks.is_empty()),
    ]
    .into_iter()
    .filter_map(|(field, is_missing)| is_missing.then_some(field))
    .collect();
    if missing.is_empty() {
        Ok(project)
    } else {
        Err(format!("missing on create: {}", missing.join(", ")))
    }
}

fn update(
    existing: &Project,
    cached_by: CachedBy,
    order: &mut WorkOrder,
    settings: &ReconcileSettings,
) -> Project {
    let mut project = existing.clone();
    // Listed again by the provider: no longer a removal candidate.
    project.removal_pending = false;
    if terminal_client_status(project.client_status.as_deref()).is_some() {
        // Reassigned after an unassign or a delete: the stale terminal status must not stick.
        project.client_status = None;
    }
    apply_integration_owned(&mut project, order);
    apply_provider_data(&mut project, order);
    let vendor_fields = if settings.auto_admin && cached_by == CachedBy::CurrentRules {
        VendorFields::Overwrite
    } else {
        VendorFields::Fill
    };
    if settings.auto_admin {
        apply_shared(&mut project, order, settings.mode, vendor_fields);
    } else {
        fill_vendor_fields(&mut project, order);
    }
    if let Some(work_type) = settings.default_work_type {
        apply_work_type(
            &mut project,
            work_type,
            settings.today,
            settings.auto_admin,
            false,
        );
    }
    project
}

/// [`set`] from the order, whose value moves into the project.
fn take(target: &mut Option<String>, value: &mut Option<String>) {
    if value.is_some() {
        *target = value.take();
    }
}

fn set(target: &mut Option<String>, value: &Option<String>) {
    if value.is_some() {
        target.clone_from(value);
    }
}

fn fill(target: &mut Option<String>, value: &Option<String>) {
    if target.is_none() {
        target.clone_from(value);
    }
}

/// True when a vendor field holds no value. The store keeps no record of which fields the vendor edited,
/// so an empty value (`None`, or blank text that no edit would mean) is "missing", not a choice to keep.
fn is_missing(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|text| text.trim().is_empty())
}

/// Like [`fill`], but a blank value counts as missing too (see [`is_missing`]).
fn fill_missing(target: &mut Option<String>, value: &mut Option<String>) {
    if is_missing(target) && value.is_some() {
        *target = value.take();
    }
}

fn apply_integration_owned(project: &mut Project, order: &mut WorkOrder) {
    take(&mut project.client_status, &mut order.client_status);
    take(&mut project.client_due_date, &mut order.client_due_date);
    take(&mut project.client_instructions, &mut order.client_instructions);
}

fn apply_provider_data(project: &mut Project, order: &mut WorkOrder) {
    take(&mut project.address1, &mut order.address1);
    take(&mut project.address2, &mut order.address2);
    take(&mut project.city, &mut order.city);
    take(&mut project.state, &mut order.state);
    take(&mut project.zip, &mut order.zip);
    take(&mut project.country, &mut order.country);
    take(&mut project.start_date, &mut order.start_date);
    if order.gps_latitude.is_some() {
        project.latitude = order.gps_latitude;
    }
    if order.gps_longitude.is_some() {
        project.longitude = order.gps_longitude;
    }
    for (key, value) in std::mem::take(&mut order.attributes) {
        project.attributes.insert(key, value);
    }
}

/// How an import treats `description`, `instructions`, `dueDate` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VendorFields {
    /// Set from the wire whenever sent (creation, Auto Admin on).
    Overwrite,
    /// Only where the project has no value (Auto Admin off, or a project cached by earlier rules).
    Fill,
}

fn apply_shared(project: &mut Project, order: &mut WorkOrder, mode: Mode, vendor_fields: VendorFields) {
    take(&mut project.work_order_info, &mut order.work_order_info);
    take(&mut project.reference, &mut order.reference);
    if let Some(options) = order.options.take() {
        project.options = options;
    }
    if let Some(services) = order.services.take().filter(|services| !services.is_empty()) {
        project.tasks = replace_tasks(&project.tasks, services);
    }
    // Every integration, Pruvan Share (external) included, carries the provider's own instructions,
    // description, due date and RUSH/REWORK flag: the field user needs them on site.
    match vendor_fields {
        VendorFields::Overwrite => {
            take(&mut project.description, &mut order.description);
            take(&mut project.instructions, &mut order.instructions);
            take(&mut project.due_date, &mut order.due_date);
            if let Some(status) = provider_status(order.status.as_deref()) {
                project.status = Some(status.to_owned());
            }
        }
        VendorFields::Fill => fill_vendor_fields(project, order),
    }
    // An external provider's `assignedTo` names a user of *its* account, not the vendor's: external
    // integrations assign only through Default Assign To.
    if mode == Mode::Internal {
        take(&mut project.assigned_to, &mut order.assigned_to);
    }
}

/// Auto Admin off: the vendor's description, instructions, due date and status are never overwritten, but
/// where the project has none the provider's value fills it. This is also how projects cached before
/// external integrations took these fields get them, without touching a vendor's edit.
fn fill_vendor_fields(project: &mut Project, order: &mut WorkOrder) {
    fill_missing(&mut project.description, &mut order.description);
    fill_missing(&mut project.instructions, &mut order.instructions);
    fill_missing(&mut project.due_date, &mut order.due_date);
    if is_missing(&project.status)
        && let Some(status) = provider_status(order.status.as_deref())
    {
        project.status = Some(status.to_owned());
    }
}

/// The only Pruvan statuses a provider may set; any other status is the vendor's.
fn provider_status(status: Option<&str>) -> Option<&'static str> {
    match status?.trim().to_ascii_uppercase().as_str() {
        "RUSH" => Some("RUSH"),
        "REWORK" => Some("REWORK"),
        _ => None,
    }
}

/// The provider's service list becomes the task list, in its order. A service that omits a field keeps
/// the value of the task of the same name (a partial update never blanks); a name listed twice is merged.
fn replace_tasks(current: &[Task], services: Vec<Service>) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::with_capacity(services.len());
    for mut service in services {
        let Some(name) = service.name.take() else {
            continue;
        };
        let index = match tasks.iter().position(|task| task.name == name) {
            Some(index) => index,
            None => {
                let previous = current.iter().find(|task| task.name == name).cloned();
                tasks.push(previous.unwrap_or(Task {
                    name,
                    ..Task::default()
                }));
                tasks.len() - 1
            }
        };
        let task = &mut tasks[index];
        take(&mut task.instructions, &mut service.instructions);
        take(&mut task.survey_id, &mut service.survey_id);
        take(&mut task.survey_inline, &mut service.survey_inline);
        if let Some(options) = service.options.take() {
            task.options = options;
        }
    }
    tasks
}

/// Default Work Type: overwrites reference, description and option keys; fills empty fields; adds missing
/// tasks. `shared` says whether shared fields may change (creation, or Auto Admin on).
fn apply_work_type(
    project: &mut Project,
    work_type: &WorkType,
    today: time::Date,
    shared: bool,
    created: bool,
) {
    fill(&mut project.client_instructions, &work_type.client_instructions);
    fill(&mut project.address1, &work_type.address1);
    fill(&mut project.address2, &work_type.address2);
    fill(&mut project.city, &work_type.city);
    fill(&mut project.state, &work_type.state);
    fill(&mut project.zip, &work_type.zip);
    fill(&mut project.country, &work_type.country);
    if created {
        fill(&mut project.assigned_to, &work_type.assigned_to);
    }
    if !shared {
        return;
    }
    set(&mut project.reference, &work_type.reference);
    set(&mut project.description, &work_type.description);
    for (key, value) in work_type.options.iter().flatten() {
        project.options.insert(key.clone(), value.clone());
    }
    fill(&mut project.work_order_info, &work_type.work_order_info);
    fill(&mut project.instructions, &work_type.instructions);
    fill(&mut project.status, &work_type.status);
    if project.due_date.is_none()
        && let Some(days) = work_type.due_in_days
    {
        let due = today.saturating_add(time::Duration::days(i64::from(days)));
        project.due_date = Some(format_date(due));
    }
    for task in &work_type.tasks {
        if !project.tasks.iter().any(|existing| existing.name == task.name) {
            project.tasks.push(Task {
                name: task.name.clone(),
                instructions: task.instructions.clone(),
                options: task.options.clone().unwrap_or_default(),
                ..Task::default()
            });
        }
    }
}

fn format_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
