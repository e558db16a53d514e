//! Surveys: orders whose services carry a survey (seeded and set by the admin), survey items received by
//! `uploadPictures` (dedupe, referenced photos, malformed ones), status entries with extra fields, and
//! the seeded template fixture itself.

use std::collections::{HashMap, HashSet};

use fieldsync_provider::surveys::{PROPERTY_INSPECTION_ID, PROPERTY_INSPECTION_JSON, property_inspection};
use fieldsync_provider::{ProviderError, SurveyFilter};
use reqwest::StatusCode;
use reqwest::blocking::{Response, multipart};
use serde_json::{Value, json};

use crate::common::*;

fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().expect("JSON body"))
}

/// The survey item fieldsync relays for a task: `payload` + a `file` part holding the survey JSON.
fn survey_item(uuid: &str, order: &str, survey: &Value) -> Value {
    json!({
        "uuId": uuid, "key2": order, "key4": "Property Inspection", "fileType": "survey",
        "evidenceType": "Survey", "template": format!("PS1::{}", survey["surveyId"].as_str().unwrap_or("")),
        "fileName": "survey.json", "fileExt": "json", "timestamp": 1_700_000_100, "deviceId": "dev-1",
        "survey": survey
    })
}

/// A submitted survey of the seeded template referencing `photos` in its photo answer.
fn answers_with_photos(photos: &[&str]) -> Value {
    json!({"surveyId": PROPERTY_INSPECTION_ID, "answers": [
        {"id": "occupancy_status", "question": "Occupancy status", "answerType": "select", "answer": "Vacant",
         "answerOptions": ["Vacant", "Occupied by owner"], "hint": null},
        {"id": "roof_condition", "question": "Roof condition", "answerType": "select", "answer": "Poor",
         "answerOptions": ["Good", "Fair", "Poor"], "hint": "From the ground"},
        {"id": "roof_photos", "question": "Photos of the roof damage", "answerType": "photo", "answer": photos},
        {"id": "hazards", "question": "Hazards observed", "answerType": "multiselect",
         "answer": ["Broken glass", "Trip hazards"], "answerOptions": ["Broken glass", "Trip hazards"]},
        {"id": "tarp_sqft", "question": "Estimated tarp area (sq ft)", "answerType": "number", "answer": "120"},
        {"id": "general_comments", "question": "General comments", "answerType": "textarea", "answer": null}
    ]})
}

impl Env {
    /// Uploads an item whose `file` part is `file` as `survey.json` (`application/json`).
    fn upload_survey(&self, item: &Value, file: &[u8]) -> Response {
        let part = multipart::Part::bytes(file.to_vec())
            .file_name("survey.json")
            .mime_str("application/json")
            .unwrap();
        let form = multipart::Form::new()
            .text("payload", with_auth(item.clone()).to_string())
            .part("file", part);
        self.client
            .post(self.url("uploadPictures"))
            .multipart(form)
            .send()
            .unwrap()
    }
}

fn inspection_order(number: &str) -> Value {
    let mut doc = order(number, Some(USER));
    doc["services"] = json!([
        {"serviceName": "Property Inspection", "instructions": "Answer the survey", "options": {}},
        {"serviceName": "Grass Cut", "instructions": "cut", "options": {}}
    ]);
    doc
}

