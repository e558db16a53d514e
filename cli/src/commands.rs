//! What each command does: parse the arguments into core types, call the core, print the result.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result};
use fieldsync_core::checkin::{LocationFix, SystemClock, capture_best_fix};

use crate::output::terminal_safe;
use crate::track::TrackSource;
use fieldsync_core::app::{App, AppConfig};
use fieldsync_core::evidence::software::{evidence_dir, init_dev};
use fieldsync_core::evidence::verify::MAX_VERIFY_BYTES;
use fieldsync_core::evidence::{SoftwareSigner, verify};
use fieldsync_core::model::{
    DefaultAssignTo, ImportKind, IntegrationEdit, Mode, NewIntegration, ProjectEdit, ProjectId, ProjectQuery,
    ProjectSort, WorkType,
};
use fieldsync_core::secrets::{FileSecretStore, password_sha1};
use fieldsync_core::store::{AddPhoto, NewLocalProject};
use fieldsync_core::store::{BADGE_DEFAULT, CheckInRequest, ImportOptions, MAX_RESPONSE_BYTES};
use fieldsync_core::survey::AnswerValue;
use fieldsync_core::sync::{AutoImportEvent, Schedule, SyncEngine, spawn_auto_import};
use fieldsync_core::{SecretKind, SecretStore, Store};
use std::sync::Arc;
use std::time::Duration;

use crate::args::EvidenceCommand;
use crate::args::{
    Cli, Command, Credentials, IntegrationCommand, IntegrationSettings, NetworkArg, OnOff, OutboxCommand,
    ProjectCommand, ProjectsArgs, ProviderCommand, WorkTypeCommand,
};
use crate::args::{PhotoCommand, StorageCommand, SurveyCommand, SurveyTemplateCommand};
use crate::exit::{Failure, Kind, Report, fail};
use crate::output::{self, Printer};
use fieldsync_core::outbox::NetworkState;
use fieldsync_core::photo::retention::RetentionPolicy;

/// The largest work type file read: a definition is a few KiB; anything near this is not one.
const MAX_WORK_TYPE_BYTES: u64 = 4 << 20;

/// The largest survey template file read (the core's own limit, which it names when refusing).
const MAX_TEMPLATE_BYTES: u64 = fieldsync_core::survey::MAX_TEMPLATE_BYTES as u64;

/// Runs one command line.
pub fn run(cli: Cli) -> Result<()> {
    let printer = Printer { json: cli.json };
    // These do not use the cache given by --db.
    match &cli.command {
        Command::Demo { out } => return crate::demo::run(out),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "fieldsync", &mut std::io::stdout());
            return Ok(());
        }
        Command::Man { out } => return output::man_pages(out.as_deref()),
        Command::Evidence(EvidenceCommand::Verify { file, trust }) => {
            return evidence_verify(&printer, file, trust.as_deref());
        }
        Command::Provider(ProviderCommand::Serve {
            addr,
            provider_db,
            seed,
        }) => {
            let config = fieldsync_provider::ProviderConfig {
                addr: *addr,
                db_path: provider_db.clone(),
                seed_demo: *seed,
                ..Default::default()
            };
            return Ok(fieldsync_provider::serve_blocking(config)?);
        }
        _ => {}
    }
    let db = crate::paths::database(cli.db.as_deref())?;
    let secrets = Arc::new(FileSecretStore::beside(&db));
    let mut config = AppConfig::new(&db, secrets.clone());
    // `sync` and `watch` stream their events as NDJSON with --json; other commands print one document.
    let stream = cli.json && matches!(cli.command, Command::Sync { .. } | Command::Watch { .. });
    config.observer = Some(output::relay_observer(
        std::io::stderr().is_terminal(),
        cli.json,
        stream,
    ));
    if let Command::Sync {
        relay_concurrency, ..
    } = &cli.command
    {
        config.relay_concurrency = usize::try_from(*relay_concurrency).unwrap_or(1);
    }
    let app = App::open(config).with_context(|| format!("cannot open the cache {}", db.display()))?;
    load_device_signer(&app, &db)?;
    let store = app.store();
    let engine = app.engine();
    match cli.command {
        Command::Integration(command) => integration(&app, secrets.as_ref(), &printer, command),
        Command::WorkType(command) => work_type(store, &printer, command),
        Command::Import { code, file, full } => import(store, &printer, &code, &file, full),
        Command::Projects(args) => projects(store, &printer, args),
        Command::Project(command) => project(&app, &printer, command),
        Command::SurveyTemplate(command) => survey_template(store, &printer, command),
        Command::Survey(command) => survey(store, &printer, command),
        Command::Refresh { code, full, push_key } => refresh(engine, &printer, code, full, push_key),
        Command::Sync { max_age, network, .. } => {
            // Photos a failure or another process left unprocessed go too.
            app.process_photos(|_| {})?;
            engine.set_network(network.into());
            if network == NetworkArg::None {
                return offline_sync(engine, &printer);
            }
            sync(engine, &printer, max_age)
        }
        Command::UploadPolicy { wifi_only, pause } => upload_policy(store, &printer, wifi_only, pause),
        Command::Checkin {
            id,
            lat,
            lon,
            accuracy,
            fix_time,
            altitude,
            mock,
            badge,
            user,
            track,
        } => {
            let source = match track {
                Some(path) => TrackSource::load(&path)?,
                None => TrackSource::single(LocationFix {
                    latitude: lat.unwrap_or_default(),
                    longitude: lon.unwrap_or_default(),
                    accuracy_m: accuracy.unwrap_or_default(),
                    altitude_m: altitude,
                    fix_time_ms: fix_time.unwrap_or_else(now_ms),
                    is_mock: mock,
                }),
            };
            // A fix given on the command line is used as it is (so that a bad one gets its error); a track
            // is captured like a phone's GPS.
            let fix = match source.given_fix() {
                Some(fix) => fix,
                None => capture_best_fix(&source, &SystemClock::default(), Duration::from_secs(30), 10.0)?
                    .ok_or_else(|| fail(Kind::Data, "no_fix", "the track gave no valid fix within 30 s"))?,
            };
            checkin(store, &printer, &id, fix, badge, user)
        }
        Command::Storage { command } => storage(&app, &printer, command),
        Command::Outbox { command, network } => outbox(store, &printer, command, network.into()),
        Command::Photo(command) => photo(&app, &printer, command),
        Command::Watch { interval } => watch(engine.clone(), &printer, interval),
        Command::Evidence(EvidenceCommand::Init {
            organisation,
            replace,
        }) => {
            let dir = evidence_dir(&db);
            init_dev(&dir, &store.device_id()?, &organisation, replace)?;
            load_device_signer(&app, &db)?;
            printer.value_or_message(
                &serde_json::json!({"folder": dir, "trust_anchor": dir.join("ca.pem")}),
                &format!(
                    "development certificate authority and device certificate created in {}\n\
                     photos processed from now on are signed; verify with: fieldsync evidence verify PHOTO \
                     --trust {}",
                    dir.display(),
                    dir.join("ca.pem").display()
                ),
            )
        }
        Command::Demo { .. }
        | Command::Provider(_)
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::Evidence(EvidenceCommand::Verify { .. }) => Ok(()),
    }
}

