//! How each entity is stored: its projection row (indexed columns, the body
//! as JSON, the read model's index entries) and how a stored body is loaded back.

use super::*;

impl State {
    /// The stored form of one entity, or `None` when it does not exist. An
    /// error only if the entity cannot be encoded as JSON, which plain data
    /// with string keys never causes; the store then records nothing.
    pub fn row(&self, key: &EntityKey) -> Result<Option<ProjectionRow>, serde_json::Error> {
        fn row<T: Serialize>(key: &EntityKey, site: &str, person: Option<String>, status: &str, value: &T) -> Result<ProjectionRow, serde_json::Error> {
            Ok(ProjectionRow {
                key: key.clone(),
                site: site.to_owned(),
                person,
                status: status.to_owned(),
                reference: None,
                body: serde_json::to_string(value)?,
                index: Vec::new(),
                search: None,
            })
        }
        fn status_word<T: Serialize>(value: &T) -> String {
            serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        }
        let id = key.id.as_str();
        let projected = match key.kind {
            EntityKind::Site => match self.sites.get(id) {
                Some(s) => ProjectionRow { index: index::site(s), ..row(key, s.id.as_str(), None, "active", s)? },
                None => return Ok(None),
            },
            EntityKind::Staff => match self.staff.get(id) {
                Some(s) => {
                    let site = s.memberships.first().map(|m| m.site.as_str()).unwrap_or("none");
                    ProjectionRow { index: index::staff(s), ..row(key, site, None, if s.active { "active" } else { "disabled" }, s)? }
                }
                None => return Ok(None),
            },
            EntityKind::Person => match self.persons.get(id) {
                Some(p) => {
                    // Wristbands carry the MRN in ISBT 128 DS025, which allows only letters and digits.
                    let wristband: String = p.mrn.chars().filter(char::is_ascii_alphanumeric).collect();
                    ProjectionRow {
                        reference: Some(wristband),
                        index: index::person(p),
                        search: Some(index::name_key(&p.name)),
                        ..row(key, p.site.as_str(), Some(p.id.to_string()), &status_word(&p.kind), p)?
                    }
                }
                None => return Ok(None),
            },
            EntityKind::Plan => match self.plans.get(id) {
                Some(p) => ProjectionRow { index: index::plan(p), ..row(key, p.site.as_str(), Some(p.patient.to_string()), &status_word(&p.status), p)? },
                None => return Ok(None),
            },
            EntityKind::Unit => match self.units.get(id) {
                Some(u) => {
                    let status = if u.in_transit.is_some() { "in_transit".to_owned() } else { status_word(&u.status) };
                    ProjectionRow {
                        reference: Some(format!("{}{}", u.din, u.product_code)),
                        index: index::unit(u),
                        ..row(key, u.site.as_str(), Some(u.source_person.to_string()), &status, u)?
                    }
                }
                None => return Ok(None),
            },
            EntityKind::Shipment => match self.shipments.get(id) {
                Some(s) => ProjectionRow { index: index::shipment(s), ..row(key, s.from_site.as_str(), None, &status_word(&s.status), s)? },
                None => return Ok(None),
            },
            EntityKind::AdverseEvent => match self.adverse_events.get(id) {
                Some(a) => {
                    let status = if a.review.is_some() { "reviewed" } else { "open" };
                    ProjectionRow { index: index::adverse_event(a), ..row(key, a.site.as_str(), Some(a.patient.to_string()), status, a)? }
                }
                None => return Ok(None),
            },
            // Listed by their owner (the `person` column is whoever a record concerns).
            EntityKind::ApiToken => match self.api_tokens.get(id) {
                Some(t) => ProjectionRow {
                    reference: Some(t.token_hash.clone()),
                    index: index::api_token(t),
                    ..row(key, "all", Some(t.staff.to_string()), if t.revoked.is_some() { "revoked" } else { "active" }, t)?
                },
                None => return Ok(None),
            },
            EntityKind::SigningGrant => match self.signing_grants.get(id) {
                Some(g) => ProjectionRow { reference: Some(g.command_digest.clone()), ..row(key, g.site.as_str(), None, "issued", g)? },
                None => return Ok(None),
            },
            EntityKind::Catalogue if key.id == EvidenceDataset::ID => match &self.evidence_data {
                Some(d) => ProjectionRow { reference: Some(d.version.clone()), ..row(key, "all", None, "loaded", d)? },
                None => return Ok(None),
            },
            EntityKind::Catalogue => match self.catalogue.as_ref().filter(|_| key.id == ProductCatalogue::ID) {
                Some(c) => row(key, "all", None, "loaded", c)?,
                None => return Ok(None),
            },
        };
        Ok(Some(projected))
    }