#[test]
fn a_survey_is_stored_once_and_reports_its_photos_as_received_before_or_missing() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(inspection_order("WO-S1")).unwrap();
    env.upload(&picture("p-1", "WO-S1"), Some(b"photo one".to_vec()))
        .unwrap();

    // p-1 arrived before the survey, p-2 did not.
    let survey = answers_with_photos(&["p-1", "p-2"]);
    let file = serde_json::to_vec(&survey).unwrap();
    let (status, body) = json_of(env.upload_survey(&survey_item("s-1", "WO-S1", &survey), &file));
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": true, "error": null}))
    );

    let surveys = admin.surveys(&SurveyFilter::default()).unwrap();
    assert_eq!(surveys.len(), 1);
    let s = &surveys[0];
    assert_eq!(
        (
            s.uuid.as_str(),
            s.work_order_number.as_str(),
            s.task_name.as_deref()
        ),
        ("s-1", "WO-S1", Some("Property Inspection"))
    );
    assert_eq!(
        (s.template_id.as_str(), s.template.as_deref()),
        (PROPERTY_INSPECTION_ID, Some("PS1::hpirFull-v3"))
    );
    assert_eq!(s.answer_count, 6);
    assert_eq!(s.answers, survey["answers"]);
    assert_eq!(s.photo_uuids, ["p-1", "p-2"]);
    assert!(!s.photos_received_before);
    assert_eq!(s.missing_photos, ["p-2"]);
    assert_eq!(s.missing_photos_now, ["p-2"]);
    assert!(s.file_matches_survey);
    assert_eq!(s.deliveries, 1);
    assert_eq!(admin.item_file("s-1").unwrap().unwrap(), file);

    // The retry of the same uuId is acknowledged and counted, not stored again (even with other content).
    let other = answers_with_photos(&["p-9"]);
    let (status, body) = json_of(env.upload_survey(
        &survey_item("s-1", "WO-S1", &other),
        &serde_json::to_vec(&other).unwrap(),
    ));
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!(true)));
    let surveys = admin.surveys(&SurveyFilter::default()).unwrap();
    assert_eq!(surveys.len(), 1);
    assert_eq!(
        (surveys[0].deliveries, surveys[0].photo_uuids.clone()),
        (2, vec!["p-1".to_owned(), "p-2".to_owned()])
    );

    // p-2 arrives late: it was missing on arrival, it is not any more.
    env.upload(&picture("p-2", "WO-S1"), Some(b"photo two".to_vec()))
        .unwrap();
    let s = &admin.surveys(&SurveyFilter::default()).unwrap()[0];
    assert_eq!(
        (
            s.photos_received_before,
            s.missing_photos.clone(),
            s.missing_photos_now.clone()
        ),
        (false, vec!["p-2".to_owned()], vec![])
    );

    // A second survey whose photos had all arrived; its file differs from its payload.
    let survey = answers_with_photos(&["p-1", "p-2", "p-1"]);
    let (status, _) = json_of(env.upload_survey(&survey_item("s-2", "WO-S1", &survey), b"{}"));
    assert_eq!(status, StatusCode::OK);
    let s2 = admin
        .surveys(&SurveyFilter {
            uuid: Some("s-2".to_owned()),
            ..SurveyFilter::default()
        })
        .unwrap();
    assert_eq!(s2.len(), 1);
    assert_eq!(s2[0].photo_uuids, ["p-1", "p-2"], "a repeated uuid counts once");
    assert!(s2[0].photos_received_before && s2[0].missing_photos.is_empty());
    assert!(!s2[0].file_matches_survey);

    // Over HTTP, with filters; the generic item list has them too.
    let c = &env.client;
    let (status, all) = json_of(c.get(env.admin_url("/surveys")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["uuid"], json!("s-1"));
    assert_eq!(all[0]["photosReceivedBefore"], json!(false));
    assert_eq!(all[0]["missingPhotos"], json!(["p-2"]));
    assert_eq!(all[0]["photoUuids"], json!(["p-1", "p-2"]));
    assert_eq!(all[0]["templateId"], json!(PROPERTY_INSPECTION_ID));
    assert_eq!(all[0]["answers"][2]["answer"], json!(["p-1", "p-2"]));
    assert!(all[0]["receivedAt"].is_i64());
    assert_eq!(all[1]["photosReceivedBefore"], json!(true));
    let (_, one) = json_of(c.get(env.admin_url("/surveys?uuid=s-2")).send().unwrap());
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, none) = json_of(
        c.get(env.admin_url("/surveys?workOrderNumber=WO-OTHER"))
            .send()
            .unwrap(),
    );
    assert_eq!(none, json!([]));
    let (_, by_order) = json_of(
        c.get(env.admin_url("/surveys?workOrderNumber=WO-S1"))
            .send()
            .unwrap(),
    );
    assert_eq!(by_order.as_array().unwrap().len(), 2);
    let (_, items) = json_of(c.get(env.admin_url("/items?fileType=survey")).send().unwrap());
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert_eq!(items[0]["evidenceType"], json!("Survey"));
}

