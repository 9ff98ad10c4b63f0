//! Typed identifiers of every entity. Each is a newtype that only exists once
//! parsed, so an identifier of one kind can never be passed where another is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind} identifier: {reason}")]
pub struct IdError {
    /// Which kind of identifier was being parsed.
    pub kind: &'static str,
    /// The rejected text (truncated to 80 characters).
    pub value: String,
    /// What rule it broke, in words.
    pub reason: &'static str,
}

/// Longest identifier accepted; UUIDs and MRN-like ids fit comfortably.
pub const MAX_ID_LEN: usize = 64;

fn check_id(kind: &'static str, value: &str) -> Result<(), IdError> {
    let fail = |reason| IdError {
        kind,
        value: value.chars().take(80).collect(),
        reason,
    };
    if value.is_empty() {
        return Err(fail("it is empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(fail("it is longer than 64 characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(fail("only letters, digits, '-', '_', '.' and ':' are allowed"));
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The word used for this kind of identifier in messages.
            pub const KIND: &'static str = $kind;

            /// Parses an identifier, refusing empty, over-long or oddly-charactered text.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check_id($kind, value)?;
                Ok(Self(value.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(64))
                    .pattern(Some("^[A-Za-z0-9._:-]{1,64}$"))
                    .description(Some(concat!("A ", $kind, " identifier.")))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                check_id($kind, &value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

identifier!(/// A collection centre, processing lab, clinic or bank.
    SiteId, "site");
identifier!(/// A member of staff (a user account).
    StaffId, "staff");
identifier!(/// A patient or donor.
    PersonId, "person");
identifier!(/// A treatment plan.
    PlanId, "plan");
identifier!(/// An eligibility assessment.
    AssessmentId, "assessment");
identifier!(/// A signed consent.
    ConsentId, "consent");
identifier!(/// A collection procedure.
    CollectionId, "collection");
identifier!(/// A unit of cellular material (starting material, intermediate or final product).
    UnitId, "unit");
identifier!(/// A processing step of a batch record.
    StepId, "step");
identifier!(/// A shipment between sites.
    ShipmentId, "shipment");
identifier!(/// An administration (injection or infusion).
    AdministrationId, "administration");
identifier!(/// A follow-up visit or questionnaire response.
    VisitId, "visit");
identifier!(/// An adverse event report.
    AdverseEventId, "adverse event");
identifier!(/// A command, chosen by its submitter so a retry is recognised.
    CommandId, "command");
identifier!(/// An API token (the public identifier, not the secret token).
    ApiTokenId, "API token");
identifier!(/// A signing grant: a signer's proof of authentication for one command.
    SigningGrantId, "signing grant");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_uuid_like_and_readable_ids() {
        assert!(UnitId::parse("0192f0c2-8d5e-7c3a-9b1e-2f4a6c8d0e12").is_ok());
        assert_eq!(SiteId::parse("lab.riyadh").map(|s| s.to_string()).ok(), Some("lab.riyadh".into()));
    }

    #[test]
    fn refuses_empty_long_and_strange_ids_with_a_reason() {
        let err = PersonId::parse("").unwrap_err();
        assert_eq!(err.reason, "it is empty");
        assert_eq!(err.kind, "person");
        assert!(PersonId::parse(&"a".repeat(65)).is_err());
        let err = PlanId::parse("plan 1").unwrap_err();
        assert!(err.to_string().contains("not a valid plan identifier"));
    }

    #[test]
    fn deserialising_checks_the_rules() {
        let ok: Result<UnitId, _> = serde_json::from_str("\"u-1\"");
        assert!(ok.is_ok());
        let bad: Result<UnitId, _> = serde_json::from_str("\"u 1\"");
        assert!(bad.is_err());
    }
}
