//! The CTCAE term table (NCI CTCAE v5.0, shipped as data): each term with its
//! system organ class and the text of each grade, so an adverse event is
//! recorded with a real term and a grade the term allows.

/// One CTCAE term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// System organ class.
    pub soc: String,
    /// The term, e.g. `Injection site reaction`.
    pub term: String,
    /// Grade 1 to 5 text; `None` where the grade does not exist for the term.
    pub grades: [Option<String>; 5],
    /// Definition.
    pub definition: String,
}

impl Term {
    /// The text of `grade` (1–5), if the term has that grade.
    pub fn grade(&self, grade: u8) -> Option<&str> {
        usize::from(grade).checked_sub(1).and_then(|i| self.grades.get(i)).and_then(|g| g.as_deref())
    }
}

/// The whole table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CtcaeTable {
    terms: Vec<Term>,
}

/// The table shipped with celltrace.
pub const SHIPPED: &str = include_str!("../../../data/ctcae/ctcae_v5_terms.tsv");

impl CtcaeTable {
    /// Reads the tab-separated table (header: system organ class, term, grade
    /// 1–5, definition, ...). Every bad line is reported with its number.
    pub fn parse(tsv: &str) -> Result<CtcaeTable, Vec<String>> {
        let mut terms = Vec::new();
        let mut errors = Vec::new();
        let mut lines = tsv.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.to_lowercase().contains("ctcae term") => {}
            _ => errors.push("line 1: the header must name the columns (System organ class, CTCAE term, Grade 1..5, Definition)".to_owned()),
        }
        for (index, line) in lines {
            let n = index + 1;
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (Some(soc), Some(term)) = (cells.first(), cells.get(1)) else {
                errors.push(format!("line {n}: expected at least the system organ class and the term"));
                continue;
            };
            if term.is_empty() {
                errors.push(format!("line {n}: the term is empty"));
                continue;
            }
            let grade = |i: usize| cells.get(2 + i).filter(|g| !g.is_empty() && **g != "-").map(|g| (*g).to_owned());
            terms.push(Term {
                soc: (*soc).to_owned(),
                term: (*term).to_owned(),
                grades: [grade(0), grade(1), grade(2), grade(3), grade(4)],
                definition: cells.get(7).map(|d| (*d).to_owned()).unwrap_or_default(),
            });
        }
        if terms.is_empty() && errors.is_empty() {
            errors.push("the table has no terms".to_owned());
        }
        if errors.is_empty() {
            Ok(CtcaeTable { terms })
        } else {
            Err(errors)
        }
    }

    /// The shipped table.
    pub fn shipped() -> Result<CtcaeTable, Vec<String>> {
        CtcaeTable::parse(SHIPPED)
    }

    /// A term by its exact name, ignoring case.
    pub fn term(&self, name: &str) -> Option<&Term> {
        let name = name.trim();
        self.terms.iter().find(|t| t.term.eq_ignore_ascii_case(name))
    }

    /// Terms whose name contains `text` (ignoring case), at most `limit`.
    pub fn search(&self, text: &str, limit: usize) -> Vec<&Term> {
        let text = text.trim().to_lowercase();
        self.terms.iter().filter(|t| t.term.to_lowercase().contains(&text)).take(limit).collect()
    }

    /// Every term.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_has_every_term_with_its_grades() {
        let table = CtcaeTable::shipped().expect("shipped table");
        assert_eq!(table.terms().len(), 837);
        let reaction = table.term("injection site reaction").expect("term");
        assert!(reaction.grade(1).is_some_and(|g| !g.is_empty()));
        assert_eq!(table.term("Anemia").map(|t| t.soc.as_str()), Some("Blood and lymphatic system disorders"));
        assert!(table.search("effusion", 50).iter().any(|t| t.term == "Joint effusion"));
        assert!(table.term("Not a CTCAE term").is_none());
    }

    #[test]
    fn a_grade_the_term_does_not_have_is_none() {
        let table = CtcaeTable::parse("System organ class\tCTCAE term\tGrade 1\tGrade 2\tGrade 3\tGrade 4\tGrade 5\tDefinition\nSkin\tAlopecia\tHair loss <50%\tHair loss >=50%\t-\t-\t-\tLoss of hair\n").expect("table");
        let alopecia = table.term("Alopecia").expect("term");
        assert_eq!(alopecia.grade(2), Some("Hair loss >=50%"));
        assert_eq!((alopecia.grade(3), alopecia.grade(0), alopecia.grade(6)), (None, None, None));
        assert!(CtcaeTable::parse("no header\n").is_err());
        assert!(CtcaeTable::parse("System organ class\tCTCAE term\nSkin\t\n").is_err());
    }
}
