//! The demo data set: one vendor login and eleven realistic property-preservation work orders.
//!
//! `WO-100101` to `WO-100108` are the original eight (their numbers and contents are relied on by
//! tests). `WO-100109` to `WO-100111` are property inspections whose first service carries the seeded
//! survey template ([`crate::surveys::PROPERTY_INSPECTION_JSON`]): by id, inline, and inline with the
//! previous answers of a reworked inspection.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::calendar::date_after;
use crate::error::ProviderError;
use crate::model::SeedReport;
use crate::store::orders::{self, Assignment};
use crate::store::users::{self, password_sha1};
use crate::surveys::{PROPERTY_INSPECTION_ID, property_inspection};

/// Login of the demo vendor.
pub(crate) const DEMO_USER: &str = "vendor1";
/// Password of the demo vendor.
pub(crate) const DEMO_PASSWORD: &str = "secret1";
/// API token of the demo vendor.
pub(crate) const DEMO_TOKEN: &str = "tok-1";

struct Site {
    number: &'static str,
    info: &'static str,
    address1: &'static str,
    city: &'static str,
    state: &'static str,
    zip: &'static str,
    lat: f64,
    lon: f64,
    due_in_days: i64,
    status: &'static str,
    client_instructions: &'static str,
    reference: &'static str,
    options: Value,
    services: Vec<(&'static str, &'static str)>,
    /// The survey of the first service.
    survey: SeedSurvey,
}

/// How a site's first service carries the property inspection survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeedSurvey {
    /// No survey.
    None,
    /// `"survey": "hpirFull-v3"`: the template from the vendor's library, by id.
    ById,
    /// `"surveyDynamic": {...}`: the template inline.
    Inline,
    /// `"surveyDynamic": {...}` inline, with the previous answers of a reworked inspection.
    Rework,
}

/// The previous answers carried by the rework order's inline template (question id, answer).
fn rework_answers(now: i64) -> Vec<(&'static str, Value)> {
    vec![
        ("inspection_date", json!(date_after(now, -9))),
        ("property_type", json!("Single family")),
        ("address_verified", json!("Yes")),
        ("occupancy_status", json!("Vacant")),
        ("vacancy_notice_posted", json!("Yes")),
        ("exterior_condition", json!("Fair")),
        ("exterior_damage", json!(["Siding damage", "Fence damage"])),
        ("windows_broken", json!("No")),
        ("roof_condition", json!("Poor")),
        (
            "roof_damage_description",
            json!("Missing shingles on the north slope, exposed decking near the chimney."),
        ),
        ("roof_leak_evidence", json!("Yes")),
        ("tarp_needed", json!("Yes")),
        ("tarp_sqft", json!("120")),
        ("electric_status", json!("Off")),
        ("gas_status", json!("Off")),
        ("water_status", json!("Off")),
        ("winterized", json!("Yes")),
        ("system_holding_pressure", json!("Yes")),
        ("pressure_test_psi", json!("35")),
        (
            "general_comments",
            json!(
                "Rework: the client rejected the roof photos (damage not visible). Re-shoot the north slope."
            ),
        ),
    ]
}

/// Sets `answer` on the questions of a template (sections included) named in `answers`.
fn with_answers(mut template: Value, answers: &[(&str, Value)]) -> Value {
    fn walk(questions: &mut Value, answers: &[(&str, Value)]) {
        let Some(questions) = questions.as_array_mut() else {
            return;
        };
        for question in questions {
            if let Some(inner) = question.get_mut("questions") {
                walk(inner, answers);
            }
            let id = question.get("id").and_then(Value::as_str).unwrap_or_default();
            if let Some((_, answer)) = answers.iter().find(|(name, _)| *name == id)
                && let Some(object) = question.as_object_mut()
            {
                object.insert("answer".to_owned(), answer.clone());
            }
        }
    }
    if let Some(questions) = template.get_mut("questions") {
        walk(questions, answers);
    }
    template
}

