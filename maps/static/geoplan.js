/* geoplan map helpers. Every value from the data reaches the page through
   textContent, never innerHTML: a field holding markup shows as text. */
var geoplan = (function () {
  "use strict";

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

  /* Popup and hover tooltip of one feature; spec = {title, fields, tooltip, shared}. */
  function bind(feature, layer, spec) {
    var own = feature.properties || {};
    var props = spec.shared ? Object.assign({}, spec.shared[own._r], own) : own;
    var title = props[spec.title] || spec.title;
    layer.bindPopup(function () {
      return table(props, title, spec.fields);
    }, { maxWidth: 460, minWidth: 240 });
    var tip = [].concat(spec.tooltip).map(function (key) { return props[key]; })
      .filter(Boolean).join(" · ");
    if (tip) {
      layer.bindTooltip(function () {
        return text("span", tip);
      }, { sticky: true, direction: "top" });
    }
  }

  /* Packed features (maps/packing.py) back to a GeoJSON FeatureCollection. */
  function unpack(data) {
    var n = data.xy.length / 2, items = new Array(n), x = 0, y = 0, i, k;
    for (i = 0; i < n; i++) {
      x += data.xy[2 * i];
      y += data.xy[2 * i + 1];
      items[i] = [x / data.s, y / data.s];
    }
    data.o.forEach(function (offsets) {
      var grouped = new Array(offsets.length - 1);
      for (k = 0; k < offsets.length - 1; k++) grouped[k] = items.slice(offsets[k], offsets[k + 1]);
      items = grouped;
    });
    return {
      type: "FeatureCollection",
      features: items.map(function (coordinates, k) {
        return {
          type: "Feature",
          properties: data.p[k],
          geometry: { type: data.t, coordinates: coordinates }
        };
      })
    };
  }

  /* A packed overlay: styles by the feature's _s, popups, tooltips, highlight. */
  function layer(data, spec) {
    var group = L.geoJson(null, {
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
    group.addData(unpack(data));
    return group;
  }

  /* Permanent labels, shown from minZoom on. */
  function labels(map, group, rows, minZoom) {
    rows.forEach(function (row) {
      L.marker([row[0], row[1]], {
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: "geoplan-label", html: text("span", row[2]), iconSize: null })
      }).addTo(group);
    });
    function update() {
      map.getContainer().classList.toggle("geoplan-labels-hidden", map.getZoom() < minZoom);
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

  return {
    text: text, table: table, bind: bind, unpack: unpack, layer: layer, labels: labels,
    control: control
  };
})();