/// The CLI's device signer: the software key of `<db>-evidence/`, when `fieldsync evidence init` made one.
fn load_device_signer(app: &App, database: &Path) -> Result<()> {
    let dir = evidence_dir(database);
    if dir.join("device.key").exists() {
        let signer = SoftwareSigner::load(&dir)?;
        app.set_device_signer(Some(Arc::new(signer)));
    }
    Ok(())
}

fn evidence_verify(printer: &Printer, file: &Path, trust: Option<&Path>) -> Result<()> {
    let bytes = fieldsync_core::files::read_regular_file(file, MAX_VERIFY_BYTES as u64, "file")
        .with_context(|| format!("cannot read {}", file.display()))?;
    let anchors = trust
        .map(|path| {
            fieldsync_core::files::read_regular_text(path, 1 << 20, "trust")
                .with_context(|| format!("cannot read the trust anchors {}", path.display()))
        })
        .transpose()?;
    // A check-in or survey item (JSON) carries its evidence as a COSE signature over its fields.
    if bytes.first() == Some(&b'{') {
        let item: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", file.display()))?;
        let outcome = fieldsync_core::evidence::detached::verify_item(&item, anchors.as_deref());
        printer.value_or_message(&outcome, &format!("{}: {outcome:?}", file.display()))?;
        if !matches!(
            outcome,
            fieldsync_core::evidence::detached::ItemOutcome::Valid { .. }
        ) {
            return Err(crate::exit::fail(
                Kind::Data,
                "not_valid",
                "the item's evidence is not valid",
            ));
        }
        return Ok(());
    }
    let verification = verify(&bytes, anchors.as_deref());
    printer.verification(file, &verification)?;
    if !matches!(
        verification.outcome,
        fieldsync_core::evidence::Outcome::Valid { .. }
    ) {
        return Err(crate::exit::fail(
            Kind::Data,
            "not_valid",
            format!("not valid: {}", verification.outcome.word()),
        ));
    }
    Ok(())
}

fn validate(engine: &SyncEngine, printer: &Printer, code: &str) -> Result<()> {
    let validation = engine.validate(code)?;
    if printer.json {
        printer.value(&serde_json::json!({ "code": code, "validated": validation.validated, "error": validation.error }))?;
    } else if validation.validated {
        println!("{}: credentials validated", terminal_safe(code));
    }
    if !validation.validated {
        return Err(Failure::new(
            Kind::Auth,
            "credentials_refused",
            format!(
                "{code}: the provider did not validate the credentials: {}",
                validation.error.unwrap_or_default()
            ),
        )
        .with("integration", code)
        .into());
    }
    Ok(())
}

