//! `probono export stats`: `outcomeStats` as CSV for publication, with small-cell
//! suppression.
//!
//! Counts from 1 to K-1 are printed as `<K` (primary suppression). Then, per count column,
//! every *line* of the table — the cells that differ in one dimension only, whose sum another
//! table (or the grand total) may publish — that holds exactly one suppressed cell gets its
//! smallest other non-zero cell suppressed too (complementary suppression), repeated until
//! no line has a lone suppressed cell. So no suppressed cell can be recomputed from row or
//! column totals or the grand total. Zeros are published: a true zero reveals no person.
//!
//! The default K = 5 follows common practice for publishing counts about people at risk
//! (many statistical offices suppress cells under 5); raise it for small regions.

use crate::error::ApiError;
use projections::model::facts::FactKind;
use projections::stats::{Counts, OutcomeStats};
use std::collections::{BTreeMap, BTreeSet};

pub const COLUMNS: &[&str] = &[
    "cases_opened",
    "lawyers_assigned",
    "police_reports_filed",
    "registered_as_tip",
    "registered_as_tip_related",
    "registered_as_fraud",
    "registered_as_other",
    "registration_refused",
    "reclassified_to_tip",
    "reclassified_from_tip",
    "returned_for_investigation",
    "sent_to_court",
    "convictions",
    "acquittals",
    "dismissals",
];

/// The fact behind each column of [`COLUMNS`], in order.
const KINDS: [FactKind; 15] = [
    FactKind::CasesOpened,
    FactKind::LawyersAssigned,
    FactKind::PoliceReportsFiled,
    FactKind::RegisteredAsTip,
    FactKind::RegisteredAsTipRelated,
    FactKind::RegisteredAsFraud,
    FactKind::RegisteredAsOther,
    FactKind::RegistrationRefused,
    FactKind::ReclassifiedToTip,
    FactKind::ReclassifiedFromTip,
    FactKind::ReturnedForInvestigation,
    FactKind::SentToCourt,
    FactKind::Convictions,
    FactKind::Acquittals,
    FactKind::Dismissals,
];

fn values(c: &Counts) -> [i64; 15] {
    KINDS.map(|k| c.get(&k).copied().unwrap_or(0))
}

