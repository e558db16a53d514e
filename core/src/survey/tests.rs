//! One test per rule of the module doc (and `docs/SURVEYS.md`), then property tests.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const PHOTO_A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
const PHOTO_B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";
const PHOTO_C: &str = "6f1c2a3b-0000-4000-8000-00000000000c";
const FOREIGN: &str = "6f1c2a3b-0000-4000-8000-0000000000ff";

/// The example of `docs/SURVEYS.md`.
fn inspection() -> Value {
    json!({"meta": {"surveyTemplateId": "hpirFull-v3", "version": "3", "name": "Property inspection"},
    "questions": [
      {"type": "section", "name": "Exterior", "questions": [
         {"id": "occupied", "question": "Is the property occupied?", "answerType": "yesno", "required": true,
          "hint": "Look for signs"},
         {"id": "occupant_name", "question": "Occupant name", "answerType": "text", "required": true,
          "showIf": {"question": "occupied", "equals": "Yes"}},
         {"id": "roof", "question": "Roof condition", "answerType": "select",
          "answerOptions": ["Good", "Fair", "Poor"], "required": true},
         {"id": "roof_photos", "question": "Photos of the roof damage", "answerType": "photo", "minPhotos": 2,
          "required": true, "showIf": {"question": "roof", "anyOf": ["Fair", "Poor"]}}
      ]},
      {"id": "bid_amount", "question": "Bid amount (USD)", "answerType": "number", "min": 0, "max": 100000},
      {"id": "notes", "question": "Notes", "answerType": "textarea", "answer": "previous answer from a rework"}
    ]})
}

fn parse(template: &Value) -> Result<SurveyTemplate, TemplateError> {
    SurveyTemplate::parse(template.to_string().as_bytes())
}

fn template(questions: Value) -> SurveyTemplate {
    parse(&json!({"meta": {"surveyTemplateId": "t"}, "questions": questions})).unwrap()
}

fn refused(questions: Value) -> TemplateError {
    parse(&json!({"meta": {"surveyTemplateId": "t"}, "questions": questions})).unwrap_err()
}

fn question(kind: &str) -> Question {
    let mut value = json!({"id": "q", "question": "Q", "answerType": kind});
    if AnswerType::from_declared(kind).is_choice() {
        value["answerOptions"] = json!(["Good", "Needs repair", "Poor"]);
    }
    template(json!([value])).questions.remove(0)
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

fn answers(pairs: &[(&str, AnswerValue)]) -> BTreeMap<String, AnswerValue> {
    pairs
        .iter()
        .map(|(id, value)| ((*id).to_owned(), value.clone()))
        .collect()
}

fn photos() -> PhotoFacts {
    PhotoFacts::new([PHOTO_A, PHOTO_B, PHOTO_C].map(str::to_owned))
}

fn ids(evaluation: &Evaluation) -> Vec<&str> {
    evaluation.missing.iter().map(String::as_str).collect()
}

fn visible(evaluation: &Evaluation, id: &str) -> bool {
    evaluation
        .questions
        .iter()
        .any(|state| state.id == id && state.visible)
}

fn wire_ids(wire: &[Value]) -> Vec<&str> {
    wire.iter().filter_map(|answer| answer["id"].as_str()).collect()
}

// ---- Answer types ----

#[test]
fn answer_type_aliases_are_case_insensitive() {
    for (names, expected) in [
        (&["yesno", "YES_NO", "Boolean", "bool"][..], AnswerType::YesNo),
        (&["text", "TextArea", "string", "memo"][..], AnswerType::Text),
        (
            &["number", "numeric", "Decimal", "integer", "currency"][..],
            AnswerType::Number,
        ),
        (&["date", "DATE"][..], AnswerType::Date),
        (
            &[
                "select",
                "single",
                "singlechoice",
                "single_choice",
                "Radio",
                "dropdown",
            ][..],
            AnswerType::SingleChoice,
        ),
        (
            &[
                "multiselect",
                "multi",
                "multiplechoice",
                "multiple_choice",
                "checkboxes",
                "CheckBox",
            ][..],
            AnswerType::MultipleChoice,
        ),
        (&["photo", "picture", "photos", "IMAGE"][..], AnswerType::Photo),
    ] {
        for name in names {
            assert_eq!(AnswerType::from_declared(name), expected, "{name}");
        }
    }
}

#[test]
fn yes_no_answers_parse_and_validate() {
    let question = question("yesno");
    for (word, yes) in [
        ("yes", true),
        ("Y", true),
        ("TRUE", true),
        ("no", false),
        ("n", false),
        ("False", false),
    ] {
        assert_eq!(
            AnswerValue::from_words(&question, &words(&[word])),
            Ok(AnswerValue::YesNo(yes))
        );
    }
    assert!(matches!(
        AnswerValue::from_words(&question, &words(&["maybe"])),
        Err(AnswerProblem::WrongType { .. })
    ));
    assert!(matches!(
        AnswerValue::from_words(&question, &words(&["yes", "no"])),
        Err(AnswerProblem::WrongType { .. })
    ));
    assert_eq!(
        check_answer(&question, &AnswerValue::YesNo(false), &photos()),
        Ok(())
    );
    assert!(matches!(
        check_answer(&question, &AnswerValue::Text("yes".into()), &photos()),
        Err(AnswerProblem::WrongType { ref expected, ref got, .. }) if expected == "yesno" && got == "text"
    ));
}

#[test]
fn text_answers_parse_and_validate() {
    let question = question("memo");
    assert_eq!(question.answer_type, AnswerType::Text);
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["gate", "locked"])),
        Ok(AnswerValue::Text("gate locked".into()))
    );
    assert_eq!(
        AnswerValue::from_words(&question, &words(&[" ", ""])),
        Err(AnswerProblem::Empty { question: "q".into() })
    );
    let limit = "é".repeat(MAX_TEXT_CHARS);
    assert_eq!(
        check_answer(&question, &AnswerValue::Text(limit.clone()), &photos()),
        Ok(())
    );
    assert_eq!(
        check_answer(&question, &AnswerValue::Text(format!("{limit}x")), &photos()),
        Err(AnswerProblem::TooLong {
            question: "q".into(),
            chars: MAX_TEXT_CHARS + 1,
            limit: MAX_TEXT_CHARS
        })
    );
    assert_eq!(
        check_answer(&question, &AnswerValue::Text("  ".into()), &photos()),
        Err(AnswerProblem::Empty { question: "q".into() })
    );
}

