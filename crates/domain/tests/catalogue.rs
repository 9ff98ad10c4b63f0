//! The product description table: validated row by row, looked up by exact
//! product code first and then by its product description code.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::{ProductDescription, SiteKind};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{decide, State};

fn submit(state: &mut State, command: Command) -> Result<(), String> {
    let sub = Submission {
        id: "c".parse().map_err(|e| format!("{e:?}"))?,
        actor: Actor::System("test".into()),
        site: "lab".parse().map_err(|e| format!("{e:?}"))?,
        at: Timestamp(1),
        command,
    };
    let events = decide(state, &sub).map_err(|r| r.message)?;
    events.iter().for_each(|e| state.apply(e));
    Ok(())
}

fn row(code: &str, description: &str) -> ProductDescription {
    ProductDescription { code: code.into(), description: description.into() }
}

#[test]
fn rows_are_checked_and_looked_up_exact_code_first() {
    let mut state = State::default();
    submit(&mut state, Command::RegisterSite {
        site: "lab".parse().expect("id"),
        name: "Lab".into(),
        kind: SiteKind::ProcessingLab,
        country: "IN".into(),
        accreditations: vec![],
        fin: "A9993".into(),
    })
    .expect("site");
    let bad = submit(&mut state, Command::LoadProductCatalogue { entries: vec![row("S1003", "MSC"), row("S10", "short")], source: "t.csv".into() });
    assert_eq!(bad, Err("Row 2: 'S10' is neither a 5-character product description code (e.g. S1003) nor an 8-character ISBT 128 product code.".into()));
    assert!(state.catalogue.is_none(), "a refused table changes nothing");
    let dup = submit(&mut state, Command::LoadProductCatalogue { entries: vec![row("S1003", "a"), row("S1003", "b")], source: "t.csv".into() });
    assert!(dup.is_err_and(|m| m.contains("appears twice")));

    submit(&mut state, Command::LoadProductCatalogue {
        entries: vec![row("S1003", "MSC, cryopreserved"), row("S10031A0", "MSC, cryopreserved, aliquot A")],
        source: "t.csv".into(),
    })
    .expect("good table");
    let catalogue = state.catalogue.as_ref().expect("loaded");
    assert_eq!(catalogue.describe("S10031A0"), Some("MSC, cryopreserved, aliquot A"));
    assert_eq!(catalogue.describe("S1003100"), Some("MSC, cryopreserved"));
    assert_eq!(catalogue.describe("S2001100"), None);
}
