// fhirfacade migration console: progressive enhancement only; every page
// works without it except the live refreshes.
(function () {
  "use strict";
  // overview: poll the table body every 2 s
  var rows = document.getElementById("rows");
  if (rows && rows.dataset.src) {
    var live = document.getElementById("live");
    var poll = function () {
      fetch(rows.dataset.src, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then(function (html) { rows.innerHTML = html; if (live) live.textContent = "(updated " + new Date().toLocaleTimeString() + ")"; })
        .catch(function (e) { if (live) live.textContent = "(refresh failed: " + e.message + ")"; });
    };
    setInterval(poll, 2000);
  }
  // move: the button is enabled once the reason is given and every
  // required acknowledgement is ticked
  var form = document.getElementById("move-form");
  if (form) {
    var button = document.getElementById("move-button");
    var check = function () {
      var ok = form.reason.value.trim() !== "";
      form.querySelectorAll("input[type=checkbox][required]").forEach(function (c) { ok = ok && c.checked; });
      button.disabled = !ok;
    };
    form.addEventListener("input", check);
    form.addEventListener("change", check);
    check();
  }
  // confirmations named in data-confirm
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) { if (!window.confirm(f.dataset.confirm)) ev.preventDefault(); });
  });
  // report: scroll each resource to its first differing element
  document.querySelectorAll("pre.json").forEach(function (pre) {
    var first = pre.querySelector("span.diff");
    if (first) pre.scrollTop = Math.max(0, first.offsetTop - pre.offsetTop - 48);
  });
  // job: poll its status until done
  var job = document.getElementById("job");
  if (job && job.dataset.status) {
    var tick = function () {
      fetch(job.dataset.status, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          document.getElementById("job-state").textContent = s.done ? (s.failed ? "failed" : "done") : "running";
          document.getElementById("job-elapsed").textContent = s.elapsed;
          document.getElementById("job-text").textContent = s.done ? s.outcome : s.progress;
          var p = document.getElementById("job-progress");
          if (s.done) { p.max = 1; p.value = 1; }
          if (s.report) {
            var rp = document.getElementById("job-report");
            rp.querySelector("a").href = rp.querySelector("a").href.replace(/\/report\/\d*$/, "/report/" + s.report);
            rp.hidden = false;
          }
          if (!s.done) setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 2000); });
    };
    tick();
  }
})();
