//! Field work end to end against the emulator, with real JPEGs and a real SQLite file: surveys answered
//! offline and relayed once after their photos, re-submission, rework, completion with its requirements,
//! field statuses and categories, and projects created on the device before their order arrives.

use std::ops::Deref;

use fieldsync_core::Error;
use fieldsync_core::model::{Category, FieldStatus, ImportKind, NewIntegration, ProjectQuery};
use fieldsync_core::outbox::{EntryKind, WaitReason};
use fieldsync_core::photo::{EvidenceType, PhotoState};
use fieldsync_core::requirements::UnmetRequirement;
use fieldsync_core::store::NewLocalProject;
use fieldsync_core::survey::{AnswerProblem, AnswerValue};
use fieldsync_provider::SurveyFilter;
use fieldsync_tests::world::{self, CODE, Device, fixture_photo, order_with, project, provider_with_orders};
use serde_json::{Value, json};

/// A small inspection: a yes/no that shows a text, a choice that shows a photo question.
fn inspection(previous: bool) -> Value {
    let mut template = json!({
        "meta": {"surveyTemplateId": "mini-insp", "version": "1", "name": "Mini inspection"},
        "questions": [
            {"type": "section", "name": "Exterior", "questions": [
                {"id": "occupied", "question": "Occupied?", "answerType": "yesno", "required": true},
                {"id": "occupant", "question": "Occupant name", "answerType": "text", "required": true,
                 "showIf": {"question": "occupied", "equals": "Yes"}},
                {"id": "roof", "question": "Roof", "answerType": "select", "answerOptions": ["Good", "Poor"],
                 "required": true},
                {"id": "roof_photos", "question": "Roof damage", "answerType": "photo", "minPhotos": 1,
                 "required": true, "showIf": {"question": "roof", "equals": "Poor"}}
            ]},
            {"id": "bid", "question": "Bid", "answerType": "number", "min": 0}
        ]
    });
    if previous {
        template["questions"][0]["questions"][0]["answer"] = json!("No");
        template["questions"][0]["questions"][2]["answer"] = json!("Poor");
    }
    template
}

struct World(world::World);

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.0
    }
}

/// Orders 1 and 2 at the standard place; order 1's task "Lawn Cut" carries the inline survey.
fn world(auto_relay: bool, options: Value) -> World {
    let provider = provider_with_orders([
        order_with(
            "1",
            json!({"options": options,
                "services": [{"serviceName": "Lawn Cut", "surveyDynamic": inspection(false)}]}),
        ),
        order_with("2", json!({})),
    ]);
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = auto_relay;
    let device = Device::with_photos(new, |engine| engine);
    device.full_import();
    World(world::World { provider, device })
}

impl World {
    fn answer(&self, question: &str, answer: AnswerValue) -> Result<AnswerValue, Error> {
        self.store
            .save_survey_answer(&project("1"), "Lawn Cut", question, &answer)
    }

    fn photo(&self, number: &str, evidence: EvidenceType) -> String {
        let file = match evidence {
            EvidenceType::After => "after_front.jpg",
            _ => "before_front.jpg",
        };
        self.add_photo(number, &fixture_photo(file), evidence, None)
            .expect("the photo is taken")
            .uuid
    }

    fn push(&self) -> u64 {
        self.engine
            .push_outbox(CODE, true)
            .expect("the push runs")
            .delivered
    }

    fn received_surveys(&self) -> Vec<fieldsync_provider::ReceivedSurvey> {
        self.provider
            .admin()
            .surveys(&SurveyFilter::default())
            .expect("the emulator lists surveys")
    }

    fn field_status(&self, number: &str) -> FieldStatus {
        self.store
            .list_projects(&ProjectQuery::default())
            .unwrap()
            .into_iter()
            .find(|summary| summary.work_order_number == number)
            .expect("the project is listed")
            .field_status
    }
}

