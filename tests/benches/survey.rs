//! Benchmark: evaluating a 300-question survey (10 sections, conditions, every answer type) with its
//! answers, as the app does on every edit.
//!
//! `cargo bench -p fieldsync-tests --bench survey` (`FIELDSYNC_BENCH_EVALUATIONS=N` to scale).
//! Target: p99 <= 1 ms.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use fieldsync_core::survey::{AnswerValue, PhotoFacts, SurveyTemplate, evaluate, wire_answers};
use serde_json::{Value, json};

#[path = "support/table.rs"]
mod table;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

const SECTIONS: usize = 10;
const PER_SECTION: usize = 30;

/// The photo UUID number `n`.
fn photo(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A 300-question template: 10 sections of 30 questions cycling through the answer types; every question
/// after a yes/no or single choice question is conditioned on it, every section after the first nests one
/// sub-section. Returns the template and answers for every question (conditions on both sides).
fn survey() -> Result<(SurveyTemplate, BTreeMap<String, AnswerValue>, PhotoFacts)> {
    let mut sections = Vec::new();
    let mut answers = BTreeMap::new();
    let mut photos = Vec::new();
    for section in 0..SECTIONS {
        let mut questions: Vec<Value> = Vec::new();
        for index in 0..PER_SECTION {
            let id = format!("s{section}q{index}");
            let kind = index % 8;
            let mut question = match kind {
                0 => json!({"answerType": "yesno", "required": true}),
                1 => json!({"answerType": "text", "required": true, "hint": "Describe"}),
                2 => json!({"answerType": "number", "min": 0, "max": 100000}),
                3 => json!({"answerType": "date"}),
                4 => {
                    json!({"answerType": "select", "answerOptions": ["Good", "Fair", "Poor"], "required": true})
                }
                5 => {
                    json!({"answerType": "multiselect", "answerOptions": ["Roof", "Walls", "Windows", "Doors"]})
                }
                6 => json!({"answerType": "photo", "minPhotos": 2, "maxPhotos": 6, "required": true}),
                _ => json!({"answerType": "signature"}),
            };
            question["id"] = json!(id);
            question["question"] = json!(format!("Question {index} of section {section}"));
            let previous = format!("s{section}q{}", index.wrapping_sub(1));
            match kind {
                1 => question["showIf"] = json!({"question": previous, "equals": "Yes"}),
                5 => question["showIf"] = json!({"question": previous, "anyOf": ["Fair", "Poor"]}),
                7 if index > 0 => question["showIf"] = json!({"question": previous, "answered": true}),
                _ => {}
            }
            let answer = match kind {
                0 => AnswerValue::YesNo(index.is_multiple_of(16)),
                1 => AnswerValue::Text(format!("Answer to {id}")),
                2 => AnswerValue::Number(index as f64 * 12.5),
                3 => AnswerValue::Date("2026-11-23".into()),
                4 => AnswerValue::SingleChoice(["Good", "Fair", "Poor"][index % 3].into()),
                5 => AnswerValue::MultipleChoice(vec!["Roof".into(), "Doors".into()]),
                6 => {
                    let first = photos.len();
                    photos.extend((first..first + 3).map(photo));
                    AnswerValue::Photos((first..first + 3).map(photo).collect())
                }
                _ => AnswerValue::Text("Signed".into()),
            };
            answers.insert(id, answer);
            questions.push(question);
        }
        let nested = questions.split_off(PER_SECTION / 2);
        if section > 0 {
            questions.push(json!({"type": "section", "title": "Details", "questions": nested}));
        } else {
            questions.extend(nested);
        }
        sections
            .push(json!({"type": "section", "name": format!("Section {section}"), "questions": questions}));
    }
    let template = json!({"meta": {"surveyTemplateId": "bench-v1", "version": 1}, "questions": sections});
    let template = SurveyTemplate::parse(template.to_string().as_bytes())?;
    anyhow::ensure!(
        template.questions.len() == SECTIONS * PER_SECTION,
        "not 300 questions"
    );
    Ok((template, answers, PhotoFacts::new(photos)))
}

fn main() -> Result<()> {
    let count: usize = std::env::var("FIELDSYNC_BENCH_EVALUATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10_000);
    let (template, answers, photos) = survey()?;
    let evaluation = evaluate(&template, &answers, &photos);
    let hidden = evaluation.questions.iter().filter(|state| !state.visible).count();
    anyhow::ensure!(
        evaluation.ready,
        "the bench survey is not ready: {:?}",
        evaluation.invalid
    );
    anyhow::ensure!(hidden > 0, "no condition hides a question");

    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let evaluation = evaluate(&template, &answers, &photos);
        latencies.push(started.elapsed());
        std::hint::black_box(evaluation);
    }
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));

    let mut wires = Vec::with_capacity(count / 10);
    for _ in 0..count / 10 {
        let started = Instant::now();
        std::hint::black_box(wire_answers(&template, &answers));
        wires.push(started.elapsed());
    }
    wires.sort();

    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    println!(
        "evaluate, 300 questions ({hidden} hidden), {count} calls: p50 {:.4} ms, p99 {:.4} ms; \
         wire_answers, {} calls: p50 {:.4} ms, p99 {:.4} ms",
        ms(p50),
        ms(p99),
        wires.len(),
        ms(percentile(&wires, 0.5)),
        ms(percentile(&wires, 0.99)),
    );
    table::row(
        "evaluate a 300-question survey with its answers",
        &format!("{:.3} ms", ms(p99)),
        "-",
        None,
        "<= 1 ms",
        Some(p99 <= Duration::from_millis(1)),
    );
    Ok(())
}
