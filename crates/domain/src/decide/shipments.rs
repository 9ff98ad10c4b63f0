//! Shipments between sites: a signed custody transfer at dispatch and at
//! receipt, with the temperature record of the journey (or a signed,
//! reasoned exception when there is none).

use super::checks::{staff_actor, text, unit, unit_here};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use super::signatures::{grants_used_once, sign};
use crate::command::{Command, Submission};
use crate::event::Event;
use crate::model::*;
use crate::state::State;

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    grants_used_once(&sub.command)?;
    match &sub.command {
        Command::DispatchShipment { shipment, to_site, units, courier, signature } => {
            let sender = staff_actor(state, sub, &[Logistics])?;
            let signature = sign(state, sub, "signature", signature, SignatureMeaning::CustodyTransfer, &[Logistics])?;
            if signature.signer != sender.id {
                return reject_at("signature", Code::Signer, "The person dispatching must sign the custody transfer.");
            }
            if state.shipments.contains_key(shipment) {
                return reject_at("shipment", Code::Duplicate, format!("Shipment {shipment} already exists."));
            }
            if !state.sites.contains_key(to_site) {
                return reject_at("to_site", Code::UnknownSite, format!("Site {to_site} does not exist."));
            }
            if to_site == &sub.site {
                return reject_at("to_site", Code::Destination, "A shipment must go to another site.");
            }
            if units.is_empty() {
                return reject_at("units", Code::Units, "Scan at least one unit into the shipment.");
            }
            let mut seen = std::collections::BTreeSet::new();
            for id in units {
                if !seen.insert(id) {
                    return reject_at("units", Code::Units, format!("Unit {id} is scanned twice."));
                }
            }
            text("courier", "courier", courier, 200)?;
            for id in units {
                let u = unit(state, id)?;
                unit_here(u, sub)?;
                if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
                    return reject_at("units", Code::UnitUnavailable, format!("Unit {} is {}; it cannot be shipped.", u.din, u.status.label()));
                }
            }
            Ok(vec![Event::ShipmentDispatched {
                shipment: Shipment {
                    id: shipment.clone(),
                    from_site: sub.site.clone(),
                    to_site: to_site.clone(),
                    units: units.clone(),
                    courier: courier.clone(),
                    dispatched: signature,
                    received: None,
                    condition_ok: None,
                    excursions: Vec::new(),
                    temperature_exception: None,
                    status: ShipmentStatus::InTransit,
                },
            }])
        }
        Command::ReceiveShipment { shipment, condition_ok, temperature_log, signature } => {
            let receiver = staff_actor(state, sub, &[Logistics])?;
            let signature = sign(state, sub, "signature", signature, SignatureMeaning::CustodyTransfer, &[Logistics])?;
            if signature.signer != receiver.id {
                return reject_at("signature", Code::Signer, "The person receiving must sign the custody transfer.");
            }
            let s = state
                .shipments
                .get(shipment)
                .ok_or_else(|| Rejection::new(Code::UnknownShipment, format!("Shipment {shipment} does not exist.")).at("shipment"))?;
            super::checks::same_site("shipment's destination", &s.to_site, sub)?;
            if s.status != ShipmentStatus::InTransit {
                return reject(Code::AlreadyReceived, format!("Shipment {shipment} was already received."));
            }
            let (excursions, temperature_exception) = match temperature_log {
                TemperatureLog::Read { excursions } => {
                    for e in excursions {
                        text("temperature_log", "excursion", e, 300)?;
                    }
                    (excursions.clone(), None)
                }
                TemperatureLog::Missing { reason, exception } => {
                    text("temperature_log", "reason there is no temperature record", reason, 1000)?;
                    let exception = sign(state, sub, "temperature_log", exception, SignatureMeaning::TemperatureException, &[Logistics])?;
                    if exception.signer != receiver.id {
                        return reject_at("temperature_log", Code::Signer, "The person receiving signs the exception personally.");
                    }
                    (Vec::new(), Some(TemperatureException { reason: reason.trim().to_owned(), signature: exception }))
                }
            };
            Ok(vec![Event::ShipmentReceived {
                shipment: shipment.clone(),
                to_site: s.to_site.clone(),
                units: s.units.clone(),
                signature,
                condition_ok: *condition_ok,
                excursions,
                temperature_exception,
            }])
        }
        _ => reject(Code::Forbidden, "not a shipment command"),
    }
}