#[test]
fn a_survey_answered_offline_across_a_restart_is_relayed_once_after_its_photos() {
    let world = world(false, json!({}));
    let photo = world.photo("1", EvidenceType::Before);
    world.answer("occupied", AnswerValue::YesNo(false)).unwrap();
    world
        .answer("roof", AnswerValue::SingleChoice("poor".into()))
        .unwrap();
    world
        .answer("roof_photos", AnswerValue::Photos(vec![photo.clone()]))
        .unwrap();
    // The provider is unreachable while the crew works: nothing above needed it.
    let World(world::World { provider, device }) = world;
    let device = device.restart();
    let world = World(world::World { provider, device });
    let survey = world.store.task_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(
        survey.answers.get("roof"),
        Some(&AnswerValue::SingleChoice("Poor".into())),
        "the answer survived the restart, spelled as in the template"
    );
    assert!(survey.evaluation.ready, "{:?}", survey.evaluation);
    let submitted = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(submitted.state, "pending_qa");
    assert_eq!(submitted.photo_ids, vec![photo.clone()]);

    // QA lets the survey go while its photo still waits for QA: the survey waits for the photo.
    world.store.approve_survey(&submitted.uuid).unwrap();
    let entry = world
        .store
        .pending_outbox_entries(CODE)
        .unwrap()
        .into_iter()
        .find(|entry| entry.id == submitted.uuid)
        .unwrap();
    assert_eq!(entry.kind, EntryKind::Survey);
    assert_eq!(entry.waits_for, Some(WaitReason::ReferencedPhotos));
    assert_eq!(world.push(), 0, "nothing may go: the photo is in QA");
    assert!(world.received_surveys().is_empty());

    world.store.approve_photo(&photo).unwrap();
    assert_eq!(world.push(), 2, "the photo, then the survey");
    assert_eq!(world.push(), 0, "nothing twice");
    let received = world.received_surveys();
    assert_eq!(received.len(), 1);
    let survey = &received[0];
    assert_eq!(survey.uuid, submitted.uuid);
    assert_eq!(survey.deliveries, 1);
    assert_eq!(survey.photo_uuids, vec![photo.clone()]);
    assert!(
        survey.photos_received_before,
        "the survey arrived after its photo"
    );
    assert_eq!(survey.template_id, "mini-insp");
    let ids: Vec<&str> = survey
        .answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["occupied", "roof", "roof_photos"],
        "hidden questions are not sent"
    );
    assert_eq!(
        world.store.survey_submission(&submitted.uuid).unwrap().state,
        "relayed"
    );
    assert_eq!(world.field_status("1"), FieldStatus::InProcess);
}

#[test]
fn each_submission_is_its_own_item() {
    let world = world(true, json!({}));
    world.answer("occupied", AnswerValue::YesNo(false)).unwrap();
    world
        .answer("roof", AnswerValue::SingleChoice("Good".into()))
        .unwrap();
    world.answer("bid", AnswerValue::Number(150.0)).unwrap();
    let first = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    world.answer("bid", AnswerValue::Number(175.5)).unwrap();
    let second = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    assert_ne!(first.uuid, second.uuid);
    assert_eq!(world.push(), 2);
    let received = world.received_surveys();
    assert_eq!(received.len(), 2);
    let bids: Vec<Value> = received
        .iter()
        .map(|survey| {
            survey
                .answers
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == "bid")
                .unwrap()["answer"]
                .clone()
        })
        .collect();
    assert_eq!(bids, [json!("150"), json!("175.5")]);
    assert_eq!(
        world
            .store
            .task_survey(&project("1"), "Lawn Cut")
            .unwrap()
            .submissions
            .len(),
        2
    );
}

