// Live checks on the farmer form: when the liaison leaves the ID number or phone
// field, ask the server (by POST, never in a URL) and show the answer under the field.
(function () {
  var form = document.getElementById("farmer-form");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-check-url");
  var token = form.querySelector("input[name=csrf_token]");
  var userId = form.getAttribute("data-user-id") || "";
  form.querySelectorAll("[data-check]").forEach(function (input) {
    input.addEventListener("blur", function () {
      var value = input.value.trim();
      var box = document.getElementById("field-" + input.name);
      var out = box.querySelector("[data-error-for]");
      if (!value) { out.textContent = ""; box.classList.remove("has-error"); return; }
      var body = new URLSearchParams({ field: input.getAttribute("data-check"), value: value, user_id: userId });
      if (token) { body.append("csrf_token", token.value); }
      fetch(url, { method: "POST", body: body, credentials: "same-origin",
                   headers: token ? { "X-CSRFToken": token.value } : {} })
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          out.textContent = answer.message;
          out.className = answer.ok ? "ok" : "error";
          box.classList.toggle("has-error", !answer.ok);
        })
        .catch(function () { /* the server checks again on submit */ });
    });
  });
})();
