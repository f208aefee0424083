// Supervisor overview: the edit panel. Each control sends PATCH /v1/plans/{plan_id} (or POST .../approve) with
// the session cookie (same origin, SameSite=Strict) and the page's revision, shows the answer, and reloads.
(function () {
  "use strict";
  var panel = document.getElementById("ds-editor");
  if (!panel) { return; }
  var plan = panel.dataset.plan;
  var status = document.getElementById("ds-editor-status");

  function busy(on) {
    panel.querySelectorAll("button, input, select").forEach(function (el) { el.disabled = on; });
  }
  function say(text) { status.textContent = text; }
  // Messages in the page's language, from the panel's data-msg-* attributes.
  function msg(key, status, message) {
    return panel.dataset["msg" + key.charAt(0).toUpperCase() + key.slice(1)]
      .replace("{status}", String(status || "")).replace("{message}", String(message || ""));
  }
  function send(method, url, body) {
    busy(true);
    say(msg("working"));
    return fetch(url, {
      method: method, credentials: "same-origin", referrerPolicy: "no-referrer",
      headers: {"Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.ok) { say(msg("done")); location.reload(); return; }
        busy(false);
        var error = answer.error || {};
        say(msg("failed", r.status, error.message || r.statusText));
      });
    }).catch(function () { busy(false); say(msg("offline")); });
  }
  function edit(one) {
    return send("PATCH", "/v1/plans/" + encodeURIComponent(plan),
      {edits: [one], expected_revision: Number(panel.dataset.revision)});
  }

  panel.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-op]");
    if (!button) { return; }
    var row = button.closest("tr");
    var op = button.dataset.op;
    var one = {op: op, case_id: row.dataset.case};
    if (op === "move" || op === "pin") { one.team_id = row.querySelector("select").value; }
    edit(one);
  });
  document.getElementById("ds-add").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var one = {op: "add", case_id: form.elements.case_id.value.trim()};
    if (form.elements.team_id.value) { one.team_id = form.elements.team_id.value; }
    edit(one);
  });
  document.getElementById("ds-approve").addEventListener("click", function () {
    send("POST", "/v1/plans/" + encodeURIComponent(plan) + "/approve");
  });
  // The page was drawn when the plan was last changed: ask whether it has been approved since.
  fetch("/v1/plans/" + encodeURIComponent(plan), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (s) {
      if (s && s.approval === "approved") {
        busy(true);
        say(msg("approved"));
      }
    }).catch(function () {});
})();
