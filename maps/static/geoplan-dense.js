/* Dense layers (maps/dense.py): a generalized overview below detailZoom and,
   from there on, every feature at full resolution, drawn on canvas tiles
   from typed arrays. A cell's chunk is inflated (DecompressionStream) only
   when a tile, a click or a search needs it; hit-testing runs on the
   decoded arrays, never on DOM objects. Ids are inflated when first used. */
(function (geoplan) {
  "use strict";

  var TILE = 256;

  var bytes = geoplan.bytes;

  /* Inflate deflated data (base85 text) to an ArrayBuffer (the browser's decompressor). */
  function inflate(text) {
    var stream = new Blob([bytes(text)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  geoplan.inflate = inflate;

  /* LEB128 varints; signed() reads zigzag differences and sums them. */
  function Reader(buffer) { this.b = new Uint8Array(buffer); this.i = 0; }
  Reader.prototype.next = function () {
    var b = this.b, value = 0, scale = 1, c;
    do { c = b[this.i++]; value += (c & 127) * scale; scale *= 128; } while (c & 128);
    return value;
  };
  Reader.prototype.offsets = function (n) {
    var out = new Int32Array(n + 1);
    for (var k = 0; k < n; k++) out[k + 1] = out[k] + this.next();
    return out;
  };
  Reader.prototype.signed = function (n) {
    var out = new Int32Array(n), sum = 0;
    for (var k = 0; k < n; k++) {
      var u = this.next();
      sum += u % 2 ? -(u + 1) / 2 : u / 2;
      out[k] = sum;
    }
    return out;
  };

  function mercX(lon) { return (lon + 180) / 360 * TILE; }
  function mercY(lat) {
    var s = Math.sin(lat * Math.PI / 180);
    return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE;
  }

  /* A chunk as arrays: number (feature numbers), style, parts/rings/verts
     (offsets), x, y (integers of 1/scale degree), mx, my (Web Mercator px at
     zoom 0, filled per feature by project()), box (west, south, east, north
     integers per feature) and mbox (its Web Mercator px). */
  function decode(buffer, scale) {
    var r = new Reader(buffer), n = r.next(), number = new Int32Array(n), sum = 0, k;
    for (k = 0; k < n; k++) { sum += r.next(); number[k] = sum; }
    var style = new Uint8Array(n);
    for (k = 0; k < n; k++) style[k] = r.next();
    var parts = r.offsets(n), rings = r.offsets(parts[n]), verts = r.offsets(rings[parts[n]]);
    var count = verts[verts.length - 1], x = r.signed(count), y = r.signed(count);
    var box = new Int32Array(4 * n), mbox = new Float64Array(4 * n);
    for (k = 0; k < n; k++) {
      var a = verts[rings[parts[k]]], b = verts[rings[parts[k + 1]]];
      var w = Infinity, s = Infinity, e = -Infinity, nn = -Infinity;
      for (var v = a; v < b; v++) {
        if (x[v] < w) w = x[v];
        if (x[v] > e) e = x[v];
        if (y[v] < s) s = y[v];
        if (y[v] > nn) nn = y[v];
      }
      box[4 * k] = w; box[4 * k + 1] = s; box[4 * k + 2] = e; box[4 * k + 3] = nn;
      mbox[4 * k] = mercX(w / scale); mbox[4 * k + 1] = mercY(nn / scale);
      mbox[4 * k + 2] = mercX(e / scale); mbox[4 * k + 3] = mercY(s / scale);
    }
    return { n: n, number: number, style: style, parts: parts, rings: rings, verts: verts, x: x,
      y: y, mx: new Float64Array(count), my: new Float64Array(count), box: box, mbox: mbox,
      scale: scale, projected: new Uint8Array(n) };
  }

  /* Fill mx, my of feature k once: most features of a city are below a pixel
     until zoomed in, and are drawn from their box alone. */
  function project(d, k) {
    if (d.projected[k]) return;
    d.projected[k] = 1;
    var a = d.verts[d.rings[d.parts[k]]], b = d.verts[d.rings[d.parts[k + 1]]];
    for (var v = a; v < b; v++) { d.mx[v] = mercX(d.x[v] / d.scale); d.my[v] = mercY(d.y[v] / d.scale); }
  }

  /* Ids packed as numbers (maps/dense.py pack_ids): zigzag differences, zero-padded to width. */
  function numbers(buffer, width) {
    var r = new Reader(buffer), out = [], sum = 0;
    while (r.i < r.b.length) {
      var u = r.next();
      sum += u % 2 ? -(u + 1) / 2 : u / 2;
      out.push(width ? String(sum).padStart(width, "0") : String(sum));
    }
    return out;
  }

  /* The state of one dense layer: its cells, decoded on demand. */
  function Dense(content) {
    var self = this;
    this.spec = content.spec;
    this.polygon = content.t === "polygon";
    this.scale = content.s;
    this.cells = content.cells.map(function (c) {
      return { w: c[0], s: c[1], e: c[2], n: c[3], count: c[4], chunk: c[5], data: null,
        pending: null, x0: mercX(c[0]), x1: mercX(c[2]), y0: mercY(c[3]), y1: mercY(c[1]) };
    });
    this.idsChunk = content.ids;
    this.cellOfChunk = content.cellOf;
    this.ids = null;
    this.decoded = function () {
      return self.cells.filter(function (c) { return c.data; }).length;
    };
  }

  Dense.prototype.cell = function (i) {
    var cell = this.cells[i], scale = this.scale;
    if (!cell.pending) {
      cell.pending = inflate(cell.chunk).then(function (buffer) {
        cell.data = decode(buffer, scale);
        return cell;
      });
    }
    return cell.pending;
  };

  /* Ids in feature order and the cell of each feature, inflated once. */
  Dense.prototype.index = function () {
    if (!this.ids && this.spec.findings) {
      this.ids = Promise.all([geoplan.findingsReady, inflate(this.cellOfChunk)])
        .then(function (got) {
          var r = new Reader(got[1]), cellOf = new Int32Array(geoplan.findingIds.length);
          for (var k = 0; k < cellOf.length; k++) cellOf[k] = r.next();
          return { ids: geoplan.findingIds, cellOf: cellOf };
        });
    }
    if (!this.ids) {
      var packed = this.idsChunk;
      this.ids = Promise.all([inflate(packed.t || packed.d), inflate(this.cellOfChunk)])
        .then(function (buffers) {
          var ids = packed.t ? new TextDecoder().decode(buffers[0]).split("\n")
            : numbers(buffers[0], packed.w), r = new Reader(buffers[1]);
          var cellOf = new Int32Array(ids.length);
          for (var k = 0; k < ids.length; k++) cellOf[k] = r.next();
          return { ids: ids, cellOf: cellOf };
        });
    }
    return this.ids;
  };

  /* Cells whose extent meets the Web Mercator rectangle (px at zoom 0). */
  Dense.prototype.cellsIn = function (x0, y0, x1, y1) {
    var out = [];
    this.cells.forEach(function (c, i) {
      if (c.x1 >= x0 && c.x0 <= x1 && c.y1 >= y0 && c.y0 <= y1) out.push(i);
    });
    return out;
  };

  /* Trace feature k of a chunk onto a canvas path (px = (m - origin) * zoomScale). */
  function trace(ctx, d, k, ox, oy, z, closed) {
    project(d, k);
    for (var p = d.parts[k]; p < d.parts[k + 1]; p++) {
      for (var r = d.rings[p]; r < d.rings[p + 1]; r++) {
        var a = d.verts[r], b = d.verts[r + 1];
        ctx.moveTo((d.mx[a] - ox) * z, (d.my[a] - oy) * z);
        for (var v = a + 1; v < b; v++) ctx.lineTo((d.mx[v] - ox) * z, (d.my[v] - oy) * z);
        if (closed) ctx.closePath();
      }
    }
  }

  /* Draw the features of the decoded cells on a tile canvas, one path per style. */
  Dense.prototype.draw = function (canvas, coords, cells) {
    var ctx = canvas.getContext("2d"), z = Math.pow(2, coords.z), spec = this.spec;
    var ox = coords.x * TILE / z, oy = coords.y * TILE / z, pad = 4 / z;
    var x0 = ox - pad, x1 = ox + TILE / z + pad, y0 = oy - pad, y1 = oy + TILE / z + pad;
    var self = this;
    spec.styles.forEach(function (style, s) {
      var seen = new Uint8Array(TILE * TILE);
      ctx.beginPath();
      var any = false;
      cells.forEach(function (cell) {
        var d = cell.data;
        for (var k = 0; k < d.n; k++) {
          if (d.style[k] !== s) continue;
          var m = d.mbox;
          if (m[4 * k + 2] < x0 || m[4 * k] > x1 || m[4 * k + 3] < y0 || m[4 * k + 1] > y1) continue;
          if (Math.max(m[4 * k + 2] - m[4 * k], m[4 * k + 3] - m[4 * k + 1]) * z < 1) {
            // below a pixel: that pixel, once (cheaper to draw, and what it would look like)
            if (spec.symbols) continue;
            var px = Math.floor((m[4 * k] - ox) * z), py = Math.floor((m[4 * k + 1] - oy) * z);
            if (px < 0 || py < 0 || px >= TILE || py >= TILE || seen[py * TILE + px]) continue;
            seen[py * TILE + px] = 1;
            ctx.rect(px, py, 1, 1);
          } else {
            trace(ctx, d, k, ox, oy, z, self.polygon);
          }
          any = true;
        }
      });
      if (!any) return;
      if (self.polygon && style.fill !== false) {
        ctx.globalAlpha = style.fillOpacity === undefined ? 0.2 : style.fillOpacity;
        ctx.fillStyle = style.fillColor || style.color;
        ctx.fill("evenodd");
      }
      ctx.globalAlpha = style.opacity === undefined ? 1 : style.opacity;
      ctx.strokeStyle = style.color;
      ctx.lineWidth = style.weight === undefined ? 1 : style.weight;
      ctx.setLineDash(style.dashArray ? String(style.dashArray).split(/[ ,]+/).map(Number) : []);
      ctx.stroke();
      if (spec.symbols) self.symbols(ctx, cells, s, ox, oy, z, style);
    });
  };

  var MIN_PX = 8; // a feature smaller than this on screen gets a symbol (spec.symbols)

  /* A dot on each feature of style s smaller than MIN_PX, so it shows at every zoom. */
  Dense.prototype.symbols = function (ctx, cells, s, ox, oy, z, style) {
    var grid = TILE / 4, taken = new Uint8Array(grid * grid); // one symbol per 4 px square
    ctx.setLineDash([]);
    ctx.beginPath();
    cells.forEach(function (cell) {
      var d = cell.data, m = d.mbox;
      for (var k = 0; k < d.n; k++) {
        if (d.style[k] !== s) continue;
        var w = (m[4 * k + 2] - m[4 * k]) * z, h = (m[4 * k + 3] - m[4 * k + 1]) * z;
        if (Math.max(w, h) >= MIN_PX) continue;
        var cx = ((m[4 * k] + m[4 * k + 2]) / 2 - ox) * z, cy = ((m[4 * k + 1] + m[4 * k + 3]) / 2 - oy) * z;
        if (cx < -6 || cy < -6 || cx > TILE + 6 || cy > TILE + 6) continue;
        var g = Math.min(grid - 1, Math.max(0, Math.floor(cy / 4))) * grid +
          Math.min(grid - 1, Math.max(0, Math.floor(cx / 4)));
        if (taken[g]) continue;
        taken[g] = 1;
        ctx.moveTo(cx + 4, cy);
        ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
      }
    });
    // the white rims first, so that crowded symbols merge into one red patch
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
    ctx.fillStyle = style.color;
    ctx.fill();
  };

  /* Whether (X, Y) (integers) is inside polygon feature k (even-odd over its rings). */
  function inside(d, k, X, Y) {
    var odd = false;
    for (var p = d.parts[k]; p < d.parts[k + 1]; p++) {
      for (var r = d.rings[p]; r < d.rings[p + 1]; r++) {
        var a = d.verts[r], b = d.verts[r + 1];
        for (var i = a, j = b - 1; i < b; j = i++) {
          if ((d.y[i] > Y) !== (d.y[j] > Y) &&
              X < (d.x[j] - d.x[i]) * (Y - d.y[i]) / (d.y[j] - d.y[i]) + d.x[i]) odd = !odd;
        }
      }
    }
    return odd;
  }

  /* Whether line feature k passes within `tol` Web Mercator px (zoom 0) of (px, py). */
  function near(d, k, px, py, tol) {
    project(d, k);
    for (var p = d.parts[k]; p < d.parts[k + 1]; p++) {
      for (var r = d.rings[p]; r < d.rings[p + 1]; r++) {
        for (var v = d.verts[r] + 1; v < d.verts[r + 1]; v++) {
          var a = L.point(d.mx[v - 1], d.my[v - 1]), b = L.point(d.mx[v], d.my[v]);
          if (L.LineUtil.pointToSegmentDistance(L.point(px, py), a, b) < tol) return true;
        }
      }
    }
    return false;
  }

  /* A feature as GeoJSON (its rings closed again). */
  Dense.prototype.geojson = function (d, k) {
    var scale = this.scale, polygons = [];
    for (var p = d.parts[k]; p < d.parts[k + 1]; p++) {
      var rings = [];
      for (var r = d.rings[p]; r < d.rings[p + 1]; r++) {
        var ring = [];
        for (var v = d.verts[r]; v < d.verts[r + 1]; v++) ring.push([d.x[v] / scale, d.y[v] / scale]);
        if (this.polygon) ring.push(ring[0]);
        rings.push(ring);
      }
      polygons.push(this.polygon ? rings : rings[0]);
    }
    return { type: "Feature", properties: {},
      geometry: { type: this.polygon ? "MultiPolygon" : "MultiLineString", coordinates: polygons } };
  };

  /* The popup fields of feature k of a decoded cell (ids must be inflated). */
  Dense.prototype.props = function (index, d, k) {
    var spec = this.spec, out = {};
    if (spec.findings) return geoplan.findingProps(d.number[k]);
    out[spec.title] = spec.kindTitle;
    out["编号"] = index.ids[d.number[k]];
    if (spec.classField && d.style[k] > 0) out[spec.classField] = spec.classes[d.style[k] - 1];
    return out;
  };

  /* Every feature under latlng: a Promise of [{title, props, fields, geojson()}]. */
  Dense.prototype.hits = function (map, latlng) {
    var self = this, lon = latlng.lng, lat = latlng.lat, X = lon * this.scale, Y = lat * this.scale;
    var px = mercX(lon), py = mercY(lat), tol = 5 / Math.pow(2, map.getZoom());
    var wanted = this.cellsIn(px - tol, py - tol, px + tol, py + tol);
    var margin = this.polygon ? 0 : (tol / TILE) * 360 * this.scale * 4;
    return Promise.all([this.index()].concat(wanted.map(function (i) { return self.cell(i); })))
      .then(function (got) {
        var index = got[0], out = [];
        got.slice(1).forEach(function (cell) {
          var d = cell.data;
          for (var k = 0; k < d.n; k++) {
            if (X < d.box[4 * k] - margin || X > d.box[4 * k + 2] + margin ||
                Y < d.box[4 * k + 1] - margin || Y > d.box[4 * k + 3] + margin) continue;
            if (self.polygon ? !inside(d, k, X, Y) : !near(d, k, px, py, tol)) continue;
            out.push(self.item(index, d, k));
          }
        });
        return out;
      });
  };

  Dense.prototype.item = function (index, d, k) {
    var self = this, props = this.props(index, d, k);
    var title = this.spec.findings ? props[this.spec.title] : props["编号"] || this.spec.kindTitle;
    return { title: title, props: props, fields: this.spec.fields,
      number: d.number[k], geojson: function () { return self.geojson(d, k); } };
  };

  /* Feature `number`: a Promise of its item and bounds. */
  Dense.prototype.feature = function (number) {
    var self = this;
    return this.index().then(function (index) {
      return self.cell(index.cellOf[number]).then(function (cell) {
        var d = cell.data, lo = 0, hi = d.n - 1;
        while (lo < hi) {
          var mid = (lo + hi) >> 1;
          if (d.number[mid] < number) lo = mid + 1; else hi = mid;
        }
        if (d.number[lo] !== number) return null;
        var s = self.scale, b = d.box;
        return { item: self.item(index, d, lo), bounds: L.latLngBounds(
          [b[4 * lo + 1] / s, b[4 * lo] / s], [b[4 * lo + 3] / s, b[4 * lo + 2] / s]) };
      });
    });
  };

  var DetailTiles = L.GridLayer.extend({
    // Tiles appear at once: a fade repaints the whole map for a dozen frames per tile.
    _tileReady: function (coords, err, tile) {
      var fade = this._map._fadeAnimated;
      this._map._fadeAnimated = false;
      try {
        return L.GridLayer.prototype._tileReady.call(this, coords, err, tile);
      } finally {
        this._map._fadeAnimated = fade;
      }
    },
    createTile: function (coords, done) {
      var canvas = L.DomUtil.create("canvas", "leaflet-tile"), dense = this.options.dense;
      canvas.width = TILE;
      canvas.height = TILE;
      var z = Math.pow(2, coords.z), x0 = coords.x * TILE / z, y0 = coords.y * TILE / z;
      var wanted = dense.cellsIn(x0, y0, x0 + TILE / z, y0 + TILE / z);
      Promise.all(wanted.map(function (i) { return dense.cell(i); })).then(function (cells) {
        dense.draw(canvas, coords, cells);
        done(null, canvas);
      }, function (error) { done(error, canvas); });
      return canvas;
    }
  });

  /* A dense layer: content = {spec, t, s, cells, ids, cellOf, overview (packed)}.
     The overview (geoplan.layer) is on the map below spec.detailZoom, the
     detail tiles from there on. */
  geoplan.dense = function (content) {
    var spec = content.spec, dense = new Dense(content);
    var overview = content.overview ? geoplan.layer({ features: content.overview, spec: spec.overview })
      : L.layerGroup();
    // minZoom would limit the map's zoom: the tiles leave the group instead.
    var tiles = new DetailTiles({ dense: dense, pane: spec.pane, maxZoom: 22, tileSize: TILE,
      updateWhenZooming: false, keepBuffer: 1 });
    var group = L.layerGroup(), map = null;
    function swap(out, into) {
      if (group.hasLayer(out)) group.removeLayer(out);
      if (!group.hasLayer(into)) group.addLayer(into);
    }
    function update() {
      if (!map) return;
      if (map.getZoom() < spec.detailZoom) swap(tiles, overview);
      else swap(overview, tiles);
    }
    group.on("add", function () { map = group._map; map.on("zoomend", update); update(); });
    group.on("remove", function () {
      if (map) map.off("zoomend", update);
      map = null;
    });
    group.geoplanDense = dense;
    group.geoplanOverview = overview;
    group.geoplanTiles = tiles;
    return group;
  };
})(geoplan);
