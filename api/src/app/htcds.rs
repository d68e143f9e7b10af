//! `probono export htcds`: one row per case for sharing with IOM / the CTDC, in the column
//! names of the CTDC Global Dataset where we could verify them and our own otherwise
//! (docs/htcds.md has the mapping table).
//!
//! No identity, no free text, no ids and no dates finer than the year; ages as age
//! brackets. Small cells: the quasi-identifiers ([`QUASI_IDENTIFIERS`]) of every row that
//! is written are shared by at least K rows. A row whose combination is rarer is generalised
//! step by step (age bracket → minor/adult; region of recruitment → KG; citizenship and
//! countries → blank; year and gender → blank), and a row still in a group smaller than K
//! after the last step is left out. Rows are sorted by their values, so the file keeps no
//! trace of the order in which cases were opened.

use crate::error::ApiError;
use domain::values::{AgeGroup, ExploitationType, MeansOfControl, PlaceOfRecruitment, RecruiterRelationship};
use projections::model::CaseView;
use std::collections::BTreeMap;

/// The CTDC Global Dataset's `meansOfControl*` columns, in its order, with our value.
const MEANS_OF_CONTROL: &[(&str, MeansOfControl)] = &[
    ("meansOfControlDebtBondage", MeansOfControl::DebtBondage),
    ("meansOfControlTakesEarnings", MeansOfControl::TakesEarnings),
    ("meansOfControlRestrictsFinancialAccess", MeansOfControl::RestrictsFinancialAccess),
    ("meansOfControlThreats", MeansOfControl::Threats),
    ("meansOfControlPsychologicalAbuse", MeansOfControl::PsychologicalAbuse),
    ("meansOfControlPhysicalAbuse", MeansOfControl::PhysicalAbuse),
    ("meansOfControlSexualAbuse", MeansOfControl::SexualAbuse),
    ("meansOfControlFalsePromises", MeansOfControl::FalsePromises),
    ("meansOfControlPsychoactiveSubstances", MeansOfControl::PsychoactiveSubstances),
    ("meansOfControlRestrictsMovement", MeansOfControl::RestrictsMovement),
    ("meansOfControlRestrictsMedicalCare", MeansOfControl::RestrictsMedicalCare),
    ("meansOfControlExcessiveWorkingHours", MeansOfControl::ExcessiveWorkingHours),
    ("meansOfControlUsesChildren", MeansOfControl::UsesChildren),
    ("meansOfControlThreatOfLawEnforcement", MeansOfControl::ThreatOfLawEnforcement),
    ("meansOfControlWithholdsNecessities", MeansOfControl::WithholdsNecessities),
    ("meansOfControlWithholdsDocuments", MeansOfControl::WithholdsDocuments),
    ("meansOfControlOther", MeansOfControl::Other),
];

/// The columns before the means of control. `yearOfRegistration` … `RecruiterRelationship`
/// are the CTDC Global Dataset's names; the rest are ours (docs/htcds.md).
const HEAD: &[&str] = &[
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "RecruiterRelationship",
];
const TAIL: &[&str] = &[
    "recruitmentMethod",
    "isicSection",
    "placeOfRecruitment",
    "countryOfRecruitment",
    "migrationStatus",
    "primaryLanguage",
];

/// The columns that, together, could single a person out: a combination of their values
/// written to the file is shared by at least K rows.
pub const QUASI_IDENTIFIERS: &[&str] = &[
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "placeOfRecruitment",
    "countryOfRecruitment",
];

/// The CTDC's age brackets (`ageBroad`) of an age at identification.
pub fn age_bracket(age: Option<u8>) -> &'static str {
    match age {
        None => "",
        Some(0..=8) => "0--8",
        Some(9..=17) => "9--17",
        Some(18..=20) => "18--20",
        Some(21..=23) => "21--23",
        Some(24..=26) => "24--26",
        Some(27..=29) => "27--29",
        Some(30..=38) => "30--38",
        Some(39..=47) => "39--47",
        Some(_) => "48+",
    }
}

fn relationship(r: RecruiterRelationship) -> &'static str {
    match r {
        RecruiterRelationship::Family => "Family",
        RecruiterRelationship::Friend => "Friend",
        RecruiterRelationship::IntimatePartner => "Intimate Partner",
        RecruiterRelationship::Employer | RecruiterRelationship::Other => "Other",
    }
}

/// One case as a row of named values.
type Row = BTreeMap<&'static str, String>;

