/* The HTML report's one script: search, filter and sort the experiment table, and open
   every collapsed section before printing.  The page's Content-Security-Policy allows
   this script by its SHA-256 hash, so it is inlined byte for byte as it is here.
   Without it the page shows the same table, in title order. */
(function () {
  "use strict";
  var lang = document.documentElement.lang;
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });

  var table = document.getElementById("experiment-table");
  var tools = document.getElementById("experiment-tools");
  if (!table || !tools) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var texts = rows.map(function (row) { return row.textContent.toLocaleLowerCase(lang); });
  var search = tools.elements.namedItem("q");
  var status = tools.elements.namedItem("status");
  var objective = tools.elements.namedItem("objective");
  var output = tools.querySelector("output");
  var headings = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var statusColumn = headings.filter(function (th) { return th.dataset.filter === "status"; })[0];
  var numbers = new Intl.NumberFormat(lang);
  var collator = new Intl.Collator(lang, { numeric: true, sensitivity: "base" });
  var pending = 0;

  function filter() {
    var query = search.value.trim().toLocaleLowerCase(lang);
    var wanted = status.value;
    var place = objective ? objective.value : "";
    var shown = 0;
    rows.forEach(function (row, index) {
      var show = (!query || texts[index].indexOf(query) >= 0) &&
        (!wanted || row.cells[statusColumn.cellIndex].textContent === wanted) &&
        (!place || (" " + row.dataset.o + " ").indexOf(" " + place + " ") >= 0);
      row.hidden = !show;
      if (show) {
        shown += 1;
      }
    });
    output.value = tools.dataset.count
      .replace("%(shown)s", numbers.format(shown))
      .replace("%(total)s", numbers.format(rows.length));
  }

  function key(row, column, kind) {
    var cell = row.cells[column];
    if (kind === "number") {
      var digits = cell.textContent.replace(/[^0-9]/g, "");
      return digits ? parseInt(digits, 10) : -1;
    }
    if (kind === "date") {
      var time = cell.querySelector("time");
      return time ? time.dateTime : "";
    }
    return cell.textContent.trim();
  }

  function sortBy(th) {
    var column = th.cellIndex;
    var kind = th.dataset.sort;
    var direction = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var keys = rows.map(function (row) { return key(row, column, kind); });
    var order = rows.map(function (row, index) { return index; });
    order.sort(function (a, b) {
      var x = keys[a];
      var y = keys[b];
      var compared = kind === "text" ? collator.compare(x, y) : (x < y ? -1 : (x > y ? 1 : 0));
      return direction * compared || a - b;
    });
    var fragment = document.createDocumentFragment();
    order.forEach(function (index) { fragment.appendChild(rows[index]); });
    body.appendChild(fragment);
    headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
  }

  headings.forEach(function (th) {
    if (!th.dataset.sort) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    while (th.firstChild) {
      button.appendChild(th.firstChild);
    }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(th); });
  });
  tools.addEventListener("submit", function (event) { event.preventDefault(); });
  search.addEventListener("input", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(filter, 150);
  });
  status.addEventListener("change", filter);
  if (objective) {
    objective.addEventListener("change", filter);
  }
  tools.hidden = false;
  filter();
}());