#[test]
fn a_malformed_survey_item_is_refused_and_nothing_is_stored() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(inspection_order("WO-S2")).unwrap();
    let good = answers_with_photos(&["p-1"]);
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut no_survey = survey_item("m-1", "WO-S2", &good);
    no_survey.as_object_mut().unwrap().remove("survey");
    cases.push(("no survey", no_survey));
    let mut not_json = survey_item("m-2", "WO-S2", &good);
    not_json["survey"] = json!("{\"surveyId\": ");
    cases.push(("survey not parsable", not_json));
    cases.push((
        "no answers",
        survey_item("m-3", "WO-S2", &json!({"surveyId": PROPERTY_INSPECTION_ID})),
    ));
    cases.push((
        "empty answers",
        survey_item(
            "m-4",
            "WO-S2",
            &json!({"surveyId": PROPERTY_INSPECTION_ID, "answers": []}),
        ),
    ));
    cases.push((
        "answers not an array",
        survey_item(
            "m-5",
            "WO-S2",
            &json!({"surveyId": PROPERTY_INSPECTION_ID, "answers": {"roof": "Poor"}}),
        ),
    ));
    cases.push((
        "photo answer not an array",
        survey_item(
            "m-6",
            "WO-S2",
            &json!({"surveyId": PROPERTY_INSPECTION_ID, "answers": [
                {"id": "roof_photos", "question": "Photos", "answerType": "photo", "answer": "p-1"}]}),
        ),
    ));
    for (what, item) in cases {
        let (status, body) = json_of(env.upload_survey(&item, b"{}"));
        // The emulator's status for every malformed wire request (see `auth::malformed_requests_...`).
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{what}: {body}");
        assert_eq!(body["status"], json!(false), "{what}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}");
    }
    assert!(admin.received_items(&Default::default()).unwrap().is_empty());
    assert!(admin.surveys(&SurveyFilter::default()).unwrap().is_empty());

    // The same uuid, well-formed, is then accepted: a refused item left nothing behind.
    let (status, body) = json_of(env.upload_survey(&survey_item("m-1", "WO-S2", &good), b"{}"));
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(admin.surveys(&SurveyFilter::default()).unwrap().len(), 1);
}

fn service<'a>(body: &'a Value, number: &str, index: usize) -> &'a Value {
    let order = body["workOrders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["workOrderNumber"] == json!(number))
        .unwrap_or_else(|| panic!("{number} not served"));
    &order["services"][index]
}

/// The questions of a template, sections flattened.
fn questions(template: &Value) -> Vec<&Value> {
    fn walk<'a>(items: &'a Value, out: &mut Vec<&'a Value>) {
        for item in items.as_array().expect("questions array") {
            if item["type"] == json!("section") {
                walk(&item["questions"], out);
            } else {
                out.push(item);
            }
        }
    }
    let mut out = Vec::new();
    walk(&template["questions"], &mut out);
    out
}

