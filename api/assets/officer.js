// Officer page: outcome buttons that survive poor connections. Each outcome gets a client_id (UUID) when it is
// tapped and waits in localStorage until the server has stored it (201, or 200 for a repeat), so a retry is
// always safe. The link's token is the page path's last part; it is sent as a bearer token, never in a query.
(function () {
  "use strict";
  var panel = document.getElementById("ds-outcomes");
  if (!panel) { return; }
  var token = decodeURIComponent(location.pathname.split("/").pop());
  var queueKey = "doorstep-outcomes-" + panel.dataset.plan + "-" + panel.dataset.team;
  var status = document.getElementById("ds-queue");

  function load() {
    try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(queueKey, JSON.stringify(items)); show(items); }
  function show(items) {
    status.textContent = items.length ? panel.dataset.outcomesWaiting.replace("{n}", String(items.length)) : "";
  }
  // The result as its button reads (in the page's language).
  function label(caseId, result) {
    var button = panel.querySelector('li[data-case="' + CSS.escape(caseId) + '"] button[data-result="' + result + '"]');
    return button ? button.textContent : result;
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  var sending = false;
  function flush() {
    var items = load();
    if (sending || !items.length) { return; }
    sending = true;
    var item = items[0];
    fetch("/v1/outcomes", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
      body: JSON.stringify(item),
      referrerPolicy: "no-referrer",
    }).then(function (response) {
      sending = false;
      if (response.ok || response.status === 409 || response.status === 422 || response.status === 403) {
        var rest = load().filter(function (x) { return x.client_id !== item.client_id; });
        save(rest);
        if (response.ok) { markDone(item.case_id); }
        var li = panel.querySelector('li[data-case="' + CSS.escape(item.case_id) + '"] .ds-sent');
        if (li) {
          li.textContent = response.ok ? "✓ " + label(item.case_id, item.result)
            : "✗ " + panel.dataset.outcomeRefused.replace("{status}", String(response.status));
        }
        flush();
      } else {
        setTimeout(flush, 5000);
      }
    }).catch(function () { sending = false; setTimeout(flush, 5000); });
  }

  function record(caseId, result, position) {
    var item = {
      client_id: uuid(), plan_id: panel.dataset.plan, team_id: panel.dataset.team,
      officer_id: document.getElementById("ds-officer").value, case_id: caseId,
      visited_at: new Date().toISOString(), result: result,
    };
    // A visit at work or at the registered residence says so: only home visits teach P(home).
    var stop = panel.querySelector('li[data-case="' + CSS.escape(caseId) + '"]');
    if (stop && stop.dataset.kind && stop.dataset.kind !== "home") { item.address_kind = stop.dataset.kind; }
    if (result === "promise_to_pay") {
      var d = window.prompt(panel.dataset.promisedDatePrompt);
      if (!d) { return; }
      item.promised_date = d;
    }
    if (position) {
      item.lat = position.coords.latitude; item.lon = position.coords.longitude;
      item.accuracy_m = position.coords.accuracy;
    }
    var items = load(); items.push(item); save(items); flush();
  }

  panel.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-result]");
    if (!button) { return; }
    var caseId = button.closest("li").dataset.case;
    var result = button.dataset.result;
    if (navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(
        function (p) { record(caseId, result, p); }, function () { record(caseId, result, null); },
        {timeout: 8000, maximumAge: 60000});
    } else { record(caseId, result, null); }
  });
  // Re-plan: the rest of the day from the phone's GPS fix (else the last stop done, else the team's start) and
  // the phone's clock, redrawn in place from the answer. The fix sent is the raw WGS-84 one, whatever the tiles.
  var replanButton = document.getElementById("ds-replan");
  var replanStatus = document.getElementById("ds-replan-status");
  var doneKey = "doorstep-done-" + panel.dataset.plan + "-" + panel.dataset.team;

  function doneCases() {
    try { return JSON.parse(localStorage.getItem(doneKey) || "[]"); } catch (e) { return []; }
  }
  function markDone(caseId) {
    var done = doneCases().filter(function (c) { return c !== caseId; });
    done.push(caseId);
    localStorage.setItem(doneKey, JSON.stringify(done));
  }
  function fallbackPosition() {
    var done = doneCases();
    for (var i = done.length - 1; i >= 0; i--) {
      var li = panel.querySelector('li[data-case="' + CSS.escape(done[i]) + '"]');
      if (li) { return {lat: Number(li.dataset.lat), lon: Number(li.dataset.lon), accuracy: null}; }
    }
    return {lat: Number(panel.dataset.startLat), lon: Number(panel.dataset.startLon), accuracy: null};
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? String(values[k]) : m; });
  }
  function say(text, failed) {
    replanStatus.textContent = text;
    replanStatus.classList.toggle("ds-failed", !!failed);
  }

  function redrawPanel(entry) {
    var list = panel.querySelector("ol");
    var items = {};
    Array.prototype.forEach.call(list.querySelectorAll("li[data-case]"), function (li) {
      items[li.dataset.case] = li;
      li.remove();
    });
    entry.stops.forEach(function (stop) {
      var li = items[stop.case_id];
      if (!li) { return; }
      delete items[stop.case_id];
      li.querySelector(".ds-seq").textContent = String(stop.seq);
      li.dataset.lat = stop.lat; li.dataset.lon = stop.lon;
      li.classList.remove("ds-unplanned");
      list.appendChild(li);
    });
    // Stops the re-plan no longer fits stay at the end (an outcome can still be recorded), marked as such.
    Object.keys(items).forEach(function (caseId) {
      var li = items[caseId];
      li.querySelector(".ds-seq").textContent = "–";
      li.classList.add("ds-unplanned");
      li.title = replanButton.dataset.replanUnplanned;
      list.appendChild(li);
    });
  }

  function replan(from) {
    var body = {now: new Date().toISOString(), lat: from.lat, lon: from.lon};
    if (from.accuracy !== null) { body.accuracy_m = from.accuracy; }
    var url = "/v1/plans/" + encodeURIComponent(panel.dataset.plan) + "/teams/" +
      encodeURIComponent(panel.dataset.team) + "/replan";
    fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
      body: JSON.stringify(body),
      referrerPolicy: "no-referrer",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        replanButton.disabled = false;
        if (!response.ok) {
          var message = (answer && answer.error && answer.error.message) || ("HTTP " + response.status);
          say(fill(replanButton.dataset.replanFailed, {message: message}), true);
          return;
        }
        if (window.Doorstep && Doorstep.redrawDay) { Doorstep.redrawDay(answer, from); }
        redrawPanel(answer);
        refreshTimeline();
        var now = new Date();
        var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
        say(fill(replanButton.dataset.replanDone, {time: time, n: answer.stops.length, revision: answer.revision}));
      });
    }).catch(function () {
      replanButton.disabled = false;
      say(replanButton.dataset.replanOffline, true);
    });
  }

  // The day's timeline is drawn on the server: after a re-plan, fetch this page again and take its timeline (the
  // map has hidden the old one; offline it stays hidden until a reload).
  function refreshTimeline() {
    fetch(location.href, {cache: "no-store", referrerPolicy: "no-referrer"}).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".ds-day");
      var shown = document.querySelector(".ds-day");
      if (fresh && shown) {
        fresh.hidden = false;
        shown.replaceWith(document.importNode(fresh, true));
      }
    }).catch(function () { return null; });
  }

  if (replanButton) {
    replanButton.addEventListener("click", function () {
      if (!navigator.onLine) { say(replanButton.dataset.replanOffline, true); return; }
      replanButton.disabled = true;
      say(replanButton.dataset.replanBusy, false);
      if (navigator.geolocation) {
        navigator.geolocation.getCurrentPosition(function (p) {
          replan({lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy});
        }, function () { replan(fallbackPosition()); }, {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
      } else { replan(fallbackPosition()); }
    });
  }

  window.addEventListener("online", flush);
  show(load());
  flush();
})();
