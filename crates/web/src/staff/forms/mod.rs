//! The staff forms of the vein-to-vein path, one module per step or family.
//! Each form is a [`Spec`](crate::kit::forms::Spec) and two handlers: the
//! form, and its submission, which turns what was typed into one command
//! and lets the rules decide. A refusal shows the form again with the
//! rules' message, its code and the field it names marked; the page never
//! re-checks a rule itself.

pub mod adverse_event;
pub mod allocation;
pub mod collection;
pub mod donation;
pub mod follow_up;
pub mod lab;
pub mod links;
pub mod paper_questionnaire;
pub mod plan;
pub mod processing;
pub mod register;
pub mod shipping;

use crate::kit::forms::{value, Values};
use crate::routes::Route;
use celltrace_domain::model::{Plan, Quantity};

/// The routes of every form of the path.
pub fn routes() -> Vec<Route> {
    [
        register::routes(),
        adverse_event::routes(),
        plan::routes(),
        collection::routes(),
        donation::routes(),
        processing::routes(),
        lab::routes(),
        shipping::routes(),
        allocation::routes(),
        follow_up::routes(),
        paper_questionnaire::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The line that introduces a plan on its forms.
pub(crate) fn plan_intro(plan: &Plan) -> Vec<String> {
    vec![format!("Plan {}: {} — {} · {}", plan.id, plan.indication.name, plan.product_type.code(), format!("{:?}", plan.status).to_lowercase())]
}

/// The patient's page, where a plan's forms return to.
pub(crate) fn patient_page(plan: &Plan) -> String {
    format!("/patients/{}", plan.patient)
}

/// An amount above zero typed in `amount`, in the unit chosen in `unit`.
pub(crate) fn quantity(values: &Values, amount: &str, unit: &str) -> Option<Quantity> {
    let amount: f64 = value(values, amount).parse().ok().filter(|x: &f64| x.is_finite() && *x > 0.0)?;
    Some(Quantity { milli: (amount * 1000.0).round() as i64, unit: value(values, unit) })
}
