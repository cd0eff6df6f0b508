// While a broadcast goes out, its page updates the progress bar, the counts and the
// sign-up tally every few seconds (the server counts; nothing is computed here).
(function () {
  var bar = document.getElementById("progress");
  if (!bar || !window.fetch) { return; }
  var finished = ["done", "cancelled"];
  function update() {
    fetch(bar.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var counts = data.counts, total = counts.total || 0;
        Array.prototype.forEach.call(bar.querySelectorAll("[data-part]"), function (part) {
          var name = part.getAttribute("data-part");
          part.style.width = total ? (100 * counts[name] / total) + "%" : "0";
        });
        Array.prototype.forEach.call(document.querySelectorAll("[data-count]"), function (cell) {
          cell.textContent = counts[cell.getAttribute("data-count")];
        });
        Array.prototype.forEach.call(document.querySelectorAll("[data-answer]"), function (cell) {
          var answer = cell.getAttribute("data-answer");
          if (answer in data.replies) { cell.textContent = data.replies[answer]; }
        });
        document.getElementById("status").textContent = data.status_label;
        if (finished.indexOf(data.status) < 0 || counts.sent > 0) { setTimeout(update, 3000); }
      })
      .catch(function () { setTimeout(update, 10000); });
  }
  setTimeout(update, 2000);
})();
