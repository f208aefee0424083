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
  function show(items) { status.textContent = items.length ? items.length + " waiting to send" : ""; }
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
        var li = panel.querySelector('li[data-case="' + CSS.escape(item.case_id) + '"] .ds-sent');
        if (li) { li.textContent = response.ok ? "✓ " + item.result.replace(/_/g, " ") : "✗ " + response.status; }
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
    if (result === "promise_to_pay") {
      var d = window.prompt("Promised date (YYYY-MM-DD)");
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
  window.addEventListener("online", flush);
  show(load());
  flush();
})();
