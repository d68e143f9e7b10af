//! The committed SDL is the contract clients build against: this fails when the schema
//! drifts from `api/schema.graphql` (regenerate with `probono schema > api/schema.graphql`).

#[test]
fn the_committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../api/schema.graphql"))
        .expect("api/schema.graphql is committed");
    let current = tests::api::graphql::sdl();
    assert!(
        committed.trim() == current.trim(),
        "api/schema.graphql is out of date: run `cargo run --bin probono -- schema > api/schema.graphql` and review the diff"
    );
}

#[test]
fn the_schema_keeps_the_stable_names_of_api_md() {
    let sdl = tests::api::graphql::sdl();
    for name in [
        "registerOrganization(input: RegisterOrganizationInput!): Organization!",
        "createAccessToken(input: CreateAccessTokenInput!): AccessTokenPayload!",
        "registerLawyer(input: RegisterLawyerInput!): Lawyer!",
        "openIntake(input: OpenIntakeInput!): Case!",
        "assignLawyer(input: AssignLawyerInput!): Case!",
        "acceptAssignment(input: CaseIdInput!): Case!",
        "declineAssignment(input: CaseReasonInput!): Case!",
        "filePoliceReport(input: FilePoliceReportInput!): Case!",
        "recordOffenseRegistration(input: RecordOffenseRegistrationInput!): Case!",
        "recordRegistrationRefused(input: RecordRegistrationRefusedInput!): Case!",
        "reclassifyOffense(input: ReclassifyOffenseInput!): Case!",
        "recordInvestigationOutcome(input: RecordInvestigationOutcomeInput!): Case!",
        "recordVerdict(input: RecordVerdictInput!): Case!",
        "closeCase(input: CaseReasonInput!): Case!",
        "eraseClientData(input: CaseReasonInput!): Case!",
        "me: Account!",
        "case(id: ID!): Case",
        "cases(filter: CaseFilter, first: Int, after: String): CaseConnection!",
        "lawyer(id: ID!): Lawyer",
        "offenses: [Offense!]!",
        "auditTrail(caseId: ID!): [AuditEntry!]!",
        "verifyAuditTrail(caseId: ID): AuditVerification!",
        "timeline: [AuditEntry!]!",
        "enum ReferralSource {",
        "SELF",
        "scalar Date",
        "scalar DateTime",
    ] {
        assert!(sdl.contains(name), "the schema lost {name:?}");
    }
}
