// Small page behaviours, wired by data attributes so no page needs inline script
// (our Content-Security-Policy allows scripts from this site only).
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (field.matches("[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
    if (field.matches("input[type=file][data-preview]")) {
      const img = document.getElementById(field.dataset.preview);
      const hint = field.dataset.previewHint && document.getElementById(field.dataset.previewHint);
      const file = field.files && field.files[0];
      if (!img) return;
      if (!file) { img.hidden = true; if (hint) hint.hidden = false; return; }
      img.src = URL.createObjectURL(file);
      img.hidden = false;
      if (hint) hint.hidden = true;
    }
  });

  document.addEventListener("input", function (event) {
    const slider = event.target;
    if (slider.matches("input[type=range][data-compare]")) {
      const layer = slider.closest("[data-compare-root]").querySelector("[data-compare-layer]");
      if (layer) layer.style.width = slider.value + "%";
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && dialog.showModal) dialog.showModal();
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });
})();