fn sites() -> Vec<Site> {
    vec![
        Site {
            number: "WO-100101",
            info: "Grass Cut - Initial",
            address1: "1428 Elm Street",
            city: "Columbus",
            state: "OH",
            zip: "43215",
            lat: 39.961_176,
            lon: -82.998_794,
            due_in_days: 2,
            status: "",
            client_instructions: "Cut all grass to 2 inches, edge walks and driveway, remove clippings from hard surfaces.",
            reference: "LN-4471920",
            options: json!({"check_in_required": true}),
            services: vec![
                (
                    "Grass Cut",
                    "Before/during/after photos from all four corners of the lot.",
                ),
                (
                    "Shrub Trim",
                    "Trim shrubs away from windows and doors; bag debris.",
                ),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100102",
            info: "Winterization - Dry Heat",
            address1: "782 Birch Avenue",
            city: "Dearborn",
            state: "MI",
            zip: "48124",
            lat: 42.322_262,
            lon: -83.176_315,
            due_in_days: 1,
            status: "RUSH",
            client_instructions: "Blow out all lines with compressed air at 35 PSI, antifreeze in all traps, post winterization notices.",
            reference: "LN-5528103",
            options: json!({"check_in_required": true, "check_in_photo_required": true}),
            services: vec![
                (
                    "Winterization",
                    "Photo of pressure gauge holding 35 PSI for 30 minutes.",
                ),
                (
                    "Post Notices",
                    "Post winterization notice at main panel and every fixture.",
                ),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100103",
            info: "Occupancy Inspection",
            address1: "2215 Peachtree Road NE",
            city: "Atlanta",
            state: "GA",
            zip: "30309",
            lat: 33.812_030,
            lon: -84.387_250,
            due_in_days: 3,
            status: "",
            client_instructions: "Exterior only. Do not make contact with occupants. Photograph address, front, both sides, street view.",
            reference: "LN-6130044",
            options: json!({"check_in_required": false}),
            services: vec![
                (
                    "Occupancy Check",
                    "Note utilities, window coverings, vehicles, personal property.",
                ),
                ("Street View", "Photo of the street in both directions."),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100104",
            info: "Debris Removal - Interior",
            address1: "519 Oak Hollow Drive",
            city: "Dallas",
            state: "TX",
            zip: "75217",
            lat: 32.715_702,
            lon: -96.687_012,
            due_in_days: 5,
            status: "",
            client_instructions: "Remove up to 12 cubic yards of interior debris. Over-allowable requires a bid with photos first.",
            reference: "LN-7004518",
            options: json!({"check_in_required": true, "debris_cyd_allowable": 12}),
            services: vec![
                (
                    "Debris Removal",
                    "Photos of every room before and after; estimate cubic yards removed.",
                ),
                ("Sweep and Broom Clean", "Broom clean all floors after removal."),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100105",
            info: "Grass Cut - Recurring",
            address1: "3307 West Camelback Road",
            city: "Phoenix",
            state: "AZ",
            zip: "85017",
            lat: 33.509_211,
            lon: -112.128_901,
            due_in_days: 4,
            status: "",
            client_instructions: "Recurring cut every 14 days through October. Report any new damage or code violations.",
            reference: "LN-3391677",
            options: json!({}),
            services: vec![
                ("Grass Cut", "Cut, edge and blow; photo of the address marker."),
                (
                    "Weed Removal",
                    "Remove weeds from the gravel front yard and cracks in the driveway.",
                ),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100106",
            info: "Winterization - Wet Heat (Boiler)",
            address1: "46 Maple Court",
            city: "Aurora",
            state: "CO",
            zip: "80010",
            lat: 39.729_412,
            lon: -104.831_903,
            due_in_days: 2,
            status: "",
            client_instructions: "Drain boiler and heating loops, antifreeze in the boiler, tag the system. Check in on arrival.",
            reference: "LN-8812290",
            options: json!({"check_in_required": true, "check_in_provider": "pruvan"}),
            services: vec![
                (
                    "Boiler Winterization",
                    "Photo of the drained boiler, open drain valves and the tag.",
                ),
                ("Water Shut-off", "Photo of the curb stop or main valve closed."),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100107",
            info: "Lock Change and Secure",
            address1: "1190 Bayshore Boulevard",
            city: "Tampa",
            state: "FL",
            zip: "33606",
            lat: 27.930_012,
            lon: -82.486_003,
            due_in_days: 1,
            status: "REWORK",
            client_instructions: "Rekey front and rear doors to client key code 67767, install lockbox on the front door.",
            reference: "LN-2207815",
            options: json!({"check_in_required": true, "check_in_photo_required": true}),
            services: vec![
                (
                    "Lock Change",
                    "Photo of each new lock and the key code stamped on the key.",
                ),
                (
                    "Lockbox",
                    "Photo of the installed lockbox with the code wheel scrambled.",
                ),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100108",
            info: "Exterior Inspection and Debris",
            address1: "8812 Carmel Road",
            city: "Charlotte",
            state: "NC",
            zip: "28226",
            lat: 35.086_602,
            lon: -80.830_711,
            due_in_days: 6,
            status: "",
            client_instructions: "Full exterior inspection; remove exterior debris up to 4 cubic yards; report roof damage with a bid.",
            reference: "LN-9945120",
            options: json!({"check_in_required": false}),
            services: vec![
                (
                    "Exterior Inspection",
                    "Photos of all elevations, roof line, and any damage.",
                ),
                (
                    "Exterior Debris Removal",
                    "Before and after photos from the same angle.",
                ),
            ],
            survey: SeedSurvey::None,
        },
        Site {
            number: "WO-100109",
            info: "Property Inspection - PCR",
            address1: "5617 North Delaware Street",
            city: "Indianapolis",
            state: "IN",
            zip: "46220",
            lat: 39.853_120,
            lon: -86.151_440,
            due_in_days: 3,
            status: "",
            client_instructions: "Full property condition report (interior if accessible). Answer every question of the survey; photos as the survey asks.",
            reference: "LN-5120387",
            options: json!({"check_in_required": true}),
            services: vec![
                (
                    "Property Inspection",
                    "Complete the property inspection survey hpirFull-v3 from your survey library.",
                ),
                (
                    "Exterior Photos",
                    "Front, both sides, rear and street view in both directions.",
                ),
            ],
            survey: SeedSurvey::ById,
        },
        Site {
            number: "WO-100110",
            info: "Property Inspection - Initial",
            address1: "4120 Wornall Road",
            city: "Kansas City",
            state: "MO",
            zip: "64111",
            lat: 39.052_870,
            lon: -94.591_610,
            due_in_days: 4,
            status: "",
            client_instructions: "Initial inspection after foreclosure. Exterior and interior; report occupancy, hazards and bid items.",
            reference: "LN-6634011",
            options: json!({"check_in_required": false}),
            services: vec![
                ("Property Inspection", "Complete the attached inspection survey."),
                (
                    "Lawn Condition Photos",
                    "Photos of the front and rear yards showing grass height.",
                ),
            ],
            survey: SeedSurvey::Inline,
        },
        Site {
            number: "WO-100111",
            info: "Property Inspection - Rework",
            address1: "1785 Peabody Avenue",
            city: "Memphis",
            state: "TN",
            zip: "38104",
            lat: 35.126_510,
            lon: -89.999_870,
            due_in_days: 1,
            status: "REWORK",
            client_instructions: "Rework: the roof photos did not show the damage. Review your previous answers, re-shoot the roof and resubmit.",
            reference: "LN-7790264",
            options: json!({"check_in_required": true, "check_in_photo_required": true}),
            services: vec![
                (
                    "Property Inspection",
                    "Correct the inspection survey; your previous answers are filled in.",
                ),
                (
                    "Roof Photos",
                    "At least two photos of the damaged north slope, close enough to see the decking.",
                ),
            ],
            survey: SeedSurvey::Rework,
        },
    ]
}

fn doc_of(site: &Site, now: i64) -> Value {
    let services: Vec<Value> = site
        .services
        .iter()
        .enumerate()
        .map(|(i, (name, instructions))| {
            let mut service = json!({"serviceName": name, "instructions": instructions, "options": {}});
            match (i, site.survey) {
                (0, SeedSurvey::ById) => service["survey"] = json!(PROPERTY_INSPECTION_ID),
                (0, SeedSurvey::Inline) => service["surveyDynamic"] = property_inspection(),
                (0, SeedSurvey::Rework) => {
                    service["surveyDynamic"] = with_answers(property_inspection(), &rework_answers(now));
                }
                _ => {}
            }
            service
        })
        .collect();
    json!({
        "workOrderNumber": site.number,
        "workOrderInfo": site.info,
        "address1": site.address1,
        "address2": "",
        "city": site.city,
        "state": site.state,
        "zip": site.zip,
        "country": "US",
        "status": site.status,
        "dueDate": date_after(now, site.due_in_days),
        "startDate": date_after(now, 0),
        "instructions": "Check in on arrival. Photos must show the property address at least once.",
        "clientStatus": "Open",
        "clientDueDate": date_after(now, site.due_in_days),
        "clientInstructions": site.client_instructions,
        "description": format!("{} at {}, {}", site.info, site.address1, site.city),
        "reference": site.reference,
        "gpsLatitude": site.lat,
        "gpsLongitude": site.lon,
        "options": site.options,
        "services": services,
    })
}

/// Creates (or resets) the demo login and creates (or refreshes) its eleven orders.
pub(crate) fn demo(conn: &Connection, now: i64) -> Result<SeedReport, ProviderError> {
    let hash = password_sha1(DEMO_PASSWORD);
    let user = match users::find(conn, DEMO_USER)? {
        Some(user) => {
            users::set_credentials(conn, user.id, &hash, DEMO_TOKEN)?;
            user
        }
        None => users::insert(conn, now, DEMO_USER, &hash, DEMO_TOKEN)?,
    };
    let mut numbers = Vec::new();
    for site in sites() {
        let doc = doc_of(&site, now);
        orders::upsert(
            conn,
            now,
            doc,
            Some(Assignment::To(user.id, user.username.clone())),
        )?;
        numbers.push(site.number.to_owned());
    }
    Ok(SeedReport {
        username: DEMO_USER.to_owned(),
        password: DEMO_PASSWORD.to_owned(),
        token: DEMO_TOKEN.to_owned(),
        work_order_numbers: numbers,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The questions of a template, sections flattened.
    fn questions(items: &Value, out: &mut Vec<Value>) {
        for item in items.as_array().unwrap() {
            match item.get("questions") {
                Some(inner) => questions(inner, out),
                None => out.push(item.clone()),
            }
        }
    }

    #[test]
    fn every_rework_answer_lands_on_a_question_and_fits_it() {
        let answers = rework_answers(1_700_000_000);
        let template = with_answers(property_inspection(), &answers);
        let mut all = Vec::new();
        questions(&template["questions"], &mut all);
        for (id, answer) in &answers {
            let question = all
                .iter()
                .find(|q| q["id"] == json!(id))
                .unwrap_or_else(|| panic!("no question {id}"));
            assert_eq!(&question["answer"], answer, "{id}");
            let fits = match question["answerType"].as_str().unwrap() {
                "yesno" => answer == "Yes" || answer == "No",
                "select" => question["answerOptions"].as_array().unwrap().contains(answer),
                "multiselect" => answer
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|a| question["answerOptions"].as_array().unwrap().contains(a)),
                "number" => answer.as_str().unwrap().parse::<f64>().is_ok(),
                _ => answer.is_string(),
            };
            assert!(fits, "{id}: {answer}");
        }
        let answered = all.iter().filter(|q| q.get("answer").is_some()).count();
        assert_eq!(answered, answers.len());
    }
}
