/* Tools: measure distance and area on the ellipsoid (geoplan.geodesy), a
   coordinate readout in CGCS2000 longitude/latitude and Gauss-Krüger x/y of
   the working zone, and the current view as an A4 image with title,
   legend, scale bar and north arrow (composed on a canvas from the map's
   SVG and images; basemap tiles from other sites cannot be read back). */
(function (geoplan) {
  "use strict";

  var MU_M2 = 10000 / 15;

  function fixed(value, digits) {
    return value.toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function lengthText(m) {
    return m >= 1000 ? fixed(m / 1000, 3) + " 公里" : fixed(m, 1) + " 米";
  }

  /* Ground coordinates of a drawn latlng: shifted back from GCJ-02 if needed. */
  function ground(spec, latlng) {
    var point = [latlng.lat, latlng.lng];
    return spec.gcj02 ? geoplan.geodesy.fromGcj02(point) : point;
  }

  function button(label, title) {
    var b = geoplan.text("button", label);
    b.type = "button";
    b.title = title;
    return b;
  }

  /* spec = {title, subtitle, zone: {name, epsg, lon0, k0, x0, y0} | null, gcj02}. */
  geoplan.tools = function (map, spec) {
    var bar = document.createElement("div");
    bar.className = "geoplan-tools";
    var distance = button("测距", "量测距离：单击加点，双击或再点此按钮结束");
    var area = button("测面", "量测面积（椭球面）：单击加点，双击或再点此按钮结束");
    var clear = button("清除", "清除量测");
    var print = button("打印", "当前视图存为 A4 图片");
    [distance, area, clear, print].forEach(function (b) { bar.appendChild(b); });
    var result = geoplan.text("div", "", "geoplan-measure-result");
    bar.appendChild(result);
    geoplan.control(map, bar, "topleft");

    var drawn = L.layerGroup().addTo(map), mode = null, points = [], shape = null;
    geoplan.measure = { points: [], length_m: 0, area_m2: 0 };
    function update() {
      var ground_points = points.map(function (p) { return ground(spec, p); });
      if (shape) drawn.removeLayer(shape);
      var style = { pane: "markerPane", color: "#e6007e", weight: 2, dashArray: "6 4", interactive: false };
      shape = mode === "area" ? L.polygon(points, style) : L.polyline(points, style);
      drawn.addLayer(shape);
      var length = geoplan.geodesy.length(mode === "area" && points.length > 2
        ? ground_points.concat([ground_points[0]]) : ground_points);
      geoplan.measure = { points: ground_points, length_m: length, area_m2: 0 };
      if (mode === "area") {
        var m2 = geoplan.geodesy.area(ground_points);
        geoplan.measure.area_m2 = m2;
        result.textContent = "面积 " + fixed(m2 / MU_M2, 1) + " 亩（" + fixed(m2 / 10000, 2) +
          " 公顷）· 周长 " + lengthText(length);
      } else {
        result.textContent = "距离 " + lengthText(length);
      }
    }
    function start(which) {
      if (mode === which) return stop();
      stop();
      mode = which;
      points = [];
      geoplan.measuring = true;
      map.doubleClickZoom.disable();
      map.getContainer().classList.add("geoplan-measuring");
      (which === "area" ? area : distance).classList.add("active");
      result.textContent = which === "area" ? "单击地图加点，双击结束" : "单击地图加点，双击结束";
    }
    function stop() {
      mode = null;
      geoplan.measuring = false;
      map.getContainer().classList.remove("geoplan-measuring");
      distance.classList.remove("active");
      area.classList.remove("active");
      setTimeout(function () { map.doubleClickZoom.enable(); }, 0);
    }
    map.on("click", function (e) {
      if (!mode) return;
      map.closePopup();
      points.push(e.latlng);
      update();
    });
    map.on("dblclick", function () { if (mode) stop(); });
    distance.addEventListener("click", function () { start("distance"); });
    area.addEventListener("click", function () { start("area"); });
    clear.addEventListener("click", function () {
      stop();
      drawn.clearLayers();
      shape = null;
      points = [];
      result.textContent = "";
    });
    print.addEventListener("click", function () { geoplan.print(map, spec); });
    readout(map, spec);
  };

  function readout(map, spec) {
    var box = geoplan.text("div", "移动鼠标显示坐标", "geoplan-coords");
    geoplan.control(map, box, "bottomright");
    map.on("mousemove", function (e) {
      var p = ground(spec, e.latlng);
      var line = "CGCS2000 经度 " + p[1].toFixed(6) + "° 纬度 " + p[0].toFixed(6) + "°";
      if (spec.zone) {
        var gk = geoplan.geodesy.gaussKruger(p, spec.zone);
        line += " | 高斯-克吕格 " + (spec.zone.epsg ? "EPSG:" + spec.zone.epsg : "") +
          "（中央经线 " + spec.zone.lon0 + "°）X " + fixed(gk.northing, 2) + " Y " + fixed(gk.easting, 2);
      }
      box.textContent = line;
    });
  }

  geoplan.print = function (map, spec) {
    return composeView(map).then(function (view) {
      var url = a4(map, spec, view).toDataURL("image/png");
      geoplan.lastPrint = url;
      var link = document.createElement("a");
      link.href = url;
      link.download = (spec.title || "地图") + ".png";
      document.body.appendChild(link);
      link.click();
      link.remove();
      return url;
    });
  };

  function loadImage(src) {
    return new Promise(function (resolve, reject) {
      var image = new Image();
      image.onload = function () { resolve(image); };
      image.onerror = reject;
      image.src = src;
    });
  }

  function paneOpacity(node, container) {
    var opacity = 1;
    for (var el = node; el && el !== container; el = el.parentElement) {
      var value = parseFloat(getComputedStyle(el).opacity);
      if (!isNaN(value)) opacity *= value;
    }
    return opacity;
  }

  /* The map view as a canvas: background, images, vector layers, labels. */
  function composeView(map) {
    var container = map.getContainer(), size = map.getSize(), origin = container.getBoundingClientRect();
    var canvas = document.createElement("canvas");
    canvas.width = size.x;
    canvas.height = size.y;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = getComputedStyle(container).backgroundColor;
    ctx.fillRect(0, 0, size.x, size.y);
    var layers = [];
    container.querySelectorAll(".leaflet-pane img, .leaflet-pane svg, .leaflet-pane canvas")
      .forEach(function (node) {
        var tag = node.tagName.toLowerCase();
        // basemap tiles from other sites cannot be read back; canvas tiles are the page's own
        if (tag === "img" && node.classList.contains("leaflet-tile")) return;
        if (tag === "img" && node.closest(".leaflet-marker-pane")) return;
        var rect = node.getBoundingClientRect();
        if (!rect.width || !rect.height || getComputedStyle(node).visibility === "hidden") return;
        var src = tag === "img" ? node.src : tag === "canvas" ? null
          : "data:image/svg+xml;charset=utf-8," + encodeURIComponent(serialise(node, rect));
        layers.push({ node: node, src: src, rect: rect, opacity: paneOpacity(node, container) });
      });
    return Promise.all(layers.map(function (l) {
      return l.src === null ? l.node : loadImage(l.src);
    })).then(function (images) {
      images.forEach(function (image, i) {
        var l = layers[i];
        ctx.globalAlpha = l.opacity;
        ctx.drawImage(image, l.rect.left - origin.left, l.rect.top - origin.top, l.rect.width, l.rect.height);
      });
      ctx.globalAlpha = 1;
      ctx.font = "12px 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      container.querySelectorAll(".geoplan-label span").forEach(function (span) {
        var rect = span.getBoundingClientRect();
        if (!rect.width || getComputedStyle(span).display === "none") return;
        var x = rect.left + rect.width / 2 - origin.left, y = rect.top + rect.height / 2 - origin.top;
        ctx.lineWidth = 3;
        ctx.strokeStyle = "#ffffff";
        ctx.strokeText(span.textContent, x, y);
        ctx.fillStyle = "#333333";
        ctx.fillText(span.textContent, x, y);
      });
      return canvas;
    });
  }

  function serialise(svg, rect) {
    var copy = svg.cloneNode(true);
    copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    copy.setAttribute("width", String(rect.width));
    copy.setAttribute("height", String(rect.height));
    copy.style.transform = "";
    return new XMLSerializer().serializeToString(copy);
  }

  /* A4 landscape at 150 dpi: title, the view, legend, scale bar, north arrow. */
  function a4(map, spec, view) {
    var W = 1754, H = 1240, M = 40, TOP = 110, LEGEND = 380;
    var canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, H);
    var font = "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
    ctx.fillStyle = "#000000";
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    ctx.font = "bold 34px " + font;
    ctx.fillText(spec.title || "", W / 2, 58);
    ctx.font = "20px " + font;
    ctx.fillStyle = "#555555";
    ctx.fillText(spec.subtitle || "", W / 2, 90);
    var fw = W - 2 * M - LEGEND - 20, fh = H - TOP - M;
    var scale = Math.min(fw / view.width, fh / view.height);
    var w = view.width * scale, h = view.height * scale, x0 = M + (fw - w) / 2, y0 = TOP + (fh - h) / 2;
    ctx.drawImage(view, x0, y0, w, h);
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 2;
    ctx.strokeRect(x0, y0, w, h);
    scaleBar(map, ctx, x0 + 20, y0 + h - 30, scale, font);
    northArrow(ctx, x0 + w - 50, y0 + 30, font);
    legend(map, ctx, W - M - LEGEND, TOP, LEGEND, H - TOP - M, font);
    return canvas;
  }

  function scaleBar(map, ctx, x, y, scale, font) {
    var size = map.getSize();
    var a = map.containerPointToLatLng([size.x / 2, size.y / 2]);
    var b = map.containerPointToLatLng([size.x / 2 + 100, size.y / 2]);
    var perPx = geoplan.geodesy.distance([a.lat, a.lng], [b.lat, b.lng]) / 100 / scale;
    var target = perPx * 240, step = Math.pow(10, Math.floor(Math.log10(target)));
    var meters = [5, 2, 1].map(function (f) { return f * step; })
      .filter(function (m) { return m <= target; })[0] || step;
    var px = meters / perPx;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 8, y - 30, px + 100, 44);
    ctx.fillStyle = "#000000";
    ctx.fillRect(x, y, px, 6);
    ctx.fillRect(x, y - 8, 2, 14);
    ctx.fillRect(x + px - 2, y - 8, 2, 14);
    ctx.font = "18px " + font;
    ctx.textAlign = "left";
    ctx.fillText(meters >= 1000 ? meters / 1000 + " 公里" : meters + " 米", x + px + 10, y + 8);
  }

  function northArrow(ctx, x, y, font) {
    ctx.fillStyle = "#000000";
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 16, y + 48);
    ctx.lineTo(x, y + 38);
    ctx.lineTo(x - 16, y + 48);
    ctx.closePath();
    ctx.fill();
    ctx.font = "bold 22px " + font;
    ctx.textAlign = "center";
    ctx.fillText("北", x, y + 76);
  }

  function legend(map, ctx, x, y, width, height, font) {
    ctx.textAlign = "left";
    ctx.fillStyle = "#000000";
    ctx.font = "bold 24px " + font;
    ctx.fillText("图例", x, y + 26);
    var row = y + 60;
    geoplan.visibleLegend(map).forEach(function (section) {
      if (row > y + height - 30) return;
      ctx.font = "bold 18px " + font;
      ctx.fillStyle = "#000000";
      ctx.fillText(section.heading, x, row);
      row += 28;
      section.layers.forEach(function (layer) {
        if (layer.heading) {
          ctx.font = "15px " + font;
          ctx.fillStyle = "#333333";
          wrap(ctx, layer.heading, x, row, width).forEach(function (line) {
            ctx.fillText(line, x, row);
            row += 22;
          });
        }
        layer.rows.forEach(function (entry) {
          if (row > y + height - 10) return;
          swatch(ctx, entry[1], entry[2], x, row - 14, 34, 18);
          ctx.font = "16px " + font;
          ctx.fillStyle = "#000000";
          ctx.fillText(entry[0], x + 46, row);
          row += 26;
        });
      });
      row += 8;
    });
  }

  function wrap(ctx, text, x, y, width) {
    var lines = [], line = "";
    Array.from(text).forEach(function (c) {
      if (ctx.measureText(line + c).width > width) { lines.push(line); line = c; } else line += c;
    });
    if (line) lines.push(line);
    return lines;
  }

  function swatch(ctx, css, line, x, y, w, h) {
    var probe = document.createElement("i");
    Object.keys(css).forEach(function (key) { probe.style[key] = css[key]; });
    document.body.appendChild(probe);
    var style = getComputedStyle(probe);
    if (line) {
      ctx.fillStyle = style.borderTopColor;
      ctx.fillRect(x, y + h / 2 - 2, w, 4);
    } else {
      ctx.fillStyle = style.backgroundColor;
      ctx.fillRect(x, y, w, h);
      ctx.strokeStyle = style.borderTopColor;
      ctx.lineWidth = Math.max(1, parseFloat(style.borderTopWidth) || 1);
      ctx.strokeRect(x, y, w, h);
    }
    probe.remove();
  }
})(geoplan);