#[test]
fn rework_starts_from_the_previous_answers_and_sends_only_new_photos() {
    let world = world(true, json!({}));
    // First round: a photo relayed with the first submission.
    let first_photo = world.photo("1", EvidenceType::Before);
    world.answer("occupied", AnswerValue::YesNo(false)).unwrap();
    world
        .answer("roof", AnswerValue::SingleChoice("Poor".into()))
        .unwrap();
    world
        .answer("roof_photos", AnswerValue::Photos(vec![first_photo.clone()]))
        .unwrap();
    world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(world.push(), 2);

    // The provider sends the order back for rework, with the previous answers in its template.
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"status": "REWORK"}))
        .unwrap();
    world
        .provider
        .admin()
        .set_service_survey("1", "Lawn Cut", None, Some(inspection(true)))
        .unwrap();
    world.engine.refresh(CODE, ImportKind::Refresh).unwrap();
    // A fresh task on another device would start from the provider's answers; here the crew's own draft
    // wins where it has one, and the provider's fill the rest.
    world
        .store
        .clear_survey_answer(&project("1"), "Lawn Cut", "occupied")
        .unwrap();
    let survey = world.store.task_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(survey.answers.get("occupied"), Some(&AnswerValue::YesNo(false)));
    assert_eq!(survey.from_previous, vec!["occupied".to_owned()]);

    let second_photo = world.photo("1", EvidenceType::After);
    world
        .answer(
            "roof_photos",
            AnswerValue::Photos(vec![first_photo.clone(), second_photo.clone()]),
        )
        .unwrap();
    let resubmitted = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(
        resubmitted.photo_ids,
        vec![first_photo.clone(), second_photo.clone()]
    );
    assert_eq!(
        world.push(),
        2,
        "the new photo and the survey; the first photo is not sent again"
    );
    let pictures = world.provider.admin().received_pictures().unwrap();
    assert_eq!(pictures.len(), 2);
    assert!(pictures.iter().all(|picture| picture.deliveries == 1));
    let received = world.received_surveys();
    let last = received.iter().find(|s| s.uuid == resubmitted.uuid).unwrap();
    assert!(last.photos_received_before);
    assert_eq!(
        world
            .store
            .list_projects(&ProjectQuery {
                category: Some(Category::Rework),
                ..ProjectQuery::default()
            })
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn completion_is_refused_until_the_requirements_are_met_and_the_status_arrives_once() {
    let world = world(
        true,
        json!({"photos_required": {"after": 1}, "check_in_required": true}),
    );
    let refused = world.store.complete_project(&project("1"), None).unwrap_err();
    let Error::CompletionBlocked { unmet, .. } = &refused else {
        panic!("expected a blocked completion, got {refused}");
    };
    let kinds: Vec<(Option<&str>, UnmetRequirement, u32, u32)> = unmet
        .iter()
        .map(|unmet| (unmet.task.as_deref(), unmet.requirement, unmet.have, unmet.need))
        .collect();
    assert_eq!(
        kinds,
        [
            (None, UnmetRequirement::CheckIn, 0, 1),
            (
                Some("Lawn Cut"),
                UnmetRequirement::Photos {
                    evidence: EvidenceType::After
                },
                0,
                1
            ),
        ]
    );
    // A QA-rejected after photo does not count.
    let rejected = world.photo("1", EvidenceType::After);
    world.store.reject_photo(&rejected, "blurry").unwrap();
    world.check_in("1", fieldsync_core::model::now()).unwrap();
    let unmet = world.store.completion_requirements(&project("1")).unwrap();
    assert_eq!(unmet.len(), 1);
    assert_eq!(
        unmet[0].requirement,
        UnmetRequirement::Photos {
            evidence: EvidenceType::After
        }
    );

    // A different photo (the same bytes as the rejected one would be the same photo).
    world
        .add_photo("1", &fixture_photo("before_front.jpg"), EvidenceType::After, None)
        .unwrap();
    let completion = world.store.complete_project(&project("1"), None).unwrap();
    assert_eq!(completion.status, "Complete");
    assert!(completion.overridden.is_empty());
    assert!(matches!(
        world.store.complete_project(&project("1"), None),
        Err(Error::AlreadyCompleted(_))
    ));
    assert_eq!(world.field_status("1"), FieldStatus::Completed);
    world.push();
    world.push();
    let statuses: Vec<_> = world
        .provider
        .admin()
        .status_updates()
        .unwrap()
        .into_iter()
        .filter(|update| update.work_order_number == "1")
        .collect();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].status, "Complete");
    assert_eq!(statuses[0].deliveries, 1);
}

#[test]
fn a_forced_completion_records_and_sends_its_reason() {
    let world = world(true, json!({"photos_required": {"after": 2}}));
    assert!(matches!(
        world.store.complete_project(&project("1"), Some("  ")),
        Err(Error::InvalidInput(_))
    ));
    let completion = world
        .store
        .complete_project(&project("1"), Some("gate locked, client approved by phone"))
        .unwrap();
    assert_eq!(completion.overridden.len(), 1);
    assert_eq!(world.push(), 1);
    let update = world.provider.admin().status_updates().unwrap().pop().unwrap();
    assert_eq!(
        update.reason.as_deref(),
        Some("gate locked, client approved by phone")
    );
}

#[test]
fn publish_mode_completion_approves_what_waits_for_qa() {
    let world = world(false, json!({"complete_mode": "publish"}));
    let photo = world.photo("1", EvidenceType::Before);
    world.answer("occupied", AnswerValue::YesNo(false)).unwrap();
    world
        .answer("roof", AnswerValue::SingleChoice("Good".into()))
        .unwrap();
    let survey = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap();
    assert_eq!(world.push(), 0, "both wait for QA");
    let completion = world.store.complete_project(&project("1"), None).unwrap();
    assert_eq!((completion.approved_photos, completion.approved_surveys), (1, 1));
    assert_eq!(world.push(), 3, "the photo, the survey and the status");
    assert_eq!(world.store.photo(&photo).unwrap().state, PhotoState::Relayed);
    assert_eq!(
        world.store.survey_submission(&survey.uuid).unwrap().state,
        "relayed"
    );
}

