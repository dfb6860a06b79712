/* Reports > Report creation: small conveniences on top of pages that work without JavaScript.
 * - the column list's up / down / remove buttons act in place instead of reloading the page;
 * - forms with data-confirm ask before they submit (delete);
 * - the preview's "select all" checkbox ticks the rows of the page. */
(function () {
  "use strict";

  function refreshButtons(list) {
    var items = list.querySelectorAll(".custreg-column");
    items.forEach(function (item, index) {
      var up = item.querySelector('[data-move="up"]');
      var down = item.querySelector('[data-move="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === items.length - 1; }
    });
  }

  function returnToPicker(item) {
    var picker = document.getElementById("add_columns");
    var input = item.querySelector('input[name="columns"]');
    var label = item.querySelector(".custreg-column-label");
    if (!picker || !input || !label) { return; }
    var option = document.createElement("option");
    option.value = input.value;
    option.textContent = label.textContent;
    picker.appendChild(option);
  }

  var list = document.getElementById("report-columns");
  if (list) {
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button) { return; }
      event.preventDefault();
      var item = button.closest(".custreg-column");
      var move = button.getAttribute("data-move");
      if (move === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (move === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      } else if (move === "remove") {
        returnToPicker(item);
        item.remove();
      }
      refreshButtons(list);
      var focus = item.isConnected ? item.querySelector('[data-move="' + move + '"]') : null;
      if (focus && !focus.disabled) { focus.focus(); }
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var table = box.closest("table");
      table.querySelectorAll('input[name="customer_ids"]').forEach(function (row) {
        row.checked = box.checked;
      });
    });
  });
})();
