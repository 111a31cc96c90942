/* Search (id="geoplan-search") over township and county names, the names and
   ids of every layer's features, the ids of patches drawn merged (packed
   index, deflated) and conflict ids; identify-all: a click lists every
   feature and conflict under the point, by layer. The point-in-polygon
   test is done here on the drawn rings, as Leaflet delivers a click only to
   the top path. */
(function (geoplan) {
  "use strict";

  var highlightLayer = null;

  /* Outline a GeoJSON geometry or feature above everything. */
  geoplan.highlight = function (map, geojson) {
    if (highlightLayer) map.removeLayer(highlightLayer);
    highlightLayer = L.geoJson(geojson, {
      pane: "markerPane", interactive: false,
      style: function () { return { color: "#00e5ff", weight: 4, fill: false, opacity: 1 }; }
    }).addTo(map);
    geoplan.highlighted = highlightLayer;
  };

  /* Whether a latlng lies in a Leaflet polygon (even-odd over every ring). */
  function inRings(rings, lat, lng) {
    var inside = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a.lat > lat) !== (b.lat > lat) &&
            lng < (b.lng - a.lng) * (lat - a.lat) / (b.lat - a.lat) + a.lng) inside = !inside;
      }
    });
    return inside;
  }

  /* The polygons of a path as arrays of rings. */
  function polygons(path) {
    var rings = path.getLatLngs();
    if (!rings.length) return [];
    if (L.LineUtil.isFlat(rings)) return [[rings]];
    if (L.LineUtil.isFlat(rings[0])) return [rings];
    return rings;
  }

  function hits(map, path, latlng) {
    if (!path.getBounds || !path.getBounds().pad(0.02).contains(latlng)) return null;
    if (path instanceof L.Polygon) {
      var found = polygons(path).filter(function (rings) {
        return inRings(rings, latlng.lat, latlng.lng);
      });
      return found.length ? found : null;
    }
    if (path instanceof L.Polyline) {
      var p = map.latLngToLayerPoint(latlng), lines = path.getLatLngs();
      if (L.LineUtil.isFlat(lines)) lines = [lines];
      for (var k = 0; k < lines.length; k++) {
        for (var i = 1; i < lines[k].length; i++) {
          var a = map.latLngToLayerPoint(lines[k][i - 1]), b = map.latLngToLayerPoint(lines[k][i]);
          if (L.LineUtil.pointToSegmentDistance(p, a, b) < 5) return [];
        }
      }
    }
    return null;
  }

  function props(path, spec) {
    var own = path.feature.properties || {};
    return spec.shared ? Object.assign({}, spec.shared[own._r], own) : own;
  }

  /* Every feature of the visible vector layers under latlng, by layer: a
     Promise (dense layers are hit-tested on their decoded chunks). */
  geoplan.identify = function (map, latlng) {
    var found = geoplan.registry.map(function (entry) {
      if (!map.hasLayer(entry.layer)) return null;
      if (entry.layer.geoplanDense) {
        return entry.layer.geoplanDense.hits(map, latlng).then(function (items) {
          return items.length ? { name: entry.name, kind: entry.kind, items: items } : null;
        });
      }
      if (!entry.layer.geoplanSpec) return null;
      var spec = entry.layer.geoplanSpec, items = [];
      entry.layer.eachLayer(function (path) {
        if (hits(map, path, latlng)) {
          var p = props(path, spec);
          items.push({ title: p[spec.title] || spec.title, props: p, fields: spec.fields,
            geojson: function () { return path.toGeoJSON(); } });
        }
      });
      return items.length ? { name: entry.name, kind: entry.kind, items: items } : null;
    });
    return Promise.all(found).then(function (groups) {
      return groups.filter(Boolean).reverse(); // top layers first
    });
  };

  function identifyPanel(map) {
    var box = document.createElement("details");
    box.className = "geoplan-identify geoplan-panel";
    var summary = geoplan.text("summary", "查询结果（点击地图）");
    box.appendChild(summary);
    var list = document.createElement("div");
    box.appendChild(list);
    geoplan.control(map, box, "topright");
    // "preclick": a path's popup stops the click itself from reaching the map.
    var clicks = 0;
    map.on("preclick", function (e) {
      if (geoplan.measuring) return;
      var click = ++clicks;
      geoplan.identified = [e.latlng.lat, e.latlng.lng];
      geoplan.identifiedReady = geoplan.identify(map, e.latlng).then(function (groups) {
        if (click === clicks) show(groups);
      });
    });
    function show(groups) {
      while (list.lastChild) list.removeChild(list.lastChild);
      var n = 0;
      groups.forEach(function (group) {
        list.appendChild(geoplan.text("h4", group.name + "（" + group.items.length + "）"));
        group.items.forEach(function (item) {
          n++;
          var entry = document.createElement("details");
          entry.className = "geoplan-identify-item";
          if (item.props["冲突编号"]) entry.dataset.identifyConflict = item.props["冲突编号"];
          entry.appendChild(geoplan.text("summary", item.title));
          entry.appendChild(geoplan.table(item.props, "", item.fields));
          entry.addEventListener("mouseenter", function () {
            geoplan.highlight(map, item.geojson());
          });
          list.appendChild(entry);
        });
      });
      summary.textContent = "查询结果（" + n + " 项）";
      if (!n) list.appendChild(geoplan.text("div", "此处没有要素"));
      box.open = n > 0;
    }
  }

  function layerOfKind(kind) {
    return geoplan.registry.filter(function (entry) { return entry.kind === kind; })[0];
  }

  /* Search entries: {text (matched), label, where, go()}. */
  function featureEntries(map) {
    var out = [], counties = {};
    geoplan.registry.forEach(function (entry) {
      var spec = entry.layer.geoplanSpec;
      if (!spec) return;
      if (entry.kind.indexOf("conflicts:") === 0) return; // from the findings' table
      entry.layer.eachLayer(function (path) {
        var p = props(path, spec);
        function go() { zoomTo(map, entry, path); }
        var where = entry.kind === "townships" ? "乡镇" : entry.kind === "counties" ? "县区" : entry.name;
        if (p["名称"] && p["图斑数"] === undefined) {
          out.push({ text: p["名称"], label: p["名称"], where: where, go: go });
        }
        if (p["编号"]) out.push({ text: p["编号"], label: p["编号"], where: where, go: go });
        if (entry.kind === "townships" && p["县区"]) counties[p["县区"]] = true;
      });
    });
    var known = {};
    out.forEach(function (e) { if (e.where === "县区") known[e.text] = true; });
    Object.keys(counties).forEach(function (name) {
      if (known[name]) return;
      out.push({ text: name, label: name, where: "县区", go: function () { zoomToCounty(map, name); } });
    });
    return out;
  }

  function zoomTo(map, entry, path) {
    if (!map.hasLayer(entry.layer)) map.addLayer(entry.layer);
    map.fitBounds(path.getBounds(), { maxZoom: 16, padding: [30, 30], animate: false });
    geoplan.highlight(map, path.toGeoJSON());
  }

  function zoomToCounty(map, name) {
    var township = layerOfKind("townships"), bounds = null, shapes = [];
    township.layer.eachLayer(function (path) {
      if (path.feature.properties["县区"] !== name) return;
      bounds = bounds ? bounds.extend(path.getBounds()) : L.latLngBounds(path.getBounds());
      shapes.push(path.toGeoJSON());
    });
    if (!bounds) return;
    map.fitBounds(bounds, { padding: [30, 30], animate: false });
    geoplan.highlight(map, { type: "FeatureCollection", features: shapes });
  }

  /* The search entry of feature i of a dense layer: zoom to it, outline it, open its popup. */
  function patchEntry(map, set, i) {
    var entry = set.entry, id = set.ids[i];
    return { text: id, label: id, where: entry.name, go: function () {
      if (!map.hasLayer(entry.layer)) map.addLayer(entry.layer);
      return entry.layer.geoplanDense.feature(i).then(function (found) {
        if (!found) return;
        map.fitBounds(found.bounds, { maxZoom: 17, padding: [60, 60], animate: false });
        var shape = found.item.geojson();
        geoplan.highlight(map, shape);
        var props = Object.assign({ "图斑编号": id }, found.item.props);
        L.popup(geoplan.POPUP).setLatLng(found.bounds.getCenter())
          .setContent(geoplan.table(props, entry.name, ["图斑编号"].concat(found.item.fields
            .filter(function (f) { return f !== "编号"; })))).openOn(map);
      });
    } };
  }

  /* Up to `limit` entries whose text starts with q, then those containing it. */
  function find(map, entries, sets, q, limit) {
    var starts = [], contains = [];
    function test(text, make) {
      var at = String(text).toLowerCase().indexOf(q);
      if (at === 0) starts.push(make());
      else if (at > 0 && contains.length < limit) contains.push(make());
    }
    for (var i = 0; i < entries.length && starts.length < limit; i++) {
      test(entries[i].text, function () { return entries[i]; });
    }
    sets.forEach(function (set) {
      for (var k = 0; k < set.ids.length && starts.length < limit; k++) {
        test(set.ids[k], function () { return patchEntry(map, set, k); });
      }
    });
    return starts.concat(contains).slice(0, limit);
  }

  /* The ids of the dense layers, inflated when first searched. */
  var sets = null;
  function patchSets(entries) {
    if (!sets) {
      var findings = (geoplan.findingsReady || Promise.resolve()).then(function () {
        (geoplan.findingRows || []).forEach(function (row) {
          entries.push({ text: row[0], label: row[0], where: "冲突：" + row[2],
            go: function () { return geoplan.showFinding(row[0]); } });
        });
        return [];
      });
      sets = Promise.all([findings].concat(geoplan.registry.filter(function (entry) {
        return entry.layer.geoplanDense;
      }).map(function (entry) {
        return entry.layer.geoplanDense.index().then(function (index) {
          return [{ entry: entry, ids: index.ids }];
        });
      }))).then(function (lists) { return [].concat.apply([], lists); });
    }
    return sets;
  }

  geoplan.search = function (map) {
    // Built when first searched: reading every layer at load would make the hidden ones.
    var entries = null;
    function all() { return entries || (entries = featureEntries(map)); }
    geoplan.searchIndex = function () { return patchSets(all()); };
    var box = document.createElement("div");
    box.className = "geoplan-search";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "geoplan-search";
    input.placeholder = "搜索乡镇、县区、图斑编号、名称、冲突编号";
    input.setAttribute("aria-label", "搜索");
    var results = document.createElement("ul");
    box.appendChild(input);
    box.appendChild(results);
    var matches = [];
    function choose(item) {
      while (results.lastChild) results.removeChild(results.lastChild);
      input.value = item.label;
      item.go();
    }
    function list(q, ready) {
      while (results.lastChild) results.removeChild(results.lastChild);
      if (!q || q !== input.value.trim().toLowerCase()) return;
      matches = find(map, all(), ready, q, 12);
      matches.forEach(function (item) {
        var li = geoplan.text("li", item.label);
        li.appendChild(geoplan.text("small", item.where));
        li.addEventListener("click", function (e) {
          // The entry leaves the DOM: stop here, or the map takes the click as its own.
          L.DomEvent.stop(e);
          choose(item);
        });
        results.appendChild(li);
      });
    }
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      list(q, []);
      geoplan.searched = patchSets(all()).then(function (ready) { list(q, ready); });
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && matches.length) choose(matches[0]);
    });
    geoplan.control(map, box, "topleft");
    identifyPanel(map);
  };
})(geoplan);
