// The studio page's generation modal, without inline script (the site's CSP allows
// scripts from this site only). Opening and closing dialogs and confirmations come from
// static/js/app.js's data attributes; this file adds what is particular to the modal.
(function () {
  "use strict";

  function setUp() {
    const dialog = document.getElementById("generate-modal");
    if (!dialog) return;
    const form = document.getElementById("generate-form");
    const flag = document.getElementById("background_chosen");
    const background = document.getElementById("id_background_reference");

    // The live cost is fetched URL-encoded (files are not sent): say whether a
    // background file is chosen, before htmx's change trigger on the form reads it.
    if (background && flag) {
      background.addEventListener("change", function () {
        flag.value = background.files && background.files.length ? "1" : "0";
      });
    }
    // One click, one version: the submit token makes a second POST a replay anyway.
    form.addEventListener("submit", function () {
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
    });
    // A refused generation comes back with the modal open and the reason in it, at the
    // generate URL: show the studio's own address, so a reload is a GET of the studio.
    if (dialog.dataset.open === "1" && dialog.showModal && !dialog.open) dialog.showModal();
    if (dialog.dataset.studioUrl && window.location.pathname !== dialog.dataset.studioUrl) {
      window.history.replaceState(null, "", dialog.dataset.studioUrl);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
