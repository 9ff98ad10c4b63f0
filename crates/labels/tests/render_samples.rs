//! Renders the sample labels into `$CELLTRACE_LABELS_OUT` when that variable
//! is set (for looking at them); otherwise checks that they render.
mod common;

#[test]
fn samples_render() {
    let out = std::env::var_os("CELLTRACE_LABELS_OUT");
    for (name, label) in common::all() {
        let png = celltrace_labels::render_png(&label, 300).unwrap();
        let pdf = celltrace_labels::render_pdf(&label).unwrap();
        let zpl = celltrace_labels::render_zpl(&label).unwrap();
        assert!(png.len() > 1000 && pdf.len() > 1000 && zpl.len() > 100);
        if let Some(dir) = &out {
            let dir = std::path::Path::new(dir);
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{name}.pdf")), &pdf).unwrap();
            std::fs::write(dir.join(format!("{name}.zpl")), &zpl).unwrap();
        }
    }
}
