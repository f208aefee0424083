// Officer page: stops whose case was closed after the plan was made (paid, withdrawn) are flagged at once.
// The page asks the server which of its team's stops are closed when it opens, every 30 s, when the phone
// comes back online and when the officer returns to the page; a closed stop is marked and its buttons disabled.
(function () {
  "use strict";
  var panel = document.getElementById("ds-outcomes");
  if (!panel) { return; }
  var token = decodeURIComponent(location.pathname.split("/").pop());
  var url = "/v1/plans/" + encodeURIComponent(panel.dataset.plan) + "/teams/" +
    encodeURIComponent(panel.dataset.team) + "/closed";
  var banner = document.createElement("p");
  banner.id = "ds-closed-banner";
  banner.setAttribute("role", "status");
  banner.style.cssText = "margin:4px 0;padding:4px 6px;background:#fde2e1;color:#7a1c14;font-weight:bold";
  banner.hidden = true;
  panel.insertBefore(banner, panel.firstChild);

  function mark(closed) {
    closed.forEach(function (caseId) {
      var li = panel.querySelector('li[data-case="' + CSS.escape(caseId) + '"]');
      if (!li || li.classList.contains("ds-closed")) { return; }
      li.classList.add("ds-closed");
      li.style.opacity = "0.55";
      li.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      var note = document.createElement("span");
      note.className = "ds-closed-note";
      note.textContent = " " + panel.dataset.closedNote;
      note.style.cssText = "color:#b42318;font-weight:bold";
      li.querySelector("strong").after(note);
      // The stop's marker on the map too (greyed, struck through).
      if (window.Doorstep && Doorstep.markClosed) { Doorstep.markClosed(caseId); }
    });
    banner.hidden = closed.length === 0;
    banner.textContent = closed.length
      ? panel.dataset.closedBanner.replace("{n}", String(closed.length)).replace("{cases}", closed.join(", "))
      : "";
  }

  function check() {
    fetch(url, {headers: {"Authorization": "Bearer " + token}, referrerPolicy: "no-referrer", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { mark(body.closed); } })
      .catch(function () { /* offline: try again later */ });
  }

  check();
  setInterval(check, 30000);
  window.addEventListener("online", check);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { check(); } });
})();
