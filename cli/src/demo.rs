//! `fieldsync demo`: the whole story in one command, against a provider emulator on a free loopback port.
//!
//! It links a Pruvan Share integration, validates it, runs a Full Import, lets the provider change, unassign
//! and delete work orders, refreshes, shows Cancelled and Deleted arriving while the projects stay, survives
//! a network fault, and finishes with a push-key refresh. The database it leaves can be explored with the
//! other commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use fieldsync_core::app::{App, AppConfig, default_photo_directory};
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::evidence::software::{create_dev_credentials, evidence_dir, write_dev};
use fieldsync_core::evidence::{SoftwareSigner, verify};
use fieldsync_core::model::ProjectId;
use fieldsync_core::model::{
    DefaultAssignTo, ImportKind, NewIntegration, ProjectQuery, ProjectSort, WorkType,
};
use fieldsync_core::photo::EvidenceType;
use fieldsync_core::secrets::{FileSecretStore, password_sha1};
use fieldsync_core::store::{AddPhoto, CheckInRequest};
use fieldsync_core::{SecretKind, SecretStore};
use fieldsync_provider::{Endpoint, Fault, FaultKind, ProviderConfig};
use serde_json::json;

use crate::output::Printer;

const CODE: &str = "DEMO";
const VENDOR: &str = "vendor1";
const PASSWORD: &str = "secret1";
const TOKEN: &str = "tok-1";
const WORK_ORDERS: &str = include_str!("../../fixtures/demo/work_orders.json");
const WORK_TYPE: &str = include_str!("../../fixtures/work_type_lawn.json");
const PHOTO_BEFORE: &[u8] = include_bytes!("../../fixtures/photos/before_front.jpg");
const PHOTO_AFTER: &[u8] = include_bytes!("../../fixtures/photos/after_front.jpg");
const PHOTO_BLURRY: &[u8] = include_bytes!("../../fixtures/photos/blurry.jpg");
const PHOTO_SIDE: &[u8] = include_bytes!("../../fixtures/photos/orientation/landscape_1.jpg");
const PHOTO_REAR: &[u8] = include_bytes!("../../fixtures/photos/orientation/landscape_2.jpg");
const PHOTO_INTERIOR: [&[u8]; 2] = [
    include_bytes!("../../fixtures/photos/orientation/landscape_3.jpg"),
    include_bytes!("../../fixtures/photos/orientation/landscape_4.jpg"),
];
const SURVEY_TEMPLATE: &[u8] = include_bytes!("../../fixtures/surveys/property-inspection.json");

/// A scratch folder standing in for the camera's output.
fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("fieldsync-demo-camera-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn heading(step: &mut u32, title: &str) {
    *step += 1;
    println!("\n== {step}. {title}");
}