#[test]
fn number_answers_parse_and_validate() {
    let question = question("currency");
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["1250.50"])),
        Ok(AnswerValue::Number(1250.5))
    );
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["-3"])),
        Ok(AnswerValue::Number(-3.0))
    );
    for bad in ["twelve", "NaN", "inf", "1e999"] {
        assert!(
            matches!(
                AnswerValue::from_words(&question, &words(&[bad])),
                Err(AnswerProblem::WrongType { .. })
            ),
            "{bad}"
        );
    }
    assert_eq!(
        check_answer(&question, &AnswerValue::Number(-3.0), &photos()),
        Ok(())
    );
}

#[test]
fn number_range_is_enforced() {
    let question = template(json!([{"id": "bid", "answerType": "number", "min": 0, "max": "100000"}]))
        .questions
        .remove(0);
    assert_eq!((question.min, question.max), (Some(0.0), Some(100_000.0)));
    for fits in [0.0, 99.99, 100_000.0] {
        assert_eq!(
            check_answer(&question, &AnswerValue::Number(fits), &photos()),
            Ok(()),
            "{fits}"
        );
    }
    for outside in [-0.01, 100_000.5, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                check_answer(&question, &AnswerValue::Number(outside), &photos()),
                Err(AnswerProblem::OutOfRange { ref question, min: Some(_), max: Some(_), .. }) if question == "bid"
            ),
            "{outside}"
        );
    }
    // from_words parses; the range is check_answer's.
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["-5"])),
        Ok(AnswerValue::Number(-5.0))
    );
    assert_eq!(
        refused(json!([{"id": "bid", "answerType": "number", "min": 10, "max": 1}])),
        TemplateError::BadField {
            question: "bid".into(),
            field: "max".into(),
            reason: "smaller than min".into()
        }
    );
}

#[test]
fn date_answers_parse_and_validate() {
    let question = question("date");
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["2024-02-29"])),
        Ok(AnswerValue::Date("2024-02-29".into()))
    );
    assert_eq!(
        check_answer(&question, &AnswerValue::Date("2026-11-23".into()), &photos()),
        Ok(())
    );
}

#[test]
fn bad_date_is_refused() {
    let question = question("date");
    for bad in [
        "2023-02-29",
        "2026-13-01",
        "2026-1-5",
        "05/11/2026",
        "+02026-01-01",
        "tomorrow",
    ] {
        assert_eq!(
            AnswerValue::from_words(&question, &words(&[bad])),
            Err(AnswerProblem::BadDate {
                question: "q".into(),
                value: bad.into()
            })
        );
        assert!(
            matches!(
                check_answer(&question, &AnswerValue::Date(bad.into()), &photos()),
                Err(AnswerProblem::BadDate { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn single_choice_answers_parse_and_validate() {
    let question = question("dropdown");
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["needs", "REPAIR"])),
        Ok(AnswerValue::SingleChoice("Needs repair".into()))
    );
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["great"])),
        Err(AnswerProblem::NotAnOption {
            question: "q".into(),
            value: "great".into()
        })
    );
    assert_eq!(
        check_answer(&question, &AnswerValue::SingleChoice("Poor".into()), &photos()),
        Ok(())
    );
    // check_answer takes the template's spelling only.
    assert!(matches!(
        check_answer(&question, &AnswerValue::SingleChoice("poor".into()), &photos()),
        Err(AnswerProblem::NotAnOption { .. })
    ));
}

#[test]
fn multiple_choice_answers_parse_and_validate() {
    let question = question("checkbox");
    assert_eq!(question.answer_type, AnswerType::MultipleChoice);
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["poor", "Good", "POOR"])),
        Ok(AnswerValue::MultipleChoice(vec!["Poor".into(), "Good".into()]))
    );
    assert!(matches!(
        AnswerValue::from_words(&question, &words(&["Good", "Bad"])),
        Err(AnswerProblem::NotAnOption { ref value, .. }) if value == "Bad"
    ));
    let checked = |values: &[&str]| {
        check_answer(
            &question,
            &AnswerValue::MultipleChoice(values.iter().map(|value| (*value).to_owned()).collect()),
            &photos(),
        )
    };
    assert_eq!(checked(&["Good", "Needs repair"]), Ok(()));
    assert!(matches!(
        checked(&["Good", "Good"]),
        Err(AnswerProblem::Duplicate { .. })
    ));
    assert!(matches!(
        checked(&["Excellent"]),
        Err(AnswerProblem::NotAnOption { .. })
    ));
    assert_eq!(checked(&[]), Err(AnswerProblem::Empty { question: "q".into() }));
}

#[test]
fn photo_answers_parse_and_validate() {
    let question = question("picture");
    assert_eq!(question.answer_type, AnswerType::Photo);
    let upper = PHOTO_A.to_uppercase();
    assert_eq!(
        AnswerValue::from_words(&question, &words(&[&upper, PHOTO_B, PHOTO_A])),
        Ok(AnswerValue::Photos(vec![PHOTO_A.into(), PHOTO_B.into()]))
    );
    assert_eq!(
        AnswerValue::from_words(&question, &words(&["IMG_001.jpg"])),
        Err(AnswerProblem::BadPhotoId {
            question: "q".into(),
            value: "IMG_001.jpg".into()
        })
    );
    assert_eq!(
        check_answer(&question, &AnswerValue::Photos(vec![PHOTO_C.into()]), &photos()),
        Ok(())
    );
}

