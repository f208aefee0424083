/* Doorstep map pages: the locate-me control and a readiness mark.
 *
 * Loaded after Leaflet from the app's own static folder, so pages work with no internet access.
 */
(function () {
  "use strict";

  var Doorstep = (window.Doorstep = window.Doorstep || {});

  /* A button that shows where the officer is: a dot, and a circle as wide as the fix is uncertain. */
  Doorstep.addLocateControl = function (map, labels) {
    var here = null;
    var Locate = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var bar = L.DomUtil.create("div", "leaflet-bar ds-locate");
        var button = L.DomUtil.create("a", "ds-locate-button", bar);
        button.href = "#";
        button.setAttribute("role", "button");
        button.title = labels.locate;
        button.setAttribute("aria-label", labels.locate);
        button.textContent = "\u25CE";
        L.DomEvent.disableClickPropagation(bar);
        L.DomEvent.on(button, "click", function (event) {
          L.DomEvent.preventDefault(event);
          bar.classList.remove("ds-locate-failed");
          bar.classList.add("ds-locating");
          map.locate({ setView: true, maxZoom: 17, enableHighAccuracy: true, timeout: 15000 });
        });
        map.on("locationfound", function (event) {
          bar.classList.remove("ds-locating");
          if (here) {
            here.remove();
          }
          here = L.layerGroup([
            L.circle(event.latlng, { radius: event.accuracy, weight: 1, className: "ds-here-accuracy" }),
            L.circleMarker(event.latlng, { radius: 7, weight: 2, className: "ds-here" }),
          ]).addTo(map);
          document.documentElement.dataset.dsLocated = event.latlng.lat.toFixed(6) + "," + event.latlng.lng.toFixed(6);
        });
        map.on("locationerror", function () {
          bar.classList.remove("ds-locating");
          bar.classList.add("ds-locate-failed");
          button.title = labels.locateFailed;
        });
        return bar;
      },
    });
    new Locate().addTo(map);
  };

  /* Marks the page ready (milliseconds since navigation start) once the map and its layers exist. */
  Doorstep.markReady = function () {
    document.documentElement.dataset.dsReadyMs = String(Math.round(performance.now()));
  };
})();
