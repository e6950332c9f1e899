// Study owner's status page: polls the status JSON every 3 s and fills the tables. Plain JS.
(function () {
  "use strict";
  var url = document.body.dataset.statusUrl;
  function cell(row, cls, text, bad) { var c = row.querySelector("." + cls); c.textContent = text; c.classList.toggle("bad", !!bad); }
  function pct(x) { return x === null ? "–" : x + "%"; }
  document.querySelectorAll("a.link").forEach(function (a) { a.textContent = location.origin + a.getAttribute("href"); });
  function refresh() {
    fetch(url, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("overall").textContent = s.votes + " of " + s.total + " judgments made.";
      s.raters.forEach(function (r) {
        var row = document.querySelector('tr[data-rater="' + r.rater + '"]');
        if (!row) return;
        cell(row, "progress-cell", r.done + " / " + r.total);
        cell(row, "checks", String(r.checks_answered));
        cell(row, "failed", r.checks_failed + (r.failed.length ? " (" + r.failed.join("; ") + ")" : ""), r.checks_failed > 0);
        cell(row, "time", r.median_time_ms === null ? "–" : (r.median_time_ms / 1000).toFixed(1) + " s");
        cell(row, "last", r.last_vote_at || "–");
      });
      var tbody = document.querySelector("#tally tbody");
      tbody.textContent = "";
      s.tally.forEach(function (t) {
        var tr = document.createElement("tr");
        [t.model_a, t.model_b, String(t.n), t.win + " (" + pct(t.win_pct) + ")", t.tie + " (" + pct(t.tie_pct) + ")",
         t.loss + " (" + pct(t.loss_pct) + ")",
         t.win_low === null ? "–" : t.win_low + "–" + t.win_high + "%",
         t.sign_p === null ? "–" : t.sign_p.toPrecision(3)].forEach(function (x) {
          var td = document.createElement("td"); td.textContent = x; tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
    }).catch(function () { document.getElementById("overall").textContent = "Cannot reach the server."; });
  }
  refresh();
  setInterval(refresh, 3000);
})();
