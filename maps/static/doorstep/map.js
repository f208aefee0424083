/* Doorstep map pages: the locate-me control, the road layer of tile-less maps, the GCJ-02 datum of AMap tiles,
 * and a readiness mark.
 *
 * Loaded after Leaflet from the app's own static folder, so pages work with no internet access.
 */
(function () {
  "use strict";

  var Doorstep = (window.Doorstep = window.Doorstep || {});

  /* WGS-84 -> GCJ-02, the published formula (the same as geo/crs.py; identity outside China). AMap's tiles are
   * in GCJ-02, so a phone's GPS fix must be converted before it is drawn on them. */
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  function inChina(lat, lon) {
    return lon > 72.004 && lon < 137.8347 && lat > 0.8293 && lat < 55.8271;
  }
  Doorstep.wgs84ToGcj02 = function (lat, lon) {
    if (!inChina(lat, lon)) {
      return [lat, lon];
    }
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    dlat += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
    dlat += ((160.0 * Math.sin((y / 12.0) * PI) + 320.0 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    dlon += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
    dlon += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
    var rad = (lat / 180.0) * PI;
    var magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
    var sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtMagic)) * PI);
    dlon = (dlon * 180.0) / ((A / sqrtMagic) * Math.cos(rad) * PI);
    return [lat + dlat, lon + dlon];
  };

  /* The map's datum ("wgs84" or "gcj02"), set by the page; every WGS-84 point drawn goes through toMap. */
  Doorstep.datum = "wgs84";
  Doorstep.toMap = function (lat, lon) {
    return Doorstep.datum === "gcj02" ? Doorstep.wgs84ToGcj02(lat, lon) : [lat, lon];
  };

  /* Google's encoded polyline (precision 5) -> [[lat, lon], ...]. */
  Doorstep.decodePolyline = function (text) {
    var points = [], lat = 0, lon = 0, i = 0;
    function next() {
      var result = 0, shift = 0, b;
      do {
        b = text.charCodeAt(i++) - 63;
        result |= (b & 0x1f) << shift;
        shift += 5;
      } while (b >= 0x20);
      return result & 1 ? ~(result >> 1) : result >> 1;
    }
    while (i < text.length) {
      lat += next();
      lon += next();
      points.push([lat / 1e5, lon / 1e5]);
    }
    return points;
  };

  /* The road network of a tile-less map: one light, non-interactive canvas layer under the route. */
  Doorstep.addRoads = function (map, encoded) {
    var pane = map.createPane("ds-roads");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
    var lines = encoded.map(Doorstep.decodePolyline);
    var layer = L.polyline(lines, {
      pane: "ds-roads",
      renderer: L.canvas({ pane: "ds-roads" }),
      className: "ds-roads",
      color: "#9ca3af",
      weight: 2,
      opacity: 0.9,
      interactive: false,
    }).addTo(map);
    document.documentElement.dataset.dsRoads = String(lines.length);
    return layer;
  };

  /* A button that shows where the officer is: a dot, and a circle as wide as the fix is uncertain. */
  Doorstep.addLocateControl = function (map, labels) {
    var here = null;
    Doorstep.datum = labels.datum || "wgs84";
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
          map.locate({ setView: false, enableHighAccuracy: true, timeout: 15000 });
        });
        map.on("locationfound", function (event) {
          bar.classList.remove("ds-locating");
          if (here) {
            here.remove();
          }
          // The fix is WGS-84; on GCJ-02 tiles it is drawn converted (the raw fix is what gets sent anywhere).
          var drawn = L.latLng(Doorstep.toMap(event.latlng.lat, event.latlng.lng));
          here = L.layerGroup([
            L.circle(drawn, { radius: event.accuracy, weight: 1, className: "ds-here-accuracy" }),
            L.circleMarker(drawn, { radius: 7, weight: 2, className: "ds-here" }),
          ]).addTo(map);
          map.fitBounds(drawn.toBounds(event.accuracy * 2), { maxZoom: 17 });
          Doorstep.lastFix = { lat: event.latlng.lat, lon: event.latlng.lng, accuracy: event.accuracy };
          var root = document.documentElement;
          root.dataset.dsLocated = event.latlng.lat.toFixed(6) + "," + event.latlng.lng.toFixed(6);
          root.dataset.dsLocatedDrawn = drawn.lat.toFixed(6) + "," + drawn.lng.toFixed(6);
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

  /* The day drawn on a team map (route line, stop markers by case id), for redrawing it after a re-plan. */
  Doorstep.registerDay = function (map, route, stops, datum) {
    Doorstep.datum = datum || "wgs84";
    Doorstep.day = { map: map, route: route, stops: stops };
  };

  function pClass(p) {
    return p < 0.3 ? "ds-p-low" : p < 0.6 ? "ds-p-mid" : "ds-p-high";
  }
  /* "HH:MM" of a plan.json time: its wall clock in the plan's zone (ISO 8601 with the zone's offset). */
  Doorstep.clock = function (iso) {
    return String(iso).slice(11, 16);
  };
  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el) {
      el.textContent = String(text);
    }
  }

  /* Redraw the day from a re-plan's answer (the team's plan.json entry, WGS-84, with the road ``path`` of the
   * rest of the day): stop numbers, colours, ETAs, the header's stop list and the route line. ``from`` is the
   * WGS-84 position the re-plan started at (for straight legs when the answer has no path). */
  Doorstep.redrawDay = function (entry, from) {
    var day = Doorstep.day;
    if (!day) {
      return;
    }
    var seen = {};
    entry.stops.forEach(function (stop) {
      seen[stop.case_id] = true;
      var at = Doorstep.toMap(stop.lat, stop.lon);
      var marker = day.stops[stop.case_id];
      if (!marker) {
        marker = day.stops[stop.case_id] = L.marker(at).addTo(day.map);
      }
      marker.setLatLng(at);
      marker.setIcon(
        L.divIcon({
          html: '<div class="ds-stop ' + pClass(stop.p_home) + '">' + Number(stop.seq) + "</div>",
          iconSize: [28, 28],
          iconAnchor: [14, 14],
          className: "ds-stop-icon",
        })
      );
      var el = marker.getElement();
      if (el) {
        el.title = stop.seq + " \u00b7 " + stop.case_id + " \u00b7 " + Doorstep.clock(stop.arrival);
      }
      var popup = marker.getPopup();
      if (popup) {
        var box = document.createElement("div");
        box.innerHTML = popup.getContent();
        var heading = box.querySelector("h3");
        if (heading) {
          // "Stop 3 · C17": the first number is the stop's place in the day.
          heading.textContent = heading.textContent.replace(/\d+/, String(stop.seq));
        }
        setText(box, ".ds-row-eta td", Doorstep.clock(stop.arrival));
        setText(box, ".ds-row-start td", Doorstep.clock(stop.service_start));
        marker.setPopupContent(box.innerHTML);
      }
    });
    Object.keys(day.stops).forEach(function (caseId) {
      if (!seen[caseId]) {
        day.stops[caseId].remove();
        delete day.stops[caseId];
      }
    });
    var line = entry.path && entry.path.length >= 2 ? entry.path : null;
    if (!line) {
      line = [[from.lat, from.lon]].concat(entry.stops.map(function (s) { return [s.lat, s.lon]; }));
      line.push([entry.end.lat, entry.end.lon]);
    }
    day.route.setLatLngs(line.map(function (p) { return Doorstep.toMap(p[0], p[1]); }));
    day.route.setStyle({ dashArray: entry.path && entry.path.length >= 2 ? null : "8 8" });
    var list = document.querySelector(".ds-stop-list");
    if (list) {
      var items = {};
      Array.prototype.forEach.call(list.querySelectorAll("li[data-case]"), function (li) {
        items[li.dataset.case] = li;
        li.remove();
      });
      entry.stops.forEach(function (stop) {
        var li = items[stop.case_id];
        if (li) {
          li.value = stop.seq;
          setText(li, ".ds-eta", Doorstep.clock(stop.arrival));
          list.appendChild(li);
        }
      });
    }
    // The header's figures: visits, the day's end, expected contacts, distance and the break.
    setText(document, ".ds-v-visits", entry.stops.length);
    if (entry.start && entry.start.time) {
      setText(document, ".ds-v-start", Doorstep.clock(entry.start.time));
    }
    if (entry.end && entry.end.time) {
      setText(document, ".ds-v-end", Doorstep.clock(entry.end.time));
    }
    if (typeof entry.expected_contacts === "number") {
      setText(document, ".ds-v-contacts", entry.expected_contacts.toFixed(1));
    }
    if (typeof entry.distance_m === "number") {
      setText(document, ".ds-v-km", (entry.distance_m / 1000).toFixed(1));
    }
    if (entry["break"]) {
      setText(document, ".ds-v-break", Doorstep.clock(entry["break"].start));
      if (entry["break"].after_seq !== null && entry["break"].after_seq !== undefined) {
        setText(document, ".ds-v-break-after", entry["break"].after_seq);
      }
    }
    // The timeline drawn on the server shows the day as first planned: hidden rather than wrong until the
    // officer page brings the re-planned one (officer.js) or the page is reloaded.
    Array.prototype.forEach.call(document.querySelectorAll(".ds-day"), function (el) {
      el.hidden = true;
    });
    document.documentElement.dataset.dsRevision = String(entry.revision);
  };

  /* A stop whose case was closed after the plan was made: its marker is greyed and struck through. */
  Doorstep.markClosed = function (caseId) {
    var marker = Doorstep.day && Doorstep.day.stops[caseId];
    var el = marker && marker.getElement();
    if (el) {
      el.classList.add("ds-stop-closed");
    }
    return Boolean(el);
  };

  /* Marks the page ready (milliseconds since navigation start) once the map and its layers exist. */
  Doorstep.markReady = function () {
    document.documentElement.dataset.dsReadyMs = String(Math.round(performance.now()));
  };
})();