fn refresh(
    engine: &SyncEngine,
    printer: &Printer,
    code: Option<String>,
    full: bool,
    push_key: Option<String>,
) -> Result<()> {
    if let Some(key) = push_key {
        return match engine.refresh_by_push_key(&key)? {
            Some((code, report)) => printer.report(&code, ImportKind::Refresh, &report),
            None => Err(fail(
                Kind::Data,
                "unknown_push_key",
                "no integration has this push key; nothing was refreshed",
            )),
        };
    }
    let code = code.ok_or_else(|| fail(Kind::Usage, "missing_code", "an integration code is required"))?;
    let kind = if full {
        ImportKind::FullImport
    } else {
        ImportKind::Refresh
    };
    printer.report(&code, kind, &engine.refresh(&code, kind)?)
}

/// Delivers every integration's queued field work, then refreshes every integration that is due: the
/// steps of `SyncEngine::sync`, run one by one here so that each outcome is printed as it happens (with
/// `--json`, one NDJSON line each, then a summary line). The exit code is the worst failure's.
fn sync(engine: &SyncEngine, printer: &Printer, max_age: u64) -> Result<()> {
    let store = engine.store();
    let integrations = store.list_integrations()?;
    let mut tally = SyncTally::default();
    for integration in &integrations {
        if store.has_pending_outbox(&integration.code)? {
            let outcome = engine.push_outbox(&integration.code, true);
            tally.delivery(printer, &integration.code, outcome)?;
        }
    }
    // Due: never refreshed, in error, or older than max_age (as `SyncEngine::sync` decides).
    let now = fieldsync_core::model::now();
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    for integration in integrations {
        let due = integration.status == fieldsync_core::model::IntegrationStatus::Error
            || integration
                .last_refreshed
                .is_none_or(|at| now.saturating_sub(at) >= max_age);
        if due {
            let outcome = engine.refresh(&integration.code, ImportKind::Refresh);
            tally.refresh(printer, &integration.code, outcome)?;
        }
    }
    tally.finish(printer)
}

/// What a sync did so far, and its worst failure.
#[derive(Default)]
struct SyncTally {
    deliveries: u64,
    refreshes: u64,
    failed: u64,
    worst: Option<Kind>,
}

impl SyncTally {
    fn failed(&mut self, kind: Kind) {
        self.failed += 1;
        self.worst = self.worst.max(Some(kind));
    }

    fn delivery(
        &mut self,
        printer: &Printer,
        code: &str,
        outcome: fieldsync_core::Result<fieldsync_core::outbox::DeliveryReport>,
    ) -> Result<()> {
        self.deliveries += 1;
        match outcome {
            Ok(report) => {
                // Credentials refused, entries refused for good, or stopped early (network, cancelled).
                let kind = [
                    report.auth_refused.then_some(Kind::Auth),
                    (report.needs_attention > 0).then_some(Kind::Provider),
                    (report.stopped.is_some() || report.halted.is_some()).then_some(Kind::Temporary),
                ]
                .into_iter()
                .flatten()
                .max();
                if let Some(kind) = kind {
                    self.failed(kind);
                }
                if printer.json {
                    return output::ndjson(&serde_json::json!({
                        "type": "delivery", "code": code, "ok": kind.is_none(),
                        "failure": kind.map(Kind::name), "delivery": report,
                    }));
                }
                let stopped = report
                    .stopped
                    .as_deref()
                    .map(|why| format!(" (stopped: {why})"))
                    .unwrap_or_default();
                let code = terminal_safe(code);
                let stopped = terminal_safe(&stopped);
                println!(
                    "Delivery for {code}: {} delivered, {} to retry, {} need attention{stopped}",
                    report.delivered, report.retrying, report.needs_attention
                );
                Ok(())
            }
            Err(err) => self.step_failed(printer, "delivery", code, err, |code, err| {
                format!("delivery for {code}: {err}")
            }),
        }
    }

    fn refresh(
        &mut self,
        printer: &Printer,
        code: &str,
        outcome: fieldsync_core::Result<fieldsync_core::model::ImportReport>,
    ) -> Result<()> {
        self.refreshes += 1;
        match outcome {
            Ok(report) if printer.json => output::ndjson(
                &serde_json::json!({ "type": "refresh", "code": code, "ok": true, "report": report }),
            ),
            Ok(report) => printer.report(code, ImportKind::Refresh, &report),
            Err(err) => self.step_failed(printer, "refresh", code, err, |code, err| {
                format!("{code}: {err}")
            }),
        }
    }

    fn step_failed(
        &mut self,
        printer: &Printer,
        step: &str,
        code: &str,
        err: fieldsync_core::Error,
        text: impl FnOnce(&str, &fieldsync_core::Error) -> String,
    ) -> Result<()> {
        let line = text(code, &err);
        let report = Report::of(&err.into());
        self.failed(report.kind);
        if printer.json {
            let mut value = report.to_json();
            value["type"] = step.into();
            value["code"] = code.into();
            value["ok"] = false.into();
            return output::ndjson(&value);
        }
        eprintln!("{}", terminal_safe(&line));
        Ok(())
    }

