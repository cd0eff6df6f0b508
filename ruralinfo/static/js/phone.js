// The phone simulator refreshes its conversation every two seconds, so that
// texts the platform sends later (letters, notices) appear as on a real phone.
(function () {
  var phone = document.getElementById("phone");
  if (!phone || !window.fetch) { return; }
  var list = document.getElementById("bubbles");
  var url = phone.getAttribute("data-poll-url");
  var last = "";
  function render(items) {
    var key = JSON.stringify(items);
    if (key === last) { return; }
    last = key;
    list.textContent = "";
    items.forEach(function (m) {
      var li = document.createElement("li");
      li.className = "bubble " + m.dir;
      var text = document.createElement("span");
      text.className = "text";
      text.textContent = m.body;
      li.appendChild(text);
      if (m.dir === "in") {
        var small = document.createElement("small");
        small.textContent = m.kind_label + " · " + m.status_label + " · " + m.segments_label;
        li.appendChild(small);
      }
      list.appendChild(li);
    });
    list.scrollTop = list.scrollHeight;
  }
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(render).catch(function () {});
  }
  setInterval(poll, 2000);
})();
