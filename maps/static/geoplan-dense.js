/* Dense layers (maps/dense.py): a generalized overview below detailZoom and,
   from there on, every feature at full resolution, drawn on canvas tiles
   from typed arrays. A cell's chunk is inflated (DecompressionStream) only
   when a tile, a click or a search needs it — a tile only when one of the
   cell's features spans a pixel: a layer with points (the conflicts) draws
   the others from its points; hit-testing runs on the decoded arrays, never
   on DOM objects. Ids are inflated when first used. */
(function (geoplan) {
  "use strict";

  // Web Mercator px of the world at zoom 0, and the side of a canvas tile (px)
  var WORLD = 256, TILE = 512;
  // With symbols (radius 4 px), a feature's outline is drawn from this size on:
  // a smaller one lies under its symbol, drawn from its point.
  var OUTLINE_PX = 3;

  var bytes = geoplan.bytes;

  /* Inflate deflated data (base85 text) to an ArrayBuffer (the browser's
     decompressor, written and read directly: a Blob's or a Response's stream
     takes several times as long). */
  function inflate(text) {
    var stream = new DecompressionStream("deflate"), writer = stream.writable.getWriter();
    var reader = stream.readable.getReader(), parts = [], size = 0;
    writer.write(bytes(text));
    writer.close();
    function read() {
      return reader.read().then(function (got) {
        if (!got.done) {
          parts.push(got.value);
          size += got.value.length;
          return read();
        }
        var out = new Uint8Array(size), at = 0;
        parts.forEach(function (part) { out.set(part, at); at += part.length; });
        return out.buffer;
      });
    }
    return read();
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

  function mercX(lon) { return (lon + 180) / 360 * WORLD; }
  function mercY(lat) {
    var s = Math.sin(lat * Math.PI / 180);
    return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * WORLD;
  }

  function zigzag(u) { return u % 2 ? -(u + 1) / 2 : u / 2; }

  /* One axis of a chunk's vertices, each from its prediction (maps/dense.py
     ring_deltas): the previous vertex of its ring; a ring's first, the
     previous ring's second or (origin) its feature's point; a polygon's
     fourth corner of four, the parallelogram of the other three. */
  function axis(r, parts, rings, verts, n, origin, polygon) {
    var out = new Int32Array(verts[verts.length - 1]), previous = 0;
    for (var k = 0; k < n; k++) {
      for (var p = parts[k]; p < parts[k + 1]; p++) {
        for (var q = rings[p]; q < rings[p + 1]; q++) {
          var a = verts[q], b = verts[q + 1], quad = polygon && b - a === 4;
          out[a] = (origin && q === rings[parts[k]] ? origin[k] : previous) + zigzag(r.next());
          for (var v = a + 1; v < b; v++) {
            out[v] = (quad && v === a + 3 ? out[a] + out[a + 2] - out[a + 1] : out[v - 1]) +
              zigzag(r.next());
          }
          previous = out[Math.min(a + 1, b - 1)];
        }
      }
    }
    return out;
  }

  /* A chunk as arrays: number (feature numbers), style, parts/rings/verts
     (offsets), x, y (integers of 1/scale degree), mx, my (Web Mercator px at
     zoom 0, filled per feature by project()), box (west, south, east, north
     integers per feature) and mbox (its Web Mercator px). pts: the layer's
     points (numbers and first vertices come from them), start: the cell's
     first feature in them. */
  function decode(buffer, scale, polygon, pts, start) {
    var r = new Reader(buffer), n = r.next(), number, k;
    if (pts) {
      number = pts.number.subarray(start, start + n);
    } else {
      number = new Int32Array(n);
      for (var sum = 0, j = 0; j < n; j++) { sum += r.next(); number[j] = sum; }
    }
    var style = new Uint8Array(n);
    for (k = 0; k < n; k++) style[k] = r.next();
    var parts = r.offsets(n), rings = r.offsets(parts[n]), verts = r.offsets(rings[parts[n]]);
    var count = verts[verts.length - 1];
    var x = axis(r, parts, rings, verts, n, pts && pts.x.subarray(start, start + n), polygon);
    var y = axis(r, parts, rings, verts, n, pts && pts.y.subarray(start, start + n), polygon);
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

  /* The state of one dense layer: its cells, decoded on demand, and its
     points (number, x, y; mx, my in Web Mercator px at zoom 0; at[number]
     its place), inflated at once. */
  function Dense(content) {
    var self = this, start = 0;
    this.spec = content.spec;
    this.polygon = content.t === "polygon";
    this.scale = content.s;
    this.cells = content.cells.map(function (c) {
      var cos = Math.cos((c[1] + c[3]) / 360 * Math.PI);
      var cell = { w: c[0], s: c[1], e: c[2], n: c[3], count: c[4], chunk: c[5], data: null,
        pending: null, x0: mercX(c[0]), x1: mercX(c[2]), y0: mercY(c[3]), y1: mercY(c[1]),
        start: start, spanPx: c[6] / 360 * WORLD / cos };
      start += c[4];
      return cell;
    });
    this.pts = null;
    this.pointsReady = !content.points ? Promise.resolve(null) :
      inflate(content.points).then(function (buffer) {
        var r = new Reader(buffer), scale = self.scale, pts = { number: r.signed(start),
          x: r.signed(start), y: r.signed(start), mx: new Float64Array(start),
          my: new Float64Array(start) };
        var last = 0, k;
        for (k = 0; k < start; k++) last = Math.max(last, pts.number[k]);
        pts.at = new Int32Array(last + 1); // numbers are rows of a table holding other layers' too
        for (k = 0; k < start; k++) {
          pts.mx[k] = mercX(pts.x[k] / scale);
          pts.my[k] = mercY(pts.y[k] / scale);
          pts.at[pts.number[k]] = k;
        }
        self.pts = pts;
        return pts;
      });
    this.idsChunk = content.ids;
    this.cellOfChunk = content.cellOf;
    this.ids = null;
    this.decoded = function () {
      return self.cells.filter(function (c) { return c.data; }).length;
    };
  }

  Dense.prototype.cell = function (i) {
    var cell = this.cells[i], self = this;
    if (!cell.pending) {
      cell.pending = Promise.all([inflate(cell.chunk), this.pointsReady]).then(function (got) {
        cell.data = decode(got[0], self.scale, self.polygon, got[1], cell.start);
        return cell;
      });
    }
    return cell.pending;
  };

  /* Whether a tile at zoom scale z needs cell i's chunk: a layer with points
     draws a cell whose every feature is below a pixel from them. */
  Dense.prototype.needs = function (i, z) {
    return !this.pts || this.cells[i].spanPx * z >= (this.spec.symbols ? OUTLINE_PX : 1);
  };

  /* The point of feature `number` as [lat, lon] (a layer with points, once read). */
  Dense.prototype.point = function (number) {
    var k = this.pts.at[number];
    return [this.pts.y[k] / this.scale, this.pts.x[k] / this.scale];
  };

  /* Ids in feature order and the cell of each feature, inflated once. */
  Dense.prototype.index = function () {
    if (!this.ids && this.spec.findings) { // numbers are rows of the findings; cells from the points
      var cells = this.cells;
      this.ids = Promise.all([geoplan.findingsReady, this.pointsReady]).then(function (got) {
        var pts = got[1], cellOf = new Int32Array(geoplan.findingIds.length);
        cells.forEach(function (c, i) {
          for (var k = c.start; k < c.start + c.count; k++) cellOf[pts.number[k]] = i;
        });
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

  // A vertex this close (px, on both axes) to the last one traced is left out
  // of a tile's path: at a city's first view a conflict a few pixels wide has
  // hundreds of vertices, and stroking them all is most of its tiles' drawing.
  var STEP_PX = 0.25;

  /* Trace feature k of a chunk onto a canvas path (px = (m - origin) * zoomScale). */
  function trace(ctx, d, k, ox, oy, z, closed) {
    project(d, k);
    for (var p = d.parts[k]; p < d.parts[k + 1]; p++) {
      for (var r = d.rings[p]; r < d.rings[p + 1]; r++) {
        var a = d.verts[r], b = d.verts[r + 1];
        var lx = (d.mx[a] - ox) * z, ly = (d.my[a] - oy) * z;
        ctx.moveTo(lx, ly);
        for (var v = a + 1; v < b; v++) {
          var px = (d.mx[v] - ox) * z, py = (d.my[v] - oy) * z;
          if (v < b - 1 && Math.abs(px - lx) < STEP_PX && Math.abs(py - ly) < STEP_PX) continue;
          ctx.lineTo(px, py);
          lx = px;
          ly = py;
        }
        if (closed) ctx.closePath();
      }
    }
  }

  /* Draw the features of the cells on a tile canvas, one path per style (cells
     not decoded from their points). */
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
        var d = cell.data, pts = self.pts;
        if (!d) { // every feature below a pixel, drawn from its point (its style is 0)
          if (spec.symbols || s !== 0) return;
          for (var i = cell.start; i < cell.start + cell.count; i++) {
            var qx = Math.floor((pts.mx[i] - ox) * z), qy = Math.floor((pts.my[i] - oy) * z);
            if (qx < 0 || qy < 0 || qx >= TILE || qy >= TILE || seen[qy * TILE + qx]) continue;
            seen[qy * TILE + qx] = 1;
            ctx.rect(qx, qy, 1, 1);
            any = true;
          }
          return;
        }
        for (var k = 0; k < d.n; k++) {
          if (d.style[k] !== s) continue;
          var m = d.mbox;
          if (m[4 * k + 2] < x0 || m[4 * k] > x1 || m[4 * k + 3] < y0 || m[4 * k + 1] > y1) continue;
          var size = Math.max(m[4 * k + 2] - m[4 * k], m[4 * k + 3] - m[4 * k + 1]) * z;
          if (spec.symbols && size < OUTLINE_PX) continue; // its symbol covers it
          if (size < 1) {
            // below a pixel: that pixel, once (cheaper to draw, and what it would look like)
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
      if (any) paint(ctx, style, self.polygon);
      if (spec.symbols) self.symbols(ctx, cells, s, ox, oy, z, style);
    });
  };

  var MIN_PX = 8; // a feature smaller than this on screen gets a symbol (spec.symbols)
  // One symbol per square of this side (px): a disc is 8 px across, crowded ones merge.
  var SPACING = 6;

  /* A dot on each feature of style s smaller than MIN_PX, so it shows at every
     zoom: on its point (a cell not decoded: all below a pixel), else on its box's centre. */
  Dense.prototype.symbols = function (ctx, cells, s, ox, oy, z, style) {
    var grid = Math.ceil(TILE / SPACING), taken = new Uint8Array(grid * grid);
    var pts = this.pts, at = [];
    cells.forEach(function (cell) {
      var d = cell.data, m = d && d.mbox, n = d ? d.n : s === 0 ? cell.count : 0;
      for (var k = 0; k < n; k++) {
        var cx, cy;
        if (d) {
          if (d.style[k] !== s) continue;
          var w = (m[4 * k + 2] - m[4 * k]) * z, h = (m[4 * k + 3] - m[4 * k + 1]) * z;
          if (Math.max(w, h) >= MIN_PX) continue;
        }
        if (pts) {
          cx = (pts.mx[cell.start + k] - ox) * z;
          cy = (pts.my[cell.start + k] - oy) * z;
        } else {
          cx = ((m[4 * k] + m[4 * k + 2]) / 2 - ox) * z;
          cy = ((m[4 * k + 1] + m[4 * k + 3]) / 2 - oy) * z;
        }
        if (cx < -6 || cy < -6 || cx > TILE + 6 || cy > TILE + 6) continue;
        var g = Math.min(grid - 1, Math.max(0, Math.floor(cy / SPACING))) * grid +
          Math.min(grid - 1, Math.max(0, Math.floor(cx / SPACING)));
        if (taken[g]) continue;
        taken[g] = 1;
        at.push(Math.round(cx) - SYMBOL, Math.round(cy) - SYMBOL);
      }
    });
    // the white rims first, so that crowded symbols merge into one red patch
    ctx.globalAlpha = 1;
    [disc("#ffffff", 5), disc(style.color, 4)].forEach(function (sprite) {
      for (var i = 0; i < at.length; i += 2) ctx.drawImage(sprite, at[i], at[i + 1]);
    });
  };

  /* A disc of radius r px centred in a square canvas 2 * SYMBOL px wide, made
     once per colour: a city's first view has thousands of symbols, and
     copying a small image is cheaper to draw than as many arcs on one path. */
  var SYMBOL = 6, discs = {};
  function disc(color, r) {
    var key = color + r;
    if (!discs[key]) {
      var canvas = discs[key] = document.createElement("canvas"), ctx = canvas.getContext("2d");
      canvas.width = canvas.height = 2 * SYMBOL;
      ctx.beginPath();
      ctx.arc(SYMBOL, SYMBOL, r, 0, 2 * Math.PI);
      ctx.fillStyle = color;
      ctx.fill();
    }
    return discs[key];
  }

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
    var margin = this.polygon ? 0 : (tol / WORLD) * 360 * this.scale * 4;
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

  var CanvasTiles = L.GridLayer.extend({
    // Tiles appear at once: a fade repaints the whole map for a dozen frames per tile.
    _tileReady: function (coords, err, tile) {
      var fade = this._map._fadeAnimated;
      this._map._fadeAnimated = false;
      try {
        return L.GridLayer.prototype._tileReady.call(this, coords, err, tile);
      } finally {
        this._map._fadeAnimated = fade;
      }
    }
  });

  /* Packed polygons (maps/packing.py) as arrays for canvas tiles: mx, my (Web
     Mercator px at zoom 0) per vertex, rings (vertex offsets) and first
     (ring offsets) per feature, style (its _s) and mbox per feature. */
  function packedPolygons(packed) {
    var xy = geoplan.varints(packed.xy), n = xy.length / 2, o = packed.o;
    var mx = new Float64Array(n), my = new Float64Array(n), x = 0, y = 0, k;
    for (k = 0; k < n; k++) {
      x += xy[2 * k];
      y += xy[2 * k + 1];
      mx[k] = mercX(x / packed.s);
      my[k] = mercY(y / packed.s);
    }
    var count = packed.p.length, first = new Int32Array(count + 1);
    if (!count) return { n: 0 };
    for (k = 0; k <= count; k++) first[k] = o.length > 2 ? o[1][o[2][k]] : o[1][k];
    var style = new Uint8Array(count), mbox = new Float64Array(4 * count);
    for (k = 0; k < count; k++) {
      style[k] = packed.p[k]._s || 0;
      var w = Infinity, nn = Infinity, e = -Infinity, s = -Infinity;
      for (var v = o[0][first[k]]; v < o[0][first[k + 1]]; v++) {
        w = Math.min(w, mx[v]); e = Math.max(e, mx[v]); nn = Math.min(nn, my[v]); s = Math.max(s, my[v]);
      }
      mbox[4 * k] = w; mbox[4 * k + 1] = nn; mbox[4 * k + 2] = e; mbox[4 * k + 3] = s;
    }
    return { n: count, mx: mx, my: my, rings: o[0], first: first, style: style, mbox: mbox };
  }

  /* The generalized overview on canvas tiles, drawn from its arrays (no
     Leaflet path per polygon); options.arrays (packedPolygons), options.styles. */
  var OverviewTiles = CanvasTiles.extend({
    /* Drawn once the script adding the layer has run, and marked loaded as
       drawn: a tile returned drawn would be drawn in that script, and marked
       loaded by Leaflet a frame later. */
    createTile: function (coords, done) {
      var canvas = L.DomUtil.create("canvas", "leaflet-tile"), self = this;
      canvas.width = TILE;
      canvas.height = TILE;
      Promise.resolve().then(function () {
        self.draw(canvas, coords);
        done(null, canvas);
      });
      return canvas;
    },

    draw: function (canvas, coords) {
      var a = this.options.arrays;
      var ctx = canvas.getContext("2d"), z = Math.pow(2, coords.z), m = a.mbox;
      var ox = coords.x * TILE / z, oy = coords.y * TILE / z, pad = 4 / z;
      this.options.styles.forEach(function (style, s) {
        ctx.beginPath();
        var any = false;
        for (var k = 0; k < a.n; k++) {
          if (a.style[k] !== s || m[4 * k + 2] < ox - pad || m[4 * k] > ox + TILE / z + pad ||
              m[4 * k + 3] < oy - pad || m[4 * k + 1] > oy + TILE / z + pad) continue;
          for (var r = a.first[k]; r < a.first[k + 1]; r++) {
            ctx.moveTo((a.mx[a.rings[r]] - ox) * z, (a.my[a.rings[r]] - oy) * z);
            for (var v = a.rings[r] + 1; v < a.rings[r + 1]; v++) {
              ctx.lineTo((a.mx[v] - ox) * z, (a.my[v] - oy) * z);
            }
            ctx.closePath();
          }
          any = true;
        }
        if (any) paint(ctx, style, true);
      });
    }
  });

  /* Fill (polygons) and stroke the current path in a Leaflet path style. */
  function paint(ctx, style, polygon) {
    if (polygon && style.fill !== false) {
      ctx.globalAlpha = style.fillOpacity === undefined ? 0.2 : style.fillOpacity;
      ctx.fillStyle = style.fillColor || style.color;
      ctx.fill("evenodd");
    }
    ctx.globalAlpha = style.opacity === undefined ? 1 : style.opacity;
    ctx.strokeStyle = style.color;
    ctx.lineWidth = style.weight === undefined ? 1 : style.weight;
    ctx.setLineDash(style.dashArray ? String(style.dashArray).split(/[ ,]+/).map(Number) : []);
    ctx.stroke();
  }

  var DetailTiles = CanvasTiles.extend({
    createTile: function (coords, done) {
      var canvas = L.DomUtil.create("canvas", "leaflet-tile"), dense = this.options.dense;
      canvas.width = TILE;
      canvas.height = TILE;
      var z = Math.pow(2, coords.z), x0 = coords.x * TILE / z, y0 = coords.y * TILE / z;
      var wanted = dense.cellsIn(x0, y0, x0 + TILE / z, y0 + TILE / z);
      dense.pointsReady.then(function () {
        return Promise.all(wanted.filter(function (i) { return dense.needs(i, z); })
          .map(function (i) { return dense.cell(i); }));
      }).then(function () {
        dense.draw(canvas, coords, wanted.map(function (i) { return dense.cells[i]; }));
        done(null, canvas);
      }, function (error) { done(error, canvas); });
      return canvas;
    }
  });

  /* A dense layer: content = {spec, t, s, cells, ids and cellOf or points,
     overview (packed polygons)}. The overview tiles are on the map below
     spec.detailZoom, the detail tiles from there on. */
  geoplan.dense = function (content) {
    var spec = content.spec, dense = new Dense(content);
    var overview = !content.overview ? L.layerGroup() : new OverviewTiles({
      arrays: packedPolygons(content.overview), styles: spec.overview.styles,
      pane: spec.overview.pane, maxZoom: 22, tileSize: TILE, updateWhenZooming: false,
      keepBuffer: 1 });
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