#[test]
fn bad_answers_and_incomplete_surveys_are_refused_with_nothing_written() {
    let world = world(true, json!({}));
    let other_project_photo = world.photo("2", EvidenceType::Before);
    let cases = [
        ("occupied", AnswerValue::Number(3.0)),
        ("roof", AnswerValue::SingleChoice("Excellent".into())),
        ("bid", AnswerValue::Number(-5.0)),
        ("roof_photos", AnswerValue::Photos(vec![other_project_photo])),
        ("roof_photos", AnswerValue::Photos(vec!["not-taken-yet".into()])),
    ];
    for (question, answer) in cases {
        let err = world.answer(question, answer.clone()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidAnswer(_)),
            "{question} {answer:?}: {err}"
        );
    }
    assert!(matches!(
        world.answer("nope", AnswerValue::Text("x".into())),
        Err(Error::UnknownQuestion { .. })
    ));
    let survey = world.store.task_survey(&project("1"), "Lawn Cut").unwrap();
    assert!(
        survey.answers.is_empty(),
        "nothing was written: {:?}",
        survey.answers
    );
    world.answer("occupied", AnswerValue::YesNo(true)).unwrap();
    let err = world.store.submit_survey(&project("1"), "Lawn Cut").unwrap_err();
    let Error::SurveyIncomplete { missing, .. } = &err else {
        panic!("expected an incomplete survey, got {err}");
    };
    assert_eq!(missing, &["occupant".to_owned(), "roof".to_owned()]);
    assert!(world.store.survey_submissions(None).unwrap().is_empty());
    assert!(matches!(
        world.store.task_survey(&project("2"), "Lawn Cut"),
        Err(Error::NoSurvey { .. })
    ));
    assert!(matches!(
        world.store.task_survey(&project("1"), "Mowing"),
        Err(Error::UnknownTask { .. })
    ));
    let _ = AnswerProblem::Empty {
        question: String::new(),
    };
}

#[test]
fn a_template_named_by_id_waits_for_the_library() {
    let world = world(true, json!({}));
    world
        .provider
        .admin()
        .set_service_survey("2", "Lawn Cut", Some("mini-insp"), None)
        .unwrap();
    world.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    let err = world.store.task_survey(&project("2"), "Lawn Cut").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownSurveyTemplate { template, .. } if template == "mini-insp"),
        "{err}"
    );
    let info = world
        .store
        .add_survey_template(inspection(false).to_string().as_bytes())
        .unwrap();
    assert_eq!((info.id.as_str(), info.questions), ("mini-insp", 5));
    let survey = world.store.task_survey(&project("2"), "Lawn Cut").unwrap();
    assert_eq!(survey.template_info.id, "mini-insp");
    // The seeded 75-question inspection loads too.
    let seeded = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/surveys/property-inspection.json"
    ))
    .unwrap();
    assert!(world.store.add_survey_template(&seeded).unwrap().questions >= 60);
}

#[test]
fn field_statuses_follow_the_crew_and_categories_count_in_one_call() {
    let world = world(true, json!({}));
    assert_eq!(world.field_status("1"), FieldStatus::New);
    world.store.project(&project("1")).unwrap();
    assert_eq!(world.field_status("1"), FieldStatus::New, "reading never writes");
    world.store.mark_viewed(&project("1")).unwrap();
    assert_eq!(world.field_status("1"), FieldStatus::Viewed);
    world.answer("bid", AnswerValue::Number(10.0)).unwrap();
    assert_eq!(world.field_status("1"), FieldStatus::InProcess);

    world
        .provider
        .admin()
        .patch_work_order("2", json!({"status": "RUSH"}))
        .unwrap();
    world.engine.refresh(CODE, ImportKind::Refresh).unwrap();
    let counts = world.store.category_counts().unwrap();
    assert_eq!((counts.rush, counts.assigned, counts.complete), (1, 1, 0));
    let rush = world
        .store
        .list_projects(&ProjectQuery {
            category: Some(Category::Rush),
            ..ProjectQuery::default()
        })
        .unwrap();
    assert_eq!(rush.len(), 1);
    assert_eq!(rush[0].work_order_number, "2");
    assert_eq!(rush[0].category, Category::Rush);
    let in_process = world
        .store
        .list_projects(&ProjectQuery {
            field_status: Some(FieldStatus::InProcess),
            ..ProjectQuery::default()
        })
        .unwrap();
    assert_eq!(in_process.len(), 1);
}