#[test]
fn photo_counts_are_bounded() {
    let questions = template(json!([
        {"id": "roof", "answerType": "photo", "minPhotos": 2, "maxPhotos": 3, "required": true},
        {"id": "required", "answerType": "photo", "required": true},
        {"id": "optional", "answerType": "photo"}
    ]))
    .questions;
    assert_eq!(
        questions
            .iter()
            .map(|question| question.min_photos)
            .collect::<Vec<_>>(),
        [2, 1, 0],
        "minPhotos defaults to 1 when required, else 0"
    );
    let roof = &questions[0];
    let answer = |uuids: &[&str]| AnswerValue::Photos(uuids.iter().map(|uuid| (*uuid).to_owned()).collect());
    assert_eq!(
        check_answer(roof, &answer(&[PHOTO_A]), &photos()),
        Err(AnswerProblem::TooFewPhotos {
            question: "roof".into(),
            have: 1,
            need: 2
        })
    );
    assert_eq!(
        check_answer(roof, &answer(&[PHOTO_A, PHOTO_B]), &photos()),
        Ok(())
    );
    assert_eq!(
        check_answer(roof, &answer(&[PHOTO_A, PHOTO_B, PHOTO_C]), &photos()),
        Ok(())
    );
    assert_eq!(
        check_answer(roof, &answer(&[PHOTO_A, PHOTO_B, PHOTO_C, FOREIGN]), &photos()),
        Err(AnswerProblem::TooManyPhotos {
            question: "roof".into(),
            have: 4,
            max: 3
        })
    );
    assert!(matches!(
        check_answer(roof, &answer(&[PHOTO_A, PHOTO_A]), &photos()),
        Err(AnswerProblem::Duplicate { .. })
    ));
    assert!(matches!(
        refused(json!([{"id": "p", "answerType": "photo", "minPhotos": 3, "maxPhotos": 2}])),
        TemplateError::BadField { ref field, .. } if field == "maxPhotos"
    ));
    assert!(matches!(
        refused(json!([{"id": "p", "answerType": "photo", "minPhotos": -1}])),
        TemplateError::BadField { ref field, .. } if field == "minPhotos"
    ));
}

#[test]
fn unknown_and_foreign_photos_are_refused() {
    let question = question("photo");
    // A photo of another project, or rejected by QA, is not among the project's usable photos.
    assert_eq!(
        check_answer(
            &question,
            &AnswerValue::Photos(vec![PHOTO_A.into(), FOREIGN.into()]),
            &photos()
        ),
        Err(AnswerProblem::UnknownPhoto {
            question: "q".into(),
            photo: FOREIGN.into()
        })
    );
    assert!(matches!(
        check_answer(
            &question,
            &AnswerValue::Photos(vec![PHOTO_A.into()]),
            &PhotoFacts::none()
        ),
        Err(AnswerProblem::UnknownPhoto { .. })
    ));
    let evaluation = evaluate(
        &template(json!([{"id": "q", "answerType": "photo", "required": true}])),
        &answers(&[("q", AnswerValue::Photos(vec![FOREIGN.into()]))]),
        &photos(),
    );
    assert!(!evaluation.ready);
    assert_eq!(evaluation.invalid.len(), 1);
}

#[test]
fn unknown_answer_type_is_answered_as_text() {
    let template = template(json!([{"id": "sig", "question": "Sign here", "answerType": "Signature"}]));
    let question = &template.questions[0];
    assert_eq!(
        question.answer_type,
        AnswerType::Other {
            declared: "Signature".into()
        }
    );
    assert!(question.answer_type.answered_as_text());
    assert_eq!(question.answer_type.wire_name(), "Signature");
    assert_eq!(
        AnswerValue::from_words(question, &words(&["J.", "Doe"])),
        Ok(AnswerValue::Text("J. Doe".into()))
    );
    assert_eq!(
        check_answer(question, &AnswerValue::Text("J. Doe".into()), &photos()),
        Ok(())
    );
    assert!(check_answer(question, &AnswerValue::YesNo(true), &photos()).is_err());
    let answers = answers(&[("sig", AnswerValue::Text("J. Doe".into()))]);
    let (wire, _) = wire_answers(&template, &answers);
    assert_eq!(wire[0]["answerType"], "Signature");
    assert_eq!(wire[0]["answer"], "J. Doe");
}

#[test]
fn answer_values_round_trip_through_stable_json() {
    let values = [
        (AnswerValue::YesNo(true), json!({"type": "yes_no", "value": true})),
        (
            AnswerValue::Text("a".into()),
            json!({"type": "text", "value": "a"}),
        ),
        (
            AnswerValue::Number(12.5),
            json!({"type": "number", "value": 12.5}),
        ),
        (
            AnswerValue::Date("2026-11-23".into()),
            json!({"type": "date", "value": "2026-11-23"}),
        ),
        (
            AnswerValue::SingleChoice("Good".into()),
            json!({"type": "single_choice", "value": "Good"}),
        ),
        (
            AnswerValue::MultipleChoice(vec!["A".into(), "B".into()]),
            json!({"type": "multiple_choice", "value": ["A", "B"]}),
        ),
        (
            AnswerValue::Photos(vec![PHOTO_A.into()]),
            json!({"type": "photos", "value": [PHOTO_A]}),
        ),
    ];
    for (value, stored) in values {
        assert_eq!(serde_json::to_value(&value).unwrap(), stored);
        assert_eq!(serde_json::from_value::<AnswerValue>(stored).unwrap(), value);
    }
}

#[test]
fn problems_serialize_with_a_kind_and_name_the_question() {
    let problem = AnswerProblem::NotAnOption {
        question: "roof".into(),
        value: "Great".into(),
    };
    assert_eq!(
        serde_json::to_value(&problem).unwrap(),
        json!({"kind": "not_an_option", "question": "roof", "value": "Great"})
    );
    assert!(problem.to_string().contains("roof"));
    let error = TemplateError::DuplicateQuestion("roof".into());
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({"kind": "duplicate_question", "detail": "roof"})
    );
    assert!(error.to_string().contains("roof"));
}

// ---- Template ----

#[test]
fn the_example_template_parses() {
    let template = parse(&inspection()).unwrap();
    assert_eq!(template.id, "hpirFull-v3");
    assert_eq!(template.version.as_deref(), Some("3"));
    assert_eq!(template.name.as_deref(), Some("Property inspection"));
    let roof = template.question("roof").unwrap();
    assert_eq!(roof.options, ["Good", "Fair", "Poor"]);
    assert!(roof.required);
    assert_eq!(
        template.question("occupied").unwrap().hint.as_deref(),
        Some("Look for signs")
    );
    assert_eq!(template.question("notes").unwrap().answer_type, AnswerType::Text);
    assert!(template.question("nope").is_none());
    let numbered = json!({"meta": {"surveyTemplateId": 17, "version": 3}, "questions": []});
    let numbered = parse(&numbered).unwrap();
    assert_eq!(
        (numbered.id.as_str(), numbered.version.as_deref()),
        ("17", Some("3"))
    );
}

#[test]
fn canonical_json_parses_back_to_the_same_template() {
    let template = parse(&inspection()).unwrap();
    let canonical = template.to_json();
    assert_eq!(canonical["questions"][1]["section"], "Exterior");
    assert_eq!(canonical["questions"][5]["answerType"], "text");
    assert_eq!(parse(&canonical).unwrap(), template);
}