#[test]
fn the_seeded_orders_serve_their_surveys_untouched() {
    let env = env();
    let report = env.provider.admin().seed_demo().unwrap();
    for number in ["WO-100109", "WO-100110", "WO-100111"] {
        assert!(report.work_order_numbers.iter().any(|n| n == number), "{number}");
    }
    let body = env.pull(Value::Null);
    let template = property_inspection();

    // By id; inline, byte for byte the fixture's JSON value.
    let by_id = service(&body, "WO-100109", 0);
    assert_eq!(by_id["survey"], json!(PROPERTY_INSPECTION_ID));
    assert!(by_id.get("surveyDynamic").is_none());
    let inline = service(&body, "WO-100110", 0);
    assert_eq!(inline["surveyDynamic"], template);
    assert!(inline.get("survey").is_none());

    // The rework: status REWORK, the template with previous answers and nothing else changed.
    let rework_order = body["workOrders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["workOrderNumber"] == json!("WO-100111"))
        .unwrap();
    assert_eq!(rework_order["status"], json!("REWORK"));
    let rework = &service(&body, "WO-100111", 0)["surveyDynamic"];
    let answered: HashMap<&str, &Value> = questions(rework)
        .into_iter()
        .filter_map(|q| q.get("answer").map(|a| (q["id"].as_str().unwrap(), a)))
        .collect();
    assert!(answered.len() >= 5, "{answered:?}");
    assert_eq!(answered["roof_condition"], &json!("Poor"));
    assert_eq!(
        answered["exterior_damage"],
        &json!(["Siding damage", "Fence damage"])
    );
    let mut without_answers = rework.clone();
    fn strip(items: &mut Value) {
        for item in items.as_array_mut().unwrap() {
            item.as_object_mut().unwrap().remove("answer");
            if item.get("questions").is_some() {
                strip(&mut item["questions"]);
            }
        }
    }
    strip(&mut without_answers["questions"]);
    assert_eq!(without_answers, template);

    // The original eight carry no survey.
    for n in 1..=8 {
        let number = format!("WO-10010{n}");
        for i in 0..2 {
            let s = service(&body, &number, i);
            assert!(
                s.get("survey").is_none() && s.get("surveyDynamic").is_none(),
                "{number}"
            );
        }
    }
}

#[test]
fn the_admin_gives_a_task_a_survey_in_process_and_over_http() {
    let env = env();
    let admin = env.provider.admin();
    admin.set_time(Some(1_700_000_000));
    admin.create_work_order(inspection_order("WO-S3")).unwrap();
    let first = env.pull(Value::Null);
    assert!(service(&first, "WO-S3", 0).get("survey").is_none());

    // In process: by id, then inline (the id removed), then a field of the other service.
    admin.advance_time(10);
    let info = admin
        .set_service_survey("WO-S3", "Property Inspection", Some(PROPERTY_INSPECTION_ID), None)
        .unwrap();
    assert_eq!(info.updated_at, 1_700_000_010);
    let changed = env.pull(first["serverTime"].clone());
    assert_eq!(numbers(&changed), [("WO-S3".to_owned(), "Open".to_owned())]);
    assert_eq!(
        service(&changed, "WO-S3", 0)["survey"],
        json!(PROPERTY_INSPECTION_ID)
    );
    let inline = json!({"meta": {"surveyTemplateId": "mini", "version": "1", "name": "Mini"},
                        "questions": [{"id": "ok", "question": "OK?", "answerType": "yesno"}]});
    admin
        .set_service_survey("WO-S3", "Property Inspection", None, Some(inline.clone()))
        .unwrap();
    let body = env.pull(Value::Null);
    let s = service(&body, "WO-S3", 0);
    assert_eq!((s.get("survey"), &s["surveyDynamic"]), (None, &inline));
    assert_eq!(s["instructions"], json!("Answer the survey"), "other fields kept");
    admin
        .patch_service(
            "WO-S3",
            "Grass Cut",
            json!({"survey": "lawn-v1", "instructions": null}),
        )
        .unwrap();
    let body = env.pull(Value::Null);
    let s = service(&body, "WO-S3", 1);
    assert_eq!(
        (&s["survey"], s.get("instructions"), &s["serviceName"]),
        (&json!("lawn-v1"), None, &json!("Grass Cut"))
    );
    assert!(matches!(
        admin.set_service_survey("WO-S3", "Snow Removal", Some("x"), None),
        Err(ProviderError::NotFound { .. })
    ));
    assert!(matches!(
        admin.set_service_survey("NOPE", "Grass Cut", Some("x"), None),
        Err(ProviderError::NotFound { .. })
    ));
    assert!(admin.patch_service("WO-S3", "Grass Cut", json!([1])).is_err());

    // Over HTTP (a service name with a space, percent-encoded in the path).
    let c = &env.client;
    let url = env.admin_url("/work-orders/WO-S3/services/Property%20Inspection/survey");
    let (status, info) = json_of(
        c.put(&url)
            .json(&json!({"survey": PROPERTY_INSPECTION_ID, "surveyDynamic": inline}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, info["workOrderNumber"].clone()),
        (StatusCode::OK, json!("WO-S3"))
    );
    let s = service(&env.pull(Value::Null), "WO-S3", 0).clone();
    assert_eq!(
        (&s["survey"], &s["surveyDynamic"]),
        (&json!(PROPERTY_INSPECTION_ID), &inline)
    );
    let (status, _) = json_of(c.put(&url).json(&json!({"survey": null})).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    let s = service(&env.pull(Value::Null), "WO-S3", 0).clone();
    assert!(s.get("survey").is_none() && s.get("surveyDynamic").is_none());
    let (status, _) = json_of(
        c.patch(env.admin_url("/work-orders/WO-S3/services/Grass%20Cut"))
            .json(&json!({"options": {"photos_required": 3}}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        service(&env.pull(Value::Null), "WO-S3", 1)["options"],
        json!({"photos_required": 3})
    );
    let (status, body) = json_of(
        c.put(env.admin_url("/work-orders/WO-S3/services/Nope/survey"))
            .json(&json!({}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = json_of(c.put(&url).json(&json!({"surveyId": "x"})).send().unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown field refused");
}

#[test]
fn status_entries_keep_their_extra_fields() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(inspection_order("WO-S4")).unwrap();
    let request = with_auth(json!({"uuId": "st-1", "workOrders": [
        {"workOrderNumber": "WO-S4", "status": "Complete", "reason": "Survey answered on paper; client approved",
         "forcedBy": "tech1"}
    ]}));
    let (status, body) = env.call("status", &request);
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": true, "error": null}))
    );
    let updates = admin.status_updates().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].reason.as_deref(),
        Some("Survey answered on paper; client approved")
    );
    assert_eq!(updates[0].entry["forcedBy"], json!("tech1"));
    let (_, listed) = json_of(env.client.get(env.admin_url("/status-updates")).send().unwrap());
    assert_eq!(
        listed[0]["reason"],
        json!("Survey answered on paper; client approved")
    );
    assert_eq!(listed[0]["entry"]["reason"], listed[0]["reason"]);

    // Without a reason: null.
    env.call(
        "status",
        &with_auth(json!({"workOrders": [{"workOrderNumber": "WO-S4", "status": "Complete"}]})),
    );
    assert_eq!(admin.status_updates().unwrap()[1].reason, None);
}

/// Checks a survey template: unique ids, known answer types, options where needed, and `showIf`
/// conditions that name another question of the template, with values it can take, and no cycle.
/// Returns the flattened questions.
fn check_template(template: &Value) -> Vec<&Value> {
    let all = questions(template);
    let by_id: HashMap<&str, &Value> = all
        .iter()
        .map(|q| (q["id"].as_str().expect("every question has a string id"), *q))
        .collect();
    assert_eq!(by_id.len(), all.len(), "question ids are unique");
    let yes_no = json!(["Yes", "No"]);
    for q in &all {
        let id = q["id"].as_str().unwrap();
        assert!(
            q["question"].as_str().is_some_and(|t| !t.trim().is_empty()),
            "{id}: question text"
        );
        let kind = q["answerType"].as_str().expect("answerType");
        match kind {
            "yesno" | "text" | "textarea" | "date" => {}
            "number" => {
                if let (Some(min), Some(max)) = (q["min"].as_f64(), q["max"].as_f64()) {
                    assert!(min <= max, "{id}: min <= max");
                }
            }
            "select" | "multiselect" => {
                let options = q["answerOptions"].as_array().expect("answerOptions");
                assert!(options.len() >= 2, "{id}: options");
                let distinct: HashSet<_> = options.iter().map(Value::to_string).collect();
                assert_eq!(distinct.len(), options.len(), "{id}: distinct options");
            }
            "photo" => assert!(q["minPhotos"].as_u64().unwrap_or(1) >= 1, "{id}: minPhotos"),
            other => panic!("{id}: unknown answerType {other}"),
        }
        let Some(cond) = q.get("showIf") else { continue };
        let target_id = cond["question"].as_str().expect("showIf.question");
        assert_ne!(target_id, id, "{id}: a condition on itself");
        let target = by_id
            .get(target_id)
            .unwrap_or_else(|| panic!("{id}: showIf names unknown question {target_id}"));
        let allowed = match target["answerType"].as_str() {
            Some("yesno") => Some(yes_no.as_array().unwrap()),
            Some("select") => target["answerOptions"].as_array(),
            _ => None,
        };
        let values: Vec<&Value> = match (cond.get("equals"), cond.get("anyOf"), cond.get("answered")) {
            (Some(v), None, None) => vec![v],
            (None, Some(Value::Array(vs)), None) if !vs.is_empty() => vs.iter().collect(),
            (None, None, Some(Value::Bool(true))) => vec![],
            _ => panic!("{id}: showIf is one of equals, anyOf, answered: {cond}"),
        };
        if let Some(allowed) = allowed {
            for v in values {
                assert!(allowed.contains(v), "{id}: {v} is not an answer of {target_id}");
            }
        }
    }
    // No cycle: follow each condition chain; it must end within as many steps as there are questions.
    for q in &all {
        let mut seen = HashSet::new();
        let mut at = *q;
        while let Some(next) = at.get("showIf").map(|c| c["question"].as_str().unwrap()) {
            assert!(seen.insert(next), "a showIf cycle through {next}");
            at = by_id[next];
        }
    }
    all
}

#[test]
fn the_fixture_template_is_a_realistic_well_formed_inspection() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/surveys/property-inspection.json"
    );
    let on_disk = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        on_disk, PROPERTY_INSPECTION_JSON,
        "the emulator embeds the fixture"
    );
    let template: Value = serde_json::from_str(&on_disk).expect("the fixture is JSON");
    assert_eq!(
        template["meta"],
        json!({"surveyTemplateId": "hpirFull-v3", "version": "3",
               "name": "Property Condition Report (HUD-style inspection)"})
    );
    let sections = template["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["type"] == json!("section"))
        .count();
    assert!(sections >= 6, "{sections} sections");

    let all = check_template(&template);
    assert!((60..=80).contains(&all.len()), "{} questions", all.len());
    let kinds: HashSet<&str> = all.iter().map(|q| q["answerType"].as_str().unwrap()).collect();
    for kind in [
        "yesno",
        "text",
        "textarea",
        "number",
        "date",
        "select",
        "multiselect",
        "photo",
    ] {
        assert!(kinds.contains(kind), "no {kind} question");
    }
    let conditional: Vec<&&Value> = all.iter().filter(|q| q.get("showIf").is_some()).collect();
    assert!(conditional.len() >= 10, "{} conditions", conditional.len());
    let by_id: HashMap<&str, &Value> = all.iter().map(|q| (q["id"].as_str().unwrap(), *q)).collect();
    let chained = conditional
        .iter()
        .filter(|q| {
            by_id[q["showIf"]["question"].as_str().unwrap()]
                .get("showIf")
                .is_some()
        })
        .count();
    assert!(chained >= 1, "a condition chain");
    let photos: Vec<&&Value> = all.iter().filter(|q| q["answerType"] == json!("photo")).collect();
    assert!(photos.len() >= 6, "{} photo questions", photos.len());
    assert!(
        photos.iter().any(|q| q.get("showIf").is_some()),
        "a conditional photo"
    );
    assert!(
        photos.iter().any(|q| q["minPhotos"].as_u64() >= Some(2)),
        "minPhotos"
    );
    for kind in ["answered", "anyOf", "equals"] {
        assert!(
            conditional.iter().any(|q| q["showIf"].get(kind).is_some()),
            "no {kind} condition"
        );
    }

    // The checker catches what it is meant to catch.
    let cyclic = json!({"questions": [
        {"id": "a", "question": "Question a", "answerType": "yesno", "showIf": {"question": "b", "equals": "Yes"}},
        {"id": "b", "question": "Question b", "answerType": "yesno", "showIf": {"question": "a", "equals": "Yes"}}
    ]});
    assert!(std::panic::catch_unwind(|| check_template(&cyclic).len()).is_err());
    let dangling = json!({"questions": [
        {"id": "a", "question": "Question a", "answerType": "yesno", "showIf": {"question": "zz", "answered": true}}
    ]});
    assert!(std::panic::catch_unwind(|| check_template(&dangling).len()).is_err());
}
