// As a liaison types an answer, say how many texts it takes on the farmer's phone
// (counted by the server, with the same rules as sending) and warn past the limit.
(function () {
  var out = document.getElementById("sms-count");
  if (!out || !window.fetch) { return; }
  var form = out.closest("form");
  var box = form.querySelector("textarea");
  var timer = null;
  function update() {
    var data = new FormData();
    data.append("body", box.value);
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    fetch(out.getAttribute("data-count-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        out.textContent = box.value.trim() ? result.message : "";
        out.className = result.over ? "hint warning" : "hint";
      }).catch(function () {});
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 300); });
})();