#[test]
fn a_viewed_project_changed_by_an_import_is_updated_until_viewed_again() {
    let world = world(true, json!({}));
    world.store.mark_viewed(&project("2")).unwrap();
    world.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    assert_eq!(
        world.field_status("2"),
        FieldStatus::Viewed,
        "an unchanged import changes nothing"
    );
    world
        .provider
        .admin()
        .patch_work_order("2", json!({"clientInstructions": "gate code 4411"}))
        .unwrap();
    world.engine.refresh(CODE, ImportKind::Refresh).unwrap();
    assert_eq!(world.field_status("2"), FieldStatus::Updated);
    world.store.mark_viewed(&project("2")).unwrap();
    assert_eq!(world.field_status("2"), FieldStatus::Viewed);
}

#[test]
fn a_local_project_waits_for_its_order_and_is_adopted_by_a_later_import() {
    let world = world(true, json!({}));
    let local = world
        .store
        .create_local_project(&NewLocalProject {
            integration: CODE.into(),
            work_order_number: "9".into(),
            address1: Some("412 Elm St".into()),
            city: Some("Springfield".into()),
            tasks: vec!["Lawn Cut".into()],
            ..NewLocalProject::default()
        })
        .unwrap();
    assert_eq!(local.work_order_number, "9");
    assert!(matches!(
        world.store.create_local_project(&NewLocalProject {
            integration: CODE.into(),
            work_order_number: "1".into(),
            ..NewLocalProject::default()
        }),
        Err(Error::ProjectExists(_))
    ));
    let check_in = world.check_in("9", fieldsync_core::model::now()).unwrap();
    let photo = world.photo("9", EvidenceType::Before);
    let waiting = world.store.pending_outbox_entries(CODE).unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting
            .iter()
            .all(|entry| entry.waits_for == Some(WaitReason::ProviderOrder)),
        "{waiting:?}"
    );
    assert_eq!(
        world.push(),
        0,
        "nothing goes for an order the provider does not have"
    );
    // A Full Import that does not list it keeps it, with its work.
    world.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    assert!(world.store.project(&project("9")).is_ok());
    assert!(world.provider.admin().received_checkins().unwrap().is_empty());

    world
        .provider
        .admin()
        .create_work_order(order_with("9", json!({"clientInstructions": "front yard only"})))
        .unwrap();
    let report = world.engine.refresh(CODE, ImportKind::Refresh).unwrap();
    assert_eq!(report.adopted, 1);
    let adopted = world.store.project(&project("9")).unwrap();
    assert_eq!(adopted.client_instructions.as_deref(), Some("front yard only"));
    assert_eq!(
        world.push(),
        2,
        "the check-in and the photo go once the order exists"
    );
    assert_eq!(
        world.provider.admin().received_checkins().unwrap()[0].uuid,
        check_in.uuid
    );
    assert_eq!(world.provider.admin().received_pictures().unwrap()[0].uuid, photo);
}

#[test]
fn a_discarded_local_project_exports_its_work_first() {
    let world = world(true, json!({}));
    world
        .store
        .create_local_project(&NewLocalProject {
            integration: CODE.into(),
            work_order_number: "77".into(),
            tasks: vec!["Lawn Cut".into()],
            ..NewLocalProject::default()
        })
        .unwrap();
    let photo = world.photo("77", EvidenceType::Before);
    assert!(matches!(
        world
            .store
            .discard_local_project(world.photo_files(), &project("1")),
        Err(Error::NotLocalProject(_))
    ));
    let export = world
        .store
        .discard_local_project(world.photo_files(), &project("77"))
        .unwrap();
    assert_eq!(export.photos.len(), 1);
    assert_eq!(export.photos[0].photo.uuid, photo);
    assert!(export.folder.join(&export.photos[0].original.file).is_file());
    assert!(matches!(
        world.store.project(&project("77")),
        Err(Error::UnknownProject(_))
    ));
    assert!(world.store.pending_outbox_entries(CODE).unwrap().is_empty());
}
