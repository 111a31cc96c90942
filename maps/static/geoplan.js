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

  /* Popup and hover tooltip of one feature; spec = {title, fields, tooltip}. */
  function bind(feature, layer, spec) {
    var props = feature.properties || {};
    var title = props[spec.title] || spec.title;
    layer.bindPopup(function () {
      return table(props, title, spec.fields);
    }, { maxWidth: 460, minWidth: 240 });
    var tip = props[spec.tooltip];
    if (tip) {
      layer.bindTooltip(function () {
        return text("span", tip);
      }, { sticky: true, direction: "top" });
    }
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

  return { text: text, table: table, bind: bind, labels: labels, control: control };
})();