#[test]
fn nested_sections_are_flattened_with_their_section_path() {
    let template = template(json!([
        {"id": "first", "answerType": "text"},
        {"type": "Section", "name": "Exterior", "questions": [
            {"id": "yard", "answerType": "text"},
            {"type": "section", "title": "Roof", "questions": [
                {"id": "shingles", "answerType": "text"},
                {"type": "section", "questions": [{"id": "unnamed", "answerType": "text"}]}
            ]},
            {"id": "fence", "answerType": "text"}
        ]},
        {"id": "last", "answerType": "text"}
    ]));
    let flat: Vec<(&str, Option<&str>)> = template
        .questions
        .iter()
        .map(|question| (question.id.as_str(), question.section.as_deref()))
        .collect();
    assert_eq!(
        flat,
        [
            ("first", None),
            ("yard", Some("Exterior")),
            ("shingles", Some("Exterior / Roof")),
            ("unnamed", Some("Exterior / Roof")),
            ("fence", Some("Exterior")),
            ("last", None)
        ]
    );
}

#[test]
fn sections_nested_too_deep_are_refused() {
    let nest = |depth: usize| {
        let mut node = json!({"id": "deep", "answerType": "text"});
        for level in (1..=depth).rev() {
            node = json!({"type": "section", "name": format!("L{level}"), "questions": [node]});
        }
        json!([node])
    };
    assert_eq!(template(nest(MAX_SECTION_DEPTH)).questions.len(), 1);
    assert!(matches!(
        refused(nest(MAX_SECTION_DEPTH + 1)),
        TemplateError::SectionsTooDeep { depth, limit: MAX_SECTION_DEPTH, .. } if depth == MAX_SECTION_DEPTH + 1
    ));
}

#[test]
fn not_json_not_an_object_and_missing_template_id_are_refused() {
    assert!(matches!(
        SurveyTemplate::parse(b"{\"meta\":"),
        Err(TemplateError::NotJson(_))
    ));
    assert_eq!(SurveyTemplate::parse(b"[1, 2]"), Err(TemplateError::NotAnObject));
    for meta in [
        json!({}),
        json!({"surveyTemplateId": ""}),
        json!({"surveyTemplateId": null}),
    ] {
        assert_eq!(
            parse(&json!({"meta": meta, "questions": []})),
            Err(TemplateError::MissingTemplateId)
        );
    }
    assert_eq!(
        parse(&json!({"questions": []})),
        Err(TemplateError::MissingTemplateId)
    );
    assert!(matches!(
        parse(&json!({"meta": {"surveyTemplateId": "t"}})),
        Err(TemplateError::Malformed(_))
    ));
}

#[test]
fn ten_megabytes_are_refused_before_parsing() {
    // Not JSON at all: had it been parsed, the error would be NotJson.
    let input = vec![b'x'; MAX_TEMPLATE_BYTES + 1];
    assert_eq!(
        SurveyTemplate::parse(&input),
        Err(TemplateError::TooLarge {
            bytes: MAX_TEMPLATE_BYTES + 1,
            limit: MAX_TEMPLATE_BYTES
        })
    );
    let mut just_under = br#"{"meta": {"surveyTemplateId": "t"}, "questions": [], "pad": ""#.to_vec();
    just_under.resize(MAX_TEMPLATE_BYTES - 2, b' ');
    just_under.extend_from_slice(b"\"}");
    assert_eq!(
        SurveyTemplate::parse(&just_under).map(|template| template.id),
        Ok("t".into())
    );
}

#[test]
fn five_thousand_questions_are_refused() {
    let many = |count: usize| {
        let questions: Vec<Value> = (0..count)
            .map(|index| json!({"id": format!("q{index}"), "answerType": "yesno"}))
            .collect();
        json!({"meta": {"surveyTemplateId": "t"}, "questions": questions})
    };
    assert_eq!(
        parse(&many(5_000)),
        Err(TemplateError::TooManyQuestions {
            count: MAX_QUESTIONS + 1,
            limit: MAX_QUESTIONS
        })
    );
    assert_eq!(
        parse(&many(MAX_QUESTIONS)).unwrap().questions.len(),
        MAX_QUESTIONS
    );
    // Sections do not hide the count.
    let questions: Vec<Value> = (0..5)
        .map(|section| {
            let inner: Vec<Value> = (0..1_000)
                .map(|index| json!({"id": format!("s{section}q{index}"), "answerType": "text"}))
                .collect();
            json!({"type": "section", "name": format!("S{section}"), "questions": inner})
        })
        .collect();
    assert!(matches!(
        refused(json!(questions)),
        TemplateError::TooManyQuestions { .. }
    ));
}

#[test]
fn question_ids_are_required_non_empty_and_bounded() {
    assert_eq!(
        refused(json!([{"id": "a"}, {"question": "no id"}])),
        TemplateError::MissingQuestionId { position: 2 }
    );
    assert_eq!(
        refused(json!([{"id": "  "}])),
        TemplateError::EmptyQuestionId { position: 1 }
    );
    let long = "x".repeat(MAX_ID_CHARS + 1);
    assert!(matches!(
        refused(json!([{"id": long}])),
        TemplateError::QuestionIdTooLong { chars, .. } if chars == MAX_ID_CHARS + 1
    ));
    assert_eq!(
        template(json!([{"id": "x".repeat(MAX_ID_CHARS)}]))
            .questions
            .len(),
        1
    );
}

#[test]
fn duplicate_question_id_is_refused() {
    assert_eq!(
        refused(json!([
            {"id": "roof", "answerType": "text"},
            {"type": "section", "name": "S", "questions": [{"id": "roof", "answerType": "yesno"}]}
        ])),
        TemplateError::DuplicateQuestion("roof".into())
    );
}

#[test]
fn choice_question_without_options_is_refused() {
    for options in [None, Some(json!([]))] {
        let mut question = json!({"id": "roof", "answerType": "radio"});
        if let Some(options) = options {
            question["answerOptions"] = options;
        }
        assert_eq!(
            refused(json!([question])),
            TemplateError::MissingOptions {
                question: "roof".into()
            }
        );
    }
    assert_eq!(
        refused(json!([{"id": "roof", "answerType": "multi", "answerOptions": ["Good", "good"]}])),
        TemplateError::DuplicateOption {
            question: "roof".into(),
            option: "good".into()
        }
    );
    assert!(matches!(
        refused(json!([{"id": "roof", "answerType": "select", "answerOptions": ["Good", 2]}])),
        TemplateError::BadField { .. }
    ));
}

