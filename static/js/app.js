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
      if (hint && !hint.dataset.original) hint.dataset.original = hint.textContent;
      const showHint = function (text) {
        img.hidden = true;
        if (hint) { hint.textContent = text; hint.hidden = false; }
      };
      if (!file) { showHint(hint ? hint.dataset.original : ""); return; }
      // A file the browser cannot draw (not a picture, or a format it lacks) gets words,
      // not a broken-image icon; the server's check says what is wrong with it.
      img.onerror = function () { showHint("This file cannot be shown as a picture. Choose a JPEG, PNG or WebP photo."); };
      img.onload = function () { if (hint) hint.hidden = true; img.hidden = false; };
      img.src = URL.createObjectURL(file);
    }
  });

  document.addEventListener("input", function (event) {
    const slider = event.target;
    if (slider.matches("input[type=range][data-compare]")) {
      const layer = slider.closest("[data-compare-root]").querySelector("[data-compare-layer]");
      if (layer) layer.style.width = slider.value + "%";
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input[data-select-on-focus]")) event.target.select();
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // A form that uploads says so while the browser sends it, and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-busy]")) return;
    const button = form.querySelector("button[type=submit]");
    if (!button) return;
    setTimeout(function () {
      button.dataset.idleText = button.textContent;
      button.disabled = true;
      button.textContent = form.dataset.busy;
    }, 0);
  });
  // Back to a page the browser kept: its form can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-busy] button[data-idle-text]").forEach(function (button) {
      button.disabled = false;
      button.textContent = button.dataset.idleText;
    });
  });

  // How much of an htmx upload has gone, where the element asks for it.
  document.addEventListener("htmx:xhr:progress", function (event) {
    const source = event.target;
    const detail = event.detail;
    if (!source.dataset || !source.dataset.uploadPercent || !detail.lengthComputable) return;
    const percent = document.getElementById(source.dataset.uploadPercent);
    if (percent) percent.textContent = Math.round((100 * detail.loaded) / detail.total) + "%";
  });

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && dialog.showModal) dialog.showModal();
    }
    const copier = event.target.closest("[data-copy]");
    if (copier && navigator.clipboard) {
      navigator.clipboard.writeText(copier.dataset.copy).then(function () {
        copier.textContent = "Copied";
      });
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });
})();