    fn finish(self, printer: &Printer) -> Result<()> {
        let exit_code = self.worst.map_or(0, Kind::exit_code);
        if printer.json {
            output::ndjson(&serde_json::json!({
                "type": "summary", "ok": self.failed == 0, "deliveries": self.deliveries,
                "refreshes": self.refreshes, "failed": self.failed, "exit_code": exit_code,
            }))?;
        } else if self.deliveries == 0 && self.refreshes == 0 {
            println!("nothing to deliver and nothing is due");
        }
        match self.worst {
            None => Ok(()),
            Some(kind) => Err(Failure::new(
                kind,
                "sync_failed",
                format!(
                    "{} step(s) of the sync failed or stopped; `fieldsync outbox` shows what waits",
                    self.failed
                ),
            )
            .with("failed", self.failed)
            .into()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn checkin(
    store: &Store,
    printer: &Printer,
    id: &str,
    fix: LocationFix,
    badge: Option<String>,
    user: Option<String>,
) -> Result<()> {
    if let Some(badge) = &badge {
        store.set_user_default(BADGE_DEFAULT, badge)?;
    }
    let request = CheckInRequest {
        project: ProjectId::parse(id)?,
        fix,
        badge,
        user,
        device_time: fieldsync_core::model::now(),
        device_id: store.device_id()?,
    };
    let check_in = store.check_in(&request)?;
    if printer.json {
        return printer.value(&check_in);
    }
    let distance = check_in
        .distance_m
        .map_or("unknown".to_owned(), |distance| format!("{distance:.1} m"));
    println!(
        "checked in at {} ({}): {}, distance {distance}, state {}",
        check_in.project,
        check_in.uuid,
        if check_in.certified {
            "certified"
        } else {
            "NOT certified"
        },
        check_in.state
    );
    for reason in &check_in.reasons {
        println!("  - {}", terminal_safe(&reason.to_string()));
    }
    Ok(())
}

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

fn photo(app: &App, printer: &Printer, command: PhotoCommand) -> Result<()> {
    let store = app.store();
    match command {
        PhotoCommand::Add {
            id,
            task,
            evidence,
            file,
            lat,
            lon,
            accuracy,
        } => {
            let fix = match (lat, lon, accuracy) {
                (Some(latitude), Some(longitude), Some(accuracy_m)) => Some(LocationFix {
                    latitude,
                    longitude,
                    accuracy_m,
                    altitude_m: None,
                    fix_time_ms: now_ms(),
                    is_mock: false,
                }),
                _ => None,
            };
            let request = AddPhoto {
                project: ProjectId::parse(&id)?,
                task,
                evidence: evidence.into(),
                source: &file,
                fix,
                device_id: store.device_id()?,
                device_time: fieldsync_core::model::now(),
            };
            printer.photo(&app.add_photo(&request, |_| {})?)
        }
        PhotoCommand::List { id } => {
            let project = id.as_deref().map(ProjectId::parse).transpose()?;
            printer.photos(&store.photos(project.as_ref())?)
        }
        PhotoCommand::Show { uuid } => printer.photo(&store.photo(&uuid)?),
        PhotoCommand::Approve { uuid: Some(uuid), .. } => {
            let photo = store.approve_photo(&uuid)?;
            // Approving a photo whose processing failed processes it again, now.
            app.process_photos(|_| {})?;
            printer.photo(&store.photo(&photo.uuid).unwrap_or(photo))
        }
        PhotoCommand::Approve { project, .. } => {
            app.process_photos(|_| {})?;
            let project = ProjectId::parse(project.as_deref().unwrap_or_default())?;
            let count = store.approve_project_photos(&project)?;
            printer.message(&format!("approved {count} photo(s) of {project}"))
        }
        PhotoCommand::Reject { uuid, reason } => printer.photo(&store.reject_photo(&uuid, &reason)?),
    }
}

fn outbox(
    store: &Store,
    printer: &Printer,
    command: Option<OutboxCommand>,
    network: NetworkState,
) -> Result<()> {
    match command.unwrap_or(OutboxCommand::List { all: false }) {
        OutboxCommand::List { all: false } => printer.outbox(&store.upload_log(network)?),
        OutboxCommand::List { all: true } => printer.outbox(&store.outbox_entries(true)?),
        OutboxCommand::RetryFailed => {
            let count = store.retry_all_failed()?;
            printer.value_or_message(
                &serde_json::json!({ "retried": count }),
                &format!(
                    "{count} failed entr{} will be sent at the next sync",
                    plural_y(count)
                ),
            )
        }
        OutboxCommand::Clean => {
            let count = store.clean_up_delivered()?;
            printer.value_or_message(
                &serde_json::json!({ "removed": count }),
                &format!("removed {count} delivered entr{}", plural_y(count)),
            )
        }
        OutboxCommand::Retry { uuid } => {
            store.retry_outbox_entry(&uuid)?;
            printer.message(&format!("{uuid} will be sent at the next sync"))
        }
        OutboxCommand::Discard { uuid, yes } => {
            if !yes {
                return Err(fail(
                    Kind::Usage,
                    "confirmation_required",
                    format!("discarding drops the delivery of {uuid} for good; repeat with --yes to confirm"),
                ));
            }
            store.discard_outbox_entry(&uuid)?;
            printer.message(&format!("discarded {uuid}"))
        }
    }
}

fn plural_y(count: u64) -> &'static str {
    if count == 1 { "y" } else { "ies" }
}

/// `sync --network none`: nothing goes out and nothing is refreshed; says what waits.
fn offline_sync(engine: &SyncEngine, printer: &Printer) -> Result<()> {
    let waiting = engine.store().upload_log(NetworkState::None)?.len();
    let stopped = fieldsync_core::outbox::delivery::NO_NETWORK;
    if printer.json {
        output::ndjson(&serde_json::json!({
            "type": "summary", "ok": waiting == 0, "deliveries": 0, "refreshes": 0, "failed": 0,
            "stopped": stopped, "waiting": waiting,
            "exit_code": if waiting > 0 { Kind::Temporary.exit_code() } else { 0 },
        }))?;
    } else {
        println!("{stopped}: nothing sent or refreshed; {waiting} item(s) wait");
    }
    if waiting > 0 {
        return Err(Failure::new(
            Kind::Temporary,
            "no_network",
            format!("no network: {waiting} item(s) wait; `fieldsync outbox --network none` shows them"),
        )
        .with("waiting", waiting)
        .into());
    }
    Ok(())
}

fn upload_policy(
    store: &Store,
    printer: &Printer,
    wifi_only: Option<OnOff>,
    pause: Option<OnOff>,
) -> Result<()> {
    let mut policy = store.upload_policy()?;
    if wifi_only.is_some() || pause.is_some() {
        if let Some(wifi_only) = wifi_only {
            policy.photos_on_wifi_only = wifi_only.into();
        }
        if let Some(pause) = pause {
            policy.paused = pause.into();
        }
        store.set_upload_policy(policy)?;
    }
    let on_off = |on: bool| if on { "on" } else { "off" };
    printer.value_or_message(
        &policy,
        &format!(
            "photos and surveys on Wi-Fi only: {}\npaused (photos and surveys): {}\ncheck-ins and statuses go on any network",
            on_off(policy.photos_on_wifi_only),
            on_off(policy.paused)
        ),
    )
}

/// Auto-import in the foreground until SIGINT or SIGTERM, which stop the loop and end with a summary
/// (exit 0). With `--json`, one NDJSON line per refresh or failure as it happens, then the summary line.
fn watch(engine: Arc<SyncEngine>, printer: &Printer, interval: u64) -> Result<()> {
    let schedule = Schedule {
        interval: Duration::from_secs(interval.max(1)),
        ..Schedule::default()
    };
    let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while the loop winds down ends the process at once.
        signal_hook::flag::register_conditional_shutdown(signal, 130, signalled.clone())
            .and_then(|_| signal_hook::flag::register(signal, signalled.clone()))
            .context("cannot install the signal handlers")?;
    }
    let (events, received) = std::sync::mpsc::channel();
    let handle = spawn_auto_import(engine, schedule, move |event| drop(events.send(event)))?;
    if !printer.json {
        eprintln!("watching integrations with auto import on; Ctrl-C to stop");
    }
    let (mut refreshed, mut failed) = (0_u64, 0_u64);
    let mut print = |event: AutoImportEvent| -> Result<()> {
        match event {
            AutoImportEvent::Refreshed { code, report } => {
                refreshed += 1;
                if printer.json {
                    output::ndjson(&serde_json::json!({
                        "type": "refresh", "code": code, "ok": true, "report": report,
                    }))?;
                } else if !report.is_no_op() || !report.rejected.is_empty() {
                    printer.report(&code, ImportKind::Refresh, &report)?;
                }
            }
            AutoImportEvent::Failed {
                code,
                error,
                retry_in,
            } => {
                failed += 1;
                if printer.json {
                    // No retry means the credentials were refused: it waits for them to change.
                    output::ndjson(&serde_json::json!({
                        "type": "refresh", "code": code, "ok": false,
                        "error": { "message": error, "kind": if retry_in.is_none() { Some("auth") } else { None } },
                        "retry_in_secs": retry_in.map(|delay| delay.as_secs()),
                    }))?;
                } else {
                    let next = retry_in.map_or("after the credentials change".to_owned(), |delay| {
                        format!("in {}s", delay.as_secs())
                    });
                    eprintln!(
                        "{}",
                        terminal_safe(&format!("{code}: {error} (next attempt {next})"))
                    );
                }
            }
        }
        Ok(())
    };
    let stopped_by_signal = loop {
        if signalled.load(std::sync::atomic::Ordering::SeqCst) {
            break true;
        }
        match received.recv_timeout(Duration::from_millis(200)) {
            Ok(event) => print(event)?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break false,
        }
    };
    handle.stop();
    // Events sent while the loop stopped.
    for event in received.try_iter() {
        print(event)?;
    }
    if printer.json {
        output::ndjson(&serde_json::json!({
            "type": "summary", "refreshed": refreshed, "failed": failed, "stopped_by_signal": stopped_by_signal,
        }))?;
    } else {
        eprintln!("stopped watching: {refreshed} refresh(es), {failed} failure(s)");
    }
    if stopped_by_signal {
        return Ok(());
    }
    // The loop runs until a signal: its channel closing means the loop itself stopped, which must not look
    // like success to a supervisor.
    Err(fail(
        Kind::Internal,
        "watch_stopped",
        "the auto-import loop stopped unexpectedly",
    ))
}

/// The password from standard input or `$FIELDSYNC_PASSWORD`, never from argv.
fn read_password(credentials: &Credentials) -> Result<Option<String>> {
    if credentials.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(fail(
                Kind::Usage,
                "empty_password",
                "--password-stdin read an empty password",
            ));
        }
        return Ok(Some(password));
    }
    Ok(std::env::var("FIELDSYNC_PASSWORD")
        .ok()
        .filter(|password| !password.is_empty()))
}

