//! Why a command was refused: a closed list of reasons ([`RejectionCode`]),
//! each with the HTTP status an adapter answers with, plus a message for
//! people and, where one field of the command is at fault, its name. Forms
//! mark the field by that name; they never match message text.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident = $text:literal, $status:literal;)*) => {
        /// Every reason the rules can refuse a command for. The text form
        /// (`as_str`) is stable: programs match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RejectionCode {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl RejectionCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [RejectionCode] = &[$(RejectionCode::$variant),*];

            /// The stable text of the code, e.g. `already_administered`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RejectionCode::$variant => $text,)*
                }
            }

            /// The HTTP status an adapter answers with: 403 for what the
            /// actor may not do, 409 for what conflicts with what is already
            /// recorded, 422 for everything else the rules refuse.
            pub fn http_status(self) -> u16 {
                match self {
                    $(RejectionCode::$variant => $status,)*
                }
            }

            /// The code named by `text`, if any.
            pub fn parse(text: &str) -> Option<RejectionCode> {
                match text {
                    $($text => Some(RejectionCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // Who may do what, where.
    Forbidden = "forbidden", 403;
    OtherSite = "other_site", 403;
    UnknownStaff = "unknown_staff", 422;
    UnknownSite = "unknown_site", 422;
    AccountInactive = "account_inactive", 403;
    // Records named by the command.
    UnknownPlan = "unknown_plan", 422;
    UnknownUnit = "unknown_unit", 422;
    UnknownPerson = "unknown_person", 422;
    UnknownShipment = "unknown_shipment", 422;
    UnknownAdverseEvent = "unknown_adverse_event", 422;
    UnknownApiToken = "unknown_api_token", 422;
    // Conflicts with what is already recorded.
    Duplicate = "duplicate", 409;
    DuplicateCommand = "duplicate_command", 409;
    AlreadyTaken = "already_taken", 409;
    AlreadyAllocated = "already_allocated", 409;
    AlreadyAdministered = "already_administered", 409;
    AlreadyReleased = "already_released", 409;
    AlreadyReceived = "already_received", 409;
    AlreadyAnswered = "already_answered", 409;
    AlreadyRevoked = "already_revoked", 409;
    SameVersion = "same_version", 409;
    SigningGrantUsed = "signing_grant_used", 409;
    // What was typed.
    MissingField = "missing_field", 422;
    FieldTooLong = "field_too_long", 422;
    Country = "country", 422;
    Fin = "fin", 422;
    Username = "username", 422;
    Roles = "roles", 422;
    EmptyCatalogue = "empty_catalogue", 422;
    ProductCode = "product_code", 422;
    Description = "description", 422;
    EmptyEvidence = "empty_evidence", 422;
    EvidenceTooLarge = "evidence_too_large", 422;
    EvidenceData = "evidence_data", 422;
    DateOfBirth = "date_of_birth", 422;
    Sessions = "sessions", 422;
    Dose = "dose", 422;
    Cost = "cost", 422;
    TrialRegistration = "trial_registration", 422;
    EthicsApproval = "ethics_approval", 422;
    Quantity = "quantity", 422;
    Expiry = "expiry", 422;
    CollectedAt = "collected_at", 422;
    Din = "din", 422;
    DinFin = "din_fin", 422;
    Criteria = "criteria", 422;
    ValidDays = "valid_days", 422;
    Grade = "grade", 422;
    Onset = "onset", 422;
    Inputs = "inputs", 422;
    Units = "units", 422;
    Destination = "destination", 422;
    Reason = "reason", 422;
    // The evidence guard.
    UnknownIndication = "unknown_indication", 422;
    EvidenceUnavailable = "evidence_unavailable", 422;
    EvidenceInForce = "evidence_in_force", 422;
    NotUnproven = "not_unproven", 422;
    NotBlocked = "not_blocked", 422;
    OverrideNotPossible = "override_not_possible", 422;
    SitePolicy = "site_policy", 422;
    WarningNotAcknowledged = "warning_not_acknowledged", 422;
    TrialConsent = "trial_consent", 422;
    // Plans, consent and eligibility.
    NotAPatient = "not_a_patient", 422;
    NotADonor = "not_a_donor", 422;
    PlanClosed = "plan_closed", 422;
    PlanRequired = "plan_required", 422;
    PlanNotActive = "plan_not_active", 422;
    OtherPatient = "other_patient", 422;
    NoConsent = "no_consent", 422;
    ConsentMissing = "consent_missing", 422;
    EligibilityAnswer = "eligibility_answer", 422;
    // Units, QC and release.
    ProductType = "product_type", 422;
    UnitUnavailable = "unit_unavailable", 422;
    InTransit = "in_transit", 422;
    Pooling = "pooling", 422;
    DivisionCode = "division_code", 422;
    NotInQuarantine = "not_in_quarantine", 422;
    NoQc = "no_qc", 422;
    QcPending = "qc_pending", 422;
    IncubationIncomplete = "incubation_incomplete", 422;
    NothingExceptional = "nothing_exceptional", 422;
    Expired = "expired", 422;
    OutOfSpecification = "out_of_specification", 422;
    PatientNotInformed = "patient_not_informed", 422;
    Autologous = "autologous", 422;
    Allocation = "allocation", 422;
    NoAllocationRequest = "no_allocation_request", 422;
    TemperatureLog = "temperature_log", 422;
    // E-signatures.
    Signer = "signer", 422;
    SignatureMeaning = "signature_meaning", 422;
    SignerNotAuthorised = "signer_not_authorised", 403;
    SignatureNotProven = "signature_not_proven", 403;
    SigningGrantInvalid = "signing_grant_invalid", 403;
    Witness = "witness", 422;
    // The bedside checks (each failed check refuses with its own code).
    SamePatient = "same_patient", 422;
    Released = "released", 422;
    NotExpired = "not_expired", 422;
    PlanActive = "plan_active", 422;
    ConsentValid = "consent_valid", 422;
    EligibilityCurrent = "eligibility_current", 422;
    DoseAsPlanned = "dose_as_planned", 422;
    SessionsDone = "sessions_done", 422;
    // Follow-up, questionnaires and adverse events.
    UnknownTimePoint = "unknown_time_point", 422;
    OutsideWindow = "outside_window", 422;
    UnknownInstrument = "unknown_instrument", 422;
    NoAnswers = "no_answers", 422;
    Answers = "answers", 422;
    SeriousWithoutPlan = "serious_without_plan", 422;
    // Accounts and access grants.
    PasswordPolicy = "password_policy", 422;
    LastAdministrator = "last_administrator", 422;
    NotDeactivated = "not_deactivated", 422;
}

impl Serialize for RejectionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RejectionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RejectionCode::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown rejection code '{text}'")))
    }
}

impl PartialEq<&str> for RejectionCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command was refused: `code` for programs, `message` for people
/// (what is wrong and what to do), and the command field at fault, if one is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// Stable machine-readable reason.
    pub code: RejectionCode,
    /// What is wrong and what to do, in plain words.
    pub message: String,
    /// The command's field at fault (its name in the command), when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Rejection {
    /// A rejection with a code and a message.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Rejection {
        Rejection { code, message: message.into(), field: None }
    }

    /// The same rejection, naming the field at fault.
    #[must_use]
    pub fn at(mut self, field: &str) -> Rejection {
        self.field = Some(field.to_owned());
        self
    }
}

/// Shorthand for a refusal.
pub(crate) fn reject<T>(code: RejectionCode, message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(code, message))
}

/// Shorthand for a refusal that names the field at fault.
pub(crate) fn reject_at<T>(field: &str, code: RejectionCode, message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(code, message).at(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_unique_text_that_parses_back() {
        let mut seen = std::collections::BTreeSet::new();
        for code in RejectionCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert_eq!(RejectionCode::parse(code.as_str()), Some(*code));
            assert!(matches!(code.http_status(), 403 | 409 | 422));
        }
    }

    #[test]
    fn rejections_serialise_with_the_code_text() {
        let r = Rejection::new(RejectionCode::AlreadyAdministered, "STOP").at("unit");
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["code"], "already_administered");
        assert_eq!(json["field"], "unit");
        let back: Rejection = serde_json::from_value(json).expect("back");
        assert_eq!(back, r);
    }
}
