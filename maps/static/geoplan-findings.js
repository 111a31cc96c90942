/* The findings panel: every conflict, grouped by severity and ordered by
   area, filtered by severity, rule, county and township (with counts); an
   entry (data-conflict-id) zooms to its conflict and opens its popup.
   Prohibited conflicts smaller than a few pixels get a symbol, so they show
   at every zoom. */
(function (geoplan) {
  "use strict";

  var MIN_PX = 8; // a prohibited conflict smaller than this on screen gets a symbol
  var PAGE = 1000; // entries listed at a time (a city can have tens of thousands)
  var FILTERS = [["severity", 1, "严重程度"], ["rule", 2, "规则"], ["county", 3, "县区"],
    ["township", 4, "乡镇"]];

  /* Where a findings row's conflict is drawn: {path, entry} in a vector
     layer, or {number, entry} in a dense layer (maps/dense.py), whose
     feature numbers are the rows' places in the table. */
  function conflictPaths() {
    var vector = {}, dense = {};
    geoplan.registry.forEach(function (entry) {
      if (entry.kind.indexOf("conflicts:") !== 0) return;
      if (entry.layer.geoplanDense) {
        dense[entry.kind.slice("conflicts:".length)] = entry;
        return;
      }
      entry.layer.eachLayer(function (path) {
        vector[path.feature.properties["冲突编号"]] = { path: path, entry: entry };
      });
    });
    return function (row) {
      return vector[row[0]] || (dense[row[1]] && { number: row[8], entry: dense[row[1]] });
    };
  }

  /* A column of the table: texts, {v: texts, i: index per row}, {v, of: key
     column, m: index per value of the key}, {p: templates [before, width,
     after], t: template per row, d: running differences of the numbers} or
     {hex: length, b: the bytes the hex texts spell, base85}. */
  function column(c, table) {
    if (Array.isArray(c)) return function (i) { return c[i]; };
    if (c.of) {
      var key = table.columns[c.of].i;
      return function (i) { return c.v[c.m[key[i]]]; };
    }
    if (c.p) { // maps.conflict_table._numbered
      var n = new Float64Array(c.d.length), sum = 0;
      for (var k = 0; k < c.d.length; k++) n[k] = sum += c.d[k];
      return function (i) {
        var p = c.p[c.t[i]], digits = String(n[i]);
        if (p[1] < 0) return p[0];
        while (digits.length < p[1]) digits = "0" + digits;
        return p[0] + digits + p[2];
      };
    }
    if (!c.hex) return function (i) { return c.v[c.i[i]]; };
    var raw = geoplan.bytes(c.b), width = c.hex / 2;
    return function (i) {
      var out = "";
      for (var j = i * width; j < (i + 1) * width; j++) out += (raw[j] < 16 ? "0" : "") + raw[j].toString(16);
      return out;
    };
  }

  /* The conflicts' table (maps/conflict_table.py) as findings rows [id,
     severity, rule, county, township, area_m2, lat, lon, number, 亩 in
     hundredths] in findings
     order (number: the row's place in the table) and popup
     fields; dense = {severity: its dense layer (geoplan-dense.js), whose
     points are read}: the points of its rows. */
  function readTable(table, dense) {
    var columns = {};
    table.fields.forEach(function (label) {
      if (table.columns[label]) columns[label] = column(table.columns[label], table);
    });
    if (table.idAfterRule) {
      var hash = columns["冲突编号"], ruleId = columns["规则编号"];
      columns["冲突编号"] = function (i) { return ruleId(i) + "-" + hash(i); };
    }
    var severity = column(table.severity), rows = new Array(table.area.length);
    var id = columns["冲突编号"], rule = columns["规则"], county = columns["县区"];
    var township = columns["乡镇"];
    // Hundredths of 亩 and of 公顷 as maps.popups.fmt_area writes them
    // (maps.conflict_table._areas).
    var mu = new Float64Array(rows.length), ha = new Float64Array(rows.length), i;
    for (i = 0; i < rows.length; i++) {
      mu[i] = Math.floor(table.area[i] * 0.15 + 0.5);
      ha[i] = Math.floor(table.area[i] / 100 + 0.5);
    }
    table.areaFix.forEach(function (f) { mu[f[0]] += f[1]; ha[f[0]] += f[2]; });
    var own = 0;
    for (i = 0; i < rows.length; i++) {
      var layer = table.pointsIn.indexOf(severity(i)) >= 0 && dense[severity(i)];
      var at = layer ? layer.point(i) : [table.lat[own] / table.s, table.lon[own++] / table.s];
      rows[i] = [id(i), severity(i), rule(i), county(i), township(i), table.area[i], at[0], at[1], i,
        mu[i]];
    }
    columns["面积"] = function (i) {
      return hundredths(mu[i], "en-US") + " 亩（" + hundredths(ha[i], "en-US") + " 公顷）";
    };
    geoplan.findingProps = function (i) {
      var out = {};
      table.fields.forEach(function (label) {
        var value = columns[label](i);
        if (value !== "" && value !== undefined) out[label] = value;
      });
      return out;
    };
    geoplan.findingIds = rows.map(function (row) { return row[0]; });
    // Stored by place and rule (maps.conflict_table.table_order); listed by
    // severity, then area, largest first (findings_order).
    var rank = rows.map(function (row) {
      var r = table.rank.indexOf(row[1]);
      return r < 0 ? table.rank.length : r;
    });
    rows.sort(function (a, b) { return rank[a[8]] - rank[b[8]] || b[5] - a[5] || a[8] - b[8]; });
    geoplan.findingRows = rows;
    return rows;
  }

  /* The areas (m²) of maps.conflict_table._areas: 8 byte planes, big-endian,
     of the integers of 10^-decimals m². */
  function areas(planes, decimals) {
    planes = new Uint8Array(planes);
    var n = planes.length / 8, out = new Float64Array(n), unit = Math.pow(10, decimals);
    for (var i = 0; i < n; i++) {
      var value = 0;
      for (var k = 0; k < 8; k++) value = value * 256 + planes[k * n + i];
      out[i] = value / unit;
    }
    return out;
  }

  /* An integer of hundredths as "1,234.56" (locale's grouping). */
  function hundredths(value, locale) {
    var whole = Math.floor(value / 100), part = value - whole * 100;
    return whole.toLocaleString(locale) + "." + (part < 10 ? "0" : "") + part;
  }

  /* Zoom to a conflict and open its popup; row = findings row. */
  function show(map, found, row) {
    if (!found) return;
    if (!map.hasLayer(found.entry.layer)) map.addLayer(found.entry.layer);
    if (found.number !== undefined) {
      return found.entry.layer.geoplanDense.feature(found.number).then(function (got) {
        if (!got) return;
        map.fitBounds(got.bounds, { maxZoom: 16, padding: [40, 40], animate: false });
        L.popup(geoplan.POPUP).setLatLng(L.latLng(row[6], row[7]))
          .setContent(geoplan.table(got.item.props, got.item.title, got.item.fields)).openOn(map);
        geoplan.highlight(map, got.item.geojson());
      });
    }
    map.fitBounds(found.path.getBounds(), { maxZoom: 16, padding: [40, 40], animate: false });
    found.path.openPopup(L.latLng(row[6], row[7]));
    geoplan.highlight(map, found.path.toGeoJSON());
  }

  /* After the first frame of the map: once the page has loaded and the canvas
     tiles in view (dense layers' and overviews') have been drawn (at most 5 s
     on) and painted, when the page is first idle (at most a second on). Idle
     time comes while the tiles' chunks inflate, and reading a city's table
     then (a sixth of a second) would delay them. */
  function afterPaint() {
    var loading = geoplan.registry.reduce(function (out, entry) {
      return out.concat([entry.layer.geoplanTiles, entry.layer.geoplanOverview]);
    }, []).filter(function (tiles) {
      return tiles && tiles._map && tiles.isLoading && tiles.isLoading();
    }).map(function (tiles) {
      return new Promise(function (resolve) { tiles.once("load", resolve); });
    });
    var loaded = document.readyState === "complete" ? Promise.resolve()
      : new Promise(function (resolve) { window.addEventListener("load", resolve, { once: true }); });
    var drawn = Promise.race([Promise.all(loading.concat([loaded])), new Promise(function (resolve) {
      setTimeout(resolve, 5000);
    })]);
    return drawn.then(function () {
      return new Promise(function (resolve) {
        // the frame after the tiles' is the one that paints them
        requestAnimationFrame(function () {
          requestAnimationFrame(function () {
            if (window.requestIdleCallback) requestIdleCallback(resolve, { timeout: 1000 });
            else setTimeout(resolve, 0);
          });
        });
      });
    });
  }

  /* spec = {severities: [[key, title]], count, table: deflated conflicts'
     table}. The panel is on the map at once; the table (the list, the
     findings' popups and search entries) is inflated after the first frame,
     and geoplan.findingsReady resolves when it has been read. */
  geoplan.findings = function (map, spec) {
    var dense = {};
    geoplan.registry.forEach(function (entry) {
      if (entry.kind.indexOf("conflicts:") === 0 && entry.layer.geoplanDense) {
        dense[entry.kind.slice("conflicts:".length)] = entry.layer.geoplanDense;
      }
    });
    var points = Object.keys(dense).map(function (key) { return dense[key].pointsReady; });
    var rows = afterPaint().then(function () {
      return Promise.all([geoplan.inflate(spec.table)].concat(points));
    }).then(function (got) {
      var table = JSON.parse(new TextDecoder().decode(got[0]));
      return geoplan.inflate(table.area.b).then(function (planes) {
        table.areaFix = table.area.fix;
        table.area = areas(planes, table.area.d);
        return readTable(table, dense);
      });
    });
    geoplan.findingsReady = panel(map, { severities: spec.severities, count: spec.count }, rows);
    return geoplan.findingsReady;
  };

  /* The panel; rows = a Promise of the findings rows. */
  function panel(map, spec, rows) {
    var where = conflictPaths(), titles = {};
    spec.severities.forEach(function (s) { titles[s[0]] = s[1]; });
    var box = document.createElement("details");
    box.className = "geoplan-findings geoplan-panel";
    box.appendChild(geoplan.text("summary", "冲突清单（" + spec.count + " 处）"));
    var filters = document.createElement("div");
    filters.className = "geoplan-filters";
    var selects = {};
    FILTERS.forEach(function (filter) {
      var select = document.createElement("select");
      select.name = filter[0];
      select.setAttribute("aria-label", filter[2]);
      selects[filter[0]] = select;
      filters.appendChild(select);
    });
    box.appendChild(filters);
    var count = geoplan.text("div", "", "geoplan-findings-count");
    box.appendChild(count);
    var list = document.createElement("div");
    list.className = "geoplan-findings-list";
    box.appendChild(list);

    function chosen(row, except) {
      return FILTERS.every(function (filter) {
        var value = selects[filter[0]].value;
        return filter[0] === except || value === "" || row[filter[1]] === value;
      });
    }

    function fillSelect(filter) {
      var select = selects[filter[0]], current = select.value, counts = {}, order = [];
      spec.rows.forEach(function (row) {
        if (!chosen(row, filter[0])) return;
        var value = row[filter[1]];
        if (!(value in counts)) { counts[value] = 0; order.push(value); }
        counts[value]++;
      });
      if (filter[0] !== "severity") order.sort(function (a, b) { return a.localeCompare(b, "zh-CN"); });
      while (select.lastChild) select.removeChild(select.lastChild);
      var total = order.reduce(function (n, v) { return n + counts[v]; }, 0);
      var all = geoplan.text("option", "全部" + filter[2] + "（" + total + "）");
      all.value = "";
      select.appendChild(all);
      if (current && !(current in counts)) { counts[current] = 0; order.push(current); }
      order.forEach(function (value) {
        var label = filter[0] === "severity" ? titles[value] : value || "（空）";
        var option = geoplan.text("option", label + "（" + counts[value] + "）");
        option.value = value;
        select.appendChild(option);
      });
      select.value = current;
    }

    var limit = PAGE;
    function render(more) {
      limit = more ? limit + PAGE : PAGE;
      FILTERS.forEach(fillSelect);
      while (list.lastChild) list.removeChild(list.lastChild);
      var shown = spec.rows.filter(function (row) { return chosen(row, null); });
      count.textContent = "显示 " + shown.length + " / " + spec.rows.length + " 处";
      var heading = null, bySeverity = {};
      shown.forEach(function (row) { bySeverity[row[1]] = (bySeverity[row[1]] || 0) + 1; });
      shown.slice(0, limit).forEach(function (row) {
        if (row[1] !== heading) {
          heading = row[1];
          list.appendChild(geoplan.text("h4",
            (titles[heading] || heading) + "（" + bySeverity[heading] + " 处）"));
        }
        var item = document.createElement("div");
        item.className = "geoplan-finding geoplan-severity-" + row[1];
        item.dataset.conflictId = row[0];
        item.tabIndex = 0;
        item.appendChild(geoplan.text("span", row[2], "geoplan-finding-rule"));
        item.appendChild(geoplan.text("small", [row[3], row[4], hundredths(row[9], "zh-CN") + " 亩"]
          .filter(Boolean).join(" · ")));
        item.addEventListener("click", function () { show(map, where(row), row); });
        item.addEventListener("keydown", function (e) {
          if (e.key === "Enter") show(map, where(row), row);
        });
        list.appendChild(item);
      });
      if (shown.length > limit) {
        var next = geoplan.text("button", "再列出 " + Math.min(PAGE, shown.length - limit) +
          " 处（共 " + shown.length + " 处）", "geoplan-more");
        next.type = "button";
        next.addEventListener("click", function () { render(true); });
        list.appendChild(next);
      }
    }
    FILTERS.forEach(function (filter) {
      selects[filter[0]].addEventListener("change", function () { render(false); });
    });
    // The list and its filters are built when the panel is first opened: a
    // city's tens of thousands of findings would hold up the first draw.
    var built = false;
    // The open list reaches down to the legend's corner: fold the legend meanwhile.
    box.addEventListener("toggle", function () {
      if (!box.open) return;
      rows.then(function () {
        if (!built) { built = true; render(false); }
      });
      var legend = map.getContainer().querySelector(".geoplan-legend");
      if (legend) legend.open = false;
    });
    geoplan.control(map, box, "topleft");
    return rows.then(function (got) {
      spec.rows = got;
      symbols(map, spec, where);
      geoplan.showFinding = function (id) {
        var row = spec.rows.filter(function (r) { return r[0] === id; })[0];
        return row ? show(map, where(row), row) : undefined;
      };
    });
  }

  /* A symbol on each prohibited conflict while it is smaller than MIN_PX. */
  function symbols(map, spec, where) {
    var group = L.layerGroup().addTo(map);
    var items = spec.rows.filter(function (row) {
      var found = row[1] === "prohibited" && where(row);
      return found && found.path;
    }).map(function (row) {
      var found = where(row);
      var marker = L.circleMarker([row[6], row[7]], {
        pane: found.entry.layer.options.pane, radius: 5, weight: 1.5, color: "#ffffff",
        fillColor: found.path.options.color || "#d7191c", fillOpacity: 1
      });
      marker.bindTooltip(function () { return geoplan.text("span", row[2]); },
        { direction: "top" });
      marker.on("click", function () { show(map, found, row); });
      marker.geoplanConflictId = row[0];
      return { marker: marker, found: found };
    });
    function update() {
      items.forEach(function (item) {
        var bounds = item.found.path.getBounds();
        var a = map.latLngToContainerPoint(bounds.getSouthWest());
        var b = map.latLngToContainerPoint(bounds.getNorthEast());
        var small = Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y)) < MIN_PX;
        var want = small && map.hasLayer(item.found.entry.layer);
        if (want && !group.hasLayer(item.marker)) group.addLayer(item.marker);
        if (!want && group.hasLayer(item.marker)) group.removeLayer(item.marker);
      });
    }
    map.on("zoomend overlayadd overlayremove", update);
    update();
    geoplan.findingSymbols = group;
  }
})(geoplan);