#[test]
fn condition_on_unknown_question_is_refused() {
    assert_eq!(
        refused(
            json!([{"id": "a", "answerType": "text", "showIf": {"question": "ghost", "answered": true}}])
        ),
        TemplateError::UnknownConditionQuestion {
            question: "a".into(),
            refers_to: "ghost".into()
        }
    );
}

#[test]
fn condition_on_itself_is_refused() {
    assert_eq!(
        refused(json!([{"id": "a", "answerType": "text", "showIf": {"question": "a", "answered": true}}])),
        TemplateError::ConditionCycle(vec!["a".into(), "a".into()])
    );
}

#[test]
fn three_cycle_is_refused_with_its_path() {
    let error = refused(json!([
        {"id": "free", "answerType": "yesno"},
        {"id": "a", "answerType": "yesno", "showIf": {"question": "c", "equals": "Yes"}},
        {"id": "b", "answerType": "yesno", "showIf": {"question": "a", "equals": true}},
        {"id": "c", "answerType": "yesno", "showIf": {"question": "b", "equals": "no"}},
        {"id": "tail", "answerType": "text", "showIf": {"question": "c", "answered": true}}
    ]));
    assert_eq!(
        error,
        TemplateError::ConditionCycle(vec!["a".into(), "c".into(), "b".into(), "a".into()])
    );
    assert!(error.to_string().contains("a -> c -> b -> a"));
}

