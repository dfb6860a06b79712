/* The registry magnifier on Add new > Customer: live results with keyboard use, and a pick that
   fills the customer form in place (only the fields the registry gives; what was typed stays),
   then moves focus to the first required field still empty, else to Save.
   Without this script the box's Search and each result post the customer form
   (custreg_admin/admin/customers/registry.py), so that what was typed stays there too. */
(function () {
  "use strict";
  var box = document.querySelector(".custreg-registry-box");
  if (!box || !window.fetch) { return; }
  var input = box.querySelector("#registry-q");
  var country = box.querySelector("#registry-country");
  var list = box.querySelector("#registry-results");
  var message = box.querySelector("#registry-message");
  var active = -1;
  var items = [];
  // texts in the page's language, with %(name)s placeholders (see _registry_box.html)
  var messages = JSON.parse(box.getAttribute("data-messages") || "{}");
  var form = box.dataset.formId ? document.getElementById(box.dataset.formId) : null;
  if (form) {
    // the search field and button belong to the customer form only for use without this script
    box.querySelectorAll("[form]").forEach(function (el) { el.removeAttribute("form"); });
  }

  function text(key, values, count) {
    var template = messages[key] || key;
    if (Array.isArray(template)) { template = template[count === 1 ? 0 : 1]; }
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values || {}, name) ? String(values[name]) : whole;
    });
  }

  function say(text, isError) {
    message.textContent = text;
    message.className = "small " + (isError ? "text-danger" : "text-muted");
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({block: "nearest"});
    }
  }

  function setValue(el, value) {
    if (!el || el.value === value) { return; }
    el.value = value;
    el.dispatchEvent(new Event("change", {bubbles: true})); // select2 shows the new choice
  }

  function addressRow(kind) {
    var rows = form.querySelectorAll("#addresses > .inline-field-list > .inline-field");
    for (var i = 0; i < rows.length; i++) {
      var select = rows[i].querySelector("select[name$='-kind']");
      if (select && select.value === kind && !rows[i].querySelector("input[name^='del-']:checked")) {
        return rows[i];
      }
    }
    var add = document.getElementById("addresses-button");
    if (!add || !window.faForm) { return null; }
    window.faForm.addInlineField(add, "addresses");
    rows = form.querySelectorAll("#addresses > .inline-field-list > .inline-field");
    var row = rows[rows.length - 1];
    setValue(row.querySelector("select[name$='-kind']"), kind);
    return row;
  }

  function showOffer(industry) {
    var offer = form.querySelector(".custreg-industry-offer");
    if (!offer) { return; }
    offer.hidden = !industry;
    offer.querySelector("[data-custreg-industry]").textContent = industry || "";
    var tick = offer.querySelector("input[type=checkbox]");
    if (tick) { tick.checked = Boolean(industry); }
  }

  function firstToFill() {
    var empty = Array.prototype.filter.call(form.querySelectorAll("[required]"), function (el) {
      return !el.disabled && el.type !== "hidden" && !String(el.value || "").trim();
    });
    return empty[0] || form.querySelector("[data-testid=save]");
  }

  function fill(data) {
    Object.keys(data.fields).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (el && el.nodeType === 1) { setValue(el, data.fields[name]); }
    });
    (data.addresses || []).forEach(function (address) {
      var row = addressRow(address.kind);
      if (!row) { return; }
      ["street", "postal_code", "city", "country"].forEach(function (name) {
        setValue(row.querySelector("[name$='-" + name + "']"), address[name] || "");
      });
    });
    showOffer(data.industry_offer);
    var warned = (data.messages || []).some(function (m) { return m.category !== "info"; });
    say((data.messages || []).map(function (m) { return m.text; }).join(" "), warned);
    var target = firstToFill();
    if (target) { target.focus(); }
  }

  function pick(index) {
    var item = items[index];
    if (index < 0 || !item) { return; }
    if (!form || !item.dataset.fill) { window.location.href = item.dataset.url; return; }
    close();
    say(text("searching"), false);
    fetch(item.dataset.fill, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.error) { say(data.error, true); } else { fill(data); }
      })
      .catch(function () { say(text("failed"), true); });
  }

  function render(data) {
    list.innerHTML = "";
    items = [];
    (data.results || []).forEach(function (r, i) {
      var li = document.createElement("li");
      li.id = "registry-option-" + i;
      li.className = "list-group-item list-group-item-action";
      li.setAttribute("role", "option");
      li.dataset.url = r.use_url;
      li.dataset.fill = r.fill_url;
      var title = document.createElement("div");
      title.className = "d-flex justify-content-between";
      var name = document.createElement("strong");
      name.textContent = r.name;
      var status = document.createElement("span");
      status.className = "badge " + (r.status === "active" ? "badge-success" : "badge-danger");
      status.textContent = r.status_label;
      title.appendChild(name);
      title.appendChild(status);
      var details = document.createElement("small");
      details.className = "text-muted";
      details.textContent = [r.business_id, r.company_form, r.city, r.parent_label].filter(Boolean).join(" · ");
      li.appendChild(title);
      li.appendChild(details);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
      list.appendChild(li);
      items.push(li);
    });
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(0);
      say(text("found", {num: items.length, registry: data.registry}, items.length), false);
    } else {
      close();
      say(text("none", {query: data.query, registry: data.registry}), false);
    }
  }

  function search() {
    var query = input.value.trim();
    if (!query) { say(text("empty"), true); return; }
    var url = box.dataset.searchUrl + "?format=json&country=" + encodeURIComponent(country.value) +
      "&q=" + encodeURIComponent(query);
    say(text("searching"), false);
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.error) { close(); say(data.error, true); }
        else { render(data); }
      })
      .catch(function () {
        close();
        say(text("failed"), true);
      });
  }

  box.addEventListener("submit", function (event) { event.preventDefault(); search(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault(); highlight(Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault(); highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!list.hidden && active >= 0) { pick(active); } else { search(); }
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("input", close);
  input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  // from here Enter searches in place (before, it would post the form: the no-script path)
  box.setAttribute("data-ready", "");
}());
