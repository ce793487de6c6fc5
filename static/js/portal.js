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

// Wide tables scroll inside their card, never the page: any table.table not already inside a
// scrolling wrapper (.table-responsive, django-tables2's .table-container) gets one.
(function () {
  function wrapTables(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      if (table.closest(".table-responsive, .table-container")) return;
      const wrapper = document.createElement("div");
      wrapper.className = "table-responsive";
      table.parentNode.insertBefore(wrapper, table);
      wrapper.appendChild(table);
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (event) { wrapTables(event.detail.target); });
  wrapTables(document);
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

// --- Device dialog (devices: Add Device / Edit Device) --------------------------------------------
// Fields follow the Device Type (`data-types`); Network Group hides and IP Address shows when a door
// phone has no internet access; the relay count and the security relay checkbox become the spec's
// Add Relay / Add Security Relay buttons; the buildings multi-select becomes the "To be selected /
// Selected" transfer list. Without JavaScript every field shows and the service ignores the rest.
(function () {
  function checked(form, name) {
    const el = form.querySelector("input[name='" + name + "']:checked");
    return el ? el.value : null;
  }
  function show(el, on) { if (el) el.hidden = !on; }

  function sync(root) {
    const form = root.closest("form");
    const typeEl = form.querySelector("[name='device_type']");
    const type = typeEl ? typeEl.value : "";
    root.querySelectorAll("[data-types]").forEach(function (el) {
      show(el, el.dataset.types.split(" ").indexOf(type) !== -1);
    });
    const doorPhone = root.dataset.doorPhones.split(" ").indexOf(type) !== -1;
    const offline = doorPhone && checked(form, "internet_access") === "0";
    root.querySelectorAll("[data-offline-ip]").forEach(function (el) { show(el, offline); });
    root.querySelectorAll("[data-network-group]").forEach(function (el) { show(el, !offline); });
    const all = form.querySelector("input[name='all_buildings']");
    root.querySelectorAll("[data-buildings-chooser]").forEach(function (el) { show(el, !(all && all.checked)); });

    const count = form.querySelector("[name='relays']");
    const relays = Math.max(1, parseInt(count.value, 10) || 1);
    const max = count.options.length;
    root.querySelectorAll("[data-relay]").forEach(function (el) {
      const index = parseInt(el.dataset.relay, 10);
      show(el, index <= relays);
      show(el.querySelector("[data-remove-relay]"), index === relays && index > 1);
      const on = checked(form, "relay" + index + "_enabled") === "1";
      el.querySelectorAll("[data-relay-name] .text-danger").forEach(function (star) { show(star, on); });
    });
    show(root.querySelector("[data-add-relay]"), relays < max);
    const security = form.querySelector("input[name='security_relay']");
    // Only door phones connect to an SR01: another type would have the service refuse it.
    if (!doorPhone) security.checked = false;
    show(root.querySelector("[data-security-relay]"), security.checked);
    show(root.querySelector("[data-remove-security]"), true);
    show(root.querySelector("[data-add-security]"), doorPhone && !security.checked);
  }

  function transferList(chooser) {
    const select = chooser.querySelector("select[multiple]");
    if (!select || chooser.dataset.enhanced) return;
    chooser.dataset.enhanced = "1";
    select.hidden = true;
    const ui = document.createElement("div");
    ui.className = "d-flex align-items-center gap-2 mb-2";
    ui.dataset.testid = "building-transfer";
    function pane(title) {
      const box = document.createElement("div");
      box.className = "border rounded flex-fill";
      box.innerHTML = '<div class="small px-2 py-1 border-bottom bg-body-tertiary d-flex"><span></span>' +
        '<span class="ms-auto counter"></span></div><div class="p-1 items" style="height:10rem;overflow:auto"></div>';
      box.querySelector("span").textContent = title;
      return box;
    }
    // The words come from the template (translated there); English when a page does not give them.
    const words = chooser.dataset;
    const left = pane(words.labelAvailable || "To be selected");
    const right = pane(words.labelSelected || "Selected");
    const buttons = document.createElement("div");
    buttons.className = "d-flex flex-column gap-2";
    buttons.innerHTML = '<button type="button" class="btn btn-sm btn-outline-primary" data-move="add"></button>' +
      '<button type="button" class="btn btn-sm btn-outline-secondary" data-move="remove"></button>';
    buttons.querySelector('[data-move="add"]').textContent = (words.labelAdd || "Add") + " >";
    buttons.querySelector('[data-move="remove"]').textContent = "< " + (words.labelRemove || "Remove");
    ui.append(left, buttons, right);
    select.after(ui);

    function render() {
      [[left, false], [right, true]].forEach(function (pair) {
        const items = pair[0].querySelector(".items");
        items.innerHTML = "";
        Array.from(select.options).filter(function (o) { return o.selected === pair[1]; }).forEach(function (o) {
          const label = document.createElement("label");
          label.className = "d-block px-1";
          const box = document.createElement("input");
          box.type = "checkbox";
          box.className = "form-check-input me-1";
          box.value = o.value;
          label.append(box, document.createTextNode(o.text));
          items.append(label);
        });
        if (!items.children.length) {
          const empty = document.createElement("div");
          empty.className = "small text-body-secondary p-1";
          empty.textContent = words.labelEmpty || "No Data";
          items.appendChild(empty);
        }
        updateCounter(pair[0]);
      });
    }
    function updateCounter(box) {
      const boxes = box.querySelectorAll(".items input");
      const ticked = box.querySelectorAll(".items input:checked").length;
      box.querySelector(".counter").textContent = ticked + "/" + boxes.length;
    }
    ui.addEventListener("change", function (event) {
      const box = event.target.closest(".border");
      if (box) updateCounter(box);
      event.stopPropagation();
    });
    buttons.addEventListener("click", function (event) {
      const move = event.target.dataset.move;
      if (!move) return;
      const from = move === "add" ? left : right;
      const values = Array.from(from.querySelectorAll(".items input:checked")).map(function (b) { return b.value; });
      Array.from(select.options).forEach(function (o) {
        if (values.indexOf(o.value) !== -1) o.selected = move === "add";
      });
      render();
    });
    render();
  }

  function init(scope) {
    scope.querySelectorAll("[data-device-form]").forEach(function (root) {
      root.querySelectorAll("[data-relay-count], [data-security-toggle]").forEach(function (el) { el.hidden = true; });
      root.querySelectorAll("[data-buildings-chooser]").forEach(transferList);
      sync(root);
    });
  }

  document.addEventListener("change", function (event) {
    const root = event.target.form && event.target.form.querySelector("[data-device-form]");
    if (root) sync(root);
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-add-relay], [data-remove-relay], [data-add-security], [data-remove-security]");
    const root = button && button.closest("[data-device-form]");
    if (!root) return;
    const form = root.closest("form");
    const count = form.querySelector("[name='relays']");
    const relays = parseInt(count.value, 10) || 1;
    if (button.matches("[data-add-relay]")) count.value = String(Math.min(relays + 1, count.options.length));
    if (button.matches("[data-remove-relay]")) count.value = String(Math.max(relays - 1, 1));
    const security = form.querySelector("input[name='security_relay']");
    if (button.matches("[data-add-security]")) security.checked = true;
    if (button.matches("[data-remove-security]")) security.checked = false;
    sync(root);
  });
  document.body.addEventListener("htmx:afterSwap", function (event) { init(event.detail.target); });
  init(document);
})();
// --- end of Device dialog -------------------------------------------------------------------------

// --- Errors in sight ------------------------------------------------------------------------------
// A form that comes back with errors (an htmx swap into a dialog, or a page answered with 422)
// shows them where the user is looking: an error that belongs to no field ([data-field-error=
// "__all__"]) moves next to the dialog's Submit button (a dialog's footer never scrolls away)
// or is scrolled into view on a page, and the first invalid field takes the focus.
(function () {
  function fieldOf(form, name) {
    const el = form.elements.namedItem(name);
    const control = el && typeof el.length === "number" && !el.tagName ? el[0] : el;
    if (!control || control.type === "hidden" || control.hidden || control.disabled) return null;
    return control.offsetParent === null && !control.closest("[data-buildings-chooser]") ? null : control;
  }
  function showErrors(form) {
    const errors = form.querySelectorAll("[data-field-error]");
    if (!errors.length) return;
    let first = null;
    errors.forEach(function (err) {
      const name = err.dataset.fieldError;
      if (name === "__all__") return;
      const control = fieldOf(form, name);
      if (!control) return;
      control.classList.add("is-invalid");
      control.setAttribute("aria-invalid", "true");
      if (!err.id) err.id = "error-" + name + "-" + Math.random().toString(36).slice(2, 8);
      control.setAttribute("aria-describedby", err.id);
      if (!first) first = control;
    });
    const general = form.querySelector("[data-field-error='__all__']");
    const footer = form.querySelector(".modal-footer");
    if (general) {
      general.setAttribute("role", "alert");
      if (footer && !footer.contains(general)) {
        general.classList.add("form-error", "py-1", "px-2", "small");
        footer.prepend(general);
      }
    }
    if (first) {
      first.focus({ preventScroll: true });
      first.scrollIntoView({ block: "center" });
    } else if (general) {
      general.tabIndex = -1;
      general.focus({ preventScroll: true });
    }
    if (general && !footer) general.scrollIntoView({ block: "center" });
  }
  function scan(root) {
    const forms = root.tagName === "FORM" ? [root] : root.querySelectorAll("form");
    for (const form of forms) {
      if (form.querySelector("[data-field-error]")) { showErrors(form); return; }
    }
  }
  document.body.addEventListener("htmx:afterSettle", function (event) { scan(event.detail.target); });
  // After the modal's fade-in, so the focus is not taken back by Bootstrap's focus trap.
  document.getElementById("modal").addEventListener("shown.bs.modal", function (event) { scan(event.target); });
  scan(document);
})();

// Remote Control opens the device's web interface in its own tab (the portal stays in this one):
// a button with data-new-tab posts its form's CSRF token to its formaction in a new tab, outside htmx.
document.addEventListener("click", function (event) {
  const button = event.target.closest("button[data-new-tab]");
  if (!button) return;
  event.preventDefault();
  const post = document.createElement("form");
  post.method = "post";
  post.action = button.getAttribute("formaction");
  post.target = "_blank";
  const token = button.form && button.form.querySelector("input[name=csrfmiddlewaretoken]");
  if (token) post.append(token.cloneNode());
  document.body.append(post);
  post.submit();
  post.remove();
}, true);
