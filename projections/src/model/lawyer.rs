use chrono::NaiveDate;
use domain::lawyer::LawyerEvent;
use domain::values::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingView {
    pub course: String,
    pub completed_on: NaiveDate,
}

/// A member of the pro bono network as the lawyer queries show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawyerView {
    pub id: Uuid,
    pub registered_seq: i64,
    pub full_name: String,
    pub gender: Gender,
    pub status: LawyerStatus,
    pub region: Region,
    pub languages: Vec<String>,
    pub license_number: Option<String>,
    pub registered_on: NaiveDate,
    pub trainings: Vec<TrainingView>,
    pub max_active_cases: Option<u16>,
    pub active: bool,
}

impl LawyerView {
    pub fn open(event: &LawyerEvent, registered_seq: i64) -> Option<LawyerView> {
        let LawyerEvent::LawyerRegistered {
            lawyer_id,
            full_name,
            gender,
            status,
            region,
            languages,
            license_number,
            registered_on,
        } = event
        else {
            return None;
        };
        Some(LawyerView {
            id: *lawyer_id,
            registered_seq,
            full_name: full_name.to_string(),
            gender: *gender,
            status: *status,
            region: *region,
            languages: languages.iter().map(|l| l.to_string()).collect(),
            license_number: license_number.as_ref().map(|l| l.to_string()),
            registered_on: *registered_on,
            trainings: vec![],
            max_active_cases: None,
            active: true,
        })
    }

    pub fn apply(&mut self, event: &LawyerEvent) {
        match event {
            LawyerEvent::LawyerRegistered { .. } => {}
            LawyerEvent::TrainingRecorded { course, completed_on } => {
                self.trainings.push(TrainingView { course: course.to_string(), completed_on: *completed_on })
            }
            LawyerEvent::CapacitySet { max_active_cases } => self.max_active_cases = Some(*max_active_cases),
            LawyerEvent::LawyerDeactivated { .. } => self.active = false,
            LawyerEvent::LawyerReactivated { .. } => self.active = true,
        }
    }
}