fn save_credentials(
    secrets: &dyn SecretStore,
    code: &str,
    password: Option<&str>,
    token: Option<&str>,
) -> Result<()> {
    if let Some(password) = password {
        secrets.set(code, SecretKind::PasswordSha1, &password_sha1(password))?;
    }
    if let Some(token) = token {
        secrets.set(code, SecretKind::Token, token)?;
    }
    Ok(())
}

fn settings_edit(settings: IntegrationSettings) -> Result<IntegrationEdit> {
    Ok(IntegrationEdit {
        name: settings
            .name
            .map(|name| Some(name).filter(|name| !name.is_empty())),
        mode: settings.mode.map(Mode::from),
        publish_to: (!settings.publish_to.is_empty()).then_some(settings.publish_to),
        auto_admin: settings.auto_admin.map(bool::from),
        default_work_type: settings
            .default_work_type
            .map(|name| Some(name).filter(|name| !name.is_empty() && name != "none")),
        default_assign_to: settings
            .default_assign_to
            .as_deref()
            .map(DefaultAssignTo::parse)
            .transpose()?,
        auto_relay: settings.auto_relay.map(bool::from),
        auto_import: settings.auto_import.map(bool::from),
        ..IntegrationEdit::default()
    })
}

fn integration(
    app: &App,
    secrets: &dyn SecretStore,
    printer: &Printer,
    command: IntegrationCommand,
) -> Result<()> {
    let (store, engine) = (app.store().as_ref(), app.engine().as_ref());
    match command {
        IntegrationCommand::Validate { code } => validate(engine, printer, &code),
        IntegrationCommand::PushKey { code } => printer.message(&engine.push_key(&code)?),
        IntegrationCommand::Add {
            code,
            url,
            username,
            credentials,
            settings,
        } => {
            let password = read_password(&credentials)?.ok_or_else(|| {
                fail(
                    Kind::Usage,
                    "password_required",
                    "a password is required: pass --password-stdin or set FIELDSYNC_PASSWORD",
                )
            })?;
            let mut new = NewIntegration::new(&code, url, username);
            let edit = settings_edit(settings)?;
            new.name = edit.name.clone().flatten();
            new.mode = edit.mode.unwrap_or(new.mode);
            new.publish_to = edit.publish_to.clone().unwrap_or_default();
            new.auto_admin = edit.auto_admin.unwrap_or(new.auto_admin);
            new.default_work_type = edit.default_work_type.clone().flatten();
            new.default_assign_to = edit.default_assign_to.clone().unwrap_or_default();
            new.auto_relay = edit.auto_relay.unwrap_or(new.auto_relay);
            new.auto_import = edit.auto_import.unwrap_or(new.auto_import);
            let integration = store.create_integration(new)?;
            if let Err(err) = save_credentials(secrets, &code, Some(&password), credentials.token.as_deref())
            {
                // Never leave an integration whose credentials were not saved.
                store.delete_integration(&code, false)?;
                return Err(err.context("the integration was not created"));
            }
            printer.integration(&integration)
        }
        IntegrationCommand::List => printer.integrations(&store.list_integrations()?),
        IntegrationCommand::Show { code } => printer.integration(&store.integration(&code)?),
        IntegrationCommand::Edit {
            code,
            url,
            username,
            credentials,
            settings,
        } => {
            let password = read_password(&credentials)?;
            let mut edit = settings_edit(settings)?;
            edit.base_url = url;
            edit.username = username;
            let integration = store.edit_integration(&code, &edit)?;
            save_credentials(secrets, &code, password.as_deref(), credentials.token.as_deref())?;
            printer.integration(&integration)
        }
        IntegrationCommand::Delete { code, force } => {
            // The export (with the pending photos' files) is on disk before any row is deleted.
            if let Some(export) = app.delete_integration(&code, force)? {
                eprintln!(
                    "exported {} undelivered item(s) and {} photo(s) to {} (kept until you delete it)",
                    export.entries.len(),
                    export.photos.len(),
                    export.folder.display()
                );
            }
            secrets.delete_all(&code)?;
            printer.message(&format!("deleted integration {code}"))
        }
    }
}

