//! Field work through the `fieldsync` binary: the survey template library, a task's survey (show, answer,
//! submit, QA), completing projects against their requirements, home-screen categories and field
//! statuses, local projects; every refusal exits non-zero, names the problem and writes nothing. Ends with
//! a crash test: survey answers and submissions SIGKILLed at random moments lose nothing that was
//! reported saved and leave no half-written row. Real processes, real SQLite, the emulator on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fieldsync_provider::{ProviderConfig, RunningProvider, SurveyFilter};
use serde_json::{Value, json};
use support::{command, fails, ok, ok_json, output, query, repository};

/// A small inline template: a yes/no whose "No" shows a required text, a bounded number, a photo question.
fn inline_template() -> Value {
    json!({
        "meta": {"surveyTemplateId": "mini-1", "version": "1", "name": "Mini inspection"},
        "questions": [
            {"type": "section", "name": "Roof", "questions": [
                {"id": "roof_ok", "question": "Is the roof sound?", "answerType": "yesno", "required": true},
                {"id": "roof_notes", "question": "Describe the damage", "answerType": "text", "required": true,
                 "showIf": {"question": "roof_ok", "equals": "No"}}
            ]},
            {"id": "rooms", "question": "Rooms", "answerType": "number", "min": 0, "max": 50},
            {"id": "front", "question": "Front of the house", "answerType": "photo", "minPhotos": 1}
        ]
    })
}

const LIBRARY_TEMPLATE: &str = "fixtures/surveys/property-inspection.json";

struct Field {
    provider: RunningProvider,
    _dir: tempfile::TempDir,
    db: PathBuf,
    dir: PathBuf,
}

fn order(number: &str, services: Value) -> Value {
    json!({"workOrderNumber": number, "address1": "1 Main St", "city": "Springfield", "state": "IL",
           "zip": "62701", "clientStatus": "Open", "assignedTo": "vendor1", "gpsLatitude": 39.7817,
           "gpsLongitude": -89.6501, "services": services})
}

/// The emulator with orders 1001 (an inline survey on `Inspection`, and `Lawn Cut`), 1002 (the library
/// template on `Property Inspection`) and 1003 (`Lawn Cut`, an after photo required), imported into a
/// fresh cache whose integration ACME has the given auto relay.
fn field(auto_relay: bool) -> Field {
    let provider = fieldsync_provider::start(ProviderConfig::default()).unwrap();
    let admin = provider.admin();
    admin.create_user("vendor1", "secret1", "tok-1").unwrap();
    admin
        .create_work_order(order(
            "1001",
            json!([{"serviceName": "Inspection", "surveyDynamic": inline_template()},
                   {"serviceName": "Lawn Cut"}]),
        ))
        .unwrap();
    admin
        .create_work_order(order(
            "1002",
            json!([{"serviceName": "Property Inspection", "survey": "hpirFull-v3"}]),
        ))
        .unwrap();
    admin
        .create_work_order(order("1003", json!([{"serviceName": "Lawn Cut"}])))
        .unwrap();
    admin
        .set_options("1003", json!({"photos_required": {"after": 1}}))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = provider.base_url();
    let relay = if auto_relay { "on" } else { "off" };
    support::run(
        &db,
        &[
            "integration",
            "add",
            "ACME",
            "--url",
            url.as_str(),
            "--username",
            "vendor1",
            "--token",
            "tok-1",
            "--password-stdin",
            "--auto-relay",
            relay,
        ],
        Some("secret1\n"),
    );
    support::run(&db, &["refresh", "ACME", "--full"], None);
    Field {
        provider,
        dir: dir.path().to_owned(),
        _dir: dir,
        db,
    }
}

/// `SELECT count(*) FROM {rows}` (a table, with a `WHERE` if needed).
fn count(db: &Path, rows: &str) -> usize {
    let count: i64 = rusqlite::Connection::open(db)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {rows}"), [], |row| row.get(0))
        .unwrap();
    usize::try_from(count).unwrap()
}

fn add_photo(db: &Path, project: &str, task: &str, evidence: &str, fixture: &str) -> String {
    let file = repository(fixture);
    let photo = ok_json(
        db,
        &[
            "photo",
            "add",
            project,
            "--task",
            task,
            "--evidence",
            evidence,
            "--file",
            file.to_str().unwrap(),
        ],
    );
    photo["uuid"].as_str().unwrap().to_owned()
}