#[test]
fn cycle_detection_is_linear() {
    // A chain of 2,000 conditions, each on the next question, the last on the first: found at once.
    let questions: Vec<Value> = (0..MAX_QUESTIONS)
        .map(|index| {
            let next = (index + 1) % MAX_QUESTIONS;
            json!({"id": format!("q{index}"), "answerType": "yesno",
                   "showIf": {"question": format!("q{next}"), "equals": "Yes"}})
        })
        .collect();
    match refused(json!(questions)) {
        TemplateError::ConditionCycle(path) => assert_eq!(path.len(), MAX_QUESTIONS + 1),
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn large_option_lists_are_checked_in_linear_time() {
    // 30,000 options, a condition listing all of them and a previous answer choosing all of them: each
    // lookup is constant time (a quadratic check would take minutes in a debug build).
    let options: Vec<String> = (0..30_000).map(|index| format!("Option {index}")).collect();
    let upper: Vec<String> = options.iter().map(|option| option.to_uppercase()).collect();
    let template = template(json!([
        {"id": "many", "answerType": "multiselect", "answerOptions": options, "answer": upper},
        {"id": "q", "answerType": "text", "showIf": {"question": "many", "anyOf": upper}}
    ]));
    assert_eq!(
        template.questions[0].previous,
        Some(AnswerValue::MultipleChoice(options.clone()))
    );
    assert_eq!(
        template.questions[1].show_if.as_ref().unwrap().test,
        ConditionTest::AnyOf(options)
    );
}

#[test]
fn condition_value_must_be_a_possible_answer() {
    let with = |condition: Value| {
        refused(json!([
            {"id": "roof", "answerType": "select", "answerOptions": ["Good", "Poor"]},
            {"id": "occupied", "answerType": "yesno"},
            {"id": "bid", "answerType": "number"},
            {"id": "photos", "answerType": "photo"},
            {"id": "q", "answerType": "text", "showIf": condition}
        ]))
    };
    assert_eq!(
        with(json!({"question": "roof", "anyOf": ["Good", "Great"]})),
        TemplateError::ConditionValueNotAnOption {
            question: "q".into(),
            refers_to: "roof".into(),
            value: "Great".into()
        }
    );
    for (condition, value) in [
        (json!({"question": "occupied", "equals": "Perhaps"}), "Perhaps"),
        (json!({"question": "bid", "equals": "lots"}), "lots"),
        (json!({"question": "photos", "equals": "x"}), "x"),
    ] {
        assert!(
            matches!(with(condition), TemplateError::BadConditionValue { value: ref got, .. } if got == value),
            "{value}"
        );
    }
    for condition in [
        json!({"question": "roof"}),
        json!({"question": "roof", "equals": "Good", "answered": true}),
        json!({"question": "roof", "anyOf": []}),
        json!({"equals": "Good"}),
        json!("roof"),
    ] {
        assert!(matches!(with(condition), TemplateError::BadCondition { .. }));
    }
}

// ---- Conditions ----

fn conditional() -> SurveyTemplate {
    template(json!([
        {"id": "occupied", "answerType": "yesno", "required": true},
        {"id": "occupant", "answerType": "text", "required": true, "showIf": {"question": "occupied", "equals": true}},
        {"id": "roof", "answerType": "select", "answerOptions": ["Good", "Fair", "Poor"]},
        {"id": "roof_photos", "answerType": "photo", "required": true,
         "showIf": {"question": "roof", "anyOf": ["fair", "Poor"]}},
        {"id": "damage", "answerType": "multiselect", "answerOptions": ["Roof", "Walls"]},
        {"id": "walls", "answerType": "text", "required": true, "showIf": {"question": "damage", "equals": "Walls"}},
        {"id": "bid", "answerType": "number"},
        {"id": "big_bid", "answerType": "text", "required": true, "showIf": {"question": "bid", "anyOf": [1000, "5e3"]}},
        {"id": "notes", "answerType": "text"},
        {"id": "notes_ok", "answerType": "yesno", "required": true, "showIf": {"question": "notes", "answered": true}},
        {"id": "no_notes", "answerType": "yesno", "required": true, "showIf": {"question": "notes", "answered": false}}
    ]))
}

#[test]
fn condition_equals() {
    let template = conditional();
    assert_eq!(
        template
            .question("occupant")
            .unwrap()
            .show_if
            .as_ref()
            .unwrap()
            .test,
        ConditionTest::Equals("Yes".into()),
        "true in the template compares as Yes"
    );
    let yes = evaluate(
        &template,
        &answers(&[("occupied", AnswerValue::YesNo(true))]),
        &photos(),
    );
    assert!(visible(&yes, "occupant"));
    let no = evaluate(
        &template,
        &answers(&[("occupied", AnswerValue::YesNo(false))]),
        &photos(),
    );
    assert!(!visible(&no, "occupant"));
    let unanswered = evaluate(&template, &BTreeMap::new(), &photos());
    assert!(!visible(&unanswered, "occupant"));
    // A multiple choice answer matches when any selected option does.
    let walls = answers(&[(
        "damage",
        AnswerValue::MultipleChoice(vec!["Roof".into(), "Walls".into()]),
    )]);
    assert!(visible(&evaluate(&template, &walls, &photos()), "walls"));
    let roof = answers(&[("damage", AnswerValue::MultipleChoice(vec!["Roof".into()]))]);
    assert!(!visible(&evaluate(&template, &roof, &photos()), "walls"));
}

#[test]
fn condition_any_of() {
    let template = conditional();
    assert_eq!(
        template
            .question("roof_photos")
            .unwrap()
            .show_if
            .as_ref()
            .unwrap()
            .test,
        ConditionTest::AnyOf(vec!["Fair".into(), "Poor".into()]),
        "values take the option's spelling"
    );
    for (roof, shown) in [("Good", false), ("Fair", true), ("Poor", true)] {
        let evaluation = evaluate(
            &template,
            &answers(&[("roof", AnswerValue::SingleChoice(roof.into()))]),
            &photos(),
        );
        assert_eq!(visible(&evaluation, "roof_photos"), shown, "{roof}");
    }
    // Numbers compare numerically: 5e3 is 5000.
    for (bid, shown) in [(1000.0, true), (5000.0, true), (999.0, false)] {
        let evaluation = evaluate(
            &template,
            &answers(&[("bid", AnswerValue::Number(bid))]),
            &photos(),
        );
        assert_eq!(visible(&evaluation, "big_bid"), shown, "{bid}");
    }
}

#[test]
fn condition_answered() {
    let template = conditional();
    let with_notes = evaluate(
        &template,
        &answers(&[("notes", AnswerValue::Text("x".into()))]),
        &photos(),
    );
    assert!(visible(&with_notes, "notes_ok") && !visible(&with_notes, "no_notes"));
    for blank in [
        BTreeMap::new(),
        answers(&[("notes", AnswerValue::Text("  ".into()))]),
    ] {
        let evaluation = evaluate(&template, &blank, &photos());
        assert!(!visible(&evaluation, "notes_ok") && visible(&evaluation, "no_notes"));
    }
}

#[test]
fn a_hidden_question_is_not_required_and_not_sent() {
    let template = parse(&inspection()).unwrap();
    let answers = answers(&[
        ("occupied", AnswerValue::YesNo(false)),
        ("occupant_name", AnswerValue::Text("left over from before".into())),
        ("roof", AnswerValue::SingleChoice("Good".into())),
        // Invalid, but hidden: not checked either.
        ("roof_photos", AnswerValue::Photos(vec![FOREIGN.into()])),
    ]);
    let evaluation = evaluate(&template, &answers, &photos());
    let occupant = &evaluation.questions[1];
    assert_eq!(
        (occupant.id.as_str(), occupant.visible, occupant.required),
        ("occupant_name", false, false)
    );
    assert!(occupant.answered);
    assert!(ids(&evaluation).is_empty());
    assert!(evaluation.invalid.is_empty());
    assert!(evaluation.ready);
    let (wire, photos) = wire_answers(&template, &answers);
    assert_eq!(wire_ids(&wire), ["occupied", "roof"]);
    assert!(photos.is_empty());

    let shown = evaluate(&template, &BTreeMap::new(), &PhotoFacts::none());
    assert_eq!(ids(&shown), ["occupied", "roof"]);
    assert!(!shown.ready);
}

#[test]
fn a_question_controlled_by_a_hidden_question_is_hidden() {
    // c depends on b, b on a. b's answer matches, but b is hidden: c is hidden too.
    let template = template(json!([
        {"id": "a", "answerType": "yesno"},
        {"id": "c", "answerType": "text", "required": true, "showIf": {"question": "b", "equals": "Yes"}},
        {"id": "b", "answerType": "yesno", "showIf": {"question": "a", "equals": "Yes"}}
    ]));
    let hidden = evaluate(
        &template,
        &answers(&[("a", AnswerValue::YesNo(false)), ("b", AnswerValue::YesNo(true))]),
        &photos(),
    );
    assert_eq!(
        hidden
            .questions
            .iter()
            .map(|state| state.visible)
            .collect::<Vec<_>>(),
        [true, false, false]
    );
    assert!(hidden.ready);
    let shown = evaluate(
        &template,
        &answers(&[("a", AnswerValue::YesNo(true)), ("b", AnswerValue::YesNo(true))]),
        &photos(),
    );
    assert_eq!(ids(&shown), ["c"]);
}

#[test]
fn evaluation_reports_missing_invalid_and_unknown() {
    let template = parse(&inspection()).unwrap();
    let answers = answers(&[
        ("occupied", AnswerValue::YesNo(true)),
        ("roof", AnswerValue::SingleChoice("Poor".into())),
        ("roof_photos", AnswerValue::Photos(vec![PHOTO_A.into()])),
        ("bid_amount", AnswerValue::Text("ten".into())),
        ("ghost", AnswerValue::YesNo(true)),
    ]);
    let evaluation = evaluate(&template, &answers, &photos());
    assert_eq!(ids(&evaluation), ["occupant_name"]);
    let invalid: Vec<&str> = evaluation.invalid.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(invalid, ["roof_photos", "bid_amount"]);
    assert!(matches!(
        evaluation.invalid[0].1,
        AnswerProblem::TooFewPhotos { have: 1, need: 2, .. }
    ));
    assert!(matches!(evaluation.invalid[1].1, AnswerProblem::WrongType { .. }));
    assert_eq!(evaluation.unknown, ["ghost"]);
    assert_eq!(evaluation.questions[3].min_photos, 2);
    assert!(!evaluation.ready);
}

#[test]
fn evaluation_is_total_for_templates_built_in_code() {
    let mut template = template(json!([
        {"id": "a", "answerType": "yesno"},
        {"id": "b", "answerType": "yesno", "required": true}
    ]));
    template.questions[0].show_if = Some(Condition {
        question: "b".into(),
        test: ConditionTest::Equals("Yes".into()),
    });
    template.questions[1].show_if = Some(Condition {
        question: "a".into(),
        test: ConditionTest::Answered(false),
    });
    let evaluation = evaluate(&template, &BTreeMap::new(), &photos());
    assert!(evaluation.questions.iter().all(|state| !state.visible));
    assert!(evaluation.ready);
    template.questions[1].show_if = Some(Condition {
        question: "ghost".into(),
        test: ConditionTest::Answered(false),
    });
    let evaluation = evaluate(&template, &BTreeMap::new(), &photos());
    assert!(evaluation.questions.iter().all(|state| !state.visible));
}

// ---- Rework and wire ----

#[test]
fn previous_answers_become_the_draft() {
    let template = template(json!([
        {"id": "occupied", "answerType": "yesno", "answer": "Yes"},
        {"id": "vacant", "answerType": "yesno", "answer": false},
        {"id": "roof", "answerType": "select", "answerOptions": ["Good", "Poor"], "answer": "poor"},
        {"id": "damage", "answerType": "multiselect", "answerOptions": ["Roof", "Walls"], "answer": ["Walls"]},
        {"id": "bid", "answerType": "number", "min": 0, "answer": "125.5"},
        {"id": "when", "answerType": "date", "answer": "2026-11-23"},
        {"id": "photos", "answerType": "photo", "answer": [PHOTO_A]},
        {"id": "notes", "answerType": "textarea", "answer": "previous answer from a rework"},
        // Not valid for their types: ignored, without error.
        {"id": "bad_yes", "answerType": "yesno", "answer": "Perhaps"},
        {"id": "bad_option", "answerType": "select", "answerOptions": ["Good"], "answer": "Great"},
        {"id": "bad_bid", "answerType": "number", "min": 0, "answer": -5},
        {"id": "bad_date", "answerType": "date", "answer": "yesterday"},
        {"id": "bad_photos", "answerType": "photo", "answer": "IMG_1.jpg"},
        {"id": "blank", "answerType": "text", "answer": ""},
        {"id": "object", "answerType": "text", "answer": {"text": "x"}}
    ]));
    let draft = previous_answers(&template);
    assert_eq!(
        draft,
        answers(&[
            ("occupied", AnswerValue::YesNo(true)),
            ("vacant", AnswerValue::YesNo(false)),
            ("roof", AnswerValue::SingleChoice("Poor".into())),
            ("damage", AnswerValue::MultipleChoice(vec!["Walls".into()])),
            ("bid", AnswerValue::Number(125.5)),
            ("when", AnswerValue::Date("2026-11-23".into())),
            ("photos", AnswerValue::Photos(vec![PHOTO_A.into()])),
            ("notes", AnswerValue::Text("previous answer from a rework".into())),
        ])
    );
    // The canonical form keeps previous answers.
    assert_eq!(parse(&template.to_json()).unwrap(), template);
}

#[test]
fn wire_answers_keep_template_order_and_shapes() {
    let template = template(json!([
        {"type": "section", "name": "Exterior", "questions": [
            {"id": "occupied", "question": "Occupied?", "answerType": "yesno", "hint": "Look for signs"},
            {"id": "roof", "question": "Roof", "answerType": "select", "answerOptions": ["Good", "Poor"]},
            {"id": "roof_photos", "question": "Roof photos", "answerType": "photo"}
        ]},
        {"id": "damage", "question": "Damage", "answerType": "multiselect", "answerOptions": ["Roof", "Walls"]},
        {"id": "bid", "question": "Bid", "answerType": "currency"},
        {"id": "cost", "question": "Cost", "answerType": "number"},
        {"id": "when", "question": "When", "answerType": "date"},
        {"id": "unanswered", "question": "Unanswered", "answerType": "text"},
        {"id": "more_photos", "question": "More photos", "answerType": "photo"}
    ]));
    let answers = answers(&[
        ("when", AnswerValue::Date("2026-11-23".into())),
        ("bid", AnswerValue::Number(1250.0)),
        ("cost", AnswerValue::Number(12.75)),
        (
            "damage",
            AnswerValue::MultipleChoice(vec!["Walls".into(), "Roof".into()]),
        ),
        (
            "roof_photos",
            AnswerValue::Photos(vec![PHOTO_B.into(), PHOTO_A.into()]),
        ),
        ("roof", AnswerValue::SingleChoice("Poor".into())),
        ("occupied", AnswerValue::YesNo(false)),
        (
            "more_photos",
            AnswerValue::Photos(vec![PHOTO_A.into(), PHOTO_C.into()]),
        ),
        ("ghost", AnswerValue::Text("not sent".into())),
    ]);
    let (wire, photos) = wire_answers(&template, &answers);
    assert_eq!(
        wire_ids(&wire),
        [
            "occupied",
            "roof",
            "roof_photos",
            "damage",
            "bid",
            "cost",
            "when",
            "more_photos"
        ]
    );
    assert_eq!(
        wire[0],
        json!({"id": "occupied", "question": "Occupied?", "answerType": "yesno", "answer": "No",
               "answerOptions": [], "hint": "Look for signs"})
    );
    assert_eq!(
        wire[1],
        json!({"id": "roof", "question": "Roof", "answerType": "select", "answer": "Poor",
               "answerOptions": ["Good", "Poor"], "hint": null})
    );
    assert_eq!(wire[2]["answer"], json!([PHOTO_B, PHOTO_A]));
    assert_eq!(wire[3]["answer"], json!(["Walls", "Roof"]));
    assert_eq!(wire[3]["answerType"], "multiselect");
    assert_eq!(
        (&wire[4]["answer"], &wire[4]["answerType"]),
        (&json!("1250"), &json!("number"))
    );
    assert_eq!(wire[5]["answer"], "12.75");
    assert_eq!(wire[6]["answer"], "2026-11-23");
    assert_eq!(photos, [PHOTO_B, PHOTO_A, PHOTO_C]);
}

// ---- Properties ----

/// One generated question: type (0..8), required, options count, and a condition on an earlier question
/// (its index modulo the position, the test kind and a value pick).
#[derive(Debug, Clone)]
struct Spec {
    kind: usize,
    required: bool,
    options: usize,
    condition: Option<(usize, usize, usize)>,
}

const KINDS: [&str; 8] = [
    "yesno",
    "text",
    "number",
    "date",
    "select",
    "multiselect",
    "photo",
    "signature",
];

fn arb_spec() -> impl Strategy<Value = Spec> {
    (
        0..8usize,
        any::<bool>(),
        1..4usize,
        prop::option::of((0..100usize, 0..3usize, 0..4usize)),
    )
        .prop_map(|(kind, required, options, condition)| Spec {
            kind,
            required,
            options,
            condition,
        })
}

/// A value the question of this kind can have, for conditions.
fn possible(kind: usize, pick: usize) -> Value {
    match KINDS[kind] {
        "yesno" => json!(pick.is_multiple_of(2)),
        "number" => json!(pick),
        "date" => json!(format!("2026-01-0{}", pick + 1)),
        "select" | "multiselect" => json!(format!("o{pick}")),
        _ => json!(format!("t{pick}")),
    }
}

fn build(specs: &[Spec]) -> Value {
    let questions: Vec<Value> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let mut question = json!({"id": format!("q{index}"), "answerType": KINDS[spec.kind],
                                      "required": spec.required});
            if spec.kind == 4 || spec.kind == 5 {
                // Choice questions always have o0..o3 to pick condition values from.
                question["answerOptions"] = json!((0..4).map(|n| format!("o{n}")).collect::<Vec<_>>());
            }
            if spec.kind == 6 && spec.options > 1 {
                question["minPhotos"] = json!(spec.options - 1);
                question["maxPhotos"] = json!(spec.options);
            }
            if spec.kind == 2 && spec.options > 1 {
                question["min"] = json!(0);
                question["max"] = json!(10);
            }
            if let Some((parent, test, pick)) = spec.condition.filter(|_| index > 0) {
                let parent = parent % index;
                let parent_kind = specs[parent].kind;
                let test = if parent_kind == 6 { 2 } else { test };
                question["showIf"] = match test {
                    0 => json!({"question": format!("q{parent}"), "equals": possible(parent_kind, pick)}),
                    1 => json!({"question": format!("q{parent}"),
                                "anyOf": [possible(parent_kind, pick), possible(parent_kind, (pick + 1) % 4)]}),
                    _ => json!({"question": format!("q{parent}"), "answered": pick.is_multiple_of(2)}),
                };
            }
            question
        })
        .collect();
    // Every other run of questions in a section, to exercise flattening.
    let (head, tail) = questions.split_at(questions.len() / 2);
    let mut top: Vec<Value> = head.to_vec();
    top.push(json!({"type": "section", "name": "S", "questions": tail}));
    json!({"meta": {"surveyTemplateId": "prop"}, "questions": top})
}