fn work_type(store: &Store, printer: &Printer, command: WorkTypeCommand) -> Result<()> {
    match command {
        WorkTypeCommand::Add { name, file } => {
            let json = fieldsync_core::files::read_regular_text(&file, MAX_WORK_TYPE_BYTES, "file")?;
            let work_type = WorkType::from_json(&name, &json)?;
            store.save_work_type(&work_type)?;
            printer.message(&format!("saved work type {name}"))
        }
        WorkTypeCommand::List => printer.work_types(&store.list_work_types()?),
    }
}

fn import(store: &Store, printer: &Printer, code: &str, file: &Path, full: bool) -> Result<()> {
    let kind = if full {
        ImportKind::FullImport
    } else {
        ImportKind::Refresh
    };
    // Only a regular file: a device never ends and a FIFO blocks. Its size is checked by the import
    // (which names the limit); the read is bounded here whatever the metadata said.
    let (opened, size) = fieldsync_core::files::open_regular_file(file, u64::MAX, "file")?;
    let body = std::io::BufReader::with_capacity(256 * 1024, opened.take(MAX_RESPONSE_BYTES + 1));
    let bar = output::progress_bar(size, std::io::stderr().is_terminal());
    bar.set_message("importing");
    let progress = |bytes: u64| bar.set_position(bytes);
    let options = ImportOptions {
        progress: Some(&progress),
        ..ImportOptions::new(kind)
    };
    let result = store.import_response(code, body, Some(size), &options);
    bar.finish_and_clear();
    let report = result.map_err(|err| match err {
        // The body is the user's file here, not the provider's answer.
        fieldsync_core::Error::InvalidResponse(_) | fieldsync_core::Error::ResponseTooLarge { .. } => {
            anyhow::Error::from(Failure::reclassified(&err, Kind::Data))
        }
        other => other.into(),
    })?;
    // The import left its new projects out of the search index (searches read them from the table
    // meanwhile): index them before the command ends.
    store.catch_up_search()?;
    printer.report(code, kind, &report)
}