#[test]
fn survey_templates_are_added_listed_and_bad_ones_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let library = repository(LIBRARY_TEMPLATE);
    let table = ok(
        &db,
        &["survey-template", "add", "--file", library.to_str().unwrap()],
    );
    assert!(table.contains("hpirFull-v3") && table.contains("75"), "{table}");
    let added = ok_json(
        &db,
        &["survey-template", "add", "--file", library.to_str().unwrap()],
    );
    assert_eq!(added["id"], "hpirFull-v3");
    assert_eq!(added["version"], "3");
    assert_eq!(added["questions"], 75);
    let listed = ok_json(&db, &["survey-template", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(ok(&db, &["survey-template", "list"]).contains("Property Condition Report"));

    let bad = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let (_, stderr) = fails(&db, &["survey-template", "add", "--file", path.to_str().unwrap()]);
        assert_eq!(count(&db, "survey_templates"), 1, "{name} wrote nothing");
        stderr
    };
    let duplicate = json!({"meta": {"surveyTemplateId": "dup"}, "questions": [
        {"id": "a", "question": "A", "answerType": "text"},
        {"id": "a", "question": "A again", "answerType": "yesno"}]});
    let stderr = bad("duplicate.json", duplicate.to_string().as_bytes());
    assert!(stderr.contains("question id \"a\" is used twice"), "{stderr}");
    let mut huge = br#"{"meta": {"surveyTemplateId": "huge"}, "questions": []"#.to_vec();
    huge.resize(10 * 1024 * 1024 + 10, b' ');
    huge.push(b'}');
    let stderr = bad("huge.json", &huge);
    assert!(stderr.contains("larger than"), "{stderr}");
    let stderr = bad("not-json.json", b"{\"meta\": ");
    assert!(stderr.contains("survey template refused"), "{stderr}");
    let stderr = bad(
        "no-id.json",
        json!({"meta": {}, "questions": []}).to_string().as_bytes(),
    );
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn a_survey_is_shown_answered_refused_while_incomplete_submitted_and_reviewed() {
    let field = field(false);
    let db = &field.db;
    let p = "ACME::1001";
    let task = ["--task", "Inspection"];
    let show = |extra: &[&str]| {
        let mut args = vec!["survey", "show", p];
        args.extend_from_slice(&task);
        args.extend_from_slice(extra);
        args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<String>>()
    };
    let shown = ok_json(db, &show(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(shown["template"]["id"], "mini-1");
    assert_eq!(shown["source"], "inline");
    let questions = shown["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 4);
    assert_eq!(questions[0]["section"], "Roof");
    assert_eq!(
        questions[1]["visible"], false,
        "roof_notes is hidden until roof_ok is No"
    );
    assert_eq!(questions[3]["min_photos"], 1);
    assert_eq!(shown["missing"], json!(["roof_ok"]));
    assert_eq!(shown["ready"], false);
    let table = ok(db, &show(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(table.contains("hidden") && table.contains("not ready"), "{table}");

    // Bad answers: each named, none written.
    let answer = |question: &str, words: &[&str]| {
        let mut args = vec!["survey", "answer", p, "--task", "Inspection", question];
        args.extend_from_slice(words);
        output(db, &args)
    };
    let refused = |question: &str, words: &[&str], expect: &str| {
        let out = answer(question, words);
        assert!(!out.status.success(), "{question} {words:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{question} {words:?}: {stderr}");
        assert_eq!(
            count(db, "survey_drafts"),
            0,
            "{question} {words:?} wrote nothing"
        );
    };
    refused("rooms", &["many"], "expected a number");
    refused("rooms", &["99"], "outside");
    refused("roof_ok", &["perhaps"], "yes or no");
    refused("attic", &["yes"], "no question `attic`");
    refused("front", &["not-a-uuid"], "not a photo id");
    let elsewhere = add_photo(
        db,
        "ACME::1003",
        "Lawn Cut",
        "before",
        "fixtures/photos/before_front.jpg",
    );
    refused("front", &[&elsewhere], "not a usable photo of this project");
    let (_, stderr) = fails(db, &["survey", "show", p, "--task", "Mowing"]);
    assert!(stderr.contains("no task `Mowing`"), "{stderr}");
    let (_, stderr) = fails(db, &["survey", "show", p, "--task", "Lawn Cut"]);
    assert!(stderr.contains("has no survey"), "{stderr}");
    let (_, stderr) = fails(
        db,
        &["survey", "show", "ACME::1002", "--task", "Property Inspection"],
    );
    assert!(
        stderr.contains("hpirFull-v3") && stderr.contains("template library"),
        "an unknown template id is named: {stderr}"
    );

    // Answers; "No" shows the required notes, which the refused submission names (table and JSON).
    let saved = ok_json(
        db,
        &["survey", "answer", p, "--task", "Inspection", "roof_ok", "no"],
    );
    assert_eq!(saved["answer"], json!({"type": "yes_no", "value": false}));
    let stdout = ok(db, &["survey", "answer", p, "--task", "Inspection", "rooms", "7"]);
    assert!(stdout.contains("saved rooms = 7"), "{stdout}");
    let (stdout, stderr) = fails(db, &["--json", "survey", "submit", p, "--task", "Inspection"]);
    let refusal: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(refusal["error"], "survey_incomplete");
    assert_eq!(refusal["missing"], json!(["roof_notes"]));
    assert!(stderr.contains("1 answer(s) missing"), "{stderr}");
    let (stdout, _) = fails(db, &["survey", "submit", p, "--task", "Inspection"]);
    assert!(stdout.contains("missing: roof_notes"), "{stdout}");
    assert_eq!(count(db, "surveys"), 0);
    assert_eq!(count(db, "outbox WHERE kind = 'survey'"), 0);

    ok(
        db,
        &[
            "survey",
            "answer",
            p,
            "--task",
            "Inspection",
            "roof_notes",
            "Two",
            "shingles",
            "missing",
        ],
    );
    ok(
        db,
        &["survey", "answer", p, "--task", "Inspection", "rooms", "--clear"],
    );
    let before = add_photo(db, p, "Inspection", "before", "fixtures/photos/before_front.jpg");
    ok(
        db,
        &["survey", "answer", p, "--task", "Inspection", "front", &before],
    );
    let shown = ok_json(db, &show(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(shown["ready"], true, "{shown}");
    assert_eq!(shown["questions"][1]["answer"]["value"], "Two shingles missing");
    assert_eq!(shown["questions"][2]["answered"], false, "rooms was cleared");

    let submitted = ok_json(db, &["survey", "submit", p, "--task", "Inspection"]);
    let uuid = submitted["uuid"].as_str().unwrap().to_owned();
    assert_eq!(submitted["state"], "pending_qa");
    assert_eq!(submitted["photo_ids"], json!([before]));
    let table = ok(db, &["survey", "submit", p, "--task", "Inspection"]);
    assert!(table.contains("pending_qa"), "{table}");
    let second = ok_json(db, &["survey", "list", p])[1]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();

    // QA: approve one (it waits for its photo, still in QA), reject the other with a reason.
    let approved = ok_json(db, &["survey", "approve", &uuid]);
    assert_eq!(approved["state"], "queued");
    let (_, stderr) = fails(db, &["survey", "reject", &second, "--reason", " "]);
    assert!(stderr.contains("reason"), "{stderr}");
    let rejected = ok_json(db, &["survey", "reject", &second, "--reason", "wrong house"]);
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["state_message"], "wrong house");
    let (_, stderr) = fails(db, &["survey", "approve", &second]);
    assert!(stderr.contains("rejected"), "{stderr}");
    let (_, stderr) = fails(db, &["survey", "approve", "00000000-0000-0000-0000-000000000000"]);
    assert!(stderr.contains("no submitted survey"), "{stderr}");
    let outbox = ok(db, &["outbox"]);
    assert!(
        outbox.contains("survey") && outbox.contains("waiting for the photos its answers reference"),
        "{outbox}"
    );
    let entries = ok_json(db, &["outbox"]);
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["id"] == uuid.as_str()
                && entry["kind"] == "survey"
                && entry["waits_for"]["reason"] == "referenced_photos"),
        "{entries}"
    );
    let shown = ok(db, &show(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(shown.contains("wrong house") && shown.contains(&uuid), "{shown}");

    // Once the photo is approved, sync delivers the photo, then the survey referencing it.
    ok(db, &["photo", "approve", "--project", p]);
    ok(db, &["sync"]);
    let received = field.provider.admin().surveys(&SurveyFilter::default()).unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].uuid, uuid);
    assert_eq!(received[0].photo_uuids, [before]);
    assert!(received[0].photos_received_before);

    // The library template: once added, the order's survey opens.
    let library = repository(LIBRARY_TEMPLATE);
    ok(
        db,
        &["survey-template", "add", "--file", library.to_str().unwrap()],
    );
    let shown = ok_json(
        db,
        &["survey", "show", "ACME::1002", "--task", "Property Inspection"],
    );
    assert_eq!(shown["source"], "library");
    assert_eq!(shown["questions"].as_array().unwrap().len(), 75);
}

#[test]
fn projects_are_viewed_completed_against_their_requirements_and_counted() {
    let field = field(false);
    let db = &field.db;
    let p = "ACME::1003";
    let listed = ok_json(db, &["projects"]);
    let row = |listed: &Value, id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&listed, p)["field_status"], "new");
    assert_eq!(row(&listed, p)["category"], "assigned");
    let table = ok(db, &["projects"]);
    assert!(
        table.contains("Field Status") && table.contains("Category"),
        "{table}"
    );
    ok(db, &["project", "view", p]);
    assert_eq!(row(&ok_json(db, &["projects"]), p)["field_status"], "viewed");
    let viewed = ok_json(db, &["projects", "--field-status", "viewed"]);
    assert_eq!(viewed.as_array().unwrap().len(), 1, "{viewed}");

    // The missing after photo keeps it from being completed.
    let requirements = ok_json(db, &["project", "requirements", p]);
    assert_eq!(requirements["ready"], false);
    assert_eq!(
        requirements["unmet"],
        json!([{"task": "Lawn Cut", "requirement": {"kind": "photos", "evidence": "after"}, "have": 0, "need": 1}])
    );
    let outbox_before = count(db, "outbox");
    let (stdout, stderr) = fails(db, &["--json", "project", "complete", p]);
    let refusal: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(refusal["error"], "completion_blocked");
    assert_eq!(refusal["unmet"], requirements["unmet"]);
    assert!(stderr.contains("cannot be completed"), "{stderr}");
    let (stdout, _) = fails(db, &["project", "complete", p]);
    assert!(
        stdout.contains("Lawn Cut") && stdout.contains("after photos") && stdout.contains("Need"),
        "{stdout}"
    );
    assert_eq!(count(db, "outbox"), outbox_before, "a refusal queues nothing");
    let (_, stderr) = fails(db, &["project", "complete", "ACME::9999"]);
    assert!(stderr.contains("ACME::9999"), "{stderr}");
    let (_, stderr) = fails(db, &["project", "complete", p, "--force"]);
    assert!(stderr.contains("--reason"), "{stderr}");

    add_photo(db, p, "Lawn Cut", "after", "fixtures/photos/after_front.jpg");
    assert!(ok(db, &["project", "requirements", p]).contains("every requirement is met"));
    let completion = ok_json(db, &["project", "complete", p]);
    assert_eq!(completion["status"], "Complete");
    let (_, stderr) = fails(db, &["project", "complete", p]);
    assert!(stderr.contains("completed already"), "{stderr}");
    // Forced, with a reason, over an unmet requirement.
    field
        .provider
        .admin()
        .set_options("1002", json!({"photos_required": {"before": 2}}))
        .unwrap();
    ok(db, &["refresh", "ACME"]);
    let forced = ok_json(
        db,
        &[
            "project",
            "complete",
            "ACME::1002",
            "--force",
            "--reason",
            "gate locked",
        ],
    );
    assert_eq!(forced["forced_reason"], "gate locked");
    assert_eq!(forced["overridden"][0]["need"], 2);

    let counts = ok_json(db, &["projects", "--counts"]);
    assert_eq!(
        counts,
        json!({"rework": 0, "rush": 0, "upcoming": 0, "assigned": 1, "complete": 2, "cancelled": 0})
    );
    assert!(ok(db, &["projects", "--counts"]).contains("complete"));
    let complete = ok_json(db, &["projects", "--category", "complete"]);
    assert_eq!(complete.as_array().unwrap().len(), 2, "{complete}");
    let (_, stderr) = fails(db, &["projects", "--category", "someday"]);
    assert!(stderr.contains("someday"), "{stderr}");

    ok(db, &["photo", "approve", "--project", p]);
    ok(db, &["sync"]);
    let statuses = field.provider.admin().status_updates().unwrap();
    assert!(
        statuses
            .iter()
            .any(|update| update.work_order_number == "1003" && update.status == "Complete"),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|update| update.work_order_number == "1002"
                && update.reason.as_deref() == Some("gate locked")),
        "{statuses:?}"
    );
}

#[test]
fn local_projects_are_created_wait_for_their_order_and_are_discarded_with_an_export() {
    let field = field(true);
    let db = &field.db;
    let created = ok_json(
        db,
        &[
            "project",
            "create-local",
            "ACME",
            "7777",
            "--address",
            "9 Elm St",
            "--city",
            "Springfield",
            "--task",
            "Lawn Cut",
            "--task",
            "Debris",
        ],
    );
    assert_eq!(created["id"], "ACME::7777");
    assert_eq!(created["tasks"].as_array().unwrap().len(), 2);
    let projects_before = count(db, "projects");
    let (_, stderr) = fails(
        db,
        &[
            "project",
            "create-local",
            "ACME",
            "1001",
            "--address",
            "x",
            "--task",
            "Lawn Cut",
        ],
    );
    assert!(stderr.contains("ACME::1001 exists already"), "{stderr}");
    let (_, stderr) = fails(
        db,
        &[
            "project",
            "create-local",
            "ACME",
            "7778",
            "--address",
            "x",
            "--task",
            "A",
            "--task",
            "A",
        ],
    );
    assert!(stderr.contains("listed twice"), "{stderr}");
    assert_eq!(count(db, "projects"), projects_before);
    let listed = ok(db, &["projects"]);
    assert!(listed.contains("(local)"), "{listed}");

    add_photo(
        db,
        "ACME::7777",
        "Lawn Cut",
        "before",
        "fixtures/photos/before_front.jpg",
    );
    let outbox = ok(db, &["outbox"]);
    assert!(outbox.contains("waiting for the provider's order"), "{outbox}");
    let (_, stderr) = fails(db, &["project", "discard-local", "ACME::1001"]);
    assert!(stderr.contains("came from the provider"), "{stderr}");
    let stdout = ok(db, &["project", "discard-local", "ACME::7777"]);
    assert!(stdout.contains("exported to"), "{stdout}");
    let folder = stdout.rsplit("exported to ").next().unwrap().trim();
    assert!(Path::new(folder).is_dir(), "{folder}");
    assert!(Path::new(folder).starts_with(&field.dir), "{folder}");
    assert_eq!(count(db, "projects"), projects_before - 1);
    let (_, stderr) = fails(db, &["project", "show", "ACME::7777"]);
    assert!(stderr.contains("ACME::7777"), "{stderr}");
}

/// A tiny xorshift: reproducible delays without a dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

#[test]
fn killed_answers_and_submissions_lose_nothing_reported_and_leave_no_half_written_row() {
    let started = Instant::now();
    let provider = fieldsync_provider::start(ProviderConfig::default()).unwrap();
    let admin = provider.admin();
    admin.create_user("vendor1", "secret1", "tok-1").unwrap();
    // One required yes/no and 80 text questions: each answer command writes its own question.
    let mut questions =
        vec![json!({"id": "done", "question": "Done?", "answerType": "yesno", "required": true})];
    questions.extend(
        (0..80).map(|n| json!({"id": format!("q{n}"), "question": format!("Q{n}"), "answerType": "text"})),
    );
    let template = json!({"meta": {"surveyTemplateId": "crash-1"}, "questions": questions});
    admin
        .create_work_order(order(
            "5001",
            json!([{"serviceName": "Inspection", "surveyDynamic": template}]),
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = provider.base_url();
    support::run(
        &db,
        &[
            "integration",
            "add",
            "ACME",
            "--url",
            url.as_str(),
            "--username",
            "vendor1",
            "--token",
            "tok-1",
            "--password-stdin",
            "--auto-relay",
            "on",
        ],
        Some("secret1\n"),
    );
    support::run(&db, &["refresh", "ACME", "--full"], None);
    let p = "ACME::5001";
    ok(
        &db,
        &["survey", "answer", p, "--task", "Inspection", "done", "yes"],
    );

    // How long one answer takes here: the kills land from before it opens the cache to after it is done.
    let timed = Instant::now();
    ok(
        &db,
        &[
            "survey",
            "answer",
            p,
            "--task",
            "Inspection",
            "q79",
            "calibration",
        ],
    );
    let span = (timed.elapsed().as_millis() as u64 * 3 / 2).max(20);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut random = Random(seed);
    let (mut kills, mut answers_reported, mut submissions_reported) = (0, Vec::new(), Vec::new());
    // Rounds go on until 50 processes were killed mid-way: how many kills land depends on
    // how long a command takes on this machine.
    // At most one round per question, so that a later round never overwrites an earlier one's answer.
    for round in 0..79 {
        if kills >= 50 {
            break;
        }
        let question = format!("q{}", round % 79);
        let value = format!("answer-{round}-{}", random.below(1_000_000));
        let spawn = |args: &[&str]| {
            command(&db, args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        // An answer and a submission at once, each killed at its own moment.
        let mut answer = spawn(&["survey", "answer", p, "--task", "Inspection", &question, &value]);
        let mut submit = spawn(&["--json", "survey", "submit", p, "--task", "Inspection"]);
        let (first, second) = (random.below(span), random.below(span));
        let started_round = Instant::now();
        for (child, at) in [(&mut answer, first), (&mut submit, second)] {
            let wait = Duration::from_millis(at).saturating_sub(started_round.elapsed());
            std::thread::sleep(wait);
            if child.try_wait().unwrap().is_none() {
                kills += 1;
            }
            let _ = child.kill();
        }
        let answer = answer.wait_with_output().unwrap();
        let submit = submit.wait_with_output().unwrap();
        if String::from_utf8_lossy(&answer.stdout).contains(&format!("saved {question} = {value}")) {
            answers_reported.push((question, value));
        }
        if let Ok(document) = serde_json::from_slice::<Value>(&submit.stdout) {
            submissions_reported.push(document["uuid"].as_str().unwrap().to_owned());
        }
    }

    // Every reported answer is in the draft (each round answers its own question).
    for (question, value) in &answers_reported {
        let stored = query(
            &db,
            &format!(
                "SELECT answer FROM survey_drafts WHERE task_name = 'Inspection' AND question_id = '{question}'"
            ),
        );
        assert_eq!(stored.len(), 1, "{question}: its reported answer {value} is lost");
        let stored: Value = serde_json::from_str(&stored[0]).unwrap();
        assert_eq!(stored, json!({"type": "text", "value": value}), "{question}");
    }
    // Every reported submission exists once with one outbox entry; no row without its entry or back.
    for uuid in &submissions_reported {
        assert_eq!(
            query(&db, &format!("SELECT id FROM surveys WHERE id = '{uuid}'")).len(),
            1
        );
        assert_eq!(
            query(
                &db,
                &format!("SELECT id FROM outbox WHERE id = '{uuid}' AND kind = 'survey'")
            )
            .len(),
            1
        );
    }
    assert!(
        query(
            &db,
            "SELECT id FROM surveys WHERE id NOT IN (SELECT id FROM outbox)"
        )
        .is_empty(),
        "a survey row without its outbox entry"
    );
    assert!(
        query(
            &db,
            "SELECT id FROM outbox WHERE kind = 'survey' AND id NOT IN (SELECT id FROM surveys)"
        )
        .is_empty(),
        "an outbox entry without its survey row"
    );
    let rows = query(&db, "SELECT id FROM surveys");

    // Delivered, each once.
    ok(&db, &["sync"]);
    let received = admin.surveys(&SurveyFilter::default()).unwrap();
    assert_eq!(received.len(), rows.len(), "every submission once");
    for uuid in &submissions_reported {
        let item = received.iter().find(|item| &item.uuid == uuid);
        assert!(item.is_some_and(|item| item.deliveries == 1), "{uuid}: {item:?}");
    }
    let elapsed = started.elapsed();
    eprintln!(
        "crash test: {kills} kills (delays 0-{span} ms), {} answers and {} submissions reported, {} submissions stored, {:.1} s",
        answers_reported.len(),
        submissions_reported.len(),
        rows.len(),
        elapsed.as_secs_f64()
    );
    assert!(kills >= 50, "only {kills} processes were killed mid-way");
    assert!(!answers_reported.is_empty() && !submissions_reported.is_empty());
}
