//! The demo data set: one vendor login and eight realistic property-preservation work orders.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::calendar::date_after;
use crate::error::ProviderError;
use crate::model::SeedReport;
use crate::store::orders::{self, Assignment};
use crate::store::users::{self, password_sha1};

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
        },
    ]
}

fn doc_of(site: &Site, now: i64) -> Value {
    let services: Vec<Value> = site
        .services
        .iter()
        .map(|(name, instructions)| json!({"serviceName": name, "instructions": instructions, "options": {}}))
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

/// Creates (or resets) the demo login and creates (or refreshes) its eight orders.
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
