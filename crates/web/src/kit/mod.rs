//! What every feature's pages share: the form kit (fields, rendering,
//! submitting with signatures), the page layout, reading a record with its
//! read recorded, CSV downloads, and the questionnaires shared by the staff
//! pages, the portal and FHIR.

pub mod csv;
pub mod forms;
pub mod layout;
pub mod questionnaires;
pub mod records;
