/* custreg-admin: search-as-you-type for the "move projects" and "merge duplicate" pages.
 * Progressive: without JavaScript the Search button submits the form and the page lists the
 * matches. With it, typing refreshes the radio list from <url>/search/?q=...&exclude=... (JSON).
 * The radio button the user already chose stays in the list. */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelectorAll) {
    return;
  }

  function radio(name, candidate, checked) {
    var wrap = document.createElement("div");
    wrap.className = "custom-control custom-radio mb-1";
    var input = document.createElement("input");
    input.className = "custom-control-input";
    input.type = "radio";
    input.name = name;
    input.value = String(candidate.id);
    input.id = name + "-live-" + candidate.id;
    input.checked = checked;
    var label = document.createElement("label");
    label.className = "custom-control-label";
    label.htmlFor = input.id;
    label.appendChild(document.createTextNode(candidate.label));
    if (candidate.detail) {
      var small = document.createElement("small");
      small.className = "text-muted";
      small.textContent = " " + candidate.detail;
      label.appendChild(document.createTextNode(" "));
      label.appendChild(small);
    }
    wrap.appendChild(input);
    wrap.appendChild(label);
    return wrap;
  }

  function render(container, name, results, query) {
    var checked = container.querySelector("input[type=radio]:checked");
    var keep = null;
    if (checked) {
      keep = checked.closest(".custom-control");
    }
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    var chosenId = checked ? checked.value : null;
    if (keep && !results.some(function (c) { return String(c.id) === chosenId; })) {
      container.appendChild(keep);
    }
    results.forEach(function (candidate) {
      container.appendChild(radio(name, candidate, String(candidate.id) === chosenId));
    });
    if (!results.length && !keep) {
      var empty = document.createElement("p");
      empty.className = "text-muted mb-0";
      // the page's text, translated, with %(query)s in it (see moves/_macros.html)
      var template = container.getAttribute("data-no-match") || "No active customer matches \u201c%(query)s\u201d.";
      empty.textContent = template.replace("%(query)s", query);
      container.appendChild(empty);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-custreg-search]"), function (input) {
    var name = input.getAttribute("data-custreg-search");
    var container = document.querySelector('[data-custreg-results="' + name + '"]');
    if (!container) {
      return;
    }
    var timer = null;
    var last = input.value.trim();
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var query = input.value.trim();
        if (query === last || query.length < 2) {
          return;
        }
        last = query;
        var url = input.getAttribute("data-search-url") + "?q=" + encodeURIComponent(query) +
          "&exclude=" + encodeURIComponent(input.getAttribute("data-exclude") || "");
        window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
          .then(function (data) {
            if (input.value.trim() === query) {
              render(container, name, data.results || [], query);
            }
          })
          .catch(function () { /* the Search button still works */ });
      }, 250);
    });
  });
})();
