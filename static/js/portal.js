// Portal behaviour: forms load into one Bootstrap modal through htmx; reminders open on load.
(function () {
  const modalEl = document.getElementById("modal");
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "modal-content") {
      bootstrap.Modal.getOrCreateInstance(modalEl).show();
    }
  });
  modalEl.addEventListener("hidden.bs.modal", function () {
    document.getElementById("modal-content").innerHTML = "";
  });
  document.querySelectorAll("[data-show-on-load]").forEach(function (el) {
    bootstrap.Modal.getOrCreateInstance(el).show();
  });
})();