fn arb_answer() -> impl Strategy<Value = AnswerValue> {
    let words = || {
        prop::collection::vec(
            prop::sample::select(vec!["o0", "o1", "o2", "o3", "O1", "x", ""]),
            0..4,
        )
    };
    let uuids = prop::collection::vec(
        prop::sample::select(vec![PHOTO_A, PHOTO_B, PHOTO_C, FOREIGN, "not-a-uuid"]),
        0..4,
    );
    prop_oneof![
        any::<bool>().prop_map(AnswerValue::YesNo),
        "[a-z ]{0,4}".prop_map(AnswerValue::Text),
        prop_oneof![
            (-5i32..20).prop_map(f64::from),
            Just(f64::NAN),
            Just(f64::INFINITY),
            any::<f64>()
        ]
        .prop_map(AnswerValue::Number),
        prop::sample::select(vec!["2026-01-01", "2026-01-02", "2026-02-30", "bad", ""])
            .prop_map(|date| AnswerValue::Date(date.into())),
        prop::sample::select(vec!["o0", "o1", "o2", "o3", "o9", ""])
            .prop_map(|value| AnswerValue::SingleChoice(value.into())),
        words().prop_map(|values| AnswerValue::MultipleChoice(values.into_iter().map(Into::into).collect())),
        uuids.prop_map(|values| AnswerValue::Photos(values.into_iter().map(Into::into).collect())),
    ]
}

