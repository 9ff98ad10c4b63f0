//! A unit's family — every ancestor and descendant and the other products
//! of its donation — read through the lineage index, and drawn as an SVG of
//! layers from the collection down, with the unit on show highlighted.

use crate::error::AppError;
use crate::AppState;
use celltrace_domain::ids::UnitId;
use celltrace_domain::model::Unit;
use std::collections::BTreeMap;

/// A unit's family: itself, every ancestor and descendant, and the other
/// products of its donation (its DIN), each once, by id.
pub async fn unit_family(state: &AppState, unit: &Unit) -> Result<Vec<Unit>, AppError> {
    let lineage = state.reader().lineage_of(unit).await?;
    let mut family: BTreeMap<UnitId, Unit> = BTreeMap::new();
    for u in lineage.ancestors.into_iter().chain(lineage.descendants).chain(state.reader().units_by_din(&unit.din).await?) {
        family.insert(u.id.clone(), u);
    }
    family.insert(unit.id.clone(), unit.clone());
    Ok(family.into_values().collect())
}

/// How deep `id` lies below the collection (0 for starting material). A
/// corrupt record could make a cycle: the walk stops at 64 levels.
fn depth_of<'a>(id: &'a UnitId, by_id: &BTreeMap<&'a UnitId, &'a Unit>, memo: &mut BTreeMap<&'a UnitId, usize>, guard: usize) -> usize {
    if let Some(d) = memo.get(id) {
        return *d;
    }
    let d = match by_id.get(id) {
        Some(u) if guard < 64 => u.parents.iter().map(|p| depth_of(p, by_id, memo, guard + 1) + 1).max().unwrap_or(0),
        _ => 0,
    };
    memo.insert(id, d);
    d
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The family drawn as layers from the collection down, each unit a link
/// to its page, `current` highlighted. Styled by the `lineage` class (the
/// content security policy allows no inline styles).
pub fn lineage_svg(units: &[Unit], current: &UnitId) -> String {
    let by_id: BTreeMap<&UnitId, &Unit> = units.iter().map(|u| (&u.id, u)).collect();
    let mut depth: BTreeMap<&UnitId, usize> = BTreeMap::new();
    for u in units {
        depth_of(&u.id, &by_id, &mut depth, 0);
    }
    let mut layers: BTreeMap<usize, Vec<&Unit>> = BTreeMap::new();
    for u in units {
        layers.entry(depth.get(&u.id).copied().unwrap_or(0)).or_default().push(u);
    }
    let (w, h, gap_x, gap_y) = (170i64, 44i64, 20i64, 36i64);
    let mut pos: BTreeMap<&UnitId, (i64, i64)> = BTreeMap::new();
    let mut width = 0;
    for (layer, us) in &layers {
        for (i, u) in us.iter().enumerate() {
            let x = 10 + i as i64 * (w + gap_x);
            let y = 10 + *layer as i64 * (h + gap_y);
            pos.insert(&u.id, (x, y));
            width = width.max(x + w + 10);
        }
    }
    let height = 10 + layers.len() as i64 * (h + gap_y);
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" aria-label="Lineage of the units of this donation" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#);
    for u in units {
        for p in &u.parents {
            if let (Some((px, py)), Some((cx, cy))) = (pos.get(p), pos.get(&u.id)) {
                svg.push_str(&format!(r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#666" stroke-width="1.5"/>"##, px + w / 2, py + h, cx + w / 2, cy));
            }
        }
    }
    for u in units {
        if let Some((x, y)) = pos.get(&u.id) {
            let fill = if &u.id == current { "#fff4c2" } else { "#ffffff" };
            svg.push_str(&format!(
                r##"<a href="/units/{id}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="5" fill="{fill}" stroke="#0b5394"/><text x="{tx}" y="{ty1}">{code}</text><text x="{tx}" y="{ty2}" fill="#555">{status}</text></a>"##,
                id = escape(u.id.as_str()),
                tx = x + 8,
                ty1 = y + 18,
                ty2 = y + 35,
                code = escape(&u.product_code),
                status = escape(u.status.label()),
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