fn row(c: &CaseView) -> Row {
    let mut r = Row::new();
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    let has = |t: ExploitationType| c.exploitation_types.contains(&t);
    r.insert("yearOfRegistration", c.identified_on.format("%Y").to_string());
    r.insert("gender", c.client.gender.as_str().to_string());
    r.insert("ageBroad", age_bracket(c.client.age_at_identification).to_string());
    r.insert(
        "majorityStatus",
        match c.client.age_group {
            AgeGroup::Minor => "Minor",
            AgeGroup::Adult => "Adult",
            AgeGroup::Unknown => "",
        }
        .to_string(),
    );
    r.insert("citizenship", c.client.citizenship.as_ref().map(|x| x.as_str().to_string()).unwrap_or_default());
    r.insert(
        "CountryOfExploitation",
        c.country_of_exploitation.as_ref().map(|x| x.as_str().to_string()).unwrap_or_default(),
    );
    r.insert("isForcedLabour", flag(has(ExploitationType::ForcedLabor)));
    r.insert("isSexualExploit", flag(has(ExploitationType::Sexual)));
    r.insert(
        "isOtherExploit",
        flag(
            c.exploitation_types.iter().any(|t| !matches!(t, ExploitationType::ForcedLabor | ExploitationType::Sexual)),
        ),
    );
    let p = &c.profile;
    r.insert("RecruiterRelationship", p.recruiter_relationship.map(relationship).unwrap_or_default().to_string());
    // An empty profile is "not asked": blank, not "no".
    let asked = !p.means_of_control.is_empty();
    for (col, m) in MEANS_OF_CONTROL {
        r.insert(col, if asked { flag(p.means_of_control.contains(m)) } else { String::new() });
    }
    r.insert("recruitmentMethod", p.recruitment.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(";"));
    r.insert("isicSection", p.industry.map(|s| s.as_str().to_string()).unwrap_or_default());
    let (place, country) = match &p.place_of_recruitment {
        Some(PlaceOfRecruitment::Region(reg)) => (reg.as_str().to_string(), "KG".to_string()),
        Some(PlaceOfRecruitment::Country(cc)) => (String::new(), cc.as_str().to_string()),
        None => (String::new(), String::new()),
    };
    r.insert("placeOfRecruitment", place);
    r.insert("countryOfRecruitment", country);
    r.insert("migrationStatus", p.migration_status.map(|m| m.as_str().to_string()).unwrap_or_default());
    r.insert("primaryLanguage", p.primary_language.as_ref().map(|l| l.as_str().to_string()).unwrap_or_default());
    r
}

fn key(r: &Row) -> Vec<String> {
    QUASI_IDENTIFIERS.iter().map(|c| r.get(c).cloned().unwrap_or_default()).collect()
}

/// The generalisation steps, mildest first.
fn generalise(r: &mut Row, step: usize) {
    let mut blank = |c: &'static str| {
        r.insert(c, String::new());
    };
    match step {
        0 => {
            let coarse = match r.get("majorityStatus").map(String::as_str) {
                Some("Minor") => "0--17",
                Some("Adult") => "18+",
                _ => "",
            };
            r.insert("ageBroad", coarse.to_string());
        }
        1 => blank("placeOfRecruitment"),
        2 => {
            blank("citizenship");
            blank("CountryOfExploitation");
            blank("countryOfRecruitment");
        }
        _ => {
            blank("yearOfRegistration");
            blank("gender");
        }
    }
}

const STEPS: usize = 4;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtcdsExport {
    pub csv: String,
    pub rows: usize,
    /// Rows generalised at least one step.
    pub generalised: usize,
    /// Rows left out: still in a group smaller than K after every step.
    pub suppressed: usize,
}

/// The export of `cases` with groups smaller than `k` generalised or left out (`k` ≤ 1:
/// no suppression, for internal use only).
pub fn export(cases: &[CaseView], k: usize) -> Result<HtcdsExport, ApiError> {
    let mut rows: Vec<(Row, bool)> = cases.iter().map(|c| (row(c), false)).collect();
    let small = |rows: &[(Row, bool)]| {
        let mut n: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for (r, _) in rows {
            *n.entry(key(r)).or_default() += 1;
        }
        rows.iter().map(|(r, _)| n[&key(r)] < k).collect::<Vec<bool>>()
    };
    if k > 1 {
        for step in 0..STEPS {
            let rare = small(&rows);
            if !rare.contains(&true) {
                break;
            }
            for ((r, touched), rare) in rows.iter_mut().zip(rare) {
                if rare {
                    generalise(r, step);
                    *touched = true;
                }
            }
        }
    }
    let before = rows.len();
    if k > 1 {
        let rare = small(&rows);
        rows = rows.into_iter().zip(rare).filter(|(_, rare)| !rare).map(|(r, _)| r).collect();
    }
    let suppressed = before - rows.len();
    let generalised = rows.iter().filter(|(_, t)| *t).count();
    let columns: Vec<&str> =
        HEAD.iter().copied().chain(MEANS_OF_CONTROL.iter().map(|(c, _)| *c)).chain(TAIL.iter().copied()).collect();
    let mut lines: Vec<Vec<String>> =
        rows.iter().map(|(r, _)| columns.iter().map(|c| r.get(c).cloned().unwrap_or_default()).collect()).collect();
    lines.sort();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&columns).map_err(ApiError::internal)?;
    for l in &lines {
        out.write_record(l).map_err(ApiError::internal)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    Ok(HtcdsExport {
        csv: String::from_utf8(bytes).map_err(ApiError::internal)?,
        rows: lines.len(),
        generalised,
        suppressed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_in_the_ctdc_brackets() {
        assert_eq!(age_bracket(Some(8)), "0--8");
        assert_eq!(age_bracket(Some(17)), "9--17");
        assert_eq!(age_bracket(Some(18)), "18--20");
        assert_eq!(age_bracket(Some(38)), "30--38");
        assert_eq!(age_bracket(Some(48)), "48+");
        assert_eq!(age_bracket(None), "");
    }
}