fn arb_survey() -> impl Strategy<Value = (Vec<Spec>, BTreeMap<String, AnswerValue>)> {
    prop::collection::vec(arb_spec(), 1..24).prop_flat_map(|specs| {
        let count = specs.len();
        let answers = prop::collection::btree_map(
            prop_oneof![
                4 => (0..count).prop_map(|index| format!("q{index}")),
                1 => (0..3usize).prop_map(|index| format!("ghost{index}")),
            ],
            arb_answer(),
            0..count + 3,
        );
        (Just(specs), answers)
    })
}

proptest! {
    /// Whatever the answers: evaluation is deterministic, `ready` means nothing missing or invalid, hidden
    /// questions are never missing or invalid, and the wire holds exactly the visible, answered questions of
    /// the right type, in template order.
    #[test]
    fn evaluation_is_total_deterministic_and_consistent((specs, answers) in arb_survey()) {
        let template = parse(&build(&specs)).unwrap();
        prop_assert_eq!(parse(&template.to_json()).unwrap(), template.clone());
        let photos = photos();
        let first = evaluate(&template, &answers, &photos);
        let second = evaluate(&template, &answers, &photos);
        // Debug, not PartialEq: a NaN answer makes its problem unequal to itself.
        prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));
        prop_assert_eq!(first.ready, first.missing.is_empty() && first.invalid.is_empty());
        prop_assert_eq!(first.questions.len(), template.questions.len());

        let state_of = |id: &str| first.questions.iter().find(|state| state.id == id);
        for id in &first.missing {
            let state = state_of(id).unwrap();
            prop_assert!(state.visible && state.required && !state.answered, "{:?}", state);
        }
        for (id, _) in &first.invalid {
            let state = state_of(id).unwrap();
            prop_assert!(state.visible && state.answered, "{:?}", state);
        }
        for (question, state) in template.questions.iter().zip(&first.questions) {
            prop_assert_eq!(&question.id, &state.id);
            if let Some(condition) = &question.show_if {
                let parent = state_of(&condition.question).unwrap();
                prop_assert!(parent.visible || !state.visible, "{} shown under hidden {}", state.id, parent.id);
            } else {
                prop_assert!(state.visible);
            }
            if !state.visible {
                prop_assert!(!state.required && state.problem.is_none());
            }
        }
        let unknown: Vec<&String> = answers.keys().filter(|id| id.starts_with("ghost")).collect();
        prop_assert_eq!(first.unknown.iter().collect::<Vec<_>>(), unknown);

        let (wire, photo_ids) = wire_answers(&template, &answers);
        let expected: Vec<&str> = template
            .questions
            .iter()
            .zip(&first.questions)
            .filter(|(question, state)| {
                state.visible && state.answered && answers[&question.id].fits(&question.answer_type)
            })
            .map(|(question, _)| question.id.as_str())
            .collect();
        prop_assert_eq!(wire_ids(&wire), expected);
        for uuid in &photo_ids {
            prop_assert!(wire.iter().any(|answer| answer["answer"].as_array().is_some_and(|list| list.contains(&json!(uuid)))));
        }
        prop_assert_eq!(wire_answers(&template, &answers), (wire, photo_ids));
    }

    /// Any bytes: parsing never panics.
    #[test]
    fn parsing_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = SurveyTemplate::parse(&bytes);
    }
}
