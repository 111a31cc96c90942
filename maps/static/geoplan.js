/* geoplan map helpers. Every value from the data arrives in a JSON slot
   (maps/slots.py) and reaches the page through textContent, never
   innerHTML: a field holding markup shows as text. The Leaflet APIs that take
   HTML (layer-control names, attributions) get it escaped. The layer tree,
   findings, search, identify and the tools extend this namespace
   (geoplan-*.js). */
var geoplan = (function () {
  "use strict";

  /* The parsed content of a JSON slot. */
  function data(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  /* Text as HTML that shows exactly that text. */
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
  }

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value === undefined || value === null ? "" : String(value);
    if (className) el.className = className;
    return el;
  }

  /* A popup: a title line and a table of the non-empty fields. */
  function table(props, title, fields) {
    var box = document.createElement("div");
    box.className = "geoplan-popup";
    if (title) box.appendChild(text("div", title, "geoplan-popup-title"));
    var rows = document.createElement("table");
    fields.forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === "") return;
      var row = document.createElement("tr");
      row.appendChild(text("th", key));
      row.appendChild(text("td", value));
      rows.appendChild(row);
    });
    box.appendChild(rows);
    return box;
  }

  /* Popups keep clear of the title (top centre) and the corner controls. */
  var POPUP = { maxWidth: 460, minWidth: 240, autoPanPaddingTopLeft: [60, 90],
    autoPanPaddingBottomRight: [60, 40] };

  /* Popup and hover tooltip of one feature; spec = {title, fields, tooltip, shared}. */
  function bind(feature, layer, spec) {
    var own = feature.properties || {};
    var props = spec.shared ? Object.assign({}, spec.shared[own._r], own) : own;
    var title = props[spec.title] || spec.title;
    layer.bindPopup(function () {
      return table(props, title, spec.fields);
    }, POPUP);
    var tip = [].concat(spec.tooltip).map(function (key) { return props[key]; })
      .filter(Boolean).join(" · ");
    if (tip) {
      layer.bindTooltip(function () {
        return text("span", tip);
      }, { sticky: true, direction: "top" });
    }
  }

  /* The bytes of base85 text (maps/dense.py to_text). */
  var ALPHABET = "!#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz|~";
  var VALUE = new Uint8Array(128);
  for (var a = 0; a < ALPHABET.length; a++) VALUE[ALPHABET.charCodeAt(a)] = a;
  function bytes(text) {
    var n = text.length, rest = n % 5, full = n - rest, i, o = 0;
    var out = new Uint8Array(full / 5 * 4 + (rest ? rest - 1 : 0));
    // whole groups unrolled: a city's chunks are megabytes of text
    for (i = 0; i < full; i += 5) {
      var v = (((VALUE[text.charCodeAt(i)] * 85 + VALUE[text.charCodeAt(i + 1)]) * 85 +
        VALUE[text.charCodeAt(i + 2)]) * 85 + VALUE[text.charCodeAt(i + 3)]) * 85 +
        VALUE[text.charCodeAt(i + 4)];
      out[o] = v >>> 24;
      out[o + 1] = (v >>> 16) & 255;
      out[o + 2] = (v >>> 8) & 255;
      out[o + 3] = v & 255;
      o += 4;
    }
    if (rest) {
      var value = 0;
      for (var j = full; j < full + 5; j++) value = value * 85 + (j < n ? VALUE[text.charCodeAt(j)] : 84);
      for (var shift = 24; o < out.length; shift -= 8) out[o++] = (value >>> shift) & 255;
    }
    return out;
  }

  /* Zigzag LEB128 varints in base85 text (maps/dense.py) as signed numbers (a Float64Array). */
  function varints(text) {
    var b = bytes(text), out = new Float64Array(b.length), n = 0, value = 0, scale = 1;
    for (var i = 0; i < b.length; i++) {
      value += (b[i] & 127) * scale;
      scale *= 128;
      if (b[i] & 128) continue;
      out[n++] = value % 2 ? -(value + 1) / 2 : value / 2;
      value = 0;
      scale = 1;
    }
    return out.subarray(0, n);
  }

  /* Packed features (maps/packing.py) back to a GeoJSON FeatureCollection. */
  function unpack(packed) {
    var xy = varints(packed.xy);
    var n = xy.length / 2, items = new Array(n), x = 0, y = 0, i, k;
    for (i = 0; i < n; i++) {
      x += xy[2 * i];
      y += xy[2 * i + 1];
      items[i] = [x / packed.s, y / packed.s];
    }
    packed.o.forEach(function (offsets) {
      var grouped = new Array(offsets.length - 1);
      for (k = 0; k < offsets.length - 1; k++) grouped[k] = items.slice(offsets[k], offsets[k + 1]);
      items = grouped;
    });
    return {
      type: "FeatureCollection",
      features: items.map(function (coordinates, k) {
        return {
          type: "Feature",
          properties: packed.p[k],
          geometry: { type: packed.t, coordinates: coordinates }
        };
      })
    };
  }

  // Nesting depth of the rings' coordinates under a geometry's (L.GeoJSON.coordsToLatLngs).
  var DEPTH = { LineString: 0, MultiLineString: 1, Polygon: 1, MultiPolygon: 2 };
  var THIN_PX = 0.5;
  // The share of THIN_PX that the first, cheaper pass may move a vertex, on each axis.
  var RADIAL = 0.25;

  /* A ring or line whose every vertex is within THIN_PX of what is kept of
     it; tol = [lon, lat] degrees of THIN_PX. First without the vertices
     within RADIAL * THIN_PX (on both axes) of the last one kept, then
     simplified (Douglas-Peucker) to the rest of THIN_PX. A polygon's ring
     that would keep fewer than four (a speck) is kept whole, a ring still. */
  function thin(ring, tol, polygon) {
    var out = [ring[0]], last = ring[0], near = [tol[0] * RADIAL, tol[1] * RADIAL];
    for (var i = 1; i < ring.length; i++) {
      var c = ring[i];
      if (i < ring.length - 1 && Math.abs(c[0] - last[0]) < near[0] &&
          Math.abs(c[1] - last[1]) < near[1]) continue;
      out.push(c);
      last = c;
    }
    out = simplified(out, tol, 1 - RADIAL * Math.SQRT2);
    return polygon && out.length < 4 ? ring : out;
  }

  /* The vertices of a line that Douglas-Peucker keeps at a tolerance of
     `units`, in coordinates divided by tol (THIN_PX on each axis); its ends stay. */
  function simplified(line, tol, units) {
    var n = line.length;
    if (n < 3) return line;
    var keep = new Uint8Array(n), stack = [0, n - 1];
    keep[0] = keep[n - 1] = 1;
    while (stack.length) {
      var last = stack.pop(), first = stack.pop();
      var ax = line[first][0] / tol[0], ay = line[first][1] / tol[1];
      var dx = line[last][0] / tol[0] - ax, dy = line[last][1] / tol[1] - ay;
      var len = dx * dx + dy * dy, far = units * units, at = -1;
      for (var i = first + 1; i < last; i++) {
        var px = line[i][0] / tol[0] - ax, py = line[i][1] / tol[1] - ay;
        var t = len ? Math.max(0, Math.min(1, (px * dx + py * dy) / len)) : 0;
        var ex = px - t * dx, ey = py - t * dy, d = ex * ex + ey * ey;
        if (d > far) {
          far = d;
          at = i;
        }
      }
      if (at < 0) continue;
      keep[at] = 1;
      stack.push(first, at, at, last);
    }
    return line.filter(function (c, i) { return keep[i]; });
  }

  /* Give the features of a layer shown at load their shapes thinned to half
     a pixel at the map's zoom, and their full ones once the map is zoomed in
     past it: Leaflet projects, clips and simplifies every vertex it holds, and
     a city's boundaries and rivers have tens of thousands below a pixel at
     the first view (what Leaflet draws of them, simplified to a pixel, is
     the same). */
  function thinned(map, group, collection) {
    var zoom = map.getZoom(), deg = THIN_PX * 360 / (256 * Math.pow(2, zoom));
    var tol = [deg, deg * Math.cos(map.getCenter().lat * Math.PI / 180)], full = new Map();
    collection.features.forEach(function (feature) {
      var g = feature.geometry, polygon = g.type.indexOf("Polygon") >= 0;
      function walk(c, d) {
        return d ? c.map(function (x) { return walk(x, d - 1); }) : thin(c, tol, polygon);
      }
      if (!(g.type in DEPTH)) return;
      full.set(feature, g.coordinates);
      g.coordinates = walk(g.coordinates, DEPTH[g.type]);
    });
    function restore() {
      if (map.getZoom() <= zoom + 0.5) return;
      map.off("zoomend", restore);
      L.GeoJSON.prototype.eachLayer.call(group, function (path) {
        var g = path.feature.geometry;
        if (!full.has(path.feature)) return;
        g.coordinates = full.get(path.feature);
        path.setLatLngs(L.GeoJSON.coordsToLatLngs(g.coordinates, DEPTH[g.type]));
      });
    }
    map.on("zoomend", restore);
  }

  /* A packed overlay: styles by the feature's _s, popups, tooltips, highlight.
     content = {features (packed), spec}. Its features are made when it is
     first put on the map or read (eachLayer, getLayers): a layer off at load
     (the 三区 cover the whole region) costs nothing until it is shown or searched. */
  function layer(content) {
    var spec = content.spec, pane = spec.pane || "overlayPane";
    var group = L.geoJson(null, {
      pane: pane,
      style: function (feature) {
        return spec.styles[feature.properties._s || 0];
      },
      onEachFeature: function (feature, path) {
        bind(feature, path, spec);
        if (spec.highlight) {
          path.on("mouseover", function () { path.setStyle(spec.highlight); });
          path.on("mouseout", function () { group.resetStyle(path); });
        }
      }
    });
    var filled = false;
    function fill() {
      if (filled) return;
      filled = true;
      var collection = unpack(content.features), map = group._map;
      if (map) thinned(map, group, collection);
      group.addData(collection);
    }
    ["eachLayer", "getLayers"].forEach(function (method) {
      group[method] = function () {
        fill();
        return L.GeoJSON.prototype[method].apply(group, arguments);
      };
    });
    group.geoplanSpec = spec;
    return group;
  }

  /* Permanent labels, shown from spec.minZoom on; spec.rows = [[lat, lon, text]]. */
  function labels(map, group, spec) {
    spec.rows.forEach(function (row) {
      L.marker([row[0], row[1]], {
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: "geoplan-label", html: text("span", row[2]), iconSize: null })
      }).addTo(group);
    });
    function update() {
      map.getContainer().classList.toggle("geoplan-labels-hidden", map.getZoom() < spec.minZoom);
    }
    map.on("zoomend", update);
    update();
  }

  /* A control holding a DOM node. */
  function control(map, node, position) {
    var Box = L.Control.extend({
      onAdd: function () {
        L.DomEvent.disableClickPropagation(node);
        L.DomEvent.disableScrollPropagation(node);
        return node;
      }
    });
    new Box({ position: position }).addTo(map);
  }

  /* Title and second line, top centre; spec = {title, subtitle}. */
  function title(map, spec) {
    var box = text("div", spec.title, "geoplan-title");
    box.appendChild(text("small", spec.subtitle));
    map.getContainer().appendChild(box);
  }

  /* Panes of the layer groups, stacked in order above the overlay pane;
     spec = [{name}]. A group's opacity is its pane's. */
  function panes(map, spec) {
    spec.forEach(function (entry, i) {
      map.createPane(entry.name).style.zIndex = String(401 + i);
    });
  }

  /* A tile layer; spec = {url, attribution (text), subdomains, maxZoom}. */
  function tiles(spec) {
    return L.tileLayer(spec.url, {
      attribution: escapeHtml(spec.attribution),
      subdomains: spec.subdomains,
      maxZoom: spec.maxZoom,
      maxNativeZoom: spec.maxZoom,
      pane: spec.pane
    });
  }

  /* An image overlay; spec = {url, bounds, opacity}. */
  function image(spec) {
    return L.imageOverlay(spec.url, spec.bounds, { opacity: spec.opacity, pane: spec.pane });
  }

  return {
    POPUP: POPUP, data: data, bytes: bytes, varints: varints, escapeHtml: escapeHtml, text: text, table: table, bind: bind, unpack: unpack,
    layer: layer, labels: labels, control: control, title: title, panes: panes, tiles: tiles,
    image: image
  };
})();
