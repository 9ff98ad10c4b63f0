//! Which entities a submission names (what the store loads for `decide`),
//! which an event changes and concerns, and which unique values it takes.

use super::*;

impl Submission {
    /// Every entity `decide` may read for this submission: the actor, the site,
    /// and whatever the command names (including ids that must not exist yet).
    pub fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![key(EntityKind::Site, &self.site)];
        match &self.actor {
            Actor::Staff(id) => keys.push(key(EntityKind::Staff, id)),
            Actor::Patient(id) => keys.push(key(EntityKind::Person, id)),
            Actor::System(_) => {}
        }
        let sig = |keys: &mut Vec<EntityKey>, s: &SignatureRequest| {
            keys.push(key(EntityKind::Staff, &s.signer));
            if let Some(grant) = &s.grant {
                keys.push(key(EntityKind::SigningGrant, grant));
            }
        };
        let evidence = key(EntityKind::Catalogue, &EvidenceDataset::ID);
        match &self.command {
            Command::RegisterSite { .. } | Command::SetSitePolicy { .. } => {}
            Command::LoadProductCatalogue { .. } => keys.push(key(EntityKind::Catalogue, &ProductCatalogue::ID)),
            Command::LoadEvidenceData { .. } => keys.push(key(EntityKind::Catalogue, &EvidenceDataset::ID)),
            Command::RegisterStaff { staff, memberships, .. } => {
                keys.push(key(EntityKind::Staff, staff));
                keys.extend(memberships.iter().map(|m| key(EntityKind::Site, &m.site)));
            }
            Command::ChangeStaffMemberships { staff, memberships, .. } => {
                keys.push(key(EntityKind::Staff, staff));
                keys.extend(memberships.iter().map(|m| key(EntityKind::Site, &m.site)));
            }
            Command::DeactivateStaff { staff, .. } | Command::ReactivateStaff { staff, .. } | Command::SetPassword { staff, .. } => {
                keys.push(key(EntityKind::Staff, staff))
            }
            Command::IssueApiToken { token, staff, .. } => {
                keys.push(key(EntityKind::ApiToken, token));
                keys.push(key(EntityKind::Staff, staff));
            }
            Command::RevokeApiToken { token, .. } => keys.push(key(EntityKind::ApiToken, token)),
            Command::GrantPortalAccess { person } => keys.push(key(EntityKind::Person, person)),
            Command::IssueSigningGrant { grant, submitter, .. } => {
                keys.push(key(EntityKind::SigningGrant, grant));
                keys.push(key(EntityKind::Staff, submitter));
            }
            Command::RegisterPerson { person, .. } => keys.push(key(EntityKind::Person, person)),
            Command::RecordRecordViewed { person, via_unit, .. } => {
                keys.push(key(EntityKind::Person, person));
                if let Some(unit) = via_unit {
                    keys.push(key(EntityKind::Unit, unit));
                }
            }
            Command::CreatePlan { plan, patient, .. } => {
                keys.push(key(EntityKind::Plan, plan));
                keys.push(key(EntityKind::Person, patient));
                keys.push(evidence);
            }
            Command::AcknowledgeEvidenceWarning { plan }
            | Command::AssessEligibility { plan, .. }
            | Command::WithdrawConsent { plan, .. }
            | Command::RecordFollowUp { plan, .. }
            | Command::AnswerQuestionnaire { plan, .. } => keys.push(key(EntityKind::Plan, plan)),
            Command::OverrideEvidenceBlock { plan, .. } | Command::RecordConsent { plan, .. } => {
                keys.push(key(EntityKind::Plan, plan));
            }
            Command::RecordCollection { source_person, plan, unit, .. } => {
                keys.push(key(EntityKind::Person, source_person));
                keys.push(key(EntityKind::Unit, unit));
                if let Some(plan) = plan {
                    keys.push(key(EntityKind::Plan, plan));
                }
            }
            Command::RecordProcessingStep { inputs, outputs, .. } => {
                keys.extend(inputs.iter().map(|u| key(EntityKind::Unit, u)));
                keys.extend(outputs.iter().map(|u| key(EntityKind::Unit, &u.unit)));
            }
            Command::RecordQcResult { unit, .. }
            | Command::DiscardUnit { unit, .. }
            | Command::StoreUnit { unit, .. } => keys.push(key(EntityKind::Unit, unit)),
            Command::ReleaseUnit { unit, .. } | Command::ExceptionalRelease { unit, .. } => {
                keys.push(key(EntityKind::Unit, unit));
            }
            Command::AllocateUnit { unit, plan } | Command::RequestUnit { unit, plan } => {
                keys.push(key(EntityKind::Unit, unit));
                keys.push(key(EntityKind::Plan, plan));
            }
            Command::DispatchShipment { shipment, to_site, units, .. } => {
                keys.push(key(EntityKind::Shipment, shipment));
                keys.push(key(EntityKind::Site, to_site));
                keys.extend(units.iter().map(|u| key(EntityKind::Unit, u)));
            }
            Command::ReceiveShipment { shipment, .. } => {
                // The units are named by the shipment; the store follows that link.
                keys.push(key(EntityKind::Shipment, shipment));
            }
            Command::AdministerUnit { unit, patient, plan, .. } => {
                keys.push(key(EntityKind::Unit, unit));
                keys.push(key(EntityKind::Person, patient));
                keys.push(key(EntityKind::Plan, plan));
                keys.push(evidence);
            }
            Command::ReportAdverseEvent { adverse_event, patient, plan, unit, .. } => {
                keys.push(key(EntityKind::AdverseEvent, adverse_event));
                keys.push(key(EntityKind::Person, patient));
                if let Some(plan) = plan {
                    keys.push(key(EntityKind::Plan, plan));
                }
                if let Some(unit) = unit {
                    keys.push(key(EntityKind::Unit, unit));
                }
            }
            Command::ReviewAdverseEvent { adverse_event, .. } => {
                keys.push(key(EntityKind::AdverseEvent, adverse_event))
            }
        }
        for request in self.command.signature_requests() {
            sig(&mut keys, request);
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The records `decide` needs that only an index can find.
    pub fn lookups(&self) -> Vec<Lookup> {
        match &self.command {
            Command::ReportAdverseEvent { patient, .. } => vec![Lookup::PlansOf(patient.clone())],
            _ => Vec::new(),
        }
    }

    /// Keys that can only be known once some entities are loaded (the units of
    /// a shipment being received).
    pub fn dependent_keys(&self, state: &State) -> Vec<EntityKey> {
        match &self.command {
            Command::ReceiveShipment { shipment, .. } => state
                .shipments
                .get(shipment)
                .map(|s| s.units.iter().map(|u| key(EntityKind::Unit, u)).collect())
                .unwrap_or_default(),
            // An administrator revoking someone's token acts on the owner's account.
            Command::RevokeApiToken { token, .. } => {
                state.api_tokens.get(token).map(|t| vec![key(EntityKind::Staff, &t.staff)]).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

impl Event {
    /// The entities this event changes.
    pub fn keys(&self) -> Vec<EntityKey> {
        match self {
            Event::SiteRegistered { site } => vec![key(EntityKind::Site, &site.id)],
            Event::SitePolicySet { site, .. } => vec![key(EntityKind::Site, site)],
            Event::StaffRegistered { staff } => vec![key(EntityKind::Staff, &staff.id)],
            Event::StaffMembershipsChanged { staff, .. }
            | Event::StaffDeactivated { staff, .. }
            | Event::StaffReactivated { staff, .. }
            | Event::PasswordSet { staff, .. } => vec![key(EntityKind::Staff, staff)],
            Event::ApiTokenIssued { token } => vec![key(EntityKind::ApiToken, &token.id)],
            Event::ApiTokenRevoked { token, .. } => vec![key(EntityKind::ApiToken, token)],
            Event::PortalAccessGranted { .. } => Vec::new(),
            Event::SigningGrantIssued { grant } => vec![key(EntityKind::SigningGrant, &grant.id)],
            Event::UnitRequested { unit, .. } => vec![key(EntityKind::Unit, unit)],
            Event::PersonRegistered { person } => vec![key(EntityKind::Person, &person.id)],
            Event::ProductCatalogueLoaded { .. } => vec![key(EntityKind::Catalogue, &ProductCatalogue::ID)],
            Event::EvidenceDataLoaded { .. } => vec![key(EntityKind::Catalogue, &EvidenceDataset::ID)],
            Event::RecordViewed { .. } => Vec::new(),
            Event::PlanCreated { plan } => vec![key(EntityKind::Plan, &plan.id)],
            Event::EvidenceWarningAcknowledged { plan, .. }
            | Event::EvidenceBlockOverridden { plan, .. }
            | Event::EligibilityAssessed { plan, .. }
            | Event::ConsentRecorded { plan, .. }
            | Event::ConsentWithdrawn { plan, .. }
            | Event::PlanCompleted { plan }
            | Event::FollowUpRecorded { plan, .. }
            | Event::QuestionnaireAnswered { plan, .. } => vec![key(EntityKind::Plan, plan)],
            Event::CollectionRecorded { unit, .. } => vec![key(EntityKind::Unit, &unit.id)],
            Event::ProcessingStepRecorded { inputs, outputs, .. } => inputs
                .iter()
                .map(|u| key(EntityKind::Unit, u))
                .chain(outputs.iter().map(|u| key(EntityKind::Unit, &u.id)))
                .collect(),
            Event::QcResultRecorded { unit, .. }
            | Event::UnitReleased { unit, .. }
            | Event::UnitDiscarded { unit, .. }
            | Event::UnitStored { unit, .. }
            | Event::UnitAllocated { unit, .. } => vec![key(EntityKind::Unit, unit)],
            Event::ShipmentDispatched { shipment } => std::iter::once(key(EntityKind::Shipment, &shipment.id))
                .chain(shipment.units.iter().map(|u| key(EntityKind::Unit, u)))
                .collect(),
            Event::ShipmentReceived { shipment, units, .. } => std::iter::once(key(EntityKind::Shipment, shipment))
                .chain(units.iter().map(|u| key(EntityKind::Unit, u)))
                .collect(),
            Event::UnitAdministered { plan, administration } => {
                vec![key(EntityKind::Plan, plan), key(EntityKind::Unit, &administration.unit)]
            }
            Event::AdverseEventReported { adverse_event } => {
                vec![key(EntityKind::AdverseEvent, &adverse_event.id)]
            }
            Event::AdverseEventReviewed { adverse_event, .. } => {
                vec![key(EntityKind::AdverseEvent, adverse_event)]
            }
        }
    }

    /// The records whose audit trail this event belongs to: the entities it
    /// changes, and the patient whose record was read.
    pub fn subjects(&self) -> Vec<EntityKey> {
        match self {
            Event::RecordViewed { person, .. } | Event::PortalAccessGranted { person, .. } => {
                vec![key(EntityKind::Person, person)]
            }
            // A token belongs in its owner's trail too.
            Event::ApiTokenIssued { token } => vec![key(EntityKind::ApiToken, &token.id), key(EntityKind::Staff, &token.staff)],
            Event::SigningGrantIssued { grant } => vec![key(EntityKind::SigningGrant, &grant.id), key(EntityKind::Staff, &grant.signer)],
            // An adverse event belongs in the trail of the patient and plan it concerns.
            Event::AdverseEventReported { adverse_event } => {
                let mut subjects = self.keys();
                subjects.push(key(EntityKind::Person, &adverse_event.patient));
                subjects.extend(adverse_event.plan.iter().map(|p| key(EntityKind::Plan, p)));
                subjects
            }
            _ => self.keys(),
        }
    }

    /// The deployment-wide unique values this event takes.
    pub fn claims(&self) -> Vec<Claim> {
        let claim = |namespace, value: String, owner: String| Claim { namespace, value, owner };
        // A signing grant is spent by the signature that uses it: once, across every server.
        let mut claims: Vec<Claim> = self
            .signatures()
            .into_iter()
            .filter_map(|s| match &s.proof {
                SignatureProof::Grant { grant, .. } => Some(claim("signing_grant", grant.to_string(), s.signer.to_string())),
                _ => None,
            })
            .collect();
        claims.extend(self.own_claims());
        claims
    }

    fn own_claims(&self) -> Vec<Claim> {
        let claim = |namespace, value: String, owner: String| Claim { namespace, value, owner };
        match self {
            Event::ApiTokenIssued { token } => vec![claim("api_token", token.token_hash.clone(), token.id.to_string())],
            Event::SiteRegistered { site } => vec![claim("fin", site.fin.clone(), site.id.to_string())],
            Event::StaffRegistered { staff } => {
                vec![claim("username", staff.username.to_lowercase(), staff.id.to_string())]
            }
            Event::PersonRegistered { person } => vec![claim(
                "mrn",
                format!("{}/{}", person.site, person.mrn),
                person.id.to_string(),
            )],
            Event::CollectionRecorded { collection, unit, .. } => vec![
                claim("din", unit.din.clone(), collection.to_string()),
                claim("unit_code", format!("{}{}", unit.din, unit.product_code), unit.id.to_string()),
            ],
            // DIN and product code together name one unit (ISBT 128): divisions need their own codes.
            Event::ProcessingStepRecorded { outputs, .. } => outputs
                .iter()
                .map(|u| claim("unit_code", format!("{}{}", u.din, u.product_code), u.id.to_string()))
                .collect(),
            Event::UnitReleased { unit, .. } => vec![claim("release", unit.to_string(), unit.to_string())],
            Event::UnitAdministered { administration, .. } => vec![claim(
                "administration",
                administration.unit.to_string(),
                administration.id.to_string(),
            )],
            _ => Vec::new(),
        }
    }
}

