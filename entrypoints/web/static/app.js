// Jingzhun's pages: HTMX swaps refusals (4xx) into the page like any answer, so a refused step
// shows its reason where the form is; a 401 sends the browser to the sign-in page.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "401", swap: false},
      {code: "4..", swap: true, error: false},
      {code: "5..", swap: true, error: true},
    ];
  }
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll(box.dataset.selectAll).forEach(function (b) { b.checked = box.checked; });
    });
  });
  // A long form (a registry's import): sent once; its button says it is working until the answer comes.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.dataset.idle = b.dataset.idle || b.textContent;
        b.disabled = true;
        b.textContent = form.dataset.busy;
      });
    });
  });
  // Back to such a page (the browser's back/forward cache): its button works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy] button[data-idle]").forEach(function (b) {
      b.disabled = false;
      b.textContent = b.dataset.idle;
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
});