fn projects(store: &Store, printer: &Printer, args: ProjectsArgs) -> Result<()> {
    if args.counts {
        return printer.category_counts(&store.category_counts()?);
    }
    let query = ProjectQuery {
        integration: args.integration,
        client_status: args.client_status,
        status: args.status,
        search: args.search,
        include_closed: !args.open,
        category: args.category.map(Into::into),
        field_status: args.field_status.map(Into::into),
        sort: if args.by_number {
            ProjectSort::Number
        } else {
            ProjectSort::DueDate
        },
        limit: args.limit,
        offset: args.offset,
        after: args.after,
        before: None,
    };
    printer.projects(&store.list_projects(&query)?)
}

fn project(app: &App, printer: &Printer, command: ProjectCommand) -> Result<()> {
    let store = app.store();
    match command {
        ProjectCommand::Show { id } => printer.project(&store.project(&ProjectId::parse(&id)?)?),
        ProjectCommand::Edit {
            id,
            status,
            due_date,
            instructions,
        } => {
            let edit = ProjectEdit {
                status,
                due_date,
                instructions,
            };
            if edit.is_empty() {
                return Err(fail(
                    Kind::Usage,
                    "nothing_to_edit",
                    "nothing to edit: pass --status, --due-date or --instructions",
                ));
            }
            printer.project(&store.edit_project(&ProjectId::parse(&id)?, &edit)?)
        }
        ProjectCommand::Close { id } => printer.project(&store.close_project(&ProjectId::parse(&id)?)?),
        ProjectCommand::Delete { id } => {
            store.delete_project(&ProjectId::parse(&id)?)?;
            printer.message(&format!("deleted project {id}"))
        }
        ProjectCommand::View { id } => {
            let id = ProjectId::parse(&id)?;
            store.mark_viewed(&id)?;
            printer.project(&store.project(&id)?)
        }
        ProjectCommand::Complete { id, force, reason } => {
            let id = ProjectId::parse(&id)?;
            let reason = if force { reason.as_deref() } else { None };
            match store.complete_project(&id, reason) {
                Ok(completion) => printer.completion(&completion),
                Err(fieldsync_core::Error::CompletionBlocked { project, unmet }) => {
                    printer.refusal(
                        &format!("project {project} cannot be completed yet"),
                        &serde_json::json!({ "error": "completion_blocked", "project": project, "unmet": unmet }),
                        || printer.unmet_table(&unmet),
                    )?;
                    Err(Failure::new(
                        Kind::Data,
                        "completion_blocked",
                        format!(
                            "project {project} cannot be completed: {} requirement(s) unmet (or pass --force --reason)",
                            unmet.len()
                        ),
                    )
                    .with("project", project)
                    .with("unmet", serde_json::to_value(&unmet)?)
                    .into())
                }
                Err(err) => Err(err.into()),
            }
        }
        ProjectCommand::Requirements { id } => {
            let id = ProjectId::parse(&id)?;
            printer.requirements(&id.to_string(), &store.completion_requirements(&id)?)
        }
        ProjectCommand::CreateLocal {
            code,
            number,
            address,
            city,
            state,
            zip,
            tasks,
        } => {
            let new = NewLocalProject {
                integration: code,
                work_order_number: number,
                address1: Some(address),
                city,
                state,
                zip,
                tasks,
            };
            printer.project(&store.create_local_project(&new)?)
        }
        ProjectCommand::DiscardLocal { id } => {
            let id = ProjectId::parse(&id)?;
            let export = store.discard_local_project(app.photo_files(), &id)?;
            if printer.json {
                return printer.value(&export);
            }
            println!(
                "discarded {id}; {} undelivered item(s) and {} photo(s) exported to {}",
                export.entries.len(),
                export.photos.len(),
                terminal_safe(&export.folder.display().to_string())
            );
            Ok(())
        }
    }
}