/// Removes a previous demo database and its companions.
fn remove_previous(db: &Path) -> Result<()> {
    let photos = default_photo_directory(db);
    if photos.exists() {
        std::fs::remove_dir_all(&photos)?;
    }
    let evidence = fieldsync_core::evidence::software::evidence_dir(db);
    if evidence.exists() {
        std::fs::remove_dir_all(&evidence)?;
    }
    for suffix in ["", "-wal", "-shm", ".secrets"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(PathBuf::from(path)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Runs the demo, leaving its database at `db`.
pub fn run(db: &Path) -> Result<()> {
    let started = Instant::now();
    let printer = Printer { json: false };
    let table = Printer { json: false };
    let mut step = 0;

    heading(&mut step, "A provider account (the emulator) on loopback");
    // The device's development certificate: its root is the anchor the emulator trusts.
    let credentials = create_dev_credentials("demo-phone", "Demo Vendor LLC")?;
    let provider = fieldsync_provider::start(ProviderConfig {
        trust_anchors: Some(credentials.ca_pem.clone()),
        ..ProviderConfig::default()
    })
    .context("cannot start the emulator")?;
    let admin = provider.admin();
    admin.create_user(VENDOR, PASSWORD, TOKEN)?;
    let orders: Vec<serde_json::Value> = serde_json::from_str(WORK_ORDERS)?;
    for order in &orders {
        let mut order = order.clone();
        order["assignedTo"] = json!(VENDOR);
        admin.create_work_order(order)?;
    }
    println!(
        "provider at {} with {} work orders assigned to the login `{VENDOR}`",
        provider.base_url(),
        orders.len()
    );

    heading(&mut step, "Link a Pruvan Share integration");
    remove_previous(db)?;
    let secrets = Arc::new(FileSecretStore::beside(db));
    let app = App::open(AppConfig::new(db, secrets.clone()))?;
    let evidence = evidence_dir(db);
    write_dev(&evidence, &credentials)?;
    app.set_device_signer(Some(Arc::new(SoftwareSigner::load(&evidence)?)));
    println!(
        "device signer: a development certificate in {} (renditions carry C2PA content credentials)",
        evidence.display()
    );
    let store = app.store();
    store.save_work_type(&WorkType::from_json("Lawn", WORK_TYPE)?)?;
    let mut integration = NewIntegration::new(CODE, provider.base_url(), VENDOR);
    integration.name = Some("Acme Asset Management (demo)".into());
    integration.publish_to = vec!["office@vendor.example".into()];
    integration.default_assign_to = DefaultAssignTo::All;
    store.create_integration(integration)?;
    secrets.set(CODE, SecretKind::PasswordSha1, &password_sha1(PASSWORD))?;
    secrets.set(CODE, SecretKind::Token, TOKEN)?;
    println!(
        "integration {CODE}: login {VENDOR}, Auto Admin on, Default Assign To all; password kept as SHA-1 in {}",
        secrets.path().display()
    );
    let engine = app.engine();

    heading(&mut step, "Validate the credentials");
    let validation = engine.validate(CODE)?;
    println!(
        "validated: {} (the push key was registered with the provider)",
        validation.validated
    );

    heading(&mut step, "Full Import");
    let report = engine.refresh(CODE, ImportKind::FullImport)?;
    printer.report(CODE, ImportKind::FullImport, &report)?;
    table.integrations(&store.list_integrations()?)?;
    let all = ProjectQuery {
        sort: ProjectSort::Number,
        limit: 100,
        ..ProjectQuery::default()
    };
    table.projects(&store.list_projects(&all)?)?;

    heading(&mut step, "The provider changes things");
    admin.advance_time(300);
    let first = orders[0]["workOrderNumber"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = orders[1]["workOrderNumber"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let third = orders[2]["workOrderNumber"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    admin.patch_work_order(&first, json!({"clientInstructions": "Gate code 4512. Dog on site: call first.", "clientDueDate": "2026-12-01"}))?;
    admin.unassign(&second)?;
    admin.delete_work_order(&third)?;
    admin.create_work_order(json!({
        "workOrderNumber": "WO-240199", "workOrderInfo": "Emergency tarp", "address1": "77 Harbor Rd",
        "city": "Savannah", "state": "GA", "zip": "31401", "clientStatus": "Open", "clientDueDate": "2026-11-24",
        "clientInstructions": "Roof leak: tarp the rear slope today.", "gpsLatitude": 32.0809, "gpsLongitude": -81.0912,
        "services": [{"serviceName": "Roof Tarp", "instructions": "Photos of the damage and the tarp."}],
        "assignedTo": VENDOR
    }))?;
    println!("updated {first}, unassigned {second}, deleted {third}, assigned a new order WO-240199");

    heading(&mut step, "Refresh (incremental, from the provider's clock)");
    let report = engine.refresh(CODE, ImportKind::Refresh)?;
    printer.report(CODE, ImportKind::Refresh, &report)?;
    table.projects(&store.list_projects(&all)?)?;
    println!(
        "{second} stays with client status Cancelled and {third} with Deleted: the vendor decides when to close them."
    );

    heading(&mut step, "A network fault during a refresh");
    admin.advance_time(300);
    admin.patch_work_order(
        &first,
        json!({"clientInstructions": "Gate code changed to 9981."}),
    )?;
    admin.set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::Truncate).times(1))?;
    match engine.refresh(CODE, ImportKind::Refresh) {
        Ok(_) => println!("(the fault did not trigger)"),
        Err(err) => {
            println!("refresh failed: {err}\nthe cache is untouched; the integration shows the error:")
        }
    }
    table.integrations(&store.list_integrations()?)?;
    let report = engine.refresh(CODE, ImportKind::Refresh)?;
    println!(
        "next refresh: {} updated; status back to idle, last error cleared",
        report.updated
    );

    heading(&mut step, "Check in on site with no signal, deliver later");
    let site = &orders[0];
    let (latitude, longitude) = (
        site["gpsLatitude"].as_f64().unwrap_or_default(),
        site["gpsLongitude"].as_f64().unwrap_or_default(),
    );
    admin.set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropBefore))?;
    let project = ProjectId::parse(&format!("{CODE}::{first}"))?;
    let fix = LocationFix {
        latitude: latitude + 0.0002,
        longitude,
        accuracy_m: 7.0,
        altitude_m: Some(305.0),
        fix_time_ms: fieldsync_core::model::now() * 1000 - 4_000,
        is_mock: false,
    };
    let request = CheckInRequest {
        project: project.clone(),
        fix,
        badge: Some("BG-40211".into()),
        user: Some("jane".into()),
        device_time: fieldsync_core::model::now(),
        device_id: "demo-phone".into(),
    };
    let check_in = store.check_in(&request)?;
    println!(
        "checked in at {project}: {}, {:.0} m from the property, saved on the phone ({})",
        if check_in.certified {
            "certified"
        } else {
            "not certified"
        },
        check_in.distance_m.unwrap_or_default(),
        check_in.uuid
    );
    let report = engine.push_outbox(CODE, true)?;
    println!(
        "no signal: {} delivered, waiting ({})",
        report.delivered,
        report.stopped.unwrap_or_default()
    );
    table.outbox(&store.outbox_entries(false)?)?;
    admin.clear_faults();
    let report = engine.push_outbox(CODE, true)?;
    let received = admin.received_checkins()?;
    println!(
        "back in signal: {} delivered; the provider holds {} check-in(s) for {first}, captured at {}",
        report.delivered,
        received.len(),
        received
            .first()
            .map(|item| item.metadata["gpsTimestamp"].to_string())
            .unwrap_or_default()
    );

    heading(&mut step, "Photos through QA, then relayed");
    let task = store
        .project(&project)?
        .tasks
        .first()
        .map(|task| task.name.clone())
        .unwrap_or_default();
    let photo_dir = tempfile_dir()?;
    let mut added = Vec::new();
    for (name, bytes, evidence) in [
        ("before_front.jpg", PHOTO_BEFORE, EvidenceType::Before),
        ("after_front.jpg", PHOTO_AFTER, EvidenceType::After),
        ("blurry.jpg", PHOTO_BLURRY, EvidenceType::After),
    ] {
        let path = photo_dir.join(name);
        std::fs::write(&path, bytes)?;
        let request = AddPhoto {
            project: project.clone(),
            task: task.clone(),
            evidence,
            source: &path,
            fix: Some(fix),
            device_id: "demo-phone".into(),
            device_time: fieldsync_core::model::now(),
        };
        added.push(app.add_photo(&request, |_| {})?);
    }
    table.photos(&store.photos(Some(&project))?)?;
    println!("auto relay is off: the photos wait for QA (nothing can leave the phone yet)");
    store.reject_photo(&added[2].uuid, "blurry: retake from the street")?;
    let approved = store.approve_project_photos(&project)?;
    println!("QA rejected blurry.jpg and approved the {approved} others");
    let report = engine.push_outbox(CODE, true)?;
    table.photos(&store.photos(Some(&project))?)?;
    let pictures = admin.received_pictures()?;
    println!(
        "relayed {} photo(s); the provider holds {} picture(s), the rejected one never left the phone",
        report.delivered,
        pictures.len()
    );
    println!("(\"time no\": these sample photos were taken in 2008, long before their first upload)");
    let _ = std::fs::remove_dir_all(&photo_dir);
    let relayed = added[0].uuid.clone();

    heading(&mut step, "A push from the provider triggers a refresh");
    admin.advance_time(300);
    admin.create_work_order(json!({
        "workOrderNumber": "WO-240200", "workOrderInfo": "Grass cut - recut", "address1": "4127 Magnolia Dr",
        "city": "Marietta", "state": "GA", "zip": "30062", "clientStatus": "Open",
        "services": [{"serviceName": "Lawn Cut"}], "assignedTo": VENDOR
    }))?;
    let key = engine.push_key(CODE)?;
    if let Some((code, report)) = engine.refresh_by_push_key(&key)? {
        println!("push key matched {code}: {} created", report.created);
    }

    field_work(&app, admin, &mut step, fix)?;

    heading(
        &mut step,
        "Evidence anyone can verify: a relayed photo's content credentials",
    );
    verify_relayed(admin, &relayed, &evidence.join("ca.pem"))?;

    heading(&mut step, "Summary");
    table.integrations(&store.list_integrations()?)?;
    let total = store
        .list_projects(&ProjectQuery {
            limit: 10_000,
            ..ProjectQuery::default()
        })?
        .len();
    println!(
        "{total} projects cached in {} ({:.1} s)",
        db.display(),
        started.elapsed().as_secs_f64()
    );
    println!("explore it:");
    println!(
        "  fieldsync --db {} projects --client-status cancelled",
        db.display()
    );
    println!("  fieldsync --db {} project show {CODE}::{first}", db.display());
    println!("  fieldsync --db {} projects --counts", db.display());
    println!(
        "  fieldsync --db {} project requirements {CODE}::{INSPECTION}",
        db.display()
    );
    println!("  fieldsync --db {} --json integration show {CODE}", db.display());
    provider.stop()?;
    Ok(())
}

/// The end of the story: the emulator's verdict on a relayed photo, the same photo verified here with the
/// development root as trust anchor, then one image byte flipped and verified again.
fn verify_relayed(admin: &fieldsync_provider::Admin, uuid: &str, anchor: &Path) -> Result<()> {
    let printer = Printer { json: false };
    let item = admin
        .received_pictures()?
        .into_iter()
        .find(|item| item.uuid == uuid)
        .context("the relayed photo is not at the provider")?;
    println!(
        "the emulator verified it on arrival: {}",
        item.credentials.unwrap_or_default()
    );
    let bytes = admin.item_file(uuid)?.context("the relayed photo has no file")?;
    let anchors = std::fs::read_to_string(anchor)?;
    let file = PathBuf::from(format!("{uuid}.jpg"));
    printer.verification(&file, &verify(&bytes, Some(&anchors)))?;
    // One byte of the compressed image (past the headers and the manifest, before the end marker).
    let mut flipped = bytes.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x01;
    println!("flipping the byte at offset {at}:");
    printer.verification(&file, &verify(&flipped, Some(&anchors)))?;
    Ok(())
}

const INSPECTION: &str = "WO-240300";
const INSPECTION_TASK: &str = "Property Inspection";

/// The field-work chapter: the survey template library, a survey answered offline with a photo answer, a
/// completion refused for a missing after photo, then completed and delivered.
fn field_work(app: &App, admin: &fieldsync_provider::Admin, step: &mut u32, fix: LocationFix) -> Result<()> {
    use fieldsync_core::survey::{AnswerType, AnswerValue};
    let (store, engine) = (app.store(), app.engine());
    let table = Printer { json: false };

    heading(step, "Field work: a property inspection with a survey");
    admin.advance_time(300);
    admin.create_work_order(json!({
        "workOrderNumber": INSPECTION, "workOrderInfo": "Property inspection", "address1": "4127 Magnolia Dr",
        "city": "Marietta", "state": "GA", "zip": "30062", "clientStatus": "Open", "assignedTo": VENDOR,
        "services": [{"serviceName": INSPECTION_TASK, "survey": "hpirFull-v3"}]
    }))?;
    admin.set_options(INSPECTION, json!({"photos_required": {"after": 1}}))?;
    engine.refresh(CODE, ImportKind::Refresh)?;
    let template = store.add_survey_template(SURVEY_TEMPLATE)?;
    table.survey_template(&template)?;
    let project = ProjectId::parse(&format!("{CODE}::{INSPECTION}"))?;
    store.mark_viewed(&project)?;
    println!(
        "order {INSPECTION} asks for the survey {} and one after photo",
        template.id
    );

    heading(step, "Offline: before photos, the survey answered on the phone");
    admin.set_fault(Fault::everywhere(FaultKind::DropBefore))?;
    let photo_dir = tempfile_dir()?;
    let take = |name: &str, bytes: &[u8], evidence: EvidenceType| -> Result<String> {
        let path = photo_dir.join(name);
        std::fs::write(&path, bytes)?;
        let request = AddPhoto {
            project: project.clone(),
            task: INSPECTION_TASK.into(),
            evidence,
            source: &path,
            fix: Some(fix),
            device_id: "demo-phone".into(),
            device_time: fieldsync_core::model::now(),
        };
        Ok(app.add_photo(&request, |_| {})?.uuid)
    };
    let before = take("before_front.jpg", PHOTO_BEFORE, EvidenceType::Before)?;
    let side = take("side.jpg", PHOTO_SIDE, EvidenceType::Before)?;
    let rear = take("rear.jpg", PHOTO_REAR, EvidenceType::Before)?;
    let living = take("living.jpg", PHOTO_INTERIOR[0], EvidenceType::Before)?;
    let kitchen = take("kitchen.jpg", PHOTO_INTERIOR[1], EvidenceType::Before)?;
    println!("5 before photos taken (front, side, rear, living room, kitchen)");
    let photos = [before.clone(), side, rear, living, kitchen];
    match store.task_survey(&project, INSPECTION_TASK) {
        Err(err) => println!("the survey cannot be opened: {err}"),
        Ok(_) => {
            // Answers every visible required question, as a crew would, re-evaluating as conditions open
            // new questions; photo questions get the before photo.
            let mut answered = 0;
            for _ in 0..500 {
                let survey = store.task_survey(&project, INSPECTION_TASK)?;
                let Some(id) = survey.evaluation.missing.first() else {
                    break;
                };
                let Some(question) = survey.template.question(id) else {
                    break;
                };
                let answer = match &question.answer_type {
                    AnswerType::YesNo => AnswerValue::YesNo(true),
                    AnswerType::Number => AnswerValue::Number(question.min.unwrap_or(1.0).max(0.0)),
                    AnswerType::Date => AnswerValue::Date("2026-11-23".into()),
                    AnswerType::SingleChoice => {
                        AnswerValue::SingleChoice(question.options.first().cloned().unwrap_or_default())
                    }
                    AnswerType::MultipleChoice => {
                        AnswerValue::MultipleChoice(question.options.iter().take(1).cloned().collect())
                    }
                    AnswerType::Photo => {
                        let need = (question.min_photos.max(1) as usize).min(photos.len());
                        AnswerValue::Photos(photos[..need].to_vec())
                    }
                    AnswerType::Text | AnswerType::Other { .. } => {
                        AnswerValue::Text("Checked, no issues.".into())
                    }
                };
                if let Err(err) = store.save_survey_answer(&project, INSPECTION_TASK, id, &answer) {
                    println!("  {id}: {err}");
                    break;
                }
                answered += 1;
            }
            let survey = store.task_survey(&project, INSPECTION_TASK)?;
            println!(
                "{answered} answers saved offline; {} of {} questions shown; ready: {}",
                survey
                    .evaluation
                    .questions
                    .iter()
                    .filter(|question| question.visible)
                    .count(),
                survey.template.questions.len(),
                survey.evaluation.ready
            );
            match store.submit_survey(&project, INSPECTION_TASK) {
                Ok(submission) => {
                    store.approve_survey(&submission.uuid)?;
                    println!("survey submitted ({}), approved by QA", submission.uuid);
                }
                Err(err) => println!("survey not submitted: {err}"),
            }
        }
    }

    heading(step, "Complete: refused until the after photo is taken");
    match store.complete_project(&project, None) {
        Err(fieldsync_core::Error::CompletionBlocked { unmet, .. }) => {
            println!("refused:");
            table.unmet_table(&unmet);
        }
        Err(err) => println!("refused: {err}"),
        Ok(_) => println!("(completed without the after photo?)"),
    }
    let after = take("after_front.jpg", PHOTO_AFTER, EvidenceType::After)?;
    let completion = store.complete_project(&project, None)?;
    println!(
        "after photo {after} taken; completed: status {} queued",
        completion.status
    );
    store.approve_project_photos(&project)?;
    table.outbox(&store.outbox_entries(false)?)?;
    let _ = std::fs::remove_dir_all(&photo_dir);

    heading(step, "Back in signal: sync, and what the provider received");
    admin.clear_faults();
    let report = engine.push_outbox(CODE, true)?;
    println!("{} item(s) delivered", report.delivered);
    let surveys = admin.surveys(&fieldsync_provider::SurveyFilter {
        work_order_number: Some(INSPECTION.into()),
        ..Default::default()
    })?;
    for survey in &surveys {
        println!(
            "survey {} ({}): {} answers, photos {:?}, photos received before it: {}",
            survey.uuid,
            survey.template_id,
            survey.answer_count,
            survey.photo_uuids,
            survey.photos_received_before
        );
    }
    if surveys.is_empty() {
        println!("no survey for {INSPECTION} at the provider");
    }
    let pictures = admin
        .received_pictures()?
        .into_iter()
        .filter(|item| item.work_order_number == INSPECTION)
        .count();
    println!("{pictures} photo(s) of {INSPECTION} at the provider");
    for update in admin.status_updates()? {
        if update.work_order_number == INSPECTION {
            println!("status of {INSPECTION} at the provider: {}", update.status);
        }
    }
    table.category_counts(&store.category_counts()?)?;
    Ok(())
}
