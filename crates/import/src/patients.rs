//! Patients and donors: one `RegisterPerson` per row.

use crate::fields;
use crate::table::Cells;
use celltrace_domain::ids::PersonId;
use celltrace_domain::Command;

pub(crate) const REQUIRED: &[&str] = &["person_id", "kind", "mrn", "name", "date_of_birth", "sex", "language"];
pub(crate) const OPTIONAL: &[&str] = &["contact"];

pub(crate) fn command(cells: &mut Cells<'_>) -> Option<Command> {
    let person = cells.parse("person_id", |v| fields::id(v, PersonId::parse));
    let kind = cells.parse("kind", fields::person_kind);
    let mrn = cells.parse("mrn", |v| {
        if v.chars().count() > 64 {
            Err(format!("'{}' is longer than 64 characters; a medical record number is shorter", fields::shown(v)))
        } else {
            Ok(v.to_owned())
        }
    });
    let name = cells.parse("name", |v| {
        if v.chars().count() > 200 {
            Err("is longer than 200 characters; shorten the name".to_owned())
        } else {
            Ok(v.to_owned())
        }
    });
    let date_of_birth = cells.parse("date_of_birth", fields::date);
    let sex = cells.parse("sex", fields::sex);
    let language = cells.parse("language", fields::language);
    let contact = cells.optional("contact").unwrap_or("").to_owned();
    Some(Command::RegisterPerson {
        person: person?,
        kind: kind?,
        mrn: mrn?,
        name: name?,
        date_of_birth: date_of_birth?,
        sex: sex?,
        language: language?,
        contact,
    })
}