fn survey_template(store: &Store, printer: &Printer, command: SurveyTemplateCommand) -> Result<()> {
    match command {
        SurveyTemplateCommand::Add { file } => {
            let bytes = fieldsync_core::files::read_regular_file(&file, MAX_TEMPLATE_BYTES, "file")?;
            printer.survey_template(&store.add_survey_template(&bytes)?)
        }
        SurveyTemplateCommand::List => printer.survey_templates(&store.survey_templates()?),
    }
}

fn survey(store: &Store, printer: &Printer, command: SurveyCommand) -> Result<()> {
    match command {
        SurveyCommand::Show { id, task } => {
            printer.task_survey(&store.task_survey(&ProjectId::parse(&id)?, &task)?)
        }
        SurveyCommand::Answer {
            id,
            task,
            question,
            value,
            clear,
        } => {
            let id = ProjectId::parse(&id)?;
            if clear {
                store.clear_survey_answer(&id, &task, &question)?;
                return printer.value_or_message(
                    &serde_json::json!({ "project": id.to_string(), "task": task, "question": question, "answer": null }),
                    &format!("cleared the answer to {question}"),
                );
            }
            let survey = store.task_survey(&id, &task)?;
            let Some(asked) = survey.template.question(&question) else {
                return Err(fieldsync_core::Error::UnknownQuestion {
                    template: survey.template.id.clone(),
                    question,
                }
                .into());
            };
            let answer =
                AnswerValue::from_words(asked, &value).map_err(fieldsync_core::Error::InvalidAnswer)?;
            let saved = store.save_survey_answer(&id, &task, &question, &answer)?;
            printer.value_or_message(
                &serde_json::json!({ "project": id.to_string(), "task": task, "question": question, "answer": saved }),
                &format!("saved {question} = {}", output::answer_text(&saved)),
            )
        }
        SurveyCommand::Submit { id, task } => {
            let id = ProjectId::parse(&id)?;
            match store.submit_survey(&id, &task) {
                Ok(submission) => printer.survey_submission(&submission),
                Err(fieldsync_core::Error::SurveyIncomplete {
                    project,
                    task,
                    missing,
                    invalid,
                }) => {
                    let invalid_json: Vec<_> = invalid
                        .iter()
                        .map(|(question, problem)| serde_json::json!({ "question": question, "problem": problem }))
                        .collect();
                    printer.refusal(
                        &format!("the survey of task `{task}` of project {project} is not complete"),
                        &serde_json::json!({ "error": "survey_incomplete", "project": project, "task": task,
                            "missing": missing, "invalid": invalid_json }),
                        || {
                            for question in &missing {
                                println!("  missing: {}", terminal_safe(question));
                            }
                            for (question, problem) in &invalid {
                                println!(
                                    "  invalid: {}: {}",
                                    terminal_safe(question),
                                    terminal_safe(problem)
                                );
                            }
                        },
                    )?;
                    Err(Failure::new(
                        Kind::Data,
                        "survey_incomplete",
                        format!(
                            "survey not submitted: {} answer(s) missing, {} invalid",
                            missing.len(),
                            invalid.len()
                        ),
                    )
                    .with("project", project)
                    .with("task", task)
                    .with("missing", missing)
                    .with("invalid", invalid_json)
                    .into())
                }
                Err(err) => Err(err.into()),
            }
        }
        SurveyCommand::List { id } => {
            let project = id.as_deref().map(ProjectId::parse).transpose()?;
            printer.survey_submissions(&store.survey_submissions(project.as_ref())?)
        }
        SurveyCommand::Approve { uuid } => printer.survey_submission(&store.approve_survey(&uuid)?),
        SurveyCommand::Reject { uuid, reason } => {
            printer.survey_submission(&store.reject_survey(&uuid, &reason)?)
        }
    }
}

fn storage(app: &App, printer: &Printer, command: Option<StorageCommand>) -> Result<()> {
    match command.unwrap_or(StorageCommand::Report) {
        StorageCommand::Report => printer.storage(&app.storage_report()?),
        StorageCommand::Clean { keep_days, max_bytes } => {
            let defaults = RetentionPolicy::default();
            let policy = RetentionPolicy {
                keep_originals_days: keep_days.or(defaults.keep_originals_days),
                max_photo_bytes: max_bytes.or(defaults.max_photo_bytes),
                ..defaults
            };
            let retention = app.apply_retention(&policy)?;
            let maintenance = app
                .store()
                .maintain(fieldsync_core::store::VACUUM_PAGES_PER_CALL, true)?;
            printer.storage_clean(&retention, &maintenance, &app.storage_report()?)
        }
    }
}
