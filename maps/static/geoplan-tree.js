/* The layer tree (overlays grouped as planners think: 三区 / 三线 / 自然保护地 /
   园区 / 现状 / 冲突, each group foldable with its opacity) and the legend,
   which lists only the layers on the map. Names and labels reach the DOM as
   text; Leaflet's control gets them escaped. */
(function (geoplan) {
  "use strict";

  /* Every layer of the layer control: {layer, name, group, kind, overlay}. */
  geoplan.registry = [];

  function find(list, title) {
    for (var i = 0; i < list.length; i++) if (list[i].title === title) return list[i];
    return null;
  }

  /* Leaflet's layer control, its overlays moved into one <details> per group. */
  var Tree = L.Control.Layers.extend({
    // Its height is fitted to the map in the next frame: measuring it while the
    // page is being built would lay the whole page out an extra time.
    expand: function () {
      var self = this;
      L.DomUtil.addClass(this._container, "leaflet-control-layers-expanded");
      requestAnimationFrame(function () {
        if (self._map) L.Control.Layers.prototype.expand.call(self);
      });
      return this;
    },
    _update: function () {
      L.Control.Layers.prototype._update.call(this);
      if (!this._container || !this._geoplan) return this;
      var spec = this._geoplan, list = this._overlaysList, labels = list.children;
      var byStamp = {}, boxes = {};
      spec.entries.forEach(function (entry) { byStamp[L.stamp(entry.layer)] = entry; });
      var moved = [];
      for (var i = 0; i < labels.length; i++) moved.push(labels[i]);
      this._layers.filter(function (item) { return item.overlay; }).forEach(function (item, k) {
        var entry = byStamp[L.stamp(item.layer)], label = moved[k];
        if (!entry || !label) return;
        var group = find(spec.groups, entry.group);
        if (!boxes[entry.group]) boxes[entry.group] = groupBox(spec, group);
        boxes[entry.group].appendChild(label);
      });
      spec.groups.forEach(function (group) {
        if (boxes[group.title]) list.appendChild(boxes[group.title]);
      });
      return this;
    }
  });

  function groupBox(spec, group) {
    var box = document.createElement("details");
    box.className = "geoplan-tree-group";
    box.open = !spec.folded[group.title];
    box.addEventListener("toggle", function () { spec.folded[group.title] = !box.open; });
    box.appendChild(geoplan.text("summary", group.title));
    var row = geoplan.text("div", "透明度", "geoplan-opacity");
    var slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "100";
    slider.value = String(Math.round(100 * (spec.opacity[group.title] === undefined
      ? 1 : spec.opacity[group.title])));
    slider.setAttribute("aria-label", group.title + " 透明度");
    slider.dataset.group = group.title;
    slider.addEventListener("input", function () {
      spec.opacity[group.title] = Number(slider.value) / 100;
      spec.map.getPane(group.pane).style.opacity = String(spec.opacity[group.title]);
    });
    row.appendChild(slider);
    box.appendChild(row);
    return box;
  }

  /* The legend: per group, the rows of its layers on the map. */
  function legendBox(map, spec) {
    var box = document.createElement("details");
    box.className = "geoplan-legend";
    box.open = map.getSize().y > 700;
    function update() {
      while (box.lastChild) box.removeChild(box.lastChild);
      box.appendChild(geoplan.text("summary", spec.summary));
      visibleLegend(map, spec).forEach(function (section) {
        box.appendChild(geoplan.text("h4", section.heading));
        section.layers.forEach(function (legend) {
          if (legend.heading) box.appendChild(geoplan.text("h5", legend.heading));
          legend.rows.forEach(function (entry) {
            var row = document.createElement("div");
            var swatch = document.createElement("i");
            if (entry[2]) swatch.className = "line";
            Object.keys(entry[1]).forEach(function (key) { swatch.style[key] = entry[1][key]; });
            row.appendChild(swatch);
            row.appendChild(document.createTextNode(entry[0]));
            box.appendChild(row);
          });
        });
      });
    }
    map.on("layeradd layerremove", function (e) {
      if (e.layer && e.layer.geoplanEntry) update();
    });
    update();
    geoplan.control(map, box, "bottomleft");
  }

  /* [{heading, layers: [legend]}] of the layers on the map, in tree order (top first). */
  function visibleLegend(map, spec) {
    var out = [];
    spec.groups.slice().reverse().forEach(function (group) {
      var layers = geoplan.registry.filter(function (entry) {
        return entry.group === group.title && entry.legend && map.hasLayer(entry.layer);
      }).reverse().map(function (entry) { return entry.legend; });
      if (layers.length) out.push({ heading: group.heading, layers: layers });
    });
    return out;
  }

  /* The layer tree and legend over the map's layers (in order); spec =
     {summary, groups: [{title, pane, heading}], layers: [{name, overlay,
     group, kind, legend}]}. Returns the layers by name as {base_layers, overlays}. */
  geoplan.layerControl = function (map, layers, spec) {
    var byName = { base_layers: {}, overlays: {} };
    var state = {
      map: map, groups: spec.groups, entries: [], folded: {}, opacity: {}
    };
    var box = new Tree(null, null, { collapsed: false });
    box._geoplan = state;
    spec.layers.forEach(function (entry, i) {
      var item = {
        layer: layers[i], name: entry.name, group: entry.group, kind: entry.kind,
        overlay: entry.overlay, legend: entry.legend
      };
      layers[i].geoplanEntry = item;
      geoplan.registry.push(item);
      state.entries.push(item);
      if (entry.overlay) {
        box.addOverlay(layers[i], geoplan.escapeHtml(entry.name));
        byName.overlays[entry.name] = layers[i];
      } else {
        box.addBaseLayer(layers[i], geoplan.escapeHtml(entry.name));
        byName.base_layers[entry.name] = layers[i];
      }
    });
    geoplan.legendSpec = spec;
    legendBox(map, spec);
    box.addTo(map);
    foldable(map, box.getContainer(), "图层");
    return byName;
  };

  geoplan.visibleLegend = function (map) { return visibleLegend(map, geoplan.legendSpec); };

  /* A heading that folds a control's content; folded at first on small screens. */
  function foldable(map, container, title) {
    var head = geoplan.text("button", title + " ▾", "geoplan-fold");
    head.type = "button";
    container.insertBefore(head, container.firstChild);
    function set(folded) {
      container.classList.toggle("geoplan-folded", folded);
      head.textContent = title + (folded ? " ▸" : " ▾");
    }
    head.addEventListener("click", function () {
      set(!container.classList.contains("geoplan-folded"));
    });
    set(map.getSize().y < 800);
  }
  geoplan.foldable = foldable;
})(geoplan);
