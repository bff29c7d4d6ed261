//! Property tests of every listing format against hostile text (issue 19): whatever a value
//! holds, the table, CSV and value formats never show a character that acts on a terminal and
//! keep one line per service, and JSON and YAML give every value back exactly.

use proptest::prelude::*;

use super::Format;
use super::columns::Column;
use super::list::{ServiceSink, Style};
use crate::model::{Service, ServiceRow};
use crate::text::hostile;
use crate::text::tests::hostile_text;

fn services(values: &[(String, String)]) -> Vec<Service> {
    let now = chrono::Utc::now().naive_utc();
    values
        .iter()
        .enumerate()
        .map(|(i, (host, reason))| {
            let row = ServiceRow {
                disabled_reason: Some(reason.clone()),
                ..ServiceRow::example(i as i64 + 1, host, "cinder-volume", Some(now))
            };
            Service::judge(row, now, 60)
        })
        .collect()
}

fn render(services: &[Service], format: Format) -> String {
    let mut out = Vec::new();
    let mut sink =
        ServiceSink::new(&mut out, format, Column::ALL.to_vec(), Style::default()).unwrap();
    for s in services {
        sink.push(s).unwrap();
    }
    sink.finish().unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #[test]
    fn no_format_for_people_shows_a_hostile_character(
        values in prop::collection::vec((hostile_text(), hostile_text()), 1..4)
    ) {
        let services = services(&values);
        for (format, lines) in [
            (Format::Table, values.len() + 4),
            (Format::Value, values.len()),
            (Format::Csv, values.len() + 1),
        ] {
            let text = render(&services, format);
            prop_assert!(
                !text.chars().any(|c| c != '\n' && hostile(c)),
                "{:?}: {:?}", format, text
            );
            prop_assert_eq!(text.lines().count(), lines, "{:?}: {:?}", format, text);
        }
    }

    #[test]
    fn json_and_yaml_give_every_value_back_exactly(
        values in prop::collection::vec((hostile_text(), hostile_text()), 1..4)
    ) {
        let services = services(&values);
        let json: serde_json::Value = serde_json::from_str(&render(&services, Format::Json)).unwrap();
        let yaml_text = render(&services, Format::Yaml);
        let yaml: serde_json::Value = serde_saphyr::from_str(&yaml_text)
            .map_err(|e| TestCaseError::fail(format!("{e}: {yaml_text:?}")))?;
        for doc in [&json, &yaml] {
            for (i, (host, reason)) in values.iter().enumerate() {
                let row = &doc[i];
                prop_assert_eq!(row["host"].as_str(), Some(host.as_str()));
                prop_assert_eq!(row["disabled_reason"].as_str(), Some(reason.as_str()));
            }
        }
    }
}
