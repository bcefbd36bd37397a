/* formserver: the few things a page does by itself. No framework, no inline scripts (the CSP forbids them). */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";

  /* Forms that change something important ask first. */
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  /* Export progress: every job row that is still working polls its progress URL. */
  var texts = {};
  var table = document.querySelector("table.exports");
  var holder = document.getElementById("export-texts");
  if (holder) {
    try { texts = JSON.parse(holder.getAttribute("data-texts") || "{}"); } catch (e) { texts = {}; }
  }
  function say(key) { return texts[key] || key; }

  function show(area, p) {
    var bar = area.querySelector("progress");
    if (bar) {
      if (p.status === "complete") {
        bar.max = 1; bar.value = 1;
      } else if (p.rows_total) {
        bar.max = p.rows_total; bar.value = p.rows_done || 0;
      } else {
        bar.removeAttribute("value");
      }
    }
    var status = area.querySelector(".status");
    if (status) { status.textContent = say(p.status) + (p.error ? ": " + p.error : ""); }
    var rows = area.querySelector(".rows");
    if (rows) { rows.textContent = (p.rows_done || 0) + "/" + (p.rows_total || 0); }
    area.setAttribute("data-status", p.status);
    var place = area.querySelector(".download");
    if (place && p.download_url && !place.querySelector("a")) {
      var link = document.createElement("a");
      link.className = "button primary";
      link.href = p.download_url;
      link.textContent = say("download");
      place.appendChild(link);
    }
  }

  function poll(area, url) {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (p) {
        show(area, p);
        if (p.status === "queued" || p.status === "running") {
          window.setTimeout(function () { poll(area, url); }, 700);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(area, url); }, 5000); });
  }

  if (table && window.fetch) {
    Array.prototype.forEach.call(table.querySelectorAll("tr.job"), function (row) {
      var state = row.getAttribute("data-status");
      if (state === "queued" || state === "running") {
        poll(row, row.getAttribute("data-progress-url"));
      }
    });
  }

  /* Starting an export: send the form as a JSON request and follow the new job on this page. */
  var form = document.getElementById("export-form");
  if (form && window.fetch && window.FormData) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var live = form.querySelector(".live");
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      live.hidden = false;
      show(live, { status: "queued" });
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken }
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          button.disabled = false;
          if (!result.ok) {
            show(live, { status: "failed", error: result.body.error || "" });
            return;
          }
          show(live, result.body);
          poll(live, result.body.progress_url);
        })
        .catch(function () {
          button.disabled = false;
          show(live, { status: "failed" });
        });
    });
  }
})();
