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

// Resident and Device page: right-click a building to rename it (as the spec's tree does).
document.addEventListener("contextmenu", function (event) {
  const node = event.target.closest("[data-rename-url]");
  if (!node) return;
  event.preventDefault();
  htmx.ajax("GET", node.dataset.renameUrl, { target: "#modal-content" });
});

// APT dialogs: "Add Resident Later" hides the resident fields; phone inputs show the calling
// code of the chosen Country / Region.
(function () {
  function syncResident(form) {
    const later = form.querySelector("input[name='add_resident_later']");
    const fields = form.querySelector("[data-resident-fields]");
    if (later && fields) fields.hidden = later.checked;
  }
  function syncCallingCode(form) {
    const codesEl = form.querySelector("#calling-codes");
    const country = form.querySelector("select[name='country']");
    if (!codesEl || !country) return;
    const code = JSON.parse(codesEl.textContent)[country.value] || "+";
    form.querySelectorAll(".calling-code").forEach(function (el) { el.textContent = code; });
  }
  function init(root) {
    root.querySelectorAll("form").forEach(function (form) { syncResident(form); });
  }
  document.addEventListener("change", function (event) {
    const form = event.target.form;
    if (!form) return;
    if (event.target.name === "add_resident_later") syncResident(form);
    if (event.target.name === "country") syncCallingCode(form);
  });
  document.body.addEventListener("htmx:afterSwap", function (event) { init(event.detail.target); });
  init(document);
})();
