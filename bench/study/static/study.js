// Rater page of a preference study: plays both videos in sync, unlocks voting after both played
// through once, sends each vote (retrying with the same body, which the server counts once) and
// shows the next pair from the server's answer. Plain JS, no build step.
(function () {
  "use strict";
  var body = document.body;
  var stateUrl = body.dataset.stateUrl, voteUrl = body.dataset.voteUrl;
  var videos = { left: document.getElementById("left"), right: document.getElementById("right") };
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-choice]"));
  var errorBox = document.getElementById("error");
  var item = null;        // {id, left, right}
  var generation = 0;     // bumps on every new pair, so late events of the old pair are ignored
  var ended = { left: false, right: false };
  var unlocked = false, busy = false, shownAt = null;

  function showError(msg) { errorBox.textContent = msg; errorBox.hidden = !msg; }
  function setLocked(locked) { buttons.forEach(function (b) { b.disabled = locked; }); }

  function setProgress(s) {
    document.getElementById("bar").style.width = (s.total ? (100 * s.done / s.total) : 0) + "%";
    document.getElementById("progress-text").textContent = s.finished
      ? "Finished: " + s.done + " of " + s.total
      : "Pair " + (s.done + 1) + " of " + s.total;
  }

  function playBoth() {
    ["left", "right"].forEach(function (k) { videos[k].currentTime = 0; });
    ["left", "right"].forEach(function (k) {
      var p = videos[k].play();
      if (p && p.catch) p.catch(function () { showError("Press Replay to start the videos."); });
    });
    if (shownAt === null) shownAt = performance.now();
  }

  function render(s) {
    setProgress(s);
    if (s.finished) {
      document.getElementById("stage").hidden = true;
      document.getElementById("finished").hidden = false;
      generation += 1;  // late events of the last pair are ignored
      ["left", "right"].forEach(function (k) { videos[k].removeAttribute("src"); videos[k].load(); });
      item = null;
      return;
    }
    document.getElementById("stage").hidden = false;
    if (item && item.id === s.item.id) return;  // same pair still showing
    item = s.item;
    generation += 1;
    var gen = generation, ready = 0;
    unlocked = false; shownAt = null; ended.left = ended.right = false;
    setLocked(true);
    ["left", "right"].forEach(function (k) {
      var v = videos[k];
      v.dataset.plays = "0";
      v.oncanplaythrough = function () {
        v.oncanplaythrough = null;
        if (gen !== generation) return;
        ready += 1;
        if (ready === 2) playBoth();
      };
      v.onerror = function () {
        if (gen === generation) showError("A video could not be loaded. Reload the page to try again.");
      };
      v.src = item[k];
      v.load();
    });
  }

  function onEnded(k) {
    return function () {
      if (!item) return;
      var v = videos[k];
      v.dataset.plays = String(Number(v.dataset.plays || "0") + 1);
      ended[k] = true;
      if (ended.left && ended.right) {   // both through: unlock once, then loop together
        ended.left = ended.right = false;
        if (!unlocked) { unlocked = true; if (!busy) setLocked(false); }
        playBoth();
      }
    };
  }
  videos.left.addEventListener("ended", onEnded("left"));
  videos.right.addEventListener("ended", onEnded("right"));

  function request(url, options, attempt) {
    return fetch(url, options).catch(function (err) {
      if (attempt >= 5) throw err;
      return new Promise(function (r) { setTimeout(r, 300 * Math.pow(2, attempt)); })
        .then(function () { return request(url, options, attempt + 1); });
    });
  }

  function loadState() {
    return request(stateUrl, { cache: "no-store" }, 0)
      .then(function (r) { return r.json(); })
      .then(render)
      .catch(function () { showError("Cannot reach the study server. Reload the page to try again."); });
  }

  function vote(choice) {
    if (!unlocked || busy || !item) return;
    busy = true; setLocked(true); showError("");
    var payload = JSON.stringify({
      item: item.id, choice: choice,
      time_ms: shownAt === null ? null : Math.max(0, Math.round(performance.now() - shownAt))
    });
    request(voteUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: payload }, 0)
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); })
      .then(function (res) {
        busy = false;
        if (res.status === 200 || res.status === 409) {
          if (res.status === 409) showError(res.body.error);
          render(res.body);
        } else {
          showError(res.body.error || ("The server answered " + res.status));
          if (unlocked) setLocked(false);
        }
      })
      .catch(function () {
        busy = false; if (unlocked) setLocked(false);
        showError("Your vote could not be sent; it is safe to click again.");
      });
  }

  buttons.forEach(function (b) { b.addEventListener("click", function () { vote(b.dataset.choice); }); });
  document.getElementById("replay").addEventListener("click", function () { if (item) playBoth(); });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var choice = { ArrowLeft: "left", "1": "left", ArrowRight: "right", "2": "right", ArrowDown: "tie", "3": "tie" }[e.key];
    if (choice) { e.preventDefault(); vote(choice); }
    else if (e.key === "r" || e.key === "R") { if (item) playBoth(); }
  });
  loadState();
})();
