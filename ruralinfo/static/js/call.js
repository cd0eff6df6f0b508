// The call simulator's phone: every action goes to the relay (/dev/call/<phone>/…),
// which calls the hotline's real webhooks and answers with what is said and what the
// hotline waits for. What is said is shown, and spoken with the browser's speech
// synthesis where it has a voice for the language; recorded prompts are played.
(function () {
  var root = document.getElementById("call");
  if (!root || !window.fetch || !window.FormData) { return; }
  var texts = JSON.parse(root.getAttribute("data-texts") || "{}");
  var csrf = root.getAttribute("data-csrf");
  var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 5242880;
  function $(id) { return document.getElementById(id); }
  var transcript = $("transcript"), status = $("call-status"), errorBox = $("call-error");
  var startButton = $("call-start"), hangupButton = $("call-hangup"), keypad = $("keypad");
  var sayForm = $("say-form"), sayWords = $("say-words"), sayButton = $("say-button"), hints = $("hints");
  var silent = $("silent"), recordPanel = $("record-panel"), recordText = $("record-text");
  var mic = $("mic"), micStatus = $("mic-status"), finish = $("record-finish"), dialPanel = $("dial-panel");
  var mute = $("mute");
  var sid = null, expect = { kind: "ended" }, busy = false;

  // --- speaking ---------------------------------------------------------------------------
  var queue = [], audio = null, unspoken = {};
  var synth = window.speechSynthesis || null;

  function voiceFor(lang) {
    if (!synth || !window.SpeechSynthesisUtterance) { return null; }
    var wanted = lang.toLowerCase(), family = wanted.split("-")[0];
    var voices = synth.getVoices(), near = null;
    for (var i = 0; i < voices.length; i++) {
      var have = (voices[i].lang || "").replace("_", "-").toLowerCase();
      if (have === wanted) { return voices[i]; }
      var first = have.split("-")[0];
      if (!near && (first === family || (family === "zh" && first === "cmn"))) { near = voices[i]; }
    }
    return near;
  }
  function stopSpeaking() {
    queue = [];
    if (synth) { synth.cancel(); }
    if (audio) { audio.pause(); audio = null; }
  }
  function speakNext() {
    var line = queue.shift();
    if (!line || mute.checked) { queue = []; return; }
    if (line.kind === "play" && line.url) {
      audio = new Audio(line.url);
      audio.onended = audio.onerror = speakNext;
      var playing = audio.play();
      if (playing && playing.catch) { playing.catch(speakNext); }
      return;
    }
    var voice = line.kind === "say" ? voiceFor(line.lang || "zh-CN") : null;
    if (line.kind === "say" && !voice) {
      if (!unspoken[line.lang]) { unspoken[line.lang] = true; note("system", texts.no_voice); }
      speakNext();
      return;
    }
    if (!voice) { speakNext(); return; }
    var utterance = new window.SpeechSynthesisUtterance(line.text);
    utterance.lang = line.lang;
    utterance.voice = voice;
    utterance.onend = utterance.onerror = speakNext;
    synth.speak(utterance);
  }
  if (synth) { synth.getVoices(); }  // some browsers load their voices only when first asked
  mute.addEventListener("change", function () { if (mute.checked) { stopSpeaking(); } });

  // --- showing ----------------------------------------------------------------------------
  function note(who, text, line) {
    var li = document.createElement("li");
    li.className = "line " + who + (line ? " " + line.kind : "");
    li.textContent = text;
    if (line && line.lang) { li.lang = line.lang; }
    if (line && line.question) { li.setAttribute("data-question", line.question); }
    transcript.appendChild(li);
    transcript.scrollTop = transcript.scrollHeight;
  }
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }
  function setExpect(next) {
    expect = next || { kind: "ended" };
    var live = expect.kind !== "ended", keys = expect.kind === "keys", speech = keys && expect.speech;
    if (!live) { sid = null; }
    startButton.disabled = live;
    hangupButton.disabled = !live;
    Array.prototype.forEach.call(keypad.querySelectorAll("button"), function (b) { b.disabled = !keys; });
    sayWords.disabled = sayButton.disabled = !speech;
    silent.disabled = !(keys || expect.kind === "record");
    var words = speech && expect.hints && expect.hints.length ? expect.hints.join(texts.separator || ", ") : "";
    hints.textContent = words ? texts.hints + " " + words : "";
    hints.hidden = !words;
    recordPanel.hidden = expect.kind !== "record";
    dialPanel.hidden = expect.kind !== "dial";
    status.textContent = { keys: speech ? texts.keys_speech : texts.keys, record: texts.recording,
                           dial: texts.dialling, ended: texts.ended }[expect.kind] || "";
    root.setAttribute("data-expect", expect.kind);
    root.setAttribute("data-sid", sid || "");
  }

  // --- talking to the relay ---------------------------------------------------------------
  function send(action, fields, sound, done) {
    if (busy) { showError(texts.busy); return; }
    busy = true;
    root.classList.add("busy");
    stopSpeaking();
    var body = new FormData();
    body.append("csrf_token", csrf);
    if (sid) { body.append("sid", sid); }
    Object.keys(fields || {}).forEach(function (name) { body.append(name, fields[name]); });
    if (sound) { body.append("audio", sound.blob, sound.name); }
    fetch(root.getAttribute("data-" + action), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (answer) {
        busy = false;
        root.classList.remove("busy");
        if (!answer.ok) { showError(answer.data.error || texts.failed); return; }
        showError("");
        sid = answer.data.sid;
        answer.data.lines.forEach(function (line) { note(line.who, line.text, line); });
        queue = answer.data.lines.filter(function (line) { return line.kind === "say" || line.kind === "play"; });
        setExpect(answer.data.expect);
        if (done) { done(); }
        speakNext();
      })
      .catch(function () {
        busy = false;
        root.classList.remove("busy");
        showError(texts.failed);
      });
  }

  startButton.addEventListener("click", function () {
    transcript.textContent = "";
    sid = null;
    status.textContent = texts.calling;
    send("start");
  });
  hangupButton.addEventListener("click", function () { send("hangup"); });
  keypad.addEventListener("click", function (event) {
    var key = event.target.getAttribute && event.target.getAttribute("data-key");
    if (key && expect.kind === "keys") { send("press", { key: key }); }
  });
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target && event.target.tagName) || "");
    if (!typing && expect.kind === "keys" && "0123456789*#".indexOf(event.key) >= 0 && event.key.length === 1) {
      send("press", { key: event.key });
    }
  });
  sayForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var words = sayWords.value.trim();
    if (words) { send("say", { words: words }, null, function () { sayWords.value = ""; }); }
  });
  silent.addEventListener("click", function () { send("silence"); });
  dialPanel.addEventListener("click", function (event) {
    var outcome = event.target.getAttribute && event.target.getAttribute("data-outcome");
    if (outcome) { send("dial", { outcome: outcome }); }
  });
  window.addEventListener("pagehide", function () {
    if (sid && navigator.sendBeacon) {
      var body = new FormData();
      body.append("csrf_token", csrf);
      body.append("sid", sid);
      navigator.sendBeacon(root.getAttribute("data-hangup"), body);
    }
  });

  // --- recording --------------------------------------------------------------------------
  var recorder = null, sound = null, finishAfterStop = false;
  function micType() {
    var kinds = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/ogg"];
    for (var i = 0; i < kinds.length; i++) {
      if (window.MediaRecorder.isTypeSupported(kinds[i])) { return kinds[i]; }
    }
    return null;
  }
  function finishRecording() {
    var fields = { text: recordText.value };
    if (sound) { fields.seconds = sound.seconds.toFixed(1); }
    send("record", fields, sound, function () {
      recordText.value = "";
      micStatus.textContent = "";
      sound = null;
    });
  }
  function startMicrophone() {
    var type = micType();
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var chunks = [], began = Date.now(), mine = new window.MediaRecorder(stream, { mimeType: type });
      recorder = mine;
      sound = null;
      mine.ondataavailable = function (event) { if (event.data && event.data.size) { chunks.push(event.data); } };
      mine.onstop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        recorder = null;
        mic.textContent = texts.mic_start;
        var blob = new Blob(chunks, { type: type.split(";")[0] }), seconds = (Date.now() - began) / 1000;
        if (blob.size > maxBytes) {
          micStatus.textContent = texts.mic_large;
        } else {
          sound = { blob: blob, seconds: seconds, name: "question." + (type.indexOf("ogg") >= 0 ? "ogg" : "webm") };
          micStatus.textContent = texts.mic_done + " (" + Math.max(1, Math.round(seconds)) + " s)";
        }
        if (finishAfterStop) { finishAfterStop = false; finishRecording(); }
      };
      mine.start(1000);
      mic.textContent = texts.mic_stop;
      micStatus.textContent = texts.mic_on;
      setTimeout(function () { if (mine.state === "recording") { mine.stop(); } },
                 (expect.max_seconds || 120) * 1000);
    }).catch(function () { micStatus.textContent = texts.mic_refused; });
  }
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder && micType()) {
    mic.hidden = false;
    mic.addEventListener("click", function () {
      if (recorder && recorder.state === "recording") { recorder.stop(); } else { startMicrophone(); }
    });
  }
  finish.addEventListener("click", function () {
    if (recorder && recorder.state === "recording") {
      finishAfterStop = true;
      recorder.stop();
    } else {
      finishRecording();
    }
  });

  setExpect({ kind: "ended" });
  status.textContent = texts.ready;
})();
