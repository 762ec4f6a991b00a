// The export form shows its PDF options (paper, passphrase) only while PDF is chosen.
// Without this script they stay visible, and their legend says they apply to a PDF only.
(() => {
  const form = document.querySelector("form[data-export-form]");
  if (!form) return;
  const options = form.querySelectorAll("[data-pdf-only]");
  const update = () => {
    const pdf = form.elements.format && form.elements.format.value === "pdf";
    options.forEach((part) => { part.hidden = !pdf; });
  };
  form.addEventListener("change", (event) => {
    if (event.target.name === "format") update();
  });
  update();
})();