    /// Puts a stored entity (as produced by [`State::row`]) back into the state.
    pub fn load(&mut self, key: &EntityKey, body: &str) -> Result<(), LoadError> {
        let fail = |source| LoadError { key: key.clone(), source };
        match key.kind {
            EntityKind::Site => {
                let v: Site = serde_json::from_str(body).map_err(fail)?;
                self.sites.insert(v.id.clone(), v);
            }
            EntityKind::Staff => {
                let v: Staff = serde_json::from_str(body).map_err(fail)?;
                self.staff.insert(v.id.clone(), v);
            }
            EntityKind::Person => {
                let v: Person = serde_json::from_str(body).map_err(fail)?;
                self.persons.insert(v.id.clone(), v);
            }
            EntityKind::Plan => {
                let v: Plan = serde_json::from_str(body).map_err(fail)?;
                self.plans.insert(v.id.clone(), v);
            }
            EntityKind::Unit => {
                let v: Unit = serde_json::from_str(body).map_err(fail)?;
                self.units.insert(v.id.clone(), v);
            }
            EntityKind::Shipment => {
                let v: Shipment = serde_json::from_str(body).map_err(fail)?;
                self.shipments.insert(v.id.clone(), v);
            }
            EntityKind::AdverseEvent => {
                let v: AdverseEvent = serde_json::from_str(body).map_err(fail)?;
                self.adverse_events.insert(v.id.clone(), v);
            }
            EntityKind::ApiToken => {
                let v: ApiToken = serde_json::from_str(body).map_err(fail)?;
                self.api_tokens.insert(v.id.clone(), v);
            }
            EntityKind::SigningGrant => {
                let v: SigningGrant = serde_json::from_str(body).map_err(fail)?;
                self.signing_grants.insert(v.id.clone(), v);
            }
            EntityKind::Catalogue if key.id == EvidenceDataset::ID => {
                self.evidence_data = Some(serde_json::from_str(body).map_err(fail)?);
            }
            EntityKind::Catalogue => {
                self.catalogue = Some(serde_json::from_str(body).map_err(fail)?);
            }
        }
        Ok(())
    }

    /// Forgets one entity (a replay that keeps only what later events may still change).
    pub fn remove(&mut self, key: &EntityKey) {
        let id = key.id.as_str();
        match key.kind {
            EntityKind::Site => drop(self.sites.remove(id)),
            EntityKind::Staff => drop(self.staff.remove(id)),
            EntityKind::Person => drop(self.persons.remove(id)),
            EntityKind::Plan => drop(self.plans.remove(id)),
            EntityKind::Unit => drop(self.units.remove(id)),
            EntityKind::Shipment => drop(self.shipments.remove(id)),
            EntityKind::AdverseEvent => drop(self.adverse_events.remove(id)),
            EntityKind::ApiToken => drop(self.api_tokens.remove(id)),
            EntityKind::SigningGrant => drop(self.signing_grants.remove(id)),
            EntityKind::Catalogue if id == EvidenceDataset::ID => self.evidence_data = None,
            EntityKind::Catalogue => self.catalogue = None,
        }
    }

    /// Whether the state holds this entity.
    pub fn contains(&self, key: &EntityKey) -> bool {
        let id = key.id.as_str();
        match key.kind {
            EntityKind::Site => self.sites.contains_key(id),
            EntityKind::Staff => self.staff.contains_key(id),
            EntityKind::Person => self.persons.contains_key(id),
            EntityKind::Plan => self.plans.contains_key(id),
            EntityKind::Unit => self.units.contains_key(id),
            EntityKind::Shipment => self.shipments.contains_key(id),
            EntityKind::AdverseEvent => self.adverse_events.contains_key(id),
            EntityKind::ApiToken => self.api_tokens.contains_key(id),
            EntityKind::SigningGrant => self.signing_grants.contains_key(id),
            EntityKind::Catalogue if id == EvidenceDataset::ID => self.evidence_data.is_some(),
            EntityKind::Catalogue => self.catalogue.is_some(),
        }
    }

    /// Every entity key present, in a stable order.
    pub fn all_keys(&self) -> Vec<EntityKey> {
        let mut keys = Vec::new();
        keys.extend(self.sites.keys().map(|k| key(EntityKind::Site, k)));
        keys.extend(self.staff.keys().map(|k| key(EntityKind::Staff, k)));
        keys.extend(self.persons.keys().map(|k| key(EntityKind::Person, k)));
        keys.extend(self.plans.keys().map(|k| key(EntityKind::Plan, k)));
        keys.extend(self.units.keys().map(|k| key(EntityKind::Unit, k)));
        keys.extend(self.shipments.keys().map(|k| key(EntityKind::Shipment, k)));
        keys.extend(self.adverse_events.keys().map(|k| key(EntityKind::AdverseEvent, k)));
        keys.extend(self.api_tokens.keys().map(|k| key(EntityKind::ApiToken, k)));
        keys.extend(self.signing_grants.keys().map(|k| key(EntityKind::SigningGrant, k)));
        if self.catalogue.is_some() {
            keys.push(key(EntityKind::Catalogue, &ProductCatalogue::ID));
        }
        if self.evidence_data.is_some() {
            keys.push(key(EntityKind::Catalogue, &EvidenceDataset::ID));
        }
        keys
    }
}