/// Which cells of one count column to suppress. `cells` maps group keys to counts; the
/// grand total is published.
pub fn suppressed_cells(cells: &BTreeMap<Vec<String>, i64>, k: i64) -> BTreeSet<Vec<String>> {
    let mut out: BTreeSet<Vec<String>> =
        cells.iter().filter(|(_, v)| **v >= 1 && **v < k).map(|(key, _)| key.clone()).collect();
    if out.is_empty() || k <= 1 {
        return out;
    }
    let width = cells.keys().next().map_or(0, Vec::len);
    loop {
        let mut changed = false;
        // Lines: cells equal but for dimension i; plus the whole table (grand total).
        let mut lines: Vec<Vec<&Vec<String>>> = vec![cells.keys().collect()];
        for i in 0..width {
            let mut by_rest: BTreeMap<Vec<&String>, Vec<&Vec<String>>> = BTreeMap::new();
            for key in cells.keys() {
                let rest: Vec<&String> = key.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, v)| v).collect();
                by_rest.entry(rest).or_default().push(key);
            }
            lines.extend(by_rest.into_values());
        }
        for line in lines {
            if line.iter().filter(|key| out.contains(**key)).count() != 1 {
                continue;
            }
            let partner = line
                .iter()
                .filter(|key| !out.contains(**key) && cells.get(**key).copied().unwrap_or(0) > 0)
                .min_by_key(|key| (cells.get(**key).copied().unwrap_or(0), (**key).clone()));
            if let Some(p) = partner {
                out.insert((*p).clone());
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// Renders the statistics as CSV: one row per group, then a `TOTAL` row. Fields are quoted
/// by the `csv` crate where RFC 4180 needs it (a comma, quote or line break in a value).
pub fn to_csv(stats: &OutcomeStats, dimensions: &[String], k: i64) -> Result<String, ApiError> {
    let mut per_column: Vec<BTreeSet<Vec<String>>> = Vec::with_capacity(COLUMNS.len());
    for col in 0..COLUMNS.len() {
        let cells: BTreeMap<Vec<String>, i64> =
            stats.groups.iter().map(|(key, counts)| (key.clone(), values(counts)[col])).collect();
        per_column.push(if k > 1 { suppressed_cells(&cells, k) } else { BTreeSet::new() });
    }
    let cell = |suppressed: bool, v: i64| if suppressed { format!("<{k}") } else { v.to_string() };
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = dimensions.iter().map(|d| d.to_ascii_lowercase()).collect();
    let mut total: Vec<String> = vec!["TOTAL".to_string(); dimensions.len()];
    if dimensions.is_empty() {
        // No groups: an empty first column, so that the total row lines up.
        header.push(String::new());
        total.push(String::new());
    }
    header.extend(COLUMNS.iter().map(|c| c.to_string()));
    out.write_record(&header).map_err(ApiError::internal)?;
    if !dimensions.is_empty() {
        for (key, counts) in &stats.groups {
            let counts = values(counts).into_iter().enumerate().map(|(col, v)| cell(per_column[col].contains(key), v));
            out.write_record(key.iter().cloned().chain(counts)).map_err(ApiError::internal)?;
        }
    }
    total.extend(values(&stats.totals).into_iter().map(|v| cell(k > 1 && v >= 1 && v < k, v)));
    out.write_record(&total).map_err(ApiError::internal)?;
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(a: &str, b: &str) -> Vec<String> {
        vec![a.to_string(), b.to_string()]
    }

    #[test]
    fn a_lone_small_cell_gets_a_partner_in_its_row_and_column() {
        let cells: BTreeMap<_, _> = [
            (k("2020", "OSH"), 2),
            (k("2020", "CHUI"), 10),
            (k("2020", "TALAS"), 7),
            (k("2021", "OSH"), 12),
            (k("2021", "CHUI"), 9),
            (k("2021", "TALAS"), 30),
        ]
        .into_iter()
        .collect();
        let s = suppressed_cells(&cells, 5);
        assert!(s.contains(&k("2020", "OSH")));
        // Row 2020 and column OSH each need a second suppressed cell.
        assert!(s.iter().filter(|c| c[0] == "2020").count() >= 2);
        assert!(s.iter().filter(|c| c[1] == "OSH").count() >= 2);
        // Every line with a suppressed cell has at least two.
        for i in 0..2 {
            for key in &s {
                let n = s.iter().filter(|o| o[1 - i] == key[1 - i]).count();
                assert!(n >= 2, "line of {key:?} along {i} has a lone suppressed cell");
            }
        }
    }

    fn stats(groups: &[(Vec<String>, i64, i64)]) -> OutcomeStats {
        let mut out = OutcomeStats::default();
        for (key, opened, fraud) in groups {
            let counts: Counts = [(FactKind::CasesOpened, *opened), (FactKind::RegisteredAsFraud, *fraud)].into();
            *out.totals.entry(FactKind::CasesOpened).or_default() += opened;
            *out.totals.entry(FactKind::RegisteredAsFraud).or_default() += fraud;
            out.groups.insert(key.clone(), counts);
        }
        out
    }

    #[test]
    fn the_csv_layout_is_header_groups_and_total() {
        let s = stats(&[(k("2020", "OSH"), 2, 0), (k("2020", "CHUI"), 10, 7), (k("2021", "OSH"), 12, 30)]);
        let csv = to_csv(&s, &["YEAR".into(), "REGION".into()], 5).unwrap();
        // OSH 2 is suppressed; CHUI 10 (its row) and 2021 OSH 12 (its column) become partners.
        let zeros = ",0".repeat(9);
        let expected = format!(
            "year,region,{}\n\
             2020,CHUI,<5,0,0,0,0,7{zeros}\n\
             2020,OSH,<5,0,0,0,0,0{zeros}\n\
             2021,OSH,<5,0,0,0,0,30{zeros}\n\
             TOTAL,TOTAL,24,0,0,0,0,37{zeros}\n",
            COLUMNS.join(",")
        );
        assert_eq!(csv, expected);
        // No dimension: the header gains an empty first column so the total row lines up.
        let s = stats(&[(vec![], 3, 0)]);
        let csv = to_csv(&s, &[], 5).unwrap();
        assert_eq!(csv, format!(",{}\n,<5,0,0,0,0,0{zeros}\n", COLUMNS.join(",")));
        // K = 1 turns suppression off.
        let s = stats(&[(vec!["2020".into()], 2, 1)]);
        let csv = to_csv(&s, &["YEAR".into()], 1).unwrap();
        assert_eq!(csv, format!("year,{}\n2020,2,0,0,0,0,1{zeros}\nTOTAL,2,0,0,0,0,1{zeros}\n", COLUMNS.join(",")));
    }

    #[test]
    fn values_with_commas_quotes_and_newlines_are_quoted() {
        let s = stats(&[
            (vec!["Bishkek, Chui".into()], 9, 0),
            (vec!["the \"Osh\" office".into()], 9, 0),
            (vec!["two\nlines".into()], 9, 0),
        ]);
        let csv = to_csv(&s, &["ORGANIZATION".into()], 5).unwrap();
        let zeros = ",0".repeat(14);
        let rows: Vec<&str> = csv.split_inclusive('\n').collect();
        assert_eq!(rows[1], format!("\"Bishkek, Chui\",9{zeros}\n"));
        assert_eq!(rows[2], format!("\"the \"\"Osh\"\" office\",9{zeros}\n"));
        assert_eq!(rows[3], "\"two\n");
        assert_eq!(rows[4], format!("lines\",9{zeros}\n"));
        assert_eq!(rows[5], format!("TOTAL,27{zeros}\n"));
    }

    #[test]
    fn nothing_is_suppressed_when_every_cell_is_zero_or_large() {
        let cells: BTreeMap<_, _> = [(k("a", "x"), 0), (k("a", "y"), 5), (k("b", "x"), 40)].into_iter().collect();
        assert!(suppressed_cells(&cells, 5).is_empty());
    }
}
