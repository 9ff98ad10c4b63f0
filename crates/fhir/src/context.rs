//! What a resource mentions besides its own entity: the names shown beside
//! references (sites, staff, people), the product catalogue, the units an
//! adverse event suspects, and the questionnaire instruments. The caller
//! loads exactly what [`Needs`] lists for the entities of one page, so
//! building resources never needs the whole state.

use crate::questionnaire::QuestionnaireDef;
use celltrace_domain::ids::{PersonId, SiteId, StaffId, UnitId};
use celltrace_domain::model::{AdverseEvent, Person, Plan, ProductCatalogue, Site, Staff, Unit};
use celltrace_domain::State;
use std::collections::{BTreeMap, BTreeSet};

/// The linked entities of a set of resources, as far as the caller loaded
/// them; a reference whose name is missing is written without a display.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Site names.
    pub sites: BTreeMap<SiteId, String>,
    /// Staff names.
    pub staff: BTreeMap<StaffId, String>,
    /// People's names.
    pub persons: BTreeMap<PersonId, String>,
    /// The product descriptions the site loaded.
    pub catalogue: Option<ProductCatalogue>,
    /// Units adverse events name as suspect (for the procedure that gave them).
    pub units: BTreeMap<UnitId, Unit>,
    /// The questionnaire instruments answers refer to.
    pub questionnaires: Vec<QuestionnaireDef>,
}

impl Context {
    /// Adds sites.
    pub fn with_sites<'a>(mut self, sites: impl IntoIterator<Item = &'a Site>) -> Context {
        self.sites.extend(sites.into_iter().map(|s| (s.id.clone(), s.name.clone())));
        self
    }

    /// Adds members of staff.
    pub fn with_staff<'a>(mut self, staff: impl IntoIterator<Item = &'a Staff>) -> Context {
        self.staff.extend(staff.into_iter().map(|s| (s.id.clone(), s.name.clone())));
        self
    }

    /// Adds people.
    pub fn with_persons<'a>(mut self, persons: impl IntoIterator<Item = &'a Person>) -> Context {
        self.persons.extend(persons.into_iter().map(|p| (p.id.clone(), p.name.clone())));
        self
    }

    /// Everything a small in-memory state holds (tests and offline tools).
    pub fn from_state(state: &State, questionnaires: Vec<QuestionnaireDef>) -> Context {
        Context {
            units: state.units.iter().map(|(id, u)| (id.clone(), u.clone())).collect(),
            catalogue: state.catalogue.clone(),
            questionnaires,
            ..Context::default()
        }
        .with_sites(state.sites.values())
        .with_staff(state.staff.values())
        .with_persons(state.persons.values())
    }

    /// The same context naming no person but `person`: an export of one
    /// patient's records names no one else (a donor of a unit they received).
    pub fn naming_only(&self, person: &PersonId) -> Context {
        let mut out = self.clone();
        out.persons.retain(|id, _| id == person);
        out
    }

    /// A site's name.
    pub fn site_name(&self, id: &SiteId) -> Option<&str> {
        self.sites.get(id).map(String::as_str)
    }

    /// A member of staff's name.
    pub fn staff_name(&self, id: &StaffId) -> Option<&str> {
        self.staff.get(id).map(String::as_str)
    }

    /// A person's name.
    pub fn person_name(&self, id: &PersonId) -> Option<&str> {
        self.persons.get(id).map(String::as_str)
    }
}

/// The ids a set of entities' resources mention: what to load into a [`Context`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Sites named.
    pub sites: BTreeSet<SiteId>,
    /// Staff named.
    pub staff: BTreeSet<StaffId>,
    /// People named.
    pub persons: BTreeSet<PersonId>,
    /// Units suspected in adverse events.
    pub units: BTreeSet<UnitId>,
    /// Whether a unit's product description is shown.
    pub catalogue: bool,
}

impl Needs {
    /// What a person's Patient mentions.
    pub fn person(&mut self, p: &Person) {
        self.sites.insert(p.site.clone());
    }

    /// What a unit's resources (product, collection, QC results) mention.
    pub fn unit(&mut self, u: &Unit) {
        self.catalogue = true;
        self.persons.insert(u.source_person.clone());
        self.staff.extend(u.qc.iter().map(|q| q.performed_by.clone()));
    }

    /// What a plan's resources (administrations, follow-ups, consents, answers) mention.
    pub fn plan(&mut self, p: &Plan) {
        self.sites.insert(p.site.clone());
        self.persons.insert(p.patient.clone());
        for a in &p.administrations {
            self.staff.insert(a.operator.clone());
            self.staff.insert(a.witness.clone());
        }
        self.staff.extend(p.follow_ups.iter().map(|f| f.recorded_by.clone()));
        for c in &p.consents {
            self.staff.insert(c.physician.clone());
            self.staff.extend(c.witness.clone());
        }
    }

    /// What an adverse event mentions.
    pub fn adverse_event(&mut self, a: &AdverseEvent) {
        self.persons.insert(a.patient.clone());
        self.staff.insert(a.reported_by.clone());
        if let Some((reviewer, _, _)) = &a.review {
            self.staff.insert(reviewer.clone());
        }
        self.units.extend(a.unit.clone());
    }
}
