/* Geodesy on the CGCS2000 ellipsoid (GRS80) for the map's tools: geodesic
   distance (Vincenty's inverse), polygon area (spherical excess on the
   authalic sphere, which keeps areas of the ellipsoid), the Gauss-Krüger
   forward projection (Krüger's n-series to n^4, exact to well under a
   millimetre within a 3° zone) and the inverse of the GCJ-02 shift
   (iterated forward formula of maps/gcj02.py). Checked against pyproj in
   tests/test_map_tools.py. */
geoplan.geodesy = (function () {
  "use strict";

  var A = 6378137.0, F = 1 / 298.257222101;
  var B = A * (1 - F), E2 = F * (2 - F), E = Math.sqrt(E2);
  var RAD = Math.PI / 180;

  /* Geodesic distance (m) between [lat, lon] points (degrees). */
  function distance(p, q) {
    var L = (q[1] - p[1]) * RAD;
    var U1 = Math.atan((1 - F) * Math.tan(p[0] * RAD));
    var U2 = Math.atan((1 - F) * Math.tan(q[0] * RAD));
    var sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
    var lambda = L, sigma = 0, sinSigma = 0, cosSigma = 1, cos2Alpha = 1, cos2SigmaM = 0;
    for (var i = 0; i < 200; i++) {
      var sinL = Math.sin(lambda), cosL = Math.cos(lambda);
      sinSigma = Math.sqrt(Math.pow(cosU2 * sinL, 2) +
        Math.pow(cosU1 * sinU2 - sinU1 * cosU2 * cosL, 2));
      if (sinSigma === 0) return 0;
      cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
      sigma = Math.atan2(sinSigma, cosSigma);
      var sinAlpha = cosU1 * cosU2 * sinL / sinSigma;
      cos2Alpha = 1 - sinAlpha * sinAlpha;
      cos2SigmaM = cos2Alpha ? cosSigma - 2 * sinU1 * sinU2 / cos2Alpha : 0;
      var C = F / 16 * cos2Alpha * (4 + F * (4 - 3 * cos2Alpha));
      var previous = lambda;
      lambda = L + (1 - C) * F * sinAlpha * (sigma + C * sinSigma *
        (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
      if (Math.abs(lambda - previous) < 1e-13) break;
    }
    var u2 = cos2Alpha * (A * A - B * B) / (B * B);
    var k1 = (Math.sqrt(1 + u2) - 1) / (Math.sqrt(1 + u2) + 1);
    var bigA = (1 + k1 * k1 / 4) / (1 - k1);
    var bigB = k1 * (1 - 3 * k1 * k1 / 8);
    var deltaSigma = bigB * sinSigma * (cos2SigmaM + bigB / 4 * (cosSigma *
      (-1 + 2 * cos2SigmaM * cos2SigmaM) - bigB / 6 * cos2SigmaM *
      (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    return B * bigA * (sigma - deltaSigma);
  }

  /* Length (m) of a path of [lat, lon] points. */
  function length(points) {
    var total = 0;
    for (var i = 1; i < points.length; i++) total += distance(points[i - 1], points[i]);
    return total;
  }

  function q(phi) {
    var s = Math.sin(phi);
    return (1 - E2) * (s / (1 - E2 * s * s) - Math.log((1 - E * s) / (1 + E * s)) / (2 * E));
  }
  var QP = q(Math.PI / 2), RQ = A * Math.sqrt(QP / 2);

  function authalic(latDeg) {
    return Math.asin(Math.max(-1, Math.min(1, q(latDeg * RAD) / QP)));
  }

  /* Area (m²) of a polygon ring of [lat, lon] points (closing edge implied). */
  function area(ring) {
    var n = ring.length, sum = 0;
    if (n < 3) return 0;
    for (var i = 0; i < n; i++) {
      var p = ring[i], r = ring[(i + 1) % n];
      var dl = (r[1] - p[1]) * RAD;
      if (dl > Math.PI) dl -= 2 * Math.PI;
      if (dl < -Math.PI) dl += 2 * Math.PI;
      var t1 = Math.tan(authalic(p[0]) / 2), t2 = Math.tan(authalic(r[0]) / 2);
      sum += 2 * Math.atan2(Math.tan(dl / 2) * (t1 + t2), 1 + t1 * t2);
    }
    return Math.abs(sum) * RQ * RQ;
  }

  var N = F / (2 - F);
  var ALPHA = [
    N / 2 - 2 * N * N / 3 + 5 * Math.pow(N, 3) / 16 + 41 * Math.pow(N, 4) / 180,
    13 * N * N / 48 - 3 * Math.pow(N, 3) / 5 + 557 * Math.pow(N, 4) / 1440,
    61 * Math.pow(N, 3) / 240 - 103 * Math.pow(N, 4) / 140,
    49561 * Math.pow(N, 4) / 161280
  ];
  var RECTIFYING = A / (1 + N) * (1 + N * N / 4 + Math.pow(N, 4) / 64);

  /* Gauss-Krüger easting and northing (m) of [lat, lon] (degrees);
     zone = {lon0, k0, x0, y0} (degrees, scale, false easting/northing m). */
  function gaussKruger(point, zone) {
    var phi = point[0] * RAD, dl = (point[1] - zone.lon0) * RAD;
    var s = Math.sin(phi);
    var t = Math.sinh(atanh(s) - E * atanh(E * s));
    var xi = Math.atan2(t, Math.cos(dl));
    var eta = atanh(Math.sin(dl) / Math.sqrt(1 + t * t));
    var x = xi, y = eta;
    for (var j = 1; j <= 4; j++) {
      x += ALPHA[j - 1] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
      y += ALPHA[j - 1] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
    }
    return {
      easting: zone.x0 + zone.k0 * RECTIFYING * y,
      northing: zone.y0 + zone.k0 * RECTIFYING * x
    };
  }

  function atanh(v) {
    return 0.5 * Math.log((1 + v) / (1 - v));
  }

  /* GCJ-02 shift of [lat, lon], as maps/gcj02.py (Krasovsky constants). */
  var KA = 6378245.0, KEE = 0.00669342162296594323;
  function toGcj02(point) {
    var lat = point[0], lon = point[1];
    if (!(lon > 73.66 && lon < 135.05 && lat > 3.86 && lat < 53.55)) return [lat, lon];
    var x = lon - 105.0, y = lat - 35.0, pi = Math.PI;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    dlat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320.0 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    dlon += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
    var rad = lat * RAD, magic = 1.0 - KEE * Math.sin(rad) * Math.sin(rad);
    dlat = dlat * 180.0 / ((KA * (1.0 - KEE)) / (magic * Math.sqrt(magic)) * pi);
    dlon = dlon * 180.0 / (KA / Math.sqrt(magic) * Math.cos(rad) * pi);
    return [lat + dlat, lon + dlon];
  }

  /* The WGS 84 point whose GCJ-02 shift is [lat, lon] (to ~1e-9°). */
  function fromGcj02(point) {
    var guess = [point[0], point[1]];
    for (var i = 0; i < 20; i++) {
      var shifted = toGcj02(guess);
      var dlat = point[0] - shifted[0], dlon = point[1] - shifted[1];
      guess = [guess[0] + dlat, guess[1] + dlon];
      if (Math.abs(dlat) < 1e-10 && Math.abs(dlon) < 1e-10) break;
    }
    return guess;
  }

  return {
    distance: distance, length: length, area: area, gaussKruger: gaussKruger,
    toGcj02: toGcj02, fromGcj02: fromGcj02
  };
})();
