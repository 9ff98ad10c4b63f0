// celltrace's only script, served from its own origin (the
// Content-Security-Policy forbids inline scripts). Every page works without
// it; it only saves a click.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("[data-print]")) {
    window.print();
  }
});
